// The X.509 library's dependency injection needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import {
  BasicOCSPResponse,
  CertID,
  CertStatus,
  id_pkix_ocsp_basic,
  id_pkix_ocsp_nonce,
  OCSPRequest,
  OCSPResponse,
  OCSPResponseStatus,
  ResponderID,
  ResponseBytes,
  ResponseData,
  RevokedInfo,
  SingleResponse,
} from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate, CRLReason, type Extension } from '@peculiar/asn1-x509';
import { AsnEcSignatureFormatter } from '@peculiar/x509';
import type { Clock } from '@reservkort/domain';
import { certificateStatus, type Database } from '@reservkort/store';
import type { Kysely } from 'kysely';
import {
  type CertificateAuthority,
  type LoadedCa,
  OCSP_SIGNERS,
  type OcspCaId,
} from '../ca/certificate-authority.js';
import { reasonCode } from '../ca/revocation-reason.js';
import { readElement } from '../encoding/der-reading.js';
import { wholeSeconds } from '../encoding/signed-time.js';
import { signingAlgorithm } from '../keys/key-spec.js';

const SHA1 = '1.3.14.3.2.26';
const SHA256 = '2.16.840.1.101.3.4.2.1';
const HASHES: Record<string, 'sha1' | 'sha256'> = { [SHA1]: 'sha1', [SHA256]: 'sha256' };
const ECDSA_SHA256 = '1.2.840.10045.4.3.2';
const ECDSA_SHA384 = '1.2.840.10045.4.3.3';
const RSA_SHA256 = '1.2.840.113549.1.1.11';

/** Fixed error responses: unsigned, so they cost nothing to send (RFC 6960 §2.3). */
const statusOnly = (status: OCSPResponseStatus): Uint8Array =>
  new Uint8Array(AsnConvert.serialize(new OCSPResponse({ responseStatus: status })));
export const MALFORMED_REQUEST = statusOnly(OCSPResponseStatus.malformedRequest);
export const UNAUTHORIZED = statusOnly(OCSPResponseStatus.unauthorized);
export const INTERNAL_ERROR = statusOnly(OCSPResponseStatus.internalError);

/** At most this many certificates in one request: a larger one is not a client's. */
const MAX_REQUESTS = 10;

interface IssuerIndex {
  readonly caId: OcspCaId;
  /** hex(name hash) + ':' + hex(key hash), per hash algorithm. */
  readonly keys: ReadonlySet<string>;
  readonly signer: LoadedCa;
  readonly signerCertificate: Certificate;
  readonly responderKeyHash: ArrayBuffer;
}

interface CachedResponse extends OcspAnswer {
  readonly freshUntil: number;
  /** What it counts against the cache's byte budget. */
  readonly bytes: number;
  /** Asked for since it last came to the front of the eviction order (its second chance). */
  used: boolean;
}

/** What an HTTP cache may do with a signed answer that says the same to everyone (RFC 5019 §6). */
export interface OcspCaching {
  /** Seconds a cache may serve it without asking again; never past nextUpdate. */
  readonly maxAgeSeconds: number;
  /** The answer's thisUpdate and nextUpdate (ms, whole seconds): Last-Modified and Expires. */
  readonly thisUpdate: number;
  readonly nextUpdate: number;
  /** A hash of the answer's bytes, for conditional requests. */
  readonly etag: string;
}

export interface OcspAnswer {
  readonly der: Uint8Array;
  /** null: not to be stored by any cache (errors, nonces, "unknown"). */
  readonly caching: OcspCaching | null;
}

/** An unsigned error status: never cached. */
export const uncached = (der: Uint8Array): OcspAnswer => ({ der, caching: null });

export interface OcspResponderOptions {
  /** How long a response is valid (nextUpdate − thisUpdate). */
  readonly validityMs?: number;
  /** The cache's budget in bytes: request keys and answers together (default 16 MiB). */
  readonly cacheBytes?: number;
  /**
   * How long an HTTP cache in front may serve an answer (and a CRL) without asking again. Default
   * 0: every use is revalidated, so a revocation is visible at once through any cache; more takes
   * load off the responder, and a cache may say "good" that long after a revocation. Capped at
   * half the validity, so no answer is served past its nextUpdate.
   */
  readonly maxAgeSeconds?: number;
}

