// Training mode's demo data, written once on first start: an organisation, administrators with
// virtual cards made the way a card bureau makes them, recipients, orders, and sealed reserve cards.
import type { VirtualBackend } from '@reservkort/agent';
import {
  addDays,
  buildOrganisationTree,
  type CalendarDate,
  type CardNumber,
  DAY,
  dateOf,
  endOfDay,
  type HsaId,
  type IdAdmin,
  type Instant,
  type Order,
  type OrganisationTree,
  type Person,
  type PersonalNumber,
  parseHsaId,
  physicalExpiryOf,
  registerOrder,
  type StockCard,
} from '@reservkort/domain';
import type { CertificateAuthority } from '@reservkort/pki';
import {
  appendAudit,
  cardHolder,
  type Database,
  getAdmin,
  getPersonByHsaId,
  grantStaffRole,
  insertOrder,
  insertStockCards,
  listBranches,
} from '@reservkort/store';
import type { Kysely } from 'kysely';
import {
  type Directory,
  type DirectoryAdmin,
  type DirectoryDb,
  writeDirectory,
} from '../directory/directory-import.js';
import { holderPlace } from '../issuance/directory.js';
import { provisionStaffCard } from '../issuance/staff-card-provisioner.js';
import {
  ADMIN_CARD_PINS,
  AGEING_STOCK_CARD,
  type CardPins,
  type PlannedOrder,
  type PlannedPerson,
  type PlannedStaffCard,
  plannedPersonalNumber,
  RECIPIENTS,
  reserveCardPins,
  SPARE_RESERVE_CARD,
  STAFF,
  STAFF_CARDS,
  staffCardNamed,
  TRAINING_ACTOR,
  TRAINING_BRANCHES,
  TRAINING_ORDERS,
  TRAINING_PRODUCT,
} from './training-plan.js';
import { TRAINING_STATION } from './training-station.js';
import { summariseTraining, type TrainingSummary } from './training-summary.js';

export {
  formatTrainingSummary,
  type TrainingAdminCard,
  type TrainingPerson,
  type TrainingReserveCard,
  type TrainingSummary,
} from './training-summary.js';

export interface TrainingSeedDependencies {
  /** The database of the CA as well: the certificates and the directory must be in the same one. */
  readonly db: Kysely<Database>;
  readonly ca: CertificateAuthority;
  readonly cards: VirtualBackend;
  readonly now: Instant;
  /**
   * Gives a person the service desk's staff role, inside the seed's transaction. Defaults to the
   * store's grantStaffRole; a parameter so that a caller with its own staff model can wire it.
   */
  readonly grantStaffRole?: (db: DirectoryDb, hsaId: HsaId) => Promise<unknown>;
}

const YEAR = 365 * DAY;
/** Registered three weeks ago, so its 14 days have run out: the ORDER_EXPIRED demo. */
const EXPIRED_ORDER_AGE = 21 * DAY;

const grantServiceDesk = (db: DirectoryDb, hsaId: HsaId): Promise<unknown> =>
  grantStaffRole(db, { hsaId, role: 'service-desk' });

const hsaIdOf = (planned: PlannedPerson): HsaId => {
  const parsed = parseHsaId(planned.hsaId);
  if (!parsed.ok) throw new Error(`training HSA-id ${planned.hsaId} is invalid`);
  return parsed.value;
};

const toPerson = (planned: PlannedPerson, personalNumber: PersonalNumber): Person => ({
  hsaId: hsaIdOf(planned),
  personalNumber,
  givenName: planned.givenName,
  surname: planned.surname,
  branchId: planned.branchId,
  protectedIdentity: planned.protectedIdentity ?? false,
});

const idAdminOf = (card: PlannedStaffCard): DirectoryAdmin => ({
  hsaId: hsaIdOf(card.holder),
  givenName: card.holder.givenName,
  surname: card.holder.surname,
  grants: card.grants,
});

/**
 * Runs `work` with the card in a free reader and takes it out again, whatever happens. A reader is
 * plugged in for the purpose (and unplugged after) only if every connected one holds a card.
 */
