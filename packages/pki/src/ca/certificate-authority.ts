// The X.509 library's dependency injection needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import {
  AuthorityKeyIdentifierExtension,
  Extension,
  type JsonNameParams,
  Name,
  PublicKey,
  X509Certificate,
  X509CrlGenerator,
} from '@peculiar/x509';
import {
  type AssuranceLevel,
  type CardKeyType,
  type CardNumber,
  type Clock,
  DEFAULT_CARD_KEY_TYPE,
  STATION_ID_PATTERN,
} from '@reservkort/domain';
import {
  type AuditSigner,
  appendAudit,
  currentAuditSigner,
  type Database,
  getCa,
  getCertificate,
  getCertificatePending,
  getCrl,
  insertAuditSigner,
  insertCa,
  insertCertificate,
  insertRevocation,
  listCas,
  listRevocations,
  lockAuditSigners,
  type NewAuditEntry,
  type NewCertificate,
  nextCrlNumber,
  replaceCaCertificate,
  type StoredCertificate,
  saveCrl,
} from '@reservkort/store';
import { Integer } from 'asn1js';
import type { Kysely, Transaction } from 'kysely';
import { nameStructure } from '../encoding/der-encoding.js';
import { pemOfDer } from '../encoding/pem-text.js';
import { wholeSeconds } from '../encoding/signed-time.js';
import { registerExtensions } from '../extensions/extension-registry.js';
import {
  type CaKey,
  type CaKeyStore,
  DEFAULT_KEY_SPEC,
  isKeySpec,
  type KeySpec,
  signingAlgorithm,
} from '../keys/key-spec.js';
import { DEFAULT_POLICY_OIDS, OID } from '../oids.js';
import { PkiError } from '../pki-error.js';
import {
  buildTemplate,
  type CertificateTemplate,
  type Holder,
  type ProfileName,
} from '../profiles/certificate-profile.js';
import { CARD_KEY_DESCRIPTIONS, type CheckedCsr, checkCsr } from '../profiles/csr-check.js';
import { signCertificate } from './certificate-signing.js';
import { parseRevocationReason, type RevocationReason, reasonCode } from './revocation-reason.js';
import { type RandomSource, secureRandom } from './secure-random.js';

export type IssuingCaId = 'loa3' | 'loa2';
/**
 * The card bureau CA: it certifies devices, not persons (the card authentication key written on
 * every blank reserve card, and card stations), so it has no person policy and is no IssuingCaId.
 */
export const BUREAU_CA = 'bureau';
export type BureauCaId = typeof BUREAU_CA;
export type OcspSignerId = 'ocsp-root' | 'ocsp-loa3' | 'ocsp-loa2';
export type CaId = 'root' | IssuingCaId | OcspSignerId | BureauCaId;
export const ISSUING_CAS: readonly IssuingCaId[] = ['loa3', 'loa2'];
/** The CAs that publish a CRL: the root (of the CAs it certified), the issuing CAs and the bureau. */
export type CrlCaId = 'root' | IssuingCaId | BureauCaId;
export const CRL_CAS: readonly CrlCaId[] = ['root', ...ISSUING_CAS, BUREAU_CA];
/** The CAs the OCSP responder answers for, each through its delegated signer. */
export type OcspCaId = 'root' | IssuingCaId;
export const OCSP_SIGNERS: { readonly [C in OcspCaId]: OcspSignerId } = {
  root: 'ocsp-root',
  loa3: 'ocsp-loa3',
  loa2: 'ocsp-loa2',
};
/** The CAs the root certifies: they carry the root's CRL and OCSP pointers (see `open`). */
const ROOT_CERTIFIED_CAS: readonly CaId[] = [...ISSUING_CAS, BUREAU_CA];
const CRL_DISTRIBUTION_POINTS = '2.5.29.31';

/**
 * The URLs relying parties use for what a CA issued: the CA's certificate, its CRL, and OCSP (the
 * responder answers for the root and the person CAs; bureau certificates are checked against
 * its CRL and the store).
 */
export const caUrls = (
  baseUrl: string,
  caId: CrlCaId,
): { caIssuers: string; crl: string; ocsp: string | null } => {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    caIssuers: `${base}/pki/ca/${caId}.crt`,
    crl: `${base}/pki/crl/${caId}.crl`,
    ocsp: caId === BUREAU_CA ? null : `${base}/ocsp`,
  };
};