export const DEFAULT_OCSP_VALIDITY_MS = 3_600_000;
export const DEFAULT_OCSP_MAX_AGE_SECONDS = 0;

/** A strong validator for bytes: the same answer, the same tag. */
export const etagOf = (der: Uint8Array): string =>
  `"${createHash('sha256').update(der).digest('base64url').slice(0, 27)}"`;

/** 16 MiB: some 8,000 answers of typical size, while distinct large requests cannot grow the heap. */
export const DEFAULT_OCSP_CACHE_BYTES = 16 * 1024 * 1024;

/** What a cached entry costs beyond its key and answer bytes: the map slot and the entry object. */
const ENTRY_OVERHEAD_BYTES = 160;

/**
 * Whether `bytes` is exactly one DER element: the length its header states covers the rest, with
 * nothing after it (RFC 6960 §4.1.1 has one OCSPRequest; trailing bytes are a malformed request).
 * Indefinite lengths are BER, not DER, and are refused too.
 */
export const isSingleDerElement = (bytes: Uint8Array): boolean => {
  try {
    return readElement(bytes, 0).end === bytes.length;
  } catch {
    return false;
  }
};

const hex = (bytes: ArrayBuffer | Uint8Array): string => Buffer.from(bytes as ArrayBuffer).toString('hex');
const digest = (algorithm: 'sha1' | 'sha256', data: ArrayBuffer | Uint8Array): Buffer =>
  createHash(algorithm)
    .update(new Uint8Array(data as ArrayBuffer))
    .digest();

/** Serial numbers as the store keeps them: lower-case hex without leading zeros. */
export const serialHex = (serial: ArrayBuffer): string =>
  hex(serial)
    .replace(/^(00)+(?=.)/, '')
    .replace(/^0(?=.)/, '');

const signatureAlgorithmOid = (signer: LoadedCa): AlgorithmIdentifier => {
  const alg = signingAlgorithm(signer.key.spec);
  if (alg.name === 'ECDSA')
    return new AlgorithmIdentifier({ algorithm: alg.hash === 'SHA-384' ? ECDSA_SHA384 : ECDSA_SHA256 });
  return new AlgorithmIdentifier({ algorithm: RSA_SHA256, parameters: null });
};

/**
 * The OCSP responder (RFC 6960, with RFC 5019's GET form handled by the HTTP layer). Each issuing
 * CA, and the root for the CAs it certified, answers through its delegated OCSP signer. Responses to nonce-less requests are cached by
 * the request's bytes, so a repeat costs a map lookup; a status change clears the cache at once.
 * The cache is bounded by bytes, not entries, and evicts the oldest answer not asked for since
 * eviction last passed it (second chance, close to least recently used: a hit only marks its
 * answer, which eviction then moves to the back, so a hit costs one lookup, not a removal and an
 * insertion): requests differ in size, and many distinct large ones must not grow the process.
 */
export class OcspResponder {
  private readonly issuers: IssuerIndex[];
  /** In order of insertion or second chance, oldest first (a Map keeps insertion order). */
  private readonly cache = new Map<string, CachedResponse>();
  private cacheBytesUsed = 0;
  private readonly validityMs: number;
  private readonly cacheBytes: number;
  /** The freshness an HTTP cache is given, for OCSP answers and CRLs alike. */
  readonly maxAgeSeconds: number;
  private readonly onStatusChange = () => this.invalidate();

