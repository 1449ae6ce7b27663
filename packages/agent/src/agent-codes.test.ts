// Every code the card agent can raise, reached through its public API; the last test fails if a
// code of the catalogue's agent group is reached by none.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AGENT_CODES, type AgentCode } from '@reservkort/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StationIdentity } from './station/station-identity.js';
import { type AgentFixture, CARD, createAgentFixture, PINS } from './test-support/agent-fixture.js';

const codeOf = async (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => 'no error',
    (error: { code?: string }) => error.code ?? 'untyped',
  );

describe('card agent error codes', () => {
  let f: AgentFixture;
  let token: string;
  const reached = new Set<string>();
  beforeAll(async () => {
    f = await createAgentFixture({ dialogShowTimeoutMs: 100 });
    token = await f.session();
  });
  afterAll(async () => {
    await f.dispose();
  });
  const api = async (
    method: 'GET' | 'POST',
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const response = await f.call(method, url, body, { 'x-agent-session': token, ...headers });
    return response.body.code as string;
  };
  const operationError = async (url: string, body: unknown, act: (dialogId: string) => Promise<unknown>) => {
    const started = (await f.call('POST', url, body, { 'x-agent-session': token })).body;
    await act(started.dialog?.id ?? '');
    const ended = await f.waitFor(token, started.id, (v) => v.state !== 'pending');
    return ended.error?.code ?? 'no error';
  };
  const other = '9752278900000000200' as typeof CARD;

  const scenarios: Record<AgentCode, () => Promise<string>> = {
    READER_NOT_FOUND: () => api('POST', '/v1/sessions/bind', { readerId: 'reader-7' }),
    CARD_MISSING: () => api('POST', '/v1/sessions/bind', { readerId: 'reader-1' }),
    REQUEST_INVALID: () => api('POST', '/v1/sessions/bind', { readerId: { nested: true } }),
    ORIGIN_FORBIDDEN: () => api('GET', '/v1/info', undefined, { origin: 'https://elsewhere.example' }),
    SESSION_INVALID: () => api('GET', '/v1/readers', undefined, { 'x-agent-session': 'expired' }),
    KEY_MISSING: () => api('POST', '/v1/readers/reader-2/authenticate', { challenge: 'AAAA' }),
    PIN_FORMAT: () => codeOf(f.backend.sign('reader-2', CARD, 'auth', 'x', new Uint8Array(1))),
    PIN_INCORRECT: () => codeOf(f.backend.generateKey('reader-2', CARD, 'auth', '9999', 'ecdsa-p256')),
    PIN_BLOCKED: async () => {
      await codeOf(f.backend.generateKey('reader-2', CARD, 'auth', '9999', 'ecdsa-p256'));
      const code = await codeOf(f.backend.generateKey('reader-2', CARD, 'auth', '9999', 'ecdsa-p256'));
      // A blocked PIN opens no dialog: the operation fails with PIN_BLOCKED at once.
      const refused = await operationError('/v1/readers/reader-2/clean', {}, async () => undefined);
      // Unblocked again with the PUK, for the dialog scenarios after this one.
      await f.backend.unblockPin('reader-2', CARD, 'pin1', PINS.puk, PINS.pin1);
      return refused === code ? code : `${code} then ${refused}`;
    },
    PUK_INCORRECT: () => codeOf(f.backend.unblockPin('reader-2', CARD, 'pin1', '00000000', '4321')),
    CARD_LOCKED: async () => {
      await f.backend.createCard({ cardNumber: other, ...PINS });
      await f.backend.insertCard('reader-1', other);
      let code = '';
      for (let i = 0; i < 11; i++)
        code = await codeOf(f.backend.unblockPin('reader-1', other, 'pin1', '00000000', '4321'));
      return code;
    },
    CARD_ERROR: () => codeOf(f.backend.insertCard('reader-1', CARD)),
    CARD_REMOVED: async () => {
      await api('POST', '/v1/sessions/bind', { readerId: 'reader-1' });
      await f.backend.removeCard('reader-1');
      await f.backend.insertCard('reader-1', other);
      return api('POST', '/v1/readers/reader-1/enrol', {});
    },
    DIALOG_CANCELLED: () =>
      operationError('/v1/readers/reader-2/clean', {}, (id) =>
        f.app.inject({
          method: 'POST',
          url: `/dialog/${id}/cancel`,
          headers: { origin: 'http://localhost:80' },
        }),
      ),
    DIALOG_TIMEOUT: () => operationError('/v1/readers/reader-2/clean', {}, async () => undefined),
    STATION_NOT_REGISTERED: () =>
      api('POST', '/v1/statements', { flowId: 'new', nonce: '0'.repeat(32), kind: 'agent-info' }),
    // A station whose key was made on a token, opened without one: refused, not given a key file.
    STATION_KEY_UNAVAILABLE: async () => {
      await writeFile(
        join(f.stationDir, 'key-store.json'),
        JSON.stringify({ keyStore: 'pkcs11', token: 'x' }),
      );
      return codeOf(Promise.resolve().then(() => StationIdentity.open(f.stationDir)));
    },
  };

  it.each(Object.entries(scenarios))('reaches %s', async (code, scenario) => {
    expect(await scenario()).toBe(code);
    reached.add(code);
  });

  it('reaches every agent code of the catalogue', () => {
    expect([...reached].sort()).toEqual([...AGENT_CODES].sort());
  });
});
