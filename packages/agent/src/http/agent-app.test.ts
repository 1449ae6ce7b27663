import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AgentFixture, CARD, createAgentFixture, PINS, PORTAL } from '../test-support/agent-fixture.js';
import { testBureauCertificate } from '../test-support/bureau-certificate.js';
import { cardSignatureVerifies } from '../test-support/signature-check.js';
import { acceptedOrigins, buildAgentApp } from './agent-app.js';

const run = promisify(execFile);

describe('card agent over HTTP (virtual cards)', () => {
  let f: AgentFixture;
  beforeEach(async () => {
    f = await createAgentFixture();
  });
  afterEach(async () => {
    await f.dispose();
    // The PINs never come back to the page, whatever happened.
    for (const body of f.seen)
      for (const secret of Object.values(PINS)) expect(body).not.toContain(`"${secret}"`);
  });

  describe('who may talk to it', () => {
    it('refuses a foreign origin, a missing origin and a non-loopback host with 403', async () => {
      for (const headers of [{ origin: 'https://evil.example' }, { origin: '' }]) {
        const response = await f.app.inject({ method: 'GET', url: '/v1/info', headers });
        expect(response.statusCode).toBe(403);
        expect(JSON.parse(response.body)).toMatchObject({
          code: 'ORIGIN_FORBIDDEN',
          message: { sv: expect.any(String), en: expect.any(String) },
        });
      }
      const noOrigin = await f.app.inject({ method: 'GET', url: '/v1/info' });
      expect(noOrigin.statusCode).toBe(403);
      const rebinding = await f.app.inject({
        method: 'GET',
        url: '/v1/info',
        headers: { origin: PORTAL, host: 'attacker.example:31443' },
      });
      expect(rebinding.statusCode).toBe(403);
    });

    it('in training answers the portal under each loopback spelling, and lets a refused page read why', async () => {
      for (const origin of ['http://127.0.0.1:3000', 'http://[::1]:3000']) {
        const info = await f.app.inject({ method: 'GET', url: '/v1/info', headers: { origin } });
        expect(info.statusCode, origin).toBe(200);
        expect(info.headers['access-control-allow-origin']).toBe(origin);
      }
      for (const origin of [
        'http://127.0.0.1:3001',
        'https://localhost:3000',
        'http://localhost.example:3000',
      ]) {
        const refused = await f.app.inject({ method: 'POST', url: '/v1/sessions', headers: { origin } });
        expect(refused.statusCode, origin).toBe(403);
        expect(JSON.parse(refused.body)).toMatchObject({
          code: 'ORIGIN_FORBIDDEN',
          details: { reason: 'origin' },
        });
        // Readable by the page that was refused, and naming nothing of the agent's settings.
        expect(refused.headers['access-control-allow-origin']).toBe(origin);
        expect(refused.body).not.toContain(PORTAL);
      }
    });

    it('outside training answers the configured origin only', async () => {
      expect([...acceptedOrigins(PORTAL, false)]).toEqual([PORTAL]);
      expect([...acceptedOrigins('https://portal.region.example', true)]).toEqual([
        'https://portal.region.example',
      ]);
      expect(new Set(acceptedOrigins('http://127.0.0.1:3000/', true))).toEqual(
        new Set(['http://127.0.0.1:3000', 'http://localhost:3000', 'http://[::1]:3000']),
      );
      const strict = await buildAgentApp({ agent: f.agent, portalOrigin: PORTAL });
      try {
        const loopback = await strict.inject({
          method: 'GET',
          url: '/v1/info',
          headers: { origin: 'http://127.0.0.1:3000' },
        });
        expect(loopback.statusCode).toBe(403);
        expect(
          (await strict.inject({ method: 'GET', url: '/v1/info', headers: { origin: PORTAL } })).statusCode,
        ).toBe(200);
      } finally {
        await strict.close();
      }
    });

    it('answers the portal, with CORS headers and a Private Network Access pre-flight', async () => {
      const info = await f.app.inject({ method: 'GET', url: '/v1/info', headers: { origin: PORTAL } });
      expect(info.statusCode).toBe(200);
      expect(info.headers['access-control-allow-origin']).toBe(PORTAL);
      expect(JSON.parse(info.body)).toMatchObject({
        version: '0.1.0',
        packaging: 'test',
        backend: { kind: 'virtual' },
      });
      const preflight = await f.app.inject({
        method: 'OPTIONS',
        url: '/v1/readers/reader-2/enrol',
        headers: {
          origin: PORTAL,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type, x-agent-session',
          'access-control-request-private-network': 'true',
        },
      });
      expect(preflight.statusCode).toBe(204);
      expect(preflight.headers['access-control-allow-private-network']).toBe('true');
      expect(preflight.headers['access-control-allow-headers']).toContain('x-agent-session');
      const foreign = await f.app.inject({
        method: 'OPTIONS',
        url: '/v1/info',
        headers: { origin: 'https://evil.example' },
      });
      expect(foreign.statusCode).toBe(403);
    });

    it('needs a page session for everything about cards', async () => {
      const response = await f.call('GET', '/v1/readers');
      expect(response).toMatchObject({ status: 401, body: { code: 'SESSION_INVALID' } });
      const bogus = await f.call('GET', '/v1/readers', undefined, { 'x-agent-session': 'nope' });
      expect(bogus.status).toBe(401);
    });

    it('takes PINs only from its own dialog page, never from the portal origin', async () => {
      const token = await f.session();
      const op = (
        await f.call('POST', '/v1/readers/reader-2/enrol', { flowId: 'f1' }, { 'x-agent-session': token })
      ).body;
      const fromPortal = await f.app.inject({
        method: 'POST',
        url: `/dialog/${op.dialog.id}/attempt`,
        headers: { origin: PORTAL },
        payload: { pin: PINS.pin1 },
      });
      expect(fromPortal.statusCode).toBe(403);
    });

    it('refuses malformed requests with REQUEST_INVALID in both languages', async () => {
      const token = await f.session();
      const bad = await f.call(
        'POST',
        '/v1/readers/reader-2/enrol',
        { keySpec: 'dsa-512' },
        { 'x-agent-session': token },
      );
      expect(bad).toMatchObject({
        status: 400,
        body: { code: 'REQUEST_INVALID', message: { sv: expect.any(String) } },
      });
      const noChallenge = await f.call(
        'POST',
        '/v1/readers/reader-2/authenticate',
        {},
        { 'x-agent-session': token },
      );
      expect(noChallenge.status).toBe(400);
      const unknown = await f.call('GET', '/v1/nothing-here');
      expect(unknown).toMatchObject({ status: 404, body: { code: 'REQUEST_INVALID' } });
      const reader = await f.call(
        'POST',
        '/v1/sessions/bind',
        { readerId: 'reader-9' },
        { 'x-agent-session': token },
      );
      expect(reader).toMatchObject({ status: 404, body: { code: 'READER_NOT_FOUND' } });
      const empty = await f.call(
        'POST',
        '/v1/sessions/bind',
        { readerId: 'reader-1' },
        { 'x-agent-session': token },
      );
      expect(empty).toMatchObject({ status: 409, body: { code: 'CARD_MISSING' } });
    });
  });

  describe('enrolment, as step 6 runs it', () => {
    it('generates both keys after PIN 1, makes a CSR for each that OpenSSL verifies, and writes the certificates', async () => {
      const token = await f.session();
      const started = await f.call(
        'POST',
        '/v1/readers/reader-2/enrol',
        { flowId: 'flow-1' },
        { 'x-agent-session': token },
      );
      expect(started.status).toBe(202);
      expect(started.body.dialogUrl).toMatch(/^http:\/\/localhost(:80)?\/dialog\//);
      expect(started.body.dialog).toMatchObject({ pin: 'pin1', state: 'waiting', cardNumber: CARD });

      const wrong = await f.answer(started.body.dialog.id, '0000');
      expect(wrong.lastError).toEqual({ code: 'PIN_INCORRECT', details: { triesLeft: 2 } });
      await f.answer(started.body.dialog.id, PINS.pin1);
      const second = await f.waitFor(token, started.body.id, (v) => v.dialog?.pin === 'pin2');
      await f.answer(second.dialog?.id ?? '', PINS.pin2);
      const done = await f.waitFor(token, started.body.id, (v) => v.state !== 'pending');
      expect(done.state).toBe('done');
      const result = done.result as { authCsr: string; signCsr: string; cardNumber: string };
      expect(result.cardNumber).toBe(CARD);

      const dir = await mkdtemp(join(tmpdir(), 'reservkort-csr-'));
      try {
        for (const csr of [result.authCsr, result.signCsr]) {
          const file = join(dir, 'req.pem');
          await writeFile(file, csr);
          const { stderr, stdout } = await run('openssl', ['req', '-in', file, '-noout', '-verify']);
          expect(`${stdout}${stderr}`).toMatch(/verify OK/i);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }

      const events = (await f.call('GET', '/v1/flows/flow-1/events', undefined, { 'x-agent-session': token }))
        .body.events;
      expect(
        events.map((e: { type: string; dialog?: string }) => `${e.type}${e.dialog ? `:${e.dialog}` : ''}`),
      ).toEqual([
        'key-generation-started',
        'dialog-shown:auth',
        'dialog-completed:auth',
        'keys-generated',
        'dialog-shown:sign',
        'dialog-completed:sign',
      ]);

      // Writing the issued certificates asks no new PIN within the enrolment.
      const der = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x07]).toString('base64');
      const write = await f.call(
        'POST',
        '/v1/readers/reader-2/certificates',
        { flowId: 'flow-1', auth: der, sign: der },
        { 'x-agent-session': token },
      );
      const written = await f.waitFor(token, write.body.id, (v) => v.state !== 'pending');
      expect(written).toMatchObject({ state: 'done', dialog: null });
      const card = (await f.call('GET', '/v1/readers/reader-2/card', undefined, { 'x-agent-session': token }))
        .body;
      expect(card.certificates.map((c: { key: string }) => c.key).sort()).toEqual(['auth', 'sign']);
      expect(card.keys).toEqual({ auth: true, sign: true });
    });

    it('förlängning: new keys beside the old ones with the card’s proof for the extension, then the new certificates written and the old keys gone', async () => {
      const bureauDer = (await f.backend.installBureauKey(CARD, (spki) => testBureauCertificate(spki, CARD)))
        .certificate;
      const token = await f.session();
      const headers = { 'x-agent-session': token };
      // The card as issued: its keys and certificates.
      const oldAuth = await f.backend.generateKey('reader-2', CARD, 'auth', PINS.pin1, 'ecdsa-p256');
      const oldSign = await f.backend.generateKey('reader-2', CARD, 'sign', PINS.pin1, 'ecdsa-p256');
      const oldDer = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]);
      await f.backend.writeCertificate('reader-2', CARD, 'auth', PINS.pin1, oldDer);
      await f.backend.writeCertificate('reader-2', CARD, 'sign', PINS.pin1, oldDer);

      const extension = { extensionId: 'ext-0123456789', nonce: 'a1b2c3d4e5f60718' };
      const started = await f.call('POST', '/v1/readers/reader-2/renewal/keys', extension, headers);
      expect(started.status).toBe(202);
      expect(started.body).toMatchObject({ kind: 'renew-keys', dialog: { pin: 'pin1' } });
      await f.answer(started.body.dialog.id, PINS.pin1);
      const second = await f.waitFor(token, started.body.id, (v) => v.dialog?.pin === 'pin2');
      await f.answer(second.dialog?.id ?? '', PINS.pin2);
      const done = await f.waitFor(token, started.body.id, (v) => v.state !== 'pending');
      expect(done.state, JSON.stringify(done)).toBe('done');
      const result = done.result as {
        cardNumber: string;
        keys: { auth: { spki: string; local: boolean }; sign: { spki: string } };
        bureauCertificate: string;
        cardSignature: string;
        authCsr: string;
        signCsr: string;
      };
      expect(result.keys.auth).toMatchObject({ local: true, sensitive: true, neverExtractable: true });
      expect(result.keys.auth.spki).not.toBe(Buffer.from(oldAuth.spki).toString('base64'));
      expect(Buffer.from(result.bureauCertificate, 'base64').equals(Buffer.from(bureauDer))).toBe(true);
      // The card's bureau key signed both new public keys for this extension and nonce.
      const { cardKeysBytes } = await import('@reservkort/domain');
      const bureauSpki = new X509Certificate(Buffer.from(bureauDer)).publicKey.export({
        format: 'der',
        type: 'spki',
      });
      const signed = cardKeysBytes({
        flowId: extension.extensionId,
        nonce: extension.nonce,
        cardNumber: CARD,
        authSpki: result.keys.auth.spki,
        signSpki: result.keys.sign.spki,
      });
      expect(cardSignatureVerifies(bureauSpki, Buffer.from(result.cardSignature, 'base64'), signed)).toBe(
        true,
      );
      // The old keys still work meanwhile: the holder's e-ID keeps working until the end.
      const info = (await f.call('GET', '/v1/readers/reader-2/card', undefined, headers)).body;
      expect(info.keys).toEqual({ auth: true, sign: true });
      const data = new Uint8Array([9, 9]);
      expect(
        cardSignatureVerifies(
          oldSign.spki,
          await f.backend.sign('reader-2', CARD, 'sign', PINS.pin2, data),
          data,
        ),
      ).toBe(true);

      const newDer = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x02]).toString('base64');
      const write = await f.call(
        'POST',
        '/v1/readers/reader-2/renewal/certificates',
        { auth: newDer, sign: newDer },
        headers,
      );
      expect(write.status).toBe(202);
      // Within the renewal, no new PIN is asked.
      const written = await f.waitFor(token, write.body.id, (v) => v.state !== 'pending');
      expect(written).toMatchObject({ state: 'done', dialog: null });
      const after = (await f.call('GET', '/v1/readers/reader-2/card', undefined, headers)).body;
      expect(after.certificates.map((c: { der: string }) => c.der)).toEqual([newDer, newDer]);
      const bySign = await f.backend.sign('reader-2', CARD, 'sign', PINS.pin2, data);
      expect(cardSignatureVerifies(Buffer.from(result.keys.sign.spki, 'base64'), bySign, data)).toBe(true);
      expect(cardSignatureVerifies(oldSign.spki, bySign, data)).toBe(false);
    });

    it('refuses a renewal without an extension id and nonce of the right form', async () => {
      const token = await f.session();
      const refused = await f.call(
        'POST',
        '/v1/readers/reader-2/renewal/keys',
        { extensionId: 'x', nonce: 'bad nonce' },
        { 'x-agent-session': token },
      );
      expect(refused.status).toBe(400);
      expect(refused.body.code).toBe('REQUEST_INVALID');
    });

    it('gives CARD_REMOVED when the card leaves mid-enrolment, and a clean makes the card reusable', async () => {
      const token = await f.session();
      const started = (
        await f.call('POST', '/v1/readers/reader-2/enrol', { flowId: 'flow-2' }, { 'x-agent-session': token })
      ).body;
      await f.answer(started.dialog.id, PINS.pin1);
      await f.waitFor(token, started.id, (v) => v.dialog?.pin === 'pin2');
      const removedAt = Date.now();
      await f.backend.removeCard('reader-2');
      const failed = await f.waitFor(token, started.id, (v) => v.state !== 'pending');
      expect(Date.now() - removedAt).toBeLessThan(1000);
      expect(failed).toMatchObject({ state: 'failed', error: { code: 'CARD_REMOVED' } });

      await f.backend.insertCard('reader-2', CARD);
      // The page's binding to the card ended with the removal, even though it came back.
      const stale = await f.call(
        'POST',
        '/v1/readers/reader-2/enrol',
        { flowId: 'flow-2' },
        { 'x-agent-session': token },
      );
      expect(stale).toMatchObject({ status: 409, body: { code: 'CARD_REMOVED' } });

      const clean = (
        await f.call('POST', '/v1/readers/reader-2/clean', { flowId: 'flow-2' }, { 'x-agent-session': token })
      ).body;
      await f.answer(clean.dialog.id, PINS.pin1);
      expect(await f.waitFor(token, clean.id, (v) => v.state !== 'pending')).toMatchObject({ state: 'done' });
      const info = await f.backend.cardInfo('reader-2');
      expect(info.keys).toEqual({ auth: false, sign: false });
      expect(info.certificates).toEqual([]);

      const again = (
        await f.call('POST', '/v1/readers/reader-2/enrol', { flowId: 'flow-3' }, { 'x-agent-session': token })
      ).body;
      await f.answer(again.dialog.id, PINS.pin1);
      const next = await f.waitFor(token, again.id, (v) => v.dialog?.pin === 'pin2');
      await f.answer(next.dialog?.id ?? '', PINS.pin2);
      expect(await f.waitFor(token, again.id, (v) => v.state !== 'pending')).toMatchObject({ state: 'done' });
    });

    it('lets a reloaded page find the running work of its flow, and says when none runs (OPERATION_LOST)', async () => {
      const token = await f.session();
      const started = (
        await f.call('POST', '/v1/readers/reader-2/enrol', { flowId: 'flow-r' }, { 'x-agent-session': token })
      ).body;
      // The page is reloaded: a new session of the same origin asks what runs for the flow.
      const again = await f.session();
      const headers = { 'x-agent-session': again };
      const listed = (await f.call('GET', '/v1/flows/flow-r/operations', undefined, headers)).body.operations;
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatchObject({ id: started.id, kind: 'enrol', state: 'pending', flowId: 'flow-r' });
      expect(listed[0].dialogUrl).toMatch(/\/dialog\//);
      expect((await f.call('GET', '/v1/flows/other/operations', undefined, headers)).body.operations).toEqual(
        [],
      );
      // While the work runs, nothing is lost.
      expect((await f.call('POST', '/v1/flows/flow-r/download-lost', undefined, headers)).body).toEqual({
        seq: null,
      });
      // The flow's events carry their seq in the agent's log.
      const events = (await f.call('GET', '/v1/flows/flow-r/events', undefined, headers)).body.events;
      expect(events[0]).toMatchObject({ type: 'key-generation-started', seq: expect.any(Number) });

      // A flow with no work here: the agent states the download failed, as an event of its log.
      const lost = (await f.call('POST', '/v1/flows/flow-gone/download-lost', undefined, headers)).body;
      expect(lost.seq).toEqual(expect.any(Number));
      expect(f.agent.flowEvents('flow-gone')).toEqual([
        { type: 'download-failed', reason: 'OPERATION_LOST', at: expect.any(Number), seq: lost.seq },
      ]);
      const refused = await f.call('GET', '/v1/flows/flow-r/operations', undefined, {
        'x-agent-session': 'nope',
      });
      expect(refused.body.code).toBe('SESSION_INVALID');
    });

    it('records a cancelled dialog', async () => {
      const token = await f.session();
      const started = (
        await f.call('POST', '/v1/readers/reader-2/enrol', { flowId: 'flow-4' }, { 'x-agent-session': token })
      ).body;
      await f.app.inject({ method: 'GET', url: `/dialog/${started.dialog.id}` });
      await f.app.inject({
        method: 'POST',
        url: `/dialog/${started.dialog.id}/cancel`,
        headers: { origin: 'http://localhost:80' },
      });
      const failed = await f.waitFor(token, started.id, (v) => v.state !== 'pending');
      expect(failed.error?.code).toBe('DIALOG_CANCELLED');
      const events = f.agent.flowEvents('flow-4').map((e) => e.type);
      expect(events).toEqual([
        'key-generation-started',
        'dialog-shown',
        'dialog-cancelled',
        'download-failed',
      ]);
      expect(f.agent.flowEvents('flow-4').at(-1)?.reason).toBe('DIALOG_CANCELLED');
    });
  });

  describe('authentication', () => {
    it('signs a challenge with the authentication key after PIN 1, verifiable with the card key', async () => {
      const spki = (await f.backend.generateKey('reader-2', CARD, 'auth', PINS.pin1, 'ecdsa-p256')).spki;
      const token = await f.session();
      const challenge = Buffer.from('server challenge 42');
      const started = (
        await f.call(
          'POST',
          '/v1/readers/reader-2/authenticate',
          { challenge: challenge.toString('base64') },
          { 'x-agent-session': token },
        )
      ).body;
      expect(started.dialog.pin).toBe('pin1');
      await f.answer(started.dialog.id, PINS.pin1);
      const done = await f.waitFor(token, started.id, (v) => v.state !== 'pending');
      const signature = Buffer.from((done.result as { signature: string }).signature, 'base64');
      expect(cardSignatureVerifies(spki, signature, challenge)).toBe(true);
    });

    it('refuses to authenticate with a card that has no key', async () => {
      const token = await f.session();
      const response = await f.call(
        'POST',
        '/v1/readers/reader-2/authenticate',
        { challenge: 'AAAA' },
        { 'x-agent-session': token },
      );
      expect(response).toMatchObject({ status: 409, body: { code: 'KEY_MISSING' } });
    });

    it('blocks the PIN after three wrong entries in the dialog', async () => {
      await f.backend.generateKey('reader-2', CARD, 'auth', PINS.pin1, 'ecdsa-p256');
      const token = await f.session();
      const started = (
        await f.call(
          'POST',
          '/v1/readers/reader-2/authenticate',
          { challenge: 'AAAA' },
          { 'x-agent-session': token },
        )
      ).body;
      const last = await f.answer(started.dialog.id, '1111', '2222', '3333');
      expect(last.lastError.code).toBe('PIN_BLOCKED');
      const failed = await f.waitFor(token, started.id, (v) => v.state !== 'pending');
      expect(failed.error?.code).toBe('PIN_BLOCKED');
    });
  });
});