  constructor(
    private readonly ca: CertificateAuthority,
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    options: OcspResponderOptions = {},
  ) {
    this.validityMs = options.validityMs ?? DEFAULT_OCSP_VALIDITY_MS;
    this.cacheBytes = options.cacheBytes ?? DEFAULT_OCSP_CACHE_BYTES;
    // An answer is handed out for half its validity; a cache may then keep it at most the other half.
    this.maxAgeSeconds = Math.max(
      0,
      Math.min(
        Math.floor(options.maxAgeSeconds ?? DEFAULT_OCSP_MAX_AGE_SECONDS),
        Math.floor(this.validityMs / 2000),
      ),
    );
    this.issuers = (Object.keys(OCSP_SIGNERS) as OcspCaId[]).map((caId) => {
      const issuer = ca.ca(caId);
      const signer = ca.ca(OCSP_SIGNERS[caId]);
      const issuerAsn = AsnConvert.parse(issuer.certificate.rawData, Certificate);
      const nameDer = AsnConvert.serialize(issuerAsn.tbsCertificate.subject);
      const keyBits = issuerAsn.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey;
      const keys = new Set(
        (['sha1', 'sha256'] as const).map(
          (alg) => `${alg}:${hex(digest(alg, nameDer))}:${hex(digest(alg, keyBits))}`,
        ),
      );
      const signerCertificate = AsnConvert.parse(signer.certificate.rawData, Certificate);
      const signerKeyBits = signerCertificate.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey;
      const responderKeyHash = new Uint8Array(digest('sha1', signerKeyBits)).buffer;
      return { caId, keys, signer, signerCertificate, responderKeyHash };
    });
    ca.events.on('status-changed', this.onStatusChange);
  }

  /** Forget every cached response: a certificate's status changed somewhere. */
  invalidate(): void {
    this.cache.clear();
    this.cacheBytesUsed = 0;
  }

  get cachedResponses(): number {
    return this.cache.size;
  }

  /** What the cached answers take, keys included, as counted against the budget. */
  get cachedBytes(): number {
    return this.cacheBytesUsed;
  }

  /** A cached answer to exactly these request bytes, if one is fresh: no parsing, no signing. */
  cached(cacheKey: string): OcspAnswer | undefined {
    const cached = this.cache.get(cacheKey);
    if (cached === undefined || cached.freshUntil <= this.clock.now()) return undefined;
    // Used again: eviction passes it over once, moving it to the end, the last to be evicted.
    cached.used = true;
    return cached;
  }

  /** Keeps an answer within the byte budget, evicting the oldest unmarked ones first. */
  private remember(cacheKey: string, entry: Omit<CachedResponse, 'bytes' | 'used'>): void {
    // A latin1 key is one byte per request byte in V8's one-byte strings.
    const bytes = cacheKey.length + entry.der.byteLength + ENTRY_OVERHEAD_BYTES;
    const previous = this.cache.get(cacheKey);
    if (previous !== undefined) {
      this.cache.delete(cacheKey);
      this.cacheBytesUsed -= previous.bytes;
    }
    if (bytes > this.cacheBytes) return;
    // Each pass over a used answer clears its mark, so this ends within two rounds of the cache.
    while (this.cacheBytesUsed + bytes > this.cacheBytes) {
      const oldest = this.cache.entries().next().value;
      if (oldest === undefined) break;
      const [oldestKey, old] = oldest;
      this.cache.delete(oldestKey);
      if (old.used) {
        old.used = false;
        this.cache.set(oldestKey, old);
      } else {
        this.cacheBytesUsed -= old.bytes;
      }
    }
    this.cache.set(cacheKey, { ...entry, bytes, used: false });
    this.cacheBytesUsed += bytes;
  }

  /** Answers one DER-encoded OCSP request; never throws: failures are OCSP error statuses. */
  async respond(request: Uint8Array, cacheKey: string): Promise<OcspAnswer> {
    const now = this.clock.now();
    const cached = this.cached(cacheKey);
    if (cached !== undefined) return cached;
    // The parser ignores bytes after the request; they would only make distinct cache keys.
    if (!isSingleDerElement(request)) return uncached(MALFORMED_REQUEST);
    let parsed: OCSPRequest;
    try {
      parsed = AsnConvert.parse(request, OCSPRequest);
    } catch {
      return uncached(MALFORMED_REQUEST);
    }
    const requests = parsed.tbsRequest.requestList;
    if (requests.length === 0 || requests.length > MAX_REQUESTS) return uncached(MALFORMED_REQUEST);
    try {
      return await this.answer(parsed, now, cacheKey);
    } catch {
      return uncached(INTERNAL_ERROR);
    }
  }

