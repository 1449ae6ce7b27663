// What a trainee needs in front of them: the cards with their PINs, the people to search for, and
// what each demonstrates. Built from the training plan and the personal numbers as stored.
import {
  type AssuranceLevel,
  type CalendarDate,
  type CardNumber,
  formatCardNumber,
  formatPersonalNumber,
  type PersonalNumber,
} from '@reservkort/domain';
import {
  ADMIN_CARD_PINS,
  type CardPins,
  fullName,
  RECIPIENTS,
  type RecipientKey,
  reserveCardPins,
  SPARE_RESERVE_CARD,
  STAFF_CARDS,
  TRAINING_BRANCHES,
  TRAINING_ORDERS,
} from './training-plan.js';

export interface TrainingAdminCard {
  readonly name: string;
  readonly hsaId: string;
  readonly cardNumber: CardNumber;
  readonly pins: CardPins;
  readonly assuranceLevel: AssuranceLevel;
  /** "KRA i Centrallasarettet", … ; "service-desk" for the service desk's staff role. */
  readonly roles: readonly string[];
}

export interface TrainingReserveCard {
  readonly cardNumber: CardNumber;
  /** The recipient of the order the card is for; null for the spare card on no order. */
  readonly forPerson: string | null;
  /** The sealed PIN letter. */
  readonly pins: CardPins;
}

export interface TrainingPerson {
  readonly name: string;
  readonly hsaId: string;
  /** YYYYMMDD-NNNN. */
  readonly personalNumber: string;
  /** What searching for this person shows (Swedish). */
  readonly note: string;
}

export interface TrainingSummary {
  readonly admins: readonly TrainingAdminCard[];
  readonly reserveCards: readonly TrainingReserveCard[];
  readonly persons: readonly TrainingPerson[];
  /** Things to try, in Swedish, each naming the error code it provokes. */
  readonly scenarios: readonly string[];
}

const PERSON_NOTES: { readonly [K in RecipientKey]: string } = {
  anna: 'beställning av Admin Ett – hela flödet; slutförs av Admin Två eller Admin Fyra',
  bo: 'beställning av Admin Två – Admin Två får OWN_ORDER, Admin Fyra kan slutföra',
  stina:
    'skyddad identitet, beställning av Admin Två – Admin Fyra får PROTECTED_NEEDS_KUR, Admin Ett kan slutföra',
  samir: 'samordningsnummer, ingen beställning – NOT_ELIGIBLE',
  nils: 'ingen beställning – NO_ORDER',
  elsa: 'beställningens giltighet har gått ut – ORDER_EXPIRED',
  olle: 'annan vårdgivare, beställning av Admin Tre – Admin Två och Admin Fyra får NO_ROLE_IN_BRANCH',
  maja: 'under 18 år, ingen beställning – RECIPIENT_UNDERAGE',
};

const branchName = (id: string): string => TRAINING_BRANCHES.find((b) => b.id === id)?.name ?? id;

/**
 * The summary of the training data. `personalNumberOf` gives the personal number of a planned
 * person by HSA-id (as computed by the seed or read back from the directory).
 */
