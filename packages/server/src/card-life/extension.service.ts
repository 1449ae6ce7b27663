// Förlängning: the holder extends their reserve card's e-ID once, on their own computer, with new
// keys made on the card. The rules are the domain's (`extensionValidity`); this service stores each
// extension, proves the keys through the card, issues exactly once and revokes at the right moment.
import { randomBytes } from 'node:crypto';
import {
  type CalendarDate,
  type CardKeyFact,
  type CardKeyType,
  type CardNumber,
  dateOf,
  endDateOf,
  extensionValidity,
  formatDate,
  type Instant,
  type Validity,
} from '@reservkort/domain';
import { type CertificateAuthority, checkCsr, type SignedCard } from '@reservkort/pki';
import {
  appendAudit,
  consumeChallenge,
  type Database,
  getCertificate,
  getExtension,
  getExtensionOfNewSerial,
  getIntent,
  getLiveExtensionOfCard,
  getOrder,
  getPersonByHsaId,
  insertExtension,
  listCertificatesOfCard,
  listExtensionsOfCard,
  listExtensionsToSettle,
  type StoredCertificate,
  type StoredExtension,
  StoreError,
  updateExtension,
} from '@reservkort/store';
import type { Kysely } from 'kysely';
import { publicKeyOfPem, verifyCardSignature } from '../auth/card-certificate.js';
import type { CurrentSession } from '../auth/session.js';
import { issueChallenge, readStatement, statement } from '../auth/signing-challenge.js';
import { ApiError } from '../http/api-error.js';
import type { DirectoryCache } from '../issuance/directory.js';
import type { SweepFailures } from '../issuance/sweep-failures.js';
import { verifyCardKeys } from '../station/card-proof.js';
import { newStationNonce } from '../station/station-statement.service.js';

/**
 * The card's last physical day from card stock; null when stock does not know the card. Then the
 * card bureau's certificate of the card (its validity is the card's life as the bureau made it)
 * bounds the extension instead.
 */
export type PhysicalExpiryLookup = (
  cardNumber: CardNumber,
) => CalendarDate | null | Promise<CalendarDate | null>;

export interface ExtensionSettings {
  /** From the start until then the extension may be acknowledged; afterwards it is abandoned. */
  readonly deadlineMs: number;
  /** How long a claim may stay unbound before the sweep gives it up (the reconciler's grace). */
  readonly claimGraceMs: number;
}

export const DEFAULT_EXTENSION_SETTINGS: ExtensionSettings = {
  deadlineMs: 30 * 60_000,
  claimGraceMs: 30_000,
};

/** What the holder's page sees of an extension. */
export interface ExtensionView {
  readonly id: string;
  readonly state: StoredExtension['state'];
  readonly cardNumber: CardNumber;
  /** What the card's proof of the new keys must sign with the extension's id. */
  readonly nonce: string;
  readonly cardKeyType: CardKeyType;
  readonly termsAccepted: boolean;
  readonly keysProven: boolean;
  /** The new validity: as issued once the certificates are, until then as the rule gives it now. */
  readonly validity: Validity;
  readonly oldSerials: { readonly auth: string; readonly sign: string };
  readonly newSerials: { readonly auth: string; readonly sign: string } | null;
  readonly deadline: Instant;
  readonly abandonReason: string | null;
}

/** The holder's e-ID as the session's card shows it: the pair the login certificate belongs to. */
interface CurrentEid {
  readonly cardNumber: CardNumber;
  readonly orderId: string;
  readonly auth: StoredCertificate;
  readonly sign: StoredCertificate | null;
}

const newId = (): string => randomBytes(12).toString('base64url');
const SIGNING_TTL_MS = 5 * 60_000;
const RUNNING: readonly StoredExtension['state'][] = ['open', 'issuing', 'issued'];
const ACTOR = 'extension';

const keysNotProven = (reason: string): ApiError => new ApiError('EXTENSION_KEYS_NOT_PROVEN', { reason });

