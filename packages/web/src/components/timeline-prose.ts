import { CATALOGUES, isErrorCode, type Language, type TimelineEntry } from '@reservkort/domain';
import { formatCard, formatTime } from '../format.js';
import { TIMELINE_TEXTS, type TimelineTexts } from '../i18n/timeline-texts.js';
import { fill } from '../i18n/ui-texts.js';

type Details = NonNullable<TimelineEntry['details']>;

/** What the timeline knows of the cards it names, to say whose card each is. */
export interface TimelineCards {
  /** The card admin 2 logged in with, from the login entry. */
  readonly login: string | null;
  /** The order's reserve card, when the flow had one. */
  readonly reserve: string | null;
  /** The card that was in the entry's reader just before it, when the timeline says which. */
  readonly before?: string | null;
}

/** The login card from the timeline; the reserve card from the order, else from what the flow expected. */
export const cardsOf = (entries: readonly TimelineEntry[], reserveCard: string | null): TimelineCards => {
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : null);
  const login = entries.find((entry) => entry.event === 'logged-in')?.details?.cardNumber;
  const verified = entries.find((entry) => entry.event === 'handover-verified' && entry.codes.length === 0);
  const expected = entries.find((entry) => text(entry.details?.expected) !== null)?.details?.expected;
  return {
    login: text(login),
    reserve: reserveCard ?? text(verified?.details?.cardNumber) ?? text(expected),
  };
};

const hhmm = (at: number, language: Language): string =>
  new Intl.DateTimeFormat(language === 'sv' ? 'sv-SE' : 'en-GB', {
    timeZone: 'Europe/Stockholm',
    hour: '2-digit',
    minute: '2-digit',
  }).format(new Date(at));

const card = (texts: TimelineTexts, cards: TimelineCards, value: unknown): string => {
  if (typeof value !== 'string' || value === '') return texts.cards.unreadable;
  const shown = formatCard(value);
  if (value === cards.login) return fill(texts.cards.login, { card: shown });
  if (value === cards.reserve) return fill(texts.cards.reserve, { card: shown });
  return fill(texts.cards.other, { card: shown });
};

const reader = (texts: TimelineTexts, value: unknown): string =>
  fill(texts.readerName, { n: value === 2 || value === '2' ? 2 : 1 });

/** First letter up: sentences may begin with a card or a reader. */
const sentence = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

/** The entry's own sentence, from its kind and the details that choose a variant. */
const mainSentence = (
  entry: TimelineEntry,
  d: Details,
  texts: TimelineTexts,
  cards: TimelineCards,
  language: Language,
): string => {
  const v = texts.variants;
  const values = {
    reader: reader(texts, d.reader),
    card: card(texts, cards, d.cardNumber),
  };
  switch (entry.event) {
    case 'flow-started':
    case 'station-reported': {
      const state = (connected: unknown, withCard: unknown) =>
        connected === false
          ? v.readerNotConnected
          : `${v.readerConnected}, ${withCard === true ? v.withCard : v.withoutCard}`;
      return `${texts.events[entry.event]} ${fill(v.flowStartedReaders, {
        reader1: state(d.reader1, d.card1),
        reader2: state(d.reader2, d.card2),
      })}`;
    }
    case 'card-inserted':
      return fill(texts.events['card-inserted'], values);
    case 'card-removed':
      return typeof cards.before === 'string'
        ? fill(v.cardRemoved, { ...values, card: card(texts, cards, cards.before) })
        : fill(texts.events['card-removed'], values);
    case 'logged-in':
      return fill(texts.events['logged-in'], {
        ...values,
        admin: typeof d.admin === 'string' ? d.admin : '–',
        level: typeof d.assuranceLevel === 'string' ? d.assuranceLevel : '–',
      });
    case 'searched': {
      const kind = d.queryKind;
      const queryKind =
        typeof kind === 'string' && kind in v.queryKinds
          ? v.queryKinds[kind as keyof typeof v.queryKinds]
          : v.queryKinds.invalid;
      return fill(d.hit === true ? v.searchHit : v.searchNoHit, { queryKind });
    }
    case 'signed':
      if (d.outcome === 'ok') return texts.events.signed;
      return typeof d.attempt === 'number' ? v.signedFailed : v.signedRefused;
    case 'handover-verified':
      return entry.codes.includes('WRONG_CARD')
        ? fill(v.handoverWrongCard, { card: card(texts, cards, d.actual) })
        : fill(texts.events['handover-verified'], values);
    case 'acknowledged':
      return entry.codes.includes('WRONG_CARD')
        ? fill(v.acknowledgedWrongCard, { card: card(texts, cards, d.actual) })
        : texts.events.acknowledged;
    case 'terms-accepted':
      return d.accepted === false ? v.termsDeclined : texts.events['terms-accepted'];
    case 'dialog-shown':
    case 'dialog-completed':
    case 'dialog-cancelled':
    case 'dialog-not-shown': {
      const dialog = d.dialog === 'sign' ? v.dialogs.sign : v.dialogs.auth;
      const text = fill(texts.events[entry.event], { dialog });
      // "Kortagenten kunde inte visa PIN 1-fönstret": the name is not at the start there.
      return entry.event === 'dialog-not-shown' ? text.replace(dialog, dialog.toLowerCase()) : text;
    }
    case 'aborted': {
      const reason = d.reason;
      const abortReason =
        typeof reason === 'string' && reason in v.abortReasons
          ? v.abortReasons[reason as keyof typeof v.abortReasons]
          : v.abortReasons.restart;
      return fill(texts.events.aborted, { abortReason });
    }
    default:
      return fill(texts.events[entry.event], { ...values, time: hhmm(entry.at, language) });
  }
};

