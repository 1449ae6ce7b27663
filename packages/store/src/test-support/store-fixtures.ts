// Test data built through the domain's public API: a small organisation, persons, admins, orders,
// CAs and certificates, each with overridable fields.
import {
  type Branch,
  type CardNumber,
  type HsaId,
  type Instant,
  luhnCheckDigit,
  type Order,
  type PersonalNumber,
  parseCardNumber,
  parseHsaId,
  parsePersonalNumber,
  type Result,
} from '@reservkort/domain';
import type { Kysely } from 'kysely';
import type { NewCa } from '../ca/ca.repository.js';
import type { NewCertificate } from '../certificate/certificate.repository.js';
import type { Database } from '../database.js';
import { upsertBranches } from '../organisation/organisation.repository.js';
import type { StoredPerson } from '../person/person.repository.js';

export const T0: Instant = Date.UTC(2026, 10, 29, 9, 0, 0);
export const MINUTE = 60_000;
export const DAY = 86_400_000;

export const unwrap = <T, E>(result: Result<T, E>): T => {
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result.error)}`);
  return result.value;
};

export const hsa = (local: string): HsaId => unwrap(parseHsaId(`SE2321000016-${local}`));

export const card = (serial: number): CardNumber =>
  unwrap(parseCardNumber(`97522789000${String(serial).padStart(8, '0')}`));

/** A valid personnummer for a birth date (YYYYMMDD) and a three-digit serial. */
export const pnr = (yyyymmdd: string, serial = '123'): PersonalNumber =>
  unwrap(
    parsePersonalNumber(`${yyyymmdd}${serial}${luhnCheckDigit(`${yyyymmdd.slice(2)}${serial}`)}`, {
      year: 2026,
      month: 11,
      day: 29,
    }),
  ).personalNumber;

//        region
//        ├── hospital ── clinic
//        └── other
export const BRANCHES: readonly Branch[] = [
  { id: 'region', parentId: null, name: 'Region Exempel' },
  { id: 'hospital', parentId: 'region', name: 'Sjukhuset' },
  { id: 'clinic', parentId: 'hospital', name: 'Kliniken' },
  { id: 'other', parentId: 'region', name: 'Annan förvaltning' },
];

export const seedOrganisation = (db: Kysely<Database>): Promise<void> => upsertBranches(db, BRANCHES);

export const aPerson = (local: string, overrides: Partial<StoredPerson> = {}): StoredPerson => ({
  hsaId: hsa(local),
  personalNumber: pnr('19800101'),
  givenName: 'Anna',
  surname: 'Andersson',
  branchId: 'clinic',
  protectedIdentity: false,
  createdAt: T0,
  ...overrides,
});

export const anOrder = (id: string, recipient: StoredPerson, overrides: Partial<Order> = {}): Order => ({
  id,
  recipient: {
    hsaId: recipient.hsaId,
    branchId: recipient.branchId,
    protectedIdentity: recipient.protectedIdentity,
  },
  cardNumber: card(1),
  validity: { notBefore: T0, notAfter: T0 + 14 * DAY },
  idDocument: 'swedish-passport',
  createdBy: hsa('adm1'),
  createdAt: T0,
  signature: {
    signedBy: hsa('adm1'),
    signedAt: T0 - MINUTE,
    assuranceLevel: 'LoA3',
    certificateSerial: '5f3a',
  },
  state: 'registered',
  stateChangedAt: T0,
  ...overrides,
});

export const aCa = (id: string, overrides: Partial<NewCa> = {}): NewCa => ({
  id,
  role: 'issuing',
  name: `Reservkort ${id} CA`,
  issuerId: null,
  certificatePem: `-----BEGIN CERTIFICATE-----\n${id}\n-----END CERTIFICATE-----\n`,
  keyKind: 'file',
  keyRef: `keys/${id}.key`,
  policyOid: null,
  assuranceLevel: null,
  createdAt: T0,
  ...overrides,
});

export const aCertificate = (
  serial: string,
  caId: string,
  overrides: Partial<NewCertificate> = {},
): NewCertificate => ({
  serial,
  caId,
  profile: 'card-auth',
  subject: `CN=Anna Andersson,serialNumber=${hsa('abc1')}`,
  hsaId: hsa('abc1'),
  cardNumber: card(1),
  orderId: 'order-1',
  notBefore: T0,
  notAfter: T0 + 14 * DAY,
  certificatePem: `-----BEGIN CERTIFICATE-----\n${serial}\n-----END CERTIFICATE-----\n`,
  createdAt: T0,
  ...overrides,
});

/** How many audit entries name this action and subject. */
export const auditCount = async (db: Kysely<Database>, action: string, subject: string): Promise<number> =>
  (
    await db
      .selectFrom('audit_log')
      .select('seq')
      .where('action', '=', action)
      .where('subject', '=', subject)
      .execute()
  ).length;