export const summariseTraining = (
  personalNumberOf: (hsaId: string) => PersonalNumber,
  today: CalendarDate,
): TrainingSummary => {
  const pnr = (hsaId: string): string =>
    formatPersonalNumber(personalNumberOf(hsaId), 'twelve-hyphen', today);
  const admins = STAFF_CARDS.map(
    (card): TrainingAdminCard => ({
      name: card.name,
      hsaId: card.holder.hsaId,
      cardNumber: card.cardNumber,
      pins: ADMIN_CARD_PINS,
      assuranceLevel: card.assuranceLevel,
      roles: [
        ...card.grants.map((g) => `${g.role} i ${branchName(g.branchId)}`),
        ...(card.serviceDesk ? ['service-desk'] : []),
      ],
    }),
  );
  const reserveCards: TrainingReserveCard[] = [
    ...TRAINING_ORDERS.map((order) => ({
      cardNumber: order.cardNumber,
      forPerson: fullName(RECIPIENTS[order.recipient]),
      pins: reserveCardPins(order.cardNumber),
    })),
    { cardNumber: SPARE_RESERVE_CARD, forPerson: null, pins: reserveCardPins(SPARE_RESERVE_CARD) },
  ];
  const persons = (Object.keys(RECIPIENTS) as RecipientKey[]).map(
    (key): TrainingPerson => ({
      name: fullName(RECIPIENTS[key]),
      hsaId: RECIPIENTS[key].hsaId,
      personalNumber: pnr(RECIPIENTS[key].hsaId),
      note: PERSON_NOTES[key],
    }),
  );
  const anna = RECIPIENTS.anna;
  const annaPnr = personalNumberOf(anna.hsaId).value;
  const annaCard = TRAINING_ORDERS.find((o) => o.recipient === 'anna')?.cardNumber;
  const scenarios = [
    `Hela flödet: logga in som Admin Två (kortet i läsare 1), sök på Anna Andersson (${pnr(anna.hsaId)}), ` +
      `granska och signera; mottagaren sätter in reservkort ${annaCard ? formatCardNumber(annaCard) : ''} ` +
      'i läsare 2 och använder PIN-brevet. Sök sedan på henne igen: ORDER_USED.',
    'Logga in som Lena LoA2: Hantera beställningar är grå (LOA2_LOGIN).',
    'Logga in som Admin Tre och sök på Anna Andersson: rollerna täcker inte hennes organisation (NO_ROLE_IN_BRANCH).',
    'Logga in som Admin Två och sök på Bo Berg: Admin Två registrerade själv beställningen (OWN_ORDER).',
    'Logga in som Admin Fyra och sök på Stina Skyddad: Admin Fyra saknar KUR (PROTECTED_NEEDS_KUR).',
    'Sök på Samir Samordning: samordningsnummer räcker inte för LoA3 (NOT_ELIGIBLE).',
    'Sök på Nils Utanorder: det finns ingen beställning (NO_ORDER).',
    'Sök på Elsa Utgången: beställningen har gått ut (ORDER_EXPIRED).',
    `Sök på "${anna.hsaId.slice(-4)}": hela HSA-id:t behövs (HSA_ID_INCOMPLETE). ` +
      `Sök på "${annaPnr.slice(2, 8)}-${annaPnr.slice(8)}": tio siffror normaliseras och söks ändå (PNR_FORMAT).`,
    `Sätt in reservkort ${formatCardNumber(SPARE_RESERVE_CARD)} i läsare 2 i steg 4: fel kort (WRONG_CARD).`,
    'Koppla ur läsare 2 innan du loggar in (READERS_MISSING), eller ta ut admin-kortet ur läsare 1 efter inloggningen (CARD_REINSERTED).',
    'Ta ut reservkortet medan nycklarna skapas i steg 6 (CARD_REMOVED_DURING_DOWNLOAD).',
    'Kvittera inte kortet i steg 7 förrän tiden gått ut: certifikaten spärras (ACK_TIMEOUT).',
    'Logga in som Sara Servicedesk för att arbeta med felanmälningarna i kön.',
  ];
  return { admins, reserveCards, persons, scenarios };
};

const columns = (rows: readonly (readonly string[])[], indent = '  '): string[] => {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    `${indent}${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')}`.trimEnd(),
  );
};

const pinText = (pins: CardPins): string => `PIN 1 ${pins.pin1} · PIN 2 ${pins.pin2} · PUK ${pins.puk}`;

/** The text `npm start` prints in training mode: cards and PINs, reserve cards and PIN letters, what to try. */
export const formatTrainingSummary = (summary: TrainingSummary): string => {
  const lines: string[] = [
    'Övningsläge – demodata',
    '',
    'Administratörernas kort (sätt in i läsare 1):',
    ...columns(
      summary.admins.map((a) => [
        a.name,
        a.hsaId,
        formatCardNumber(a.cardNumber),
        a.assuranceLevel,
        pinText(a.pins),
        a.roles.join(', ') || '–',
      ]),
    ),
    '',
    'Reservkort i förseglade kuvert, med PIN-brev (sätt in i läsare 2):',
    ...columns(
      summary.reserveCards.map((c) => [
        formatCardNumber(c.cardNumber),
        c.forPerson ?? '(ingen beställning)',
        pinText(c.pins),
      ]),
    ),
    '',
    'Personer att söka på:',
    ...columns(summary.persons.map((p) => [p.name, p.hsaId, p.personalNumber, p.note])),
    '',
    'Prova det här:',
    ...summary.scenarios.map((s, i) => `  ${String(i + 1).padStart(2)}. ${s}`),
    '',
  ];
  return lines.join('\n');
};