const withCardInReader = async <T>(
  cards: VirtualBackend,
  cardNumber: CardNumber,
  work: (readerId: string) => Promise<T>,
): Promise<T> => {
  const free = (await cards.readers()).find((r) => r.card === null)?.id;
  const readerId = free ?? (await cards.plugReader());
  const putBack = async (): Promise<void> => {
    await cards.removeCard(readerId);
    if (free === undefined) await cards.unplugReader(readerId);
  };
  await cards.insertCard(readerId, cardNumber);
  let result: T;
  try {
    result = await work(readerId);
  } catch (error) {
    // The first failure is the one worth reporting; a failure to tidy up after it is not.
    await putBack().catch(() => undefined);
    throw error;
  }
  await putBack();
  return result;
};

/**
 * Makes a staff member's card as the card bureau would (see provisionStaffCard). Returns the serial
 * of the authentication certificate, which signs admin 1's orders.
 */
const makeStaffCard = async (
  deps: TrainingSeedDependencies,
  card: PlannedStaffCard,
  tree: OrganisationTree,
): Promise<string> => {
  const { cards, ca, now } = deps;
  const pins = ADMIN_CARD_PINS;
  await cards.createCard({ cardNumber: card.cardNumber, ...pins, label: card.name });
  const holder = {
    hsaId: hsaIdOf(card.holder),
    givenName: card.holder.givenName,
    surname: card.holder.surname,
    ...holderPlace(tree, card.holder.branchId),
  };
  return withCardInReader(cards, card.cardNumber, async (readerId) => {
    const issued = await provisionStaffCard({
      cards,
      ca,
      readerId,
      cardNumber: card.cardNumber,
      pins,
      holder,
      level: card.assuranceLevel,
      validity: { notBefore: now, notAfter: now + YEAR },
      actor: TRAINING_ACTOR,
    });
    return issued.auth.serial;
  });
};

/** A sealed reserve card: its number and PIN letter, no keys, no certificates. */
const makeReserveCard = (cards: VirtualBackend, cardNumber: CardNumber, pins: CardPins): Promise<void> =>
  cards.createCard({ cardNumber, ...pins, label: 'Reservkort' });

/** Admin 1 registers an order through the domain's rules, signed with their card's authentication certificate. */
const buildOrder = async (
  trx: DirectoryDb,
  planned: PlannedOrder,
  context: {
    readonly recipient: Person;
    readonly tree: OrganisationTree;
    readonly authSerials: ReadonlyMap<string, string>;
    readonly now: Instant;
  },
): Promise<Order> => {
  const registrar = staffCardNamed(planned.registeredBy);
  const admin: IdAdmin = idAdminOf(registrar);
  const authSerial = context.authSerials.get(registrar.name);
  if (authSerial === undefined) throw new Error(`no card certificate for ${registrar.name}`);
  // registerOrder refuses a validity in the past, so the expired order is registered as it was
  // three weeks ago and then expires by the domain's own transition.
  const at = planned.expired ? context.now - EXPIRED_ORDER_AGE : context.now;
  const holder = await cardHolder(trx, planned.cardNumber);
  const registered = registerOrder({
    id: planned.id,
    person: context.recipient,
    cardNumber: planned.cardNumber,
    // As admin 1 enters it: valid from now to the end of the last whole day the product allows.
    validity: {
      notBefore: at,
      notAfter: endOfDay(addDays(dateOf(at), TRAINING_PRODUCT.maxValidityDays - 1)),
    },
    idDocument: planned.idDocument,
    admin,
    signature: {
      signedBy: admin.hsaId,
      signedAt: at,
      assuranceLevel: 'LoA3',
      certificateSerial: authSerial,
    },
    product: TRAINING_PRODUCT,
    tree: context.tree,
    now: at,
    cardHolder: () => holder,
  });
  if (!registered.ok) {
    throw new Error(
      `training order ${planned.id} refused: ${registered.error.map((e) => e.code).join(', ')}`,
    );
  }
  if (!planned.expired) return registered.value;
  // Stored as expired at the end of its validity, as the deadline sweep would leave it. (The
  // domain's 'expire' event cannot be used here: at notAfter orderStateAt already reads 'expired'.)
  return { ...registered.value, state: 'expired', stateChangedAt: registered.value.validity.notAfter };
};

