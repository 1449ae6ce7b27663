import type { FlowEventType, Language } from '@reservkort/domain';

/** Every kind of timeline entry: the flow's events, the entry that starts a flow, a station's report before login. */
export type TimelineEventKind = FlowEventType | 'flow-started' | 'station-reported';

/**
 * How a timeline is told to a person: one sentence per kind of entry, with its details in words.
 * Placeholders in braces are filled by the timeline's prose; `{reader}` is "läsare 2" etc.,
 * `{card}` a card with its number and whose it is.
 */
export interface TimelineTexts {
  readonly events: { readonly [K in TimelineEventKind]: string };
  /** Variants of a sentence chosen by the entry's details. */
  readonly variants: {
    readonly flowStartedReaders: string;
    readonly readerConnected: string;
    readonly readerNotConnected: string;
    readonly withCard: string;
    readonly withoutCard: string;
    readonly searchHit: string;
    readonly searchNoHit: string;
    readonly queryKinds: {
      readonly 'personal-number': string;
      readonly 'hsa-id': string;
      readonly 'partial-hsa-id': string;
      readonly invalid: string;
    };
    readonly signedFailed: string;
    readonly termsDeclined: string;
    readonly dialogs: { readonly auth: string; readonly sign: string };
    readonly abortReasons: {
      readonly restart: string;
      readonly logout: string;
      readonly 'order-cancelled': string;
    };
    readonly signedRefused: string;
    readonly cardRemoved: string;
    readonly handoverWrongCard: string;
    readonly acknowledgedWrongCard: string;
  };
  /** Clauses added to a sentence when the entry's details hold them. */
  readonly clauses: {
    readonly refused: string;
    readonly removedAt: string;
    readonly expected: string;
    readonly waited: string;
    readonly cleanedUp: string;
    readonly deadline: string;
    readonly deadlinePassed: string;
    readonly attempt: string;
    readonly reason: string;
    readonly serials: string;
    readonly gaps: string;
  };
  readonly readerName: string;
  readonly cards: {
    readonly login: string;
    readonly reserve: string;
    readonly other: string;
    readonly unreadable: string;
  };
}

const sv: TimelineTexts = {
  events: {
    'flow-started': 'Utgivningen öppnades.',
    'station-reported': 'Kortstationen rapporterade sina kortläsare före inloggningen.',
    'reader-plugged': '{reader} anslöts.',
    'reader-unplugged': '{reader} kopplades ur.',
    'card-inserted': '{card} sattes i {reader}.',
    'card-removed': 'Kortet togs ut ur {reader}.',
    'logged-in': '{admin} loggade in med {card} i {reader} ({level}).',
    'manage-orders': 'Administratören valde Hantera beställningar.',
    searched: '{searchOutcome}',
    'order-selected': 'Beställningen valdes som underlag.',
    signed: 'Underlaget signerades.',
    'handover-confirmed': 'Överlämningen bekräftades; kortagenten läser av reservkortet.',
    'handover-verified': 'Kortagenten läste {card}: rätt kort för beställningen.',
    'terms-accepted': 'Kortmottagaren accepterade villkoren.',
    'download-requested': 'Nedladdningen begärdes (STARTA NEDLADDNING).',
    'key-generation-started': 'Reservkortet började skapa nycklar.',
    'keys-generated': 'Reservkortet skapade sina nycklar.',
    'card-refused': 'Servern godtog inte reservkortet.',
    'dialog-shown': '{dialog} visades.',
    'dialog-completed': '{dialog} fylldes i.',
    'dialog-cancelled': '{dialog} avbröts.',
    'dialog-not-shown': 'Kortagenten kunde inte visa {dialog}.',
    'issuance-claimed': 'Servern började utfärda certifikaten.',
    'certificates-issued': 'Certifikaten utfärdades.',
    'certificates-written': 'Certifikaten skrevs till reservkortet.',
    'download-failed': 'Hämtningen av certifikaten misslyckades.',
    acknowledged: 'Kortmottagaren kvitterade kortet.',
    'deadline-passed': 'Tiden för att kvittera kortet gick ut.',
    tick: 'Väntetiden gick ut.',
    aborted: 'Utgivningen avslutades: {abortReason}.',
  },
  variants: {
    flowStartedReaders: 'Läsare 1: {reader1}, läsare 2: {reader2}.',
    readerConnected: 'ansluten',
    readerNotConnected: 'inte ansluten',
    withCard: 'med kort',
    withoutCard: 'utan kort',
    searchHit: 'Sökning på {queryKind} gav en beställning.',
    searchNoHit: 'Sökning på {queryKind} gav ingen beställning.',
    queryKinds: {
      'personal-number': 'personnummer',
      'hsa-id': 'HSA-id',
      'partial-hsa-id': 'en del av ett HSA-id',
      invalid: 'något som inte kunde tolkas',
    },
    signedFailed: 'Signeringen av underlaget misslyckades.',
    termsDeclined: 'Villkoren är inte längre accepterade.',
    dialogs: { auth: 'PIN 1-fönstret (legitimering)', sign: 'PIN 2-fönstret (underskrift)' },
    abortReasons: {
      restart: 'Starta om utgivningen valdes',
      logout: 'administratören loggade ut',
      'order-cancelled': 'beställningen makulerades',
    },
    signedRefused: 'Signeringen godtogs inte.',
    cardRemoved: '{card} togs ut ur {reader}.',
    handoverWrongCard: 'Kortagenten läste {card}: inte kortet för beställningen.',
    acknowledgedWrongCard: 'Kvitteringen gjordes med {card}, inte med reservkortet.',
  },
  clauses: {
    refused: 'Knappen "{control}" gick inte att använda.',
    removedAt: 'Administratörens kort togs ut {time}.',
    expected: 'Förväntat kort: {expected}; i läsaren: {actual}.',
    waited: 'Väntade {seconds} s.',
    cleanedUp: 'Reservkortet rensades.',
    deadline: 'Kvittera senast {time}.',
    deadlinePassed: 'Sista tid för kvittering var {time}.',
    attempt: 'Försök {attempt}.',
    reason: 'Orsak: {reason}.',
    serials: 'Serienummer: {serials}.',
    gaps: 'Läsare {reader} var inte ansluten en stund.',
  },
  readerName: 'läsare {n}',
  cards: {
    login: 'administratörens kort {card}',
    reserve: 'reservkortet {card} (till kortmottagaren)',
    other: 'kort {card}',
    unreadable: 'ett kort vars kortnummer inte gick att läsa',
  },
};

