import { sign } from 'node:crypto';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { AsnEcSignatureFormatter } from '@peculiar/x509';
import { type CaKey, type KeySpec, signingAlgorithm } from './key-spec.js';

const ECDSA_SHA256 = '1.2.840.10045.4.3.2';
const ECDSA_SHA384 = '1.2.840.10045.4.3.3';
const RSA_SHA256 = '1.2.840.113549.1.1.11';

/** The signatureAlgorithm field for what a key of `spec` signs (RFC 5758, RFC 4055: RSA with NULL). */
export const signatureAlgorithmIdentifier = (spec: KeySpec): AlgorithmIdentifier => {
  const algorithm = signingAlgorithm(spec);
  if (algorithm.name === 'ECDSA')
    return new AlgorithmIdentifier({ algorithm: algorithm.hash === 'SHA-384' ? ECDSA_SHA384 : ECDSA_SHA256 });
  return new AlgorithmIdentifier({ algorithm: RSA_SHA256, parameters: null });
};

/**
 * A signature over `data` as X.509 structures carry it (ECDSA DER-encoded, RSA as is). A key held
 * by Node signs at once; any other (a token's) through its WebCrypto, whose ECDSA r‖s is then
 * DER-encoded.
 */
export const signForX509 = async (
  signer: Pick<CaKey, 'privateKey' | 'spec' | 'crypto' | 'nodeKey'>,
  data: ArrayBuffer | Uint8Array,
): Promise<ArrayBuffer> => {
  const algorithm = signingAlgorithm(signer.spec);
  const bytes = new Uint8Array(data as ArrayBuffer);
  if (signer.nodeKey !== undefined) {
    const signature = sign(algorithm.hash.replace('-', '').toLowerCase(), bytes, signer.nodeKey);
    return new Uint8Array(signature).buffer;
  }
  const raw = await signer.crypto.subtle.sign(algorithm, signer.privateKey, bytes);
  return algorithm.name === 'ECDSA'
    ? (new AsnEcSignatureFormatter().toAsnSignature(signer.privateKey.algorithm as EcKeyAlgorithm, raw) ??
        raw)
    : raw;
};
