import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { getOrder } from '@reservkort/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY_OIDS } from '../../../pki/src/oids.js';
import {
  ADMIN2_CARD,
  ANNA_PNR,
  CARD_PINS,
  completeWithPins,
  createIssuanceHarness,
  type Harness,
  RESERVE_CARD,
  RESERVE_PINS,
} from '../test-support/issuance-harness.js';
import { Page } from '../test-support/page.js';

const run = promisify(execFile);
// PEM bodies below drop the line break a DER of a multiple of 48 bytes would leave before the END
// line: OpenSSL refuses a PEM with an empty line in it.
/** Asks the server's OCSP endpoint about a certificate (base64 DER) and lets OpenSSL read the answer. */
const ocspStatus = async (h: Harness, der: string): Promise<string> => {
  const stem = join(h.t.dir, `ocsp-${Math.random().toString(36).slice(2)}`);
  await writeFile(
    `${stem}.pem`,
    `-----BEGIN CERTIFICATE-----\n${der.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`,
  );
  await run('openssl', [
    'ocsp',
    '-issuer',
    h.t.files.loa3,
    '-cert',
    `${stem}.pem`,
    '-no_nonce',
    '-reqout',
    `${stem}.req`,
  ]);
  const { readFile } = await import('node:fs/promises');
  const answer = await fetch(`${h.baseUrl}/ocsp`, {
    method: 'POST',
    headers: { 'content-type': 'application/ocsp-request' },
    body: await readFile(`${stem}.req`),
  });
  await writeFile(`${stem}.resp`, Buffer.from(await answer.arrayBuffer()));
  const read = await run('openssl', [
    'ocsp',
    '-respin',
    `${stem}.resp`,
    '-issuer',
    h.t.files.loa3,
    '-cert',
    `${stem}.pem`,
    '-CAfile',
    h.t.files.root,
    // The harness's clock runs ahead of OpenSSL's once a test passes a deadline, and the answer's
    // thisUpdate (whole seconds, which OpenSSL reads and checks) is the responder's clock.
    '-validity_period',
    '3600',
  ]);
  return `${read.stdout}${read.stderr}`;
};

const control = (view: any, id: string) => view.controls.find((c: { id: string }) => c.id === id);

/** Admin 2 and the recipient through steps 1–6, leaving the flow at step 7 (KVITTERA KORT). */
const walkToStep7 = async (h: Harness, page: Page) => {
  expect((await page.login(ADMIN2_CARD)).status).toBe(200);
  const started = await page.start();
  expect(started.body.view.step).toBe(1);
  expect(control(started.body.view, 'manage-orders')).toEqual({ id: 'manage-orders', enabled: true });
  expect((await page.action('manage-orders')).body.view.step).toBe(2);

  const hyphenated = `${ANNA_PNR.slice(0, 8)}-${ANNA_PNR.slice(8)}`;
  const search = await page.api('POST', `/api/flows/${page.flowId}/search`, { query: hyphenated });
  expect(search.body.raised).toEqual(['PNR_FORMAT']);
  expect(search.body.review).toMatchObject({
    name: 'Anna Andersson',
    cardNumber: RESERVE_CARD,
    organisation: 'Kliniken',
  });
  expect((await page.action('order-selected')).body.view.step).toBe(3);

  const signature = await page.signChallenge('order', 'reader-1', CARD_PINS.pin2);
  const signed = await page.api('POST', `/api/flows/${page.flowId}/sign`, signature);
  expect(signed.body.view.step, JSON.stringify(signed.body)).toBe(4);
  expect((await getOrder(h.t.store.db, 'order-anna'))?.state).toBe('in_progress');

  await h.cards.insertCard('reader-2', RESERVE_CARD);
  await page.relay({ type: 'card-inserted', reader: 2, cardNumber: RESERVE_CARD });
  await page.action('handover-confirmed');
  expect((await page.relay({ type: 'handover-verified', cardNumber: RESERVE_CARD })).body.view.step).toBe(5);

  await page.action('terms-accepted', { accepted: true });
  await page.action('download-requested');
  const seen = { count: 0 };
  // The key type the server names in every flow answer, as the page passes it to the agent.
  const enrol = await h.agent.enrol(h.agentToken, 'reader-2', page.flowId, started.body.cardKeyType);
  const enrolled = await completeWithPins(h.agent, enrol, [RESERVE_PINS.pin1, RESERVE_PINS.pin2]);
  expect(enrolled.state).toBe('done');
  const afterDialogs = await page.relayAgentEvents(seen);
  expect(afterDialogs?.body.view.step).toBe(6);

  const { authCsr, signCsr } = enrolled.result as { authCsr: string; signCsr: string };
  const issued = await page.api('POST', `/api/flows/${page.flowId}/certificates`, { authCsr, signCsr });
  expect(issued.status, JSON.stringify(issued.body)).toBe(200);
  const write = await h.agent.writeCertificates(
    h.agentToken,
    'reader-2',
    {
      auth: Buffer.from(issued.body.certificates.auth, 'base64'),
      sign: Buffer.from(issued.body.certificates.sign, 'base64'),
    },
    page.flowId,
  );
  expect((await h.agent.waitFor(write.id, 5000)).state).toBe('done');
  const written = await page.relay({ type: 'certificates-written' });
  expect(written.body.view.step).toBe(7);
  expect(written.body.view.deadline).toBeGreaterThan(Date.now());
  return issued.body.certificates as { auth: string; sign: string };
};

