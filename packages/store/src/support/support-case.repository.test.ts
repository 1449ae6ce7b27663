import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertCa } from '../ca/ca.repository.js';
import { insertCertificate } from '../certificate/certificate.repository.js';
import { insertFlow } from '../flow/flow.repository.js';
import { insertStation } from '../station/station.repository.js';
import { aCa, aCertificate, DAY, hsa, MINUTE, seedOrganisation, T0 } from '../test-support/store-fixtures.js';
import { createTestStore, DIALECTS, type TestStore } from '../test-support/test-stores.js';
import {
  addComment,
  getCase,
  insertCase,
  listCases,
  type NewSupportCase,
  updateCase,
} from './support-case.repository.js';

const aCase = (id: string, overrides: Partial<NewSupportCase> = {}): NewSupportCase => ({
  id,
  flowId: null,
  reportedBy: hsa('adm2'),
  protectedIdentity: false,
  codes: ['CARD_ERROR'],
  draft: { flowId: 'flow-1', comment: 'Kortet svarar inte', timeline: [{ at: T0, codes: ['CARD_ERROR'] }] },
  createdAt: T0,
  stationId: null,
  ...overrides,
});

describe.each(DIALECTS)('support case repository on %s', (dialect) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(dialect);
    await insertFlow(store.db, {
      id: 'flow-1',
      orderId: null,
      admin2HsaId: null,
      status: 'aborted',
      step: 5,
      state: {},
      deadline: null,
      pendingEffects: [],
      createdAt: T0,
    });
  });
  afterAll(() => store?.dispose());

  it('round-trips a case, open, unassigned, at version 1, with its comments in time order', async () => {
    const supportCase = aCase('case-1', {
      flowId: 'flow-1',
      protectedIdentity: true,
      codes: ['CARD_ERROR', 'DIALOG_TIMEOUT'],
    });
    await insertCase(store.db, supportCase);
    expect(await getCase(store.db, 'case-1')).toEqual({
      id: 'case-1',
      flowId: 'flow-1',
      status: 'open',
      assignee: null,
      reportedBy: hsa('adm2'),
      protectedIdentity: true,
      codes: ['CARD_ERROR', 'DIALOG_TIMEOUT'],
      draft: supportCase.draft,
      createdAt: T0,
      updatedAt: T0,
      version: 1,
      stationId: null,
      comments: [],
    });
    await addComment(store.db, {
      caseId: 'case-1',
      author: hsa('desk1'),
      at: T0 + 2 * MINUTE,
      text: 'Andra',
    });
    await addComment(store.db, { caseId: 'case-1', author: hsa('adm2'), at: T0 + MINUTE, text: 'Första' });
    await addComment(store.db, {
      caseId: 'case-1',
      author: hsa('desk1'),
      at: T0 + 2 * MINUTE,
      text: 'Tredje',
    });
    const stored = await getCase(store.db, 'case-1');
    expect(stored?.comments).toEqual([
      { author: hsa('adm2'), at: T0 + MINUTE, text: 'Första' },
      { author: hsa('desk1'), at: T0 + 2 * MINUTE, text: 'Andra' },
      { author: hsa('desk1'), at: T0 + 2 * MINUTE, text: 'Tredje' },
    ]);
    expect(typeof stored?.comments[0]?.at).toBe('number');
    // Comments leave the version alone.
    expect(stored?.version).toBe(1);
    expect(await getCase(store.db, 'no-such-case')).toBeNull();
  });

  it('updates status and assignee only at the expected version', async () => {
    await insertCase(store.db, aCase('case-u'));
    const assigned = {
      id: 'case-u',
      expectedVersion: 1,
      status: 'assigned',
      assignee: hsa('desk1'),
      updatedAt: T0 + MINUTE,
    } as const;
    expect(await updateCase(store.db, assigned)).toBe(true);
    expect(await getCase(store.db, 'case-u')).toMatchObject({
      status: 'assigned',
      assignee: hsa('desk1'),
      updatedAt: T0 + MINUTE,
      version: 2,
    });
    // A stale version: someone else took the case since it was read.
    expect(await updateCase(store.db, { ...assigned, assignee: hsa('desk2') })).toBe(false);
    // Status alone keeps the assignee; a null assignee unassigns.
    expect(
      await updateCase(store.db, {
        id: 'case-u',
        expectedVersion: 2,
        status: 'resolved',
        updatedAt: T0 + 2 * MINUTE,
      }),
    ).toBe(true);
    expect(await getCase(store.db, 'case-u')).toMatchObject({
      status: 'resolved',
      assignee: hsa('desk1'),
      version: 3,
    });
    expect(
      await updateCase(store.db, {
        id: 'case-u',
        expectedVersion: 3,
        assignee: null,
        updatedAt: T0 + 3 * MINUTE,
      }),
    ).toBe(true);
    expect(await getCase(store.db, 'case-u')).toMatchObject({
      status: 'resolved',
      assignee: null,
      version: 4,
    });
    expect(await updateCase(store.db, { id: 'no-such-case', expectedVersion: 1, updatedAt: T0 })).toBe(false);
  });

  it('lists cases newest first, by status and by exact code, a page at a time', async () => {
    await insertCase(store.db, aCase('case-a', { createdAt: T0 + 10 * MINUTE, codes: ['CARD_ERROR'] }));
    await insertCase(store.db, aCase('case-b', { createdAt: T0 + 11 * MINUTE, codes: ['DIALOG_TIMEOUT'] }));
    await insertCase(store.db, aCase('case-c', { createdAt: T0 + 12 * MINUTE, codes: [] }));
    // Near misses for a code search: a wildcard look-alike, a prefix and another case.
    await insertCase(
      store.db,
      aCase('case-d', { createdAt: T0 + 13 * MINUTE, codes: ['CARDXERROR', 'CARD'] }),
    );
    await insertCase(store.db, aCase('case-e', { createdAt: T0 + 14 * MINUTE, codes: ['card_error'] }));
    const ids = async (query: Parameters<typeof listCases>[1]) =>
      (await listCases(store.db, query)).map((c) => c.id);

    expect(await ids({ limit: 100 })).toEqual([
      'case-e',
      'case-d',
      'case-c',
      'case-b',
      'case-a',
      'case-u',
      'case-1',
    ]);
    expect(await ids({ limit: 2, offset: 1 })).toEqual(['case-d', 'case-c']);
    expect(await ids({ status: 'open', limit: 100 })).toEqual([
      'case-e',
      'case-d',
      'case-c',
      'case-b',
      'case-a',
      'case-1',
    ]);
    expect(await ids({ status: 'resolved', limit: 100 })).toEqual(['case-u']);
    expect(await ids({ status: 'assigned', limit: 100 })).toEqual([]);
    expect(await ids({ code: 'CARD_ERROR', limit: 100 })).toEqual(['case-a', 'case-u', 'case-1']);
    expect(await ids({ code: 'DIALOG_TIMEOUT', limit: 100 })).toEqual(['case-b', 'case-1']);
    expect(await ids({ code: 'CARD_ERROR', status: 'open', limit: 100 })).toEqual(['case-a', 'case-1']);
    expect(await ids({ code: 'ERROR', limit: 100 })).toEqual([]);
    const [listed] = await listCases(store.db, { code: 'DIALOG_TIMEOUT', limit: 1 });
    expect(listed).toMatchObject({ id: 'case-b', codes: ['DIALOG_TIMEOUT'], protectedIdentity: false });
    expect(listed).not.toHaveProperty('comments');
  });

  it('refuses a duplicate case as a CONFLICT, an unknown flow or case as NOT_FOUND', async () => {
    await expect(insertCase(store.db, aCase('case-1'))).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(insertCase(store.db, aCase('case-x', { flowId: 'no-such-flow' }))).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(
      addComment(store.db, { caseId: 'no-such-case', author: hsa('desk1'), at: T0, text: 'Hallå?' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('keeps a case when its flow is deleted', async () => {
    await insertFlow(store.db, {
      id: 'flow-gone',
      orderId: null,
      admin2HsaId: null,
      status: 'aborted',
      step: 2,
      state: {},
      deadline: null,
      pendingEffects: [],
      createdAt: T0,
    });
    await insertCase(store.db, aCase('case-orphan', { flowId: 'flow-gone' }));
    await store.db.deleteFrom('flows').where('id', '=', 'flow-gone').execute();
    expect(await getCase(store.db, 'case-orphan')).toMatchObject({ flowId: null, draft: aCase('x').draft });
  });
});

describe.each(DIALECTS)('a support case from a card station on %s', (dialect) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(dialect);
  });
  afterAll(() => store?.dispose());

  it('records the card station whose statements the case holds', async () => {
    await insertFlow(store.db, {
      id: 'flow-1',
      orderId: null,
      admin2HsaId: null,
      status: 'aborted',
      step: 5,
      state: {},
      deadline: null,
      pendingEffects: [],
      createdAt: T0,
    });
    await seedOrganisation(store.db);
    await insertCa(store.db, aCa('loa3'));
    await insertCertificate(
      store.db,
      aCertificate('cert-st-case', 'loa3', {
        profile: 'station',
        hsaId: null,
        cardNumber: null,
        orderId: null,
        notAfter: T0 + 30 * DAY,
      }),
    );
    await insertStation(store.db, {
      id: 'st-disk-case1',
      name: 'Disk 1',
      branchId: 'clinic',
      certificateSerial: 'cert-st-case',
      spki: 'spki-case',
      registeredBy: 'ca-operator',
      registeredAt: T0,
    });
    await insertCase(store.db, aCase('case-st', { flowId: 'flow-1', stationId: 'st-disk-case1' }));
    expect(await getCase(store.db, 'case-st')).toMatchObject({ stationId: 'st-disk-case1' });
    expect((await listCases(store.db, { limit: 50 })).find((c) => c.id === 'case-st')).toMatchObject({
      stationId: 'st-disk-case1',
    });
  });
});

