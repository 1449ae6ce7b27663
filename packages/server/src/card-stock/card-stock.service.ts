import { randomBytes } from 'node:crypto';
import {
  type BranchId,
  type CardNumber,
  type DomainError,
  grantsIn,
  type IdAdmin,
  type Instant,
  importStockBatch,
  type OrganisationTree,
  ROLES,
  type StockCard,
  type StockLine,
  transitionStockCard,
} from '@reservkort/domain';
import type { CertificateAuthority } from '@reservkort/pki';
import {
  appendAudit,
  type Database,
  findStockCards,
  getStockCard,
  insertStockCards,
  listReturningStockCards,
  moveStockCard,
  type StoredStockCard,
  StoreError,
  unrevokedCertificatesOfCard,
} from '@reservkort/store';
import type { Kysely } from 'kysely';

/** The columns of a card bureau's batch file, in any order; `physical_expiry` may be left out. */
export const STOCK_CSV_COLUMNS = ['card_number', 'product', 'manufactured', 'physical_expiry'] as const;
const REQUIRED_COLUMNS = ['card_number', 'product', 'manufactured'] as const;

/** A batch refused: every problem, each with its line (the cards counted from 1 after the header). */
export class StockBatchRefused extends Error {
  override readonly name = 'StockBatchRefused';
  constructor(readonly problems: readonly DomainError[]) {
    super(problems.map((p) => p.code).join(','));
  }
}

/**
 * Reads a batch file: a header naming the columns, then one card a line, separated by commas or
 * semicolons (spreadsheets in Swedish write semicolons). Blank lines are skipped.
 */
export const parseStockCsv = (text: string): StockLine[] => {
  const rows = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .filter((row) => row.trim() !== '');
  const [header, ...cards] = rows;
  const split = (row: string) =>
    row.split(/[;,]/).map((cell) =>
      cell
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .trim(),
    );
  const columns = split(header ?? '').map((name) => name.toLowerCase());
  const missing = REQUIRED_COLUMNS.filter((name) => !columns.includes(name));
  if (
    missing.length > 0 ||
    columns.some((name) => !(STOCK_CSV_COLUMNS as readonly string[]).includes(name))
  ) {
    throw new StockBatchRefused([
      { code: 'REQUEST_INVALID', details: { reason: 'csv-header', field: missing.join(',') } },
    ]);
  }
  return cards.map((row) => {
    const cells = split(row);
    const cell = (name: string): string | undefined => {
      const index = columns.indexOf(name);
      return index < 0 ? undefined : cells[index];
    };
    const expiry = cell('physical_expiry');
    return {
      cardNumber: cell('card_number') ?? '',
      product: cell('product') ?? '',
      manufactured: cell('manufactured') ?? '',
      ...(expiry === undefined || expiry === '' ? {} : { physicalExpiry: expiry }),
    };
  });
};

export interface CardStockDeps {
  readonly db: Kysely<Database>;
  readonly ca: CertificateAuthority;
  readonly now: () => Instant;
}

/** Whether an administrator holds any role (KRA, RA, ORA, LRA, inherited) at a card station. */
export const hasRoleAtStation = (tree: OrganisationTree, admin: IdAdmin, stationId: BranchId): boolean => {
  const held = grantsIn(tree, admin, stationId);
  return ROLES.some((role) => held.has(role));
};

/**
 * Registers a batch to a card station, all or nothing, audited. Every problem comes back at once
 * (StockBatchRefused); of two imports of the same cards at once exactly one registers them.
 */
export const importBatch = async (
  deps: Pick<CardStockDeps, 'db' | 'now'>,
  input: {
    readonly stationId: BranchId;
    readonly lines: readonly StockLine[];
    readonly tree: OrganisationTree;
    readonly actor: string;
    readonly source: 'cli' | 'portal';
  },
): Promise<{ batchId: string; cards: readonly StockCard[] }> => {
  const now = deps.now();
  const batchId = `batch-${randomBytes(9).toString('base64url')}`;
  const decide = async (db: Kysely<Database>) => {
    const numbers = input.lines.map((line) => line.cardNumber.replace(/[\s-]/g, '') as CardNumber);
    const known = await findStockCards(db, numbers);
    const decided = importStockBatch({
      lines: input.lines,
      stationId: input.stationId,
      tree: input.tree,
      now,
      inStock: (cardNumber) => known.get(cardNumber) ?? null,
    });
    if (!decided.ok) throw new StockBatchRefused(decided.error);
    return decided.value;
  };
  if (input.lines.length === 0) {
    throw new StockBatchRefused([{ code: 'REQUEST_INVALID', details: { reason: 'empty-batch' } }]);
  }
  try {
    const cards = await deps.db.transaction().execute(async (trx) => {
      const decided = await decide(trx);
      await insertStockCards(trx, decided, { id: batchId, importedBy: input.actor, importedAt: now });
      await appendAudit(trx, {
        at: now,
        actor: input.actor,
        action: 'stock.imported',
        subject: batchId,
        details: { station: input.stationId, cards: decided.length, source: input.source },
      });
      return decided;
    });
    return { batchId, cards };
  } catch (error) {
    // A parallel import registered some of the cards after this one looked: say which.
    if (error instanceof StoreError && error.code === 'CONFLICT') await decide(deps.db);
    throw error;
  }
};

