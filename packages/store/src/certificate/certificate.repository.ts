import type { CardNumber, HsaId, Instant } from '@reservkort/domain';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { appendAudit, auditAppendToRunTogether, type NewAuditEntry } from '../audit/audit.repository.js';
import type { Database } from '../database.js';
import { dialectOf } from '../dialect.js';
import {
  bindIntent,
  bindIntentQuery,
  recordIssuedUnderIntent,
  recordIssuedUnderIntentQuery,
} from '../issuance/issuance-intent.repository.js';
import { type Pending, pendingRows } from '../pending.js';
import { preparedQuery } from '../prepared-query.js';
import { runTogether } from '../run-together.js';
import { StoreError, translateWriteErrors } from '../store-error.js';
import type { CertificatesTable, RevocationReason } from './certificate.table.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface NewCertificate {
  readonly serial: string;
  readonly caId: string;
  readonly profile: string;
  readonly subject: string;
  readonly hsaId: HsaId | null;
  readonly cardNumber: CardNumber | null;
  readonly orderId: string | null;
  readonly notBefore: Instant;
  readonly notAfter: Instant;
  readonly certificatePem: string;
  readonly createdAt: Instant;
  /**
   * The issuance intent it is issued under (absent or null: none). The intent must be open; it is
   * marked in the same transaction, so a closed intent never gets a certificate.
   */
  readonly intentId?: string | null;
}

export interface Revocation {
  readonly revokedAt: Instant;
  readonly reason: RevocationReason;
  readonly revokedBy: string;
}

export interface StoredCertificate extends NewCertificate {
  readonly intentId: string | null;
  readonly revocation: Revocation | null;
}

export interface NewRevocation extends Revocation {
  readonly serial: string;
}

export interface CertificateQuery {
  readonly caId?: string;
  /** 'good' is "not revoked": expiry is the reader's to judge. */
  readonly status?: 'good' | 'revoked';
  readonly limit?: number;
  readonly offset?: number;
}

/** A line of a CRL. */
export interface CrlEntry {
  readonly serial: string;
  readonly revokedAt: Instant;
  readonly reason: RevocationReason;
}

/** What OCSP needs to answer for a serial. */
export interface CertificateStatus {
  readonly caId: string;
  readonly notAfter: Instant;
  readonly revocation: Revocation | null;
}

interface RevocationColumns {
  readonly revoked_at: Instant | null;
  readonly reason: RevocationReason | null;
  readonly revoked_by: string | null;
}

const toRevocation = (row: RevocationColumns): Revocation | null =>
  row.revoked_at === null || row.reason === null || row.revoked_by === null
    ? null
    : { revokedAt: row.revoked_at, reason: row.reason, revokedBy: row.revoked_by };

const withRevocation = (db: Db) =>
  db
    .selectFrom('certificates as c')
    .leftJoin('revocations as r', 'r.serial', 'c.serial')
    .selectAll('c')
    .select(['r.revoked_at', 'r.reason', 'r.revoked_by']);

const toCertificate = (row: Selectable<CertificatesTable> & RevocationColumns): StoredCertificate => ({
  serial: row.serial,
  caId: row.ca_id,
  profile: row.profile,
  subject: row.subject,
  hsaId: row.hsa_id,
  cardNumber: row.card_number,
  orderId: row.order_id,
  notBefore: row.not_before,
  notAfter: row.not_after,
  certificatePem: row.certificate_pem,
  createdAt: row.created_at,
  intentId: row.intent_id,
  revocation: toRevocation(row),
});

export async function insertCertificate(db: Db, certificate: NewCertificate): Promise<void> {
  const intentId = certificate.intentId ?? null;
  if (intentId !== null && !(await recordIssuedUnderIntent(db, intentId, certificate.createdAt))) {
    throw new StoreError('CONFLICT', `Issuance intent ${intentId} is closed or unknown`);
  }
  await translateWriteErrors(`Certificate ${certificate.serial}`, () =>
    insertCertificateQuery(db, certificate).execute(),
  );
}

const insertCertificateQuery = (db: Db, certificate: NewCertificate) =>
  db.insertInto('certificates').values({
    serial: certificate.serial,
    ca_id: certificate.caId,
    profile: certificate.profile,
    subject: certificate.subject,
    hsa_id: certificate.hsaId,
    card_number: certificate.cardNumber,
    order_id: certificate.orderId,
    not_before: certificate.notBefore,
    not_after: certificate.notAfter,
    certificate_pem: certificate.certificatePem,
    created_at: certificate.createdAt,
    intent_id: certificate.intentId ?? null,
  });

