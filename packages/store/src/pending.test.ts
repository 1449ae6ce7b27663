import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getAdmin, getAdminPending, grantRole, insertAdmin } from './admin/admin.repository.js';
import { grantStaffRole, hasStaffRole, hasStaffRolePending } from './admin/staff.repository.js';
import { insertCa } from './ca/ca.repository.js';
import {
  certificateStatus,
  certificateStatusPending,
  getCertificate,
  getCertificatePending,
  insertCertificate,
} from './certificate/certificate.repository.js';
import { getOrder, getOrderPending, insertOrder } from './order/order.repository.js';
import { type Pending, pendingAll, pendingRows, pendingValue, runPending } from './pending.js';
import {
  findPersonWithOrders,
  findPersonWithOrdersPending,
  getPersonByHsaId,
  getPersonByHsaIdPending,
  insertPerson,
} from './person/person.repository.js';
import {
  consumeChallenge,
  consumeChallengePending,
  insertChallenge,
} from './session/login-challenge.repository.js';
import {
  aCa,
  aCertificate,
  anOrder,
  aPerson,
  hsa,
  MINUTE,
  seedOrganisation,
  T0,
} from './test-support/store-fixtures.js';
import { countingWrites, createTestStore, DIALECTS, type TestStore } from './test-support/test-stores.js';

const anna = aPerson('anna1');
const admin = hsa('adm2');
const desk = hsa('desk1');

/** A person with an order, a certificate and an administrator. */
const seed = async (store: TestStore): Promise<void> => {
  await seedOrganisation(store.db);
  await insertPerson(store.db, anna);
  await insertOrder(store.db, anOrder('order-1', anna));
  await insertCa(store.db, aCa('root', { role: 'root' }));
  await insertCa(store.db, aCa('loa3', { issuerId: 'root' }));
  await insertCertificate(store.db, aCertificate('0a', 'loa3'));
  await insertAdmin(store.db, { hsaId: admin, givenName: 'Adam', surname: 'Admin', createdAt: T0 });
};

describe.each(DIALECTS)('statements sent together (runPending) on %s', (dialect) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(dialect);
    await seed(store);
    await grantRole(store.db, { adminHsaId: admin, role: 'RA', branchId: 'clinic' });
    await grantStaffRole(store.db, { hsaId: desk, role: 'service-desk' });
  });
  afterAll(() => store?.dispose());

  const challenge = async (id: string) =>
    insertChallenge(store.db, { id, challenge: `text of ${id}`, createdAt: T0, expiresAt: T0 + MINUTE });

  it('answers each value as its own function does, in the order given', async () => {
    await challenge('c1');
    const db = store.db;
    const together = await runPending(
      db,
      pendingAll(
        consumeChallengePending(db, 'c1', T0 + 1),
        certificateStatusPending(db, '0a'),
        certificateStatusPending(db, 'ff'),
        getCertificatePending(db, '0a'),
        getAdminPending(db, admin),
        getAdminPending(db, desk),
        hasStaffRolePending(db, desk, 'service-desk'),
        hasStaffRolePending(db, admin, 'service-desk'),
        getOrderPending(db, 'order-1'),
        getPersonByHsaIdPending(db, anna.hsaId),
        getPersonByHsaIdPending(db, hsa('nobody')),
        findPersonWithOrdersPending(db, { hsaId: anna.hsaId }),
        findPersonWithOrdersPending(db, { personalNumber: anna.personalNumber?.value ?? '' }),
      ),
    );
    expect(together).toEqual([
      'text of c1',
      await certificateStatus(db, '0a'),
      null,
      await getCertificate(db, '0a'),
      await getAdmin(db, admin),
      null,
      true,
      false,
      await getOrder(db, 'order-1'),
      await getPersonByHsaId(db, anna.hsaId),
      null,
      await findPersonWithOrders(db, { hsaId: anna.hsaId }),
      await findPersonWithOrders(db, { personalNumber: anna.personalNumber?.value ?? '' }),
    ]);
    expect(together[12]?.orders.map((o) => o.id)).toEqual(['order-1']);
    expect(together[4]?.grants).toEqual([{ role: 'RA', branchId: 'clinic' }]);
    expect(await hasStaffRole(db, desk, 'service-desk')).toBe(true);
    // Used up by the statement sent with the others: once only, sent either way.
    expect(await consumeChallenge(db, 'c1', T0 + 2)).toBeNull();
    expect(await runPending(db, consumeChallengePending(db, 'c1', T0 + 2))).toBeNull();
  });

  it('sends nothing for a value known already, and nests', async () => {
    const db = store.db;
    expect(await runPending(db, pendingValue(7))).toBe(7);
    expect(await runPending(db, pendingAll())).toEqual([]);
    const nested = pendingAll(
      pendingValue('a'),
      pendingAll(getCertificatePending(db, 'ff'), pendingValue(1)),
    );
    expect(await runPending(db, nested)).toEqual(['a', [null, 1]]);
  });

  it('rejects with the failing statement, and a write sent beside it outside a transaction stands', async () => {
    await challenge('c2');
    const db = store.db;
    const broken: Pending<unknown> = pendingRows(
      sql`select * from no_such_table`.compile(db),
      (rows) => rows,
    );
    await expect(
      runPending(db, pendingAll(consumeChallengePending(db, 'c2', T0 + 1), broken)),
    ).rejects.toThrow(/no_such_table/);
    expect(await consumeChallenge(db, 'c2', T0 + 2)).toBeNull();
  });

  it('lets exactly one of several parallel sends use a challenge', async () => {
    await challenge('c3');
    const db = store.db;
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        runPending(
          db,
          pendingAll(consumeChallengePending(db, 'c3', T0 + 1), certificateStatusPending(db, '0a')),
        ),
      ),
    );
    expect(answers.filter(([text]) => text === 'text of c3')).toHaveLength(1);
    expect(answers.filter(([text]) => text === null)).toHaveLength(5);
  });
});

describe('statements sent together on PostgreSQL', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore('postgres');
    await seed(store);
    await insertChallenge(store.db, {
      id: 'c4',
      challenge: 'text of c4',
      createdAt: T0,
      expiresAt: T0 + MINUTE,
    });
  });
  afterAll(() => store?.dispose());

  it('sends them all in one round trip', async () => {
    await countingWrites(store.url, async (db, writes) => {
      const read = () =>
        pendingAll(
          certificateStatusPending(db, '0a'),
          getAdminPending(db, admin),
          hasStaffRolePending(db, admin, 'service-desk'),
          getOrderPending(db, 'order-1'),
        );
      // The first time each statement is prepared on the connection (its own round trip).
      await runPending(db, read());
      const before = writes();
      await runPending(db, pendingAll(consumeChallengePending(db, 'c4', T0 + 1), read()));
      expect(writes() - before).toBe(1);
      const alone = writes();
      await getAdmin(db, admin);
      await getOrder(db, 'order-1');
      expect(writes() - alone).toBe(2);
    });
  });
});
