import type { CardNumber, HsaId, Instant } from '@reservkort/domain';
import type { Kysely, Selectable, Transaction, Updateable } from 'kysely';
import type { Database } from '../database.js';
import { translateWriteErrors } from '../store-error.js';
import type { ExtensionState, ExtensionsTable } from './extension.table.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface NewExtension {
  readonly id: string;
  readonly cardNumber: CardNumber;
  readonly holderHsaId: HsaId;
  readonly orderId: string;
  readonly oldAuthSerial: string;
  readonly oldSignSerial: string;
  readonly nonce: string;
  readonly createdAt: Instant;
  readonly deadline: Instant;
}

export interface StoredExtension extends NewExtension {
  readonly state: ExtensionState;
  readonly version: number;
  readonly termsAcceptedAt: Instant | null;
  readonly authSpki: string | null;
  readonly signSpki: string | null;
  readonly authIntent: string | null;
  readonly signIntent: string | null;
  readonly notBefore: Instant | null;
  readonly notAfter: Instant | null;
  readonly newAuthSerial: string | null;
  readonly newSignSerial: string | null;
  readonly updatedAt: Instant;
  readonly claimedAt: Instant | null;
  readonly issuedAt: Instant | null;
  readonly completedAt: Instant | null;
  readonly abandonedAt: Instant | null;
  readonly abandonReason: string | null;
  readonly oldRevokedAt: Instant | null;
  readonly newRevokedAt: Instant | null;
}

/** What a change may set; the id, card, holder and old pair never change. */
export type ExtensionChange = Partial<
  Pick<
    StoredExtension,
    | 'state'
    | 'nonce'
    | 'termsAcceptedAt'
    | 'authSpki'
    | 'signSpki'
    | 'authIntent'
    | 'signIntent'
    | 'notBefore'
    | 'notAfter'
    | 'newAuthSerial'
    | 'newSignSerial'
    | 'deadline'
    | 'claimedAt'
    | 'issuedAt'
    | 'completedAt'
    | 'abandonedAt'
    | 'abandonReason'
    | 'oldRevokedAt'
    | 'newRevokedAt'
  >
>;

const toExtension = (row: Selectable<ExtensionsTable>): StoredExtension => ({
  id: row.id,
  cardNumber: row.card_number,
  holderHsaId: row.holder_hsa_id,
  orderId: row.order_id,
  oldAuthSerial: row.old_auth_serial,
  oldSignSerial: row.old_sign_serial,
  nonce: row.nonce,
  createdAt: row.created_at,
  deadline: row.deadline,
  state: row.state,
  version: row.version,
  termsAcceptedAt: row.terms_accepted_at,
  authSpki: row.auth_spki,
  signSpki: row.sign_spki,
  authIntent: row.auth_intent,
  signIntent: row.sign_intent,
  notBefore: row.not_before,
  notAfter: row.not_after,
  newAuthSerial: row.new_auth_serial,
  newSignSerial: row.new_sign_serial,
  updatedAt: row.updated_at,
  claimedAt: row.claimed_at,
  issuedAt: row.issued_at,
  completedAt: row.completed_at,
  abandonedAt: row.abandoned_at,
  abandonReason: row.abandon_reason,
  oldRevokedAt: row.old_revoked_at,
  newRevokedAt: row.new_revoked_at,
});

const COLUMNS: { readonly [K in keyof Required<ExtensionChange>]: keyof ExtensionsTable } = {
  state: 'state',
  nonce: 'nonce',
  termsAcceptedAt: 'terms_accepted_at',
  authSpki: 'auth_spki',
  signSpki: 'sign_spki',
  authIntent: 'auth_intent',
  signIntent: 'sign_intent',
  notBefore: 'not_before',
  notAfter: 'not_after',
  newAuthSerial: 'new_auth_serial',
  newSignSerial: 'new_sign_serial',
  deadline: 'deadline',
  claimedAt: 'claimed_at',
  issuedAt: 'issued_at',
  completedAt: 'completed_at',
  abandonedAt: 'abandoned_at',
  abandonReason: 'abandon_reason',
  oldRevokedAt: 'old_revoked_at',
  newRevokedAt: 'new_revoked_at',
};

/**
 * Records a new extension in state `open`. A card that already has one that is not abandoned
 * (running or completed) refuses it with a CONFLICT: that is the "once per card" of förlängning,
 * held by the database even for two requests at the same moment.
 */
