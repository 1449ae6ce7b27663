// A stand-in for the card bureau CA in the agent's own tests: a certificate for a card's bureau
// key, signed by a throwaway key. The agent stores and returns it; judging it is the server's job.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { X509CertificateGenerator } from '@peculiar/x509';

const crypto = webcrypto as unknown as Crypto;
const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

export const testBureauCertificate = async (spki: Uint8Array, cardNumber: string): Promise<Uint8Array> => {
  const issuer = (await crypto.subtle.generateKey(EC, false, ['sign', 'verify'])) as CryptoKeyPair;
  const publicKey = await crypto.subtle.importKey('spki', new Uint8Array(spki), EC, true, ['verify']);
  const certificate = await X509CertificateGenerator.create(
    {
      serialNumber: '01',
      subject: `CN=Reserve card ${cardNumber}, 2.5.4.5=${cardNumber}`,
      issuer: 'CN=Test Card Bureau CA',
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
      publicKey,
      signingKey: issuer.privateKey,
      signingAlgorithm: EC,
    },
    crypto,
  );
  return new Uint8Array(certificate.rawData);
};
