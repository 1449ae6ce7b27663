// Directory data the acceptance tests need beyond the issuance harness: administrators with other
// roles and cards (one without a role in the recipients' branch, one with a LoA2 card, a service
// desk member), and recipients that provoke each search diagnosis (protected identity,
// samordningsnummer, no order, an expired order, a used order).
import {
  buildOrganisationTree,
  type CardNumber,
  DAY,
  type HsaId,
  luhnCheckDigit,
  type Order,
  type OrderState,
  type Person,
  parsePersonalNumber,
  registerOrder,
  transitionOrder,
} from '@reservkort/domain';
import {
  getAdmin,
  grantRole,
  grantStaffRole,
  insertAdmin,
  insertOrder,
  insertPerson,
  listBranches,
  upsertBranches,
} from '@reservkort/store';
import { ADMIN1, ADMIN2, type Harness } from './issuance-harness.js';
import { provisionCard } from './provision-card.js';
import { stockTestCards } from './test-stock.js';

/** A valid personnummer (or samordningsnummer, day + 60) for a birth date and a serial. */
export const personalNumberText = (yyyymmdd: string, serial = '123'): string =>
  `${yyyymmdd}${serial}${luhnCheckDigit(`${yyyymmdd.slice(2)}${serial}`)}`;

/** A branch beside the hospital: roles there do not reach the clinic. */
export const OTHER_BRANCH = 'other';

export interface ActorSpec {
  readonly hsaId: HsaId;
  readonly givenName: string;
  readonly surname: string;
  readonly cardNumber: CardNumber;
  readonly level: 'LoA3' | 'LoA2';
}

export const ACTORS = {
  /** KRA in another branch only: no role where the recipients are. */
  outsider: {
    hsaId: 'SE2321000016-adm3' as HsaId,
    givenName: 'Olle',
    surname: 'Utanför',
    cardNumber: '9752278900000000003' as CardNumber,
    level: 'LoA3',
  },
  /** RA at the top, but logs in with a LoA2 card. */
  loa2: {
    hsaId: 'SE2321000016-lena' as HsaId,
    givenName: 'Lena',
    surname: 'Nivåtvå',
    cardNumber: '9752278900000000004' as CardNumber,
    level: 'LoA2',
  },
  /** RA at the top without KUR. */
  noKur: {
    hsaId: 'SE2321000016-adm5' as HsaId,
    givenName: 'Karl',
    surname: 'Utankur',
    cardNumber: '9752278900000000005' as CardNumber,
    level: 'LoA3',
  },
  /** The service desk (förvaltningen): staff role, no ID-administrator roles. */
  desk: {
    hsaId: 'SE2321000016-desk' as HsaId,
    givenName: 'Sara',
    surname: 'Servicedesk',
    cardNumber: '9752278900000000009' as CardNumber,
    level: 'LoA3',
  },
} as const satisfies Record<string, ActorSpec>;

export type ActorName = keyof typeof ACTORS;

const TODAY_FAR = { year: 9999, month: 12, day: 31 } as const;

const personOf = (hsaId: string, pnr: string | null, givenName: string, protectedIdentity = false) => {
  let personalNumber: Person['personalNumber'] = null;
  if (pnr !== null) {
    const parsed = parsePersonalNumber(pnr, TODAY_FAR);
    if (!parsed.ok) throw new Error(`fixture personal number ${pnr}: ${parsed.error.code}`);
    personalNumber = parsed.value.personalNumber;
  }
  return {
    hsaId: hsaId as HsaId,
    personalNumber,
    givenName,
    surname: 'Testsson',
    branchId: 'clinic',
    protectedIdentity,
  } satisfies Person;
};

export const RECIPIENTS = {
  /** Skyddade personuppgifter, with an order registered by admin 2 (who holds KUR). */
  protectedPerson: {
    pnr: personalNumberText('19750505'),
    person: personOf('SE2321000016-prot', personalNumberText('19750505'), 'Hemlig', true),
    cardNumber: '9752278900000000201' as CardNumber,
  },
  /** A samordningsnummer (day + 60): never eligible. */
  coordination: {
    pnr: personalNumberText('19900171'),
    person: personOf('SE2321000016-samo', personalNumberText('19900171'), 'Samuel'),
  },
  /** A person nobody ordered a card for. */
  noOrder: {
    pnr: personalNumberText('19850303'),
    person: personOf('SE2321000016-utan', personalNumberText('19850303'), 'Ulla'),
  },
  /** An order whose validity ended before anyone completed it. */
  expired: {
    pnr: personalNumberText('19700707'),
    person: personOf('SE2321000016-gaml', personalNumberText('19700707'), 'Gunnar'),
    cardNumber: '9752278900000000202' as CardNumber,
  },
  /** An order already completed. */
  used: {
    pnr: personalNumberText('19650606'),
    person: personOf('SE2321000016-klar', personalNumberText('19650606'), 'Klara'),
    cardNumber: '9752278900000000203' as CardNumber,
  },
} as const;

