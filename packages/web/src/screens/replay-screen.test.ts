// The replay's screen for one frame, rendered to markup: a recorded scene shows both readers with
// whose card is where; a frame without one says so and shows no reader state at all.
import type { CardNumber, ReplayFrame } from '@reservkort/domain';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { LanguageProvider } from '../i18n/language.js';
import { UI_TEXTS } from '../i18n/ui-texts.js';
import { ReplayFrameView } from './replay-screen.js';

const ADMIN = '9752278900000000102' as CardNumber;
const sv = UI_TEXTS.sv;

const render = (frames: readonly ReplayFrame[], index: number): string =>
  renderToStaticMarkup(
    createElement(LanguageProvider, {
      // The provider's props require their children: no .tsx here to write them as JSX.
      // biome-ignore lint/correctness/noChildrenProp: createElement from a .ts test file
      children: createElement(ReplayFrameView, {
        frame: frames[index] as ReplayFrame,
        frames,
        index,
        when: (at: number) => String(at),
      }),
    }),
  );

const removed: ReplayFrame = {
  attempt: 1,
  flowId: 'flow-1',
  at: 1000,
  event: 'card-removed',
  step: 6,
  codes: ['CARD_REMOVED_DURING_DOWNLOAD'],
  details: { reader: 2 },
  scene: null,
};

describe('a replay frame on screen', () => {
  it('says plainly that readers and cards were not recorded, and guesses none', () => {
    const html = render([removed], 0);
    expect(html).toContain('data-scene="missing"');
    expect(html).toContain(sv.replay.notRecorded);
    expect(html).not.toContain('reader-slots');
    expect(html).not.toContain('reader-picture');
    // What was logged is still shown: the step and the code, in a panel without buttons or alert.
    expect(html).toContain('data-code="CARD_REMOVED_DURING_DOWNLOAD"');
    expect(html).toContain('aria-current="step"');
    expect(html).not.toContain('<button');
    expect(html).not.toContain('role="alert"');
  });

  it('shows both readers as recorded, the cards by role', () => {
    const recorded: ReplayFrame = {
      ...removed,
      scene: {
        step: 6,
        status: 'active',
        readers: {
          1: { connected: true, card: { cardNumber: ADMIN, role: 'admin' } },
          2: { connected: false, card: null },
        },
        download: null,
        pending: null,
        fault: 'CARD_REMOVED_DURING_DOWNLOAD',
        deadline: null,
      },
    };
    const html = render([recorded], 0);
    expect(html).toContain('data-scene="recorded"');
    expect(html).not.toContain(sv.replay.notRecorded);
    expect(html).toContain(`data-card="${ADMIN}"`);
    expect(html).toContain(sv.replay.roles.admin);
    expect(html).toMatch(/data-reader="2" class="missing"/);
  });
});
