import { describe, expect, it } from 'vitest';
import {
  CATALOGUES,
  CODE_INFO,
  CONTROL_IDS,
  controlLabel,
  DEFAULT_LANGUAGE,
  describeError,
  ERROR_CODES,
  fillPlaceholders,
  isErrorCode,
  LANGUAGES,
  REMEDY_ACTIONS,
  stepTitle,
} from '../index.js';
import { T0 } from '../test-support/fixtures.js';

const placeholders = (text: string): string[] =>
  [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '').sort();

describe('error catalogue', () => {
  it('speaks Swedish by default', () => {
    expect(DEFAULT_LANGUAGE).toBe('sv');
  });

  it.each([...LANGUAGES])('has a title, explanation and remedy for every code in %s', (language) => {
    for (const code of ERROR_CODES) {
      const texts = CATALOGUES[language].codes[code];
      expect(texts.title.length, `${language} ${code}`).toBeGreaterThan(3);
      expect(texts.explanation.length, `${language} ${code}`).toBeGreaterThan(10);
      expect(texts.remedy.length, `${language} ${code}`).toBeGreaterThan(10);
    }
  });

  it('uses the same placeholders in every language', () => {
    for (const code of ERROR_CODES) {
      const [sv, en] = LANGUAGES.map((language) => {
        const t = CATALOGUES[language].codes[code];
        return placeholders(`${t.title} ${t.explanation} ${t.remedy}`);
      });
      expect(sv, code).toEqual(en);
    }
  });

  it('keeps the Swedish screen titles and buttons of the source', () => {
    expect(stepTitle(1, 'sv')).toBe('Hantera dina e-legitimationer');
    expect(stepTitle(7, 'sv')).toBe('Kvittera kort');
    expect(controlLabel('sign', 'sv')).toBe('SIGNERA');
    expect(controlLabel('confirm-handover', 'sv')).toBe('BEKRÄFTA ÖVERLÄMNING');
    expect(controlLabel('start-download', 'sv')).toBe('STARTA NEDLADDNING');
    expect(controlLabel('acknowledge', 'sv')).toBe('KVITTERA KORT');
    expect(controlLabel('manage-orders', 'en')).toBe('Manage orders');
    for (const language of LANGUAGES) {
      for (const id of CONTROL_IDS) expect(controlLabel(id, language).length).toBeGreaterThan(1);
    }
  });

  it('describes an error with its details filled in, in either language', () => {
    const error = {
      code: 'WRONG_CARD',
      details: { expected: '9752278900000000100', actual: '9752278900000000200' },
    } as const;
    const sv = describeError(error, 'sv');
    expect(sv).toMatchObject({ code: 'WRONG_CARD', severity: 'blocking', action: null, supportCase: true });
    expect(sv.explanation).toBe(
      'Kortet i läsaren är ett kort som inte hör till beställningen, med kortnummer 9752 2789 0000 0000 200, men beställningen gäller kortnummer 9752 2789 0000 0000 100.',
    );
    // Card numbers are grouped as printed on the card, so they can be compared with it.
    expect(describeError(error, 'en').remedy).toContain('9752 2789 0000 0000 100');
  });

  it('says whose card a wrong card is, in either language', () => {
    const error = {
      code: 'WRONG_CARD',
      details: {
        expected: '9752278900000000100',
        actual: '9752278900000000200',
        owner: 'previous-recipient',
      },
    } as const;
    expect(describeError(error, 'sv').explanation).toContain('är förra mottagarens kort, med kortnummer');
    expect(describeError(error, 'en').explanation).toContain("is the previous recipient's card, with");
  });

  it('shows times in Swedish time and offers the remedy as an action', () => {
    const described = describeError({ code: 'CARD_REINSERTED', details: { removedAt: T0 } }, 'sv');
    expect(described.explanation).toContain('kl. 10:00:00');
    expect(described.action).toBe('logout-restart');
    expect(describeError({ code: 'ACK_TIMEOUT', details: { deadline: T0 } }, 'en').explanation).toContain(
      '10:00:00',
    );
  });

  it('tells a reason in words of the language, and one it does not know as given', () => {
    const interrupted = describeError(
      { code: 'DOWNLOAD_FAILED', details: { reason: 'issuance-interrupted' } },
      'sv',
    );
    expect(interrupted.explanation).toContain('(utfärdandet avbröts)');
    expect(
      describeError({ code: 'DOWNLOAD_FAILED', details: { reason: 'issuance-interrupted' } }, 'en')
        .explanation,
    ).toContain('(the issuance was interrupted)');
    const revoked = describeError({ code: 'STATION_REVOKED', details: { reason: 'station revoked' } }, 'sv');
    expect(revoked.explanation).toContain('(kortstationen är spärrad)');
    expect(fillPlaceholders('({reason})', { reason: 'CKR_DEVICE_ERROR' }, 'sv')).toBe('(CKR_DEVICE_ERROR)');
    // A reason named like an object's own property is no phrase.
    expect(fillPlaceholders('({reason})', { reason: 'constructor' }, 'sv')).toBe('(constructor)');
    // What a station statement is refused for reads in Swedish: none of those reasons stays English.
    for (const reason of ['encoding', 'signature', 'station', 'flow', 'nonce', 'kind', 'seq', 'unsigned'])
      expect(CATALOGUES.sv.reasons[reason], reason).toBeDefined();
  });

  it('shows a dash for a detail it does not have', () => {
    expect(fillPlaceholders('kortnummer {expected}', undefined, 'sv')).toBe('kortnummer –');
    expect(fillPlaceholders('{a}/{b}', { a: '', b: true }, 'en')).toBe('–/true');
    expect(fillPlaceholders('at {removedAt}', { removedAt: 'soon' }, 'en')).toBe('at soon');
  });

  it('offers a support case for every fault, and remedy actions only that exist', () => {
    for (const code of ERROR_CODES) {
      if (CODE_INFO[code].severity === 'fault' && code !== 'PIN_DIALOG_CANCELLED') {
        expect(CODE_INFO[code].supportCase, code).toBe(true);
      }
    }
    for (const action of Object.values(REMEDY_ACTIONS)) expect(CONTROL_IDS).toContain(action);
  });

  it('recognises its own codes', () => {
    expect(isErrorCode('ACK_TIMEOUT')).toBe(true);
    expect(isErrorCode('NOPE')).toBe(false);
    expect(isErrorCode(undefined)).toBe(false);
  });
});

describe('error responses', () => {
  it('carry the code, both languages, and only plain details', async () => {
    const { errorResponse } = await import('../index.js');
    const body = errorResponse('WRONG_CARD', { expected: '1', actual: '2', nested: { no: 1 }, fn: () => 1 });
    expect(body).toMatchObject({
      code: 'WRONG_CARD',
      message: { sv: 'Fel reservkort i kortläsaren', en: 'Wrong reserve card in the reader' },
      details: { expected: '1', actual: '2' },
    });
    expect(Object.keys(body.details)).toEqual(['expected', 'actual']);
    expect(body.remedy.en).toContain('1');
    expect(errorResponse('NO_ORDER').details).toEqual({});
  });
});