/**
 * An order for a person, registered through the domain's rules by `createdBy` at `registeredAt`
 * (in the past for an expired order), then moved to `state` through the order's own transitions.
 */
export const insertOrderFor = async (
  h: Harness,
  input: {
    readonly id: string;
    readonly person: Person;
    readonly cardNumber: CardNumber;
    readonly createdBy: HsaId;
    readonly registeredAt?: number;
    readonly validityDays?: number;
    readonly state?: Extract<OrderState, 'registered' | 'in_progress' | 'completed' | 'cancelled'>;
  },
): Promise<Order> => {
  const db = h.t.store.db;
  const admin = await getAdmin(db, input.createdBy);
  const tree = buildOrganisationTree(await listBranches(db));
  if (admin === null || !tree.ok) throw new Error('fixture directory');
  const now = input.registeredAt ?? h.clock.now();
  const registered = registerOrder({
    id: input.id,
    person: input.person,
    cardNumber: input.cardNumber,
    validity: { notBefore: now, notAfter: now + (input.validityDays ?? 7) * DAY },
    idDocument: 'swedish-passport',
    admin: { hsaId: admin.hsaId, grants: admin.grants },
    signature: { signedBy: admin.hsaId, signedAt: now, assuranceLevel: 'LoA3', certificateSerial: 'fixture' },
    product: { name: 'SITHS reservkort', maxValidityDays: 14 },
    tree: tree.value,
    now,
    cardHolder: () => null,
  });
  if (!registered.ok) throw new Error(`fixture order ${input.id}: ${JSON.stringify(registered.error)}`);
  let order: Order = registered.value;
  const path: Record<string, readonly ('start' | 'complete' | 'cancel')[]> = {
    registered: [],
    in_progress: ['start'],
    completed: ['start', 'complete'],
    cancelled: ['cancel'],
  };
  for (const type of path[input.state ?? 'registered'] ?? []) {
    const next = transitionOrder(order, { type, at: now + 1000 });
    if (!next.ok) throw new Error(`fixture order ${input.id}: ${next.error.code}`);
    order = next.value;
  }
  await insertOrder(db, order);
  return order;
};

/** Adds the branch, administrators, service desk and recipients; provisions the actors' cards. */
export const addAcceptanceDirectory = async (
  h: Harness,
  options: { readonly actors?: readonly ActorName[] } = {},
): Promise<void> => {
  const db = h.t.store.db;
  const now = h.clock.now();
  await upsertBranches(db, [{ id: OTHER_BRANCH, parentId: 'region', name: 'Annan förvaltning' }]);
  h.services.directory.invalidate();

  const grants: Record<ActorName, readonly { role: 'KRA' | 'RA'; branchId: string }[]> = {
    outsider: [{ role: 'KRA', branchId: OTHER_BRANCH }],
    loa2: [{ role: 'RA', branchId: 'region' }],
    noKur: [{ role: 'RA', branchId: 'region' }],
    desk: [],
  };
  for (const name of options.actors ?? (Object.keys(ACTORS) as ActorName[])) {
    const actor: ActorSpec = ACTORS[name];
    if (name === 'desk') {
      await grantStaffRole(db, { hsaId: actor.hsaId, role: 'service-desk' });
    } else {
      await insertAdmin(db, {
        hsaId: actor.hsaId,
        givenName: actor.givenName,
        surname: actor.surname,
        createdAt: now,
      });
      for (const grant of grants[name]) await grantRole(db, { adminHsaId: actor.hsaId, ...grant });
    }
    await provisionCard(h.cards, h.t.ca, {
      hsaId: actor.hsaId,
      givenName: actor.givenName,
      surname: actor.surname,
      cardNumber: actor.cardNumber,
      level: actor.level,
    });
  }

  for (const { person } of Object.values(RECIPIENTS)) await insertPerson(db, { ...person, createdAt: now });
  await stockTestCards(
    db,
    Object.values(RECIPIENTS).flatMap((r) => ('cardNumber' in r ? [r.cardNumber] : [])),
    'region',
    now,
  );
  await insertOrderFor(h, {
    id: 'order-protected',
    person: RECIPIENTS.protectedPerson.person,
    cardNumber: RECIPIENTS.protectedPerson.cardNumber,
    createdBy: ADMIN2,
  });
  await insertOrderFor(h, {
    id: 'order-expired',
    person: RECIPIENTS.expired.person,
    cardNumber: RECIPIENTS.expired.cardNumber,
    createdBy: ADMIN1,
    registeredAt: now - 30 * DAY,
  });
  await insertOrderFor(h, {
    id: 'order-used',
    person: RECIPIENTS.used.person,
    cardNumber: RECIPIENTS.used.cardNumber,
    createdBy: ADMIN1,
    state: 'completed',
  });
};