describe.each(DIALECTS)('the queue searched and sorted on %s', (dialect) => {
  let store: TestStore;
  const draft = (recipientHsaId: string | null, cardNumber: string | null) => ({
    flowId: 'flow-1',
    recipientHsaId,
    cardNumber,
    comment: '',
    timeline: [],
  });
  beforeAll(async () => {
    store = await createTestStore(dialect);
    await insertCase(store.db, {
      ...aCase('Case_Anna'),
      reportedBy: hsa('adm2'),
      codes: ['WRONG_CARD'],
      draft: draft(hsa('anna'), '9752278900000000100'),
      createdAt: T0 + MINUTE,
    });
    await insertCase(store.db, {
      ...aCase('case-hidden'),
      reportedBy: hsa('adm4'),
      protectedIdentity: true,
      codes: ['OWN_ORDER'],
      draft: draft(hsa('hidden'), '9752278900000000200'),
      createdAt: T0 + 2 * MINUTE,
    });
    await insertCase(store.db, {
      ...aCase('case-none'),
      reportedBy: hsa('adm3'),
      codes: [],
      draft: draft(null, null),
      createdAt: T0 + 3 * MINUTE,
    });
    const assigned = await getCase(store.db, 'case-none');
    await updateCase(store.db, {
      id: 'case-none',
      expectedVersion: assigned?.version ?? 0,
      status: 'assigned',
      assignee: hsa('desk1'),
      updatedAt: T0 + 4 * MINUTE,
    });
  });
  afterAll(() => store?.dispose());
  const ids = async (query: Omit<Parameters<typeof listCases>[1], 'limit'>) =>
    (await listCases(store.db, { limit: 50, ...query })).map((c) => c.id);

  it('finds cases by id, reporter, assignee, code, card number and recipient, in any case', async () => {
    expect(await ids({ text: 'case_anna' })).toEqual(['Case_Anna']);
    expect(await ids({ text: 'ADM4' })).toEqual(['case-hidden']);
    expect(await ids({ text: 'desk1' })).toEqual(['case-none']);
    expect(await ids({ text: 'wrong_card' })).toEqual(['Case_Anna']);
    // The card number as printed on the card, in groups, or a part of it.
    expect(await ids({ text: '9752 2789 0000 0000 100' })).toEqual(['Case_Anna']);
    expect(await ids({ text: '0000200' })).toEqual(['case-hidden']);
    expect(await ids({ text: hsa('anna') })).toEqual(['Case_Anna']);
    expect(await ids({ text: 'nobody-here' })).toEqual([]);
    // '_' is no wildcard.
    expect(await ids({ text: 'wrong_c_rd' })).toEqual([]);
  });

  it('never finds or sorts by a protected recipient for a viewer without KUR', async () => {
    expect(await ids({ text: hsa('hidden') })).toEqual([]);
    expect(await ids({ text: hsa('hidden'), protectedVisible: true })).toEqual(['case-hidden']);
    // Sorted by recipient, the protected one counts as unknown: last, like a case without one.
    expect(await ids({ sort: 'recipient', direction: 'asc' })).toEqual([
      'Case_Anna',
      'case-none',
      'case-hidden',
    ]);
    expect(await ids({ sort: 'recipient', direction: 'asc', protectedVisible: true })).toEqual([
      'Case_Anna',
      'case-hidden',
      'case-none',
    ]);
  });

  it('sorts by date, reporter, card number, codes, state and assignee, empty values last', async () => {
    expect(await ids({})).toEqual(['case-none', 'case-hidden', 'Case_Anna']);
    expect(await ids({ sort: 'createdAt', direction: 'asc' })).toEqual([
      'Case_Anna',
      'case-hidden',
      'case-none',
    ]);
    expect(await ids({ sort: 'reportedBy', direction: 'asc' })).toEqual([
      'Case_Anna',
      'case-none',
      'case-hidden',
    ]);
    expect(await ids({ sort: 'cardNumber', direction: 'desc' })).toEqual([
      'case-hidden',
      'Case_Anna',
      'case-none',
    ]);
    expect(await ids({ sort: 'codes', direction: 'desc' })).toEqual([
      'Case_Anna',
      'case-hidden',
      'case-none',
    ]);
    expect(await ids({ sort: 'status', direction: 'asc' })).toEqual([
      'case-none',
      'case-hidden',
      'Case_Anna',
    ]);
    expect(await ids({ sort: 'assignee', direction: 'asc' })).toEqual([
      'case-none',
      'case-hidden',
      'Case_Anna',
    ]);
    expect(await ids({ sort: 'status', direction: 'asc', status: 'open', text: 'adm' })).toEqual([
      'case-hidden',
      'Case_Anna',
    ]);
  });
});
