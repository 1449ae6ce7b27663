import { verify, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualBackend } from '@reservkort/agent';
import {
  type AccessContext,
  type AssuranceLevel,
  buildOrganisationTree,
  type CardNumber,
  classifySearchQuery,
  dateOf,
  diagnoseSearch,
  formatCardNumber,
  type HsaId,
  type OrganisationTree,
} from '@reservkort/domain';
import { DEFAULT_POLICY_OIDS, summariseCertificate, verifyBureauCertificate } from '@reservkort/pki';
import {
  type Database,
  getAdmin,
  getOrder,
  getPersonByHsaId,
  hasStaffRole,
  listBranches,
  listOrdersForRecipient,
  upsertBranches,
  verifyAudit,
} from '@reservkort/store';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, type TestCa } from '../../../pki/src/test-support/test-ca.js';
import { createTestStore } from '../../../store/src/test-support/test-stores.js';
import {
  ADMIN_CARD_PINS,
  RECIPIENTS,
  type RecipientKey,
  STAFF_CARDS,
  TRAINING_ORDERS,
} from './training-plan.js';
import {
  formatTrainingSummary,
  giveBureauKeys,
  seedTrainingData,
  type TrainingSummary,
} from './training-seed.js';

const READER = 'reader-1';

const countRows = async (
  db: Kysely<Database>,
  table: 'persons' | 'admins' | 'orders' | 'audit_log' | 'branches',
) => {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
};