describe('the issuance portal over HTTP with RSA-2048 card keys', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createIssuanceHarness(
      {},
      () => ({}),
      'sqlite',
      {},
      {},
      {
        cardKeyTypes: { LoA3: 'rsa-2048', LoA2: 'rsa-2048' },
      },
    );
  });
  afterEach(async () => {
    await h.dispose();
  });

  it('logs in with an RSA card, issues RSA certificates for RSA card keys, and takes an RSA acknowledgement', async () => {
    const page = new Page(h);
    // Administrator 2's card holds RSA keys too (cards follow the CA's setting): the login is RSA.
    const certificates = await walkToStep7(h, page);
    expect((await page.view()).body.cardKeyType).toBe('rsa-2048');
    const ack = await page.signChallenge('acknowledge', 'reader-2', RESERVE_PINS.pin2);
    const done = await page.api('POST', `/api/flows/${page.flowId}/acknowledge`, {
      challengeId: ack.challengeId,
      signature: ack.signature,
    });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.view.status).toBe('completed');
    const usages = { auth: 'Digital Signature, Key Encipherment', sign: 'Non Repudiation' };
    for (const [name, der] of Object.entries(certificates) as ['auth' | 'sign', string][]) {
      const file = join(h.t.dir, `rsa-${name}.pem`);
      await writeFile(
        file,
        `-----BEGIN CERTIFICATE-----\n${der.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`,
      );
      const { stdout } = await run('openssl', ['x509', '-text', '-noout', '-in', file]);
      expect(stdout).toContain('Public-Key: (2048 bit)');
      expect(stdout).toMatch(new RegExp(`X509v3 Key Usage: critical\\s+${usages[name]}\\n`));
      expect(stdout).toMatch(/O ?= ?Region Exempel, OU ?= ?Kliniken/);
      const verified = await run('openssl', [
        'verify',
        '-x509_strict',
        '-CAfile',
        h.t.files.root,
        '-untrusted',
        h.t.files.loa3,
        file,
      ]);
      expect(verified.stdout).toContain(': OK');
    }
  });
});

