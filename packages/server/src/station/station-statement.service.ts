import 'reflect-metadata';
import { createPublicKey, type KeyObject, timingSafeEqual, verify, webcrypto } from 'node:crypto';
import { X509Certificate } from '@peculiar/x509';
import {
  canonicalStatementBytes,
  type Instant,
  parseStatementPayload,
  type SignedStatement,
  type StatementKind,
  type StatementPayload,
} from '@reservkort/domain';
import { type CertificateAuthority, type RandomSource, secureRandom } from '@reservkort/pki';
import {
  type Database,
  getCertificate,
  getStationPending,
  getStationRaisingSeq,
  getStationRaisingSeqPending,
  type Pending,
  pendingAll,
  pendingValue,
  raiseStationSeq,
  runPending,
  type StoredStation,
} from '@reservkort/store';
import type { Kysely, Transaction } from 'kysely';
import { ApiError } from '../http/api-error.js';
import { stationIssuer } from './station.service.js';

const crypto = webcrypto as unknown as Crypto;
/** Far above any statement (a card-certificates statement holds a few certificates). */
const MAX_PAYLOAD_CHARS = 128 * 1024;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const P256_SIGNATURE_BYTES = 64;

/** A fresh nonce for a flow step: what the station's next statement must carry (hex, 32 characters). */
export const newStationNonce = (random: RandomSource = secureRandom): string =>
  Buffer.from(random(16)).toString('hex');

export interface ExpectedStatement {
  readonly flowId: string;
  /** The flow's current station nonce. */
  readonly nonce: string;
  readonly kinds: readonly StatementKind[];
  readonly now: Instant;
  /** The station the flow is bound to, when it is bound: another station's statement is refused. */
  readonly stationId?: string | null;
  /**
   * False to check the statement without accepting it: its sequence number must be above the last
   * one accepted from the station, which stays where it is (no write, no transaction needed). The
   * transaction that applies the statement verifies it again, accepting it.
   */
  readonly accept?: boolean;
}

export interface VerifiedStatement {
  readonly station: StoredStation;
  readonly payload: StatementPayload;
}

const invalid = (reason: string): ApiError => new ApiError('STATEMENT_INVALID', { reason });

const sameText = (a: string, b: string): boolean => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

/** The station's certificate as stored, checked to be the station CA's and to hold the station's key. */
const checkedStationKey = async (
  db: Kysely<Database> | Transaction<Database>,
  ca: CertificateAuthority,
  station: StoredStation,
): Promise<KeyObject> => {
  const row = await getCertificate(db, station.certificateSerial);
  if (row === null) throw new ApiError('STATION_NOT_REGISTERED', { reason: 'no certificate' });
  const certificate = new X509Certificate(row.certificatePem);
  const issuer = (await stationIssuer(ca)).certificate;
  const issued =
    certificate.issuer === issuer.subject &&
    (await certificate
      .verify({ publicKey: issuer.publicKey, signatureOnly: true }, crypto)
      .catch(() => false));
  const spki = Buffer.from(certificate.publicKey.rawData);
  if (!issued || spki.toString('base64') !== station.spki)
    throw new ApiError('STATION_REVOKED', { reason: 'certificate does not match' });
  return createPublicKey({ key: spki, format: 'der', type: 'spki' });
};

/**
 * Station keys already checked against their certificate, per CA: a certificate never changes
 * under its serial, so the chain is checked once per process, not at every statement. The station
 * row's status, revocation and expiry are still read and checked at every statement.
 */
const checkedKeys = new WeakMap<CertificateAuthority, Map<string, KeyObject>>();
const CHECKED_KEYS_MAX = 1000;

const stationKey = async (
  db: Kysely<Database> | Transaction<Database>,
  ca: CertificateAuthority,
  station: StoredStation,
): Promise<KeyObject> => {
  const cacheKey = `${station.certificateSerial} ${station.spki}`;
  let keys = checkedKeys.get(ca);
  const known = keys?.get(cacheKey);
  if (known !== undefined) return known;
  const key = await checkedStationKey(db, ca, station);
  if (keys === undefined) {
    keys = new Map();
    checkedKeys.set(ca, keys);
  }
  // Oldest first out: stations renew monthly, so a full map holds mostly retired certificates.
  if (keys.size >= CHECKED_KEYS_MAX) keys.delete(keys.keys().next().value ?? '');
  keys.set(cacheKey, key);
  return key;
};

