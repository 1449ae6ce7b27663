import { describe, expect, it } from 'vitest';
import {
  type AccessContext,
  classifySearchQuery,
  decideOrderAccess,
  diagnoseSearch,
  explainedOrder,
  type Order,
  transitionOrder,
} from '../index.js';
import {
  admins,
  anOrder,
  persons,
  pnrText,
  SECOND,
  signatureOf,
  T0,
  TODAY,
  tree,
} from '../test-support/fixtures.js';

const ctx = (overrides: Partial<AccessContext> = {}): AccessContext => ({
  tree,
  admin: admins.admin2,
  assuranceLevel: 'LoA3',
  now: T0 + SECOND,
  ...overrides,
});
const query = classifySearchQuery(pnrText('19800101'), TODAY);

describe('may admin 2 see and complete an order?', () => {
  const order = anOrder();

  it('yes, for an admin with RA above the branch who did not create it', () => {
    expect(decideOrderAccess(ctx(), order)).toEqual({ allowed: true });
  });

  it.each([
    ['a LoA2 login', ctx({ assuranceLevel: 'LoA2' }), ['LOA2_LOGIN']],
    ['no KRA/RA in the branch', ctx({ admin: admins.outsider }), ['NO_ROLE_IN_BRANCH']],
    ['only ORA and LRA', ctx({ admin: admins.weakRoles }), ['NO_ROLE_IN_BRANCH']],
    ['admin 1 itself', ctx({ admin: admins.admin1 }), ['OWN_ORDER']],
    [
      'an expired order, own',
      ctx({ admin: admins.admin1, now: order.validity.notAfter }),
      ['OWN_ORDER', 'ORDER_EXPIRED'],
    ],
  ])('no, for %s', (_name, context, reasons) => {
    expect(decideOrderAccess(context, order)).toEqual({ allowed: false, reasons });
  });

  it('tells an admin without KUR nothing but PROTECTED_NEEDS_KUR about a protected recipient', () => {
    const hidden = anOrder({
      person: persons.hidden,
      admin: admins.admin2,
      signature: signatureOf(admins.admin2),
    });
    const decision = decideOrderAccess(ctx({ admin: admins.noKur }), hidden);
    expect(decision).toEqual({ allowed: false, reasons: ['PROTECTED_NEEDS_KUR'] });
    // Even when it was their own order's state to tell: the decision says nothing more.
    const expired = decideOrderAccess(ctx({ admin: admins.noKur, now: hidden.validity.notAfter }), hidden);
    expect(expired).toEqual({ allowed: false, reasons: ['PROTECTED_NEEDS_KUR'] });
  });

  it('does not name the branch when the role is missing', () => {
    const decision = decideOrderAccess(ctx({ admin: admins.outsider }), order);
    expect(JSON.stringify(decision)).not.toContain('clinic');
  });
});

describe('step 2 search diagnosis', () => {
  const started = (order: Order): Order => {
    const result = transitionOrder(order, { type: 'start', at: T0 + SECOND });
    if (!result.ok) throw new Error(result.error.code);
    return result.value;
  };

  it('finds the newest usable order and keeps the query’s notices', () => {
    const older = anOrder({ id: 'old' });
    const newer = anOrder({
      id: 'new',
      now: T0 + 10,
      validity: { notBefore: T0 + 10, notAfter: T0 + 86_400_000 },
    });
    const dashed = classifySearchQuery(
      `${pnrText('19800101').slice(2, 8)}-${pnrText('19800101').slice(8)}`,
      TODAY,
    );
    const outcome = diagnoseSearch(dashed, { person: persons.anna, orders: [older, newer] }, ctx());
    expect(outcome).toMatchObject({ kind: 'found', order: { id: 'new' }, codes: ['PNR_FORMAT'] });
  });

  it('skips an order of its own when another admin’s order is usable', () => {
    const own = anOrder({
      id: 'own',
      admin: admins.admin2,
      signature: signatureOf(admins.admin2),
      now: T0 + 5,
    });
    const other = anOrder({ id: 'other' });
    const outcome = diagnoseSearch(query, { person: persons.anna, orders: [own, other] }, ctx());
    expect(outcome).toMatchObject({ kind: 'found', order: { id: 'other' } });
  });

  it('explains the open order rather than an old closed one', () => {
    const used = anOrder({ id: 'used' });
    const completed = transitionOrder(started(used), { type: 'complete', at: T0 + 2 * SECOND });
    if (!completed.ok) throw new Error('complete');
    const own = anOrder({ id: 'own', now: T0 + 10 });
    const outcome = diagnoseSearch(
      query,
      { person: persons.anna, orders: [completed.value, own] },
      ctx({ admin: admins.admin1 }),
    );
    expect(outcome).toEqual({ kind: 'not-found', codes: ['OWN_ORDER'] });
    // A support case names the order explained, as the search did.
    const match = { person: persons.anna, orders: [completed.value, own] };
    expect(explainedOrder(match, ctx({ admin: admins.admin1 }))?.id).toBe('own');
  });

  it('names no explained order where the search found one, or the admin may not see the person', () => {
    const order = anOrder();
    expect(explainedOrder({ person: persons.anna, orders: [order] }, ctx())).toBeNull();
    expect(explainedOrder(null, ctx())).toBeNull();
    const own = { person: persons.anna, orders: [order] };
    expect(explainedOrder(own, ctx({ admin: admins.admin1, assuranceLevel: 'LoA2' }))).toBeNull();
    const hidden = { person: persons.hidden, orders: [anOrder()] };
    expect(diagnoseSearch(query, hidden, ctx({ admin: admins.admin1 })).codes).toEqual([
      'PROTECTED_NEEDS_KUR',
    ]);
    expect(explainedOrder(hidden, ctx({ admin: admins.admin1 }))).toBeNull();
  });

  it('says an order is being handled when its only order is in progress', () => {
    const outcome = diagnoseSearch(query, { person: persons.anna, orders: [started(anOrder())] }, ctx());
    expect(outcome).toEqual({ kind: 'not-found', codes: ['ORDER_STATE_CONFLICT'] });
  });

  it('stops at the login level, the person, the role and KUR, in that order', () => {
    const match = { person: persons.anna, orders: [anOrder()] };
    expect(diagnoseSearch(query, match, ctx({ assuranceLevel: 'LoA2' })).codes).toEqual(['LOA2_LOGIN']);
    expect(diagnoseSearch(query, null, ctx()).codes).toEqual(['NO_ORDER']);
    expect(diagnoseSearch(query, match, ctx({ admin: admins.outsider })).codes).toEqual([
      'NO_ROLE_IN_BRANCH',
    ]);
    const hidden = { person: persons.hidden, orders: [] };
    expect(diagnoseSearch(query, hidden, ctx({ admin: admins.noKur })).codes).toEqual([
      'PROTECTED_NEEDS_KUR',
    ]);
    expect(diagnoseSearch(query, { person: persons.passportOnly, orders: [] }, ctx()).codes).toEqual([
      'NOT_ELIGIBLE',
    ]);
  });

  it('passes the codes of a query it cannot search for straight through', () => {
    expect(diagnoseSearch(classifySearchQuery('abc1', TODAY), null, ctx())).toEqual({
      kind: 'not-found',
      codes: ['HSA_ID_INCOMPLETE'],
    });
  });
});
