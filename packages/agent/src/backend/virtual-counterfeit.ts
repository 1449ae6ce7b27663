// What a counterfeit reserve card carries instead of the card bureau's key: a key pair the forger
// made, and a certificate for it that copies every name, number and extension of the genuine
// bureau certificate (or makes them up for a blank the bureau never saw) but is signed by the
// forger's own key. The agent carries it as it carries any card's answer; only the server can
// tell, because only the card bureau CA's key verifies a genuine one.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { X509Certificate, X509CertificateGenerator } from '@peculiar/x509';
import type { CardNumber } from '@reservkort/domain';

const crypto = webcrypto as unknown as Crypto;
const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
// A key identifier names the issuer's or subject's key: the forger's keys are neither.
const KEY_IDENTIFIERS: ReadonlySet<string> = new Set(['2.5.29.14', '2.5.29.35']);

/**
 * A certificate for `spki` (the counterfeit card key) that imitates `genuine` (the card's bureau
 * certificate, DER) or, without one, names the card and an issuer of the forger's choosing.
 */
export const counterfeitBureauCertificate = async (
  spki: Uint8Array,
  cardNumber: CardNumber,
  genuine: Uint8Array | null,
  now: number,
): Promise<Uint8Array> => {
  const forger = (await crypto.subtle.generateKey(EC, false, ['sign', 'verify'])) as CryptoKeyPair;
  const publicKey = await crypto.subtle.importKey('spki', new Uint8Array(spki), EC, true, ['verify']);
  const copied = genuine === null ? null : new X509Certificate(new Uint8Array(genuine));
  const certificate = await X509CertificateGenerator.create(
    copied === null
      ? {
          serialNumber: '01',
          subject: `CN=Reservkort ${cardNumber}, 2.5.4.5=${cardNumber}`,
          issuer: 'CN=Kortbyrån CA',
          notBefore: new Date(now - DAY_MS),
          notAfter: new Date(now + 365 * DAY_MS),
          publicKey,
          signingKey: forger.privateKey,
          signingAlgorithm: EC,
        }
      : {
          serialNumber: copied.serialNumber,
          subject: copied.subjectName,
          issuer: copied.issuerName,
          notBefore: copied.notBefore,
          notAfter: copied.notAfter,
          extensions: copied.extensions.filter((e) => !KEY_IDENTIFIERS.has(e.type)),
          publicKey,
          signingKey: forger.privateKey,
          signingAlgorithm: EC,
        },
    crypto,
  );
  return new Uint8Array(certificate.rawData);
};
