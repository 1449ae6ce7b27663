// SubjectPublicKeyInfo from the attributes of a public key object on the card: node:crypto builds
// the DER from a JWK, so the only byte handling here is the PKCS#11 wrapping of the EC point.
import { createPublicKey, type webcrypto } from 'node:crypto';

const P256_COORDINATE = 32;
const UNCOMPRESSED = 0x04;
const OCTET_STRING = 0x04;

const base64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');

const stripLeadingZeros = (bytes: Uint8Array): Uint8Array => {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start += 1;
  return bytes.subarray(start);
};

const spkiOf = (jwk: webcrypto.JsonWebKey): Uint8Array =>
  new Uint8Array(createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' }));

/**
 * CKA_EC_POINT is, by PKCS#11 v2.40, the DER OCTET STRING around the uncompressed point; some
 * modules give the bare point. For P-256 the two differ in length (67 against 65 bytes), which
 * tells them apart without guessing from the first bytes.
 */
export const spkiFromEcPoint = (ecPoint: Uint8Array): Uint8Array => {
  const pointLength = 1 + 2 * P256_COORDINATE;
  const point =
    ecPoint.length === pointLength + 2 && ecPoint[0] === OCTET_STRING && ecPoint[1] === pointLength
      ? ecPoint.subarray(2)
      : ecPoint;
  if (point.length !== pointLength || point[0] !== UNCOMPRESSED) {
    throw new Error(`not an uncompressed P-256 point (${ecPoint.length} bytes)`);
  }
  return spkiOf({
    kty: 'EC',
    crv: 'P-256',
    x: base64url(point.subarray(1, 1 + P256_COORDINATE)),
    y: base64url(point.subarray(1 + P256_COORDINATE)),
  });
};

/** From CKA_MODULUS and CKA_PUBLIC_EXPONENT (big-endian, possibly with leading zero bytes). */
export const spkiFromRsa = (modulus: Uint8Array, publicExponent: Uint8Array): Uint8Array =>
  spkiOf({
    kty: 'RSA',
    n: base64url(stripLeadingZeros(modulus)),
    e: base64url(stripLeadingZeros(publicExponent)),
  });
