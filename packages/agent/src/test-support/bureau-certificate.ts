// A stand-in for the card bureau CA in the agent's own tests: a certificate for a card's bureau
// key, signed by a throwaway key, naming the card number as the CA does (subject serialNumber and
// the card-number extension). The agent stores and returns it, and checks that the number is the
// card's own; judging the signature is the server's job.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { DirectoryString } from '@peculiar/asn1-x509';
import { Extension, X509CertificateGenerator } from '@peculiar/x509';
import { CARD_NUMBER_EXTENSION_OID } from '../backend/card-identity.js';

const crypto = webcrypto as unknown as Crypto;
const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

/** The card-number extension (1.2.752.34.2.1) as the CA writes it: a PrintableString. */
export const cardNumberExtension = (cardNumber: string): Extension =>
  new Extension(
    CARD_NUMBER_EXTENSION_OID,
    false,
    AsnConvert.serialize(new DirectoryString({ printableString: cardNumber })),
  );

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
      extensions: [cardNumberExtension(cardNumber)],
      publicKey,
      signingKey: issuer.privateKey,
      signingAlgorithm: EC,
    },
    crypto,
  );
  return new Uint8Array(certificate.rawData);
};
