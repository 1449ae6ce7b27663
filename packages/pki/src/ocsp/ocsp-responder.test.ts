import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import {
  CertID,
  OCSPRequest,
  OCSPResponse,
  OCSPResponseStatus,
  Request,
  TBSRequest,
} from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate, Extension } from '@peculiar/asn1-x509';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../store/src/test-support/test-stores.js';
import { pemOf } from '../encoding/pem-text.js';
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
import { DEFAULT_OCSP_CACHE_BYTES, isSingleDerElement, OcspResponder } from './ocsp-responder.js';

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

  it('answers a request with bytes after its DER with malformedRequest, by POST and by GET', async () => {
    const reqFile = `${t.dir}/trailing-${dialect}.der`;
    await openssl(['ocsp', '-issuer', t.files.loa3, '-cert', leaf, '-no_nonce', '-reqout', reqFile]);
    const der = await readFile(reqFile);
    const post = async (body: Buffer) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/ocsp-request' },
        body: new Uint8Array(body),
      });
      expect(response.status).toBe(200);
      return writeText(t.dir, `answer-${dialect}.der`, new Uint8Array(await response.arrayBuffer()));
    };
    const judged = async (answerFile: string) =>
      (await openssl(['ocsp', '-respin', answerFile, '-resp_text', '-noverify'])).out;
    // The same request without the tail is a real one: OpenSSL reads a successful answer.
    expect(await judged(await post(der))).toContain('OCSP Response Status: successful');
    const cached = responder.cachedResponses;
    for (const tail of [Buffer.from([0]), randomBytes(7 * 1024)]) {
      const answer = await judged(await post(Buffer.concat([der, tail])));
      expect(answer).toContain('Responder Error: malformedrequest (1)');
      const byGet = await fetch(
        `${url}/${encodeURIComponent(Buffer.concat([der, tail]).toString('base64'))}`,
      );
      expect(AsnConvert.parse(new Uint8Array(await byGet.arrayBuffer()), OCSPResponse).responseStatus).toBe(
        OCSPResponseStatus.malformedRequest,
      );
    }
    expect(responder.cachedResponses).toBe(cached);
  });

  it('refuses a request about another issuer as unauthorized', async () => {
    // The LoA3 OCSP signer issues nothing: no one answers for it.
    const notAnIssuer = await writeText(
      t.dir,
      `ocsp-loa3-${dialect}.pem`,
      pemOf(t.ca.ca('ocsp-loa3').certificate),
    );
    const answer = await openssl([
      'ocsp',
      '-issuer',
      notAnIssuer,
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
    expect(await pem.text()).toMatch(/^-----BEGIN CERTIFICATE-----\n[^]*\n-----END CERTIFICATE-----\n$/);
    const crt = await fetch(`${base}/pki/ca/loa3.crt`);
    expect(crt.headers.get('content-type')).toBe('application/pkix-cert');
    const crl = await fetch(`${base}/pki/crl/loa3.crl`);
    expect(crl.headers.get('content-type')).toBe('application/pkix-crl');
    expect(crl.headers.get('expires')).toBeTruthy();
    const crlFile = await writeText(t.dir, `served-${dialect}.crl`, new Uint8Array(await crl.arrayBuffer()));
    const text = await openssl(['crl', '-inform', 'DER', '-in', crlFile, '-noout', '-text']);
    expect(text.out).toContain(serial.toUpperCase());
    expect((await fetch(`${base}/pki/ca/nope.pem`)).status).toBe(400);
    expect((await fetch(`${base}/pki/crl/nope.crl`)).status).toBe(400);
    const root = await fetch(`${base}/pki/crl/root.crl`);
    expect(root.status).toBe(200);
    const rootFile = await writeText(t.dir, `root-${dialect}.crl`, new Uint8Array(await root.arrayBuffer()));
    const rootCrl = await openssl([
      'crl',
      '-inform',
      'DER',
      '-in',
      rootFile,
      '-noout',
      '-CAfile',
      t.files.root,
    ]);
    expect(rootCrl.out).toContain('verify OK');
  });
});

