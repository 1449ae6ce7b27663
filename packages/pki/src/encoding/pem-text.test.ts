import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { X509CertificateGenerator } from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import { pemOf, pemOfDer } from './pem-text.js';

describe('pemOfDer', () => {
  it('writes what the library writes, newline-terminated', async () => {
    const crypto = webcrypto as unknown as Crypto;
    const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    const certificate = await X509CertificateGenerator.createSelfSigned(
      { name: 'CN=PEM test', keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } },
      crypto,
    );
    const pem = pemOfDer('CERTIFICATE', certificate.rawData);
    expect(pem).toBe(pemOf(certificate));
    expect(pem.endsWith('-----END CERTIFICATE-----\n')).toBe(true);
  });
});