/** A card certificate to record under its open intent and bind to it at once, with its audit entry. */
export interface BoundCertificate {
  readonly certificate: NewCertificate & { readonly intentId: string };
  readonly entry: NewAuditEntry;
  readonly boundAt: Instant;
}

/**
 * Records each certificate under its intent, appends its audit entry and binds it to the intent, in
 * `trx`, in the order given. CONFLICT if an intent was closed or bound meanwhile, or the serial is
 * taken: the caller rolls the transaction back. On PostgreSQL every statement goes out together,
 * one round trip: none is built from another's answer (the audit entries read their head in the
 * database), and what the answers say is judged before the transaction commits.
 */
export async function recordBoundCertificates(
  trx: Transaction<Database>,
  certificates: readonly BoundCertificate[],
): Promise<void> {
  const refused = (intentId: string) =>
    new StoreError('CONFLICT', `Issuance intent ${intentId} is closed, unknown or bound`);
  if (dialectOf<Database>(trx) !== 'postgres') {
    for (const { certificate, entry, boundAt } of certificates) {
      await insertCertificate(trx, certificate);
      await appendAudit(trx, entry);
      if (!(await bindIntent(trx, certificate.intentId, certificate.serial, boundAt)))
        throw refused(certificate.intentId);
    }
    return;
  }
  const batch = certificates.flatMap((bound) => {
    const append = auditAppendToRunTogether(trx, bound.entry);
    return append === null ? [] : [{ ...bound, append }];
  });
  const queries = batch.flatMap(({ certificate, append, boundAt }) => [
    recordIssuedUnderIntentQuery(trx, certificate.intentId, certificate.createdAt).compile(),
    insertCertificateQuery(trx, certificate).compile(),
    append.query,
    bindIntentQuery(trx, certificate.intentId, certificate.serial, boundAt).compile(),
  ]);
  const results = await translateWriteErrors('A card certificate', () => runTogether(trx, queries));
  for (const [i, { certificate, append }] of batch.entries()) {
    const [issued, , appended, bound] = results.slice(4 * i, 4 * i + 4);
    if (Number(issued?.numAffectedRows ?? 0) !== 1 || Number(bound?.numAffectedRows ?? 0) !== 1)
      throw refused(certificate.intentId);
    append.accept((appended?.rows ?? []) as Parameters<typeof append.accept>[0]);
  }
}

/** The certificates naming a card number (of any profile), oldest first, with their revocation if any. */
export async function listCertificatesOfCard(db: Db, cardNumber: CardNumber): Promise<StoredCertificate[]> {
  const rows = await withRevocation(db)
    .where('c.card_number', '=', cardNumber)
    .orderBy('c.created_at')
    .orderBy('c.serial')
    .execute();
  return rows.map(toCertificate);
}

/** The certificates issued under an intent (at most one), with their revocation if any. */
export async function listCertificatesOfIntent(db: Db, intentId: string): Promise<StoredCertificate[]> {
  const rows = await withRevocation(db).where('c.intent_id', '=', intentId).orderBy('c.serial').execute();
  return rows.map(toCertificate);
}

const certificateBySerial = preparedQuery((db: Kysely<Database>, serial: string) =>
  withRevocation(db).where('c.serial', '=', serial),
);

const certificateOf = (rows: readonly (Selectable<CertificatesTable> & RevocationColumns)[]) => {
  const row = rows[0];
  return row === undefined ? null : toCertificate(row);
};

export async function getCertificate(db: Db, serial: string): Promise<StoredCertificate | null> {
  return certificateOf((await certificateBySerial(db, serial)).rows);
}

/** getCertificate, to be sent with other statements (see runPending). */
export const getCertificatePending = (db: Db, serial: string): Pending<StoredCertificate | null> =>
  pendingRows(certificateBySerial.compile(db, serial), certificateOf);

/** Certificates newest first, optionally of one CA and one status, a page at a time. */
export async function listCertificates(db: Db, query: CertificateQuery = {}): Promise<StoredCertificate[]> {
  let select = withRevocation(db).orderBy('c.created_at', 'desc').orderBy('c.serial');
  if (query.caId !== undefined) select = select.where('c.ca_id', '=', query.caId);
  if (query.status === 'good') select = select.where('r.serial', 'is', null);
  if (query.status === 'revoked') select = select.where('r.serial', 'is not', null);
  // SQLite accepts OFFSET only after a LIMIT.
  if (query.limit !== undefined || query.offset !== undefined) {
    select = select.limit(query.limit ?? Number.MAX_SAFE_INTEGER);
  }
  if (query.offset !== undefined) select = select.offset(query.offset);
  return (await select.execute()).map(toCertificate);
}