describe('the OCSP response cache', () => {
  let t: TestCa;
  let issuer: Certificate;
  const serials: string[] = [];

  beforeAll(async () => {
    t = await createTestCa('sqlite');
    issuer = AsnConvert.parse(t.ca.ca('loa3').certificate.rawData, Certificate);
    for (let i = 0; i < 3; i++) serials.push((await t.ca.issue(issueRequest((await makeCsr()).pem))).serial);
  });
  afterAll(async () => {
    await t?.dispose();
  });

  /** A nonce-less request for a serial, padded with a private extension: distinct, cacheable, large. */
  const paddedRequest = (serial: string, padding: number): Buffer => {
    const sha1 = (data: BufferSource) =>
      createHash('sha1')
        .update(new Uint8Array(data as ArrayBuffer))
        .digest();
    const certId = new CertID({
      hashAlgorithm: new AlgorithmIdentifier({ algorithm: '1.3.14.3.2.26', parameters: null }),
      issuerNameHash: new OctetString(sha1(AsnConvert.serialize(issuer.tbsCertificate.subject))),
      issuerKeyHash: new OctetString(sha1(issuer.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey)),
      serialNumber: new Uint8Array(Buffer.from(serial.length % 2 ? `0${serial}` : serial, 'hex')).buffer,
    });
    const request = new OCSPRequest({
      tbsRequest: new TBSRequest({
        requestList: [new Request({ reqCert: certId })],
        requestExtensions: [
          new Extension({
            extnID: '1.3.6.1.4.1.99999.7',
            critical: false,
            extnValue: new OctetString(randomBytes(padding)),
          }),
        ],
      }),
    });
    return Buffer.from(AsnConvert.serialize(request));
  };

  it('never holds more than its byte budget under many distinct large requests, and evicts the least recently used', async () => {
    const budget = 256 * 1024;
    const responder = new OcspResponder(t.ca, t.store.db, realClock, { cacheBytes: budget });
    try {
      const hot = paddedRequest(serials[0] ?? '', 7 * 1024 + 700);
      const hotKey = hot.toString('latin1');
      const first = await responder.respond(hot, hotKey);
      const sent: Buffer[] = [];
      let answerBytes = first.der.byteLength;
      for (let i = 0; i < 200; i++) {
        const request = paddedRequest(serials[i % serials.length] ?? '', 7 * 1024 + 700);
        expect(request.length).toBeGreaterThan(7_700);
        const answer = await responder.respond(request, request.toString('latin1'));
        expect(AsnConvert.parse(answer.der, OCSPResponse).responseStatus).toBe(OCSPResponseStatus.successful);
        expect(answer.maxAgeSeconds).toBeGreaterThan(0);
        answerBytes = Math.max(answerBytes, answer.der.byteLength);
        sent.push(request);
        expect(responder.cachedBytes).toBeLessThanOrEqual(budget);
        // The hot request is asked again and again, as a relying party's cache would: it stays.
        expect(responder.cached(hotKey)?.der).toBe(first.der);
      }
      // Counted independently of the responder's own sum: the keys still cached and their answers.
      const stillCached = sent.filter((r) => responder.cached(r.toString('latin1')) !== undefined);
      expect(stillCached.length).toBeGreaterThan(5);
      expect((stillCached.length + 1) * (hot.length + answerBytes)).toBeLessThanOrEqual(budget);
      expect(responder.cachedResponses).toBe(stillCached.length + 1);
      // The oldest requests, never asked again, were the ones evicted.
      expect(responder.cached((sent[0] as Buffer).toString('latin1'))).toBeUndefined();
      expect(stillCached).toEqual(sent.slice(sent.length - stillCached.length));
    } finally {
      responder.close();
    }
  });

  it('caches nothing larger than the whole budget, and starts from zero after a status change', async () => {
    const responder = new OcspResponder(t.ca, t.store.db, realClock, { cacheBytes: 4 * 1024 });
    try {
      const large = paddedRequest(serials[1] ?? '', 6 * 1024);
      expect((await responder.respond(large, large.toString('latin1'))).maxAgeSeconds).toBeGreaterThan(0);
      expect(responder.cachedResponses).toBe(0);
      expect(responder.cachedBytes).toBe(0);
      const small = paddedRequest(serials[1] ?? '', 16);
      await responder.respond(small, small.toString('latin1'));
      expect(responder.cachedResponses).toBe(1);
      expect(responder.cachedBytes).toBeGreaterThan(small.length);
      responder.invalidate();
      expect(responder.cachedBytes).toBe(0);
      expect(responder.cachedResponses).toBe(0);
    } finally {
      responder.close();
    }
  });

  it('uses a 16 MiB budget by default', async () => {
    expect(DEFAULT_OCSP_CACHE_BYTES).toBe(16 * 1024 * 1024);
    const responder = new OcspResponder(t.ca, t.store.db, realClock);
    try {
      for (let i = 0; i < 20; i++) {
        const request = paddedRequest(serials[2] ?? '', 7 * 1024 + 700);
        await responder.respond(request, request.toString('latin1'));
      }
      // Twenty 7.7 KB requests with their answers: far below the budget, so all are kept.
      expect(responder.cachedResponses).toBe(20);
      expect(responder.cachedBytes).toBeGreaterThan(20 * 7_700);
      expect(responder.cachedBytes).toBeLessThan(20 * 12_000);
    } finally {
      responder.close();
    }
  });
});

describe('one DER element, nothing after it', () => {
  it.each([
    ['a short form length', [0x30, 0x03, 1, 2, 3], true],
    ['a long form length', [0x30, 0x81, 0x02, 1, 2], true],
    ['a trailing byte', [0x30, 0x03, 1, 2, 3, 0], false],
    ['a missing byte', [0x30, 0x03, 1, 2], false],
    ['an indefinite length (BER)', [0x30, 0x80, 1, 2, 0, 0], false],
    ['a header alone', [0x30], false],
    ['a length longer than four bytes', [0x30, 0x85, 0, 0, 0, 0, 1, 9], false],
  ])('%s', (_name, bytes, single) => {
    expect(isSingleDerElement(new Uint8Array(bytes))).toBe(single);
  });
});
