import type { Branch, BranchId } from '@reservkort/domain';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../database.js';

type Db = Kysely<Database> | Transaction<Database>;

// Three parameters a row: well below SQLite's limit of 32766 bound parameters per statement.
const CHUNK = 500;

/** Parents before children, so that each chunk refers only to branches already written. */
const parentsFirst = (branches: readonly Branch[]): Branch[] => {
  const byId = new Map(branches.map((b) => [b.id, b]));
  const ordered: Branch[] = [];
  const placed = new Set<BranchId>();
  const place = (branch: Branch, path: Set<BranchId>): void => {
    if (placed.has(branch.id) || path.has(branch.id)) return;
    path.add(branch.id);
    const parent = branch.parentId === null ? undefined : byId.get(branch.parentId);
    if (parent !== undefined) place(parent, path);
    placed.add(branch.id);
    ordered.push(branch);
  };
  for (const branch of branches) place(branch, new Set());
  return ordered;
};

/**
 * Inserts new branches and renames or moves existing ones. Parents must be given or already stored.
 * Counts the write in branches_generation after the branches, so that a reader who sees the new
 * count also sees them; also after a failed write outside a transaction, whose first chunks stay.
 */
export async function upsertBranches(db: Db, branches: readonly Branch[]): Promise<void> {
  const ordered = parentsFirst(branches);
  try {
    for (let i = 0; i < ordered.length; i += CHUNK) {
      await db
        .insertInto('branches')
        .values(ordered.slice(i, i + CHUNK).map((b) => ({ id: b.id, parent_id: b.parentId, name: b.name })))
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            parent_id: eb.ref('excluded.parent_id'),
            name: eb.ref('excluded.name'),
          })),
        )
        .execute();
    }
  } catch (error) {
    // In a transaction the whole write rolls back (and PostgreSQL refuses further statements).
    if (!db.isTransaction) await countWrite(db).catch(() => undefined);
    throw error;
  }
  await countWrite(db);
}

const countWrite = async (db: Db): Promise<void> => {
  await db
    .updateTable('branches_generation')
    .set((eb) => ({ generation: eb('generation', '+', 1) }))
    .where('id', '=', 1)
    .execute();
};

/** How many times the branches were written: unchanged means the tree read before still holds. */
export async function branchesGeneration(db: Db): Promise<number> {
  const row = await db
    .selectFrom('branches_generation')
    .select('generation')
    .where('id', '=', 1)
    .executeTakeFirst();
  return Number(row?.generation ?? 0);
}

export async function listBranches(db: Db): Promise<Branch[]> {
  const rows = await db.selectFrom('branches').selectAll().orderBy('id').execute();
  return rows.map((r) => ({ id: r.id, parentId: r.parent_id, name: r.name }));
}
