// Every code of the catalogue, reached through the public domain API. The scenario table is typed
// by the code list, so a new code without a scenario does not compile, and the last test fails
// if the table and the list ever differ at run time.
import { describe, expect, it } from 'vitest';
import {
  type AgentCode,
  buildOrganisationTree,
  buildSupportCase,
  CODE_INFO,
  type Control,
  type ControlId,
  cardNumberProblem,
  classifySearchQuery,
  decideOrderAccess,
  decideSparr,
  diagnoseSearch,
  ERROR_CODES,
  type ErrorCode,
  extensionValidity,
  type FlowState,
  flowControls,
  holderCardProblem,
  type IdAdmin,
  type Instant,
  importStockBatch,
  type Order,
  type Person,
  type PkiCode,
  parseDate,
  registerOrder,
  type SearchMatch,
  type ServerCode,
  stockProblem,
  type TimelineEntry,
  transitionOrder,
  transitionStockCard,
} from '../index.js';
import {
  ADMIN_CARD,
  admins,
  anOrder,
  aStockCard,
  FlowDriver,
  flowOrderOf,
  hsa,
  OTHER_CARD,
  orderInput,
  persons,
  pnrText,
  RESERVE_CARD,
  SECOND,
  signatureOf,
  T0,
  TODAY,
  tree,
} from '../test-support/fixtures.js';

interface Reached {
  /** The codes the public API returned. */
  readonly codes: readonly ErrorCode[];
  /** The control the code disables, and the controls of the screen. */
  readonly control?: { readonly id: ControlId; readonly controls: readonly Control[] };
  /** The timeline entry that recorded the code. */
  readonly entry?: TimelineEntry | null;
}

const fromTransition = (driver: FlowDriver, id?: ControlId, at: Instant = driver.now): Reached => {
  const last = driver.last;
  if (last === null) throw new Error('no transition');
  return {
    codes: last.raised.map((e) => e.code),
    entry: last.entry,
    ...(id ? { control: { id, controls: flowControls(driver.state, at) } } : {}),
  };
};

/** Step 2: classify, diagnose, record the search on the flow; the select button explains the miss. */
const search = (
  query: string,
  match: SearchMatch | null,
  opts: { admin?: IdAdmin; now?: Instant; order?: Order } = {},
): Reached => {
  const driver = new FlowDriver().to(2);
  const q = classifySearchQuery(query, TODAY);
  const outcome = diagnoseSearch(q, match, {
    tree,
    admin: opts.admin ?? admins.admin2,
    assuranceLevel: 'LoA3',
    now: opts.now ?? T0,
  });
  driver.send({
    type: 'searched',
    queryKind: q.kind,
    hit: outcome.kind === 'found' ? flowOrderOf(outcome.order) : null,
    codes: outcome.codes,
  });
  return fromTransition(driver, outcome.kind === 'found' ? undefined : 'select-order');
};

const annaPnr = pnrText('19800101');
const matchOf = (person: Person, orders: readonly Order[]): SearchMatch => ({ person, orders });
const registrationCodes = (overrides: Partial<Parameters<typeof registerOrder>[0]>): Reached => {
  const result = registerOrder(orderInput(overrides));
  return { codes: result.ok ? [] : result.error.map((e) => e.code) };
};
const resultCodes = (result: { ok: boolean; error?: { code: ErrorCode } }): Reached => ({
  codes: result.ok || result.error === undefined ? [] : [result.error.code],
});

const registrationLike = (result: { ok: boolean; error?: readonly { code: ErrorCode }[] }): Reached => ({
  codes: result.ok || result.error === undefined ? [] : result.error.map((e) => e.code),
});
const problemCodes = (problem: { code: ErrorCode } | null): Reached => ({
  codes: problem === null ? [] : [problem.code],
});
/** Anna's reserve card, issued at T0 for 14 days, from the clinic's stock. */
const EXTENDABLE = {
  current: { notBefore: T0, notAfter: T0 + 14 * 86_400_000 },
  ordered: { notBefore: T0, notAfter: T0 + 14 * 86_400_000 },
  physicalExpiry: { year: 2030, month: 3, day: 14 },
  revoked: false,
  extendedAt: null,
} as const;
const SPARRABLE = {
  holder: persons.anna.hsaId,
  branchId: 'clinic',
  protectedIdentity: false,
  revoked: false,
  serials: ['0a01', '0a02'],
} as const;

