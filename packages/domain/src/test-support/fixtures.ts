// Test fixtures built through the public API only: a small organisation, admins, persons, an
// order, and a driver that walks the issuance flow to any step.
import { expect } from 'vitest';
import {
  applyFlowEvent,
  buildOrganisationTree,
  type CardNumber,
  type FlowEvent,
  type FlowOrder,
  type FlowState,
  type FlowTransition,
  type HsaId,
  type IdAdmin,
  type Instant,
  importStockBatch,
  luhnCheckDigit,
  type Order,
  type OrganisationTree,
  type Person,
  type PersonalNumber,
  parseCardNumber,
  parseHsaId,
  parsePersonalNumber,
  type Readers,
  type Result,
  registerOrder,
  type Step,
  type StockCard,
  startFlow,
} from '../index.js';

export const TODAY = { year: 2026, month: 11, day: 29 } as const;
export const T0: Instant = Date.UTC(2026, 10, 29, 9, 0, 0);
export const SECOND = 1000;

export const unwrap = <T, E>(result: Result<T, E>): T => {
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result.error)}`);
  return result.value;
};

export const hsa = (local: string): HsaId => unwrap(parseHsaId(`SE2321000016-${local}`));
export const card = (serial: number): CardNumber =>
  unwrap(parseCardNumber(`97522789000${String(serial).padStart(8, '0')}`));

/** A valid personnummer for a birth date and a serial, with its Luhn check digit. */
export const pnrText = (yyyymmdd: string, serial = '123'): string =>
  `${yyyymmdd}${serial}${luhnCheckDigit(`${yyyymmdd.slice(2)}${serial}`)}`;

export const pnr = (yyyymmdd: string, serial = '123'): PersonalNumber =>
  unwrap(parsePersonalNumber(pnrText(yyyymmdd, serial), TODAY)).personalNumber;

//        region
//        ├── hospital ── clinic
//        └── other
export const tree: OrganisationTree = unwrap(
  buildOrganisationTree([
    { id: 'region', parentId: null, name: 'Region Exempel' },
    { id: 'hospital', parentId: 'region', name: 'Sjukhuset' },
    { id: 'clinic', parentId: 'hospital', name: 'Kliniken' },
    { id: 'other', parentId: 'region', name: 'Annan förvaltning' },
  ]),
);

export const admins = {
  /** Registers orders: KRA at the hospital. */
  admin1: { hsaId: hsa('adm1'), grants: [{ role: 'KRA', branchId: 'hospital' }] },
  /** Completes orders: RA at the top with KUR. */
  admin2: {
    hsaId: hsa('adm2'),
    grants: [
      { role: 'RA', branchId: 'region' },
      { role: 'KUR', branchId: 'region' },
    ],
  },
  /** KRA elsewhere only. */
  outsider: { hsaId: hsa('adm3'), grants: [{ role: 'KRA', branchId: 'other' }] },
  /** ORA and LRA in the hospital: neither issues LoA3. */
  weakRoles: {
    hsaId: hsa('adm4'),
    grants: [
      { role: 'ORA', branchId: 'hospital' },
      { role: 'LRA', branchId: 'hospital' },
    ],
  },
  /** KRA at the hospital but no KUR. */
  noKur: { hsaId: hsa('adm5'), grants: [{ role: 'KRA', branchId: 'hospital' }] },
} satisfies Record<string, IdAdmin>;

const person = (
  local: string,
  personalNumber: PersonalNumber | null,
  extra: Partial<Person> = {},
): Person => ({
  hsaId: hsa(local),
  personalNumber,
  givenName: 'Test',
  surname: local,
  branchId: 'clinic',
  protectedIdentity: false,
  ...extra,
});

export const persons = {
  anna: person('anna', pnr('19800101')),
  hidden: person('hidden', pnr('19750505'), { protectedIdentity: true }),
  coordination: person('samo', pnr('19900171')),
  passportOnly: person('pass', null),
  minor: person('minor', pnr('20100101')),
} satisfies Record<string, Person>;

export const ADMIN_CARD = card(1);
export const LOA2_CARD = card(2);
export const RESERVE_CARD = card(100);
export const OTHER_CARD = card(200);

export const signatureOf = (admin: IdAdmin, at: Instant = T0) => ({
  signedBy: admin.hsaId,
  signedAt: at,
  assuranceLevel: 'LoA3' as const,
  certificateSerial: '01',
});

export const PRODUCT = { name: 'SITHS reservkort', maxValidityDays: 14 };

export const orderInput = (overrides: Partial<Parameters<typeof registerOrder>[0]> = {}) => ({
  id: 'order-1',
  person: persons.anna,
  cardNumber: RESERVE_CARD,
  validity: { notBefore: T0, notAfter: T0 + 7 * 86_400_000 },
  idDocument: 'swedish-passport',
  admin: admins.admin1,
  signature: signatureOf(admins.admin1),
  product: PRODUCT,
  tree,
  now: T0,
  cardHolder: () => null,
  ...overrides,
});

export const anOrder = (overrides: Partial<Parameters<typeof registerOrder>[0]> = {}): Order =>
  unwrap(registerOrder(orderInput(overrides)));

export const flowOrderOf = (order: Order): FlowOrder => ({
  orderId: order.id,
  cardNumber: order.cardNumber,
  recipientHsaId: order.recipient.hsaId,
  admin1HsaId: order.createdBy,
  protectedIdentity: order.recipient.protectedIdentity,
});

export const BOTH_READERS: Readers = {
  1: { connected: true, card: { cardNumber: ADMIN_CARD } },
  2: { connected: true, card: null },
};

/** Applies events one by one, failing the test on a refused event; returns the last transition. */
export class FlowDriver {
  state: FlowState;
  last: FlowTransition | null = null;
  private clock: Instant;

  constructor(readers: Readers = BOTH_READERS, at: Instant = T0) {
    this.state = startFlow('flow-1', readers, at);
    this.clock = at;
  }

  /** The time of the next event: one second after the previous one unless given. */
  tick(ms = SECOND): Instant {
    this.clock += ms;
    return this.clock;
  }

  get now(): Instant {
    return this.clock;
  }

  /** Applies an event; the result may be a refusal (for tests of refusals). */
  try(event: DistributiveOmit<FlowEvent, 'at'>, advance = SECOND) {
    const result = applyFlowEvent(this.state, { ...event, at: this.tick(advance) } as FlowEvent);
    if (result.ok) {
      this.state = result.value.state;
      this.last = result.value;
    }
    return result;
  }

  send(event: DistributiveOmit<FlowEvent, 'at'>, advance = SECOND): FlowTransition {
    const result = this.try(event, advance);
    expect(result.ok, JSON.stringify(result)).toBe(true);
    return unwrap(result);
  }

  /** Walks the happy path until the flow is at `step` (7 = waiting for acknowledgement). */
  to(step: Step, order: Order = anOrder(), login: { level?: 'LoA2' | 'LoA3' } = {}): this {
    const steps: (() => void)[] = [
      () =>
        this.send({
          type: 'logged-in',
          admin: admins.admin2.hsaId,
          assuranceLevel: login.level ?? 'LoA3',
          cardNumber: ADMIN_CARD,
          reader: 1,
        }),
      () => this.send({ type: 'manage-orders' }),
      () => {
        this.send({ type: 'searched', queryKind: 'personal-number', hit: flowOrderOf(order), codes: [] });
        this.send({ type: 'order-selected' });
      },
      () => this.send({ type: 'signed', outcome: 'ok', cardNumber: ADMIN_CARD }),
      () => {
        this.send({ type: 'card-inserted', reader: 2, cardNumber: order.cardNumber });
        this.send({ type: 'handover-confirmed' });
        this.send({ type: 'handover-verified', cardNumber: order.cardNumber });
      },
      () => {
        this.send({ type: 'terms-accepted', accepted: true });
        this.send({ type: 'download-requested' });
        this.send({ type: 'key-generation-started' });
      },
      () => {
        this.send({ type: 'keys-generated' });
        this.send({ type: 'dialog-shown', dialog: 'auth' });
        this.send({ type: 'dialog-completed', dialog: 'auth' });
        this.send({ type: 'dialog-shown', dialog: 'sign' });
        this.send({ type: 'dialog-completed', dialog: 'sign' });
        this.send({ type: 'issuance-claimed' });
        this.send({ type: 'certificates-issued', serials: ['0a01', '0a02'] });
        this.send({ type: 'certificates-written' });
      },
    ];
    while (this.state.step < step) {
      const next = steps[this.state.step];
      if (next === undefined) break;
      next();
    }
    return this;
  }
}

export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A sealed 473 card made on 2026-03-15 (usable through 2030-03-14), in the clinic's stock. */
export const aStockCard = (overrides: Partial<StockCard> = {}): StockCard => {
  const [imported] = unwrap(
    importStockBatch({
      lines: [{ cardNumber: RESERVE_CARD, product: '473', manufactured: '2026-03-15' }],
      stationId: 'clinic',
      tree,
      now: T0,
      inStock: () => null,
    }),
  );
  if (imported === undefined) throw new Error('no card imported');
  return { ...imported, ...overrides };
};
