// The X.509 library's dependency injection needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { createHash, X509Certificate as NodeCertificate, verify as verifySignature } from 'node:crypto';
import {
  Attribute,
  CertificateChoices,
  CertificateSet,
  CMSVersion,
  ContentInfo,
  DigestAlgorithmIdentifier,
  DigestAlgorithmIdentifiers,
  EncapsulatedContent,
  EncapsulatedContentInfo,
  IssuerAndSerialNumber,
  id_contentType,
  id_data,
  id_messageDigest,
  id_signedData,
  id_signingTime,
  SignedData,
  SignerIdentifier,
  SignerInfo,
  SignerInfos,
  SigningTime,
} from '@peculiar/asn1-cms';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate } from '@peculiar/asn1-x509';
import { AsnEcSignatureFormatter, PemConverter, type X509Certificate } from '@peculiar/x509';
import type { Instant } from '@reservkort/domain';
import { Set as AsnSet, fromBER, ObjectIdentifier } from 'asn1js';
import type { LoadedAuditSigner } from '../ca/certificate-authority.js';
import { pemText } from '../encoding/pem-text.js';
import { signingAlgorithm } from '../keys/key-spec.js';
import { OID } from '../oids.js';

// A signed checkpoint of the audit log, as Certificate Transparency logs publish signed tree heads:
// the chain's length and the hash of its last entry, at a time, for one log. The note is a small
// JSON document; the signature is CMS SignedData (RFC 5652) with the note encapsulated and the
// signer's certificate included, in PEM. CMS rather than a bare signature or JWS because one file
// then carries everything, and OpenSSL alone checks both the signature and the signer's chain to
// the root:  openssl cms -verify -inform PEM -in CHECKPOINT -CAfile root.pem -purpose any

/** The format's name and version, the first thing in every note. */
export const CHECKPOINT_FORMAT = 'reservkort-audit-checkpoint/1';

export const CHECKPOINT_PEM_LABEL = 'CMS';

export interface AuditCheckpoint {
  /** Which log: the SHA-256 fingerprint (hex) of the root certificate whose hierarchy keeps it. */
  readonly log: string;
  /** How many entries the chain had. */
  readonly size: number;
  /** The hash of entry `size` (the genesis hash for an empty log). */
  readonly headHash: string;
  readonly time: Instant;
}

/** What a checkpoint file turned out to be: a checkpoint signed by the hierarchy, or why not. */
export type CheckpointReading =
  | {
      readonly ok: true;
      readonly checkpoint: AuditCheckpoint;
      /** The signer certificate's serial (hex). */
      readonly signer: string;
    }
  | { readonly ok: false; readonly reason: string };

const SHA256 = '2.16.840.1.101.3.4.2.1';
const SHA384 = '2.16.840.1.101.3.4.2.2';
const DIGESTS: Record<string, 'sha256' | 'sha384'> = { [SHA256]: 'sha256', [SHA384]: 'sha384' };
const ECDSA_SHA256 = '1.2.840.10045.4.3.2';
const ECDSA_SHA384 = '1.2.840.10045.4.3.3';
const RSA_SHA256 = '1.2.840.113549.1.1.11';
const SIGNATURES: Record<string, 'sha256' | 'sha384'> = {
  [ECDSA_SHA256]: 'sha256',
  [ECDSA_SHA384]: 'sha384',
  [RSA_SHA256]: 'sha256',
};
const HEX_HASH = /^[0-9a-f]{64}$/;

/** The log identifier of the hierarchy with this root. */
export const auditLogId = (root: X509Certificate): string =>
  createHash('sha256').update(new Uint8Array(root.rawData)).digest('hex');

/** The note as signed: pretty JSON, so `openssl cms -verify` prints something a person can read. */
const noteText = (checkpoint: AuditCheckpoint): string =>
  `${JSON.stringify(
    {
      format: CHECKPOINT_FORMAT,
      log: checkpoint.log,
      size: checkpoint.size,
      headHash: checkpoint.headHash,
      time: new Date(checkpoint.time).toISOString(),
    },
    null,
    2,
  )}\n`;

const bytes = (buffer: ArrayBuffer | ArrayBufferView): Uint8Array =>
  buffer instanceof ArrayBuffer
    ? new Uint8Array(buffer)
    : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);

/**
 * The signed attributes as they are signed: a DER SET OF (RFC 5652 §5.4), members sorted by their
 * encodings as DER requires (OpenSSL re-encodes before checking, so the order must be DER's).
 */
