import {
  type CardNumber,
  decideSparr,
  eidDaysLeft,
  type HsaId,
  type Instant,
  type RevocableEid,
  type SparrActor,
  type SparrReason,
} from '@reservkort/domain';
import type { CertificateAuthority } from '@reservkort/pki';
import { summariseCertificate } from '@reservkort/pki';
import {
  type Database,
  getPersonByHsaId,
  listExtensionsOfCard,
  listReserveCardCertificates,
  type StoredCertificate,
} from '@reservkort/store';
import type { Kysely } from 'kysely';
import { ApiError } from '../http/api-error.js';
import type { DirectoryCache } from '../issuance/directory.js';

/** One certificate of a reserve card's e-ID as the holder's and the administrators' pages show it. */
export interface EidCertificateView {
  readonly serial: string;
  readonly use: 'authentication' | 'signature';
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: Instant;
  readonly notAfter: Instant;
  readonly status: 'good' | 'expired' | 'revoked';
  /** The RFC 5280 reason and the time, when revoked. */
  readonly revocation: { readonly reason: string; readonly revokedAt: Instant } | null;
}

/** A reserve card's e-ID: the pair of certificates one order put on one card. */
export interface EidView {
  readonly cardNumber: CardNumber;
  readonly orderId: string;
  /** Good while any certificate is; revoked once all are; expired otherwise. */
  readonly status: 'good' | 'expired' | 'revoked';
  readonly daysLeft: number;
  readonly certificates: readonly EidCertificateView[];
}

const certificateView = (stored: StoredCertificate, now: Instant): EidCertificateView => {
  const summary = summariseCertificate(stored.certificatePem);
  return {
    serial: stored.serial,
    use: stored.profile === 'card-sign' ? 'signature' : 'authentication',
    subject: summary.subject,
    issuer: summary.issuer,
    notBefore: stored.notBefore,
    notAfter: stored.notAfter,
    status: stored.revocation !== null ? 'revoked' : stored.notAfter <= now ? 'expired' : 'good',
    revocation:
      stored.revocation === null
        ? null
        : { reason: stored.revocation.reason, revokedAt: stored.revocation.revokedAt },
  };
};

/**
 * The certificates grouped per issuance, newest e-ID first: the pair the order's issuance put on
 * the card, and each pair a förlängning issued (`madeBy` names it by serial) as its own e-ID beside
 * the pair it superseded.
 */
const eidsOf = (
  certificates: readonly StoredCertificate[],
  madeBy: ReadonlyMap<string, string>,
  now: Instant,
): EidView[] => {
  const groups = new Map<string, StoredCertificate[]>();
  for (const certificate of certificates) {
    const extension = madeBy.get(certificate.serial);
    const key = `${certificate.cardNumber}/${certificate.orderId}/${extension ?? 'issuance'}`;
    groups.set(key, [...(groups.get(key) ?? []), certificate]);
  }
  return [...groups.values()]
    .map((group) => {
      const views = group.map((c) => certificateView(c, now));
      const good = views.filter((v) => v.status === 'good');
      const first = group[0] as StoredCertificate;
      return {
        cardNumber: first.cardNumber as CardNumber,
        orderId: first.orderId as string,
        status:
          good.length > 0
            ? ('good' as const)
            : views.every((v) => v.status === 'revoked')
              ? ('revoked' as const)
              : ('expired' as const),
        daysLeft: good.length === 0 ? 0 : eidDaysLeft(Math.max(...good.map((v) => v.notAfter)), now),
        certificates: views,
        createdAt: Math.max(...group.map((c) => c.createdAt)),
      };
    })
    .sort((a, b) => b.createdAt - a.createdAt)
    .map(({ createdAt: _, ...eid }) => eid);
};

/** Who asks, with what the server proved of them. */
export type RevocationActor = SparrActor;

/** What a revocation did: the serials revoked, when, and the reason the CA recorded. */
export interface RevocationDone {
  readonly serials: readonly string[];
  readonly revokedAt: Instant;
  readonly reason: string;
}

