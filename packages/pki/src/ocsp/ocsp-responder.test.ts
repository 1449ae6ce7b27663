import { connect } from 'node:net';
import { OCSPResponse, OCSPResponseStatus } from '@peculiar/asn1-ocsp';
import { AsnConvert } from '@peculiar/asn1-schema';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../store/src/test-support/test-stores.js';
import { buildPkiApp } from '../http/pki-app.js';
import {
  createTestCa,
  issueRequest,
  makeCsr,
  openssl,
  realClock,
  type TestCa,
  writeText,
} from '../test-support/test-ca.js';
import { OcspResponder } from './ocsp-responder.js';

describe.each(DIALECTS)('OCSP responder on %s', (dialect) => {
  let t: TestCa;
  let app: FastifyInstance;
  let responder: OcspResponder;
  let url: string;
  let leaf: string;
  let serial: string;

  beforeAll(async () => {
    t = await createTestCa(dialect);
    responder = new OcspResponder(t.ca, t.store.db, realClock);
    app = await buildPkiApp(t.ca, responder);
    url = `${await app.listen({ port: 0, host: '127.0.0.1' })}/ocsp`;
    const issued = await t.ca.issue(issueRequest((await makeCsr()).pem));
    serial = issued.serial;
    leaf = await writeText(t.dir, `ocsp-leaf-${dialect}.pem`, issued.pem);
  });
  afterAll(async () => {
    await app?.close();
    responder?.close();
    await t?.dispose();
  });

  const ask = (args: string[]) =>
    openssl([
      'ocsp',
      '-issuer',
      t.files.loa3,
      '-CAfile',
      t.files.root,
      '-url',
      url,
      '-timeout',
      '5',
      ...args,
    ]);

  it('answers good, then revoked with time and reason at once, then unknown for a serial never issued', async () => {
    const good = await ask(['-cert', leaf]);
    expect(good.out).toContain('Response verify OK');
    expect(good.out).toContain(`${leaf}: good`);

    const cachedGood = await ask(['-cert', leaf, '-no_nonce']);
    expect(cachedGood.out).toContain(': good');
    expect(responder.cachedResponses).toBeGreaterThan(0);

    const started = Date.now();
    await t.ca.revoke(serial, 'keyCompromise', 'operator');
    const revoked = await ask(['-cert', leaf, '-no_nonce']);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(revoked.out).toContain('Response verify OK');
    expect(revoked.out).toContain(': revoked');
    expect(revoked.out).toContain('Reason: keyCompromise');
    expect(revoked.out).toMatch(/Revocation Time: /);

    const unknown = await ask(['-serial', '0x1234567890abcdef']);
    expect(unknown.out).toContain('Response verify OK');
    expect(unknown.out).toContain('0x1234567890abcdef: unknown');
  });

  it('echoes the nonce, and caches nothing for nonce requests', async () => {
    const cached = responder.cachedResponses;
    const answer = await ask(['-cert', leaf, '-resp_text']);
    expect(answer.out).toContain('OCSP Nonce');
    expect(answer.out).toContain('Response verify OK');
    expect(responder.cachedResponses).toBe(cached);
  });

  it('answers the RFC 5019 GET form with a cacheable response', async () => {
    const reqFile = `${t.dir}/req-${dialect}.der`;
    await openssl(['ocsp', '-issuer', t.files.loa3, '-cert', leaf, '-no_nonce', '-reqout', reqFile]);
    const { readFile } = await import('node:fs/promises');
    const der = await readFile(reqFile);
    const response = await fetch(`${url}/${encodeURIComponent(der.toString('base64'))}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/ocsp-response');
    expect(response.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const parsed = AsnConvert.parse(new Uint8Array(await response.arrayBuffer()), OCSPResponse);
    expect(parsed.responseStatus).toBe(OCSPResponseStatus.successful);
  });

  it.each([
    ['garbage bytes', Buffer.from('hello, this is not DER')],
    ['an empty body', Buffer.alloc(0)],
    ['a truncated request', Buffer.from([0x30, 0x82, 0x01, 0x00, 0x30])],
  ])('answers %s with malformedRequest, never a 500', async (_name, body) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/ocsp-request' },
      body,
    });
    expect(response.status).toBe(200);
    const parsed = AsnConvert.parse(new Uint8Array(await response.arrayBuffer()), OCSPResponse);
    expect(parsed.responseStatus).toBe(OCSPResponseStatus.malformedRequest);
  });

  it('answers garbage in the GET form with malformedRequest', async () => {
    const response = await fetch(`${url}/%%%not-base64`);
    expect(response.status).toBeLessThan(500);
    const other = await fetch(`${url}/AAAA`);
    expect(AsnConvert.parse(new Uint8Array(await other.arrayBuffer()), OCSPResponse).responseStatus).toBe(
      OCSPResponseStatus.malformedRequest,
    );
  });

  it('refuses a request about another issuer as unauthorized', async () => {
    const answer = await openssl([
      'ocsp',
      '-issuer',
      t.files.root,
      '-serial',
      '0x01',
      '-url',
      url,
      '-timeout',
      '5',
    ]);
    expect(answer.out).toMatch(/unauthorized/i);
  });

  it('never stalls on an empty or half-sent connection', async () => {
    const idle = connect({ host: '127.0.0.1', port: Number(new URL(url).port) });
    const half = connect({ host: '127.0.0.1', port: Number(new URL(url).port) });
    await new Promise((resolve) => half.once('connect', resolve));
    half.write(
      'POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Type: application/ocsp-request\r\nContent-Length: 500\r\n\r\n0',
    );
    try {
      const started = Date.now();
      const answer = await ask(['-cert', leaf, '-no_nonce']);
      expect(answer.out).toContain(': revoked');
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      idle.destroy();
      half.destroy();
    }
  });

  it('serves the CA certificates and the CRLs', async () => {
    const base = url.replace(/\/ocsp$/, '');
    const pem = await fetch(`${base}/pki/ca/root.pem`);
    expect(await pem.text()).toContain('BEGIN CERTIFICATE');
    const crt = await fetch(`${base}/pki/ca/loa3.crt`);
    expect(crt.headers.get('content-type')).toBe('application/pkix-cert');
    const crl = await fetch(`${base}/pki/crl/loa3.crl`);
    expect(crl.headers.get('content-type')).toBe('application/pkix-crl');
    expect(crl.headers.get('expires')).toBeTruthy();
    const crlFile = await writeText(t.dir, `served-${dialect}.crl`, new Uint8Array(await crl.arrayBuffer()));
    const text = await openssl(['crl', '-inform', 'DER', '-in', crlFile, '-noout', '-text']);
    expect(text.out).toContain(serial.toUpperCase());
    expect((await fetch(`${base}/pki/ca/nope.pem`)).status).toBe(400);
    expect((await fetch(`${base}/pki/crl/root.crl`)).status).toBe(400);
  });
});
