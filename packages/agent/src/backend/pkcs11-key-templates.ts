// The templates of a signing-only key pair on a card: one definition for the holder's keys and the
// card bureau's key, which differ only in the key type and whether the private key needs a login.
import pkcs11js from 'pkcs11js';
import type { CardKeySpec } from './card-backend.js';

const P256_PARAMS = Buffer.from('06082a8648ce3d030107', 'hex');

export interface SigningKeyPair {
  readonly label: string;
  readonly id: Buffer;
  readonly spec: CardKeySpec;
  /** CKA_PRIVATE of the private key: false lets a session without login sign (the bureau key). */
  readonly privateObject: boolean;
}

export const signingKeyPairTemplates = (
  pair: SigningKeyPair,
): {
  mechanism: pkcs11js.Mechanism;
  publicTemplate: pkcs11js.Template;
  privateTemplate: pkcs11js.Template;
} => {
  const ec = pair.spec === 'ecdsa-p256';
  const common: pkcs11js.Template = [
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_KEY_TYPE, value: ec ? pkcs11js.CKK_EC : pkcs11js.CKK_RSA },
    { type: pkcs11js.CKA_LABEL, value: pair.label },
    { type: pkcs11js.CKA_ID, value: pair.id },
  ];
  return {
    mechanism: { mechanism: ec ? pkcs11js.CKM_EC_KEY_PAIR_GEN : pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN },
    publicTemplate: [
      ...common,
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
      { type: pkcs11js.CKA_PRIVATE, value: false },
      { type: pkcs11js.CKA_VERIFY, value: true },
      { type: pkcs11js.CKA_ENCRYPT, value: false },
      { type: pkcs11js.CKA_WRAP, value: false },
      ...(ec
        ? [{ type: pkcs11js.CKA_EC_PARAMS, value: P256_PARAMS }]
        : [
            { type: pkcs11js.CKA_MODULUS_BITS, value: 2048 },
            { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([0x01, 0x00, 0x01]) },
          ]),
    ],
    // Signing keys only: modules default decrypt/unwrap to true when not told otherwise.
    privateTemplate: [
      ...common,
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
      { type: pkcs11js.CKA_PRIVATE, value: pair.privateObject },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      { type: pkcs11js.CKA_SIGN, value: true },
      { type: pkcs11js.CKA_DECRYPT, value: false },
      { type: pkcs11js.CKA_UNWRAP, value: false },
      ...(ec ? [{ type: pkcs11js.CKA_DERIVE, value: false }] : []),
    ],
  };
};