export class ExtensionService {
  private readonly settings: ExtensionSettings;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly ca: CertificateAuthority,
    private readonly directory: DirectoryCache,
    private readonly now: () => number,
    private readonly physicalExpiryOf: PhysicalExpiryLookup,
    settings: Partial<ExtensionSettings> = {},
  ) {
    this.settings = { ...DEFAULT_EXTENSION_SETTINGS, ...settings };
  }

  /** The key type new keys are made as: the LoA3 CA's setting, as at issuance. */
  cardKeyType(): CardKeyType {
    return this.ca.cardKeyType('loa3');
  }

  /** The session's e-ID: its login certificate and the signature certificate issued with it. */
  private async currentEid(session: CurrentSession): Promise<CurrentEid> {
    const auth = await getCertificate(this.db, session.certificateSerial);
    if (auth === null || auth.orderId === null || auth.cardNumber === null || auth.profile !== 'card-auth')
      throw new ApiError('ACCESS_DENIED', { reason: 'not a reserve card' });
    // The pair was issued together: by one extension, or under one flow's intents at issuance.
    const extension = await getExtensionOfNewSerial(this.db, auth.serial);
    let sign: StoredCertificate | null = null;
    if (extension !== null && extension.newSignSerial !== null) {
      sign = await getCertificate(this.db, extension.newSignSerial);
    } else if (auth.intentId !== null) {
      const flowId = (await getIntent(this.db, auth.intentId))?.flowId ?? null;
      for (const candidate of await listCertificatesOfCard(this.db, auth.cardNumber)) {
        if (candidate.profile !== 'card-sign' || candidate.intentId === null) continue;
        if ((await getIntent(this.db, candidate.intentId))?.flowId === flowId) sign = candidate;
      }
    }
    return { cardNumber: auth.cardNumber, orderId: auth.orderId, auth, sign };
  }

  /** The card's last physical day: card stock, else the bureau certificate, else no bound of its own. */
  private async physicalExpiry(cardNumber: CardNumber, fallback: Instant): Promise<CalendarDate> {
    const known = await this.physicalExpiryOf(cardNumber);
    if (known !== null) return known;
    const bureau = (await listCertificatesOfCard(this.db, cardNumber)).find(
      (c) => c.profile === 'card-bureau',
    );
    return endDateOf(bureau?.notAfter ?? fallback);
  }

  /** The domain's rule on this e-ID now: the new validity, or its refusal as an ApiError. */
  private async validityFor(eid: CurrentEid, extendedAt: Instant | null, now: Instant): Promise<Validity> {
    const order = await getOrder(this.db, eid.orderId);
    if (order === null) throw new ApiError('NOT_FOUND', { what: 'order' });
    const ordered = order.validity;
    const result = extensionValidity(
      {
        current: { notBefore: eid.auth.notBefore, notAfter: eid.auth.notAfter },
        ordered,
        physicalExpiry: await this.physicalExpiry(
          eid.cardNumber,
          now + (ordered.notAfter - ordered.notBefore) + 86_400_000,
        ),
        revoked: eid.auth.revocation !== null || eid.sign === null || eid.sign.revocation !== null,
        extendedAt,
      },
      now,
    );
    if (!result.ok) throw new ApiError(result.error.code, result.error.details ?? {});
    return result.value;
  }

  private async view(extension: StoredExtension): Promise<ExtensionView> {
    let validity: Validity =
      extension.notBefore !== null && extension.notAfter !== null
        ? { notBefore: extension.notBefore, notAfter: extension.notAfter }
        : { notBefore: this.now(), notAfter: this.now() };
    if (extension.notBefore === null) {
      // Not yet issued: what the rule gives now (the page shows it before anything is done).
      const auth = await getCertificate(this.db, extension.oldAuthSerial);
      if (auth !== null && auth.cardNumber !== null && auth.orderId !== null) {
        const sign = await getCertificate(this.db, extension.oldSignSerial);
        validity = await this.validityFor(
          { cardNumber: auth.cardNumber, orderId: auth.orderId, auth, sign },
          null,
          this.now(),
        ).catch(() => validity);
      }
    }
    return {
      id: extension.id,
      state: extension.state,
      cardNumber: extension.cardNumber,
      nonce: extension.nonce,
      cardKeyType: this.cardKeyType(),
      termsAccepted: extension.termsAcceptedAt !== null,
      keysProven: extension.authSpki !== null,
      validity,
      oldSerials: { auth: extension.oldAuthSerial, sign: extension.oldSignSerial },
      newSerials:
        extension.newAuthSerial !== null && extension.newSignSerial !== null
          ? { auth: extension.newAuthSerial, sign: extension.newSignSerial }
          : null,
      deadline: extension.deadline,
      abandonReason: extension.abandonReason,
    };
  }

  /** The holder's own extension, by id; another card's is unknown to them. */
  private async own(id: string, session: CurrentSession): Promise<StoredExtension> {
    const extension = await getExtension(this.db, id);
    if (
      extension === null ||
      extension.cardNumber !== session.cardNumber ||
      extension.holderHsaId !== session.hsaId
    )
      throw new ApiError('NOT_FOUND', { what: 'extension' });
    return extension;
  }

  /** A running extension past its deadline, or abandoned, refuses every step with EXTENSION_ABANDONED. */
  private running(extension: StoredExtension, states: readonly StoredExtension['state'][]): void {
    if (extension.state === 'abandoned')
      throw new ApiError('EXTENSION_ABANDONED', { reason: extension.abandonReason ?? 'deadline' });
    if (RUNNING.includes(extension.state) && this.now() >= extension.deadline)
      throw new ApiError('EXTENSION_ABANDONED', { reason: 'deadline' });
    if (extension.state === 'completed') {
      const at = extension.completedAt ?? extension.updatedAt;
      throw new ApiError('EXTENSION_ALREADY_USED', { extendedOn: endDateOfText(at) });
    }
    if (!states.includes(extension.state))
      throw new ApiError(
        extension.state === 'issuing' || extension.state === 'issued'
          ? 'CERTIFICATES_ALREADY_REQUESTED'
          : 'EVENT_OUT_OF_ORDER',
        { reason: extension.state },
      );
  }

  /** The card's extension now, if the holder has one running or done; null if none was ever started. */
  async current(session: CurrentSession): Promise<ExtensionView | null> {
    const live = await getLiveExtensionOfCard(this.db, session.cardNumber);
    return live === null || live.holderHsaId !== session.hsaId ? null : this.view(live);
  }

  /**
   * The card's last förlängning if it was given up and none was started since: a page that comes
   * back says so before the holder starts a new one.
   */
  async lastAbandoned(
    session: CurrentSession,
  ): Promise<{ readonly id: string; readonly reason: string; readonly at: Instant } | null> {
    if ((await getLiveExtensionOfCard(this.db, session.cardNumber)) !== null) return null;
    const last = (await listExtensionsOfCard(this.db, session.cardNumber)).at(-1);
    if (last === undefined || last.state !== 'abandoned' || last.holderHsaId !== session.hsaId) return null;
    return { id: last.id, reason: last.abandonReason ?? 'deadline', at: last.abandonedAt ?? last.updatedAt };
  }

  /**
   * Starts the card's förlängning, or answers the one already running (a reloaded page, or two
   * requests at once: the database lets one row in, and both see it). The domain's checks come
   * first, in its order: revoked, already used, too late, past physical expiry.
   */
  async start(session: CurrentSession): Promise<ExtensionView> {
    const now = this.now();
    const eid = await this.currentEid(session);
    const live = await getLiveExtensionOfCard(this.db, eid.cardNumber);
    if (
      live !== null &&
      live.state !== 'completed' &&
      live.holderHsaId === session.hsaId &&
      now < live.deadline
    )
      return this.view(live);
    // One past its deadline that the sweep has not reached yet is given up now, as the sweep would.
    if (live !== null && RUNNING.includes(live.state) && now >= live.deadline)
      await this.abandon(live, 'deadline', 'extension-sweeper');
    await this.validityFor(
      eid,
      live?.state === 'completed' ? (live.completedAt ?? live.updatedAt) : null,
      now,
    );
    if (eid.sign === null) throw new ApiError('EXTENSION_CARD_REVOKED');
    const id = newId();
    try {
      await this.db.transaction().execute(async (trx) => {
        await insertExtension(trx, {
          id,
          cardNumber: eid.cardNumber,
          holderHsaId: session.hsaId,
          orderId: eid.orderId,
          oldAuthSerial: eid.auth.serial,
          oldSignSerial: (eid.sign as StoredCertificate).serial,
          nonce: newStationNonce(),
          createdAt: now,
          deadline: now + this.settings.deadlineMs,
        });
        await appendAudit(trx, {
          at: now,
          actor: session.hsaId,
          action: 'extension.started',
          subject: id,
          details: { cardNumber: eid.cardNumber, oldSerials: `${eid.auth.serial},${eid.sign?.serial}` },
        });
      });
    } catch (error) {
      if (!(error instanceof StoreError && error.code === 'CONFLICT')) throw error;
      // Another request started it first (or a running one is past its deadline, not yet swept).
      const other = await getLiveExtensionOfCard(this.db, eid.cardNumber);
      if (other === null) throw error;
      this.running(other, RUNNING);
      return this.view(other);
    }
    const stored = await getExtension(this.db, id);
    if (stored === null) throw new Error('extension vanished after its start');
    return this.view(stored);
  }

  /** Moves an extension read at its version; a change meanwhile refuses with what it became. */
  private async change(
    extension: StoredExtension,
    change: Parameters<typeof updateExtension>[3],
    audit: { readonly actor: string; readonly action: string; readonly details?: Record<string, string> },
  ): Promise<StoredExtension> {
    const at = this.now();
    const changed = await this.db.transaction().execute(async (trx) => {
      if (
        !(await updateExtension(
          trx,
          extension.id,
          { version: extension.version, state: extension.state },
          change,
          at,
        ))
      )
        return false;
      await appendAudit(trx, {
        at,
        actor: audit.actor,
        action: audit.action,
        subject: extension.id,
        details: audit.details ?? {},
      });
      return true;
    });
    const now = await getExtension(this.db, extension.id);
    if (now === null) throw new Error('extension vanished');
    if (!changed) {
      this.running(now, [extension.state]);
      throw new ApiError('ORDER_STATE_CONFLICT', { state: 'extension changed meanwhile' });
    }
    return now;
  }

  async get(session: CurrentSession, id: string): Promise<ExtensionView> {
    return this.view(await this.own(id, session));
  }

  /** The holder accepts the terms of the new certificates (before they are issued). */
  async acceptTerms(session: CurrentSession, id: string): Promise<ExtensionView> {
    const extension = await this.own(id, session);
    this.running(extension, ['open']);
    if (extension.termsAcceptedAt !== null) return this.view(extension);
    return this.view(
      await this.change(
        extension,
        { termsAcceptedAt: this.now() },
        {
          actor: session.hsaId,
          action: 'extension.terms-accepted',
        },
      ),
    );
  }

  /**
   * The card proves the new keys: its bureau key signed both public keys with this extension's id
   * and current nonce (`cardKeysBytes`), and its bureau certificate names the card. Accepted, the
   * keys are recorded and the nonce moves on, so the same proof cannot be used twice.
   */
  async proveKeys(
    session: CurrentSession,
    id: string,
    proof: {
      readonly cardNumber: CardNumber;
      readonly bureauCertificate: string;
      readonly cardSignature: string;
      readonly keys: { readonly auth: CardKeyFact; readonly sign: CardKeyFact };
    },
  ): Promise<ExtensionView> {
    const extension = await this.own(id, session);
    this.running(extension, ['open']);
    if (proof.cardNumber !== extension.cardNumber) throw keysNotProven('card number');
    try {
      await verifyCardKeys(this.ca, proof, { flowId: extension.id, nonce: extension.nonce, now: this.now() });
    } catch (error) {
      if (
        error instanceof ApiError &&
        (error.code === 'CARD_NOT_PROVEN' ||
          error.code === 'KEYS_NOT_ON_CARD' ||
          error.code === 'CSR_SAME_KEY')
      ) {
        await appendAudit(this.db, {
          at: this.now(),
          actor: session.hsaId,
          action: 'extension.keys-refused',
          subject: extension.id,
          details: { code: error.code, reason: String(error.details.reason ?? error.code) },
        });
        throw keysNotProven(String(error.details.reason ?? 'same key'));
      }
      throw error;
    }
    return this.view(
      await this.change(
        extension,
        { authSpki: proof.keys.auth.spki, signSpki: proof.keys.sign.spki, nonce: newStationNonce() },
        { actor: session.hsaId, action: 'extension.keys-proven' },
      ),
    );
  }

  /**
   * The new certificates, exactly once: the claim (state `issuing`, its intents, the validity by
   * the rule now) commits before anything is signed, so a parallel or repeated request finds the
   * extension claimed and issues nothing; the certificates are recorded in the transaction that
   * binds them to the extension, or not at all. A claim a crash left unbound is abandoned by the
   * sweep after the grace period; nothing was recorded under it.
   */
  async issueCertificates(
    session: CurrentSession,
    id: string,
    csrs: { readonly auth: string; readonly sign: string },
  ): Promise<{ extension: ExtensionView; certificates: { auth: string; sign: string } }> {
    const extension = await this.own(id, session);
    this.running(extension, ['open']);
    if (extension.termsAcceptedAt === null) throw new ApiError('EVENT_OUT_OF_ORDER', { reason: 'terms' });
    if (extension.authSpki === null || extension.signSpki === null) throw keysNotProven('no keys');
    const keyType = this.cardKeyType();
    const [authCsr, signCsr] = await Promise.all([
      checkCsr(csrs.auth, keyType),
      checkCsr(csrs.sign, keyType),
    ]);
    const spkiOf = (checked: typeof authCsr) => Buffer.from(checked.spki).toString('base64');
    if (spkiOf(authCsr) === spkiOf(signCsr)) throw new ApiError('CSR_SAME_KEY');
    // Only the keys the card proved for this extension.
    if (spkiOf(authCsr) !== extension.authSpki) throw keysNotProven('auth');
    if (spkiOf(signCsr) !== extension.signSpki) throw keysNotProven('sign');
    const eid = await this.currentEid(session);
    if (eid.auth.serial !== extension.oldAuthSerial) throw new ApiError('NOT_FOUND', { what: 'extension' });
    const validity = await this.validityFor(eid, null, this.now());
    const person = await getPersonByHsaId(this.db, extension.holderHsaId);
    if (person === null) throw new ApiError('NOT_FOUND', { what: 'person' });
    const place = await this.directory.placeOf(person.branchId, this.now());
    const intents = { auth: newId(), sign: newId() };
    const claimed = await this.change(
      extension,
      {
        state: 'issuing',
        authIntent: intents.auth,
        signIntent: intents.sign,
        claimedAt: this.now(),
        notBefore: validity.notBefore,
        notAfter: validity.notAfter,
      },
      {
        actor: session.hsaId,
        action: 'extension.claimed',
        details: { intents: `${intents.auth},${intents.sign}` },
      },
    ).catch((error: unknown) => {
      // Lost the race to a parallel request: it holds the claim.
      if (error instanceof ApiError && error.code === 'ORDER_STATE_CONFLICT')
        throw new ApiError('CERTIFICATES_ALREADY_REQUESTED');
      throw error;
    });
    const common = {
      caId: 'loa3' as const,
      holder: {
        hsaId: person.hsaId,
        givenName: person.givenName,
        surname: person.surname,
        ...place,
        upn: person.upn ?? null,
        email: person.email ?? null,
      },
      cardNumber: extension.cardNumber,
      validity,
      orderId: extension.orderId,
      actor: session.hsaId,
      intentId: null,
    };
    let signed: SignedCard[];
    try {
      signed = await Promise.all([
        this.ca.signCard({ ...common, profile: 'card-auth', csr: csrs.auth }, authCsr),
        this.ca.signCard({ ...common, profile: 'card-sign', csr: csrs.sign }, signCsr),
      ]);
    } catch (error) {
      await this.abandon(claimed, 'issuance-failed', ACTOR).catch(() => undefined);
      throw error;
    }
    const [auth, sign] = signed as [SignedCard, SignedCard];
    const at = this.now();
    try {
      await this.db.transaction().execute(async (trx) => {
        for (const certificate of signed) await this.ca.recordCard(trx, certificate);
        // Bound only to the claim as it was: one the sweep gave up meanwhile rolls the records back.
        const bound = await updateExtension(
          trx,
          claimed.id,
          { version: claimed.version, state: 'issuing' },
          { state: 'issued', newAuthSerial: auth.serial, newSignSerial: sign.serial, issuedAt: at },
          at,
        );
        if (!bound) throw new ApiError('EXTENSION_ABANDONED', { reason: 'issuance-interrupted' });
        await appendAudit(trx, {
          at,
          actor: session.hsaId,
          action: 'extension.certificates-issued',
          subject: claimed.id,
          details: { serials: `${auth.serial},${sign.serial}`, notAfter: String(validity.notAfter) },
        });
      });
    } catch (error) {
      await this.abandon(claimed, 'issuance-interrupted', ACTOR).catch(() => undefined);
      throw error;
    }
    const issued = await getExtension(this.db, claimed.id);
    if (issued === null) throw new Error('extension vanished');
    return {
      extension: await this.view(issued),
      certificates: {
        auth: Buffer.from(auth.certificate.rawData).toString('base64'),
        sign: Buffer.from(sign.certificate.rawData).toString('base64'),
      },
    };
  }

  /** The issued certificates again (a page that lost the answer), base64 DER. */
  async certificates(session: CurrentSession, id: string): Promise<{ auth: string; sign: string }> {
    const extension = await this.own(id, session);
    this.running(extension, ['issued']);
    const der = async (serial: string | null) => {
      const stored = serial === null ? null : await getCertificate(this.db, serial);
      if (stored === null) throw new ApiError('EVENT_OUT_OF_ORDER', { reason: 'no certificate' });
      return Buffer.from(stored.certificatePem.replace(/-----[^-]+-----|\s/g, ''), 'base64').toString(
        'base64',
      );
    };
    return { auth: await der(extension.newAuthSerial), sign: await der(extension.newSignSerial) };
  }

  /** What the card's new signature key must sign to acknowledge the extension (as KVITTERA KORT). */
  async acknowledgementChallenge(
    session: CurrentSession,
    id: string,
  ): Promise<{ challengeId: string; toBeSigned: string }> {
    const extension = await this.own(id, session);
    this.running(extension, ['issued']);
    const toBeSigned = statement({
      purpose: 'acknowledge-extension',
      extensionId: extension.id,
      cardNumber: extension.cardNumber,
      nonce: randomBytes(16).toString('hex'),
    });
    return issueChallenge(this.db, toBeSigned, this.now(), SIGNING_TTL_MS);
  }

  /**
   * The card acknowledged with its NEW signature key: the extension is completed (the card's one
   * extension is used) and, after the commit, the old pair is revoked as superseded. Until this
   * moment the old e-ID stays valid, so an extension left unfinished never leaves the holder
   * without one. A crash before the revocation is caught up by the sweep.
   */
  async acknowledge(
    session: CurrentSession,
    id: string,
    signed: { readonly challengeId: string; readonly signature: string },
  ): Promise<ExtensionView> {
    const extension = await this.own(id, session);
    this.running(extension, ['issued']);
    const text = await consumeChallenge(this.db, signed.challengeId, this.now());
    const read = text === null ? null : readStatement(text, 'acknowledge-extension');
    if (read === null || read.fields.extensionId !== extension.id)
      throw new ApiError('SIGNATURE_INVALID', { reason: 'challenge' });
    const newSign =
      extension.newSignSerial === null ? null : await getCertificate(this.db, extension.newSignSerial);
    if (
      newSign === null ||
      !verifyCardSignature(
        publicKeyOfPem(newSign.certificatePem),
        read.data,
        Buffer.from(signed.signature, 'base64'),
      )
    )
      throw new ApiError('SIGNATURE_INVALID', { reason: 'not the new signature key' });
    const completed = await this.change(
      extension,
      { state: 'completed', completedAt: this.now() },
      {
        actor: session.hsaId,
        action: 'extension.acknowledged',
        details: { serials: `${extension.newAuthSerial},${extension.newSignSerial}` },
      },
    );
    await this.settle(completed).catch(() => undefined);
    return this.view((await getExtension(this.db, id)) ?? completed);
  }

  /** Gives a running extension up; its new certificates, if any were bound, are revoked by `settle`. */
  private async abandon(extension: StoredExtension, reason: string, actor: string): Promise<void> {
    const at = this.now();
    const abandoned = await this.db.transaction().execute(async (trx) => {
      if (
        !(await updateExtension(
          trx,
          extension.id,
          { version: extension.version, state: extension.state },
          { state: 'abandoned', abandonedAt: at, abandonReason: reason },
          at,
        ))
      )
        return false;
      await appendAudit(trx, {
        at,
        actor,
        action: 'extension.abandoned',
        subject: extension.id,
        details: { reason },
      });
      return true;
    });
    if (!abandoned) return;
    const now = await getExtension(this.db, extension.id);
    if (now !== null) await this.settle(now);
  }

  /**
   * Carries out what an extension's state owes the CA (idempotent): a completed one's old pair
   * revoked as superseded, an abandoned one's new pair revoked (cessationOfOperation).
   */
  private async settle(extension: StoredExtension): Promise<void> {
    const revoke = async (serials: readonly string[], reason: string) => {
      for (const serial of serials) {
        await this.ca.revoke(serial, reason, ACTOR).catch((error: { code?: string }) => {
          if (error.code !== 'ALREADY_REVOKED') throw error;
        });
      }
    };
    if (extension.state === 'completed' && extension.oldRevokedAt === null) {
      await revoke([extension.oldAuthSerial, extension.oldSignSerial], 'superseded');
      await updateExtension(
        this.db,
        extension.id,
        { version: extension.version },
        { oldRevokedAt: this.now() },
        this.now(),
      );
    } else if (
      extension.state === 'abandoned' &&
      extension.newAuthSerial !== null &&
      extension.newRevokedAt === null
    ) {
      await revoke(
        [extension.newAuthSerial, extension.newSignSerial].filter((s): s is string => s !== null),
        'cessationOfOperation',
      );
      await updateExtension(
        this.db,
        extension.id,
        { version: extension.version },
        { newRevokedAt: this.now() },
        this.now(),
      );
    }
  }

  /**
   * The deadline sweep's part: running extensions past their deadline, and claims left unbound past
   * the grace period, are abandoned; revocations a crash left undone are carried out. Several
   * servers may sweep: the version lets one of them change each extension.
   */
  async sweep(failures: SweepFailures | null = null): Promise<number> {
    const now = this.now();
    let done = 0;
    for (const extension of await listExtensionsToSettle(
      this.db,
      now,
      now - this.settings.claimGraceMs,
      100,
    )) {
      try {
        if (RUNNING.includes(extension.state)) {
          const reason = now >= extension.deadline ? 'deadline' : 'issuance-interrupted';
          await this.abandon(extension, reason, 'extension-sweeper');
        } else await this.settle(extension);
        done++;
      } catch (error) {
        failures?.report('deadline', error, { extensionId: extension.id });
      }
    }
    return done;
  }
}

const endDateOfText = (at: Instant): string => formatDate(dateOf(at));