export interface CaSettings {
  /** Public base URL of the PKI endpoints, written into AIA and CRL distribution points. */
  readonly baseUrl: string;
  readonly policyOids: { readonly [L in AssuranceLevel]: string };
  readonly organisation: string;
  /** How long a published CRL is valid (nextUpdate − thisUpdate). */
  readonly crlValidityMs: number;
  /**
   * The key type each person CA certifies on cards: the agent generates this type for a flow,
   * and a card CSR with any other key is refused (KEY_NOT_ALLOWED).
   */
  readonly cardKeyTypes: { readonly [L in AssuranceLevel]: CardKeyType };
}

export const DEFAULT_CA_SETTINGS: CaSettings = {
  baseUrl: 'http://localhost:3000',
  policyOids: DEFAULT_POLICY_OIDS,
  organisation: 'Reservkort Demo',
  crlValidityMs: 24 * 3_600_000,
  cardKeyTypes: { LoA3: DEFAULT_CARD_KEY_TYPE, LoA2: DEFAULT_CARD_KEY_TYPE },
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

/** A card bureau certificate for the card authentication key generated on a blank reserve card. */
export interface CardBureauRequest {
  /** The key generated on the card, SubjectPublicKeyInfo DER. */
  readonly spki: Uint8Array;
  readonly cardNumber: CardNumber;
  readonly actor: string;
  /** How long the card lives; the certificate never outlives the bureau CA. Default 5 years. */
  readonly validityMs?: number;
}

/** A station certificate: the CSR proves the station holds its key; id and branch come from the registration. */
export interface StationRequest {
  readonly csr: Uint8Array | string;
  readonly stationId: string;
  readonly branchId: string;
  readonly actor: string;
  /** Default 30 days: a station registers again to renew. */
  readonly validityMs?: number;
  /**
   * Writes that commit with the certificate or not at all (the station's own row and its audit
   * entry), so that no station certificate exists without its station.
   */
  readonly alsoInTransaction?: (trx: Transaction<Database>, issued: IssuedCertificate) => Promise<void>;
}
export const CARD_BUREAU_VALIDITY_MS = 5 * 365 * 86_400_000;
export const STATION_VALIDITY_MS = 30 * 86_400_000;

export interface IssuedCertificate {
  readonly serial: string;
  readonly certificate: X509Certificate;
  readonly pem: string;
}

/** A card certificate signed and not yet recorded (see `CertificateAuthority.signCard`). */
export interface SignedCard extends IssuedCertificate {
  readonly request: IssueRequest;
  readonly signedAt: number;
}

export type InitProgress = (step: string, done: number, total: number) => void;

/** Settings filled in from the defaults; settings files written before a setting existed lack it. */
const withDefaults = (settings: Partial<CaSettings> | undefined): CaSettings => ({
  ...DEFAULT_CA_SETTINGS,
  ...settings,
  cardKeyTypes: { ...DEFAULT_CA_SETTINGS.cardKeyTypes, ...settings?.cardKeyTypes },
});

const YEAR = 365 * 86_400_000;

/** A serial as the store keeps it: lower-case hex without leading zeros. */
const storedSerial = (serial: string): string => serial.toLowerCase().replace(/^0+(?=.)/, '');
const BACKDATE_MS = 5 * 60_000;

/** A P-256 public key from its SubjectPublicKeyInfo: the only kind cards and stations make for the bureau. */
const importSpki = async (spki: Uint8Array): Promise<CryptoKey> => {
  try {
    return await (webcrypto as unknown as Crypto).subtle.importKey(
      'spki',
      new Uint8Array(spki),
      { name: 'ECDSA', namedCurve: 'P-256' },
      true,
      ['verify'],
    );
  } catch (cause) {
    throw new PkiError(
      'KEY_NOT_ALLOWED',
      'the key is not an ECDSA P-256 public key',
      { key: 'spki', allowed: 'ECDSA P-256' },
      { cause },
    );
  }
};

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

/** Opens a key stored as `spec:ref` (the form every CA row and signer row keeps). */
const openStoredKey = (keyStore: CaKeyStore, keyRef: string): Promise<CaKey> => {
  const [specText, ...refParts] = keyRef.split(':');
  return keyStore.open(refParts.join(':'), isKeySpec(specText) ? specText : DEFAULT_KEY_SPEC);
};

/** A certificate from a profile's template, signed by the issuer's key under a fresh serial. */
const signTemplate = async (
  template: CertificateTemplate,
  subjectKey: CryptoKey | PublicKey | SubjectPublicKeyInfo,
  issuerName: Name,
  signer: Pick<CaKey, 'privateKey' | 'spec' | 'crypto' | 'nodeKey'>,
  random: RandomSource,
  subjectName?: Name,
): Promise<{ serial: string; certificate: X509Certificate; pem: string }> => {
  const serial = serialFrom(random);
  // A key imported with node's WebCrypto goes over as its SPKI: the crypto of a CA whose keys are
  // on a PKCS#11 token exports only keys of its own.
  // A token's own key (one it just made) is exported by the token's crypto.
  const publicKey =
    subjectKey instanceof PublicKey || subjectKey instanceof SubjectPublicKeyInfo
      ? subjectKey
      : new PublicKey(
          await (subjectKey instanceof globalThis.CryptoKey
            ? (webcrypto as unknown as Crypto)
            : signer.crypto
          ).subtle.exportKey('spki', subjectKey),
        );
  const certificate = await signCertificate(
    {
      serial,
      // A re-certified CA keeps its subject byte for byte, so what it issued still chains.
      subject: subjectName ?? nameStructure(template.subject) ?? new Name(template.subject),
      issuer: issuerName,
      notBefore: wholeSeconds(template.notBefore.getTime()),
      notAfter: wholeSeconds(template.notAfter.getTime()),
      extensions: template.extensions,
      publicKey,
    },
    signer,
  );
  return { serial, certificate, pem: pemOfDer('CERTIFICATE', certificate.rawData) };
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
    // Mutable only to add the bureau CA when it is made or opened on first use.
    private readonly cas: Map<CaId, LoadedCa>,
  ) {
    this.settings = withDefaults(deps.settings);
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
    const settings = withDefaults(deps.settings);
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
      { id: 'ocsp-root', issuer: 'root', profile: 'ocsp', cn: 'OCSP Root', level: null, years: 2 },
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
          urls: step.profile === 'issuing-ca' ? caUrls(settings.baseUrl, 'root') : null,
          crypto: signer.crypto,
        },
      );
      const { serial, certificate, pem } = await signTemplate(
        template,
        key.publicKey,
        issuer?.certificate.subjectName ?? new Name(template.subject),
        signer,
        random,
      );
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
    for (const id of ['root', ...ISSUING_CAS] as const) await ca.publishCrl(id);
    // Made now, so that their keys are in the key folder that is copied to every server.
    await ca.auditSigner();
    await ca.bureau();
    return ca;
  }

  /** Loads the hierarchy from the store and opens its keys. */
  static async open(deps: CaDependencies): Promise<CertificateAuthority> {
    registerExtensions();
    const rows = await listCas(deps.db);
    if (rows.length === 0) throw new PkiError('CA_NOT_INITIALISED', 'no CA in the database', { ca: 'root' });
    const loaded = new Map<CaId, LoadedCa>();
    for (const row of rows) {
      const key = await openStoredKey(deps.keyStore, row.keyRef);
      loaded.set(row.id as CaId, {
        id: row.id as CaId,
        name: row.name,
        certificate: new X509Certificate(row.certificatePem),
        key,
        policyOid: row.policyOid,
        assuranceLevel: row.assuranceLevel as AssuranceLevel | null,
      });
    }
    const ca = new CertificateAuthority(deps, loaded);
    await ca.upgradeRootCertified();
    return ca;
  }

  /**
   * Brings a hierarchy made by an earlier version up to date: the CAs the root certified without
   * revocation pointers (CRL distribution point, AIA) are certified again with the same key and
   * subject and the pointers, and the root gets its delegated OCSP signer. What those CAs issued
   * still chains: name and key identifier are unchanged. The old certificates stay valid (not
   * revoked), so a relying party's existing chain file keeps working. Done once, under the same
   * lock as the bureau, so servers starting together upgrade once.
   */
  private async upgradeRootCertified(): Promise<void> {
    const stale = (certificate: X509Certificate) =>
      certificate.getExtension(CRL_DISTRIBUTION_POINTS) === null;
    const needed = ROOT_CERTIFIED_CAS.some((id) => {
      const loaded = this.cas.get(id);
      return loaded !== undefined && stale(loaded.certificate);
    });
    if (!needed && this.cas.has('ocsp-root')) return;
    const root = this.ca('root');
    const upgraded = await this.deps.db.transaction().execute(async (trx) => {
      await lockAuditSigners(trx);
      const now = this.deps.clock.now();
      const changed = new Map<CaId, X509Certificate>();
      let recertified = 0;
      for (const row of await listCas(trx)) {
        const id = row.id as CaId;
        const loaded = this.cas.get(id);
        if (!ROOT_CERTIFIED_CAS.includes(id) || row.issuerId !== 'root' || loaded === undefined) continue;
        const current = new X509Certificate(row.certificatePem);
        if (!stale(current)) {
          changed.set(id, current);
          continue;
        }
        const template = await buildTemplate(
          { subject: [], extensions: [], notBefore: current.notBefore, notAfter: current.notAfter },
          {
            profile: 'issuing-ca',
            subjectPublicKey: loaded.key.publicKey,
            issuer: root.certificate,
            holder: null,
            cardNumber: null,
            policyOid: row.policyOid,
            urls: this.urls('root'),
            crypto: root.key.crypto,
          },
        );
        const signed = await signTemplate(
          template,
          loaded.key.publicKey,
          root.certificate.subjectName,
          root.key,
          this.random,
          current.subjectName,
        );
        await replaceCaCertificate(trx, id, signed.pem);
        await this.recordRootCertified(trx, signed, 'ca', now);
        await appendAudit(trx, {
          at: now,
          actor: 'ca',
          action: 'ca.recertified',
          subject: id,
          details: {
            serial: signed.serial,
            previousSerial: current.serialNumber.toLowerCase().replace(/^0+(?=.)/, ''),
            why: 'revocation pointers (CRL distribution point, AIA) for the CA certificate',
          },
        });
        changed.set(id, signed.certificate);
        recertified += 1;
      }
      const ocspRoot =
        (await getCa(trx, 'ocsp-root')) === null ? await this.makeRootOcspSigner(trx, now) : null;
      return { changed, recertified, ocspRoot };
    });
    for (const [id, certificate] of upgraded.changed) {
      const loaded = this.cas.get(id);
      if (loaded !== undefined) this.cas.set(id, { ...loaded, certificate });
    }
    if (upgraded.ocspRoot !== null) this.cas.set('ocsp-root', upgraded.ocspRoot);
    else if (!this.cas.has('ocsp-root')) {
      // Another server made it between our look and our lock.
      const stored = await getCa(this.deps.db, 'ocsp-root');
      if (stored !== null) this.cas.set('ocsp-root', await this.openStoredCa(stored));
    }
    if (upgraded.recertified > 0 || upgraded.ocspRoot !== null) await this.publishCrl('root');
  }

  /** The root's delegated OCSP signer, for hierarchies made before the root answered OCSP. */
  private async makeRootOcspSigner(trx: Transaction<Database>, now: number): Promise<LoadedCa> {
    const commonName = `${this.settings.organisation} OCSP Root`;
    const spec = this.ca('root').key.spec;
    const made = await this.certifyNewKeyByRoot({
      label: `reservkort-ocsp-root-${now}`,
      commonName,
      profile: 'ocsp',
      notAfter: new Date(now + 2 * YEAR),
      now,
    });
    await insertCa(trx, {
      id: 'ocsp-root',
      role: 'ocsp',
      name: commonName,
      issuerId: 'root',
      certificatePem: made.pem,
      keyKind: this.deps.keyStore.kind,
      keyRef: `${spec}:${made.key.ref}`,
      policyOid: null,
      assuranceLevel: null,
      createdAt: now,
    });
    await this.recordRootCertified(trx, made, 'ocsp', now);
    await appendAudit(trx, {
      at: now,
      actor: 'ca',
      action: 'ca.created',
      subject: 'ocsp-root',
      details: { serial: made.serial, keyKind: this.deps.keyStore.kind, spec, policyOid: null },
    });
    return {
      id: 'ocsp-root',
      name: commonName,
      certificate: made.certificate,
      key: made.key,
      policyOid: null,
      assuranceLevel: null,
    };
  }

  /** Records a certificate the root issued, so the root's CRL and OCSP know it. */
  private async recordRootCertified(
    trx: Transaction<Database>,
    signed: { serial: string; certificate: X509Certificate; pem: string },
    profile: 'ca' | 'ocsp',
    now: number,
  ): Promise<void> {
    await insertCertificate(trx, {
      serial: signed.serial,
      caId: 'root',
      profile,
      subject: signed.certificate.subject,
      hsaId: null,
      cardNumber: null,
      orderId: null,
      notBefore: signed.certificate.notBefore.getTime(),
      notAfter: signed.certificate.notAfter.getTime(),
      certificatePem: signed.pem,
      createdAt: now,
    });
  }

  private async openStoredCa(row: {
    id: string;
    name: string;
    keyRef: string;
    certificatePem: string;
    policyOid: string | null;
    assuranceLevel: string | null;
  }): Promise<LoadedCa> {
    return {
      id: row.id as CaId,
      name: row.name,
      certificate: new X509Certificate(row.certificatePem),
      key: await openStoredKey(this.deps.keyStore, row.keyRef),
      policyOid: row.policyOid,
      assuranceLevel: row.assuranceLevel as AssuranceLevel | null,
    };
  }

  /** The CA's clock, for what is computed from its signed times (the HTTP freshness of a CRL). */
  get clock(): Clock {
    return this.deps.clock;
  }

  ca(id: CaId): LoadedCa {
    const found = this.cas.get(id);
    if (found === undefined) throw new PkiError('CA_NOT_INITIALISED', `CA ${id} is missing`, { ca: id });
    return found;
  }

  get all(): readonly LoadedCa[] {
    return [...this.cas.values()];
  }

  /** A CA by id, the bureau made or opened first if it has to be (hierarchies made before it). */
  async loadCa(id: CaId): Promise<LoadedCa> {
    return id === BUREAU_CA ? this.bureau() : this.ca(id);
  }

  /**
   * The URLs written into what a CA issues (see `caUrls`).
   */
  urls(caId: CrlCaId): { caIssuers: string; crl: string; ocsp: string | null } {
    return caUrls(this.settings.baseUrl, caId);
  }

  /** The key type the person CA `caId` certifies on cards (its setting). */
  cardKeyType(caId: IssuingCaId): CardKeyType {
    const level = this.ca(caId).assuranceLevel;
    return level === null ? DEFAULT_CARD_KEY_TYPE : this.settings.cardKeyTypes[level];
  }

  /** Issues a card certificate from a CSR: proof of possession checked, subject from the order. */
  async issue(request: IssueRequest): Promise<IssuedCertificate> {
    const signed = await this.signCard(request);
    await this.deps.db.transaction().execute((trx) => this.recordCard(trx, signed));
    return signed;
  }

  /**
   * Signs a card certificate and records nothing: the caller records it with `recordCard` in a
   * transaction of its own choosing (with the flow that binds it), or drops it. Bytes that were
   * never recorded were never given to anyone, so no relying party can meet them. `checked`: what
   * `checkCsr` made of `request.csr`, when the caller has just checked it (it is not checked twice).
   */
  async signCard(request: IssueRequest, checked?: CheckedCsr): Promise<SignedCard> {
    const keyType = this.cardKeyType(request.caId);
    const { publicKeyInfo, publicKey, keyDescription } = checked ?? (await checkCsr(request.csr, keyType));
    if (keyDescription !== CARD_KEY_DESCRIPTIONS[keyType])
      throw new PkiError('KEY_NOT_ALLOWED', `key ${keyDescription} is not allowed`, {
        key: keyDescription,
        allowed: CARD_KEY_DESCRIPTIONS[keyType],
      });
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
        subjectPublicKeyInfo: publicKeyInfo,
        issuer: issuer.certificate,
        holder: request.holder,
        cardNumber: request.cardNumber,
        policyOid: issuer.policyOid,
        urls: this.urls(request.caId),
        crypto: webcrypto as unknown as Crypto,
      },
    );
    const { serial, certificate, pem } = await signTemplate(
      template,
      publicKeyInfo,
      issuer.certificate.subjectName,
      issuer.key,
      this.random,
    );
    return { serial, certificate, pem, request, signedAt: now };
  }

  /** Records a signed card certificate under its intent, with its audit entry, in `trx`. */
  async recordCard(trx: Transaction<Database>, signed: SignedCard): Promise<void> {
    const { certificate, entry } = this.cardRecord(signed);
    await insertCertificate(trx, certificate);
    await appendAudit(trx, entry);
  }

  /** What recording a signed card certificate stores: its row and its audit entry. */
  cardRecord(signed: SignedCard): { readonly certificate: NewCertificate; readonly entry: NewAuditEntry } {
    const { request, serial, certificate, pem, signedAt } = signed;
    return {
      certificate: {
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
        createdAt: signedAt,
        intentId: request.intentId ?? null,
      },
      entry: {
        at: signedAt,
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
      },
    };
  }

  /** Revokes a certificate, records it, re-publishes the issuer's CRL, and tells OCSP at once. */
  async revoke(
    serial: string,
    reasonName: string,
    actor: string,
  ): Promise<{ revokedAt: number; reason: RevocationReason }> {
    const reason = parseRevocationReason(reasonName);
    const normalised = storedSerial(serial);
    const certificate = await getCertificate(this.deps.db, normalised);
    if (certificate === null) {
      throw new PkiError('CERTIFICATE_NOT_FOUND', `no certificate ${serial}`, {
        serial: serial.slice(0, 64),
      });
    }
    const issuing = (CRL_CAS as readonly string[]).includes(certificate.caId);
    if (certificate.revocation !== null) {
      // A crash between the revocation's commit and the CRL's publication leaves the CRL behind:
      // whoever retries the revocation brings it up to date before hearing "already revoked".
      const crl = issuing ? await getCrl(this.deps.db, certificate.caId) : null;
      if (issuing && (crl === null || crl.thisUpdate < certificate.revocation.revokedAt)) {
        await this.publishCrl(certificate.caId as CrlCaId);
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
    if (issuing) await this.publishCrl(certificate.caId as CrlCaId);
    return { revokedAt, reason };
  }

  /**
   * Revokes several certificates as one act, all or none: one transaction records every
   * revocation, each certificate's audit entry and the caller's own entry for the act, so a crash
   * leaves either all of them revoked with their entries or none. If any of them is already
   * revoked nothing changes and ALREADY_REVOKED names it (after bringing a CRL a crash left behind
   * up to date). OCSP is told at once; the issuers' CRLs are re-published.
   */
  async revokeTogether(
    serials: readonly string[],
    reasonName: string,
    actor: string,
    act: { readonly action: string; readonly subject: string; readonly details: Record<string, unknown> },
  ): Promise<{ revokedAt: number; reason: RevocationReason }> {
    const reason = parseRevocationReason(reasonName);
    // One order for every caller, so two acts over the same certificates cannot deadlock.
    const normalised = [...new Set(serials.map((s) => s.toLowerCase().replace(/^0+(?=.)/, '')))].sort();
    const certificates: StoredCertificate[] = [];
    for (const serial of normalised) {
      const certificate = await getCertificate(this.deps.db, serial);
      if (certificate === null)
        throw new PkiError('CERTIFICATE_NOT_FOUND', `no certificate ${serial}`, {
          serial: serial.slice(0, 64),
        });
      certificates.push(certificate);
    }
    const issuers = [
      ...new Set(
        certificates
          .map((c) => c.caId)
          .filter((id): id is CrlCaId => (CRL_CAS as readonly string[]).includes(id)),
      ),
    ];
    const already = certificates.find((c) => c.revocation !== null);
    if (already?.revocation) {
      for (const caId of issuers) {
        const crl = await getCrl(this.deps.db, caId);
        if (crl === null || crl.thisUpdate < already.revocation.revokedAt) await this.publishCrl(caId);
      }
      throw new PkiError('ALREADY_REVOKED', `certificate ${already.serial} is already revoked`, {
        serial: already.serial,
      });
    }
    const revokedAt = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (trx) => {
      for (const certificate of certificates) {
        const inserted = await insertRevocation(trx, {
          serial: certificate.serial,
          revokedAt,
          reason,
          revokedBy: actor,
        });
        if (!inserted)
          throw new PkiError('ALREADY_REVOKED', `certificate ${certificate.serial} is already revoked`, {
            serial: certificate.serial,
          });
        await appendAudit(trx, {
          at: revokedAt,
          actor,
          action: 'certificate.revoked',
          subject: certificate.serial,
          details: { reason, ca: certificate.caId },
        });
      }
      await appendAudit(trx, { at: revokedAt, actor, ...act });
    });
    for (const certificate of certificates) this.events.emit('status-changed', certificate.serial);
    for (const caId of issuers) await this.publishCrl(caId);
    return { revokedAt, reason };
  }

  /** Builds, signs and stores a full CRL for an issuing CA, with the next CRL number. */
  async publishCrl(caId: CrlCaId): Promise<Uint8Array> {
    const issuer = await this.loadCa(caId);
    const now = this.deps.clock.now();
    const thisUpdate = wholeSeconds(now);
    const nextUpdate = wholeSeconds(now + this.settings.crlValidityMs);
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
            revocationDate: wholeSeconds(r.revokedAt),
            reason: reasonCode(r.reason),
          })),
        },
        issuer.key.crypto,
      );
      const der = new Uint8Array(crl.rawData);
      await saveCrl(trx, {
        caId,
        crlNumber,
        thisUpdate: thisUpdate.getTime(),
        nextUpdate: nextUpdate.getTime(),
        der,
      });
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

  /** The current CRL of a CA; published anew when none is stored or it has expired. */
  async currentCrl(caId: CrlCaId): Promise<{ der: Uint8Array; thisUpdate: number; nextUpdate: number }> {
    await this.loadCa(caId);
    const stored = await getCrl(this.deps.db, caId);
    if (stored !== null && stored.nextUpdate > this.deps.clock.now()) return stored;
    await this.publishCrl(caId);
    const published = await getCrl(this.deps.db, caId);
    if (published === null) throw new PkiError('CA_NOT_INITIALISED', `no CRL of ${caId}`, { ca: caId });
    return published;
  }

  async close(): Promise<void> {
    await this.deps.keyStore.close();
  }

  /** The stored record of a certificate (with its revocation), for the bureau and station checks. */
  storedCertificate(serial: string): ReturnType<typeof getCertificate> {
    return getCertificate(this.deps.db, storedSerial(serial));
  }

  /** storedCertificate, to be sent with other statements of the same database (see runPending). */
  storedCertificatePending(serial: string): ReturnType<typeof getCertificatePending> {
    return getCertificatePending(this.deps.db, storedSerial(serial));
  }

  /**
   * A key made in the CA's key store, with the root's key usage on the profile's template: the
   * step shared by what the root certifies after `ca init` (the bureau CA, the checkpoint signer).
   */
  private async certifyNewKeyByRoot(request: {
    label: string;
    commonName: string;
    profile: ProfileName;
    notAfter: Date;
    now: number;
  }): Promise<{ key: CaKey; serial: string; certificate: X509Certificate; pem: string }> {
    const root = this.ca('root');
    const key = await this.deps.keyStore.generate(request.label, root.key.spec);
    const template = await buildTemplate(
      {
        subject: name(this.settings.organisation, request.commonName),
        extensions: [],
        notBefore: new Date(request.now - BACKDATE_MS),
        notAfter: request.notAfter,
      },
      {
        profile: request.profile,
        subjectPublicKey: key.publicKey,
        issuer: root.certificate,
        holder: null,
        cardNumber: null,
        policyOid: null,
        urls: request.profile === 'issuing-ca' ? this.urls('root') : null,
        crypto: root.key.crypto,
      },
    );
    const signed = await signTemplate(
      template,
      key.publicKey,
      root.certificate.subjectName,
      root.key,
      this.random,
    );
    return { key, ...signed };
  }

  /**
   * The card bureau CA, made and certified by the root on first use (hierarchies made before it
   * get one too) under the audit signer's lock, so servers starting together make one, not one
   * each; `ca init` makes it with the rest of the hierarchy.
   */
  bureau(): Promise<LoadedCa> {
    const loaded = this.cas.get(BUREAU_CA);
    if (loaded !== undefined) return Promise.resolve(loaded);
    this.bureauLoading ??= this.loadBureau().catch((error: unknown) => {
      this.bureauLoading = null;
      throw error;
    });
    return this.bureauLoading;
  }

  private bureauLoading: Promise<LoadedCa> | null = null;

  private async loadBureau(): Promise<LoadedCa> {
    const stored = await getCa(this.deps.db, BUREAU_CA);
    if (stored !== null) return this.openBureau(stored);
    const root = this.ca('root');
    const created = await this.deps.db.transaction().execute(async (trx) => {
      await lockAuditSigners(trx);
      const raced = await getCa(trx, BUREAU_CA);
      if (raced !== null) return { stored: raced, loaded: null };
      const now = this.deps.clock.now();
      const spec = root.key.spec;
      const commonName = `${this.settings.organisation} Card Bureau CA`;
      const { key, serial, certificate, pem } = await this.certifyNewKeyByRoot({
        label: `reservkort-${BUREAU_CA}-${now}`,
        commonName,
        profile: 'issuing-ca',
        notAfter: new Date(now + 10 * YEAR),
        now,
      });
      const row = {
        id: BUREAU_CA,
        role: 'issuing' as const,
        name: commonName,
        issuerId: 'root',
        certificatePem: pem,
        keyKind: this.deps.keyStore.kind,
        keyRef: `${spec}:${key.ref}`,
        policyOid: null,
        assuranceLevel: null,
        createdAt: now,
      };
      await insertCa(trx, row);
      await insertCertificate(trx, {
        serial,
        caId: 'root',
        profile: 'ca',
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
        actor: 'ca',
        action: 'ca.created',
        subject: BUREAU_CA,
        details: { serial, keyKind: this.deps.keyStore.kind, spec, policyOid: null },
      });
      const loaded: LoadedCa = {
        id: BUREAU_CA,
        name: commonName,
        certificate,
        key,
        policyOid: null,
        assuranceLevel: null,
      };
      return { stored: null, loaded };
    });
    if (created.loaded === null) return this.openBureau(created.stored);
    this.cas.set(BUREAU_CA, created.loaded);
    await this.publishCrl(BUREAU_CA);
    return created.loaded;
  }

  private async openBureau(stored: {
    keyRef: string;
    name: string;
    certificatePem: string;
  }): Promise<LoadedCa> {
    const loaded: LoadedCa = {
      id: BUREAU_CA,
      name: stored.name,
      certificate: new X509Certificate(stored.certificatePem),
      key: await openStoredKey(this.deps.keyStore, stored.keyRef),
      policyOid: null,
      assuranceLevel: null,
    };
    this.cas.set(BUREAU_CA, loaded);
    return loaded;
  }

  /**
   * Certifies the card authentication key a card bureau generated on a blank reserve card. No CSR:
   * the bureau made the key on the card itself and hands over its public key.
   */
  async issueCardBureau(request: CardBureauRequest): Promise<IssuedCertificate> {
    const publicKey = await importSpki(request.spki);
    const now = this.deps.clock.now();
    const commonName = `Reserve card ${request.cardNumber}`;
    return this.issueDevice({
      profile: 'card-bureau',
      publicKey,
      subject: [
        { [OID.country]: [{ printableString: 'SE' }] },
        { [OID.organisation]: [{ utf8String: this.settings.organisation }] },
        { [OID.commonName]: [{ utf8String: commonName }] },
        { [OID.serialNumber]: [{ printableString: request.cardNumber }] },
      ],
      cardNumber: request.cardNumber,
      notAfter: now + (request.validityMs ?? CARD_BUREAU_VALIDITY_MS),
      actor: request.actor,
      details: { cardNumber: request.cardNumber },
    });
  }

  /** Issues a card station's certificate from its CSR (proof of possession checked). */
  async issueStation(request: StationRequest): Promise<IssuedCertificate> {
    if (!STATION_ID_PATTERN.test(request.stationId)) {
      throw new PkiError('CSR_INVALID', 'not a station id', { reason: 'station-id' });
    }
    if (request.branchId.length === 0 || request.branchId.length > 64) {
      throw new PkiError('CSR_INVALID', 'not a branch id', { reason: 'branch-id' });
    }
    const { publicKey } = await checkCsr(request.csr);
    const now = this.deps.clock.now();
    return this.issueDevice({
      profile: 'station',
      publicKey,
      subject: [
        { [OID.country]: [{ printableString: 'SE' }] },
        { [OID.organisation]: [{ utf8String: this.settings.organisation }] },
        { [OID.organisationalUnit]: [{ utf8String: request.branchId }] },
        { [OID.commonName]: [{ utf8String: request.stationId }] },
      ],
      cardNumber: null,
      notAfter: now + (request.validityMs ?? STATION_VALIDITY_MS),
      actor: request.actor,
      details: { station: request.stationId, branch: request.branchId },
      ...(request.alsoInTransaction ? { alsoInTransaction: request.alsoInTransaction } : {}),
    });
  }

  private async issueDevice(request: {
    profile: 'card-bureau' | 'station';
    publicKey: CryptoKey;
    subject: JsonNameParams;
    cardNumber: CardNumber | null;
    notAfter: number;
    actor: string;
    details: Readonly<Record<string, string>>;
    alsoInTransaction?: StationRequest['alsoInTransaction'];
  }): Promise<IssuedCertificate> {
    const issuer = await this.bureau();
    const now = this.deps.clock.now();
    const template = await buildTemplate(
      {
        subject: request.subject,
        extensions: [],
        notBefore: new Date(now - BACKDATE_MS),
        notAfter: new Date(request.notAfter),
      },
      {
        profile: request.profile,
        subjectPublicKey: request.publicKey,
        issuer: issuer.certificate,
        holder: null,
        cardNumber: request.cardNumber,
        policyOid: null,
        urls: this.urls(BUREAU_CA),
        crypto: webcrypto as unknown as Crypto,
      },
    );
    const { serial, certificate, pem } = await signTemplate(
      template,
      request.publicKey,
      issuer.certificate.subjectName,
      issuer.key,
      this.random,
    );
    await this.deps.db.transaction().execute(async (trx) => {
      await insertCertificate(trx, {
        serial,
        caId: BUREAU_CA,
        profile: request.profile,
        subject: certificate.subject,
        hsaId: null,
        cardNumber: request.cardNumber,
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
        details: { ca: BUREAU_CA, profile: request.profile, ...request.details },
      });
      await request.alsoInTransaction?.(trx, { serial, certificate, pem });
    });
    return { serial, certificate, pem };
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
      const { key, serial, certificate, pem } = await this.certifyNewKeyByRoot({
        label: `reservkort-audit-checkpoint-${now}`,
        commonName: `${this.settings.organisation} Audit Checkpoints`,
        profile: 'audit-checkpoint',
        // Capped at the root's own end: a signer that expires sooner would make every checkpoint
        // it signed fail OpenSSL's check (which uses the current time) from then on.
        notAfter: root.certificate.notAfter,
        now,
      });
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
    return {
      certificate: new X509Certificate(stored.certificatePem),
      key: await openStoredKey(this.deps.keyStore, stored.keyRef),
      root: this.ca('root').certificate,
    };
  }
}

/** Exposed for the CLI: the CA row as stored, for `ca show`. */
export { getCa };