describe('PIN change and PUK unblock over HTTP (virtual cards)', () => {
  const NEW = { pin1: '24681357', pin2: '97531864' } as const;
  let f: AgentFixture;
  let token: string;
  const session = () => ({ 'x-agent-session': token });
  const start = async (what: 'change-pin' | 'unblock-pin', pin: 'pin1' | 'pin2') => {
    const response = await f.call('POST', `/v1/readers/reader-2/${what}`, { pin }, session());
    expect(response.status).toBe(202);
    return response.body;
  };
  beforeEach(async () => {
    f = await createAgentFixture();
    token = await f.session();
  });
  afterEach(async () => {
    await f.dispose();
    // Neither the PINs, the new ones, nor the PUK ever come back to the page.
    for (const body of f.seen)
      for (const secret of [...Object.values(PINS), ...Object.values(NEW)])
        expect(body).not.toContain(secret);
  });

  it('changes PIN 1 in its own dialog: the current PIN and the new one twice; then only the new one works', async () => {
    const started = await start('change-pin', 'pin1');
    expect(started).toMatchObject({
      kind: 'change-pin',
      state: 'pending',
      dialog: { pin: 'pin1', entry: 'change' },
    });
    expect(started.dialogUrl).toMatch(/\/dialog\//);

    for (const [lang, words] of [
      ['sv', ['Byt PIN 1', 'Nuvarande PIN-kod', 'Ny PIN-kod (4–8 siffror)', 'Upprepa den nya PIN-koden']],
      ['en', ['Change PIN 1', 'Current PIN', 'New PIN (4–8 digits)', 'Repeat the new PIN']],
    ] as const) {
      const page = await f.app.inject({ method: 'GET', url: `/dialog/${started.dialog.id}?lang=${lang}` });
      for (const word of words) expect(page.body).toContain(word);
      expect(page.body).toContain('id="new-pin"');
      expect(page.body).toContain('id="repeat-pin"');
    }

    // Two new PINs that differ, or a new PIN of the wrong form, never reach the card.
    const mismatch = await f.answer(started.dialog.id, {
      pin: PINS.pin1,
      newPin: NEW.pin1,
      repeat: '11112222',
    });
    expect(mismatch).toMatchObject({
      state: 'shown',
      lastError: { code: 'PIN_FORMAT', details: { field: 'repeat' } },
    });
    const short = await f.answer(started.dialog.id, { pin: PINS.pin1, newPin: '12', repeat: '12' });
    expect(short).toMatchObject({
      state: 'shown',
      lastError: { code: 'PIN_FORMAT', details: { field: 'new' } },
    });
    expect((await f.backend.cardInfo('reader-2')).pins.pin1.triesLeft).toBe(3);

    // A wrong current PIN counts down, in the dialog where it was typed.
    const wrong = await f.answer(started.dialog.id, { pin: '0000', newPin: NEW.pin1, repeat: NEW.pin1 });
    expect(wrong).toMatchObject({
      state: 'shown',
      lastError: { code: 'PIN_INCORRECT', details: { triesLeft: 2 } },
    });

    const right = await f.answer(started.dialog.id, { pin: PINS.pin1, newPin: NEW.pin1, repeat: NEW.pin1 });
    expect(right.state).toBe('completed');
    const done = await f.waitFor(token, started.id, (v) => v.state !== 'pending');
    expect(done).toMatchObject({
      state: 'done',
      result: { cardNumber: CARD, pin: 'pin1', pins: { pin1: { triesLeft: 3, blocked: false } } },
    });

    await f.backend.generateKey('reader-2', CARD, 'auth', NEW.pin1, 'ecdsa-p256');
    const oldPin = await f.backend
      .sign('reader-2', CARD, 'auth', PINS.pin1, new Uint8Array([1]))
      .catch((e) => e);
    expect(oldPin.code).toBe('PIN_INCORRECT');
    // The card view reports the tries left.
    const card = await f.call('GET', '/v1/readers/reader-2/card', undefined, session());
    expect(card.body.pins.pin1).toEqual({ triesLeft: 2, blocked: false });
  });

  it('refuses to change a blocked PIN, and unblocks it with the PUK: a wrong PUK counts down in the dialog', async () => {
    for (let i = 0; i < 3; i++)
      await f.backend.changePin('reader-2', CARD, 'pin2', '0000', '4321').catch(() => undefined);
    const refused = await start('change-pin', 'pin2');
    const failed = await f.waitFor(token, refused.id, (v) => v.state !== 'pending');
    expect(failed).toMatchObject({ state: 'failed', error: { code: 'PIN_BLOCKED' }, dialog: null });

    const started = await start('unblock-pin', 'pin2');
    expect(started.dialog).toMatchObject({ pin: 'pin2', entry: 'unblock' });
    const page = await f.app.inject({ method: 'GET', url: `/dialog/${started.dialog.id}?lang=en` });
    expect(page.body).toContain('Unblock PIN 2');
    expect(page.body).toContain('PUK (8 digits, from the PIN letter)');
    const svPage = await f.app.inject({ method: 'GET', url: `/dialog/${started.dialog.id}` });
    expect(svPage.body).toContain('Lås upp PIN 2');

    const shortPuk = await f.answer(started.dialog.id, { pin: '1234', newPin: NEW.pin2, repeat: NEW.pin2 });
    expect(shortPuk.lastError.code).toBe('PIN_FORMAT');
    const wrongPuk = await f.answer(started.dialog.id, {
      pin: '00000000',
      newPin: NEW.pin2,
      repeat: NEW.pin2,
    });
    expect(wrongPuk).toMatchObject({
      state: 'shown',
      lastError: { code: 'PUK_INCORRECT', details: { triesLeft: 10 } },
    });
    const right = await f.answer(started.dialog.id, { pin: PINS.puk, newPin: NEW.pin2, repeat: NEW.pin2 });
    expect(right.state).toBe('completed');
    const done = await f.waitFor(token, started.id, (v) => v.state !== 'pending');
    expect(done.result).toMatchObject({ pins: { pin2: { triesLeft: 3, blocked: false } } });

    await f.backend.generateKey('reader-2', CARD, 'sign', PINS.pin1, 'ecdsa-p256');
    await f.backend.sign('reader-2', CARD, 'sign', NEW.pin2, new Uint8Array([2]));
  });

  it('locks the card for good on the eleventh wrong PUK typed in the dialog', async () => {
    const started = await start('unblock-pin', 'pin1');
    const attempt = { pin: '00000000', newPin: NEW.pin1, repeat: NEW.pin1 };
    for (let wrong = 1; wrong <= 10; wrong++) {
      expect(await f.answer(started.dialog.id, attempt)).toMatchObject({
        state: 'shown',
        lastError: { code: 'PUK_INCORRECT', details: { triesLeft: 11 - wrong } },
      });
    }
    const locked = await f.answer(started.dialog.id, attempt);
    expect(locked).toMatchObject({ state: 'aborted', lastError: { code: 'CARD_LOCKED' } });
    const failed = await f.waitFor(token, started.id, (v) => v.state !== 'pending');
    expect(failed.error?.code).toBe('CARD_LOCKED');
    const card = await f.call('GET', '/v1/readers/reader-2/card', undefined, session());
    expect(card.body.pins.puk).toEqual({ triesLeft: 0, locked: true });

    // A locked card opens no dialog any more: both operations fail at once.
    for (const what of ['unblock-pin', 'change-pin'] as const) {
      const again = await start(what, 'pin1');
      const end = await f.waitFor(token, again.id, (v) => v.state !== 'pending');
      expect(end).toMatchObject({ state: 'failed', error: { code: 'CARD_LOCKED' }, dialog: null });
    }
  });

  it('refuses an unknown PIN name and a missing session', async () => {
    expect(await f.call('POST', '/v1/readers/reader-2/change-pin', { pin: 'puk' }, session())).toMatchObject({
      status: 400,
      body: { code: 'REQUEST_INVALID' },
    });
    expect(await f.call('POST', '/v1/readers/reader-2/unblock-pin', { pin: 'pin1' })).toMatchObject({
      status: 401,
      body: { code: 'SESSION_INVALID' },
    });
  });
});

describe('card agent dialogs that never appear', () => {
  it('fails with DIALOG_TIMEOUT and records "dialog not shown" on the flow', async () => {
    const f = await createAgentFixture({ dialogShowTimeoutMs: 150 });
    try {
      const token = await f.session();
      const started = (
        await f.call('POST', '/v1/readers/reader-2/enrol', { flowId: 'flow-x' }, { 'x-agent-session': token })
      ).body;
      const failed = await f.waitFor(token, started.id, (v) => v.state !== 'pending');
      expect(failed.error?.code).toBe('DIALOG_TIMEOUT');
      expect(f.agent.flowEvents('flow-x').map((e) => `${e.type}:${e.dialog ?? ''}`)).toEqual([
        'key-generation-started:',
        'dialog-not-shown:auth',
        'download-failed:',
      ]);
    } finally {
      await f.dispose();
    }
  });
});

describe('card agent events over server-sent events', () => {
  it('pushes reader and card events with timestamps as they happen', async () => {
    const f = await createAgentFixture();
    const address = await f.app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const token = await f.session();
      const received: string[] = [];
      const url = new URL(`/v1/events?session=${token}`, address);
      const req = request(url, { headers: { origin: PORTAL } });
      const opened = new Promise<void>((resolve) => {
        req.on('response', (res) => {
          expect(res.headers['content-type']).toBe('text/event-stream');
          res.on('data', (chunk: Buffer) => received.push(chunk.toString()));
          resolve();
        });
      });
      req.end();
      await opened;
      await f.backend.removeCard('reader-2');
      await f.backend.insertCard('reader-2', CARD);
      const deadline = Date.now() + 2000;
      while (!received.join('').includes('card-inserted') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      req.destroy();
      const text = received.join('');
      expect(text).toContain('event: card-removed');
      expect(text).toContain('event: card-inserted');
      expect(text).toContain(`"cardNumber":"${CARD}"`);
      expect(text).toMatch(/"at":\d{13}/);
    } finally {
      await f.dispose();
    }
  });
});

describe('training panel endpoints (virtual readers only)', () => {
  it("set a card's PIN counters for the PIN scenes: PIN 1 blocked, locked for good, all tries back", async () => {
    const f = await createAgentFixture();
    try {
      const headers = { 'x-agent-session': await f.session() };
      const counters = async () =>
        (await f.call('GET', '/v1/readers/reader-2/card', undefined, headers)).body.pins;
      const set = (state: string) =>
        f.call('POST', '/v1/training/cards/counters', { cardNumber: CARD, counters: state }, headers);

      expect((await set('pin1-blocked')).status).toBe(200);
      expect(await counters()).toEqual({
        pin1: { triesLeft: 0, blocked: true },
        pin2: { triesLeft: 3, blocked: false },
        puk: { triesLeft: 11, locked: false },
      });
      expect((await set('card-locked')).status).toBe(200);
      expect(await counters()).toMatchObject({
        pin1: { blocked: false },
        puk: { triesLeft: 0, locked: true },
      });
      expect((await set('full')).status).toBe(200);
      expect(await counters()).toEqual({
        pin1: { triesLeft: 3, blocked: false },
        pin2: { triesLeft: 3, blocked: false },
        puk: { triesLeft: 11, locked: false },
      });
      // The same request twice at once: one state, as if sent once.
      const twice = await Promise.all([set('pin1-blocked'), set('pin1-blocked')]);
      expect(twice.map((r) => r.status)).toEqual([200, 200]);
      expect(await counters()).toEqual({
        pin1: { triesLeft: 0, blocked: true },
        pin2: { triesLeft: 3, blocked: false },
        puk: { triesLeft: 11, locked: false },
      });
      // Only the three states; the route takes no PIN or PUK at all.
      expect((await set('pin2-blocked')).status).toBe(400);
      expect(
        (await f.call('POST', '/v1/training/cards/counters', { cardNumber: CARD, counters: 'full' })).status,
      ).toBe(401);
    } finally {
      await f.dispose();
    }
  });

  it('plug and unplug readers and move cards, as events the page sees', async () => {
    const f = await createAgentFixture();
    try {
      const token = await f.session();
      const headers = { 'x-agent-session': token };
      const listed = await f.call('GET', '/v1/training/cards', undefined, headers);
      expect(listed.body.cards.map((c: { cardNumber: string }) => c.cardNumber)).toContain(CARD);
      expect(
        (await f.call('POST', '/v1/training/cards/remove', { readerId: 'reader-2' }, headers)).status,
      ).toBe(200);
      expect(
        (
          await f.call(
            'POST',
            '/v1/training/cards/insert',
            { readerId: 'reader-1', cardNumber: CARD },
            headers,
          )
        ).status,
      ).toBe(200);
      expect(
        (await f.call('POST', '/v1/training/readers/unplug', { readerId: 'reader-2' }, headers)).status,
      ).toBe(200);
      expect(
        (await f.call('GET', '/v1/readers', undefined, headers)).body.readers.map(
          (r: { id: string }) => r.id,
        ),
      ).toEqual(['reader-1']);
      expect(
        (await f.call('POST', '/v1/training/readers/plug', { readerId: 'reader-2' }, headers)).body.readerId,
      ).toBe('reader-2');
      const occupied = await f.call(
        'POST',
        '/v1/training/cards/insert',
        { readerId: 'reader-1', cardNumber: CARD },
        headers,
      );
      expect(occupied.body.code).toBe('CARD_ERROR');
      expect(
        (
          await f.call(
            'POST',
            '/v1/training/cards/insert',
            { readerId: 'reader-1', cardNumber: '123' },
            headers,
          )
        ).status,
      ).toBe(400);
      expect((await f.call('GET', '/v1/training/cards')).status).toBe(401);
      const foreign = await f.app.inject({
        method: 'GET',
        url: '/v1/training/cards',
        headers: { origin: 'https://evil.example', ...headers },
      });
      expect(foreign.statusCode).toBe(403);
    } finally {
      await f.dispose();
    }
  });
});
