// The X.509 library's dependency injection needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  AuthorityKeyIdentifierExtension,
  Extension,
  type JsonNameParams,
  Name,
  X509Certificate,
  X509CertificateGenerator,
  X509CrlGenerator,
} from '@peculiar/x509';
import type { AssuranceLevel, CardNumber, Clock } from '@reservkort/domain';
import {
  type AuditSigner,
  appendAudit,
  currentAuditSigner,
  type Database,
  getCa,
  getCertificate,
  getCrl,
  insertAuditSigner,
  insertCa,
  insertCertificate,
  insertRevocation,
  listCas,
  listRevocations,
  lockAuditSigners,
  nextCrlNumber,
  saveCrl,
} from '@reservkort/store';
import { Integer } from 'asn1js';
import type { Kysely } from 'kysely';
import { registerExtensions } from '../extensions/extension-registry.js';
import {
  type CaKey,
  type CaKeyStore,
  DEFAULT_KEY_SPEC,
  isKeySpec,
  type KeySpec,
  signingAlgorithm,
} from '../keys/key-spec.js';
import { DEFAULT_POLICY_OIDS } from '../oids.js';
import { PkiError } from '../pki-error.js';
import { buildTemplate, type Holder, type ProfileName } from '../profiles/certificate-profile.js';
import { checkCsr } from '../profiles/csr-check.js';
import { parseRevocationReason, type RevocationReason, reasonCode } from './revocation-reason.js';

export type IssuingCaId = 'loa3' | 'loa2';
export type CaId = 'root' | IssuingCaId | 'ocsp-loa3' | 'ocsp-loa2';
export const ISSUING_CAS: readonly IssuingCaId[] = ['loa3', 'loa2'];

/** A random source: n cryptographically random bytes. Passed in so serials are testable. */
export type RandomSource = (bytes: number) => Uint8Array;
export const secureRandom: RandomSource = (bytes) => webcrypto.getRandomValues(new Uint8Array(bytes));

export interface CaSettings {
  /** Public base URL of the PKI endpoints, written into AIA and CRL distribution points. */
  readonly baseUrl: string;
  readonly policyOids: { readonly [L in AssuranceLevel]: string };
  readonly organisation: string;
  /** How long a published CRL is valid (nextUpdate − thisUpdate). */
  readonly crlValidityMs: number;
}

export const DEFAULT_CA_SETTINGS: CaSettings = {
  baseUrl: 'http://localhost:3000',
  policyOids: DEFAULT_POLICY_OIDS,
  organisation: 'Reservkort Demo',
  crlValidityMs: 24 * 3_600_000,
};

export interface CaDependencies {
  readonly db: Kysely<Database>;
  readonly keyStore: CaKeyStore;
  readonly clock: Clock;
  readonly random?: RandomSource;
  readonly settings?: Partial<CaSettings>;
}

/** The audit checkpoint signer: its certificate (issued by the root), its key, and the root. */
export interface LoadedAuditSigner {
  readonly certificate: X509Certificate;
  readonly key: CaKey;
  readonly root: X509Certificate;
}

/** A loaded CA: its certificate and a key able to sign with it. */
export interface LoadedCa {
  readonly id: CaId;
  readonly name: string;
  readonly certificate: X509Certificate;
  readonly key: CaKey;
  readonly policyOid: string | null;
  readonly assuranceLevel: AssuranceLevel | null;
}

export interface IssueRequest {
  readonly caId: IssuingCaId;
  readonly profile: 'card-auth' | 'card-sign';
  readonly csr: Uint8Array | string;
  readonly holder: Holder;
  readonly cardNumber: CardNumber;
  /** The order's validity: the certificate never outlives it. */
  readonly validity: { readonly notBefore: number; readonly notAfter: number };
  readonly orderId: string | null;
  readonly actor: string;
  /**
   * The issuance intent this certificate is issued under, recorded with it in one transaction;
   * a closed intent makes the issuance fail with nothing recorded (the signed bytes are dropped).
   */
  readonly intentId?: string | null;
}

/** A card station's certificate: for a station id and branch, from a CSR by the station's key. */
export interface StationIssueRequest {
  readonly caId: IssuingCaId;
  readonly csr: Uint8Array | string;
  readonly stationId: string;
  readonly branchId: string;
  /** How long from now the certificate is valid (bounded by the CA). */
  readonly validityMs: number;
  readonly actor: string;
}