/**
 * Records a revocation; false if the certificate was already revoked (the first record stands).
 * Counts it in revocations_generation in the same transaction (one is opened when `db` is none), so
 * the count moves exactly when a revocation commits.
 */
export async function insertRevocation(db: Db, revocation: NewRevocation): Promise<boolean> {
  if (!db.isTransaction) return db.transaction().execute((trx) => insertRevocation(trx, revocation));
  const result = await translateWriteErrors(`Revocation of certificate ${revocation.serial}`, () =>
    db
      .insertInto('revocations')
      .values({
        serial: revocation.serial,
        revoked_at: revocation.revokedAt,
        reason: revocation.reason,
        revoked_by: revocation.revokedBy,
      })
      .onConflict((oc) => oc.column('serial').doNothing())
      .executeTakeFirst(),
  );
  const inserted = Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  if (inserted)
    await db
      .updateTable('revocations_generation')
      .set((eb) => ({ generation: eb('generation', '+', 1) }))
      .where('id', '=', 1)
      .execute();
  return inserted;
}

/** The revoked certificates of a CA, for its CRL. */
export async function listRevocations(db: Db, caId: string): Promise<CrlEntry[]> {
  const rows = await db
    .selectFrom('revocations as r')
    .innerJoin('certificates as c', 'c.serial', 'r.serial')
    .select(['r.serial', 'r.revoked_at', 'r.reason'])
    .where('c.ca_id', '=', caId)
    .orderBy('r.revoked_at')
    .orderBy('r.serial')
    .execute();
  return rows.map((r) => ({ serial: r.serial, revokedAt: r.revoked_at, reason: r.reason }));
}

/** One primary-key lookup for OCSP: the issuing CA, the expiry and any revocation. */
const statusBySerial = preparedQuery((db: Kysely<Database>, serial: string) =>
  db
    .selectFrom('certificates as c')
    .leftJoin('revocations as r', 'r.serial', 'c.serial')
    .select(['c.ca_id', 'c.not_after', 'r.revoked_at', 'r.reason', 'r.revoked_by'])
    .where('c.serial', '=', serial),
);

const statusOf = (
  rows: readonly ({ readonly ca_id: string; readonly not_after: Instant } & RevocationColumns)[],
): CertificateStatus | null => {
  const row = rows[0];
  return row === undefined
    ? null
    : { caId: row.ca_id, notAfter: row.not_after, revocation: toRevocation(row) };
};

export async function certificateStatus(db: Db, serial: string): Promise<CertificateStatus | null> {
  return statusOf((await statusBySerial(db, serial)).rows);
}

/** certificateStatus, to be sent with other statements (see runPending). */
export const certificateStatusPending = (db: Db, serial: string): Pending<CertificateStatus | null> =>
  pendingRows(statusBySerial.compile(db, serial), statusOf);

/**
 * A number that changes whenever a revocation commits (revocations are never deleted), so a
 * responder in another process can notice with one primary-key read.
 */
export async function revocationEpoch(db: Db): Promise<number> {
  const row = await db
    .selectFrom('revocations_generation')
    .select('generation')
    .where('id', '=', 1)
    .executeTakeFirst();
  return Number(row?.generation ?? 0);
}

/** Whose reserve-card certificates to list: a person's, and optionally only one card's. */
export interface ReserveCardCertificateQuery {
  readonly hsaId: HsaId;
  readonly cardNumber?: CardNumber;
}

/**
 * A person's reserve-card certificates (issued for an order, to a card), oldest first. A
 * certificate issued under an intent counts only once the flow bound it to the card: what an
 * aborted flow issued and revoked never was the holder's e-ID.
 */
export async function listReserveCardCertificates(
  db: Db,
  query: ReserveCardCertificateQuery,
): Promise<StoredCertificate[]> {
  let select = withRevocation(db)
    .leftJoin('issuance_intents as i', 'i.id', 'c.intent_id')
    .where('c.hsa_id', '=', query.hsaId)
    .where('c.order_id', 'is not', null)
    .where('c.card_number', 'is not', null)
    .where((eb) => eb.or([eb('c.intent_id', 'is', null), eb('i.bound_at', 'is not', null)]))
    .orderBy('c.created_at')
    .orderBy('c.serial');
  if (query.cardNumber !== undefined) select = select.where('c.card_number', '=', query.cardNumber);
  return (await select.execute()).map(toCertificate);
}