/** The station as read, if it may still make statements: registered, not revoked, its certificate good. */
const checkedStation = (station: StoredStation | null, now: Instant): StoredStation => {
  if (station === null) throw new ApiError('STATION_NOT_REGISTERED', { reason: 'unknown station' });
  if (station.status === 'revoked') throw new ApiError('STATION_REVOKED', { reason: 'station revoked' });
  if (station.certificateRevokedAt !== null)
    throw new ApiError('STATION_REVOKED', { reason: 'certificate revoked' });
  if (now > station.certificateNotAfter)
    throw new ApiError('STATION_REVOKED', { reason: 'certificate expired' });
  return station;
};

/** The statement's payload if it is well encoded and of a known shape, with its bytes. */
const parsedStatement = (signed: SignedStatement): { bytes: Buffer; payload: StatementPayload } => {
  if (
    typeof signed?.payload !== 'string' ||
    typeof signed.signature !== 'string' ||
    signed.payload.length > MAX_PAYLOAD_CHARS ||
    !BASE64URL.test(signed.payload) ||
    !BASE64URL.test(signed.signature)
  )
    throw invalid('encoding');
  const bytes = Buffer.from(signed.payload, 'base64url');
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid('not JSON');
  }
  const parsed = parseStatementPayload(json);
  if (!parsed.ok) throw invalid(String(parsed.error.details?.reason ?? 'shape'));
  return { bytes, payload: parsed.value };
};

/**
 * The checks after the station's: exactly the canonical bytes, signed by the station's key, from
 * the expected station, for this flow, with its current nonce, of an expected kind.
 */
const checkSigned = async (
  db: Kysely<Database> | Transaction<Database>,
  ca: CertificateAuthority,
  signed: SignedStatement,
  parsed: { readonly bytes: Buffer; readonly payload: StatementPayload },
  station: StoredStation,
  expected: ExpectedStatement,
): Promise<void> => {
  const { bytes, payload } = parsed;
  // Exactly the canonical bytes: a payload re-encoded on the way is not the one that was signed.
  if (!bytes.equals(Buffer.from(canonicalStatementBytes(payload)))) throw invalid('not canonical');
  const signature = Buffer.from(signed.signature, 'base64url');
  const key = await stationKey(db, ca, station);
  if (
    signature.length !== P256_SIGNATURE_BYTES ||
    !verify('sha256', bytes, { key, dsaEncoding: 'ieee-p1363' }, signature)
  )
    throw invalid('signature');

  if (expected.stationId != null && payload.station !== expected.stationId) throw invalid('station');
  if (payload.flowId !== expected.flowId) throw invalid('flow');
  if (!sameText(payload.nonce, expected.nonce)) throw invalid('nonce');
  if (!expected.kinds.includes(payload.kind)) throw invalid('kind');
};

/**
 * Believes a station's statement only if every check passes: a payload of the right shape from a
 * registered station whose certificate is neither revoked nor expired, signed by that station's key
 * over exactly its canonical bytes, for this flow, with the flow's current nonce, of an expected
 * kind, and with a sequence number above any accepted before. The last check raises the station's
 * last_seq in `db`: pass the transaction that applies the statement, so that both commit or neither
 * (unless `expected.accept` is false: then nothing is written).
 */
export const verifyStatement = async (
  db: Kysely<Database> | Transaction<Database>,
  ca: CertificateAuthority,
  signed: SignedStatement,
  expected: ExpectedStatement,
): Promise<VerifiedStatement> => (await verifyStatementWith(db, ca, signed, expected, noneBeside)).verified;

const noneBeside = async (): Promise<Pending<undefined>> => pendingValue(undefined);

/** What a statement must be, or how to tell from the value read beside the station. */
type ExpectedOf<T> =
  | Omit<ExpectedStatement, 'accept'>
  | ((alongside: T) => Omit<ExpectedStatement, 'accept'>);

/**
 * verifyStatement, with the value `alongside` makes for the statement's payload read together with
 * the station (and its sequence number's raise): one round trip on PostgreSQL. That value is read
 * whatever the checks then say: for what the caller needs next, never to decide the checks. What
 * the statement must be may depend on it (`expected` as a function of it, to accept the statement):
 * it is then asked for before any check of the statement, and may refuse the request itself.
 */
