// The card agent as a station, over its real HTTP app on virtual cards: registration, signed
// statements checked with node:crypto against the station certificate, the persisted counters.
import 'reflect-metadata';
import { statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pkcs10CertificateRequest, X509Certificate } from '@peculiar/x509';
import {
  type CardNumber,
  cardKeysBytes,
  cardProofBytes,
  MAX_STATEMENT_EVENTS,
  type SignedStatement,
} from '@reservkort/domain';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AgentFixture, CARD, createAgentFixture, PINS, PORTAL } from '../test-support/agent-fixture.js';
import { testBureauCertificate } from '../test-support/bureau-certificate.js';
import { cardSignatureVerifies } from '../test-support/signature-check.js';
import { createStationCa, type StationCa, verifyStatement } from '../test-support/station-ca.js';
import { StationIdentity } from './station-identity.js';

const NONCE = '0123456789abcdef0123456789abcdef';
const OTHER = '9752278900000000200' as CardNumber;

describe('the card agent as a station', () => {
  let ca: StationCa;
  let f: AgentFixture;
  let token: string;
  const headers = () => ({ 'x-agent-session': token });
  const register = async (fixture: AgentFixture = f) => {
    const { csr } = (await fixture.call('POST', '/v1/station/csr', { name: 'Kortstation 1' }, headers()))
      .body;
    const certificate = await ca.issue(csr);
    const installed = await fixture.call('POST', '/v1/station/certificate', { certificate }, headers());
    expect(installed.status).toBe(200);
    return certificate;
  };
  const statement = async (body: Record<string, unknown>, fixture: AgentFixture = f) =>
    fixture.call('POST', '/v1/statements', { flowId: 'flow-1', nonce: NONCE, ...body }, headers());

  beforeAll(async () => {
    ca = await createStationCa();
  });
  beforeEach(async () => {
    f = await createAgentFixture();
    token = await f.session();
  });
  afterEach(async () => {
    await f.dispose();
  });

  describe('identity', () => {
    it('is unregistered at first and signs nothing: STATION_NOT_REGISTERED', async () => {
      expect((await f.call('GET', '/v1/station', undefined, headers())).body).toMatchObject({
        stationId: null,
        registered: false,
        certificate: null,
        keyStore: 'file',
      });
      expect(await statement({ kind: 'readers' })).toMatchObject({
        status: 409,
        body: { code: 'STATION_NOT_REGISTERED', message: { sv: expect.any(String), en: expect.any(String) } },
      });
    });

    it('makes its P-256 key on the first CSR, in a 0700 folder as a 0600 PKCS#8 file', async () => {
      const first = (await f.call('POST', '/v1/station/csr', { name: 'Kortstation 1' }, headers())).body;
      const request = new Pkcs10CertificateRequest(Buffer.from(first.csr, 'base64'));
      expect(await request.verify()).toBe(true);
      const cn = request.subjectName.getField('CN')[0];
      expect(cn).toMatch(/^st-[A-Za-z0-9_-]{8,40}$/);
      expect(request.publicKey.algorithm).toMatchObject({ name: 'ECDSA', namedCurve: 'P-256' });
      expect(statSync(f.stationDir).mode & 0o777).toBe(0o700);
      const keyFile = join(f.stationDir, 'station-key.pem');
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      expect(await readFile(keyFile, 'utf8')).toContain('-----BEGIN PRIVATE KEY-----');
      // Asking again keeps the key and the proposed id: registering again renews the same station.
      const again = (await f.call('POST', '/v1/station/csr', { name: 'Kortstation 1' }, headers())).body;
      const second = new Pkcs10CertificateRequest(Buffer.from(again.csr, 'base64'));
      expect(second.subjectName.getField('CN')[0]).toBe(cn);
      expect(Buffer.from(second.publicKey.rawData)).toEqual(Buffer.from(request.publicKey.rawData));
    });

    it('stores only a certificate for its own key, then names itself by it', async () => {
      const early = await f.call('POST', '/v1/station/certificate', { certificate: 'x' }, headers());
      expect(early).toMatchObject({
        status: 400,
        body: { code: 'REQUEST_INVALID', details: { reason: 'no station key' } },
      });
      const { csr } = (await f.call('POST', '/v1/station/csr', { name: 'Kortstation 1' }, headers())).body;
      const stranger = await createAgentFixture();
      try {
        const strangerToken = await stranger.session();
        const foreign = (
          await stranger.call(
            'POST',
            '/v1/station/csr',
            { name: 'Annan' },
            { 'x-agent-session': strangerToken },
          )
        ).body.csr;
        const wrongKey = await f.call(
          'POST',
          '/v1/station/certificate',
          { certificate: await ca.issue(foreign) },
          headers(),
        );
        expect(wrongKey).toMatchObject({ status: 400, body: { details: { reason: 'certificate key' } } });
      } finally {
        await stranger.dispose();
      }
      const notStation = await f.call(
        'POST',
        '/v1/station/certificate',
        { certificate: await ca.issue(csr, { subject: 'CN=somebody' }) },
        headers(),
      );
      expect(notStation).toMatchObject({ status: 400, body: { details: { reason: 'certificate subject' } } });
      const garbage = await f.call(
        'POST',
        '/v1/station/certificate',
        { certificate: 'not a pem' },
        headers(),
      );
      expect(garbage).toMatchObject({ status: 400, body: { details: { reason: 'certificate' } } });
      const certificate = await ca.issue(csr);
      const installed = (await f.call('POST', '/v1/station/certificate', { certificate }, headers())).body;
      const cn = new Pkcs10CertificateRequest(Buffer.from(csr, 'base64')).subjectName.getField('CN')[0];
      expect(installed).toMatchObject({
        stationId: cn,
        registered: true,
        certificate,
        name: 'Kortstation 1',
      });
      expect((await f.call('GET', '/v1/station', undefined, headers())).body.stationId).toBe(cn);
    });

    it('refuses to sign with an expired station certificate', async () => {
      const { csr } = (await f.call('POST', '/v1/station/csr', { name: 'Kortstation 1' }, headers())).body;
      const certificate = await ca.issue(csr, { notAfter: new Date(Date.now() - 1000) });
      await f.call('POST', '/v1/station/certificate', { certificate }, headers());
      expect(await statement({ kind: 'agent-info' })).toMatchObject({
        status: 409,
        body: { code: 'STATION_NOT_REGISTERED', details: { reason: 'expired' } },
      });
    });
  });

  describe('statements', () => {
    let certificate: string;
    beforeEach(async () => {
      certificate = await register();
    });
    const verified = (signed: SignedStatement) => {
      const checked = verifyStatement(signed, certificate);
      expect(checked.valid).toBe(true);
      return checked.payload;
    };

    it('states its readers, with the insertion counter of each, verifiable with the certificate key', async () => {
      const signed = (await statement({ kind: 'readers' })).body as SignedStatement;
      const payload = verified(signed);
      const stationId = (await f.call('GET', '/v1/station', undefined, headers())).body.stationId;
      expect(payload).toMatchObject({
        v: 1,
        station: stationId,
        flowId: 'flow-1',
        nonce: NONCE,
        kind: 'readers',
        body: {
          readers: {
            1: { connected: true, card: null },
            2: { connected: true, card: { cardNumber: CARD, insertions: 1 } },
          },
        },
      });
      await f.backend.removeCard('reader-2');
      await f.backend.insertCard('reader-2', CARD);
      await f.backend.createCard({ cardNumber: OTHER, ...PINS });
      await f.backend.insertCard('reader-1', OTHER);
      const after = verified((await statement({ kind: 'readers' })).body);
      expect(after.body).toEqual({
        readers: {
          1: { connected: true, card: { cardNumber: OTHER, insertions: 1 } },
          2: { connected: true, card: { cardNumber: CARD, insertions: 2 } },
        },
        agent: { version: expect.any(String), packaging: expect.any(String) },
      });
      expect(after.seq).toBeGreaterThan(payload.seq);
      await f.backend.unplugReader('reader-1');
      const unplugged = verified((await statement({ kind: 'readers' })).body);
      expect(unplugged.body).toMatchObject({ readers: { 1: { connected: false, card: null } } });
    });

    it('states its own version and packaging', async () => {
      const payload = verified((await statement({ kind: 'agent-info' })).body);
      expect(payload).toMatchObject({ kind: 'agent-info', body: { version: '0.1.0', packaging: 'test' } });
    });

    it('states the certificates read from the card in a reader', async () => {
      const empty = verified((await statement({ kind: 'card-certificates', reader: 2 })).body);
      expect(empty.body).toEqual({ reader: 2, cardNumber: CARD, certificates: [] });
      expect(await statement({ kind: 'card-certificates', reader: 1 })).toMatchObject({
        status: 409,
        body: { code: 'CARD_MISSING' },
      });
      expect(await statement({ kind: 'card-certificates' })).toMatchObject({
        status: 400,
        body: { code: 'REQUEST_INVALID', details: { reason: 'reader missing' } },
      });
    });

    it('states an event of its own log by its seq, and refuses an unknown or foreign one', async () => {
      const seen: { seq: number; type: string }[] = [];
      const unsubscribe = f.agent.subscribe((event) => seen.push(event));
      await f.backend.removeCard('reader-2');
      await f.backend.insertCard('reader-2', CARD);
      unsubscribe();
      const inserted = seen.find((e) => e.type === 'card-inserted');
      const removed = seen.find((e) => e.type === 'card-removed');
      if (!inserted || !removed) throw new Error('no card events');
      const payload = verified((await statement({ kind: 'event', eventSeq: inserted.seq })).body);
      expect(payload.body).toEqual({ event: { type: 'card-inserted', reader: 2, cardNumber: CARD } });
      const gone = verified((await statement({ kind: 'event', eventSeq: removed.seq })).body);
      expect(gone.body).toEqual({ event: { type: 'card-removed', reader: 2 } });
      // A forged seq: nothing of the agent's own has it.
      expect(await statement({ kind: 'event', eventSeq: 99_999 })).toMatchObject({
        status: 400,
        body: { code: 'REQUEST_INVALID', details: { reason: 'unknown event' } },
      });
      expect(await statement({ kind: 'event' })).toMatchObject({
        status: 400,
        body: { details: { reason: 'eventSeq missing' } },
      });
    });

    it('states several events of its own log in one statement, in the order logged, for one flow only', async () => {
      const seen: { seq: number; type: string; event?: { type: string } }[] = [];
      const unsubscribe = f.agent.subscribe((event) => seen.push(event as (typeof seen)[number]));
      await f.backend.removeCard('reader-2');
      await f.backend.insertCard('reader-2', CARD);
      const op = (await f.call('POST', '/v1/readers/reader-2/enrol', { flowId: 'flow-1' }, headers())).body;
      await f.app.inject({ method: 'GET', url: `/dialog/${op.dialog.id}` });
      unsubscribe();
      const seqOf = (type: string) =>
        seen.find((e) => e.type === type || (e.type === 'flow' && e.event?.type === type))?.seq ?? 0;
      const seqs = [seqOf('card-removed'), seqOf('card-inserted'), seqOf('key-generation-started')];
      const shown = seqOf('dialog-shown');
      const payload = verified((await statement({ kind: 'events', eventSeqs: [...seqs, shown] })).body);
      expect(payload.kind).toBe('events');
      expect(payload.body).toEqual({
        events: [
          { type: 'card-removed', reader: 2 },
          { type: 'card-inserted', reader: 2, cardNumber: CARD },
          { type: 'key-generation-started' },
          { type: 'dialog-shown', dialog: 'auth' },
        ],
      });
      const refused = async (request: Record<string, unknown>, reason: string) =>
        expect(await statement(request)).toMatchObject({
          status: 400,
          body: { code: 'REQUEST_INVALID', details: { reason: expect.stringContaining(reason) } },
        });
      await refused({ kind: 'events', eventSeqs: [seqs[1], seqs[0]] }, 'order');
      await refused({ kind: 'events', eventSeqs: [seqs[0], seqs[0]] }, 'order');
      await refused({ kind: 'events', eventSeqs: [seqs[0], 99_999] }, 'unknown event');
      await refused({ kind: 'events' }, 'eventSeqs');
      // A flow's event under another flow's name, among events of no flow: the whole list is refused.
      expect(
        await f.call(
          'POST',
          '/v1/statements',
          { flowId: 'flow-2', nonce: NONCE, kind: 'events', eventSeqs: [seqs[0], shown] },
          headers(),
        ),
      ).toMatchObject({ status: 400, body: { details: { reason: 'event of another flow' } } });
      // One event is an `event` statement; more than one statement carries, two requests.
      for (const eventSeqs of [[seqs[0]], Array.from({ length: MAX_STATEMENT_EVENTS + 1 }, (_, i) => i + 1)])
        expect(await statement({ kind: 'events', eventSeqs })).toMatchObject({
          status: 400,
          body: { code: 'REQUEST_INVALID' },
        });
    });

    it("states a flow's dialog events for that flow only", async () => {
      const seen: { seq: number; type: string; event?: { type: string } }[] = [];
      const unsubscribe = f.agent.subscribe((event) => seen.push(event as (typeof seen)[number]));
      const op = (await f.call('POST', '/v1/readers/reader-2/enrol', { flowId: 'flow-1' }, headers())).body;
      await f.app.inject({ method: 'GET', url: `/dialog/${op.dialog.id}` });
      unsubscribe();
      const shown = seen.find((e) => e.type === 'flow' && e.event?.type === 'dialog-shown');
      if (!shown) throw new Error('no dialog event');
      const payload = verified((await statement({ kind: 'event', eventSeq: shown.seq })).body);
      expect(payload.body).toEqual({ event: { type: 'dialog-shown', dialog: 'auth' } });
      const moved = await f.call(
        'POST',
        '/v1/statements',
        { flowId: 'flow-2', nonce: NONCE, kind: 'event', eventSeq: shown.seq },
        headers(),
      );
      expect(moved).toMatchObject({ status: 400, body: { details: { reason: 'event of another flow' } } });
    });

    it('states the end of step 6 card work: certificates written, or the download failed with its code', async () => {
      const seen: { seq: number; type: string; flowId?: string; event?: { type: string } }[] = [];
      const unsubscribe = f.agent.subscribe((event) => seen.push(event as (typeof seen)[number]));
      const started = (await f.call('POST', '/v1/readers/reader-2/enrol', { flowId: 'flow-1' }, headers()))
        .body;
      await f.answer(started.dialog.id, PINS.pin1);
      const second = await f.waitFor(token, started.id, (v) => v.dialog?.pin === 'pin2');
      await f.answer(second.dialog?.id ?? '', PINS.pin2);
      await f.waitFor(token, started.id, (v) => v.state === 'done');
      const der = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x07]).toString('base64');
      const write = (
        await f.call(
          'POST',
          '/v1/readers/reader-2/certificates',
          { flowId: 'flow-1', auth: der, sign: der },
          headers(),
        )
      ).body;
      await f.waitFor(token, write.id, (v) => v.state === 'done');
      // A second enrolment that the card leaves half-way.
      const failing = (await f.call('POST', '/v1/readers/reader-2/enrol', { flowId: 'flow-1' }, headers()))
        .body;
      await f.backend.removeCard('reader-2');
      await f.waitFor(token, failing.id, (v) => v.state === 'failed');
      unsubscribe();
      const of = (type: string) => seen.find((e) => e.type === 'flow' && e.event?.type === type);
      const written = of('certificates-written');
      const failed = of('download-failed');
      if (!written || !failed) throw new Error(`missing events: ${JSON.stringify(seen)}`);
      expect(verified((await statement({ kind: 'event', eventSeq: written.seq })).body).body).toEqual({
        event: { type: 'certificates-written' },
      });
      expect(verified((await statement({ kind: 'event', eventSeq: failed.seq })).body).body).toEqual({
        event: { type: 'download-failed', reason: 'CARD_REMOVED' },
      });
    });

    it('refuses kinds it cannot state and malformed requests', async () => {
      for (const body of [
        { kind: 'dialog' },
        { kind: 'card-proof' },
        { kind: 'keys-generated', reader: 1 },
        { kind: 'readers', nonce: 'ABC' },
        { kind: 'readers', flowId: 'a b' },
        { kind: 'readers', reader: 3 },
      ]) {
        expect(await statement(body)).toMatchObject({ status: 400, body: { code: 'REQUEST_INVALID' } });
      }
    });

    describe('what the card proves itself', () => {
      let bureauCertificate: Uint8Array;
      beforeEach(async () => {
        bureauCertificate = (
          await f.backend.installBureauKey(CARD, (spki) => testBureauCertificate(spki, CARD))
        ).certificate;
      });
      /** The bureau certificate's key, as the server reads it, checks the card's signature. */
      const bureauSpki = () =>
        new Uint8Array(new X509Certificate(new Uint8Array(bureauCertificate)).publicKey.rawData);
      const enrol = async () => {
        const started = (await f.call('POST', '/v1/readers/reader-2/enrol', { flowId: 'flow-1' }, headers()))
          .body;
        await f.answer(started.dialog.id, PINS.pin1);
        const second = await f.waitFor(token, started.id, (v) => v.dialog?.pin === 'pin2');
        await f.answer(second.dialog?.id ?? '', PINS.pin2);
        const done = await f.waitFor(token, started.id, (v) => v.state !== 'pending');
        const result = done.result as { authCsr: string; signCsr: string };
        const spki = (pem: string) =>
          Buffer.from(new Pkcs10CertificateRequest(pem).publicKey.rawData).toString('base64');
        return { auth: spki(result.authCsr), sign: spki(result.signCsr) };
      };

      it('has the card in a reader sign the flow and the nonce with its bureau key (card-proof)', async () => {
        const payload = verified((await statement({ kind: 'card-proof', reader: 2 })).body);
        expect(payload).toMatchObject({ kind: 'card-proof', flowId: 'flow-1', nonce: NONCE });
        const body = payload.body as { cardNumber: string; bureauCertificate: string; cardSignature: string };
        expect(body).toMatchObject({ reader: 2, cardNumber: CARD });
        expect(Buffer.from(body.bureauCertificate, 'base64')).toEqual(Buffer.from(bureauCertificate));
        const signature = Buffer.from(body.cardSignature, 'base64');
        expect(signature).toHaveLength(64);
        const proven = cardProofBytes({ flowId: 'flow-1', nonce: NONCE, cardNumber: CARD });
        expect(cardSignatureVerifies(bureauSpki(), signature, proven)).toBe(true);
        // The proof is for this flow and nonce only.
        const elsewhere = cardProofBytes({ flowId: 'flow-2', nonce: NONCE, cardNumber: CARD });
        expect(cardSignatureVerifies(bureauSpki(), signature, elsewhere)).toBe(false);
      });

      it('refuses a card-proof from an empty reader or a card without a bureau key', async () => {
        expect(await statement({ kind: 'card-proof', reader: 1 })).toMatchObject({
          status: 409,
          body: { code: 'CARD_MISSING' },
        });
        await f.backend.createCard({ cardNumber: OTHER, ...PINS });
        await f.backend.insertCard('reader-1', OTHER);
        expect(await statement({ kind: 'card-proof', reader: 1 })).toMatchObject({
          status: 409,
          body: { code: 'KEY_MISSING', details: { key: 'card-auth' } },
        });
      });

      it('states the two keys it generated on the card, with their attributes, vouched for by the card (keys-generated)', async () => {
        expect(await statement({ kind: 'keys-generated', reader: 2 })).toMatchObject({
          status: 409,
          body: { code: 'KEY_MISSING' },
        });
        const csrKeys = await enrol();
        const payload = verified((await statement({ kind: 'keys-generated', reader: 2 })).body);
        const body = payload.body as {
          cardNumber: CardNumber;
          keys: { auth: { spki: string }; sign: { spki: string } };
          cardSignature: string;
          bureauCertificate: string;
        };
        expect(body).toEqual({
          reader: 2,
          cardNumber: CARD,
          bureauCertificate: Buffer.from(bureauCertificate).toString('base64'),
          keys: {
            auth: { spki: csrKeys.auth, local: true, sensitive: true, neverExtractable: true },
            sign: { spki: csrKeys.sign, local: true, sensitive: true, neverExtractable: true },
          },
          cardSignature: expect.any(String),
        });
        expect(csrKeys.auth).not.toBe(csrKeys.sign);
        const vouched = cardKeysBytes({
          flowId: 'flow-1',
          nonce: NONCE,
          cardNumber: CARD,
          authSpki: csrKeys.auth,
          signSpki: csrKeys.sign,
        });
        const signature = Buffer.from(body.cardSignature, 'base64');
        expect(cardSignatureVerifies(bureauSpki(), signature, vouched)).toBe(true);
        // Without a reader it means reader 2, the recipient's.
        expect((await statement({ kind: 'keys-generated' })).status).toBe(200);
        // Once the card leaves, the enrolment is gone: nothing left to state.
        await f.backend.removeCard('reader-2');
        await f.backend.insertCard('reader-2', CARD);
        expect(await statement({ kind: 'keys-generated', reader: 2 })).toMatchObject({
          status: 409,
          body: { code: 'KEY_MISSING' },
        });
      });

      const simulateCards = (change: Record<string, unknown>) =>
        f.call('POST', '/v1/training/cards/simulate', change, headers());

      it('carries a counterfeit card’s proof as the card gave it: its own certificate and signature (training)', async () => {
        expect((await simulateCards({ counterfeitCard: true })).body).toEqual({
          counterfeitCard: true,
          exportableKeys: false,
        });
        const payload = verified((await statement({ kind: 'card-proof', reader: 2 })).body);
        const body = payload.body as { bureauCertificate: string; cardSignature: string };
        const forged = new Uint8Array(Buffer.from(body.bureauCertificate, 'base64'));
        expect(Buffer.from(forged)).not.toEqual(Buffer.from(bureauCertificate));
        const forgedKey = new Uint8Array(new X509Certificate(forged).publicKey.rawData);
        const proven = cardProofBytes({ flowId: 'flow-1', nonce: NONCE, cardNumber: CARD });
        const signature = Buffer.from(body.cardSignature, 'base64');
        expect(cardSignatureVerifies(forgedKey, signature, proven)).toBe(true);
        expect(cardSignatureVerifies(bureauSpki(), signature, proven)).toBe(false);
        // Switched off: the genuine card again.
        await simulateCards({ counterfeitCard: false });
        const genuine = verified((await statement({ kind: 'card-proof', reader: 2 })).body).body as {
          bureauCertificate: string;
        };
        expect(Buffer.from(genuine.bureauCertificate, 'base64')).toEqual(Buffer.from(bureauCertificate));
      });

      it('states the attributes a faulty chip reports of its keys, vouched for by the card as they are (training)', async () => {
        await simulateCards({ exportableKeys: true });
        const csrKeys = await enrol();
        const body = verified((await statement({ kind: 'keys-generated', reader: 2 })).body).body as {
          keys: Record<string, unknown>;
        };
        const imported = { local: false, sensitive: false, neverExtractable: false };
        expect(body.keys).toEqual({
          auth: { spki: csrKeys.auth, ...imported },
          sign: { spki: csrKeys.sign, ...imported },
        });
      });

      it('takes card faults from the portal page in a session only', async () => {
        expect(await f.call('POST', '/v1/training/cards/simulate', { counterfeitCard: true })).toMatchObject({
          status: 401,
          body: { code: 'SESSION_INVALID' },
        });
        expect(await simulateCards({ counterfeitCard: 'yes' })).toMatchObject({
          status: 400,
          body: { code: 'REQUEST_INVALID' },
        });
        expect(f.backend.simulatedFaults).toEqual({ counterfeitCard: false, exportableKeys: false });
      });
    });

    it('numbers its statements strictly upwards, on disk before they leave, across restarts', async () => {
      // A station folder that outlives the agent.
      const dir = await mkdtemp(join(tmpdir(), 'reservkort-station-'));
      await f.dispose();
      f = await createAgentFixture({ stationDir: join(dir, 'station') });
      token = await f.session();
      certificate = await register();
      const seqs: number[] = [];
      for (let i = 0; i < 3; i++) seqs.push(verified((await statement({ kind: 'agent-info' })).body).seq);
      expect(seqs).toEqual([1, 2, 3]);
      expect((await readFile(join(f.stationDir, 'seq'), 'utf8')).trim()).toBe('3');
      await f.dispose();
      // The same station folder, a new agent: the numbers go on, the card present counts as inserted again.
      f = await createAgentFixture({ stationDir: f.stationDir });
      token = await f.session();
      const next = verified((await statement({ kind: 'readers' })).body);
      expect(next.seq).toBe(4);
      expect(next.body).toMatchObject({ readers: { 2: { card: { insertions: 2 } } } });
      await rm(dir, { recursive: true, force: true });
    });

    it('refuses a damaged sequence counter rather than starting again at 1', async () => {
      await writeFile(join(f.stationDir, 'seq'), 'garbage');
      expect(() => StationIdentity.open(f.stationDir)).toThrow(/sequence counter/);
    });

    it('answers only the portal origin, and only within a page session', async () => {
      for (const url of ['/v1/statements', '/v1/station/csr', '/v1/station/certificate']) {
        const foreign = await f.app.inject({
          method: 'POST',
          url,
          headers: { origin: 'https://evil.example', ...headers() },
          payload: { flowId: 'flow-1', nonce: NONCE, kind: 'readers' },
        });
        expect(foreign.statusCode).toBe(403);
        expect(JSON.parse(foreign.body)).toMatchObject({ code: 'ORIGIN_FORBIDDEN' });
      }
      const noOrigin = await f.app.inject({ method: 'GET', url: '/v1/station', headers: headers() });
      expect(noOrigin.statusCode).toBe(403);
      const rebinding = await f.app.inject({
        method: 'POST',
        url: '/v1/statements',
        headers: { origin: PORTAL, host: 'attacker.example:31443', ...headers() },
        payload: { flowId: 'flow-1', nonce: NONCE, kind: 'readers' },
      });
      expect(rebinding.statusCode).toBe(403);
      expect(
        await f.call('POST', '/v1/statements', { flowId: 'flow-1', nonce: NONCE, kind: 'readers' }),
      ).toMatchObject({ status: 401, body: { code: 'SESSION_INVALID' } });
      expect(await f.call('GET', '/v1/station')).toMatchObject({ status: 401 });
      expect(await f.call('POST', '/v1/station/csr', { name: 'x' })).toMatchObject({ status: 401 });
    });
  });

  describe('training simulations', () => {
    let certificate: string;
    beforeEach(async () => {
      certificate = await register();
    });

    it('signs with a throwaway key and id no server registered, until switched off', async () => {
      const stationId = (await f.call('GET', '/v1/station', undefined, headers())).body.stationId;
      const on = await f.call(
        'POST',
        '/v1/training/station/simulate',
        { unregisteredStation: true },
        headers(),
      );
      expect(on.body).toEqual({ unregisteredStation: true, forgedStatement: false });
      const signed = (await statement({ kind: 'readers' })).body as SignedStatement;
      const checked = verifyStatement(signed, certificate);
      expect(checked.valid).toBe(false);
      expect(checked.payload.station).not.toBe(stationId);
      expect(checked.payload.station).toMatch(/^st-/);
      await f.call('POST', '/v1/training/station/simulate', { unregisteredStation: false }, headers());
      const back = verifyStatement((await statement({ kind: 'readers' })).body, certificate);
      expect(back.valid).toBe(true);
      expect(back.payload.station).toBe(stationId);
    });

    it('spoils the signature of the next statement only', async () => {
      await f.call('POST', '/v1/training/station/simulate', { forgedStatement: true }, headers());
      const forged = verifyStatement((await statement({ kind: 'agent-info' })).body, certificate);
      expect(forged.valid).toBe(false);
      expect(verifyStatement((await statement({ kind: 'agent-info' })).body, certificate).valid).toBe(true);
    });

    it('is for the portal page in a session only', async () => {
      expect(await f.call('POST', '/v1/training/station/simulate', { forgedStatement: true })).toMatchObject({
        status: 401,
        body: { code: 'SESSION_INVALID' },
      });
      expect(
        await f.call('POST', '/v1/training/station/simulate', { forgedStatement: 'yes' }, headers()),
      ).toMatchObject({ status: 400, body: { code: 'REQUEST_INVALID' } });
    });
  });
});
