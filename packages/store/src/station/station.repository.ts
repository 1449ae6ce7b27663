import type { BranchId, Instant } from '@reservkort/domain';
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { Database } from '../database.js';
import { dialectOf } from '../dialect.js';
import { type Pending, pendingRows, runPending } from '../pending.js';
import { preparedQuery } from '../prepared-query.js';
import { translateWriteErrors } from '../store-error.js';
import type { StationStatus, StationsTable } from './station.table.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface NewStation {
  readonly id: string;
  readonly name: string;
  readonly branchId: BranchId;
  readonly certificateSerial: string;
  readonly spki: string;
  readonly registeredBy: string;
  readonly registeredAt: Instant;
}

/** A station with what its current certificate's row says: expiry and revocation. */
export interface StoredStation extends NewStation {
  readonly status: StationStatus;
  readonly lastSeq: number;
  readonly certificateNotAfter: Instant;
  readonly certificateRevokedAt: Instant | null;
}

const withCertificate = (db: Db) =>
  db
    .selectFrom('stations as s')
    .innerJoin('certificates as c', 'c.serial', 's.certificate_serial')
    .leftJoin('revocations as r', 'r.serial', 's.certificate_serial')
    .selectAll('s')
    .select(['c.not_after as certificate_not_after', 'r.revoked_at as certificate_revoked_at']);

type Row = Selectable<StationsTable> & {
  certificate_not_after: Instant;
  certificate_revoked_at: Instant | null;
};

const toStation = (row: Row): StoredStation => ({
  id: row.id,
  name: row.name,
  branchId: row.branch_id,
  certificateSerial: row.certificate_serial,
  spki: row.spki,
  registeredBy: row.registered_by,
  registeredAt: row.registered_at,
  status: row.status,
  lastSeq: Number(row.last_seq),
  certificateNotAfter: row.certificate_not_after,
  certificateRevokedAt: row.certificate_revoked_at,
});

/** Stores a new, active station at sequence 0. A second active station with the key is a CONFLICT. */
export const insertStation = (db: Db, station: NewStation): Promise<void> =>
  translateWriteErrors(`Station ${station.id}`, async () => {
    await db
      .insertInto('stations')
      .values({
        id: station.id,
        name: station.name,
        branch_id: station.branchId,
        certificate_serial: station.certificateSerial,
        spki: station.spki,
        status: 'active',
        registered_by: station.registeredBy,
        registered_at: station.registeredAt,
      })
      .execute();
  });

const stationById = preparedQuery((db: Kysely<Database>, id: string) =>
  withCertificate(db).where('s.id', '=', id),
);

const stationOf = (rows: readonly Row[]): StoredStation | null => {
  const row = rows[0];
  return row === undefined ? null : toStation(row);
};

export const getStation = async (db: Db, id: string): Promise<StoredStation | null> =>
  stationOf((await stationById(db, id)).rows);

/** getStation, to be sent with other statements (see runPending). */
export const getStationPending = (db: Db, id: string): Pending<StoredStation | null> =>
  pendingRows(stationById.compile(db, id), stationOf);

/** The active station holding a key, if any: registering that key again renews it. */
export const activeStationWithKey = async (db: Db, spki: string): Promise<StoredStation | null> => {
  const row = await withCertificate(db)
    .where('s.spki', '=', spki)
    .where('s.status', '=', 'active')
    .executeTakeFirst();
  return row === undefined ? null : toStation(row);
};

/** Every station, or those of some branches, by branch and name. */
export const listStations = async (
  db: Db,
  query: { readonly branchIds?: readonly BranchId[] } = {},
): Promise<StoredStation[]> => {
  if (query.branchIds?.length === 0) return [];
  let select = withCertificate(db);
  if (query.branchIds !== undefined) select = select.where('s.branch_id', 'in', [...query.branchIds]);
  const rows = await select.orderBy('s.branch_id').orderBy('s.name').orderBy('s.id').execute();
  return rows.map(toStation);
};

/**
 * Points an active station at its new certificate (renewal), only if it still holds the certificate
 * the renewal read: of two renewals at once one wins, and the other's certificate is never
 * recorded. False if the station is not active, or was renewed meanwhile.
 */
export const renewStation = async (
  db: Db,
  change: {
    readonly id: string;
    readonly certificateSerial: string;
    readonly name: string;
    /** The certificate the station held when the renewal read it. */
    readonly previousSerial: string;
  },
): Promise<boolean> => {
  const result = await translateWriteErrors(`Station ${change.id}`, () =>
    db
      .updateTable('stations')
      .set({ certificate_serial: change.certificateSerial, name: change.name })
      .where('id', '=', change.id)
      .where('status', '=', 'active')
      .where('certificate_serial', '=', change.previousSerial)
      .executeTakeFirst(),
  );
  return Number(result.numUpdatedRows) === 1;
};