describe('the issuance portal over HTTP, from order to acknowledged card', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createIssuanceHarness();
  });
  afterEach(async () => {
    await h.dispose();
  });

  it('walks steps 1–7; the certificates verify with OpenSSL and OCSP says good', async () => {
    const page = new Page(h);
    const certificates = await walkToStep7(h, page);
    const ack = await page.signChallenge('acknowledge', 'reader-2', RESERVE_PINS.pin2);
    const done = await page.api('POST', `/api/flows/${page.flowId}/acknowledge`, {
      challengeId: ack.challengeId,
      signature: ack.signature,
    });
    expect(done.body.view.status).toBe('completed');
    expect((await getOrder(h.t.store.db, 'order-anna'))?.state).toBe('completed');

    for (const [name, der] of Object.entries(certificates)) {
      const pem = `-----BEGIN CERTIFICATE-----\n${der.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
      const file = join(h.t.dir, `${name}.pem`);
      await writeFile(file, pem);
      const verified = await run('openssl', [
        'verify',
        '-x509_strict',
        '-policy_check',
        '-explicit_policy',
        '-policy',
        DEFAULT_POLICY_OIDS.LoA3,
        '-CAfile',
        h.t.files.root,
        '-untrusted',
        h.t.files.loa3,
        file,
      ]);
      expect(verified.stdout).toContain(': OK');
      const reqFile = join(h.t.dir, `${name}.ocsp`);
      await run('openssl', [
        'ocsp',
        '-issuer',
        h.t.files.loa3,
        '-cert',
        file,
        '-no_nonce',
        '-reqout',
        reqFile,
      ]);
      const { readFile } = await import('node:fs/promises');
      const answer = await h.app.inject({
        method: 'POST',
        url: '/ocsp',
        headers: { 'content-type': 'application/ocsp-request' },
        payload: await readFile(reqFile),
      });
      const respFile = join(h.t.dir, `${name}.ocsp-resp`);
      await writeFile(respFile, answer.rawPayload);
      const status = await run('openssl', [
        'ocsp',
        '-respin',
        respFile,
        '-issuer',
        h.t.files.loa3,
        '-cert',
        file,
        '-CAfile',
        h.t.files.root,
      ]);
      expect(`${status.stdout}${status.stderr}`).toContain(': good');
    }
  });

  it('revokes both certificates when the deadline passes, and says ACK_TIMEOUT', async () => {
    const page = new Page(h);
    const certificates = await walkToStep7(h, page);
    for (const der of Object.values(certificates)) expect(await ocspStatus(h, der)).toContain(': good');
    const flow = await h.services.issuance.load(page.flowId);
    h.clock.advance((flow.state.deadline ?? 0) - h.clock.now() + 1000);
    expect(
      control((await page.api('GET', `/api/flows/${page.flowId}`)).body.view, 'acknowledge'),
    ).toMatchObject({
      enabled: false,
      reason: { code: 'ACK_TIMEOUT' },
    });
    expect(await h.services.sweeper.sweep()).toBe(1);
    const after = (await page.api('GET', `/api/flows/${page.flowId}`)).body.view;
    expect(after.status).toBe('ack-timeout-revoked');
    expect(after.timeline.at(-1).codes).toContain('ACK_TIMEOUT');
    const { certificateStatus } = await import('@reservkort/store');
    for (const serial of flow.state.issuedSerials) {
      expect((await certificateStatus(h.t.store.db, serial))?.revocation?.reason).toBe(
        'cessationOfOperation',
      );
    }
    expect((await getOrder(h.t.store.db, 'order-anna'))?.state).toBe('registered');
    // OCSP says revoked at once: the revocation cleared the responder's cache.
    for (const der of Object.values(certificates)) expect(await ocspStatus(h, der)).toContain(': revoked');
    // A second sweep (another server) finds nothing left to do.
    expect(await h.services.sweeper.sweep()).toBe(0);
  });

  it('binds the flow to its station: every answer carries the next nonce, accepted statements move it on, a restart keeps the station', async () => {
    const page = new Page(h);
    await page.login(ADMIN2_CARD);
    const started = await page.start();
    const first = started.body.stationNonce as string;
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    expect(started.body.view.timeline[0].details).toMatchObject({ station: h.stationId });
    // A click is no statement: the nonce stays.
    expect((await page.action('manage-orders')).body.stationNonce).toBe(first);
    expect((await page.view()).body.stationNonce).toBe(first);
    // An accepted statement moves it on.
    await h.cards.insertCard('reader-2', RESERVE_CARD);
    const inserted = await page.relay({ type: 'card-inserted', reader: 2, cardNumber: RESERVE_CARD });
    expect(inserted.status).toBe(200);
    expect(inserted.body.stationNonce).not.toBe(first);
    expect(inserted.body.view.timeline.at(-1)).toMatchObject({
      event: 'card-inserted',
      details: { station: h.stationId },
    });
    const stored = await h.services.issuance.load(page.flowId);
    expect(stored.stationId).toBe(h.stationId);
    // Restart: a new flow on the same station, with a nonce of its own.
    const restarted = await page.api('POST', `/api/flows/${page.flowId}/restart`);
    expect(restarted.status).toBe(200);
    const next = await h.services.issuance.load(restarted.body.view.flowId);
    expect(next.stationId).toBe(h.stationId);
    expect(restarted.body.stationNonce).toBe(next.stationNonce);
    expect(next.stationNonce).not.toBe(inserted.body.stationNonce);
  });

  it('refuses SIGNERA after the login card was removed, with the time it happened', async () => {
    const page = new Page(h);
    await page.login(ADMIN2_CARD);
    await page.start();
    await page.action('manage-orders');
    await page.api('POST', `/api/flows/${page.flowId}/search`, { query: ANNA_PNR });
    await page.action('order-selected');
    await h.cards.removeCard('reader-1');
    const removed = await page.relay({ type: 'card-removed', reader: 1 });
    expect(removed.body.raised).toContain('CARD_REINSERTED');
    expect(control(removed.body.view, 'sign')).toMatchObject({
      enabled: false,
      reason: { code: 'CARD_REINSERTED' },
    });
    await h.cards.insertCard('reader-1', ADMIN2_CARD);
    // A lying page re-binds the agent to the card and signs anyway: the server still refuses.
    await h.agent.bind(h.agentToken, 'reader-1');
    const signature = await page.signChallenge('order', 'reader-1', CARD_PINS.pin2);
    const signed = await page.api('POST', `/api/flows/${page.flowId}/sign`, signature);
    expect(signed.body.raised).toContain('CARD_REINSERTED');
    expect((await page.api('GET', `/api/flows/${page.flowId}`)).body.view.step).toBe(3);
  });
});
