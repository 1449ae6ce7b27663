// The practice plan from a case's timeline alone: which entry is the first error, and which of the
// training's cards stand in for the cards of the case.
import type { CardNumber, HsaId, SupportCaseDraft, TimelineEntry, TimelineScene } from '@reservkort/domain';
import { describe, expect, it } from 'vitest';
import { firstError, practicePlan } from './practice-plan.js';
import type { TrainingSummary } from './training-summary.js';

const PINS = { pin1: '1234', pin2: '5678', puk: '12345678' };
const card = (tail: string) => `9752278900000000${tail}` as CardNumber;
const SUMMARY: TrainingSummary = {
  admins: [
    {
      name: 'Admin Ett',
      hsaId: 'SE1-ad01',
      cardNumber: card('101'),
      pins: PINS,
      assuranceLevel: 'LoA3',
      roles: ['KRA i X'],
    },
    {
      name: 'Admin Två',
      hsaId: 'SE1-ad02',
      cardNumber: card('102'),
      pins: PINS,
      assuranceLevel: 'LoA3',
      roles: ['RA i X'],
    },
    {
      name: 'Sara',
      hsaId: 'SE1-sd01',
      cardNumber: card('106'),
      pins: PINS,
      assuranceLevel: 'LoA3',
      roles: ['service-desk'],
    },
  ],
  reserveCards: [
    { cardNumber: card('201'), forPerson: 'Anna Andersson', pins: PINS },
    { cardNumber: card('299'), forPerson: null, pins: PINS },
  ],
  persons: [{ name: 'Anna Andersson', hsaId: 'SE1-p001', personalNumber: '19850412-9878', note: '' }],
  scenarios: [],
};

const scene = (patch: Partial<TimelineScene>): TimelineScene => ({
  step: 4,
  status: 'active',
  readers: { 1: { connected: true, card: null }, 2: { connected: true, card: null } },
  download: null,
  pending: null,
  fault: null,
  deadline: null,
  ...patch,
});

const draft = (timeline: TimelineEntry[], patch: Partial<SupportCaseDraft> = {}): SupportCaseDraft => ({
  flowId: 'flow',
  reportedBy: 'SE1-ad02' as HsaId,
  reportedAt: 0,
  admin1HsaId: 'SE1-ad01' as HsaId,
  admin2HsaId: null,
  recipientHsaId: null,
  cardNumber: card('777'),
  agentVersion: null,
  agentPackaging: null,
  stationId: null,
  certificates: [],
  timeline,
  codes: ['WRONG_CARD'],
  readers: { throughout: true, since: 0, gaps: [] },
  protectedIdentity: false,
  comment: '',
  ...patch,
});

describe('the practice plan', () => {
  it('takes an earlier attempt’s error before the flow’s own, timed from that attempt’s start', () => {
    const earlier: TimelineEntry[] = [
      { at: 1000, step: 0, event: 'flow-started', codes: [], scene: scene({ step: 0 }) },
      { at: 4000, step: 2, event: 'searched', codes: ['HSA_ID_INCOMPLETE'], scene: scene({ step: 2 }) },
    ];
    const found = firstError({
      timeline: [{ at: 9000, step: 4, event: 'card-inserted', codes: ['WRONG_CARD'] }],
      attempts: [
        {
          flowId: 'a',
          startedAt: 1000,
          status: 'aborted',
          step: 2,
          admin2HsaId: null,
          codes: [],
          timeline: earlier,
        },
      ],
    });
    expect(found).toMatchObject({ code: 'HSA_ID_INCOMPLETE', startedAt: 1000, entry: { at: 4000 } });
  });

  it('counts a scene’s fault as an error even where the entry raised no code', () => {
    const found = firstError({
      timeline: [
        { at: 0, step: 0, event: 'flow-started', codes: [], scene: scene({ step: 0 }) },
        { at: 5, step: 6, event: 'tick', codes: [], scene: scene({ step: 6, fault: 'DOWNLOAD_FAILED' }) },
      ],
    });
    expect(found).toMatchObject({ code: 'DOWNLOAD_FAILED', entry: { at: 5 } });
  });

  it('stands a foreign card in for the spare card, an unknown order’s card for a free demo one, and picks an admin who did not order', () => {
    const plan = practicePlan({
      caseId: 'case',
      draft: draft([
        { at: 0, step: 0, event: 'flow-started', codes: [], scene: scene({ step: 0 }) },
        {
          at: 30_000,
          step: 4,
          event: 'card-inserted',
          codes: ['WRONG_CARD'],
          scene: scene({
            readers: {
              1: { connected: true, card: { cardNumber: card('555'), owner: 'own-login-card' } },
              2: { connected: true, card: { cardNumber: card('888'), owner: 'unknown' } },
            },
            deadline: 90_000,
          }),
        },
      ]),
      summary: SUMMARY,
      freeReserveCard: card('201'),
      holdsKur: false,
    });
    expect(plan).toMatchObject({
      kind: 'plan',
      code: 'WRONG_CARD',
      step: 4,
      readers: {
        1: { card: { role: 'admin', cardNumber: card('102') } },
        2: { card: { role: 'foreign', cardNumber: card('299') } },
      },
      adminCard: { name: 'Admin Två' },
      reserveCard: card('201'),
      recipient: { name: 'Anna Andersson' },
      clock: { sinceStartMs: 30_000, deadlineLeftMs: 60_000 },
    });
  });

  it('says what is missing: no error at all', () => {
    const plan = practicePlan({
      caseId: 'case',
      draft: draft([{ at: 0, step: 0, event: 'flow-started', codes: [] }]),
      summary: SUMMARY,
      freeReserveCard: null,
      holdsKur: true,
    });
    expect(plan).toEqual({ kind: 'missing', caseId: 'case', missing: 'error', code: null });
  });
});
