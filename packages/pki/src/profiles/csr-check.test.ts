// The CSR check reads every form a CSR comes in alike, and keeps the key exactly as the CSR has it.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { describe, expect, it } from 'vitest';
import { derSubjectPublicKeyInfo } from '../encoding/der-encoding.js';
import { isPkiError } from '../pki-error.js';
import { makeCsr } from '../test-support/test-ca.js';
import { checkCsr } from './csr-check.js';

const crypto = webcrypto as unknown as Crypto;
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
      expect(hex(checked.csr.rawData)).toBe(hex(der));
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
});
