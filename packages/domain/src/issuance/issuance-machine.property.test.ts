// Random walks through the flow: whatever arrives, in whatever order, the machine answers with a
// value, never an exception, and keeps its promises.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyFlowEvent,
  checkFlowEvent,
  ERROR_CODES,
  FLOW_EVENT_TYPES,
  type FlowEvent,
  type FlowState,
  flowControls,
  startFlow,
} from '../index.js';
import {
  ADMIN_CARD,
  admins,
  anOrder,
  BOTH_READERS,
  flowOrderOf,
  OTHER_CARD,
  RESERVE_CARD,
  T0,
} from '../test-support/fixtures.js';

type EventBody = FlowEvent extends infer E ? (E extends unknown ? Omit<E, 'at'> : never) : never;

const order = flowOrderOf(anOrder());
const reader = fc.constantFrom(1 as const, 2 as const);
const someCard = fc.constantFrom(ADMIN_CARD, RESERVE_CARD, OTHER_CARD);
const dialog = fc.constantFrom('auth' as const, 'sign' as const);

const eventBody: fc.Arbitrary<EventBody> = fc.oneof(
  reader.map((r) => ({ type: 'reader-plugged' as const, reader: r })),
  reader.map((r) => ({ type: 'reader-unplugged' as const, reader: r })),
  fc
    .tuple(reader, fc.option(someCard))
    .map(([r, c]) => ({ type: 'card-inserted' as const, reader: r, cardNumber: c })),
  reader.map((r) => ({ type: 'card-removed' as const, reader: r })),
  fc.tuple(reader, fc.constantFrom('LoA2' as const, 'LoA3' as const)).map(([r, level]) => ({
    type: 'logged-in' as const,
    admin: admins.admin2.hsaId,
    assuranceLevel: level,
    cardNumber: ADMIN_CARD,
    reader: r,
  })),
  fc.constant({ type: 'manage-orders' as const }),
  fc.boolean().map((hit) => ({
    type: 'searched' as const,
    queryKind: 'personal-number' as const,
    hit: hit ? order : null,
    codes: hit ? [] : (['NO_ORDER'] as const),
  })),
  fc.constant({ type: 'order-selected' as const }),
  fc.tuple(fc.constantFrom('ok' as const, 'failed' as const), someCard).map(([outcome, c]) => ({
    type: 'signed' as const,
    outcome,
    cardNumber: c,
  })),
  fc.constant({ type: 'handover-confirmed' as const }),
  someCard.map((c) => ({ type: 'handover-verified' as const, cardNumber: c })),
  fc.boolean().map((accepted) => ({ type: 'terms-accepted' as const, accepted })),
  fc.constant({ type: 'download-requested' as const }),
  fc.constant({ type: 'key-generation-started' as const }),
  fc.constant({ type: 'keys-generated' as const }),
  dialog.map((d) => ({ type: 'dialog-shown' as const, dialog: d })),
  dialog.map((d) => ({ type: 'dialog-completed' as const, dialog: d })),
  dialog.map((d) => ({ type: 'dialog-cancelled' as const, dialog: d })),
  dialog.map((d) => ({ type: 'dialog-not-shown' as const, dialog: d })),
  fc.constant({ type: 'issuance-claimed' as const }),
  fc.constant({ type: 'certificates-issued' as const, serials: ['0b01', '0b02'] }),
  fc.constant({ type: 'certificates-written' as const }),
  fc.constant({ type: 'download-failed' as const, reason: 'x' }),
  someCard.map((c) => ({ type: 'acknowledged' as const, cardNumber: c })),
  fc.constant({ type: 'deadline-passed' as const }),
  fc.constant({ type: 'tick' as const }),
  fc
    .constantFrom('restart' as const, 'logout' as const, 'order-cancelled' as const)
    .map((reason) => ({ type: 'aborted' as const, reason })),
);

/** Events with increasing times; gaps of up to 15 minutes so deadlines and timeouts happen. */
const walk = fc.array(fc.tuple(eventBody, fc.integer({ min: 0, max: 900_000 })), { maxLength: 80 });

const codes: ReadonlySet<string> = new Set(ERROR_CODES);

describe('issuance machine under random events', () => {
  it('never throws, keeps refused events from changing anything, and keeps its promises', () => {
    fc.assert(
      fc.property(walk, (steps) => {
        let state: FlowState = startFlow('f', BOTH_READERS, T0);
        let at = T0;
        const revoked = new Set<string>();
        let bound = 0;
        for (const [body, gap] of steps) {
          at += gap;
          const before = state;
          const result = applyFlowEvent(state, { ...body, at } as FlowEvent);
          if (!result.ok) {
            expect(codes.has(result.error.code)).toBe(true);
            continue;
          }
          state = result.value.state;
          if (before.status !== 'active') expect(state).toBe(before);
          // Certificates are bound only under the flow's claim, and once.
          if (body.type === 'certificates-issued') {
            expect(before.issuance).not.toBeNull();
            bound++;
            expect(bound).toBe(1);
          }
          if (state.status === 'completed' && before.status === 'active') {
            expect(body.type).toBe('acknowledged');
            expect(at).toBeLessThan(before.deadline ?? Number.NEGATIVE_INFINITY);
          }
          for (const effect of result.value.effects) {
            if (effect.type !== 'revoke-certificates') continue;
            for (const serial of effect.serials) {
              expect(revoked.has(serial)).toBe(false);
              revoked.add(serial);
            }
          }
          for (const control of flowControls(state, at)) {
            if (!control.enabled) expect(codes.has(control.reason.code)).toBe(true);
          }
        }
      }),
      { numRuns: 400 },
    );
  });

  it('answers any data at all with a value', () => {
    const state = startFlow('f', BOTH_READERS, T0);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.record({ type: fc.constantFrom(...FLOW_EVENT_TYPES), at: fc.oneof(fc.double(), fc.anything()) }),
          fc.dictionary(
            fc.constantFrom('type', 'at', 'reader', 'cardNumber', 'serials', 'reason', 'hit'),
            fc.anything(),
          ),
        ),
        (data) => {
          const result = applyFlowEvent(state, data as FlowEvent);
          expect(typeof result.ok).toBe('boolean');
          if (!checkFlowEvent(data).ok) expect(result.ok).toBe(false);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('refuses fields of the wrong kind with the field named', () => {
    const state = startFlow('f', BOTH_READERS, T0);
    expect(
      applyFlowEvent(state, { type: 'card-inserted', reader: 3, cardNumber: null, at: T0 } as never),
    ).toEqual({
      ok: false,
      error: { code: 'EVENT_OUT_OF_ORDER', details: { reason: 'field', field: 'reader' } },
    });
    const spaced = { type: 'card-inserted', reader: 2, cardNumber: '9752 2789 0000 0000 100', at: T0 };
    expect(checkFlowEvent(spaced)).toMatchObject({ ok: false, error: { details: { field: 'cardNumber' } } });
    expect(checkFlowEvent({ type: 'certificates-issued', serials: ['zz'], at: T0 }).ok).toBe(false);
    expect(
      checkFlowEvent({ type: 'searched', queryKind: 'hsa-id', hit: { orderId: 1 }, codes: [], at: T0 }).ok,
    ).toBe(false);
    expect(
      checkFlowEvent({ type: 'searched', queryKind: 'hsa-id', hit: order, codes: ['NOPE'], at: T0 }).ok,
    ).toBe(false);
    expect(checkFlowEvent({ type: 'searched', queryKind: 'hsa-id', hit: order, codes: [], at: T0 }).ok).toBe(
      true,
    );
  });
});
