import { randomBytes } from 'node:crypto';
import {
  type BranchId,
  type CardNumber,
  cardNumberProblem,
  classifySearchQuery,
  type DomainError,
  dateOf,
  endDateOf,
  type HsaId,
  holdsKurIn,
  type Instant,
  mayIssueLoa3In,
  type Order,
  orderStateAt,
  type Person,
  registerOrder,
  type SignedStatement,
  stockProblem,
  transitionOrder,
} from '@reservkort/domain';
import {
  appendAudit,
  cardNumberUse,
  consumeChallenge,
  type Database,
  getOrder,
  getStation,
  getStockCard,
  holdSealedStockCard,
  insertOrder,
  markLoginCardRemoved,
  type StoredOrder,
  StoreError,
  updateOrderState,
} from '@reservkort/store';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Kysely, Transaction } from 'kysely';
import { verifyCardCertificate, verifyCardSignature } from '../auth/card-certificate.js';
import { loginCardStillIn, verifyChallengeReaders } from '../auth/login-station.js';
import { type CurrentSession, requireSession } from '../auth/session.js';
import { issueChallenge, readStatement, statement } from '../auth/signing-challenge.js';
import { hasRoleAtStation } from '../card-stock/card-stock.service.js';
import { ApiError } from '../http/api-error.js';
import { adminOf, type DirectoryCache, lookUp } from '../issuance/directory.js';
import type { IssuanceService } from '../issuance/issuance.service.js';
import type { ServerContext } from '../server-context.js';
import { signedStatementSchema } from '../station/signed-statement.schema.js';
import { newStationNonce } from '../station/station-statement.service.js';

/** The card product the reserve cards belong to. */
const PRODUCT = { name: 'SITHS reservkort', maxValidityDays: 14 } as const;
const DRAFT_TTL_MS = 10 * 60_000;
const base64 = { type: 'string', pattern: '^[A-Za-z0-9+/]*={0,2}$', minLength: 4, maxLength: 32768 } as const;

interface OrderDraft {
  readonly personHsaId: string;
  /**
   * The card station (a branch) whose stock the card comes from, when the session was not proven at
   * a card station; otherwise the station the session was proven at decides.
   */
  readonly stationId?: string;
  readonly cardNumber: string;
  readonly validity: { readonly notBefore: number; readonly notAfter: number };
  readonly idDocument: string;
  readonly nonce: string;
  /** What the card station's statement of its readers must carry when the order is signed. */
  readonly stationNonce: string;
}

/** The fields of a draft as /orders/prepare wrote them; the challenge store holds other statements too. */
const isOrderDraft = (
  fields: Readonly<Record<string, unknown>>,
): fields is Readonly<Record<string, unknown>> & OrderDraft => {
  const validity = fields.validity as Record<string, unknown> | null | undefined;
  return (
    typeof fields.personHsaId === 'string' &&
    typeof fields.cardNumber === 'string' &&
    typeof fields.idDocument === 'string' &&
    typeof fields.nonce === 'string' &&
    typeof fields.stationNonce === 'string' &&
    (fields.stationId === undefined || typeof fields.stationId === 'string') &&
    typeof validity === 'object' &&
    validity !== null &&
    Number.isSafeInteger(validity.notBefore) &&
    Number.isSafeInteger(validity.notAfter)
  );
};

const orderView = (order: StoredOrder | Order) => ({
  id: order.id,
  state: order.state,
  cardNumber: order.cardNumber,
  validity: order.validity,
  idDocument: order.idDocument,
  createdBy: order.createdBy,
  createdAt: order.createdAt,
});

