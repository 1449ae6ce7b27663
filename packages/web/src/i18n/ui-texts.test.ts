import { classifySearchQuery, LANGUAGES, parsePersonalNumber } from '@reservkort/domain';
import { describe, expect, it } from 'vitest';
import { UI_TEXTS } from './ui-texts.js';

const TODAY = { year: 2026, month: 12, day: 4 } as const;

describe('the page’s own texts', () => {
  it('give a search example that the search itself accepts, in both languages', () => {
    for (const language of LANGUAGES) {
      const hint = UI_TEXTS[language].flow.searchHint;
      const personnummer = hint.match(/\b\d{8}-\d{4}\b/g) ?? [];
      const hsaIds = hint.match(/\bSE\d{10}-\w+\b/g) ?? [];
      expect(personnummer).toHaveLength(1);
      expect(hsaIds).toHaveLength(1);
      for (const example of personnummer) {
        expect(parsePersonalNumber(example, TODAY), example).toMatchObject({ ok: true });
        expect(classifySearchQuery(example, TODAY)).toMatchObject({ kind: 'personal-number' });
      }
      for (const example of hsaIds) {
        expect(classifySearchQuery(example, TODAY)).toMatchObject({ kind: 'hsa-id' });
      }
    }
  });
});