/** Clauses for the details an entry may carry besides its own: times, waits, what was expected. */
const clauses = (
  entry: TimelineEntry,
  d: Details,
  texts: TimelineTexts,
  cards: TimelineCards,
  language: Language,
): string[] => {
  const c = texts.clauses;
  const said: string[] = [];
  const removal = entry.event === 'card-removed' || entry.event === 'reader-unplugged';
  if (typeof d.removedAt === 'number' && !removal)
    said.push(fill(c.removedAt, { time: formatTime(d.removedAt, language) }));
  if (
    'expected' in d &&
    entry.event !== 'handover-verified' &&
    entry.event !== 'acknowledged' &&
    entry.codes.includes('WRONG_CARD')
  ) {
    said.push(
      fill(c.expected, { expected: card(texts, cards, d.expected), actual: card(texts, cards, d.actual) }),
    );
  }
  if (typeof d.gaps === 'number' && d.gaps > 0) said.push(fill(c.gaps, { reader: d.reader === 2 ? 2 : 1 }));
  if (typeof d.waitedMs === 'number') said.push(fill(c.waited, { seconds: Math.round(d.waitedMs / 1000) }));
  if (typeof d.deadline === 'number' && d.deadline > 0) {
    const passed = entry.codes.includes('ACK_TIMEOUT');
    said.push(fill(passed ? c.deadlinePassed : c.deadline, { time: hhmm(d.deadline, language) }));
  }
  // A flow claims its issuance once: only a failed signature's attempt is worth a word.
  if (typeof d.attempt === 'number' && entry.event === 'signed')
    said.push(fill(c.attempt, { attempt: d.attempt }));
  if (typeof d.reason === 'string' && entry.event !== 'aborted' && d.reason !== '')
    said.push(fill(c.reason, { reason: d.reason }));
  if (typeof d.serials === 'string' && d.serials !== '')
    said.push(fill(c.serials, { serials: d.serials.split(',').join(', ') }));
  if (d.cleanedUp === true) said.push(c.cleanedUp);
  return said;
};

/**
 * One entry told as a sentence in `language`: what happened, at which reader, with which card
 * and whose, and the times that matter, in local (Swedish) time. Never a raw key or number.
 */
export const describeTimelineEntry = (
  entry: TimelineEntry,
  language: Language,
  cards: TimelineCards,
): string => {
  const texts = TIMELINE_TEXTS[language];
  const d: Details = entry.details ?? {};
  const refused = typeof d.refused === 'string' ? d.refused : null;
  const controls = CATALOGUES[language].controls as Readonly<Record<string, string>>;
  const head =
    refused !== null
      ? fill(texts.clauses.refused, { control: controls[refused] ?? refused })
      : mainSentence(entry, d, texts, cards, language);
  return [sentence(head), ...clauses(entry, d, texts, cards, language)].join(' ');
};

/**
 * A whole timeline told, entry by entry: the cards in each reader are followed along, so a removal
 * says which card left.
 */
export const describeTimeline = (
  entries: readonly TimelineEntry[],
  language: Language,
  reserveCard: string | null = null,
): string[] => {
  const cards = cardsOf(entries, reserveCard);
  const inReader: Record<1 | 2, string | null> = { 1: null, 2: null };
  return entries.map((entry) => {
    const d = entry.details ?? {};
    const slot = d.reader === 2 ? 2 : 1;
    const before = inReader[slot];
    if (entry.event === 'logged-in' && typeof d.cardNumber === 'string') inReader[slot] = d.cardNumber;
    if (entry.event === 'card-inserted')
      inReader[slot] = typeof d.cardNumber === 'string' ? d.cardNumber : null;
    if (entry.event === 'card-removed' || entry.event === 'reader-unplugged') inReader[slot] = null;
    return describeTimelineEntry(entry, language, { ...cards, before });
  });
};

/** The catalogue's title of each of an entry's codes, for the chips beside the sentence. */
export const codeTitle = (code: string, language: Language): string =>
  isErrorCode(code) ? CATALOGUES[language].codes[code].title : code;
