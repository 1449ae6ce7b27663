// Checks a card's signature with node:crypto, independently of the code that produced it. Card
// signatures are raw: ECDSA as r‖s (IEEE P1363, as PKCS#11 returns it), RSA as PKCS#1 v1.5.
import { createPublicKey, verify } from 'node:crypto';

export const cardSignatureVerifies = (spki: Uint8Array, signature: Uint8Array, data: Uint8Array): boolean => {
  const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  return key.asymmetricKeyType === 'ec'
    ? verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature)
    : verify('sha256', data, key, signature);
};
