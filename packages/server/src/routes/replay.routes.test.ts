// "Spela upp" over HTTP: a flow that ran with one reader for a moment (ONE_READER_USED), replayed by
// its own administrator, by an administrator with a role in the recipient's branch (KUR too, for a
// protected identity), refused to one without; and the case filed from it replayed by the service
// desk, also a case from before scenes were kept.
import { type CardNumber, type HsaId, PROTECTED_PLACEHOLDER } from '@reservkort/domain';
import {
  getCase,
  grantRole,
  grantStaffRole,
  insertAdmin,
  insertCase,
  upsertBranches,
} from '@reservkort/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN1_CARD,
  ADMIN2_CARD,
  ANNA,
  ANNA_PNR,
  CARD_PINS,
  createIssuanceHarness,
  type Harness,
  RESERVE_CARD,
} from '../test-support/issuance-harness.js';
import { Page } from '../test-support/page.js';
import { provisionCard } from '../test-support/provision-card.js';

const DESK = 'SE2321000016-desk' as HsaId;
const DESK_CARD = '9752278900000000009' as CardNumber;
const ADMIN3 = 'SE2321000016-adm3' as HsaId;
const ADMIN3_CARD = '9752278900000000003' as CardNumber;
const ADMIN1 = 'SE2321000016-adm1' as HsaId;

interface Frame {
  attempt: number;
  flowId: string;
  event: string;
  step: number;
  codes: string[];
  scene: {
    step: number;
    fault: string | null;
    readers: Record<'1' | '2', { connected: boolean; card: { cardNumber: string; role: string } | null }>;
  } | null;
}

