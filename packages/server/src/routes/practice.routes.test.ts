// "Öva på det här" on the server: a support case's first error as the training's readers and cards,
// step and clock, for the service desk, in training mode only; a case without scenes says so.
import { type CardNumber, errorResponse, type HsaId, type SupportCaseDraft } from '@reservkort/domain';
import { getCase, grantStaffRole, insertCase } from '@reservkort/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../store/src/test-support/test-stores.js';
import { walkTo } from '../test-support/acceptance-flow.js';
import {
  ADMIN1,
  ADMIN1_CARD,
  ADMIN2,
  ADMIN2_CARD,
  ANNA,
  ANNA_PNR,
  createIssuanceHarness,
  type Harness,
  RESERVE_CARD,
} from '../test-support/issuance-harness.js';
import { Page } from '../test-support/page.js';
import { provisionCard } from '../test-support/provision-card.js';
import { TrainingClock } from '../training/training-clock.js';
import type { TrainingSummary } from '../training/training-summary.js';

const DESK = 'SE2321000016-desk' as HsaId;
const DESK_CARD = '9752278900000000009' as CardNumber;
const SPARE = '9752278900000000199' as CardNumber;
const ANNA_SHOWN = `${ANNA_PNR.slice(0, 8)}-${ANNA_PNR.slice(8)}`;
const PINS = { pin1: '1234', pin2: '5678', puk: '12345678' };

/** The harness's cards as the training's demo data. */
const SUMMARY: TrainingSummary = {
  admins: [
    {
      name: 'Admin Ett',
      hsaId: ADMIN1,
      cardNumber: ADMIN1_CARD,
      pins: PINS,
      assuranceLevel: 'LoA3',
      roles: ['KRA i Sjukhuset'],
    },
    {
      name: 'Admin Två',
      hsaId: ADMIN2,
      cardNumber: ADMIN2_CARD,
      pins: PINS,
      assuranceLevel: 'LoA3',
      roles: ['RA i Region Exempel', 'KUR i Region Exempel'],
    },
    {
      name: 'Sara Servicedesk',
      hsaId: DESK,
      cardNumber: DESK_CARD,
      pins: PINS,
      assuranceLevel: 'LoA3',
      roles: ['service-desk'],
    },
  ],
  reserveCards: [
    { cardNumber: RESERVE_CARD, forPerson: 'Anna Andersson', pins: PINS },
    { cardNumber: SPARE, forPerson: null, pins: PINS },
  ],
  persons: [{ name: 'Anna Andersson', hsaId: ANNA, personalNumber: ANNA_SHOWN, note: '' }],
  scenarios: [],
};

const trainingHarness = (dialect: (typeof DIALECTS)[number]) => {
  const clock = new TrainingClock();
  return createIssuanceHarness(
    {},
    () => ({ training: true, trainingKit: { summary: SUMMARY, clock } }),
    dialect,
  );
};

/** Files the page's flow as a support case; the case id. */
const fileCase = async (page: Page): Promise<string> => {
  const sent = await page.api('POST', '/api/support/cases', { flowId: page.flowId });
  expect(sent.status, JSON.stringify(sent.body)).toBe(201);
  return sent.body.id;
};

/** Sara of the service desk, logged in on the harness's workstation. */
const deskOf = async (h: Harness): Promise<Page> => {
  await provisionCard(h.cards, h.t.ca, {
    hsaId: DESK,
    givenName: 'Sara',
    surname: 'Servicedesk',
    cardNumber: DESK_CARD,
  });
  await grantStaffRole(h.t.store.db, { hsaId: DESK, role: 'service-desk' });
  const desk = new Page(h);
  expect((await desk.login(DESK_CARD)).body.serviceDesk).toBe(true);
  return desk;
};