export interface IssuedCertificate {
  readonly serial: string;
  readonly certificate: X509Certificate;
  readonly pem: string;
}

export type InitProgress = (step: string, done: number, total: number) => void;

const YEAR = 365 * 86_400_000;
const BACKDATE_MS = 5 * 60_000;

/** CRL Number (2.5.29.20): a monotonically increasing INTEGER. */
const crlNumberExtension = (value: number): Extension =>
  new Extension('2.5.29.20', false, new Integer({ value }).toBER(false));

const name = (organisation: string, commonName: string): JsonNameParams => [
  { '2.5.4.6': [{ printableString: 'SE' }] },
  { '2.5.4.10': [{ utf8String: organisation }] },
  { '2.5.4.3': [{ utf8String: commonName }] },
];

/**
 * A positive 128-bit serial from the random source (RFC 5280: at most 20 octets). The first byte is
 * kept in 0x10–0x7f so the hex form never starts with a zero: stored, printed and looked up alike.
 */
export const serialFrom = (random: RandomSource): string => {
  const bytes = random(16);
  bytes[0] = Math.max((bytes[0] ?? 0) & 0x7f, 0x10);
  return Buffer.from(bytes).toString('hex');
};

/**
 * The certificate authority core: it knows nothing of HTTP. A root CA, issuing CAs per
 * assurance level, delegated OCSP signers; issuance from CSRs, revocation, CRLs.
 */
export class CertificateAuthority {
  /** Emits `status-changed` with a serial when a certificate is revoked (OCSP cache invalidation). */
  readonly events = new EventEmitter();
  readonly settings: CaSettings;
  private readonly random: RandomSource;

  private constructor(
    private readonly deps: CaDependencies,
    private readonly cas: ReadonlyMap<CaId, LoadedCa>,
  ) {
    this.settings = { ...DEFAULT_CA_SETTINGS, ...deps.settings };
    this.random = deps.random ?? secureRandom;
  }