describe('training seed', () => {
  let t: TestCa;
  let cards: VirtualBackend;
  let summary: TrainingSummary;
  const now = Date.now();

  /** Runs `work` with a card in reader 1, as a trainee would put it there. */
  const withCard = async <T>(cardNumber: CardNumber, work: () => Promise<T>): Promise<T> => {
    await cards.insertCard(READER, cardNumber);
    try {
      return await work();
    } finally {
      await cards.removeCard(READER);
    }
  };

  beforeAll(async () => {
    t = await createTestCa('sqlite');
    cards = await VirtualBackend.open({ stateFile: null, readers: 2 });
    summary = await seedTrainingData({ db: t.store.db, ca: t.ca, cards, now });
  });
  afterAll(async () => {
    await cards?.close();
    await t?.dispose();
  });

  it('creates the organisation, the administrators with their roles, and the service desk', async () => {
    expect(await listBranches(t.store.db)).toHaveLength(9);
    const ett = await getAdmin(t.store.db, 'SE2321000016-ad01' as HsaId);
    expect(ett?.grants).toEqual([
      { role: 'KRA', branchId: 'SE2321000016-1100' },
      { role: 'KUR', branchId: 'SE2321000016-1100' },
    ]);
    const fyra = await getAdmin(t.store.db, 'SE2321000016-ad04' as HsaId);
    expect(fyra?.grants.map((g) => g.role)).toEqual(['RA']);
    expect(summary.admins.map((a) => a.name)).toEqual([
      'Admin Ett',
      'Admin Två',
      'Admin Tre',
      'Admin Fyra',
      'Lena LoA2',
      'Sara Servicedesk',
    ]);
    const sara = summary.admins.find((a) => a.name === 'Sara Servicedesk');
    expect(sara?.roles).toEqual(['service-desk']);
    expect(await hasStaffRole(t.store.db, sara?.hsaId as HsaId, 'service-desk')).toBe(true);
    // Every card holder is a person of the directory too, with a personnummer, and is called by
    // the directory's name (given name, family name) on the card and everywhere else.
    for (const admin of summary.admins) {
      const person = await getPersonByHsaId(t.store.db, admin.hsaId as HsaId);
      expect(person?.personalNumber?.kind).toBe('personnummer');
      expect(admin.name).toBe(`${person?.givenName} ${person?.surname}`);
    }
    for (const card of STAFF_CARDS) expect(card.name).toBe(`${card.holder.givenName} ${card.holder.surname}`);
  });

  it('creates the recipients with valid personal numbers, one of them a samordningsnummer', async () => {
    expect(summary.persons).toHaveLength(Object.keys(RECIPIENTS).length);
    for (const p of summary.persons) {
      expect(p.personalNumber).toMatch(/^\d{8}-\d{4}$/);
      const stored = await getPersonByHsaId(t.store.db, p.hsaId as HsaId);
      expect(stored?.personalNumber?.value).toBe(p.personalNumber.replace('-', ''));
    }
    const samir = await getPersonByHsaId(t.store.db, RECIPIENTS.samir.hsaId as HsaId);
    expect(samir?.personalNumber?.kind).toBe('samordningsnummer');
    const stina = await getPersonByHsaId(t.store.db, RECIPIENTS.stina.hsaId as HsaId);
    expect(stina?.protectedIdentity).toBe(true);
  });

  it('registers the orders signed with the registering admin’s authentication certificate', async () => {
    const annaOrder = await getOrder(t.store.db, 'training-order-1');
    expect(annaOrder).toMatchObject({
      state: 'registered',
      createdBy: 'SE2321000016-ad01',
      cardNumber: '9752278900000000201',
      recipient: { hsaId: RECIPIENTS.anna.hsaId },
    });
    const ettCard = STAFF_CARDS[0]?.cardNumber as CardNumber;
    const auth = await withCard(
      ettCard,
      async () => (await cards.cardInfo(READER)).certificates.find((c) => c.key === 'auth')?.der,
    );
    expect(annaOrder?.signature.certificateSerial).toBe(summariseCertificate(auth as Uint8Array).serial);
    const expired = await getOrder(t.store.db, 'training-order-4');
    expect(expired?.state).toBe('expired');
    expect(expired?.validity.notAfter).toBeLessThan(now);
    expect(await countRows(t.store.db, 'orders')).toBe(TRAINING_ORDERS.length);
    const log = await t.store.db.selectFrom('audit_log').select('action').execute();
    expect(log.filter((e) => e.action === 'order.registered')).toHaveLength(TRAINING_ORDERS.length);
    expect(await verifyAudit(t.store.db)).toEqual({ ok: true, entries: expect.any(Number) });
  });

  it('gives every staff card two certificates for its holder at its assurance level', async () => {
    for (const admin of summary.admins) {
      const info = await withCard(admin.cardNumber, () => cards.cardInfo(READER));
      expect(info.keys).toEqual({ auth: true, sign: true });
      expect(info.certificates.map((c) => c.key).sort()).toEqual(['auth', 'sign']);
      for (const { key, der } of info.certificates) {
        const cert = summariseCertificate(der);
        expect(cert.hsaId).toBe(admin.hsaId);
        expect(cert.cardNumber).toBe(admin.cardNumber);
        expect(cert.policies).toEqual([DEFAULT_POLICY_OIDS[admin.assuranceLevel]]);
        expect(cert.keyUsage).toContain(key === 'auth' ? 'digitalSignature' : 'nonRepudiation');
      }
    }
    expect(summary.admins.find((a) => a.name === 'Lena LoA2')?.assuranceLevel).toBe('LoA2');
    expect(summary.admins.filter((a) => a.assuranceLevel === 'LoA3')).toHaveLength(5);
  });

  it('lets each card’s authentication key sign what its certificate verifies', async () => {
    const challenge = new TextEncoder().encode(`login challenge ${now}`);
    for (const admin of summary.admins) {
      const { signature, der } = await withCard(admin.cardNumber, async () => ({
        signature: await cards.sign(READER, admin.cardNumber, 'auth', admin.pins.pin1, challenge),
        der: (await cards.cardInfo(READER)).certificates.find((c) => c.key === 'auth')?.der,
      }));
      const publicKey = new X509Certificate(der as Uint8Array).publicKey;
      expect(verify('sha256', challenge, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(
        true,
      );
      const tampered = new Uint8Array(challenge);
      tampered[0] = (tampered[0] ?? 0) ^ 1;
      expect(verify('sha256', tampered, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(
        false,
      );
    }
  });

  it('makes a sealed reserve card for every order, and a spare one on no order', async () => {
    const reserve = new Map(summary.reserveCards.map((c) => [c.cardNumber, c]));
    for (const order of TRAINING_ORDERS) {
      const stored = await getOrder(t.store.db, order.id);
      const card = reserve.get(stored?.cardNumber as CardNumber);
      expect(card?.forPerson).toBe(
        `${RECIPIENTS[order.recipient].givenName} ${RECIPIENTS[order.recipient].surname}`,
      );
    }
    const spare = summary.reserveCards.filter((c) => c.forPerson === null);
    expect(spare).toHaveLength(1);
    for (const card of summary.reserveCards) {
      await withCard(card.cardNumber, async () => {
        const info = await cards.cardInfo(READER);
        expect(info.keys).toEqual({ auth: false, sign: false });
        expect(info.certificates).toEqual([]);
        // The PIN letter opens the card (clean needs PIN 1 and changes nothing on an empty card).
        await cards.clean(READER, card.cardNumber, card.pins.pin1);
      });
    }
  });

  it('gives every virtual card, administrators’ and reserve cards, a bureau key that proves it with no PIN', async () => {
    const all = await cards.listCards();
    expect(all.length).toBeGreaterThan(0);
    for (const card of all) {
      await withCard(card.cardNumber, async () => {
        const challenge = new TextEncoder().encode(`card-proof:flow:${card.cardNumber}`);
        const proof = await cards.proveCard(READER, card.cardNumber, challenge);
        const checked = await verifyBureauCertificate(t.ca, proof.certificate, Date.now());
        if (!checked.ok) throw new Error(`${card.cardNumber}: ${checked.reason}`);
        expect(checked.value.cardNumber).toBe(card.cardNumber);
        const key = new X509Certificate(proof.certificate).publicKey;
        expect(verify('sha256', challenge, { key, dsaEncoding: 'ieee-p1363' }, proof.signature)).toBe(true);
      });
    }
  });

  it('gives a bureau key, kept in the card file, to a virtual card made before cards had one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'reservkort-seed-'));
    const stateFile = join(dir, 'virtual-cards.json');
    const old = '9752278900000000934' as CardNumber;
    try {
      const before = await VirtualBackend.open({ stateFile });
      await before.createCard({ cardNumber: old, ...ADMIN_CARD_PINS });
      expect(before.hasBureauKey(old)).toBe(false);
      expect(await giveBureauKeys(before, t.ca)).toBe(1);
      expect(await giveBureauKeys(before, t.ca)).toBe(0);
      await before.close();
      const after = await VirtualBackend.open({ stateFile });
      try {
        await after.insertCard(READER, old);
        const proof = await after.proveCard(READER, old, new Uint8Array([1]));
        expect((await verifyBureauCertificate(t.ca, proof.certificate, Date.now())).ok).toBe(true);
      } finally {
        await after.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('leaves every card out of the readers', async () => {
    const all = await cards.listCards();
    expect(all).toHaveLength(STAFF_CARDS.length + TRAINING_ORDERS.length + 1);
    expect(all.every((c) => c.readerId === null)).toBe(true);
    expect((await cards.readers()).every((r) => r.card === null)).toBe(true);
  });

  it('sets up each demonstration the summary promises', async () => {
    const db = t.store.db;
    const tree = buildOrganisationTree(await listBranches(db));
    if (!tree.ok) throw new Error('tree');
    const today = dateOf(now);
    const search = async (adminName: string, recipient: RecipientKey, level: AssuranceLevel = 'LoA3') => {
      const hsaId = summary.admins.find((a) => a.name === adminName)?.hsaId as HsaId;
      const admin = await getAdmin(db, hsaId);
      if (admin === null) throw new Error(adminName);
      const ctx: AccessContext = { tree: tree.value as OrganisationTree, admin, assuranceLevel: level, now };
      const person = await getPersonByHsaId(db, RECIPIENTS[recipient].hsaId as HsaId);
      if (person === null) throw new Error(recipient);
      const query = classifySearchQuery(person.personalNumber?.value ?? '', today);
      const outcome = diagnoseSearch(
        query,
        { person, orders: await listOrdersForRecipient(db, person.hsaId) },
        ctx,
      );
      return outcome.kind === 'found' ? 'found' : outcome.codes.join(',');
    };
    expect(await search('Admin Två', 'anna')).toBe('found');
    expect(await search('Admin Fyra', 'anna')).toBe('found');
    expect(await search('Lena LoA2', 'anna', 'LoA2')).toBe('LOA2_LOGIN');
    expect(await search('Admin Tre', 'anna')).toBe('NO_ROLE_IN_BRANCH');
    expect(await search('Admin Två', 'bo')).toBe('OWN_ORDER');
    expect(await search('Admin Fyra', 'bo')).toBe('found');
    expect(await search('Admin Fyra', 'stina')).toBe('PROTECTED_NEEDS_KUR');
    expect(await search('Admin Ett', 'stina')).toBe('found');
    expect(await search('Admin Två', 'samir')).toBe('NOT_ELIGIBLE');
    expect(await search('Admin Två', 'nils')).toBe('NO_ORDER');
    expect(await search('Admin Två', 'elsa')).toBe('ORDER_EXPIRED');
    expect(await search('Admin Två', 'olle')).toBe('NO_ROLE_IN_BRANCH');
    expect(await search('Admin Två', 'maja')).toBe('RECIPIENT_UNDERAGE');
  });

  it('prints every card number with its PINs, and what to try', () => {
    const text = formatTrainingSummary(summary);
    for (const admin of summary.admins) {
      expect(text).toContain(admin.name);
      expect(text).toContain(formatCardNumber(admin.cardNumber));
    }
    expect(text).toContain(
      `PIN 1 ${ADMIN_CARD_PINS.pin1} · PIN 2 ${ADMIN_CARD_PINS.pin2} · PUK ${ADMIN_CARD_PINS.puk}`,
    );
    for (const card of summary.reserveCards) {
      expect(text).toContain(formatCardNumber(card.cardNumber));
      expect(text).toContain(`PIN 1 ${card.pins.pin1} · PIN 2 ${card.pins.pin2} · PUK ${card.pins.puk}`);
    }
    for (const person of summary.persons) expect(text).toContain(person.personalNumber);
    expect(text).toContain('LOA2_LOGIN');
    expect(text).toContain('WRONG_CARD');
  });

  it('writes nothing the second time and gives the same summary back', async () => {
    const tables = ['branches', 'persons', 'admins', 'orders', 'audit_log'] as const;
    const before = await Promise.all(tables.map((table) => countRows(t.store.db, table)));
    const again = await seedTrainingData({ db: t.store.db, ca: t.ca, cards, now: now + 60_000 });
    expect(again).toEqual(summary);
    expect(await Promise.all(tables.map((table) => countRows(t.store.db, table)))).toEqual(before);
    expect(await cards.listCards()).toHaveLength(STAFF_CARDS.length + TRAINING_ORDERS.length + 1);
  });

  it('refuses a directory that holds something else', async () => {
    const other = await createTestStore('sqlite');
    try {
      await upsertBranches(other.db, [{ id: 'x', parentId: null, name: 'Någon annan' }]);
      await expect(seedTrainingData({ db: other.db, ca: t.ca, cards, now })).rejects.toThrow(
        /1 branches that are not the training data/,
      );
    } finally {
      await other.dispose();
    }
  });

  it('refuses an empty directory when the virtual cards already exist, before writing anything', async () => {
    const other = await createTestStore('sqlite');
    try {
      await expect(seedTrainingData({ db: other.db, ca: t.ca, cards, now })).rejects.toThrow(
        /virtual cards .* already exist/,
      );
      expect(await countRows(other.db, 'branches')).toBe(0);
      expect(await countRows(other.db, 'audit_log')).toBe(0);
    } finally {
      await other.dispose();
    }
  });
});