describe('replaying a flow and a support case', () => {
  let h: Harness;
  let admin2: Page;
  let flowId = '';
  let caseId = '';

  /** Logs a page in with a card in reader 1, the card before it taken out. */
  const loginAs = async (card: CardNumber): Promise<Page> => {
    await h.cards.removeCard('reader-1');
    const page = new Page(h);
    expect((await page.login(card)).status).toBe(200);
    return page;
  };

  beforeAll(async () => {
    h = await createIssuanceHarness();
    const db = h.t.store.db;
    // Anna has a protected identity: admin 2 holds KUR in the region, admin 1 does not (yet).
    await db.updateTable('persons').set({ protected_identity: 1 }).where('hsa_id', '=', ANNA).execute();
    await db
      .updateTable('orders')
      .set({ protected_identity: 1 })
      .where('recipient_hsa_id', '=', ANNA)
      .execute();
    // Admin 3 has every role, KUR too, but in another branch.
    await upsertBranches(db, [{ id: 'elsewhere', parentId: 'region', name: 'Annanstans' }]);
    await insertAdmin(db, { hsaId: ADMIN3, givenName: 'Admin', surname: 'Tre', createdAt: h.clock.now() });
    await grantRole(db, { adminHsaId: ADMIN3, role: 'KRA', branchId: 'elsewhere' });
    await grantRole(db, { adminHsaId: ADMIN3, role: 'KUR', branchId: 'elsewhere' });
    await provisionCard(h.cards, h.t.ca, {
      hsaId: ADMIN3,
      givenName: 'Admin',
      surname: 'Tre',
      cardNumber: ADMIN3_CARD,
    });
    await provisionCard(h.cards, h.t.ca, {
      hsaId: DESK,
      givenName: 'Sara',
      surname: 'Servicedesk',
      cardNumber: DESK_CARD,
    });
    await grantStaffRole(db, { hsaId: DESK, role: 'service-desk' });

    // Admin 2 to step 4; reader 2 goes away and comes back with the reserve card in it.
    admin2 = new Page(h);
    expect((await admin2.login(ADMIN2_CARD)).status).toBe(200);
    await admin2.start();
    flowId = admin2.flowId;
    await admin2.action('manage-orders');
    await admin2.api('POST', `/api/flows/${flowId}/search`, { query: ANNA_PNR });
    await admin2.action('order-selected');
    const signature = await admin2.signChallenge('order', 'reader-1', CARD_PINS.pin2);
    expect((await admin2.api('POST', `/api/flows/${flowId}/sign`, signature)).body.view.step).toBe(4);
    await h.cards.insertCard('reader-2', RESERVE_CARD);
    await admin2.relay({ type: 'card-inserted', reader: 2, cardNumber: RESERVE_CARD });
    await h.cards.unplugReader('reader-2');
    await admin2.relay({ type: 'reader-unplugged', reader: 2 });
    await h.cards.plugReader('reader-2');
    const back = await admin2.relay({ type: 'reader-plugged', reader: 2 });
    expect(back.body.view.fault?.code, JSON.stringify(back.body)).toBe('ONE_READER_USED');
    const sent = await admin2.api('POST', '/api/support/cases', { flowId, comment: 'En läsare' });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    caseId = sent.body.id;
  });
  afterAll(async () => h?.dispose());

  it('gives the flow’s own administrator every entry with its scene, cards named by role only', async () => {
    const replay = await admin2.api('GET', `/api/flows/${flowId}/replay`);
    expect(replay.status, JSON.stringify(replay.body)).toBe(200);
    const frames: Frame[] = replay.body.frames;
    const view = await admin2.api('GET', `/api/flows/${flowId}`);
    expect(frames.map((f) => f.event)).toEqual(
      view.body.view.timeline.map((e: { event: string }) => e.event),
    );
    expect(frames.every((f) => f.scene !== null && f.attempt === 1 && f.flowId === flowId)).toBe(true);
    const inserted = frames.find((f) => f.event === 'card-inserted' && f.step === 4);
    expect(inserted?.scene?.readers).toEqual({
      1: { connected: true, card: { cardNumber: ADMIN2_CARD, role: 'admin' } },
      2: { connected: true, card: { cardNumber: RESERVE_CARD, role: 'recipient' } },
    });
    const unplugged = frames.find((f) => f.event === 'reader-unplugged');
    expect(unplugged?.scene?.readers[2]).toEqual({ connected: false, card: null });
    const last = frames.at(-1);
    expect(last?.codes).toEqual(['ONE_READER_USED']);
    expect(last?.scene?.fault).toBe('ONE_READER_USED');
    expect(replay.body.catalogue.map((e: { code: string }) => e.code)).toEqual([
      'READERS_MISSING',
      'ONE_READER_USED',
    ]);
    expect(replay.body.reserveCard).toBe(RESERVE_CARD);
    // Nothing of the protected person: no HSA-id, no name, no personnummer; scenes name roles only.
    const text = JSON.stringify(replay.body);
    for (const secret of [ANNA, 'Anna', ANNA_PNR]) expect(text).not.toContain(secret);
    expect(JSON.stringify(frames.map((f) => f.scene))).not.toContain('owner');
  });

  it('refuses an administrator without KUR for a protected recipient, and one without a role in the branch', async () => {
    const admin1 = await loginAs(ADMIN1_CARD);
    const refused = await admin1.api('GET', `/api/flows/${flowId}/replay`);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('ACCESS_DENIED');
    expect(JSON.stringify(refused.body)).not.toContain(ANNA);
    // With KUR where Anna is, admin 1's role in her branch is enough.
    await grantRole(h.t.store.db, { adminHsaId: ADMIN1, role: 'KUR', branchId: 'hospital' });
    const allowed = await admin1.api('GET', `/api/flows/${flowId}/replay`);
    expect(allowed.status, JSON.stringify(allowed.body)).toBe(200);
    expect(allowed.body.frames.length).toBeGreaterThan(5);
    const admin3 = await loginAs(ADMIN3_CARD);
    const elsewhere = await admin3.api('GET', `/api/flows/${flowId}/replay`);
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body.code).toBe('ACCESS_DENIED');
    // A case is the service desk's to replay.
    expect((await admin3.api('GET', `/api/support/cases/${caseId}/replay`)).status).toBe(403);
  });

  it('replays the case to the service desk without KUR, giving away nothing of the recipient', async () => {
    const desk = await loginAs(DESK_CARD);
    const replay = await desk.api('GET', `/api/support/cases/${caseId}/replay`);
    expect(replay.status, JSON.stringify(replay.body)).toBe(200);
    expect(replay.body).toMatchObject({ kind: 'case', id: caseId, flowId, reserveCard: RESERVE_CARD });
    const frames: Frame[] = replay.body.frames;
    expect(frames.at(-1)?.scene?.fault).toBe('ONE_READER_USED');
    expect(replay.body.catalogue.map((e: { code: string }) => e.code)).toEqual([
      'READERS_MISSING',
      'ONE_READER_USED',
    ]);
    const text = JSON.stringify(replay.body);
    for (const secret of [ANNA, 'Anna', ANNA_PNR, PROTECTED_PLACEHOLDER]) expect(text).not.toContain(secret);
    expect(JSON.stringify(frames.map((f) => f.scene))).not.toContain('owner');
    // The flow itself is its administrators' to replay, not the desk's.
    expect((await desk.api('GET', `/api/flows/${flowId}/replay`)).status).toBe(403);
  });

  it('marks every frame of a case from before scenes as not recorded', async () => {
    const db = h.t.store.db;
    const stored = await getCase(db, caseId);
    if (stored === null) throw new Error('no case');
    const draft = stored.draft as { timeline: { scene?: unknown }[] };
    const older = { ...draft, timeline: draft.timeline.map(({ scene: _scene, ...entry }) => entry) };
    await insertCase(db, {
      id: 'older-case-0001',
      flowId,
      reportedBy: stored.reportedBy,
      protectedIdentity: true,
      codes: stored.codes,
      draft: older,
      createdAt: stored.createdAt,
      stationId: null,
    });
    const desk = await loginAs(DESK_CARD);
    const replay = await desk.api('GET', '/api/support/cases/older-case-0001/replay');
    expect(replay.status).toBe(200);
    const frames: Frame[] = replay.body.frames;
    expect(frames.length).toBe(draft.timeline.length);
    expect(frames.every((f) => f.scene === null)).toBe(true);
    expect(frames.at(-1)?.codes).toEqual(['ONE_READER_USED']);
  });

  it('answers a malformed id with 400 and an unknown one with 404', async () => {
    const desk = await loginAs(DESK_CARD);
    expect((await desk.api('GET', '/api/support/cases/x/replay')).status).toBe(400);
    const unknown = await desk.api('GET', '/api/support/cases/no-such-case-01/replay');
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('NOT_FOUND');
    expect((await admin2.api('GET', '/api/flows/bad!id/replay')).status).toBe(400);
    const noFlow = await admin2.api('GET', '/api/flows/no-such-flow-01/replay');
    expect(noFlow.status).toBe(404);
    expect(noFlow.body.code).toBe('NOT_FOUND');
    // Without a session, nothing.
    const anonymous = new Page(h);
    expect((await anonymous.api('GET', `/api/flows/${flowId}/replay`)).status).toBe(401);
  });
});