  /** Creates the hierarchy: root, LoA3 and LoA2 issuing CAs, and an OCSP signer for each. */
  static async initialise(
    deps: CaDependencies,
    options: { keySpec?: KeySpec; onProgress?: InitProgress } = {},
  ): Promise<CertificateAuthority> {
    registerExtensions();
    if ((await listCas(deps.db)).length > 0) {
      throw new PkiError('CA_ALREADY_INITIALISED', 'the CA hierarchy already exists', {});
    }
    const settings = { ...DEFAULT_CA_SETTINGS, ...deps.settings };
    const spec = options.keySpec ?? DEFAULT_KEY_SPEC;
    const random = deps.random ?? secureRandom;
    const now = deps.clock.now();
    const progress = options.onProgress ?? (() => {});
    const plan: {
      id: CaId;
      issuer: CaId | null;
      profile: ProfileName;
      cn: string;
      level: AssuranceLevel | null;
      years: number;
    }[] = [
      { id: 'root', issuer: null, profile: 'root-ca', cn: 'Root CA', level: null, years: 20 },
      { id: 'loa3', issuer: 'root', profile: 'issuing-ca', cn: 'Person CA LoA3', level: 'LoA3', years: 10 },
      { id: 'loa2', issuer: 'root', profile: 'issuing-ca', cn: 'Person CA LoA2', level: 'LoA2', years: 10 },
      { id: 'ocsp-loa3', issuer: 'loa3', profile: 'ocsp', cn: 'OCSP LoA3', level: null, years: 2 },
      { id: 'ocsp-loa2', issuer: 'loa2', profile: 'ocsp', cn: 'OCSP LoA2', level: null, years: 2 },
    ];
    const loaded = new Map<CaId, LoadedCa>();
    for (const [index, step] of plan.entries()) {
      progress(`${step.id}: generating ${spec} key`, index, plan.length);
      const key = await deps.keyStore.generate(`reservkort-${step.id}-${now}`, spec);
      const issuer = step.issuer === null ? null : loaded.get(step.issuer);
      const signer = issuer?.key ?? key;
      const policyOid = step.level === null ? null : settings.policyOids[step.level];
      const commonName = `${settings.organisation} ${step.cn}`;
      const template = await buildTemplate(
        {
          subject: name(settings.organisation, commonName),
          extensions: [],
          notBefore: new Date(now - BACKDATE_MS),
          notAfter: new Date(now + step.years * YEAR),
        },
        {
          profile: step.profile,
          subjectPublicKey: key.publicKey,
          issuer: issuer?.certificate ?? null,
          holder: null,
          cardNumber: null,
          policyOid,
          urls: null,
          crypto: signer.crypto,
        },
      );
      const serial = serialFrom(random);
      const certificate = await X509CertificateGenerator.create(
        {
          serialNumber: serial,
          subject: new Name(template.subject),
          issuer: issuer?.certificate.subjectName ?? new Name(template.subject),
          notBefore: template.notBefore,
          notAfter: template.notAfter,
          extensions: template.extensions,
          publicKey: key.publicKey,
          signingKey: signer.privateKey,
          signingAlgorithm: signingAlgorithm(signer.spec),
        },
        signer.crypto,
      );
      const pem = certificate.toString('pem');
      await deps.db.transaction().execute(async (trx) => {
        await insertCa(trx, {
          id: step.id,
          role: step.profile === 'root-ca' ? 'root' : step.profile === 'ocsp' ? 'ocsp' : 'issuing',
          name: commonName,
          issuerId: step.issuer,
          certificatePem: pem,
          keyKind: deps.keyStore.kind,
          keyRef: `${spec}:${key.ref}`,
          policyOid,
          assuranceLevel: step.level,
          createdAt: now,
        });
        await insertCertificate(trx, {
          serial,
          caId: step.issuer ?? step.id,
          profile: step.profile === 'ocsp' ? 'ocsp' : 'ca',
          subject: certificate.subject,
          hsaId: null,
          cardNumber: null,
          orderId: null,
          notBefore: certificate.notBefore.getTime(),
          notAfter: certificate.notAfter.getTime(),
          certificatePem: pem,
          createdAt: now,
        });
        await appendAudit(trx, {
          at: now,
          actor: 'ca-operator',
          action: 'ca.created',
          subject: step.id,
          details: { serial, keyKind: deps.keyStore.kind, spec, policyOid },
        });
      });
      loaded.set(step.id, {
        id: step.id,
        name: commonName,
        certificate,
        key,
        policyOid,
        assuranceLevel: step.level,
      });
    }
    progress('done', plan.length, plan.length);
    const ca = new CertificateAuthority(deps, loaded);
    for (const id of ISSUING_CAS) await ca.publishCrl(id);
    // Made now, so that its key is in the key folder that is copied to every server.
    await ca.auditSigner();
    return ca;
  }

  /** Loads the hierarchy from the store and opens its keys. */
  static async open(deps: CaDependencies): Promise<CertificateAuthority> {
    registerExtensions();
    const rows = await listCas(deps.db);
    if (rows.length === 0) throw new PkiError('CA_NOT_INITIALISED', 'no CA in the database', { ca: 'root' });
    const loaded = new Map<CaId, LoadedCa>();
    for (const row of rows) {
      const [specText, ...refParts] = row.keyRef.split(':');
      const spec = isKeySpec(specText) ? specText : DEFAULT_KEY_SPEC;
      const key = await deps.keyStore.open(refParts.join(':'), spec);
      loaded.set(row.id as CaId, {
        id: row.id as CaId,
        name: row.name,
        certificate: new X509Certificate(row.certificatePem),
        key,
        policyOid: row.policyOid,
        assuranceLevel: row.assuranceLevel as AssuranceLevel | null,
      });
    }
    return new CertificateAuthority(deps, loaded);
  }

  ca(id: CaId): LoadedCa {
    const found = this.cas.get(id);
    if (found === undefined) throw new PkiError('CA_NOT_INITIALISED', `CA ${id} is missing`, { ca: id });
    return found;
  }

  get all(): readonly LoadedCa[] {
    return [...this.cas.values()];
  }

  /** The URLs relying parties use for a CA: issuer certificate, CRL and OCSP. */
  urls(caId: IssuingCaId) {
    const base = this.settings.baseUrl.replace(/\/+$/, '');
    return {
      caIssuers: `${base}/pki/ca/${caId}.crt`,
      crl: `${base}/pki/crl/${caId}.crl`,
      ocsp: `${base}/ocsp`,
    };
  }