/**
 * Station certificates neither revoked nor held by any station: what a renewal leaves when the
 * process dies between its commit and the revocation of the certificate it replaced. (A station's
 * row commits with its certificate, so a registration in progress never shows here.)
 */
export const listUnheldStationCertificates = async (db: Db): Promise<string[]> => {
  const rows = await db
    .selectFrom('certificates as c')
    .leftJoin('revocations as r', 'r.serial', 'c.serial')
    .leftJoin('stations as s', 's.certificate_serial', 'c.serial')
    .select('c.serial')
    .where('c.profile', '=', 'station')
    .where('r.serial', 'is', null)
    .where('s.id', 'is', null)
    .orderBy('c.serial')
    .execute();
  return rows.map((r) => r.serial);
};

/** Marks a station revoked; false if it already was (or does not exist). */
export const markStationRevoked = async (db: Db, id: string): Promise<boolean> => {
  const result = await db
    .updateTable('stations')
    .set({ status: 'revoked' })
    .where('id', '=', id)
    .where('status', '=', 'active')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
};

/**
 * Accepts sequence number `seq` from a station: raises last_seq only if `seq` is higher, in one
 * statement, so two requests carrying the same statement cannot both pass. False: replayed or old.
 * Call it in the transaction that uses the statement, so that a rolled-back use un-raises it.
 */
const raiseSeq = preparedQuery((db: Kysely<Database>, id: string, seq: number) =>
  db.updateTable('stations').set({ last_seq: seq }).where('id', '=', id).where('last_seq', '<', seq),
);

export const raiseStationSeq = async (db: Db, id: string, seq: number): Promise<boolean> => {
  const result = await raiseSeq(db, id, seq);
  return Number(result.numAffectedRows) === 1;
};

/**
 * A station read for a statement with sequence number `seq`, and the acceptance of that number as
 * `raiseStationSeq` does it: `raised` false means replayed or old. The station is as it was before
 * the raise. Call it in the transaction that uses the statement, and let a refused statement roll it
 * back: the number is raised before the caller's checks. On PostgreSQL one round trip (the update
 * in a CTE; the select reads the row as the statement began); on SQLite the two statements.
 */
export const getStationRaisingSeq = (
  db: Transaction<Database>,
  id: string,
  seq: number,
): Promise<{ readonly station: StoredStation; readonly raised: boolean } | null> =>
  runPending(db, getStationRaisingSeqPending(db, id, seq));

/**
 * getStationRaisingSeq, to be sent with other statements of its transaction (see runPending). On
 * SQLite the raise goes out whether or not the station exists: for none it changes nothing.
 */
export const getStationRaisingSeqPending = (
  db: Transaction<Database>,
  id: string,
  seq: number,
): Pending<{ readonly station: StoredStation; readonly raised: boolean } | null> => {
  if (dialectOf<Database>(db) !== 'postgres') {
    return {
      queries: [stationById.compile(db, id), raiseSeq.compile(db, id, seq)],
      answer: ([read, raise]) => {
        const station = stationOf((read?.rows ?? []) as Row[]);
        return station === null ? null : { station, raised: Number(raise?.numAffectedRows ?? 0) === 1 };
      },
    };
  }
  return pendingRows(
    sql<Row & { raised: boolean }>`
    with raised as (
      update stations set last_seq = ${seq} where id = ${id} and last_seq < ${seq} returning id
    )
    select s.*, c.not_after as certificate_not_after, r.revoked_at as certificate_revoked_at,
      exists (select 1 from raised) as raised
    from stations as s
    inner join certificates as c on c.serial = s.certificate_serial
    left join revocations as r on r.serial = s.certificate_serial
    where s.id = ${id}`.compile(db),
    (rows) => {
      const row = rows[0];
      return row === undefined ? null : { station: toStation(row), raised: row.raised };
    },
  );
};

/** Binds a flow to the station it runs on. */
export const bindFlowToStation = async (db: Db, flowId: string, stationId: string): Promise<boolean> => {
  const result = await translateWriteErrors(`Flow ${flowId}`, () =>
    db.updateTable('flows').set({ station_id: stationId }).where('id', '=', flowId).executeTakeFirst(),
  );
  return Number(result.numUpdatedRows) === 1;
};

/** The station a flow is bound to; null when none (or no such flow). */
export const stationOfFlow = async (db: Db, flowId: string): Promise<string | null> => {
  const row = await db.selectFrom('flows').select('station_id').where('id', '=', flowId).executeTakeFirst();
  return row?.station_id ?? null;
};
