import {
  buildOrganisationTree,
  type IdAdmin,
  lineageOf,
  type OrganisationTree,
  type Person,
} from '@reservkort/domain';
import {
  type Database,
  getAdmin,
  getPersonByHsaId,
  getPersonByPersonalNumber,
  listBranches,
  listOrdersForRecipient,
} from '@reservkort/store';
import type { Kysely } from 'kysely';
import { ApiError } from '../http/api-error.js';

/** The organisation tree, read once and kept briefly: it changes only on a directory import. */
export class DirectoryCache {
  private tree: { value: OrganisationTree; at: number } | null = null;
  /** One rebuild at a time: requests arriving together share it. */
  private loading: Promise<OrganisationTree> | null = null;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly ttlMs = 5_000,
  ) {}

  /** The tree; once built, an expired one is still served while a fresh one is read behind it. */
  async organisation(now: number): Promise<OrganisationTree> {
    const current = this.tree;
    if (current && now - current.at < this.ttlMs) return current.value;
    const loading = this.loading ?? this.load(now);
    if (current) return current.value;
    return loading;
  }

  private load(now: number): Promise<OrganisationTree> {
    this.loading = (async () => {
      try {
        const built = buildOrganisationTree(await listBranches(this.db));
        if (!built.ok) throw new ApiError(built.error.code, built.error.details ?? {});
        this.tree = { value: built.value, at: now };
        return built.value;
      } finally {
        this.loading = null;
      }
    })();
    // A background refresh that fails leaves the old tree in place; the next request tries again.
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

export const adminOf = async (db: Kysely<Database>, hsaId: string): Promise<IdAdmin> => {
  const admin = await getAdmin(db, hsaId as IdAdmin['hsaId']);
  if (admin === null) throw new ApiError('ACCESS_DENIED', { reason: 'not an administrator' });
  return { hsaId: admin.hsaId, grants: admin.grants };
};

/** The person a step-2 query names, and their orders. */
export const lookUp = async (db: Kysely<Database>, kind: 'personal-number' | 'hsa-id', value: string) => {
  const person: Person | null =
    kind === 'personal-number'
      ? await getPersonByPersonalNumber(db, value)
      : await getPersonByHsaId(db, value as Person['hsaId']);
  if (person === null) return null;
  return { person, orders: await listOrdersForRecipient(db, person.hsaId) };
};
