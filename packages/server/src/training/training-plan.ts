// The demo data of training mode, as plain constants: who is who, which card is whose, which order
// demonstrates which error code. The seed writes it; the summary reads it back; the tests check it.
import {
  type AssuranceLevel,
  type Branch,
  type CalendarDate,
  type CardNumber,
  type Grant,
  type IdDocument,
  luhnCheckDigit,
  type PersonalNumber,
  parseCardNumber,
  parsePersonalNumber,
} from '@reservkort/domain';

/** Who the audit log and the CA name as having written the demo data. */
export const TRAINING_ACTOR = 'training-seed';

export interface CardPins {
  readonly pin1: string;
  readonly pin2: string;
  readonly puk: string;
}

/** Every administrator's (and the service desk's) card has the same, documented PINs. */
export const ADMIN_CARD_PINS: CardPins = { pin1: '1234', pin2: '5678', puk: '12345678' };

/** The reserve card product the demo orders are for. */
export const TRAINING_PRODUCT = { name: 'SITHS reservkort', maxValidityDays: 14 } as const;

const REGION = 'SE2321000016';
const PROVIDER = 'SE5566778899';

export const BRANCH = {
  region: `${REGION}-1000`,
  hospital: `${REGION}-1100`,
  emergency: `${REGION}-1110`,
  paediatrics: `${REGION}-1120`,
  northHospital: `${REGION}-1200`,
  medicine: `${REGION}-1210`,
  provider: `${PROVIDER}-2000`,
  privateClinic: `${PROVIDER}-2100`,
} as const;

//   Region Exempel
//   ├── Centrallasarettet ── Akutkliniken, Barn- och ungdomskliniken
//   ├── Länssjukhuset Norr ── Medicinkliniken
//   └── Vårdcentralen Ekbacken
//   Vårdbolaget Annan AB (a private care provider: a tree of its own)
//   └── Privatkliniken Söder
export const TRAINING_BRANCHES: readonly Branch[] = [
  { id: BRANCH.region, parentId: null, name: 'Region Exempel' },
  { id: BRANCH.hospital, parentId: BRANCH.region, name: 'Centrallasarettet' },
  { id: BRANCH.emergency, parentId: BRANCH.hospital, name: 'Akutkliniken' },
  { id: BRANCH.paediatrics, parentId: BRANCH.hospital, name: 'Barn- och ungdomskliniken' },
  { id: BRANCH.northHospital, parentId: BRANCH.region, name: 'Länssjukhuset Norr' },
  { id: BRANCH.medicine, parentId: BRANCH.northHospital, name: 'Medicinkliniken' },
  { id: `${REGION}-1300`, parentId: BRANCH.region, name: 'Vårdcentralen Ekbacken' },
  { id: BRANCH.provider, parentId: null, name: 'Vårdbolaget Annan AB' },
  { id: BRANCH.privateClinic, parentId: BRANCH.provider, name: 'Privatkliniken Söder' },
];

/** A person of the directory. The people are made up; so are their numbers (birth numbers 981 and up). */
export interface PlannedPerson {
  readonly hsaId: string;
  readonly givenName: string;
  readonly surname: string;
  readonly branchId: string;
  /** YYYYMMDD; 'sixteen' for the under-age person, born sixteen years before the seed runs. */
  readonly born: string | 'sixteen';
  readonly birthNumber: string;
  /** A samordningsnummer (day + 60) instead of a personnummer. */
  readonly coordinationNumber?: boolean;
  readonly protectedIdentity?: boolean;
}

const person = (
  local: string,
  givenName: string,
  surname: string,
  branchId: string,
  born: string,
  birthNumber: string,
  extra: Partial<PlannedPerson> = {},
): PlannedPerson => ({
  hsaId: `${branchId.slice(0, branchId.indexOf('-'))}-${local}`,
  givenName,
  surname,
  branchId,
  born,
  birthNumber,
  ...extra,
});