export const verifyStatementWith = <T>(
  db: Kysely<Database> | Transaction<Database>,
  ca: CertificateAuthority,
  signed: SignedStatement,
  expected: ExpectedStatement | ((alongside: T) => Omit<ExpectedStatement, 'accept'>),
  alongside: (payload: StatementPayload) => Promise<Pending<T>>,
): Promise<{ readonly verified: VerifiedStatement; readonly alongside: T }> =>
  verifyWith(
    db,
    ca,
    signed,
    typeof expected === 'function' || expected.accept !== false,
    expected,
    alongside,
  );

const verifyWith = async <T>(
  db: Kysely<Database> | Transaction<Database>,
  ca: CertificateAuthority,
  signed: SignedStatement,
  accept: boolean,
  expected: ExpectedOf<T>,
  alongside: (payload: StatementPayload) => Promise<Pending<T>>,
): Promise<{ readonly verified: VerifiedStatement; readonly alongside: T }> => {
  const parsed = parsedStatement(signed);
  const { payload } = parsed;
  const beside = await alongside(payload);
  const expectedOf = (value: T) => (typeof expected === 'function' ? expected(value) : expected);

  // In the statement's transaction the station is read and its sequence number raised at once (one
  // round trip on PostgreSQL); a refusal below rolls the raise back with the transaction.
  if (accept && db.isTransaction) {
    const trx = db as Transaction<Database>;
    const [read, value] = await runPending(
      trx,
      pendingAll(getStationRaisingSeqPending(trx, payload.station, payload.seq), beside),
    );
    const wanted = expectedOf(value);
    const station = checkedStation(read?.station ?? null, wanted.now);
    await checkSigned(db, ca, signed, parsed, station, wanted);
    if (read === null || !read.raised) throw invalid('seq');
    return { verified: { station: { ...station, lastSeq: payload.seq }, payload }, alongside: value };
  }
  const [read, value] = await runPending(db, pendingAll(getStationPending(db, payload.station), beside));
  const wanted = expectedOf(value);
  const station = checkedStation(read, wanted.now);
  await checkSigned(db, ca, signed, parsed, station, wanted);
  if (!accept) {
    if (payload.seq <= station.lastSeq) throw invalid('seq');
    return { verified: { station, payload }, alongside: value };
  }
  if (!(await raiseStationSeq(db, station.id, payload.seq))) throw invalid('seq');
  return { verified: { station: { ...station, lastSeq: payload.seq }, payload }, alongside: value };
};

/**
 * verifyStatement without accepting the statement (as with `accept` false: nothing is written),
 * with the value `alongside` makes for its payload read together with the station; what the
 * statement must be may depend on that value, as with verifyStatementWith.
 */
export const previewStatement = <T>(
  db: Kysely<Database>,
  ca: CertificateAuthority,
  signed: SignedStatement,
  expected: ExpectedOf<T>,
  alongside: (payload: StatementPayload) => Promise<Pending<T>>,
): Promise<{ readonly verified: VerifiedStatement; readonly alongside: T }> =>
  verifyWith(db, ca, signed, false, expected, alongside);

/**
 * Accepts, in the transaction that applies it, a statement `verifyStatement` checked without
 * accepting it, for the flow as it is now: the flow must still expect that nonce from that station,
 * and the station is read again with its sequence number raised, so a station revoked meanwhile, or
 * the same statement accepted meanwhile by a parallel request, is still refused. The bytes and the
 * signature, which cannot have changed, are not checked twice.
 */
export const acceptVerifiedStatement = async (
  trx: Transaction<Database>,
  verified: VerifiedStatement,
  flow: { readonly id: string; readonly stationNonce: string; readonly stationId: string | null },
  now: Instant,
): Promise<VerifiedStatement> => {
  const { payload } = verified;
  if (flow.stationId != null && payload.station !== flow.stationId) throw invalid('station');
  if (payload.flowId !== flow.id) throw invalid('flow');
  if (!sameText(payload.nonce, flow.stationNonce)) throw invalid('nonce');
  const read = await getStationRaisingSeq(trx, payload.station, payload.seq);
  const station = checkedStation(read?.station ?? null, now);
  if (read === null || !read.raised) throw invalid('seq');
  return { station: { ...station, lastSeq: payload.seq }, payload };
};