describe.each(DIALECTS)('the practice plan of a support case, on %s', (dialect) => {
  let removed: Harness;
  let oneReader: Harness;
  let admin2: Page;
  let desk: Page;
  let deskOnOneReader: Page;
  const ids = { removed: '', oneReader: '' };

  beforeAll(async () => {
    // The reserve card pulled while the certificates were being made: CARD_REMOVED_DURING_DOWNLOAD.
    removed = await trainingHarness(dialect);
    admin2 = new Page(removed);
    await walkTo(removed, admin2, 'certificates-issued');
    await removed.cards.removeCard('reader-2');
    expect((await admin2.relay({ type: 'card-removed', reader: 2 })).body.raised).toContain(
      'CARD_REMOVED_DURING_DOWNLOAD',
    );
    ids.removed = await fileCase(admin2);
    await removed.cards.removeCard('reader-1');
    desk = await deskOf(removed);

    // Reader 2 unplugged for a moment at the handover: READERS_MISSING, then ONE_READER_USED.
    oneReader = await trainingHarness(dialect);
    const page = new Page(oneReader);
    await walkTo(oneReader, page, 4);
    await oneReader.cards.unplugReader('reader-2');
    await page.relay({ type: 'reader-unplugged', reader: 2 });
    await oneReader.cards.plugReader('reader-2');
    expect((await page.relay({ type: 'reader-plugged', reader: 2 })).body.raised).toContain(
      'ONE_READER_USED',
    );
    ids.oneReader = await fileCase(page);
    await page.api('POST', '/api/auth/logout');
    await oneReader.cards.removeCard('reader-1');
    deskOnOneReader = await deskOf(oneReader);
  });
  afterAll(async () => {
    await removed?.dispose();
    await oneReader?.dispose();
  });

  it('keeps the scenes of the flow’s timeline in the case it files', async () => {
    const stored = await getCase(removed.t.store.db, ids.removed);
    const draft = stored?.draft as SupportCaseDraft;
    expect(draft.timeline.length).toBeGreaterThan(5);
    expect(draft.timeline.every((entry) => entry.scene !== undefined)).toBe(true);
    expect(draft.timeline.at(-1)?.scene).toMatchObject({ step: 6, fault: 'CARD_REMOVED_DURING_DOWNLOAD' });
  });

  it('CARD_REMOVED_DURING_DOWNLOAD: step 6, the admin card in reader 1, reader 2 connected and empty', async () => {
    const plan = await desk.api('GET', `/api/training/practice/${ids.removed}`);
    expect(plan.status, JSON.stringify(plan.body)).toBe(200);
    expect(plan.body).toMatchObject({
      kind: 'plan',
      caseId: ids.removed,
      code: 'CARD_REMOVED_DURING_DOWNLOAD',
      step: 6,
      readers: {
        1: { connected: true, card: { role: 'admin', cardNumber: ADMIN2_CARD } },
        2: { connected: true, card: null },
      },
      adminCard: { cardNumber: ADMIN2_CARD, name: 'Admin Två' },
      reserveCard: RESERVE_CARD,
      recipient: { name: 'Anna Andersson', personalNumber: ANNA_SHOWN },
      clock: { deadlineLeftMs: null },
      catalogue: { code: 'CARD_REMOVED_DURING_DOWNLOAD' },
    });
    expect(plan.body.caseCodes).toContain('CARD_REMOVED_DURING_DOWNLOAD');
    expect(plan.body.clock.sinceStartMs).toBeGreaterThanOrEqual(0);
    expect(plan.body.catalogue.remedy.sv.length).toBeGreaterThan(10);
    expect(plan.body.catalogue.remedy.en.length).toBeGreaterThan(10);
    // The route's response schema lets every field of the plan through, the catalogue entry whole.
    expect(Object.keys(plan.body).sort()).toEqual(
      [
        'adminCard',
        'at',
        'caseCodes',
        'caseId',
        'catalogue',
        'clock',
        'code',
        'kind',
        'readers',
        'recipient',
        'reserveCard',
        'step',
      ].sort(),
    );
    expect(plan.body.catalogue).toEqual(
      errorResponse('CARD_REMOVED_DURING_DOWNLOAD', plan.body.catalogue.details),
    );
  });

  it('ONE_READER_USED: the first error is reader 2 going at step 4, with the admin card in reader 1', async () => {
    const plan = await deskOnOneReader.api('GET', `/api/training/practice/${ids.oneReader}`);
    expect(plan.status, JSON.stringify(plan.body)).toBe(200);
    expect(plan.body).toMatchObject({
      kind: 'plan',
      code: 'READERS_MISSING',
      step: 4,
      readers: {
        1: { connected: true, card: { role: 'admin', cardNumber: ADMIN2_CARD } },
        2: { connected: false, card: null },
      },
      reserveCard: RESERVE_CARD,
    });
    expect(plan.body.caseCodes).toEqual(expect.arrayContaining(['READERS_MISSING', 'ONE_READER_USED']));
  });

  it('a case without scenes says what is missing instead of guessing', async () => {
    const stored = await getCase(removed.t.store.db, ids.removed);
    const draft = stored?.draft as SupportCaseDraft;
    const older: SupportCaseDraft = {
      ...draft,
      timeline: draft.timeline.map(({ scene: _scene, ...entry }) => entry),
    };
    await insertCase(removed.t.store.db, {
      id: 'older-case-without-scenes',
      flowId: draft.flowId,
      reportedBy: ADMIN2,
      protectedIdentity: false,
      codes: draft.codes,
      draft: older,
      createdAt: removed.clock.now(),
      stationId: null,
    });
    const plan = await desk.api('GET', '/api/training/practice/older-case-without-scenes');
    expect(plan.status).toBe(200);
    expect(plan.body).toEqual({
      kind: 'missing',
      caseId: 'older-case-without-scenes',
      missing: 'scene',
      code: 'CARD_REMOVED_DURING_DOWNLOAD',
    });
  });

  it('never names a protected recipient to a viewer without KUR', async () => {
    const stored = await getCase(removed.t.store.db, ids.removed);
    const draft = stored?.draft as SupportCaseDraft;
    await insertCase(removed.t.store.db, {
      id: 'protected-recipient-case',
      flowId: draft.flowId,
      reportedBy: ADMIN2,
      protectedIdentity: true,
      codes: draft.codes,
      draft: { ...draft, protectedIdentity: true },
      createdAt: removed.clock.now(),
      stationId: null,
    });
    const plan = await desk.api('GET', '/api/training/practice/protected-recipient-case');
    expect(plan.body).toMatchObject({ kind: 'plan', recipient: null });
    expect(JSON.stringify(plan.body)).not.toContain(ANNA);
    expect(JSON.stringify(plan.body)).not.toContain('Anna');
    expect(JSON.stringify(plan.body)).not.toContain(ANNA_SHOWN);
  });

  it('an unknown case is NOT_FOUND', async () => {
    const plan = await desk.api('GET', '/api/training/practice/no-such-case-here');
    expect(plan.status).toBe(404);
    expect(plan.body.code).toBe('NOT_FOUND');
  });

  it('is the service desk’s: an administrator is refused, and no session is not let in', async () => {
    const refused = await admin2.api('GET', `/api/training/practice/${ids.removed}`);
    expect([refused.status, refused.body.code]).toEqual([403, 'ACCESS_DENIED']);
    const anonymous = await fetch(`${removed.baseUrl}/api/training/practice/${ids.removed}`);
    expect(anonymous.status).toBe(401);
  });
});

