import { FLOW_EVENT_TYPES, LANGUAGES, type Language, type TimelineEntry } from '@reservkort/domain';
import { describe, expect, it } from 'vitest';
import {
  ADMIN_CARD,
  FlowDriver,
  OTHER_CARD,
  RESERVE_CARD,
  SECOND,
} from '../../../domain/src/test-support/fixtures.js';
import { TIMELINE_TEXTS } from '../i18n/timeline-texts.js';
import { describeTimeline } from './timeline-prose.js';

/** What no sentence may show: a detail's key with a colon, an event key, a millisecond epoch, a gap. */
const RAW = [
  /\b(reader[12]|card[12]|cardNumber|deadline|removedAt|waitedMs|queryKind|refused|outcome|cleanedUp)\s*[:=]/,
  /\b1\d{12}\b/,
  /[{}]/,
  /\b(true|false|undefined|null|NaN)\b/,
  new RegExp(`\\b(${FLOW_EVENT_TYPES.filter((type) => type.includes('-')).join('|')}|flow-started)\\b`),
];

const told = (entries: readonly TimelineEntry[], language: Language, reserve: string | null = null) =>
  describeTimeline(entries, language, reserve);

const expectProse = (sentences: readonly string[]) => {
  for (const text of sentences) {
    expect(text.trim().length, text).toBeGreaterThan(3);
    for (const raw of RAW) expect(text, `${text} shows ${raw}`).not.toMatch(raw);
  }
};

/** Timelines as the real machine writes them: the happy path, and the faults of steps 4–7. */
const timelines = (): TimelineEntry[][] => {
  const happy = new FlowDriver().to(7);
  happy.send({ type: 'acknowledged', cardNumber: RESERVE_CARD });

  // The reserve card pulled during step 6, then the restart.
  const pulled = new FlowDriver().to(6);
  pulled.send({ type: 'keys-generated' });
  pulled.send({ type: 'dialog-shown', dialog: 'auth' });
  pulled.send({ type: 'card-removed', reader: 2 });
  pulled.send({ type: 'aborted', reason: 'restart' });

  // Wrong card at the handover and at the acknowledgement; the login card pulled; a reader lost.
  const wrong = new FlowDriver().to(4);
  wrong.send({ type: 'card-inserted', reader: 2, cardNumber: OTHER_CARD });
  wrong.send({ type: 'handover-confirmed' });
  wrong.send({ type: 'card-inserted', reader: 2, cardNumber: RESERVE_CARD });
  wrong.send({ type: 'handover-confirmed' });
  wrong.send({ type: 'handover-verified', cardNumber: OTHER_CARD });
  wrong.send({ type: 'card-removed', reader: 1 });
  wrong.send({ type: 'card-inserted', reader: 1, cardNumber: ADMIN_CARD });
  wrong.send({ type: 'card-inserted', reader: 2, cardNumber: null });
  wrong.send({ type: 'reader-unplugged', reader: 2 });
  wrong.send({ type: 'reader-plugged', reader: 2 });

  // A PIN window never shown, a stuck download start, an acknowledgement too late.
  const silent = new FlowDriver().to(6);
  silent.send({ type: 'tick' }, 120 * SECOND);
  const stuck = new FlowDriver().to(5);
  stuck.send({ type: 'terms-accepted', accepted: true });
  stuck.send({ type: 'download-requested' });
  stuck.send({ type: 'tick' }, 60 * SECOND);
  const late = new FlowDriver().to(7);
  late.send({ type: 'acknowledged', cardNumber: OTHER_CARD });
  late.send({ type: 'deadline-passed' }, 11 * 60 * SECOND);

  // Step 3 refused twice, a cancelled dialog, a refused card, a failed download, no dialog at all.
  const failed = new FlowDriver().to(3);
  failed.send({ type: 'signed', outcome: 'failed', cardNumber: null });
  const cancelled = new FlowDriver().to(6);
  cancelled.send({ type: 'keys-generated' });
  cancelled.send({ type: 'dialog-cancelled', dialog: 'sign' });
  const refused = new FlowDriver().to(6);
  refused.send({ type: 'card-refused', code: 'KEYS_NOT_ON_CARD', reason: 'the keys are not the card’s' });
  const notShown = new FlowDriver().to(6);
  notShown.send({ type: 'dialog-not-shown', dialog: 'auth' });
  const downloadFailed = new FlowDriver().to(6);
  downloadFailed.send({ type: 'download-failed', reason: 'the CA did not answer' });
  const search = new FlowDriver().to(2);
  search.send({ type: 'searched', queryKind: 'hsa-id', hit: null, codes: ['OWN_ORDER'] });
  search.send({ type: 'aborted', reason: 'logout' });
  const cancelledOrder = new FlowDriver().to(4);
  cancelledOrder.send({ type: 'aborted', reason: 'order-cancelled' });
  // A click refused by its control: no reader 2 at step 1 → the search is refused.
  const gated = new FlowDriver().to(2);
  gated.send({ type: 'reader-unplugged', reader: 2 });
  gated.try({ type: 'searched', queryKind: 'personal-number', hit: null, codes: [] });

  return [happy, pulled, wrong, silent, stuck, late, failed, cancelled, refused, notShown, downloadFailed]
    .concat([search, cancelledOrder, gated])
    .map((driver) => [...driver.state.timeline]);
};