/** Re-reads a card after a lost compare-and-set and says what the change now meets. */
const conflictOf = async (
  db: Kysely<Database>,
  card: StockCard,
  event: 'return' | 'destroy',
): Promise<DomainError> => {
  const now = await getStockCard(db, card.cardNumber);
  if (now?.state === 'destroyed') return { code: 'CARD_DESTROYED', details: { cardNumber: card.cardNumber } };
  return {
    code: 'CARD_STOCK_CONFLICT',
    details: { cardNumber: card.cardNumber, state: now?.state ?? card.state, event },
  };
};

export class StockRefused extends Error {
  override readonly name = 'StockRefused';
  constructor(readonly error: DomainError) {
    super(error.code);
  }
}

/**
 * Records a return: the card moves to `returned` with the revocation reason in one transaction;
 * then its e-ID certificates are revoked, then it is destroyed. A crash in between leaves it
 * `returned` with the reason, and `finishReturns` at start completes it: a card is never destroyed
 * while a certificate of it is still good.
 */
export const startReturn = async (
  deps: CardStockDeps,
  input: {
    readonly card: StoredStockCard;
    readonly returned: StockCard;
    readonly reason: string;
    readonly actor: string;
    readonly cause: string;
  },
): Promise<void> => {
  const at = input.returned.stateChangedAt;
  const moved = await deps.db.transaction().execute(async (trx) => {
    if (
      !(await moveStockCard(trx, {
        card: input.returned,
        expectedVersion: input.card.version,
        returnReason: input.reason,
      }))
    )
      return false;
    await appendAudit(trx, {
      at,
      actor: input.actor,
      action: 'stock.card-returned',
      subject: input.card.cardNumber,
      details: { station: input.card.stationId, cause: input.cause, reason: input.reason },
    });
    return true;
  });
  // A parallel return (or destruction) won: say what the card is now.
  if (!moved) throw new StockRefused(await conflictOf(deps.db, input.card, 'return'));
};

/** Revokes a returned card's certificates not yet revoked, then destroys it. Safe to repeat. */
export const finishReturn = async (
  deps: CardStockDeps,
  cardNumber: CardNumber,
  actor: string,
): Promise<StoredStockCard | null> => {
  const card = await getStockCard(deps.db, cardNumber);
  if (card === null || card.state !== 'returned' || card.returnReason === null) return card;
  for (const serial of await unrevokedCertificatesOfCard(deps.db, cardNumber)) {
    await deps.ca.revoke(serial, card.returnReason, actor).catch((error: { code?: string }) => {
      if (error.code !== 'ALREADY_REVOKED') throw error;
    });
  }
  const destroyed = transitionStockCard(card, { type: 'destroy', at: deps.now() });
  if (!destroyed.ok) return card;
  await deps.db.transaction().execute(async (trx) => {
    // A parallel finisher that won has destroyed it already: nothing more to do.
    if (!(await moveStockCard(trx, { card: destroyed.value, expectedVersion: card.version }))) return;
    await appendAudit(trx, {
      at: destroyed.value.stateChangedAt,
      actor,
      action: 'stock.card-destroyed',
      subject: cardNumber,
      details: { station: card.stationId, after: 'return', reason: card.returnReason },
    });
  });
  return getStockCard(deps.db, cardNumber);
};

/** Completes every return a crash interrupted (run at start, before requests). */
export const finishReturns = async (deps: CardStockDeps, actor: string): Promise<number> => {
  const returning = await listReturningStockCards(deps.db);
  for (const card of returning) await finishReturn(deps, card.cardNumber, actor);
  return returning.length;
};

/** Destroys a sealed card (damaged, or past its physical expiry) that no open order holds. */
export const destroySealed = async (
  deps: CardStockDeps,
  input: { readonly card: StoredStockCard; readonly actor: string; readonly why: string },
): Promise<StockCard> => {
  const { card } = input;
  if (card.state === 'destroyed')
    throw new StockRefused({ code: 'CARD_DESTROYED', details: { cardNumber: card.cardNumber } });
  if (card.state !== 'sealed')
    throw new StockRefused({
      code: 'CARD_STOCK_CONFLICT',
      details: { cardNumber: card.cardNumber, state: card.state, event: 'destroy' },
    });
  const destroyed = transitionStockCard(card, { type: 'destroy', at: deps.now() });
  if (!destroyed.ok) throw new StockRefused(destroyed.error);
  const outcome = await deps.db.transaction().execute(async (trx) => {
    if (!(await moveStockCard(trx, { card: destroyed.value, expectedVersion: card.version })))
      return 'lost' as const;
    // An order registered for the card holds it (its registration bumped the version first, so a
    // destruction that read the card before it cannot have got here): refuse to destroy it then.
    const holding = await trx
      .selectFrom('orders')
      .select('id')
      .where('card_number', '=', card.cardNumber)
      .where('state', 'in', ['registered', 'in_progress'])
      .executeTakeFirst();
    if (holding !== undefined)
      throw new StockRefused({
        code: 'CARD_STOCK_CONFLICT',
        details: { cardNumber: card.cardNumber, state: 'ordered', event: 'destroy' },
      });
    await appendAudit(trx, {
      at: destroyed.value.stateChangedAt,
      actor: input.actor,
      action: 'stock.card-destroyed',
      subject: card.cardNumber,
      details: { station: card.stationId, after: 'sealed', why: input.why },
    });
    return 'destroyed' as const;
  });
  if (outcome === 'lost') throw new StockRefused(await conflictOf(deps.db, card, 'destroy'));
  return destroyed.value;
};
