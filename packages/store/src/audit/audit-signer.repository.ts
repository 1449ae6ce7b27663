import type { Instant } from '@reservkort/domain';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { CaKeyKind } from '../ca/ca.table.js';
import type { Database } from '../database.js';
import { dialectOf } from '../dialect.js';
import { translateWriteErrors } from '../store-error.js';

type Db = Kysely<Database> | Transaction<Database>;

// "reskasig" in ASCII: the advisory lock under which one server creates the audit signer.
const AUDIT_SIGNER_LOCK_KEY = 0x7265736b61736967n;

export interface AuditSigner {
  readonly id: string;
  readonly certificateSerial: string;
  readonly certificatePem: string;
  readonly keyKind: CaKeyKind;
  readonly keyRef: string;
  readonly createdAt: Instant;
}

export const insertAuditSigner = (db: Db, signer: AuditSigner): Promise<void> =>
  translateWriteErrors(`audit signer ${signer.id}`, async () => {
    await db
      .insertInto('audit_signers')
      .values({
        id: signer.id,
        certificate_serial: signer.certificateSerial,
        certificate_pem: signer.certificatePem,
        key_kind: signer.keyKind,
        key_ref: signer.keyRef,
        created_at: signer.createdAt,
      })
      .execute();
  });

/** The newest audit signer, or null before the first checkpoint. */
export const currentAuditSigner = async (db: Db): Promise<AuditSigner | null> => {
  const row = await db
    .selectFrom('audit_signers')
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (row === undefined) return null;
  return {
    id: row.id,
    certificateSerial: row.certificate_serial,
    certificatePem: row.certificate_pem,
    keyKind: row.key_kind,
    keyRef: row.key_ref,
    createdAt: row.created_at,
  };
};

/**
 * Serialises the creation of an audit signer until the transaction ends, so that servers starting
 * together make one key, not one each: an advisory lock on PostgreSQL; on SQLite the write lock
 * taken at BEGIN already does it.
 */
export const lockAuditSigners = async (trx: Transaction<Database>): Promise<void> => {
  if (dialectOf<Database>(trx) === 'postgres') {
    await sql`select pg_advisory_xact_lock(${sql.lit(AUDIT_SIGNER_LOCK_KEY)})`.execute(trx);
  }
};