describe('the training clock set as a practised case had it', () => {
  let h: Harness;
  const clock = new TrainingClock();
  beforeAll(async () => {
    // One clock for the flow's deadline and the training's jumps, as in training mode.
    h = await createIssuanceHarness({}, () => ({
      clock,
      training: true,
      trainingKit: { summary: SUMMARY, clock },
    }));
  });
  afterAll(async () => h?.dispose());

  it('stops the asked time before the flow’s deadline, and never moves back', async () => {
    const page = new Page(h);
    await walkTo(h, page, 7);
    const deadline = (await h.services.issuance.load(page.flowId)).state.deadline ?? 0;
    const moved = await page.api('POST', '/api/training/clock', {
      toDeadlineOf: page.flowId,
      leaveMs: 120_000,
    });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(deadline - moved.body.now).toBeLessThanOrEqual(120_000);
    expect(deadline - moved.body.now).toBeGreaterThan(60_000);
    const offset = moved.body.offsetMs;
    // Asking for more time left than there is moves nothing.
    const again = await page.api('POST', '/api/training/clock', {
      toDeadlineOf: page.flowId,
      leaveMs: 600_000,
    });
    expect(again.body.offsetMs).toBe(offset);
    // Several parallel jumps to the same time before it: each is measured from the clock as the
    // one before left it, so together they move once, and the deadline is not overrun.
    const jumps = await Promise.all(
      Array.from({ length: 6 }, () =>
        page.api('POST', '/api/training/clock', { toDeadlineOf: page.flowId, leaveMs: 30_000 }),
      ),
    );
    expect(jumps.map((j) => j.status)).toEqual(Array(6).fill(200));
    const left = deadline - clock.now();
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(30_000);
    expect(new Set(jumps.map((j) => j.body.offsetMs)).size).toBeLessThanOrEqual(2);
    expect((await h.services.issuance.load(page.flowId)).state.status).toBe('active');
  });
});

describe('the practice plan outside training mode', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createIssuanceHarness();
  });
  afterAll(async () => h?.dispose());

  it('is not there', async () => {
    const desk = await deskOf(h);
    const plan = await desk.api('GET', '/api/training/practice/any-case-id-at-all');
    expect(plan.status).toBe(404);
  });
});