  private issuerOf(certId: CertID): IssuerIndex | undefined {
    const alg = HASHES[certId.hashAlgorithm.algorithm];
    if (alg === undefined) return undefined;
    const key = `${alg}:${hex(certId.issuerNameHash.buffer)}:${hex(certId.issuerKeyHash.buffer)}`;
    return this.issuers.find((issuer) => issuer.keys.has(key));
  }

  private async answer(parsed: OCSPRequest, now: number, cacheKey: string): Promise<OcspAnswer> {
    const requests = parsed.tbsRequest.requestList;
    const issuer = this.issuerOf(requests[0]?.reqCert ?? new CertID());
    // One response is signed by one delegated signer: every certificate must share the issuer.
    if (issuer === undefined || requests.some((r) => this.issuerOf(r.reqCert) !== issuer)) {
      return uncached(UNAUTHORIZED);
    }
    const thisUpdate = wholeSeconds(now);
    const nextUpdate = wholeSeconds(now + this.validityMs);
    let allKnown = true;
    const responses: SingleResponse[] = [];
    for (const { reqCert } of requests) {
      const status = await certificateStatus(this.db, serialHex(reqCert.serialNumber));
      const known = status !== null && status.caId === issuer.caId;
      if (!known) allKnown = false;
      const revocation = known ? status.revocation : null;
      const certStatus = !known
        ? new CertStatus({ unknown: null })
        : revocation === null
          ? new CertStatus({ good: null })
          : new CertStatus({
              revoked: new RevokedInfo({
                revocationTime: wholeSeconds(revocation.revokedAt),
                revocationReason: new CRLReason(reasonCode(revocation.reason) as number),
              }),
            });
      responses.push(
        new SingleResponse({
          certID: reqCert,
          certStatus,
          thisUpdate,
          // On every answer, "unknown" too (RFC 5019 §2.2.4): a cache knows how long it holds.
          nextUpdate,
        }),
      );
    }
    const nonce = parsed.tbsRequest.requestExtensions?.find(
      (e: Extension) => e.extnID === id_pkix_ocsp_nonce,
    );
    const tbs = new ResponseData({
      responderID: new ResponderID({ byKey: new OctetString(issuer.responderKeyHash) }),
      producedAt: thisUpdate,
      responses,
      ...(nonce ? { responseExtensions: [nonce] } : {}),
    });
    const der = await this.sign(issuer, tbs);
    // Only answers that say the same thing to everyone are cached: no nonce, no "unknown" (which
    // turns "good" the moment the certificate is issued, possibly by another server).
    if (nonce === undefined && allKnown) {
      const caching: OcspCaching = {
        maxAgeSeconds: this.maxAgeSeconds,
        thisUpdate: thisUpdate.getTime(),
        nextUpdate: nextUpdate.getTime(),
        etag: etagOf(der),
      };
      this.remember(cacheKey, { der, caching, freshUntil: now + this.validityMs / 2 });
      return { der, caching };
    }
    return uncached(der);
  }

  private async sign(issuer: IssuerIndex, tbs: ResponseData): Promise<Uint8Array> {
    const { signer } = issuer;
    const tbsDer = AsnConvert.serialize(tbs);
    const algorithm = signingAlgorithm(signer.key.spec);
    const raw = await signer.key.crypto.subtle.sign(algorithm, signer.key.privateKey, tbsDer);
    // WebCrypto gives ECDSA signatures as r‖s; X.509 structures carry them DER-encoded.
    const signature =
      algorithm.name === 'ECDSA'
        ? (new AsnEcSignatureFormatter().toAsnSignature(signer.key.publicKey.algorithm, raw) ?? raw)
        : raw;
    const basic = new BasicOCSPResponse({
      tbsResponseData: tbs,
      signatureAlgorithm: signatureAlgorithmOid(signer),
      signature,
      certs: [issuer.signerCertificate],
    });
    const response = new OCSPResponse({
      responseStatus: OCSPResponseStatus.successful,
      responseBytes: new ResponseBytes({
        responseType: id_pkix_ocsp_basic,
        response: new OctetString(AsnConvert.serialize(basic)),
      }),
    });
    return new Uint8Array(AsnConvert.serialize(response));
  }

  close(): void {
    this.ca.events.off('status-changed', this.onStatusChange);
  }
}