  /** Issues a card certificate from a CSR: proof of possession checked, subject from the order. */
  async issue(request: IssueRequest): Promise<IssuedCertificate> {
    const { csr, publicKey } = await checkCsr(request.csr);
    const issuer = this.ca(request.caId);
    const now = this.deps.clock.now();
    const template = await buildTemplate(
      {
        subject: [],
        extensions: [],
        notBefore: new Date(Math.max(request.validity.notBefore, now - BACKDATE_MS)),
        notAfter: new Date(request.validity.notAfter),
      },
      {
        profile: request.profile,
        subjectPublicKey: publicKey,
        issuer: issuer.certificate,
        holder: request.holder,
        cardNumber: request.cardNumber,
        policyOid: issuer.policyOid,
        urls: this.urls(request.caId),
        crypto: webcrypto as unknown as Crypto,
      },
    );
    const serial = serialFrom(this.random);
    const certificate = await X509CertificateGenerator.create(
      {
        serialNumber: serial,
        subject: new Name(template.subject),
        issuer: issuer.certificate.subjectName,
        notBefore: template.notBefore,
        notAfter: template.notAfter,
        extensions: template.extensions,
        publicKey: csr.publicKey,
        signingKey: issuer.key.privateKey,
        signingAlgorithm: signingAlgorithm(issuer.key.spec),
      },
      issuer.key.crypto,
    );
    const pem = certificate.toString('pem');
    await this.deps.db.transaction().execute(async (trx) => {
      await insertCertificate(trx, {
        serial,
        caId: request.caId,
        profile: request.profile,
        subject: certificate.subject,
        hsaId: request.holder.hsaId,
        cardNumber: request.cardNumber,
        orderId: request.orderId,
        notBefore: certificate.notBefore.getTime(),
        notAfter: certificate.notAfter.getTime(),
        certificatePem: pem,
        createdAt: now,
        intentId: request.intentId ?? null,
      });
      await appendAudit(trx, {
        at: now,
        actor: request.actor,
        action: 'certificate.issued',
        subject: serial,
        details: {
          ca: request.caId,
          profile: request.profile,
          cardNumber: request.cardNumber,
          orderId: request.orderId,
          ...(request.intentId ? { intent: request.intentId } : {}),
        },
      });
    });
    return { serial, certificate, pem };
  }

  /**
   * Issues a card station's certificate: proof of possession checked, subject from the request
   * (the station id and branch), never from the CSR. Recorded and revocable like every certificate.
   */
  async issueStation(request: StationIssueRequest): Promise<IssuedCertificate> {
    const { csr, publicKey } = await checkCsr(request.csr);
    const issuer = this.ca(request.caId);
    const now = this.deps.clock.now();
    const template = await buildTemplate(
      {
        subject: [],
        extensions: [],
        notBefore: new Date(now - BACKDATE_MS),
        notAfter: new Date(now + request.validityMs),
      },
      {
        profile: 'station',
        subjectPublicKey: publicKey,
        issuer: issuer.certificate,
        holder: null,
        cardNumber: null,
        policyOid: null,
        urls: this.urls(request.caId),
        crypto: webcrypto as unknown as Crypto,
        station: { id: request.stationId, branchId: request.branchId },
      },
    );
    const serial = serialFrom(this.random);
    const certificate = await X509CertificateGenerator.create(
      {
        serialNumber: serial,
        subject: new Name(template.subject),
        issuer: issuer.certificate.subjectName,
        notBefore: template.notBefore,
        notAfter: template.notAfter,
        extensions: template.extensions,
        publicKey: csr.publicKey,
        signingKey: issuer.key.privateKey,
        signingAlgorithm: signingAlgorithm(issuer.key.spec),
      },
      issuer.key.crypto,
    );
    const pem = certificate.toString('pem');
    await this.deps.db.transaction().execute(async (trx) => {
      await insertCertificate(trx, {
        serial,
        caId: request.caId,
        profile: 'station',
        subject: certificate.subject,
        hsaId: null,
        cardNumber: null,
        orderId: null,
        notBefore: certificate.notBefore.getTime(),
        notAfter: certificate.notAfter.getTime(),
        certificatePem: pem,
        createdAt: now,
      });
      await appendAudit(trx, {
        at: now,
        actor: request.actor,
        action: 'certificate.issued',
        subject: serial,
        details: {
          ca: request.caId,
          profile: 'station',
          station: request.stationId,
          branch: request.branchId,
        },
      });
    });
    return { serial, certificate, pem };
  }

