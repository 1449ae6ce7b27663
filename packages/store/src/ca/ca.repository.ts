import type { AssuranceLevel, Instant } from '@reservkort/domain';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database } from '../database.js';
import { StoreError, translateWriteErrors } from '../store-error.js';
import type { CaKeyKind, CaRole, CasTable } from './ca.table.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface NewCa {
  readonly id: string;
  readonly role: CaRole;
  readonly name: string;
  readonly issuerId: string | null;
  readonly certificatePem: string;
  readonly keyKind: CaKeyKind;
  readonly keyRef: string;
  readonly policyOid: string | null;
  readonly assuranceLevel: AssuranceLevel | null;
  readonly createdAt: Instant;
}

export interface StoredCa extends NewCa {
  /** The number of the last CRL issued; 0 before the first. */
  readonly crlNumber: number;
}

const toCa = (row: Selectable<CasTable>): StoredCa => ({
  id: row.id,
  role: row.role,
  name: row.name,
  issuerId: row.issuer_id,
  certificatePem: row.certificate_pem,
  keyKind: row.key_kind,
  keyRef: row.key_ref,
  policyOid: row.policy_oid,
  assuranceLevel: row.assurance_level,
  crlNumber: row.crl_number,
  createdAt: row.created_at,
});

export async function insertCa(db: Db, ca: NewCa): Promise<void> {
  await translateWriteErrors(`CA ${ca.id}`, () =>
    db
      .insertInto('cas')
      .values({
        id: ca.id,
        role: ca.role,
        name: ca.name,
        issuer_id: ca.issuerId,
        certificate_pem: ca.certificatePem,
        key_kind: ca.keyKind,
        key_ref: ca.keyRef,
        policy_oid: ca.policyOid,
        assurance_level: ca.assuranceLevel,
        created_at: ca.createdAt,
      })
      .execute(),
  );
}

export async function getCa(db: Db, id: string): Promise<StoredCa | null> {
  const row = await db.selectFrom('cas').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? null : toCa(row);
}

export async function listCas(db: Db): Promise<StoredCa[]> {
  const rows = await db.selectFrom('cas').selectAll().orderBy('created_at').orderBy('id').execute();
  return rows.map(toCa);
}

/**
 * Reserves the next CRL number (1 for the first CRL) in one statement, so that two CRLs built at
 * once never share a number.
 */
export async function nextCrlNumber(db: Db, caId: string): Promise<number> {
  const row = await db
    .updateTable('cas')
    .set((eb) => ({ crl_number: eb('crl_number', '+', 1) }))
    .where('id', '=', caId)
    .returning('crl_number')
    .executeTakeFirst();
  if (row === undefined) throw new StoreError('NOT_FOUND', `No CA ${caId}`);
  return row.crl_number;
}

/**
 * Puts a new certificate for the same key and subject in place of a CA's (a re-certification: the
 * CAs certified before revocation pointers existed get them). The caller records the certificate.
 */
export async function replaceCaCertificate(db: Db, id: string, certificatePem: string): Promise<void> {
  const result = await db
    .updateTable('cas')
    .set({ certificate_pem: certificatePem })
    .where('id', '=', id)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw new StoreError('NOT_FOUND', `No CA ${id}`);
}
