// The card bureau key on a PKCS#11 token (see BUREAU_KEY_LABEL): made by `reservkort card init`,
// used by Pkcs11Backend.proveCard. Kept apart from the holder's keys by its own CKA_ID and label,
// so cleaning a card (which removes ids 1 and 2) never touches it.
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import type { PKCS11 } from 'pkcs11js';
import pkcs11js from 'pkcs11js';
import { BUREAU_KEY_LABEL, type KeyAttributes } from './card-backend.js';
import { signingKeyPairTemplates } from './pkcs11-key-templates.js';
import { spkiFromEcPoint } from './pkcs11-spki.js';

/** CKA_ID of the bureau key pair and its certificate (the holder's keys are 1 and 2). */
export const BUREAU_KEY_ID = Buffer.from([0x03]);

/** DER of the OID prime256v1 (1.2.840.10045.3.1.7), as CKA_EC_PARAMS wants it. */

/**
 * Subject, issuer and serial of a certificate for the PKCS#11 certificate object; the card stores
 * what it is given, so bytes that are not a certificate get empty ones rather than a refusal.
 */
export const certificateFields = (der: Uint8Array): { subject: Buffer; issuer: Buffer; serial: Buffer } => {
  try {
    const certificate = AsnConvert.parse(der, Certificate);
    return {
      subject: Buffer.from(AsnConvert.serialize(certificate.tbsCertificate.subject)),
      issuer: Buffer.from(AsnConvert.serialize(certificate.tbsCertificate.issuer)),
      serial: Buffer.from(certificate.tbsCertificate.serialNumber),
    };
  } catch {
    return { subject: Buffer.alloc(0), issuer: Buffer.alloc(0), serial: Buffer.alloc(0) };
  }
};

const attribute = (lib: PKCS11, session: Buffer, object: Buffer, type: number): Buffer => {
  const [result] = lib.C_GetAttributeValue(session, object, [{ type }]);
  return result?.value ?? Buffer.alloc(0);
};

/** CK_BBOOL attributes read one at a time: a module that does not know one answers false for it. */
export const readKeyAttributes = (lib: PKCS11, session: Buffer, privateKey: Buffer): KeyAttributes => {
  const flag = (type: number): boolean => {
    try {
      return attribute(lib, session, privateKey, type)[0] === 1;
    } catch {
      return false;
    }
  };
  return {
    local: flag(pkcs11js.CKA_LOCAL),
    sensitive: flag(pkcs11js.CKA_SENSITIVE),
    neverExtractable: flag(pkcs11js.CKA_NEVER_EXTRACTABLE),
  };
};

const findAll = (lib: PKCS11, session: Buffer, template: pkcs11js.Template): Buffer[] => {
  lib.C_FindObjectsInit(session, template);
  try {
    const found: Buffer[] = [];
    for (;;) {
      const batch = lib.C_FindObjects(session, 32);
      if (batch.length === 0) return found;
      found.push(...batch);
    }
  } finally {
    lib.C_FindObjectsFinal(session);
  }
};

/** The bureau key's private half and certificate, if the token has them (visible without a login). */
export const findBureauObjects = (
  lib: PKCS11,
  session: Buffer,
): { privateKey: Buffer | null; certificate: Buffer | null } => {
  const [privateKey] = findAll(lib, session, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
    { type: pkcs11js.CKA_ID, value: BUREAU_KEY_ID },
  ]);
  const [certificate] = findAll(lib, session, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_CERTIFICATE },
    { type: pkcs11js.CKA_ID, value: BUREAU_KEY_ID },
  ]);
  return { privateKey: privateKey ?? null, certificate: certificate ?? null };
};

/**
 * Generates the bureau key pair on the token, then stores the certificate `certify` issues for
 * it. Needs a read/write session logged in as the user (a token object is written by its user);
 * an older bureau key and certificate go first. The private key is CKA_PRIVATE false, so that it
 * signs in a session nobody logged into, and sensitive and never extractable like every card key.
 */
export const installBureauKey = async (
  lib: PKCS11,
  session: Buffer,
  certify: (spki: Uint8Array) => Promise<Uint8Array>,
): Promise<{ spki: Uint8Array; certificate: Uint8Array; attributes: KeyAttributes }> => {
  for (const objectClass of [pkcs11js.CKO_PRIVATE_KEY, pkcs11js.CKO_PUBLIC_KEY, pkcs11js.CKO_CERTIFICATE]) {
    for (const handle of findAll(lib, session, [
      { type: pkcs11js.CKA_CLASS, value: objectClass },
      { type: pkcs11js.CKA_ID, value: BUREAU_KEY_ID },
    ]))
      lib.C_DestroyObject(session, handle);
  }
  const { mechanism, publicTemplate, privateTemplate } = signingKeyPairTemplates({
    label: BUREAU_KEY_LABEL,
    id: BUREAU_KEY_ID,
    spec: 'ecdsa-p256',
    // No login needed: the card proves itself before any PIN is asked.
    privateObject: false,
  });
  const pair = await lib.C_GenerateKeyPairAsync(session, mechanism, publicTemplate, privateTemplate);
  const spki = spkiFromEcPoint(attribute(lib, session, pair.publicKey, pkcs11js.CKA_EC_POINT));
  const attributes = readKeyAttributes(lib, session, pair.privateKey);
  const certificate = await certify(spki);
  const { subject, issuer, serial } = certificateFields(certificate);
  lib.C_CreateObject(session, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_CERTIFICATE },
    { type: pkcs11js.CKA_CERTIFICATE_TYPE, value: pkcs11js.CKC_X_509 },
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_PRIVATE, value: false },
    { type: pkcs11js.CKA_LABEL, value: BUREAU_KEY_LABEL },
    { type: pkcs11js.CKA_ID, value: BUREAU_KEY_ID },
    { type: pkcs11js.CKA_SUBJECT, value: subject },
    { type: pkcs11js.CKA_ISSUER, value: issuer },
    { type: pkcs11js.CKA_SERIAL_NUMBER, value: serial },
    { type: pkcs11js.CKA_VALUE, value: Buffer.from(certificate) },
  ]);
  return { spki, certificate, attributes };
};