  /** Revokes a certificate, records it, re-publishes the issuer's CRL, and tells OCSP at once. */
  async revoke(
    serial: string,
    reasonName: string,
    actor: string,
  ): Promise<{ revokedAt: number; reason: RevocationReason }> {
    const reason = parseRevocationReason(reasonName);
    const normalised = serial.toLowerCase().replace(/^0+(?=.)/, '');
    const certificate = await getCertificate(this.deps.db, normalised);
    if (certificate === null) {
      throw new PkiError('CERTIFICATE_NOT_FOUND', `no certificate ${serial}`, {
        serial: serial.slice(0, 64),
      });
    }
    const issuing = (ISSUING_CAS as readonly string[]).includes(certificate.caId);
    if (certificate.revocation !== null) {
      // A crash between the revocation's commit and the CRL's publication leaves the CRL behind:
      // whoever retries the revocation brings it up to date before hearing "already revoked".
      const crl = issuing ? await getCrl(this.deps.db, certificate.caId) : null;
      if (issuing && (crl === null || crl.thisUpdate < certificate.revocation.revokedAt)) {
        await this.publishCrl(certificate.caId as IssuingCaId);
      }
      throw new PkiError('ALREADY_REVOKED', `certificate ${serial} is already revoked`, {
        serial: normalised,
      });
    }
    const revokedAt = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (trx) => {
      const inserted = await insertRevocation(trx, {
        serial: normalised,
        revokedAt,
        reason,
        revokedBy: actor,
      });
      if (!inserted)
        throw new PkiError('ALREADY_REVOKED', `certificate ${serial} is already revoked`, {
          serial: normalised,
        });
      await appendAudit(trx, {
        at: revokedAt,
        actor,
        action: 'certificate.revoked',
        subject: normalised,
        details: { reason, ca: certificate.caId },
      });
    });
    this.events.emit('status-changed', normalised);
    if (issuing) await this.publishCrl(certificate.caId as IssuingCaId);
    return { revokedAt, reason };
  }

  /** Builds, signs and stores a full CRL for an issuing CA, with the next CRL number. */
  async publishCrl(caId: IssuingCaId): Promise<Uint8Array> {
    const issuer = this.ca(caId);
    const now = this.deps.clock.now();
    const thisUpdate = new Date(now);
    const nextUpdate = new Date(now + this.settings.crlValidityMs);
    return this.deps.db.transaction().execute(async (trx) => {
      const crlNumber = await nextCrlNumber(trx, caId);
      const revocations = await listRevocations(trx, caId);
      const crl = await X509CrlGenerator.create(
        {
          issuer: issuer.certificate.subjectName,
          thisUpdate,
          nextUpdate,
          signingKey: issuer.key.privateKey,
          signingAlgorithm: signingAlgorithm(issuer.key.spec),
          extensions: [
            crlNumberExtension(crlNumber),
            await AuthorityKeyIdentifierExtension.create(
              issuer.certificate,
              false,
              webcrypto as unknown as Crypto,
            ),
          ],
          entries: revocations.map((r) => ({
            serialNumber: r.serial,
            revocationDate: new Date(r.revokedAt),
            reason: reasonCode(r.reason),
          })),
        },
        issuer.key.crypto,
      );
      const der = new Uint8Array(crl.rawData);
      await saveCrl(trx, { caId, crlNumber, thisUpdate: now, nextUpdate: nextUpdate.getTime(), der });
      await appendAudit(trx, {
        at: now,
        actor: 'ca',
        action: 'crl.published',
        subject: caId,
        details: { crlNumber, entries: revocations.length },
      });
      return der;
    });
  }

  /** The current CRL of an issuing CA; published anew when none is stored or it has expired. */
  async currentCrl(caId: IssuingCaId): Promise<{ der: Uint8Array; nextUpdate: number }> {
    this.ca(caId);
    const stored = await getCrl(this.deps.db, caId);
    if (stored !== null && stored.nextUpdate > this.deps.clock.now()) return stored;
    const der = await this.publishCrl(caId);
    return { der, nextUpdate: this.deps.clock.now() + this.settings.crlValidityMs };
  }

  async close(): Promise<void> {
    await this.deps.keyStore.close();
  }

  /**
   * The key that signs audit checkpoints, made and certified by the root on first use (so older
   * installations get one too) and opened from the CA's key store afterwards. A key of its own,
   * rather than the root's or an issuing CA's: CA keys sign certificates and CRLs only (their key
   * usage says so), the root can stay locked away while checkpoints are signed every few minutes,
   * and a relying party can tell a checkpoint signer from a CA by its certificate. It lives in the
   * same CaKeyStore as the CA keys, so on a PKCS#11 token it is a token key like theirs.
   */
  auditSigner(): Promise<LoadedAuditSigner> {
    this.auditSignerLoading ??= this.loadAuditSigner().catch((error: unknown) => {
      this.auditSignerLoading = null;
      throw error;
    });
    return this.auditSignerLoading;
  }

  private auditSignerLoading: Promise<LoadedAuditSigner> | null = null;

  private async loadAuditSigner(): Promise<LoadedAuditSigner> {
    const stored = await currentAuditSigner(this.deps.db);
    if (stored !== null) return this.openAuditSigner(stored);
    const root = this.ca('root');
    const created = await this.deps.db.transaction().execute(async (trx) => {
      await lockAuditSigners(trx);
      const raced = await currentAuditSigner(trx);
      if (raced !== null) return { stored: raced, loaded: null };
      const now = this.deps.clock.now();
      const spec = root.key.spec;
      const key = await this.deps.keyStore.generate(`reservkort-audit-checkpoint-${now}`, spec);
      const commonName = `${this.settings.organisation} Audit Checkpoints`;
      const template = await buildTemplate(
        {
          subject: name(this.settings.organisation, commonName),
          extensions: [],
          notBefore: new Date(now - BACKDATE_MS),
          // Capped at the root's own end: a signer that expires sooner would make every checkpoint
          // it signed fail OpenSSL's check (which uses the current time) from then on.
          notAfter: root.certificate.notAfter,
        },
        {
          profile: 'audit-checkpoint',
          subjectPublicKey: key.publicKey,
          issuer: root.certificate,
          holder: null,
          cardNumber: null,
          policyOid: null,
          urls: null,
          crypto: root.key.crypto,
        },
      );
      const serial = serialFrom(this.random);
      const certificate = await X509CertificateGenerator.create(
        {
          serialNumber: serial,
          subject: new Name(template.subject),
          issuer: root.certificate.subjectName,
          notBefore: template.notBefore,
          notAfter: template.notAfter,
          extensions: template.extensions,
          publicKey: key.publicKey,
          signingKey: root.key.privateKey,
          signingAlgorithm: signingAlgorithm(root.key.spec),
        },
        root.key.crypto,
      );
      const pem = certificate.toString('pem');
      await insertCertificate(trx, {
        serial,
        caId: 'root',
        profile: 'audit-checkpoint',
        subject: certificate.subject,
        hsaId: null,
        cardNumber: null,
        orderId: null,
        notBefore: certificate.notBefore.getTime(),
        notAfter: certificate.notAfter.getTime(),
        certificatePem: pem,
        createdAt: now,
      });
      const row = {
        id: `audit-checkpoint-${serial}`,
        certificateSerial: serial,
        certificatePem: pem,
        keyKind: this.deps.keyStore.kind,
        keyRef: `${spec}:${key.ref}`,
        createdAt: now,
      };
      await insertAuditSigner(trx, row);
      await appendAudit(trx, {
        at: now,
        actor: 'ca',
        action: 'audit-signer.created',
        subject: serial,
        details: { keyKind: this.deps.keyStore.kind, spec },
      });
      return { stored: row, loaded: { certificate, key, root: root.certificate } };
    });
    return created.loaded ?? this.openAuditSigner(created.stored);
  }

  private async openAuditSigner(stored: AuditSigner): Promise<LoadedAuditSigner> {
    const [specText, ...refParts] = stored.keyRef.split(':');
    const spec = isKeySpec(specText) ? specText : DEFAULT_KEY_SPEC;
    return {
      certificate: new X509Certificate(stored.certificatePem),
      key: await this.deps.keyStore.open(refParts.join(':'), spec),
      root: this.ca('root').certificate,
    };
  }
}

/** Exposed for the CLI: the CA row as stored, for `ca show`. */
export { getCa };
