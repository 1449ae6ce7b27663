// A PKCS#10 request built around a key that lives on a card: the structure comes from the ASN.1
// library, the signature from the card, so the private key never has to leave it.
import 'reflect-metadata';
import { Attributes, CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Name as AsnName, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { AsnEcSignatureFormatter, Name, Pkcs10CertificateRequest } from '@peculiar/x509';
import type { CardKeySpec } from '../backend/card-backend.js';

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';

/** Signs the to-be-signed bytes with the card key (SHA-256; ECDSA as raw r‖s). */
export type CardSigner = (tbs: Uint8Array) => Promise<Uint8Array>;

export const buildCsr = async (
  spki: Uint8Array,
  spec: CardKeySpec,
  subject: string,
  signWithCard: CardSigner,
): Promise<Pkcs10CertificateRequest> => {
  const info = new CertificationRequestInfo({
    subject: AsnConvert.parse(new Name(subject).toArrayBuffer(), AsnName),
    subjectPKInfo: AsnConvert.parse(spki, SubjectPublicKeyInfo),
    attributes: new Attributes(),
  });
  const tbs = new Uint8Array(AsnConvert.serialize(info));
  const raw = await signWithCard(tbs);
  const ec = spec === 'ecdsa-p256';
  // X.509 structures carry ECDSA signatures DER-encoded; cards (and WebCrypto) give r‖s.
  const signature = ec
    ? (new AsnEcSignatureFormatter().toAsnSignature(
        { name: 'ECDSA', namedCurve: 'P-256' } as EcKeyAlgorithm,
        new Uint8Array(raw),
      ) ?? raw)
    : raw;
  const request = new CertificationRequest({
    certificationRequestInfo: info,
    signatureAlgorithm: new AlgorithmIdentifier(
      ec ? { algorithm: ECDSA_WITH_SHA256 } : { algorithm: SHA256_WITH_RSA, parameters: null },
    ),
    signature: new Uint8Array(signature).buffer as ArrayBuffer,
  });
  return new Pkcs10CertificateRequest(AsnConvert.serialize(request));
};