const signedAttributesDer = (attributes: readonly Attribute[]): ArrayBuffer => {
  const encoded = attributes.map((a) => bytes(AsnConvert.serialize(a)));
  encoded.sort((a, b) => Buffer.compare(a, b));
  const members = encoded.map((der) => fromBER(Uint8Array.from(der)).result);
  return new AsnSet({ value: members }).toBER(false);
};

/** Signs a checkpoint with the audit signer; returns the CMS SignedData in PEM. */
export const signCheckpoint = async (
  signer: LoadedAuditSigner,
  checkpoint: AuditCheckpoint,
): Promise<string> => {
  const content = Buffer.from(noteText(checkpoint), 'utf8');
  const algorithm = signingAlgorithm(signer.key.spec);
  const digestOid = algorithm.hash === 'SHA-384' ? SHA384 : SHA256;
  const digest = createHash(DIGESTS[digestOid] ?? 'sha256')
    .update(content)
    .digest();
  const attributes = [
    new Attribute({
      attrType: id_contentType,
      attrValues: [new ObjectIdentifier({ value: id_data }).toBER(false)],
    }),
    new Attribute({
      attrType: id_signingTime,
      attrValues: [AsnConvert.serialize(new SigningTime(new Date(checkpoint.time)))],
    }),
    new Attribute({
      attrType: id_messageDigest,
      attrValues: [AsnConvert.serialize(new OctetString(digest))],
    }),
  ];
  const raw = await signer.key.crypto.subtle.sign(
    algorithm,
    signer.key.privateKey,
    signedAttributesDer(attributes),
  );
  // WebCrypto gives ECDSA signatures as r‖s; CMS carries them DER-encoded.
  const signature =
    algorithm.name === 'ECDSA'
      ? (new AsnEcSignatureFormatter().toAsnSignature(signer.key.publicKey.algorithm, raw) ?? raw)
      : raw;
  const signatureAlgorithm =
    algorithm.name === 'ECDSA'
      ? new AlgorithmIdentifier({ algorithm: algorithm.hash === 'SHA-384' ? ECDSA_SHA384 : ECDSA_SHA256 })
      : new AlgorithmIdentifier({ algorithm: RSA_SHA256, parameters: null });
  const certificate = AsnConvert.parse(signer.certificate.rawData, Certificate);
  const signerInfo = new SignerInfo({
    version: CMSVersion.v1,
    sid: new SignerIdentifier({
      issuerAndSerialNumber: new IssuerAndSerialNumber({
        issuer: certificate.tbsCertificate.issuer,
        serialNumber: certificate.tbsCertificate.serialNumber,
      }),
    }),
    digestAlgorithm: new DigestAlgorithmIdentifier({ algorithm: digestOid }),
    signedAttrs: attributes,
    signatureAlgorithm,
    signature: new OctetString(signature),
  });
  const signedData = new SignedData({
    version: CMSVersion.v1,
    digestAlgorithms: new DigestAlgorithmIdentifiers([
      new DigestAlgorithmIdentifier({ algorithm: digestOid }),
    ]),
    encapContentInfo: new EncapsulatedContentInfo({
      eContentType: id_data,
      eContent: new EncapsulatedContent({ single: new OctetString(content) }),
    }),
    certificates: new CertificateSet([new CertificateChoices({ certificate })]),
    signerInfos: new SignerInfos([signerInfo]),
  });
  const der = AsnConvert.serialize(
    new ContentInfo({ contentType: id_signedData, content: AsnConvert.serialize(signedData) }),
  );
  return pemText(PemConverter.encode(der, CHECKPOINT_PEM_LABEL));
};

const refuse = (reason: string): CheckpointReading => ({ ok: false, reason });

const decode = (file: string | Uint8Array): Uint8Array | null => {
  const text = typeof file === 'string' ? file : Buffer.from(file).toString('latin1');
  if (text.trimStart().startsWith('-----BEGIN')) {
    try {
      const [der] = PemConverter.decode(text);
      return der === undefined ? null : bytes(der);
    } catch {
      return null;
    }
  }
  return typeof file === 'string' ? null : file;
};

/** The note's fields, checked one by one: a signed note of another shape is still refused. */
const parseNote = (content: Uint8Array): AuditCheckpoint | string => {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(content).toString('utf8'));
  } catch {
    return 'the signed note is not JSON';
  }
  if (typeof value !== 'object' || value === null) return 'the signed note is not a JSON object';
  const note = value as Record<string, unknown>;
  if (note.format !== CHECKPOINT_FORMAT) return `the signed note is not a ${CHECKPOINT_FORMAT} note`;
  const { log, size, headHash, time } = note;
  if (typeof log !== 'string' || !HEX_HASH.test(log)) return 'the note has no valid log';
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
    return 'the note has no valid size';
  if (typeof headHash !== 'string' || !HEX_HASH.test(headHash)) return 'the note has no valid headHash';
  const at = typeof time === 'string' ? Date.parse(time) : Number.NaN;
  if (!Number.isFinite(at)) return 'the note has no valid time';
  return { log, size, headHash, time: at };
};

