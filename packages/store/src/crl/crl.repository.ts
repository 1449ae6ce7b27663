import type { Instant } from '@reservkort/domain';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../database.js';
import { translateWriteErrors } from '../store-error.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface PublishedCrl {
  readonly caId: string;
  readonly crlNumber: number;
  readonly thisUpdate: Instant;
  readonly nextUpdate: Instant;
  readonly der: Uint8Array;
}

/** Stores a newly published CRL, replacing the CA's previous one. */
export const saveCrl = (db: Db, crl: PublishedCrl): Promise<void> =>
  translateWriteErrors(`CRL of ${crl.caId}`, async () => {
    const row = {
      ca_id: crl.caId,
      crl_number: crl.crlNumber,
      this_update: crl.thisUpdate,
      next_update: crl.nextUpdate,
      der_base64: Buffer.from(crl.der).toString('base64'),
    };
    await db
      .insertInto('crls')
      .values(row)
      .onConflict((oc) =>
        oc.column('ca_id').doUpdateSet({
          crl_number: row.crl_number,
          this_update: row.this_update,
          next_update: row.next_update,
          der_base64: row.der_base64,
        }),
      )
      .execute();
  });

export const getCrl = async (db: Db, caId: string): Promise<PublishedCrl | null> => {
  const row = await db.selectFrom('crls').selectAll().where('ca_id', '=', caId).executeTakeFirst();
  if (row === undefined) return null;
  return {
    caId: row.ca_id,
    crlNumber: row.crl_number,
    thisUpdate: row.this_update,
    nextUpdate: row.next_update,
    der: new Uint8Array(Buffer.from(row.der_base64, 'base64')),
  };
};
