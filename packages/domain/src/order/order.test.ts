import { describe, expect, it } from 'vitest';
import {
  closedOrderCode,
  type DomainError,
  isIdDocument,
  orderStateAt,
  recipientEligibility,
  registerOrder,
  transitionOrder,
} from '../index.js';
import {
  admins,
  anOrder,
  orderInput,
  persons,
  RESERVE_CARD,
  SECOND,
  signatureOf,
  T0,
  TODAY,
  tree,
} from '../test-support/fixtures.js';

const DAY = 86_400_000;
const codesOf = (result: { ok: boolean; error?: readonly DomainError[] }) =>
  result.ok ? [] : (result.error ?? []).map((e) => e.code);

describe('registering an order', () => {
  it('records admin 1, the card, the validity, the document and the signature', () => {
    const order = anOrder();
    expect(order).toMatchObject({
      id: 'order-1',
      state: 'registered',
      cardNumber: RESERVE_CARD,
      createdBy: admins.admin1.hsaId,
      idDocument: 'swedish-passport',
      recipient: { hsaId: persons.anna.hsaId, branchId: 'clinic', protectedIdentity: false },
    });
  });

  it('accepts a card number typed with spaces and lets the same person get the same card again', () => {
    const order = registerOrder(
      orderInput({ cardNumber: '9752 2789 0000 0000 100', cardHolder: () => persons.anna.hsaId }),
    );
    expect(order.ok).toBe(true);
  });

  it('reports every problem at once', () => {
    const result = registerOrder(
      orderInput({
        admin: admins.weakRoles,
        signature: null,
        cardNumber: '12',
        idDocument: 'other',
        person: persons.minor,
        validity: { notBefore: T0, notAfter: T0 + 20 * DAY },
      }),
    );
    expect(codesOf(result)).toEqual([
      'NO_ROLE_IN_BRANCH',
      'ORDER_NOT_SIGNED',
      'CARD_NUMBER_INVALID',
      'VALIDITY_TOO_LONG',
      'RECIPIENT_UNDERAGE',
      'ID_DOCUMENT_NOT_LOA3',
    ]);
  });

  it('refuses a LoA2 signature and a signature by someone else', () => {
    const loa2 = { ...signatureOf(admins.admin1), assuranceLevel: 'LoA2' as const };
    expect(codesOf(registerOrder(orderInput({ signature: loa2 })))).toEqual(['LOA2_LOGIN']);
    const other = { ...signatureOf(admins.admin1), signedBy: admins.admin2.hsaId };
    expect(codesOf(registerOrder(orderInput({ signature: other })))).toEqual(['ORDER_NOT_SIGNED']);
  });

  it('refuses validity in the past, reversed, or not a number', () => {
    const past = { notBefore: T0 - 2 * DAY, notAfter: T0 - DAY };
    expect(codesOf(registerOrder(orderInput({ validity: past })))).toEqual(['VALIDITY_INVALID']);
    const nan = { notBefore: Number.NaN, notAfter: T0 };
    expect(codesOf(registerOrder(orderInput({ validity: nan })))).toEqual(['VALIDITY_INVALID']);
  });

  it('refuses samordningsnummer and passport-only persons', () => {
    expect(codesOf(registerOrder(orderInput({ person: persons.coordination })))).toEqual(['NOT_ELIGIBLE']);
    expect(codesOf(registerOrder(orderInput({ person: persons.passportOnly })))).toEqual(['NOT_ELIGIBLE']);
  });

  it('says nothing but PROTECTED_NEEDS_KUR about a protected person to an admin without KUR', () => {
    const result = registerOrder(orderInput({ person: persons.hidden, signature: null, cardNumber: 'x' }));
    expect(result).toEqual({ ok: false, error: [{ code: 'PROTECTED_NEEDS_KUR' }] });
  });

  it('refuses an unknown ID document by name', () => {
    expect(codesOf(registerOrder(orderInput({ idDocument: 'library-card' })))).toEqual([
      'ID_DOCUMENT_NOT_LOA3',
    ]);
    expect(isIdDocument('swedish-passport')).toBe(true);
    expect(isIdDocument(42)).toBe(false);
  });

  it('checks eligibility with the ID document', () => {
    expect(recipientEligibility(persons.anna, 'swedish-driving-licence', TODAY)).toEqual([]);
    expect(recipientEligibility(persons.anna, 'foreign-passport', TODAY)).toEqual(['ID_DOCUMENT_NOT_LOA3']);
  });

  it('works with the tree it was given', () => {
    expect(codesOf(registerOrder(orderInput({ tree, person: { ...persons.anna, branchId: 'x' } })))).toEqual([
      'BRANCH_UNKNOWN',
    ]);
  });
});

describe('order states', () => {
  const order = anOrder();
  const at = T0 + SECOND;

  it('goes registered → in progress → completed', () => {
    const started = transitionOrder(order, { type: 'start', at });
    expect(started).toMatchObject({ ok: true, value: { state: 'in_progress', stateChangedAt: at } });
    if (!started.ok) return;
    expect(transitionOrder(started.value, { type: 'complete', at })).toMatchObject({
      value: { state: 'completed' },
    });
    expect(transitionOrder(started.value, { type: 'release', at })).toMatchObject({
      value: { state: 'registered' },
    });
    expect(transitionOrder(started.value, { type: 'cancel', at })).toMatchObject({
      value: { state: 'cancelled' },
    });
  });

  it('expires an unused order at the end of its validity', () => {
    const end = order.validity.notAfter;
    expect(orderStateAt(order, end - 1)).toBe('registered');
    expect(orderStateAt(order, end)).toBe('expired');
    expect(transitionOrder(order, { type: 'start', at: end })).toEqual({
      ok: false,
      error: { code: 'ORDER_EXPIRED', details: { state: 'expired' } },
    });
    expect(transitionOrder(order, { type: 'expire', at })).toMatchObject({ value: { state: 'expired' } });
    expect(transitionOrder(order, { type: 'expire', at: end + 1 })).toMatchObject({
      value: { state: 'expired' },
    });
  });

  it('refuses transitions that make no sense', () => {
    expect(transitionOrder(order, { type: 'complete', at })).toMatchObject({
      ok: false,
      error: { code: 'ORDER_STATE_CONFLICT' },
    });
    const started = transitionOrder(order, { type: 'start', at });
    if (!started.ok) throw new Error('start');
    expect(transitionOrder(started.value, { type: 'start', at })).toMatchObject({
      error: { code: 'ORDER_STATE_CONFLICT' },
    });
  });

  it('names the code for each closed state', () => {
    expect(closedOrderCode('completed')).toBe('ORDER_USED');
    expect(closedOrderCode('expired')).toBe('ORDER_EXPIRED');
    expect(closedOrderCode('cancelled')).toBe('ORDER_CANCELLED');
    expect(closedOrderCode('registered')).toBeNull();
    expect(closedOrderCode('in_progress')).toBeNull();
  });
});
