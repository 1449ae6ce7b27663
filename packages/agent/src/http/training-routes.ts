import type { FastifyPluginAsync } from 'fastify';
import { TRAINING_COUNTERS, type TrainingCounters, type VirtualBackend } from '../backend/virtual-backend.js';
import type { CardAgent } from '../card-agent.js';

const readerBody = {
  type: 'object',
  properties: { readerId: { type: 'string', minLength: 1, maxLength: 40 } },
  required: ['readerId'],
  additionalProperties: false,
} as const;

/**
 * Training mode only (virtual readers): the panel's hands. Plug and unplug readers, put cards in
 * and take them out; the agent then reports the events exactly as it would for real ones.
 */
export const trainingRoutes =
  (agent: CardAgent, cards: VirtualBackend): FastifyPluginAsync =>
  async (app) => {
    const sessionOf = (headers: Record<string, unknown>) =>
      agent.session(headers['x-agent-session'] as string | undefined);

    app.get('/cards', async (request) => {
      sessionOf(request.headers);
      return { cards: await cards.listCards(), readers: await cards.readers() };
    });

    app.post<{ Body: { readerId?: string } }>(
      '/readers/plug',
      {
        schema: {
          body: {
            type: 'object',
            properties: { readerId: { type: 'string', minLength: 1, maxLength: 40 } },
            additionalProperties: false,
          },
        },
      },
      async (request) => {
        sessionOf(request.headers);
        return { readerId: await cards.plugReader(request.body?.readerId) };
      },
    );

    app.post<{ Body: { readerId: string } }>(
      '/readers/unplug',
      { schema: { body: readerBody } },
      async (request) => {
        sessionOf(request.headers);
        await cards.unplugReader(request.body.readerId);
        return { ok: true };
      },
    );

    app.post<{ Body: { readerId: string; cardNumber: string } }>(
      '/cards/insert',
      {
        schema: {
          body: {
            type: 'object',
            properties: {
              readerId: { type: 'string', maxLength: 40 },
              cardNumber: { type: 'string', pattern: '^9752[0-9]{15}$' },
            },
            required: ['readerId', 'cardNumber'],
            additionalProperties: false,
          },
        },
      },
      async (request) => {
        sessionOf(request.headers);
        await cards.insertCard(
          request.body.readerId,
          request.body.cardNumber as Parameters<VirtualBackend['insertCard']>[1],
        );
        return { ok: true };
      },
    );

    // The training panel's station simulations: a station no server registered, a forged statement.
    app.post<{ Body: { unregisteredStation?: boolean; forgedStatement?: boolean } }>(
      '/station/simulate',
      {
        schema: {
          body: {
            type: 'object',
            properties: { unregisteredStation: { type: 'boolean' }, forgedStatement: { type: 'boolean' } },
            additionalProperties: false,
          },
        },
      },
      async (request) => {
        sessionOf(request.headers);
        return agent.simulateStation(request.body ?? {});
      },
    );

    // The training panel's card faults: counterfeit cards, keys a faulty chip reports as exportable.
    app.post<{ Body: { counterfeitCard?: boolean; exportableKeys?: boolean } }>(
      '/cards/simulate',
      {
        schema: {
          body: {
            type: 'object',
            properties: { counterfeitCard: { type: 'boolean' }, exportableKeys: { type: 'boolean' } },
            additionalProperties: false,
          },
        },
      },
      async (request) => {
        sessionOf(request.headers);
        return cards.simulateFaults(request.body ?? {});
      },
    );

    // The training panel's PIN scenes: a card whose PIN 1 is blocked, a card locked for good, or a
    // card with all its tries back. Sets counters only; no PIN or PUK is ever sent here.
    app.post<{ Body: { cardNumber: string; counters: TrainingCounters } }>(
      '/cards/counters',
      {
        schema: {
          body: {
            type: 'object',
            properties: {
              cardNumber: { type: 'string', pattern: '^9752[0-9]{15}$' },
              counters: { type: 'string', enum: [...TRAINING_COUNTERS] },
            },
            required: ['cardNumber', 'counters'],
            additionalProperties: false,
          },
        },
      },
      async (request) => {
        sessionOf(request.headers);
        await cards.setCounters(
          request.body.cardNumber as Parameters<VirtualBackend['setCounters']>[0],
          request.body.counters,
        );
        return { ok: true };
      },
    );

    app.post<{ Body: { readerId: string } }>(
      '/cards/remove',
      { schema: { body: readerBody } },
      async (request) => {
        sessionOf(request.headers);
        await cards.removeCard(request.body.readerId);
        return { ok: true };
      },
    );
  };