const attribute = (attributes: readonly Attribute[], type: string): ArrayBuffer | undefined => {
  const found = attributes.filter((a) => a.attrType === type);
  return found.length === 1 && found[0]?.attrValues.length === 1 ? found[0].attrValues[0] : undefined;
};

const hex = (buffer: ArrayBuffer): string =>
  Buffer.from(buffer)
    .toString('hex')
    .replace(/^0+(?=.)/, '');

/**
 * Reads a checkpoint file and checks it the way `openssl cms -verify -CAfile root.pem` does, plus
 * what OpenSSL cannot know: the signer is the root's audit checkpoint signer (document signing),
 * valid when it signed, and the note is a checkpoint of this root's log. Never throws for a bad
 * file; it says what is wrong.
 */
export const readCheckpoint = (file: string | Uint8Array, root: X509Certificate): CheckpointReading => {
  const der = decode(file);
  if (der === null) return refuse('not a PEM or DER CMS file');
  let signedData: SignedData;
  try {
    const info = AsnConvert.parse(der, ContentInfo);
    if (info.contentType !== id_signedData) return refuse('not CMS SignedData');
    signedData = AsnConvert.parse(info.content, SignedData);
  } catch {
    return refuse('not a CMS structure');
  }
  const content = signedData.encapContentInfo.eContent?.single;
  if (signedData.encapContentInfo.eContentType !== id_data || content === undefined)
    return refuse('the CMS structure carries no note');
  const signerInfo = signedData.signerInfos.length === 1 ? signedData.signerInfos[0] : undefined;
  if (signerInfo === undefined) return refuse('not exactly one signature');
  const sid = signerInfo.sid.issuerAndSerialNumber;
  const certificate = (signedData.certificates ?? [])
    .map((choice) => choice.certificate)
    .find(
      (c) =>
        c !== undefined && sid !== undefined && hex(c.tbsCertificate.serialNumber) === hex(sid.serialNumber),
    );
  if (certificate === undefined) return refuse('the signer certificate is not in the file');

  // The signature over the signed attributes, which bind the note through its digest.
  const digestName = DIGESTS[signerInfo.digestAlgorithm.algorithm];
  const hashName = SIGNATURES[signerInfo.signatureAlgorithm.algorithm];
  const attributes = signerInfo.signedAttrs ?? [];
  if (digestName === undefined || hashName === undefined) return refuse('an unknown signature algorithm');
  const contentType = attribute(attributes, id_contentType);
  const messageDigest = attribute(attributes, id_messageDigest);
  if (contentType === undefined || messageDigest === undefined)
    return refuse('the signature has no content type or message digest');
  const noteDigest = createHash(digestName).update(bytes(content.buffer)).digest();
  let signedDigest: Uint8Array;
  try {
    signedDigest = bytes(AsnConvert.parse(messageDigest, OctetString).buffer);
  } catch {
    return refuse('the message digest is malformed');
  }
  if (!Buffer.from(signedDigest).equals(noteDigest)) return refuse('the note does not match its signature');
  const signer = new NodeCertificate(bytes(AsnConvert.serialize(certificate)));
  const signedBytes = signedAttributesDer(attributes);
  let signatureValid = false;
  try {
    signatureValid = verifySignature(
      hashName,
      bytes(signedBytes),
      signer.publicKey,
      bytes(signerInfo.signature.buffer),
    );
  } catch {
    signatureValid = false;
  }
  if (!signatureValid) return refuse('the signature does not verify');

  // The signer: certified by this root, for document signing, not a CA.
  const anchor = new NodeCertificate(bytes(root.rawData));
  if (!signer.checkIssued(anchor) || !signer.verify(anchor.publicKey))
    return refuse('the signer is not certified by this root CA');
  if (signer.ca || !(signer.keyUsage ?? []).includes(OID.documentSigning))
    return refuse('the signer is not an audit checkpoint signer');

  const note = parseNote(bytes(content.buffer));
  if (typeof note === 'string') return refuse(note);
  if (note.time < signer.validFromDate.getTime() || note.time > signer.validToDate.getTime())
    return refuse('the signer certificate was not valid at the checkpoint’s time');
  if (note.log !== auditLogId(root)) return refuse('the checkpoint is of another log (another root CA)');
  return { ok: true, checkpoint: note, signer: hex(certificate.tbsCertificate.serialNumber) };
};