/** The people who hold a card of their own: administrators and the service desk. */
export const STAFF = {
  ett: person('ad01', 'Admin', 'Ett', BRANCH.hospital, '19720415', '981'),
  tva: person('ad02', 'Admin', 'Två', BRANCH.region, '19680902', '982'),
  tre: person('ad03', 'Admin', 'Tre', BRANCH.provider, '19811117', '983'),
  fyra: person('ad04', 'Admin', 'Fyra', BRANCH.region, '19750630', '984'),
  lena: person('ad05', 'Lena', 'LoA2', BRANCH.hospital, '19860224', '985'),
  sara: person('sd01', 'Sara', 'Servicedesk', BRANCH.region, '19900508', '986'),
} as const;

/** The recipients (kortmottagare), each set up for one part of the catalogue. */
export const RECIPIENTS = {
  anna: person('p001', 'Anna', 'Andersson', BRANCH.emergency, '19850412', '987'),
  bo: person('p002', 'Bo', 'Berg', BRANCH.medicine, '19790923', '988'),
  stina: person('p003', 'Stina', 'Skyddad', BRANCH.paediatrics, '19880607', '989', {
    protectedIdentity: true,
  }),
  samir: person('p004', 'Samir', 'Samordning', BRANCH.emergency, '19910321', '990', {
    coordinationNumber: true,
  }),
  nils: person('p005', 'Nils', 'Utanorder', BRANCH.medicine, '19670130', '991'),
  elsa: person('p006', 'Elsa', 'Utgången', BRANCH.emergency, '19920218', '992'),
  olle: person('p007', 'Olle', 'Annan', BRANCH.privateClinic, '19830705', '993'),
  maja: person('p008', 'Maja', 'Minderårig', BRANCH.paediatrics, 'sixteen', '994'),
} as const;

export type RecipientKey = keyof typeof RECIPIENTS;

const cardNumber = (text: string): CardNumber => {
  const parsed = parseCardNumber(text);
  if (!parsed.ok) throw new Error(`training card number ${text} is invalid`);
  return parsed.value;
};

/** A card of one of the staff, with keys and certificates made by the seed. */
export interface PlannedStaffCard {
  readonly name: string;
  readonly holder: PlannedPerson;
  readonly cardNumber: CardNumber;
  readonly assuranceLevel: AssuranceLevel;
  /** ID-administrator roles; an ID-administrator is anyone with a grant. */
  readonly grants: readonly { readonly role: Grant; readonly branchId: string }[];
  readonly serviceDesk: boolean;
}

export const STAFF_CARDS: readonly PlannedStaffCard[] = [
  {
    // Registers orders (admin 1) in the hospital, and may handle protected identities there.
    name: 'Admin Ett',
    holder: STAFF.ett,
    cardNumber: cardNumber('9752278900000000101'),
    assuranceLevel: 'LoA3',
    grants: [
      { role: 'KRA', branchId: BRANCH.hospital },
      { role: 'KUR', branchId: BRANCH.hospital },
    ],
    serviceDesk: false,
  },
  {
    // Completes orders (admin 2) anywhere in the region, with KUR.
    name: 'Admin Två',
    holder: STAFF.tva,
    cardNumber: cardNumber('9752278900000000102'),
    assuranceLevel: 'LoA3',
    grants: [
      { role: 'RA', branchId: BRANCH.region },
      { role: 'KUR', branchId: BRANCH.region },
    ],
    serviceDesk: false,
  },
  {
    // A role only at the other care provider: NO_ROLE_IN_BRANCH for everyone in the region.
    name: 'Admin Tre',
    holder: STAFF.tre,
    cardNumber: cardNumber('9752278900000000103'),
    assuranceLevel: 'LoA3',
    grants: [{ role: 'KRA', branchId: BRANCH.provider }],
    serviceDesk: false,
  },
  {
    // RA at the top but no KUR: PROTECTED_NEEDS_KUR.
    name: 'Admin Fyra',
    holder: STAFF.fyra,
    cardNumber: cardNumber('9752278900000000104'),
    assuranceLevel: 'LoA3',
    grants: [{ role: 'RA', branchId: BRANCH.region }],
    serviceDesk: false,
  },
  {
    // The right role, but only a LoA2 reserve card to log in with: LOA2_LOGIN.
    name: 'Lena LoA2',
    holder: STAFF.lena,
    cardNumber: cardNumber('9752278900000000105'),
    assuranceLevel: 'LoA2',
    grants: [{ role: 'KRA', branchId: BRANCH.hospital }],
    serviceDesk: false,
  },
  {
    // The service desk (förvaltningen): works the support cases, issues nothing.
    name: 'Sara Servicedesk',
    holder: STAFF.sara,
    cardNumber: cardNumber('9752278900000000106'),
    assuranceLevel: 'LoA3',
    grants: [],
    serviceDesk: true,
  },
];