/** Admin 1's portal: find a person, register and sign an order with the card, see and cancel orders. */
export const adminRoutes =
  (ctx: ServerContext, directory: DirectoryCache, issuance: IssuanceService): FastifyPluginAsync =>
  async (app) => {
    const db = ctx.store.db;
    const session = async (request: FastifyRequest): Promise<CurrentSession> => {
      const current = await requireSession(request, db, ctx.clock.now(), ctx.sessions);
      if (current.assuranceLevel !== 'LoA3') throw new ApiError('LOA2_LOGIN');
      // Administrators only, checked before any lookup, so others cannot probe the directory.
      await adminOf(db, current.hsaId);
      return current;
    };

    /** The person, if this admin may handle them; the reason otherwise, revealing nothing of a protected person. */
    const personFor = async (
      current: CurrentSession,
      query: string,
    ): Promise<{ person: Person; orders: StoredOrder[] }> => {
      const now = ctx.clock.now();
      const classified = classifySearchQuery(query, dateOf(now));
      if (classified.kind === 'invalid' || classified.kind === 'partial-hsa-id') {
        throw new ApiError(classified.codes[0] ?? 'QUERY_INVALID');
      }
      const found = await lookUp(db, classified.kind, classified.normalised);
      const tree = await directory.organisation(now);
      const admin = await adminOf(db, current.hsaId);
      // No such person, a person outside the admin's roles and a protected person without KUR get
      // one and the same answer, so the lookup cannot be used to learn who exists.
      if (
        found === null ||
        !mayIssueLoa3In(tree, admin, found.person.branchId) ||
        (found.person.protectedIdentity && !holdsKurIn(tree, admin, found.person.branchId))
      ) {
        throw new ApiError('PERSON_NOT_FOUND');
      }
      return found;
    };

    app.get<{ Querystring: { query: string } }>(
      '/persons',
      {
        schema: {
          tags: ['admin'],
          summary: 'Find a person by personnummer or HSA-id, with their "Beställda reservkort LoA3"',
          querystring: {
            type: 'object',
            properties: { query: { type: 'string', maxLength: 200 } },
            required: ['query'],
          },
        },
      },
      async (request) => {
        const { person, orders } = await personFor(await session(request), request.query.query);
        return {
          person: {
            hsaId: person.hsaId,
            name: `${person.givenName} ${person.surname}`,
            organisation: await directory.branchName(person.branchId, ctx.clock.now()),
            personalNumber: person.personalNumber?.value ?? null,
            coordinationNumber: person.personalNumber?.kind === 'samordningsnummer',
            protectedIdentity: person.protectedIdentity,
          },
          orders: orders.map(orderView),
        };
      },
    );

    const draftFrom = (
      current: CurrentSession,
      person: Person,
      draft: OrderDraft,
      signature: Order['signature'] | null,
    ) =>
      directory.organisation(ctx.clock.now()).then(async (tree) =>
        registerOrder({
          id: `order-${randomBytes(9).toString('base64url')}`,
          person,
          cardNumber: draft.cardNumber,
          validity: draft.validity,
          idDocument: draft.idDocument,
          admin: await adminOf(db, current.hsaId),
          signature,
          product: PRODUCT,
          tree,
          now: ctx.clock.now(),
          // Synchronous lookups are not possible here: the holder was read just before.
          cardHolder: () => null,
        }),
      );

    /** Refuses a card number the recipient may not have ordered now (one card, one person). */
    const checkCardNumber = async (
      from: Kysely<Database> | Transaction<Database>,
      cardNumber: CardNumber,
      recipient: HsaId,
      now: Instant,
    ): Promise<StoredOrder[]> => {
      const use = await cardNumberUse(from, cardNumber);
      const problem = cardNumberProblem(use, recipient, now);
      if (problem !== null) throw new ApiError(problem);
      return use.orders;
    };

    /**
     * The card station an order takes its card from: the branch of the card station the session
     * was proven at; without one, the station the order names, where the admin must hold a role.
     */
    const orderingStation = async (
      from: Kysely<Database> | Transaction<Database>,
      current: CurrentSession,
      named: string | undefined,
    ): Promise<BranchId> => {
      if (current.station !== null) {
        const station = await getStation(from, current.station.stationId);
        if (station === null) throw new ApiError('STATION_NOT_REGISTERED');
        return station.branchId;
      }
      if (named === undefined) throw new ApiError('CARD_NOT_PROVEN', { reason: 'login not at a station' });
      const tree = await directory.organisation(ctx.clock.now());
      if (!hasRoleAtStation(tree, await adminOf(db, current.hsaId), named))
        throw new ApiError('NO_ROLE_IN_BRANCH');
      return named;
    };

    /**
     * Refuses a card the ordering station cannot give for certificates valid through the order's
     * last day; in the registering transaction it also holds the sealed card, so that a destruction
     * that read it before cannot win as well.
     */
    const checkStock = async (
      from: Kysely<Database> | Transaction<Database>,
      cardNumber: CardNumber,
      stationId: BranchId,
      notAfter: Instant,
      hold: boolean,
    ): Promise<void> => {
      const card = await getStockCard(from, cardNumber);
      const problem = stockProblem(cardNumber, card, stationId, endDateOf(notAfter));
      if (problem !== null) throw new ApiError(problem.code, problem.details ?? {});
      if (hold && card !== null && !(await holdSealedStockCard(from, cardNumber, card.version)))
        throw new ApiError('CARD_STOCK_CONFLICT', { cardNumber, state: 'changed meanwhile', event: 'issue' });
    };

    /** Every problem of an order goes back at once: the first as the code, all of them listed. */
    const refuse = (problems: readonly DomainError[]): ApiError => {
      const first = problems[0];
      return new ApiError(first?.code ?? 'REQUEST_INVALID', {
        ...first?.details,
        problems: problems.map((p) => p.code).join(','),
      });
    };

    app.post<{ Body: Omit<OrderDraft, 'nonce' | 'stationNonce'> }>(
      '/orders/prepare',
      {
        schema: {
          tags: ['admin'],
          summary: 'Check an order and get what the card must sign to register it',
          body: {
            type: 'object',
            properties: {
              personHsaId: { type: 'string', maxLength: 40 },
              cardNumber: { type: 'string', maxLength: 40 },
              validity: {
                type: 'object',
                properties: { notBefore: { type: 'integer' }, notAfter: { type: 'integer' } },
                required: ['notBefore', 'notAfter'],
              },
              idDocument: { type: 'string', maxLength: 40 },
              // Only for a session not proven at a card station: the station (branch) whose stock to use.
              stationId: { type: 'string', minLength: 1, maxLength: 64 },
            },
            required: ['personHsaId', 'cardNumber', 'validity', 'idDocument'],
            additionalProperties: false,
          },
          response: {
            200: {
              type: 'object',
              properties: {
                challengeId: { type: 'string' },
                toBeSigned: { type: 'string' },
                stationNonce: { type: 'string' },
              },
              required: ['challengeId', 'toBeSigned', 'stationNonce'],
            },
          },
        },
      },
      async (request) => {
        const current = await session(request);
        const { person } = await personFor(current, request.body.personHsaId);
        const draft: OrderDraft = {
          ...request.body,
          nonce: randomBytes(16).toString('hex'),
          stationNonce: newStationNonce(),
        };
        const provisional = {
          signedBy: current.hsaId,
          signedAt: ctx.clock.now(),
          assuranceLevel: 'LoA3' as const,
          certificateSerial: 'pending',
        };
        const checked = await draftFrom(current, person, draft, provisional);
        if (!checked.ok) throw refuse(checked.error);
        await checkCardNumber(db, checked.value.cardNumber, person.hsaId, ctx.clock.now());
        const stationId = await orderingStation(db, current, request.body.stationId);
        await checkStock(db, checked.value.cardNumber, stationId, checked.value.validity.notAfter, false);
        const challenge = await issueChallenge(
          db,
          statement({ purpose: 'register-order', ...draft }),
          ctx.clock.now(),
          DRAFT_TTL_MS,
        );
        return { ...challenge, stationNonce: draft.stationNonce };
      },
    );

    /**
     * The login card, as the card station the session logged in at states it for this signature:
     * in the reader it was in at login, with the insertion counter it had then. Verified in `trx`,
     * the transaction that registers the order.
     */
    const requireLoginCard = async (
      trx: Transaction<Database>,
      current: CurrentSession,
      readers: SignedStatement,
      challenge: { readonly id: string; readonly stationNonce: string },
      now: Instant,
    ): Promise<void> => {
      const login = current.station;
      if (login === null) throw new ApiError('CARD_NOT_PROVEN', { reason: 'login not at a station' });
      const seen = await verifyChallengeReaders(trx, ctx.ca, readers, {
        challengeId: challenge.id,
        nonce: challenge.stationNonce,
        now,
        stationId: login.stationId,
      });
      if (!loginCardStillIn(seen, login, current.cardNumber))
        throw new ApiError('CARD_REINSERTED', { removedAt: now, reason: 'station' });
    };

    app.post<{
      Body: { challengeId: string; certificate: string; signature: string; readers: SignedStatement };
    }>(
      '/orders',
      {
        schema: {
          tags: ['admin'],
          summary:
            'Register the order, signed with the admin’s card, the login card proven by the card station',
          body: {
            type: 'object',
            properties: {
              challengeId: { type: 'string', maxLength: 64 },
              certificate: base64,
              signature: base64,
              // A `readers` statement for this draft (its challengeId as flowId, its stationNonce).
              readers: signedStatementSchema,
            },
            required: ['challengeId', 'certificate', 'signature', 'readers'],
          },
        },
      },
      async (request, reply) => {
        const current = await session(request);
        const now = ctx.clock.now();
        // Only a station can say the login card is still in: without one the page's word would count.
        if (current.station === null)
          throw new ApiError('CARD_NOT_PROVEN', { reason: 'login not at a station' });
        const text = await consumeChallenge(db, request.body.challengeId, now);
        // Only a draft this server prepared registers an order: not a login challenge, not SIGNERA's.
        const read = text === null ? null : readStatement(text, 'register-order');
        if (read === null || !isOrderDraft(read.fields))
          throw new ApiError('SIGNATURE_INVALID', { reason: 'challenge' });
        const data = read.data;
        const draft = read.fields;
        const card = await verifyCardCertificate(
          Buffer.from(request.body.certificate, 'base64'),
          'sign',
          { ca: ctx.ca, db, now },
          (reason) => new ApiError('SIGNATURE_INVALID', { reason }),
        );
        if (card.hsaId !== current.hsaId)
          throw new ApiError('SIGNATURE_INVALID', { reason: 'another person’s card' });
        // The session may sign only with the card it logged in with, and only while that card stayed in.
        if (current.loginCardRemovedAt !== null || card.cardNumber !== current.cardNumber) {
          throw new ApiError('CARD_REINSERTED', { removedAt: current.loginCardRemovedAt ?? now });
        }
        if (!verifyCardSignature(card.publicKey, data, Buffer.from(request.body.signature, 'base64'))) {
          throw new ApiError('SIGNATURE_INVALID', { reason: 'signature' });
        }
        const { person } = await personFor(current, draft.personHsaId);
        const registered = await draftFrom(current, person, draft, {
          signedBy: current.hsaId,
          signedAt: now,
          assuranceLevel: card.assuranceLevel,
          certificateSerial: card.serial,
        });
        if (!registered.ok) throw refuse(registered.error);
        const order = registered.value;
        try {
          await db.transaction().execute(async (trx) => {
            const earlier = await checkCardNumber(trx, order.cardNumber, person.hsaId, now);
            const stationId = await orderingStation(trx, current, draft.stationId);
            // An unused order past its validity still reads 'registered' and so still holds the
            // number in the store: record its expiry first, as the order's rules already imply.
            for (const lapsed of earlier.filter((o) => o.state === 'registered')) {
              if (orderStateAt(lapsed, now) !== 'expired') continue;
              const expired = transitionOrder(lapsed, { type: 'expire', at: now });
              if (!expired.ok) continue;
              const changed = await updateOrderState(trx, {
                id: lapsed.id,
                expectedVersion: lapsed.version,
                state: expired.value.state,
                stateChangedAt: now,
              });
              if (changed) {
                await appendAudit(trx, {
                  at: now,
                  actor: current.hsaId,
                  action: 'order.expired',
                  subject: lapsed.id,
                  details: {},
                });
              }
            }
            await insertOrder(trx, order);
            // After the insert: of parallel registrations of the number the store's index refuses
            // all but one first, with the rule they broke; the hold then stops a destruction.
            await checkStock(trx, order.cardNumber, stationId, order.validity.notAfter, true);
            await appendAudit(trx, {
              at: now,
              actor: current.hsaId,
              action: 'order.registered',
              subject: order.id,
              details: { cardNumber: order.cardNumber, signature: card.serial },
            });
            // Last, in the same transaction: of parallel registrations of one number, the ones the
            // store refuses learn the rule they broke, not that their station's number came late.
            await requireLoginCard(
              trx,
              current,
              request.body.readers,
              { id: request.body.challengeId, stationNonce: draft.stationNonce },
              now,
            );
          });
        } catch (error) {
          // The card left its reader since login: this session signs nothing more with it.
          if (error instanceof ApiError && error.code === 'CARD_REINSERTED')
            await markLoginCardRemoved(db, current.id, now);
          if (!(error instanceof StoreError && error.code === 'CONFLICT')) throw error;
          // A parallel registration took the number after the check (PostgreSQL at READ COMMITTED
          // cannot see it before it commits): the store refused this one; say which rule it broke.
          await checkCardNumber(db, order.cardNumber, person.hsaId, now);
          throw new ApiError('ORDER_STATE_CONFLICT', { state: 'changed meanwhile' });
        }
        return reply.status(201).send(orderView(order));
      },
    );

    app.post<{ Params: { orderId: string } }>(
      '/orders/:orderId/cancel',
      {
        schema: {
          tags: ['admin'],
          summary: 'Cancel (makulera) an order',
          params: {
            type: 'object',
            properties: { orderId: { type: 'string', maxLength: 64 } },
            required: ['orderId'],
          },
        },
      },
      async (request) => {
        const current = await session(request);
        const order = await getOrder(db, request.params.orderId);
        if (order === null) throw new ApiError('NOT_FOUND', { what: 'order' });
        const tree = await directory.organisation(ctx.clock.now());
        const admin = await adminOf(db, current.hsaId);
        if (!mayIssueLoa3In(tree, admin, order.recipient.branchId)) throw new ApiError('NO_ROLE_IN_BRANCH');
        if (order.recipient.protectedIdentity && !holdsKurIn(tree, admin, order.recipient.branchId)) {
          throw new ApiError('PROTECTED_NEEDS_KUR');
        }
        // A flow running on the order is aborted with it (certificates revoked, card clean offered).
        return orderView(await issuance.cancelOrder(order.id, current.hsaId));
      },
    );
  };