const en: TimelineTexts = {
  events: {
    'flow-started': 'The issuance was opened.',
    'station-reported': 'The card station reported its card readers before login.',
    'reader-plugged': '{reader} was connected.',
    'reader-unplugged': '{reader} was unplugged.',
    'card-inserted': '{card} was inserted in {reader}.',
    'card-removed': 'The card was removed from {reader}.',
    'logged-in': '{admin} logged in with {card} in {reader} ({level}).',
    'manage-orders': 'The administrator chose Manage orders.',
    searched: '{searchOutcome}',
    'order-selected': 'The order was selected for review.',
    signed: 'The review was signed.',
    'handover-confirmed': 'The handover was confirmed; the card agent reads the reserve card.',
    'handover-verified': 'The card agent read {card}: the right card for the order.',
    'terms-accepted': 'The recipient accepted the terms.',
    'download-requested': 'The download was requested (STARTA NEDLADDNING).',
    'key-generation-started': 'The reserve card began generating keys.',
    'keys-generated': 'The reserve card generated its keys.',
    'card-refused': 'The server did not accept the reserve card.',
    'dialog-shown': '{dialog} was shown.',
    'dialog-completed': '{dialog} was completed.',
    'dialog-cancelled': '{dialog} was cancelled.',
    'dialog-not-shown': 'The card agent could not show {dialog}.',
    'issuance-claimed': 'The server began issuing the certificates.',
    'certificates-issued': 'The certificates were issued.',
    'certificates-written': 'The certificates were written to the reserve card.',
    'download-failed': 'Fetching the certificates failed.',
    acknowledged: 'The recipient acknowledged the card.',
    'deadline-passed': 'The time to acknowledge the card ran out.',
    tick: 'The waiting time ran out.',
    aborted: 'The issuance ended: {abortReason}.',
  },
  variants: {
    flowStartedReaders: 'Reader 1: {reader1}, reader 2: {reader2}.',
    readerConnected: 'connected',
    readerNotConnected: 'not connected',
    withCard: 'with a card',
    withoutCard: 'without a card',
    searchHit: 'A search by {queryKind} found an order.',
    searchNoHit: 'A search by {queryKind} found no order.',
    queryKinds: {
      'personal-number': 'personal identity number',
      'hsa-id': 'HSA-id',
      'partial-hsa-id': 'part of an HSA-id',
      invalid: 'something that could not be read',
    },
    signedFailed: 'Signing the review failed.',
    termsDeclined: 'The terms are no longer accepted.',
    dialogs: { auth: 'The PIN 1 window (authentication)', sign: 'The PIN 2 window (signature)' },
    abortReasons: {
      restart: 'Restart the issuance was chosen',
      logout: 'the administrator logged out',
      'order-cancelled': 'the order was cancelled',
    },
    signedRefused: 'The signature was not accepted.',
    cardRemoved: '{card} was removed from {reader}.',
    handoverWrongCard: 'The card agent read {card}: not the card of the order.',
    acknowledgedWrongCard: 'The acknowledgement was made with {card}, not with the reserve card.',
  },
  clauses: {
    refused: 'The button "{control}" could not be used.',
    removedAt: 'The administrator’s card was removed at {time}.',
    expected: 'Expected card: {expected}; in the reader: {actual}.',
    waited: 'Waited {seconds} s.',
    cleanedUp: 'The reserve card was cleaned.',
    deadline: 'Acknowledge by {time}.',
    deadlinePassed: 'The acknowledgement was due by {time}.',
    attempt: 'Attempt {attempt}.',
    reason: 'Reason: {reason}.',
    serials: 'Serial numbers: {serials}.',
    gaps: 'Reader {reader} was not connected for a while.',
  },
  readerName: 'reader {n}',
  cards: {
    login: 'the administrator’s card {card}',
    reserve: 'the reserve card {card} (for the recipient)',
    other: 'card {card}',
    unreadable: 'a card whose number could not be read',
  },
};

export const TIMELINE_TEXTS: Readonly<Record<Language, TimelineTexts>> = { sv, en };