/** An order admin 1 registered (and signed with their card), and the sealed reserve card for it. */
export interface PlannedOrder {
  readonly id: string;
  readonly recipient: RecipientKey;
  readonly registeredBy: PlannedStaffCard['name'];
  readonly cardNumber: CardNumber;
  readonly idDocument: IdDocument;
  /** Registered three weeks ago with a validity that has run out: ORDER_EXPIRED. */
  readonly expired: boolean;
}

export const TRAINING_ORDERS: readonly PlannedOrder[] = [
  {
    id: 'training-order-1',
    recipient: 'anna',
    registeredBy: 'Admin Ett',
    cardNumber: cardNumber('9752278900000000201'),
    idDocument: 'swedish-driving-licence',
    expired: false,
  },
  {
    id: 'training-order-2',
    recipient: 'bo',
    registeredBy: 'Admin Två',
    cardNumber: cardNumber('9752278900000000202'),
    idDocument: 'swedish-passport',
    expired: false,
  },
  {
    id: 'training-order-3',
    recipient: 'stina',
    registeredBy: 'Admin Två',
    cardNumber: cardNumber('9752278900000000203'),
    idDocument: 'national-id-card',
    expired: false,
  },
  {
    id: 'training-order-4',
    recipient: 'elsa',
    registeredBy: 'Admin Ett',
    cardNumber: cardNumber('9752278900000000204'),
    idDocument: 'swedish-driving-licence',
    expired: true,
  },
  {
    id: 'training-order-5',
    recipient: 'olle',
    registeredBy: 'Admin Tre',
    cardNumber: cardNumber('9752278900000000205'),
    idDocument: 'sis-id-card',
    expired: false,
  },
];

/** A sealed reserve card whose number is on no order: WRONG_CARD when it is put in at step 4. */
export const SPARE_RESERVE_CARD = cardNumber('9752278900000000299');

/**
 * A sealed 473 card in stock whose physical life ends three days after the seed: an order for it
 * that runs longer is refused with CARD_PAST_PHYSICAL_EXPIRY.
 */
export const AGEING_STOCK_CARD = cardNumber('9752278900000000298');

/**
 * The PIN letter of a sealed reserve card, from the last three digits of its number, so that a
 * trainer can tell it without the printout: …201 has PIN 1 2011, PIN 2 2012, PUK 87654201.
 */
export const reserveCardPins = (card: CardNumber): CardPins => {
  const tail = card.slice(-3);
  return { pin1: `${tail}1`, pin2: `${tail}2`, puk: `87654${tail}` };
};

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** The planned person's personal number, valid (with its Luhn check digit) on `today`. */
export const plannedPersonalNumber = (planned: PlannedPerson, today: CalendarDate): PersonalNumber => {
  const born =
    planned.born === 'sixteen' ? `${pad(today.year - 16, 4)}${pad(today.month, 2)}01` : planned.born;
  const day = Number(born.slice(6, 8)) + (planned.coordinationNumber ? 60 : 0);
  const dated = `${born.slice(0, 6)}${pad(day, 2)}`;
  const text = `${dated}${planned.birthNumber}${luhnCheckDigit(`${dated.slice(2)}${planned.birthNumber}`)}`;
  const parsed = parsePersonalNumber(text, today);
  if (!parsed.ok) throw new Error(`training personal number for ${planned.hsaId} is invalid`);
  return parsed.value.personalNumber;
};

export const staffCardNamed = (name: string): PlannedStaffCard => {
  const card = STAFF_CARDS.find((c) => c.name === name);
  if (card === undefined) throw new Error(`no training card holder named ${name}`);
  return card;
};

export const fullName = (p: PlannedPerson): string => `${p.givenName} ${p.surname}`;
