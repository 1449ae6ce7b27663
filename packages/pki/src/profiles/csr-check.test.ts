// The CSR check reads every form a CSR comes in alike, and keeps the key exactly as the CSR has it.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { describe, expect, it } from 'vitest';
import { derSubjectPublicKeyInfo } from '../encoding/der-encoding.js';
import { pemOfDer } from '../encoding/pem-text.js';
import { isPkiError } from '../pki-error.js';
import { makeCsr } from '../test-support/test-ca.js';
import { checkCsr } from './csr-check.js';

const crypto = webcrypto as unknown as Crypto;
const pemOf = (der: Uint8Array): string => pemOfDer('CERTIFICATE REQUEST', der);
const hex = (bytes: ArrayBuffer | Uint8Array): string => Buffer.from(bytes as ArrayBuffer).toString('hex');

describe('checkCsr', () => {
  it('reads PEM (LF or CRLF, with headers), DER and PEM around text alike', async () => {
    const { pem, der } = await makeCsr('ecdsa-p256');
    const body = pem.trim().split('\n');
    const forms = [
      pem,
      pem.replace(/\n/g, '\r\n'),
      der,
      `some text before\n${pem}`,
      [body[0], 'Proc-Type: 4,ENCRYPTED', '', ...body.slice(1)].join('\n'),
    ];
    const keys: string[] = [];
    for (const form of forms) {
      const checked = await checkCsr(form, 'ecdsa-p256');
      expect(hex(checked.der)).toBe(hex(der));
      keys.push(hex(await crypto.subtle.exportKey('spki', checked.publicKey)));
    }
    expect(new Set(keys).size).toBe(1);
  });

  it('refuses a PEM whose body is not base64', async () => {
    const { pem } = await makeCsr('ecdsa-p256');
    const lines = pem.trim().split('\n');
    const broken = [lines[0], `!${lines[1]?.slice(1)}`, ...lines.slice(2)].join('\n');
    const error = await checkCsr(broken).catch((e: unknown) => e);
    expect(isPkiError(error) && error.code).toBe('CSR_INVALID');
  });

  it('keeps the key as the CSR carries it, for EC and RSA keys', async () => {
    for (const kind of ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048'] as const) {
      const { keys, der } = await makeCsr(kind);
      const checked = await checkCsr(der);
      const spki = hex(await crypto.subtle.exportKey('spki', keys.publicKey));
      expect(hex(derSubjectPublicKeyInfo(checked.publicKeyInfo)), kind).toBe(spki);
      expect(hex(AsnConvert.serialize(checked.publicKeyInfo)), kind).toBe(spki);
      expect(hex(await crypto.subtle.exportKey('spki', checked.publicKey)), kind).toBe(spki);
    }
  });

  it('checks a plain CSR with Node alone exactly as the library checks any other form', async () => {
    for (const kind of ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048'] as const) {
      const { pem, der } = await makeCsr(kind);
      // Text around the PEM block sends it through the X.509 library; plain DER and PEM do not.
      const [plainDer, plainPem, library] = await Promise.all(
        [der, pem, `text before\n${pem}`].map((form) => checkCsr(form)),
      );
      for (const checked of [plainDer, plainPem, library]) {
        if (checked === undefined || library === undefined) throw new Error('unchecked');
        expect(hex(checked.der), kind).toBe(hex(der));
        expect(hex(checked.spki), kind).toBe(hex(library.spki));
        expect(checked.keyDescription, kind).toBe(library.keyDescription);
        expect(hex(AsnConvert.serialize(checked.publicKeyInfo)), kind).toBe(hex(library.spki));
        expect(checked.publicKey.algorithm, kind).toMatchObject(library.publicKey.algorithm);
      }
    }
  });

  it('refuses a plain CSR whose signature or key fails, with the codes the library path gives', async () => {
    const { der } = await makeCsr('ecdsa-p256');
    const tampered = new Uint8Array(der);
    // The last octet of the signature.
    tampered[tampered.length - 1] = (tampered.at(-1) ?? 0) ^ 0x01;
    for (const form of [tampered, `text before\n${pemOf(tampered)}`]) {
      const error = await checkCsr(form).catch((e: unknown) => e);
      expect(isPkiError(error) && error.code).toBe('CSR_SIGNATURE_INVALID');
    }
    const small = await makeCsr('rsa-1024');
    for (const form of [small.der, `text before\n${small.pem}`]) {
      const error = await checkCsr(form).catch((e: unknown) => e);
      expect(isPkiError(error) && error.code).toBe('KEY_NOT_ALLOWED');
    }
    const p384 = await makeCsr('ecdsa-p384');
    const error = await checkCsr(p384.der, 'ecdsa-p256').catch((e: unknown) => e);
    expect(isPkiError(error) && error.code).toBe('KEY_NOT_ALLOWED');
    expect(isPkiError(error) && error.details).toMatchObject({ key: 'ECDSA P-384', allowed: 'ECDSA P-256' });
    const truncated = await checkCsr(der.subarray(0, der.length - 3)).catch((e: unknown) => e);
    expect(isPkiError(truncated) && truncated.code).toBe('CSR_INVALID');
  });
});
