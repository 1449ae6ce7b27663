import 'reflect-metadata';
import { X509Crl } from '@peculiar/x509';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etagOf, OcspResponder } from '../ocsp/ocsp-responder.js';
import {
  basicResponseOf,
  createTestCa,
  issueRequest,
  makeCsr,
  ocspRequestFor,
  realClock,
  type TestCa,
} from '../test-support/test-ca.js';
import { buildPkiApp } from './pki-app.js';

const httpDate = (ms: number) => new Date(ms).toUTCString();

describe('HTTP caching of OCSP answers and CRLs (RFC 5019 §6)', () => {
  let t: TestCa;
  const apps: FastifyInstance[] = [];
  const responders: OcspResponder[] = [];
  const appWith = async (maxAgeSeconds?: number) => {
    const responder = new OcspResponder(
      t.ca,
      t.store.db,
      realClock,
      maxAgeSeconds === undefined ? {} : { maxAgeSeconds },
    );
    const app = await buildPkiApp(t.ca, responder);
    responders.push(responder);
    apps.push(app);
    return app;
  };
  const getPath = (serial: string) =>
    `/ocsp/${encodeURIComponent(Buffer.from(ocspRequestFor(t.ca.ca('loa3').certificate, serial)).toString('base64'))}`;

  beforeAll(async () => {
    t = await createTestCa('sqlite');
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    for (const responder of responders) responder.close();
    await t?.dispose();
  });

  it('by default lets a cache keep nothing unchecked: max-age=0 with validators, and a revocation shows at once', async () => {
    const app = await appWith();
    const { serial } = await t.ca.issue(issueRequest((await makeCsr()).pem));
    const first = await app.inject({ method: 'GET', url: getPath(serial) });
    expect(first.headers['cache-control']).toBe('max-age=0, public, no-transform, must-revalidate');
    const single = basicResponseOf(first.rawPayload).tbsResponseData.responses[0];
    expect(single?.certStatus.good).toBeDefined();
    expect(first.headers['last-modified']).toBe(httpDate(single?.thisUpdate.getTime() ?? 0));
    expect(first.headers.expires).toBe(httpDate(single?.nextUpdate?.getTime() ?? 0));
    expect(first.headers.etag).toBe(etagOf(first.rawPayload));

    // A cache revalidating with the tag hears "not modified" while nothing changed...
    const again = await app.inject({
      method: 'GET',
      url: getPath(serial),
      headers: { 'if-none-match': String(first.headers.etag) },
    });
    expect(again.statusCode).toBe(304);
    expect(again.rawPayload.byteLength).toBe(0);

    // ...and the new answer the moment the certificate is revoked.
    await t.ca.revoke(serial, 'keyCompromise', 'operator');
    const after = await app.inject({
      method: 'GET',
      url: getPath(serial),
      headers: { 'if-none-match': String(first.headers.etag) },
    });
    expect(after.statusCode).toBe(200);
    expect(after.headers.etag).not.toBe(first.headers.etag);
    expect(basicResponseOf(after.rawPayload).tbsResponseData.responses[0]?.certStatus.revoked).toBeDefined();
  });

  it('gives the configured freshness, capped so no answer outlives its nextUpdate', async () => {
    const { serial } = await t.ca.issue(issueRequest((await makeCsr()).pem));
    const ten = await (await appWith(600)).inject({ method: 'GET', url: getPath(serial) });
    expect(ten.headers['cache-control']).toBe('max-age=600, public, no-transform, must-revalidate');
    const capped = await (await appWith(86_400)).inject({ method: 'GET', url: getPath(serial) });
    // Answers are valid an hour and handed out for half of it: a cache may keep one the other half.
    expect(capped.headers['cache-control']).toBe('max-age=1800, public, no-transform, must-revalidate');
    const single = basicResponseOf(capped.rawPayload).tbsResponseData.responses[0];
    const thisUpdate = single?.thisUpdate.getTime() ?? 0;
    expect((single?.nextUpdate?.getTime() ?? 0) - thisUpdate).toBeGreaterThanOrEqual(2 * 1800 * 1000);
  });

  it('lets no cache store "unknown", nonce answers or errors', async () => {
    const app = await appWith(600);
    const unknown = await app.inject({ method: 'GET', url: getPath('1234567890abcdef') });
    expect(unknown.headers['cache-control']).toBe('no-store');
    expect(unknown.headers.etag).toBeUndefined();
    const garbage = await app.inject({ method: 'GET', url: '/ocsp/AAAA' });
    expect(garbage.headers['cache-control']).toBe('no-store');
  });

  it('sends the same validators with CRLs: Last-Modified thisUpdate, Expires nextUpdate, an ETag, 304', async () => {
    const app = await appWith();
    for (const name of ['root', 'loa3']) {
      const crl = await app.inject({ method: 'GET', url: `/pki/crl/${name}.crl` });
      expect(crl.statusCode).toBe(200);
      const parsed = new X509Crl(new Uint8Array(crl.rawPayload));
      expect(crl.headers['last-modified']).toBe(httpDate(parsed.thisUpdate.getTime()));
      expect(crl.headers.expires).toBe(httpDate(parsed.nextUpdate?.getTime() ?? 0));
      expect(crl.headers['cache-control']).toBe('max-age=0, public, no-transform, must-revalidate');
      expect(crl.headers.etag).toBe(etagOf(crl.rawPayload));
      const again = await app.inject({
        method: 'GET',
        url: `/pki/crl/${name}.crl`,
        headers: { 'if-none-match': String(crl.headers.etag) },
      });
      expect(again.statusCode).toBe(304);
    }
    const before = await app.inject({ method: 'GET', url: '/pki/crl/loa3.crl' });
    const { serial } = await t.ca.issue(issueRequest((await makeCsr()).pem));
    await t.ca.revoke(serial, 'keyCompromise', 'operator');
    const after = await app.inject({
      method: 'GET',
      url: '/pki/crl/loa3.crl',
      headers: { 'if-none-match': String(before.headers.etag) },
    });
    expect(after.statusCode).toBe(200);
    expect(
      new X509Crl(new Uint8Array(after.rawPayload)).entries.map((e) => e.serialNumber.toLowerCase()),
    ).toContain(serial);
  });
});