const everyPlannedPerson = (): PlannedPerson[] => [...Object.values(STAFF), ...Object.values(RECIPIENTS)];

/** The summary of data seeded before, or an error if the directory holds something else. */
const readBack = async (
  db: Kysely<Database>,
  branchCount: number,
  now: Instant,
): Promise<TrainingSummary> => {
  const stored = new Map<string, PersonalNumber>();
  for (const planned of everyPlannedPerson()) {
    const person = await getPersonByHsaId(db, hsaIdOf(planned));
    if (person?.personalNumber) stored.set(planned.hsaId, person.personalNumber);
  }
  const seeded =
    stored.size === everyPlannedPerson().length && (await getAdmin(db, hsaIdOf(STAFF.ett))) !== null;
  if (!seeded) {
    throw new Error(
      `The directory already holds ${branchCount} branches that are not the training data; ` +
        'training data is only seeded into an empty directory (start with a new data folder).',
    );
  }
  return summariseTraining((hsaId) => {
    const pnr = stored.get(hsaId);
    if (pnr === undefined) throw new Error(`no personal number for ${hsaId}`);
    return pnr;
  }, dateOf(now));
};

/**
 * Seeds the training data into an empty directory and returns what to show the trainee. If the
 * directory already has branches, nothing is written: the summary of the training data is read
 * back when that is what the directory holds, and otherwise this throws.
 *
 * Order of work: the virtual cards come first, because every order carries the serial of admin 1's
 * card certificate, so those certificates must exist before the orders are written. The directory,
 * the roles and the orders then go into the database in one transaction, the last step, so a seed
 * that fails leaves no directory behind. The cards and certificates it made before the failure do
 * stay: with a card state file, the next attempt then stops at once and says to remove that file.
 */
export async function seedTrainingData(deps: TrainingSeedDependencies): Promise<TrainingSummary> {
  const summary = await seedOrReadBack(deps);
  // Also on later starts: a training folder made before cards carried bureau keys gets them now.
  await giveBureauKeys(deps.cards, deps.ca);
  return summary;
}

/**
 * Gives every virtual card that has none the card bureau key and its 'card-bureau' certificate,
 * as `reservkort card init` does for a real card: administrators' cards and reserve cards alike.
 */
export async function giveBureauKeys(cards: VirtualBackend, ca: CertificateAuthority): Promise<number> {
  let given = 0;
  for (const card of await cards.listCards()) {
    if (card.locked || cards.hasBureauKey(card.cardNumber)) continue;
    await cards.installBureauKey(card.cardNumber, async (spki) => {
      const issued = await ca.issueCardBureau({ spki, cardNumber: card.cardNumber, actor: TRAINING_ACTOR });
      return new Uint8Array(issued.certificate.rawData);
    });
    given++;
  }
  return given;
}

/**
 * The training station's stock: the ordered cards and the spare as 573 cards made a year ago, and
 * one 473 card whose physical life ends three days from today.
 */
const trainingStock = (today: CalendarDate, now: Instant): StockCard[] => {
  const made = { ...today, year: today.year - 1 };
  const ageing = addDays({ ...today, year: today.year - 4 }, 4);
  const sealed = (cardNumber: CardNumber, product: '473' | '573', manufactured: CalendarDate): StockCard => ({
    cardNumber,
    product,
    manufactured,
    physicalExpiry: physicalExpiryOf(product, manufactured),
    stationId: TRAINING_STATION.branchId,
    state: 'sealed',
    stateChangedAt: now,
    holder: null,
  });
  return [
    ...TRAINING_ORDERS.map((o) => sealed(o.cardNumber, '573', made)),
    sealed(SPARE_RESERVE_CARD, '573', made),
    sealed(AGEING_STOCK_CARD, '473', ageing),
  ];
};

