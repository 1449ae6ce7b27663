import 'reflect-metadata';
import { OCSPResponse } from '@peculiar/asn1-ocsp';
import { AsnConvert } from '@peculiar/asn1-schema';
import { X509Certificate, X509Crl } from '@peculiar/x509';
import type { Clock } from '@reservkort/domain';
import { type BaseBlock, fromBER } from 'asn1js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OcspResponder } from '../ocsp/ocsp-responder.js';
import {
  basicResponseOf,
  createTestCa,
  issueRequest,
  makeCsr,
  ocspRequestFor,
  type TestCa,
} from '../test-support/test-ca.js';
import { wholeSeconds } from './signed-time.js';

/** Every UTCTime (23) and GeneralizedTime (24) in a DER structure, nested OCTET STRINGs included. */
const timesIn = (der: ArrayBuffer | Uint8Array): string[] => {
  const found: string[] = [];
  const contents = (block: BaseBlock): Uint8Array =>
    (block.valueBlock as unknown as { valueHexView: Uint8Array }).valueHexView;
  const walk = (block: BaseBlock): void => {
    const tag = block.idBlock.tagNumber;
    if (block.idBlock.tagClass === 1 && (tag === 23 || tag === 24)) {
      found.push(Buffer.from(contents(block)).toString('latin1'));
      return;
    }
    const children = block.idBlock.isConstructed ? (block.valueBlock as { value?: unknown }).value : null;
    if (Array.isArray(children)) for (const child of children) walk(child as BaseBlock);
    // An OCSP answer carries its basic response DER-encoded inside an OCTET STRING.
    if (block.idBlock.tagClass === 1 && tag === 4 && !block.idBlock.isConstructed) {
      const inner = fromBER(contents(block));
      if (inner.offset !== -1 && inner.offset === contents(block).byteLength) walk(inner.result);
    }
  };
  const parsed = fromBER(der instanceof Uint8Array ? der : new Uint8Array(der));
  walk(parsed.result);
  return found;
};

/** Seconds only: YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ, never a fraction (RFC 5280 §4.1.2.5). */
const WHOLE = /^(\d{12}|\d{14})Z$/;

describe('signed times', () => {
  // A clock that is never on a whole second, so a fraction would show if any time kept it.
  const clock: Clock = { now: () => Math.floor(Date.now() / 1000) * 1000 + 123 };
  let t: TestCa;
  let responder: OcspResponder;
  let good: string;
  let revoked: string;

  beforeAll(async () => {
    t = await createTestCa('sqlite', { clock });
    responder = new OcspResponder(t.ca, t.store.db, clock);
    good = (await t.ca.issue(issueRequest((await makeCsr()).pem))).serial;
    revoked = (await t.ca.issue(issueRequest((await makeCsr()).pem))).serial;
    await t.ca.revoke(revoked, 'keyCompromise', 'operator');
  });
  afterAll(async () => {
    responder?.close();
    await t?.dispose();
  });

  it('rounds down to the second', () => {
    expect(wholeSeconds(1_764_876_000_999).toISOString()).toBe('2025-12-04T19:20:00.000Z');
  });

  it('finds a fraction when there is one (the check itself works)', () => {
    const response = new OCSPResponse({ responseStatus: 0 });
    expect(timesIn(AsnConvert.serialize(response))).toEqual([]);
    const crlLike = fromBER(
      new Uint8Array([0x18, 0x13, ...Buffer.from('20261203192704.118Z', 'latin1')]),
    ).result;
    expect(timesIn(crlLike.toBER(false))).toEqual(['20261203192704.118Z']);
  });

  it('has no fraction in any certificate the CA signed, CA or card', async () => {
    for (const ca of t.ca.all) {
      const times = timesIn(ca.certificate.rawData);
      expect(times.length).toBe(2);
      for (const time of times) expect(time).toMatch(WHOLE);
    }
    const card = await t.ca.storedCertificate(good);
    const cardTimes = timesIn(new X509Certificate(card?.certificatePem ?? '').rawData);
    expect(cardTimes.length).toBe(2);
    for (const time of cardTimes) expect(time).toMatch(WHOLE);
  });

  it('has no fraction in a CRL, and its revocation time is the one OCSP gives', async () => {
    const crl = await t.ca.currentCrl('loa3');
    const times = timesIn(crl.der);
    expect(times.length).toBe(3); // thisUpdate, nextUpdate, one revocationDate
    for (const time of times) expect(time).toMatch(WHOLE);
    const entry = new X509Crl(new Uint8Array(crl.der)).entries.find((e) => e.serialNumber === revoked);
    const answer = await responder.respond(
      ocspRequestFor(t.ca.ca('loa3').certificate, revoked),
      `revoked-${revoked}`,
    );
    const single = basicResponseOf(answer.der).tbsResponseData.responses[0];
    expect(single?.certStatus.revoked?.revocationTime.getTime()).toBe(entry?.revocationDate.getTime());
  });

  it('has no fraction in OCSP answers, good, revoked and unknown, and each has a nextUpdate', async () => {
    const issuer = t.ca.ca('loa3').certificate;
    for (const serial of [good, revoked, '1234567890abcdef']) {
      const answer = await responder.respond(ocspRequestFor(issuer, serial), `times-${serial}`);
      const times = timesIn(answer.der);
      // producedAt, thisUpdate, nextUpdate (and revocationTime), then the signer's notBefore/notAfter.
      expect(times.length).toBeGreaterThanOrEqual(5);
      for (const time of times) expect(time).toMatch(WHOLE);
      const basic = basicResponseOf(answer.der);
      for (const single of basic.tbsResponseData.responses) {
        expect(single.nextUpdate).toBeDefined();
        expect(single.nextUpdate?.getTime()).toBeGreaterThan(single.thisUpdate.getTime());
      }
    }
  });
});