/**
 * Spärr of a reserve card's e-ID, for every actor: the holder on their own pages, an administrator
 * from the person's page, the service desk. Every decision is the domain's (`decideSparr`); the
 * certificates are revoked together with one audit entry for the act, all or none, and OCSP
 * answers revoked at once.
 */
export class RevocationService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly ca: CertificateAuthority,
    private readonly directory: DirectoryCache,
    private readonly now: () => Instant,
  ) {}

  /** A person's reserve-card e-IDs (one card's, if named), with their status at the CA now. */
  async eids(hsaId: HsaId, cardNumber?: CardNumber): Promise<EidView[]> {
    const certificates = await listReserveCardCertificates(this.db, {
      hsaId,
      ...(cardNumber === undefined ? {} : { cardNumber }),
    });
    // The förlängningar of these cards, by the serials each issued.
    const madeBy = new Map<string, string>();
    for (const card of new Set(certificates.map((c) => c.cardNumber))) {
      if (card === null) continue;
      for (const extension of await listExtensionsOfCard(this.db, card))
        for (const serial of [extension.newAuthSerial, extension.newSignSerial])
          if (serial !== null) madeBy.set(serial, extension.id);
    }
    return eidsOf(certificates, madeBy, this.now());
  }

  /**
   * Whether the actor may see the person's e-IDs: the rules of spärr without the reason and the
   * revocation state. A person the directory does not know is PERSON_NOT_FOUND.
   */
  async mayHandle(actor: RevocationActor, hsaId: HsaId): Promise<void> {
    const person = await getPersonByHsaId(this.db, hsaId);
    if (person === null) throw new ApiError('PERSON_NOT_FOUND');
    const decided = decideSparr(
      await this.directory.organisation(this.now()),
      actor,
      {
        holder: hsaId,
        branchId: person.branchId,
        protectedIdentity: person.protectedIdentity,
        revoked: false,
        serials: [],
      },
      'card-lost',
    );
    if (!decided.ok && decided.error.code !== 'REVOCATION_REASON_NOT_OFFERED')
      throw new ApiError(decided.error.code, decided.error.details ?? {});
  }

  /** Revokes the e-ID on a person's card for a reason, if the domain's rules let the actor. */
  async revoke(
    actor: RevocationActor,
    target: { readonly hsaId: HsaId; readonly cardNumber: CardNumber },
    reason: string,
  ): Promise<RevocationDone> {
    const person = await getPersonByHsaId(this.db, target.hsaId);
    if (person === null) throw new ApiError('PERSON_NOT_FOUND');
    const certificates = await listReserveCardCertificates(this.db, target);
    const live = certificates.filter((c) => c.revocation === null);
    const eid: RevocableEid = {
      holder: target.hsaId,
      branchId: person.branchId,
      protectedIdentity: person.protectedIdentity,
      // Nothing left to revoke: every certificate of the card is revoked already.
      revoked: certificates.length > 0 && live.length === 0,
      serials: (live.length > 0 ? live : certificates).map((c) => c.serial),
    };
    const decided = decideSparr(await this.directory.organisation(this.now()), actor, eid, reason);
    if (!decided.ok) throw new ApiError(decided.error.code, decided.error.details ?? {});
    // Said only to an actor the rules let handle the person: no e-ID on that card.
    if (certificates.length === 0) throw new ApiError('NOT_FOUND', { what: 'e-ID' });
    const by = actorName(actor);
    const done = await this.ca.revokeTogether(eid.serials, decided.value, by, {
      action: 'eid.revoked',
      subject: target.cardNumber,
      details: {
        holder: target.hsaId,
        by: actor.kind,
        reason: reason as SparrReason,
        serials: eid.serials.join(','),
      },
    });
    return { serials: eid.serials, revokedAt: done.revokedAt, reason: done.reason };
  }
}

const actorName = (actor: RevocationActor): string =>
  actor.kind === 'admin' ? actor.admin.hsaId : actor.hsaId;