const atStep6WithKeys = (): FlowDriver => {
  const driver = new FlowDriver().to(6);
  driver.send({ type: 'keys-generated' });
  return driver;
};

/** Codes raised by the certificate authority and the card agent are reached by those packages' tests. */
type DomainCode = Exclude<ErrorCode, PkiCode | AgentCode | ServerCode>;
const DOMAIN_CODES = ERROR_CODES.filter(
  (code): code is DomainCode => !['pki', 'agent', 'server'].includes(String(CODE_INFO[code].step)),
);

const scenarios: { readonly [C in DomainCode]: () => Reached } = {
  READERS_MISSING: () => {
    const driver = new FlowDriver({
      1: { connected: true, card: { cardNumber: ADMIN_CARD } },
      2: { connected: false, card: null },
    });
    driver.send({
      type: 'logged-in',
      admin: admins.admin2.hsaId,
      assuranceLevel: 'LoA3',
      cardNumber: ADMIN_CARD,
      reader: 1,
    });
    expect(driver.state.login).toBeNull();
    return fromTransition(driver, 'login');
  },
  LOA2_LOGIN: () => fromTransition(new FlowDriver().to(1, anOrder(), { level: 'LoA2' }), 'manage-orders'),
  NO_ROLE_IN_BRANCH: () => search(annaPnr, matchOf(persons.anna, [anOrder()]), { admin: admins.outsider }),
  HSA_ID_INCOMPLETE: () => search('abc1', null),
  PNR_FORMAT: () => {
    const reached = search(`${annaPnr.slice(2, 8)}-${annaPnr.slice(8)}`, matchOf(persons.anna, [anOrder()]));
    expect(reached.entry?.details?.hit).toBe(true);
    return reached;
  },
  NO_ORDER: () => search(annaPnr, matchOf(persons.anna, [])),
  OWN_ORDER: () => search(annaPnr, matchOf(persons.anna, [anOrder()]), { admin: admins.admin1 }),
  PROTECTED_NEEDS_KUR: () => {
    const hidden = anOrder({
      person: persons.hidden,
      admin: admins.admin2,
      signature: signatureOf(admins.admin2),
    });
    return search(pnrText('19750505'), matchOf(persons.hidden, [hidden]), { admin: admins.noKur });
  },
  NOT_ELIGIBLE: () => search(pnrText('19900171'), matchOf(persons.coordination, [])),
  ORDER_EXPIRED: () => search(annaPnr, matchOf(persons.anna, [anOrder()]), { now: T0 + 8 * 86_400_000 }),
  ORDER_USED: () => {
    const order = anOrder();
    const started = transitionOrder(order, { type: 'start', at: T0 + SECOND });
    if (!started.ok) throw new Error('start');
    const done = transitionOrder(started.value, { type: 'complete', at: T0 + 2 * SECOND });
    if (!done.ok) throw new Error('complete');
    return search(annaPnr, matchOf(persons.anna, [done.value]));
  },
  CARD_REINSERTED: () => {
    const driver = new FlowDriver().to(3);
    driver.send({ type: 'card-removed', reader: 1 });
    const removal = fromTransition(driver, 'sign');
    expect(removal.codes).toContain('CARD_REINSERTED');
    driver.send({ type: 'card-inserted', reader: 1, cardNumber: ADMIN_CARD });
    driver.send({ type: 'signed', outcome: 'ok', cardNumber: ADMIN_CARD });
    expect(driver.state.step).toBe(3);
    return fromTransition(driver, 'sign');
  },
  SIGN_FAILED: () => {
    const driver = new FlowDriver().to(3);
    driver.send({ type: 'signed', outcome: 'failed', cardNumber: ADMIN_CARD });
    expect(flowControls(driver.state, driver.now).find((c) => c.id === 'sign')?.enabled).toBe(true);
    driver.send({ type: 'signed', outcome: 'failed', cardNumber: ADMIN_CARD });
    return fromTransition(driver, 'sign');
  },
  WRONG_CARD: () => {
    const driver = new FlowDriver().to(4);
    driver.send({ type: 'card-inserted', reader: 2, cardNumber: OTHER_CARD });
    const reached = fromTransition(driver, 'confirm-handover');
    expect(reached.entry?.details).toMatchObject({ expected: RESERVE_CARD, actual: OTHER_CARD });
    return reached;
  },
  ONE_READER_USED: () => {
    const driver = new FlowDriver().to(4);
    driver.send({ type: 'reader-unplugged', reader: 2 });
    // The reader is back: the gap is on record, and the flow stops there (not at the next click).
    driver.send({ type: 'reader-plugged', reader: 2 });
    const reached = fromTransition(driver, 'confirm-handover');
    expect(driver.state.fault).toMatchObject({ code: 'ONE_READER_USED', details: { gaps: 1, reader: 2 } });
    driver.send({ type: 'card-inserted', reader: 2, cardNumber: RESERVE_CARD });
    const after = flowControls(driver.state, driver.now).find((c) => c.id === 'confirm-handover');
    expect(after).toMatchObject({ enabled: false, reason: { code: 'ONE_READER_USED' } });
    expect(driver.try({ type: 'handover-confirmed' }).ok).toBe(true);
    expect(driver.state.step).toBe(4);
    return reached;
  },
  HANDOVER_STUCK: () => {
    const driver = new FlowDriver().to(4);
    driver.send({ type: 'card-inserted', reader: 2, cardNumber: RESERVE_CARD });
    driver.send({ type: 'handover-confirmed' });
    driver.send({ type: 'tick' }, 31 * SECOND);
    return fromTransition(driver, 'confirm-handover');
  },
  DOWNLOAD_START_STUCK: () => {
    const driver = new FlowDriver().to(5);
    driver.send({ type: 'terms-accepted', accepted: true });
    driver.send({ type: 'download-requested' });
    driver.send({ type: 'tick' }, 31 * SECOND);
    return fromTransition(driver, 'start-download');
  },
  CARD_REMOVED_DURING_DOWNLOAD: () => {
    const driver = atStep6WithKeys();
    driver.send({ type: 'card-removed', reader: 2 });
    expect(driver.last?.effects).toContainEqual({ type: 'clean-card', cardNumber: RESERVE_CARD });
    return fromTransition(driver);
  },
  AUTH_DIALOG_NOT_SHOWN: () => {
    const driver = atStep6WithKeys();
    driver.send({ type: 'tick' }, 61 * SECOND);
    return fromTransition(driver);
  },
  SIGN_DIALOG_NOT_SHOWN: () => {
    const driver = atStep6WithKeys();
    driver.send({ type: 'dialog-shown', dialog: 'auth' });
    driver.send({ type: 'dialog-completed', dialog: 'auth' });
    driver.send({ type: 'dialog-not-shown', dialog: 'sign' });
    return fromTransition(driver);
  },
  DOWNLOAD_FAILED: () => {
    const driver = atStep6WithKeys();
    driver.send({ type: 'download-failed', reason: 'token write error' });
    return fromTransition(driver);
  },
  ACK_TIMEOUT: () => {
    const driver = new FlowDriver().to(7);
    const deadline = driver.state.deadline ?? 0;
    const controls = flowControls(driver.state, deadline);
    driver.send({ type: 'tick' }, deadline - driver.now);
    expect(driver.state.status).toBe('ack-timeout-revoked');
    expect(driver.last?.effects).toContainEqual({
      type: 'revoke-certificates',
      serials: ['0a01', '0a02'],
      reason: 'cessationOfOperation',
    });
    return { ...fromTransition(driver), control: { id: 'acknowledge', controls } };
  },
  PNR_INVALID: () => search('12345678', null),
  PNR_CHECK_DIGIT: () => search(`${annaPnr.slice(0, 11)}${(Number(annaPnr[11]) + 1) % 10}`, null),
  PNR_DATE: () => search(pnrText('19801301'), null),
  HSA_ID_INVALID: () => search('SE2321000016-ab_c', null),
  CARD_NUMBER_INVALID: () => registrationCodes({ cardNumber: '1234' }),
  QUERY_INVALID: () => search('   ', null),
  DATE_INVALID: () => resultCodes(parseDate('2026-02-30')),
  ORGANISATION_INVALID: () =>
    resultCodes(
      buildOrganisationTree([
        { id: 'a', parentId: 'b', name: 'A' },
        { id: 'b', parentId: 'a', name: 'B' },
      ]),
    ),
  BRANCH_UNKNOWN: () => registrationCodes({ person: { ...persons.anna, branchId: 'nowhere' } }),
  RECIPIENT_UNDERAGE: () => search(pnrText('20100101'), matchOf(persons.minor, [])),
  ID_DOCUMENT_NOT_LOA3: () => registrationCodes({ idDocument: 'foreign-passport' }),
  CARD_NUMBER_TAKEN: () => registrationCodes({ cardHolder: () => persons.hidden.hsaId }),
  VALIDITY_INVALID: () => registrationCodes({ validity: { notBefore: T0, notAfter: T0 - 1 } }),
  VALIDITY_TOO_LONG: () => registrationCodes({ validity: { notBefore: T0, notAfter: T0 + 30 * 86_400_000 } }),
  ORDER_NOT_SIGNED: () => registrationCodes({ signature: null }),
  ORDER_CANCELLED: () => {
    const cancelled = transitionOrder(anOrder(), { type: 'cancel', at: T0 + SECOND });
    if (!cancelled.ok) throw new Error('cancel');
    return search(annaPnr, matchOf(persons.anna, [cancelled.value]));
  },
  ORDER_STATE_CONFLICT: () => {
    const started = transitionOrder(anOrder(), { type: 'start', at: T0 + SECOND });
    if (!started.ok) throw new Error('start');
    const decision = decideOrderAccess(
      { tree, admin: admins.admin2, assuranceLevel: 'LoA3', now: T0 + 2 * SECOND },
      started.value,
    );
    return { codes: decision.allowed ? [] : decision.reasons };
  },
  CARD_ALREADY_ISSUED: () => {
    const started = transitionOrder(anOrder(), { type: 'start', at: T0 + SECOND });
    if (!started.ok) throw new Error('start');
    const completed = transitionOrder(started.value, { type: 'complete', at: T0 + 2 * SECOND });
    if (!completed.ok) throw new Error('complete');
    const problem = cardNumberProblem(
      { orders: [completed.value], certifiedFor: [persons.anna.hsaId] },
      persons.anna.hsaId,
      T0 + 3 * SECOND,
    );
    return { codes: problem === null ? [] : [problem] };
  },
  CARD_ALREADY_ORDERED: () => {
    const problem = cardNumberProblem({ orders: [anOrder()], certifiedFor: [] }, persons.anna.hsaId, T0);
    return { codes: problem === null ? [] : [problem] };
  },
  NOT_LOGGED_IN: () => resultCodes(new FlowDriver().try({ type: 'manage-orders' })),
  RESERVE_CARD_MISSING: () => {
    const driver = new FlowDriver().to(4);
    driver.send({ type: 'handover-confirmed' });
    return fromTransition(driver, 'confirm-handover');
  },
  TERMS_NOT_ACCEPTED: () => {
    const driver = new FlowDriver().to(5);
    driver.send({ type: 'download-requested' });
    return fromTransition(driver, 'start-download');
  },
  ACTION_PENDING: () => {
    const driver = new FlowDriver().to(4);
    driver.send({ type: 'card-inserted', reader: 2, cardNumber: RESERVE_CARD });
    driver.send({ type: 'handover-confirmed' });
    driver.send({ type: 'handover-confirmed' });
    return fromTransition(driver, 'confirm-handover');
  },
  PIN_DIALOG_CANCELLED: () => {
    const driver = atStep6WithKeys();
    driver.send({ type: 'dialog-shown', dialog: 'auth' });
    driver.send({ type: 'dialog-cancelled', dialog: 'auth' });
    return fromTransition(driver);
  },
  EVENT_OUT_OF_ORDER: () => resultCodes(new FlowDriver().to(2).try({ type: 'key-generation-started' })),
  FLOW_ENDED: () => {
    const driver = new FlowDriver().to(7);
    driver.send({ type: 'acknowledged', cardNumber: RESERVE_CARD });
    expect(driver.state.status).toBe('completed');
    expect(driver.try({ type: 'tick' }).ok).toBe(true);
    return resultCodes(driver.try({ type: 'manage-orders' }));
  },
  CERTIFICATES_ALREADY_REQUESTED: () => {
    const driver = atStep6WithKeys();
    driver.send({ type: 'dialog-completed', dialog: 'auth' });
    driver.send({ type: 'dialog-completed', dialog: 'sign' });
    driver.send({ type: 'issuance-claimed' });
    return resultCodes(driver.try({ type: 'issuance-claimed' }));
  },
  TEXT_TOO_LONG: () => {
    const flow: FlowState = new FlowDriver().to(3).state;
    return resultCodes(
      buildSupportCase({
        flow,
        agent: null,
        certificatesOnCard: [],
        comment: 'x'.repeat(5000),
        reportedBy: admins.admin2.hsaId,
        at: T0,
      }),
    );
  },
  STOCK_LINE_INVALID: () =>
    registrationLike(
      importStockBatch({
        lines: [{ cardNumber: RESERVE_CARD, product: '999', manufactured: '2026-03-15' }],
        stationId: 'clinic',
        tree,
        now: T0,
        inStock: () => null,
      }),
    ),
  CARD_ALREADY_IN_STOCK: () =>
    registrationLike(
      importStockBatch({
        lines: [{ cardNumber: RESERVE_CARD, product: '473', manufactured: '2026-03-15' }],
        stationId: 'clinic',
        tree,
        now: T0,
        inStock: () => aStockCard(),
      }),
    ),
  CARD_NOT_IN_STOCK: () => problemCodes(stockProblem(RESERVE_CARD, null, 'clinic', TODAY)),
  CARD_AT_OTHER_STATION: () => problemCodes(stockProblem(RESERVE_CARD, aStockCard(), 'other', TODAY)),
  CARD_PAST_PHYSICAL_EXPIRY: () =>
    problemCodes(stockProblem(RESERVE_CARD, aStockCard(), 'clinic', { year: 2030, month: 3, day: 15 })),
  CARD_ALREADY_GIVEN: () =>
    problemCodes(
      stockProblem(
        RESERVE_CARD,
        aStockCard({ state: 'issued', holder: persons.anna.hsaId }),
        'clinic',
        TODAY,
      ),
    ),
  CARD_DESTROYED: () =>
    resultCodes(transitionStockCard(aStockCard({ state: 'destroyed' }), { type: 'destroy', at: T0 })),
  CARD_STOCK_CONFLICT: () => resultCodes(transitionStockCard(aStockCard(), { type: 'return', at: T0 })),
  EXTENSION_ALREADY_USED: () =>
    resultCodes(extensionValidity({ ...EXTENDABLE, extendedAt: T0 }, T0 + SECOND)),
  EXTENSION_TOO_LATE: () => resultCodes(extensionValidity(EXTENDABLE, T0 + 15 * 86_400_000)),
  EXTENSION_CARD_REVOKED: () => resultCodes(extensionValidity({ ...EXTENDABLE, revoked: true }, T0 + SECOND)),
  REVOCATION_NOT_PERMITTED: () =>
    resultCodes(decideSparr(tree, { kind: 'holder', hsaId: hsa('someone') }, SPARRABLE, 'card-lost')),
  REVOCATION_REASON_NOT_OFFERED: () =>
    resultCodes(
      decideSparr(tree, { kind: 'holder', hsaId: persons.anna.hsaId }, SPARRABLE, 'left-organisation'),
    ),
  NOT_A_RESERVE_CARD: () => resultCodes(holderCardProblem({ issuedForOrder: false, assuranceLevel: 'LoA3' })),
};

/** Codes that belong to the flow's steps are recorded on its timeline. */
const onTimeline = (code: ErrorCode): boolean =>
  typeof CODE_INFO[code].step === 'number' || CODE_INFO[code].step === 'before-1';

describe('catalogue scenarios', () => {
  describe.each([...DOMAIN_CODES])('%s', (code) => {
    it('is reached through the public API, disables its control and is on the timeline', () => {
      const reached = scenarios[code]();
      expect(reached.codes).toContain(code);
      if (reached.control) {
        const control = reached.control.controls.find((c) => c.id === reached.control?.id);
        expect(control, `control ${reached.control.id}`).toMatchObject({ enabled: false, reason: { code } });
      }
      if (onTimeline(code)) {
        expect(reached.entry, 'timeline entry').toBeTruthy();
        expect(reached.entry?.codes).toContain(code);
      }
    });
  });

  it('has a scenario for every code and no scenario for an unknown one', () => {
    expect(Object.keys(scenarios).sort()).toEqual([...DOMAIN_CODES].sort());
  });
});