describe('the timeline told in words', () => {
  it('has a sentence for every kind of entry, in Swedish and English', () => {
    for (const language of LANGUAGES) {
      const texts = TIMELINE_TEXTS[language];
      for (const kind of [...FLOW_EVENT_TYPES, 'flow-started', 'station-reported'] as const) {
        expect(texts.events[kind], `${language} ${kind}`).toMatch(/\S/);
      }
    }
    // The two languages say different things in different words, not one copied to the other.
    expect(TIMELINE_TEXTS.sv.events['card-inserted']).not.toBe(TIMELINE_TEXTS.en.events['card-inserted']);
  });

  it('tells every entry the machine writes without a raw key, event name or epoch, in both languages', () => {
    const all = timelines();
    const kinds = new Set(all.flat().map((entry) => entry.event));
    // Every kind but the silent tick of a running flow appears in these timelines.
    for (const kind of FLOW_EVENT_TYPES) expect(kinds.has(kind), kind).toBe(true);
    for (const language of LANGUAGES) for (const timeline of all) expectProse(told(timeline, language));
  });

  it('tells a station’s report before login which reader is missing', () => {
    const entry: TimelineEntry = {
      at: Date.UTC(2026, 10, 29, 9, 0, 0),
      step: 0,
      event: 'station-reported',
      codes: ['READERS_MISSING'],
      details: { reader1: true, reader2: false, card1: true, card2: false, missing: '2' },
    };
    expect(told([entry], 'sv')).toEqual([
      'Kortstationen rapporterade sina kortläsare före inloggningen. Läsare 1: ansluten, med kort, läsare 2: inte ansluten.',
    ]);
    expectProse(told([entry], 'en'));
  });

  it('says which reader, which card and whose, and deadlines as local times', () => {
    const driver = new FlowDriver().to(7);
    const [started, login] = told(driver.state.timeline, 'sv');
    expect(started).toBe(
      'Utgivningen öppnades. Läsare 1: ansluten, med kort, läsare 2: ansluten, utan kort.',
    );
    expect(login).toMatch(
      /^SE2321000016-\w+ loggade in med administratörens kort [\d ]+ i läsare 1 \(LoA3\)\.$/,
    );
    const inserted = driver.state.timeline.findIndex((entry) => entry.event === 'card-inserted');
    const sv = told(driver.state.timeline, 'sv');
    const en = told(driver.state.timeline, 'en');
    expect(sv[inserted]).toMatch(/^Reservkortet [\d ]+ \(till kortmottagaren\) sattes i läsare 2\.$/);
    expect(en[inserted]).toMatch(
      /^The reserve card [\d ]+ \(for the recipient\) was inserted in reader 2\.$/,
    );
    const written = driver.state.timeline.at(-1);
    expect(written?.event).toBe('certificates-written');
    // T0 is 09:00 UTC on 29 November: 10:00 in Stockholm; the deadline comes ten minutes later.
    expect(sv.at(-1)).toMatch(/^Certifikaten skrevs till reservkortet\. Kvittera senast 10:\d\d\.$/);
    expect(en.at(-1)).toMatch(
      /^The certificates were written to the reserve card\. Acknowledge by 10:\d\d\.$/,
    );
  });

  it('names a card that is not the order’s as another card, and what was expected', () => {
    const driver = new FlowDriver().to(4);
    driver.send({ type: 'card-inserted', reader: 2, cardNumber: OTHER_CARD });
    const [sentence] = told(driver.state.timeline.slice(-1), 'sv', RESERVE_CARD);
    expect(sentence).toMatch(
      /^Kort [\d ]+ sattes i läsare 2\. Förväntat kort: reservkortet [\d ]+ \(till kortmottagaren\); i läsaren: kort [\d ]+\.$/,
    );
  });
});