async function seedOrReadBack(deps: TrainingSeedDependencies): Promise<TrainingSummary> {
  const { db, cards, now } = deps;
  const existingBranches = (await listBranches(db)).length;
  if (existingBranches > 0) return readBack(db, existingBranches, now);

  const plannedCards = [
    ...STAFF_CARDS.map((c) => c.cardNumber),
    ...TRAINING_ORDERS.map((o) => o.cardNumber),
    SPARE_RESERVE_CARD,
  ];
  const known = new Set<string>((await cards.listCards()).map((c) => c.cardNumber));
  const clash = plannedCards.filter((c) => known.has(c));
  if (clash.length > 0) {
    throw new Error(
      `The virtual cards ${clash.join(', ')} already exist but the directory is empty: the card state ` +
        'belongs to another database. Remove the virtual card state file (or the whole data folder) and start again.',
    );
  }

  const today = dateOf(now);
  const tree = buildOrganisationTree(TRAINING_BRANCHES);
  if (!tree.ok) throw new Error(`training organisation is invalid: ${tree.error.code}`);
  const persons = new Map<string, Person>(
    everyPlannedPerson().map((p) => [p.hsaId, toPerson(p, plannedPersonalNumber(p, today))]),
  );
  const personOf = (planned: PlannedPerson): Person => {
    const found = persons.get(planned.hsaId);
    if (found === undefined) throw new Error(`no training person ${planned.hsaId}`);
    return found;
  };
  const directory: Directory = {
    branches: TRAINING_BRANCHES,
    persons: [...persons.values()],
    // Only ID-administrators are admins; the service desk logs in by its staff role.
    admins: STAFF_CARDS.filter((c) => c.grants.length > 0).map(idAdminOf),
  };

  const authSerials = new Map<string, string>();
  for (const card of STAFF_CARDS) authSerials.set(card.name, await makeStaffCard(deps, card, tree.value));
  for (const order of TRAINING_ORDERS)
    await makeReserveCard(cards, order.cardNumber, reserveCardPins(order.cardNumber));
  await makeReserveCard(cards, SPARE_RESERVE_CARD, reserveCardPins(SPARE_RESERVE_CARD));

  const grant = deps.grantStaffRole ?? grantServiceDesk;
  await db.transaction().execute(async (trx) => {
    await writeDirectory(trx, directory, { now, actor: TRAINING_ACTOR });
    for (const card of STAFF_CARDS) {
      // The one place the service desk's staff role is given.
      if (card.serviceDesk) await grant(trx, hsaIdOf(card.holder));
    }
    for (const planned of TRAINING_ORDERS) {
      const order = await buildOrder(trx, planned, {
        recipient: personOf(RECIPIENTS[planned.recipient]),
        tree: tree.value,
        authSerials,
        now,
      });
      await insertOrder(trx, order);
      // The seed wrote it, on the registering admin's behalf; no recipient details in the log.
      await appendAudit(trx, {
        at: now,
        actor: TRAINING_ACTOR,
        action: 'order.registered',
        subject: order.id,
        details: {
          registeredBy: order.createdBy,
          cardNumber: order.cardNumber,
          notAfter: order.validity.notAfter,
          state: order.state,
        },
      });
    }
    // The card station's stock: every reserve card sealed, as the card bureau's batch left them.
    const stock = trainingStock(today, now);
    await insertStockCards(trx, stock, { id: 'training-batch', importedBy: TRAINING_ACTOR, importedAt: now });
    await appendAudit(trx, {
      at: now,
      actor: TRAINING_ACTOR,
      action: 'stock.imported',
      subject: 'training-batch',
      details: { station: TRAINING_STATION.branchId, cards: stock.length, source: 'training' },
    });
    await appendAudit(trx, {
      at: now,
      actor: TRAINING_ACTOR,
      action: 'training.seeded',
      subject: 'training',
      details: {
        branches: TRAINING_BRANCHES.length,
        persons: persons.size,
        orders: TRAINING_ORDERS.length,
        cards: plannedCards.length,
      },
    });
  });

  return summariseTraining((hsaId) => {
    const found = persons.get(hsaId)?.personalNumber;
    if (!found) throw new Error(`no personal number for ${hsaId}`);
    return found;
  }, today);
}
