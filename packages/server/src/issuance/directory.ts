import {
  buildOrganisationTree,
  type HsaId,
  type IdAdmin,
  lineageOf,
  type OrganisationTree,
} from '@reservkort/domain';
import {
  branchesGeneration,
  type Database,
  findPersonWithOrders,
  findPersonWithOrdersPending,
  getAdmin,
  listBranches,
  type StoredAdmin,
} from '@reservkort/store';
import type { Kysely } from 'kysely';
import { ApiError } from '../http/api-error.js';

/**
 * The organisation tree, read once and kept: it changes only on a directory import, which may run in
 * another process. Every ttlMs the store's count of branch writes is asked (one row); the tree is
 * read and built again only when that count moved, so most checks cost one indexed query instead of
 * reading and validating every branch.
 */
export class DirectoryCache {
  private tree: { value: OrganisationTree; generation: number; checkedAt: number } | null = null;
  /** One read at a time (a first build, a check or a rebuild): requests arriving together share it. */
  private loading: Promise<OrganisationTree> | null = null;
  private builds = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly ttlMs = 5_000,
  ) {}

  /** The tree; once built, it is served while a check (and a rebuild if needed) runs behind it. */
  async organisation(now: number): Promise<OrganisationTree> {
    const current = this.tree;
    if (current && now - current.checkedAt < this.ttlMs) return current.value;
    const loading = this.loading ?? this.load(now);
    if (current) return current.value;
    return loading;
  }

  /** How many times the tree was read and built in this process (a check that found it unchanged is no build). */
  get buildCount(): number {
    return this.builds;
  }

  private load(now: number): Promise<OrganisationTree> {
    this.loading = (async () => {
      try {
        // The count first: branches written after it are read now and again at the next check.
        const generation = await branchesGeneration(this.db);
        const current = this.tree;
        if (current !== null && current.generation === generation) {
          this.tree = { ...current, checkedAt: now };
          return current.value;
        }
        this.builds++;
        const built = buildOrganisationTree(await listBranches(this.db));
        if (!built.ok) throw new ApiError(built.error.code, built.error.details ?? {});
        this.tree = { value: built.value, generation, checkedAt: now };
        return built.value;
      } finally {
        this.loading = null;
      }
    })();
    // A background check that fails leaves the old tree in place; the next request tries again.
    this.loading.catch(() => undefined);
    return this.loading;
  }

  /** A branch's name, from the cached tree. */
  async branchName(branchId: string, now: number): Promise<string> {
    return (await this.organisation(now)).branches.get(branchId)?.name ?? '';
  }

  /** Where a person works, as their certificates name it: the care provider (O) and the unit (OU). */
  async placeOf(branchId: string, now: number): Promise<HolderPlace> {
    return holderPlace(await this.organisation(now), branchId);
  }

  invalidate(): void {
    this.tree = null;
  }
}

/** The O and OU of a card holder's certificates. */
export interface HolderPlace {
  /** The care provider (vårdgivare): the top of the branch's line in the tree. */
  readonly organisation: string;
  /** The branch itself (the person's unit or clinic). */
  readonly unit: string;
}

/** One rule for reserve and administrators' cards: O the top of the person's branch, OU the branch. */
export const holderPlace = (tree: OrganisationTree, branchId: string): HolderPlace => {
  const lineage = lineageOf(tree, branchId);
  const top = lineage.ok ? lineage.value[lineage.value.length - 1] : undefined;
  const unit = tree.branches.get(branchId)?.name ?? branchId;
  return { organisation: (top === undefined ? undefined : tree.branches.get(top)?.name) ?? unit, unit };
};

/** The administrator as read, as the rules see them; ACCESS_DENIED for someone who is none. */
export const asIdAdmin = (admin: StoredAdmin | null): IdAdmin => {
  if (admin === null) throw new ApiError('ACCESS_DENIED', { reason: 'not an administrator' });
  return { hsaId: admin.hsaId, grants: admin.grants };
};

export const adminOf = async (db: Kysely<Database>, hsaId: string): Promise<IdAdmin> =>
  asIdAdmin(await getAdmin(db, hsaId as IdAdmin['hsaId']));

const searchKey = (kind: 'personal-number' | 'hsa-id', value: string) =>
  kind === 'personal-number' ? { personalNumber: value } : { hsaId: value as HsaId };

/**
 * The person a step-2 query names, their orders, and their branch's name for the review: one
 * statement by key, never a reading of the whole organisation.
 */
export const lookUp = async (db: Kysely<Database>, kind: 'personal-number' | 'hsa-id', value: string) =>
  findPersonWithOrders(db, searchKey(kind, value));

/** lookUp, to be sent with other statements (see runPending). */
export const lookUpPending = (db: Kysely<Database>, kind: 'personal-number' | 'hsa-id', value: string) =>
  findPersonWithOrdersPending(db, searchKey(kind, value));