export async function insertExtension(db: Db, extension: NewExtension): Promise<StoredExtension> {
  await translateWriteErrors(`Extension of card ${extension.cardNumber}`, () =>
    db
      .insertInto('extensions')
      .values({
        id: extension.id,
        card_number: extension.cardNumber,
        holder_hsa_id: extension.holderHsaId,
        order_id: extension.orderId,
        old_auth_serial: extension.oldAuthSerial,
        old_sign_serial: extension.oldSignSerial,
        state: 'open',
        version: 1,
        nonce: extension.nonce,
        created_at: extension.createdAt,
        updated_at: extension.createdAt,
        deadline: extension.deadline,
      })
      .execute(),
  );
  const stored = await getExtension(db, extension.id);
  if (stored === null) throw new Error(`extension ${extension.id} vanished after its insert`);
  return stored;
}

export async function getExtension(db: Db, id: string): Promise<StoredExtension | null> {
  const row = await db.selectFrom('extensions').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? null : toExtension(row);
}

/** The card's extension that is not abandoned (running or completed), if it has one. */
export async function getLiveExtensionOfCard(
  db: Db,
  cardNumber: CardNumber,
): Promise<StoredExtension | null> {
  const row = await db
    .selectFrom('extensions')
    .selectAll()
    .where('card_number', '=', cardNumber)
    .where('state', '<>', 'abandoned')
    .executeTakeFirst();
  return row === undefined ? null : toExtension(row);
}

/** Every extension of a card, oldest first. */
export async function listExtensionsOfCard(db: Db, cardNumber: CardNumber): Promise<StoredExtension[]> {
  const rows = await db
    .selectFrom('extensions')
    .selectAll()
    .where('card_number', '=', cardNumber)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(toExtension);
}

/** The extension whose new pair includes this serial, if any. */
export async function getExtensionOfNewSerial(db: Db, serial: string): Promise<StoredExtension | null> {
  const row = await db
    .selectFrom('extensions')
    .selectAll()
    .where((eb) => eb.or([eb('new_auth_serial', '=', serial), eb('new_sign_serial', '=', serial)]))
    .executeTakeFirst();
  return row === undefined ? null : toExtension(row);
}

/**
 * Changes an extension read at `expectedVersion` (and, if given, in state `expectedState`); false
 * when it moved meanwhile, so of two parallel changes exactly one is written.
 */
export async function updateExtension(
  db: Db,
  id: string,
  expected: { readonly version: number; readonly state?: ExtensionState },
  change: ExtensionChange,
  at: Instant,
): Promise<boolean> {
  const set: Updateable<ExtensionsTable> = { version: expected.version + 1, updated_at: at };
  for (const [key, column] of Object.entries(COLUMNS) as [keyof ExtensionChange, keyof ExtensionsTable][]) {
    if (key in change) (set as Record<string, unknown>)[column] = change[key] ?? null;
  }
  let update = db
    .updateTable('extensions')
    .set(set)
    .where('id', '=', id)
    .where('version', '=', expected.version);
  if (expected.state !== undefined) update = update.where('state', '=', expected.state);
  const result = await translateWriteErrors(`Extension ${id}`, () => update.executeTakeFirst());
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Extensions with work left for the sweep: running ones past their deadline (or claimed before
 * `claimedUpTo` and never bound), completed ones whose old pair is not yet revoked, abandoned ones
 * whose new pair is not yet revoked. Oldest deadline first, at most `limit`.
 */
export async function listExtensionsToSettle(
  db: Db,
  now: Instant,
  claimedUpTo: Instant,
  limit: number,
): Promise<StoredExtension[]> {
  const rows = await db
    .selectFrom('extensions')
    .selectAll()
    .where('old_revoked_at', 'is', null)
    .where('new_revoked_at', 'is', null)
    .where((eb) =>
      eb.or([
        eb.and([eb('state', 'in', ['open', 'issuing', 'issued']), eb('deadline', '<=', now)]),
        eb.and([eb('state', '=', 'issuing'), eb('claimed_at', '<=', claimedUpTo)]),
        eb('state', '=', 'completed'),
        eb.and([eb('state', '=', 'abandoned'), eb('new_auth_serial', 'is not', null)]),
      ]),
    )
    .orderBy('deadline')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map(toExtension);
}
