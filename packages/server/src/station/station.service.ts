import 'reflect-metadata';
import { type BranchId, buildOrganisationTree, type Instant } from '@reservkort/domain';
import {
  type CertificateAuthority,
  checkCsr,
  type LoadedCa,
  PkiError,
  type RandomSource,
  secureRandom,
} from '@reservkort/pki';
import {
  activeStationWithKey,
  appendAudit,
  type Database,
  getStation,
  insertStation,
  listBranches,
  listUnheldStationCertificates,
  markStationRevoked,
  renewStation,
  type StoredStation,
  StoreError,
} from '@reservkort/store';
import type { Kysely } from 'kysely';
import { ApiError } from '../http/api-error.js';

/** A station certificate lives 30 days: a stolen station key is useful only that long. */
export const STATION_VALIDITY_MS = 30 * 86_400_000;

/**
 * The CA that certifies card stations: the card bureau CA, which certifies equipment (cards and
 * stations), never persons; made on first use in hierarchies older than it.
 */
export const stationIssuer = (ca: CertificateAuthority): Promise<LoadedCa> => ca.bureau();

export interface StationDeps {
  readonly db: Kysely<Database>;
  readonly ca: CertificateAuthority;
  readonly now: () => Instant;
  readonly random?: RandomSource;
}

export interface StationRegistration {
  /** PKCS#10, DER or PEM, signed by the station's own key. */
  readonly csr: Uint8Array | string;
  readonly name: string;
  readonly branchId: string;
  /** Who registers it: an administrator's HSA-id, or `ca-operator` at the command line. */
  readonly actor: string;
}

export interface RegisteredStation {
  readonly stationId: string;
  readonly serial: string;
  /** The station certificate, PEM. */
  readonly certificate: string;
  /** The issuing CA then the root, PEM: what a verifier needs besides the certificate. */
  readonly chain: string;
  /** True when the key was already an active station's: its certificate was renewed. */
  readonly renewed: boolean;
}

/** What the admin portal and `station list` show of a station. */
export interface StationView {
  readonly id: string;
  readonly name: string;
  readonly branchId: string;
  readonly certificateSerial: string;
  readonly status: 'active' | 'revoked' | 'expired';
  readonly certificateNotAfter: Instant;
  readonly registeredBy: string;
  readonly registeredAt: Instant;
  readonly lastSeq: number;
}

/** Revoked when the station or its certificate is; expired once the certificate is. */
export const stationStatus = (station: StoredStation, now: Instant): StationView['status'] =>
  station.status === 'revoked' || station.certificateRevokedAt !== null
    ? 'revoked'
    : now > station.certificateNotAfter
      ? 'expired'
      : 'active';

export const stationView = (station: StoredStation, now: Instant): StationView => ({
  id: station.id,
  name: station.name,
  branchId: station.branchId,
  certificateSerial: station.certificateSerial,
  status: stationStatus(station, now),
  certificateNotAfter: station.certificateNotAfter,
  registeredBy: station.registeredBy,
  registeredAt: station.registeredAt,
  lastSeq: station.lastSeq,
});

const pem = (der: ArrayBuffer): string => {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
};

/** The bureau CA's certificate then the root's: the station certificate's path. */
export const stationChain = async (ca: CertificateAuthority): Promise<string> =>
  pem((await stationIssuer(ca)).certificate.rawData) + pem(ca.ca('root').certificate.rawData);

/** A new station id: `st-` and 16 random base64url characters. */
export const newStationId = (random: RandomSource = secureRandom): string =>
  `st-${Buffer.from(random(12)).toString('base64url')}`;

/** A branch that exists, or BRANCH_UNKNOWN. */
export const requireBranch = async (db: Kysely<Database>, branchId: string): Promise<BranchId> => {
  const tree = buildOrganisationTree(await listBranches(db));
  if (!tree.ok) throw new ApiError(tree.error.code, tree.error.details ?? {});
  if (!tree.value.branches.has(branchId))
    throw new ApiError('BRANCH_UNKNOWN', { branch: branchId.slice(0, 64) });
  return branchId;
};

/**
 * Registers a card station: its CSR proves the key, the CA issues a station certificate for a new
 * station id in the branch. The same key registered again, while its station is active in that
 * branch, renews that station: a new certificate, the old one revoked as superseded, the same id.
 * The caller has checked that the actor may do this in the branch.
 */
export const registerStation = async (
  deps: StationDeps,
  request: StationRegistration,
): Promise<RegisteredStation> => {
  const branchId = await requireBranch(deps.db, request.branchId);
  const checked = await checkCsr(request.csr);
  // The agent's station key: ECDSA P-256, as the statements' signatures are.
  if (checked.keyDescription !== 'ECDSA P-256')
    throw new PkiError('KEY_NOT_ALLOWED', `key ${checked.keyDescription} is not allowed for a station`, {
      key: checked.keyDescription,
      allowed: 'ECDSA P-256',
    });
  const spki = Buffer.from(checked.spki).toString('base64');
  let existing = await activeStationWithKey(deps.db, spki);
  // A station whose certificate was revoked (`cert revoke`) is not revived by renewal: it is
  // recorded as revoked, and the key, if registered again, becomes a new station.
  if (existing !== null && existing.certificateRevokedAt !== null) {
    await retire(deps, existing, request.actor);
    existing = null;
  }
  if (existing !== null && existing.branchId !== branchId)
    throw new ApiError('REQUEST_INVALID', { reason: `the key is station ${existing.id} of another branch` });
  const stationId = existing?.id ?? newStationId(deps.random);
  const now = deps.now();
  const issued = await deps.ca.issueStation({
    csr: request.csr,
    stationId,
    branchId,
    validityMs: STATION_VALIDITY_MS,
    actor: request.actor,
    // The station's row commits with its certificate: neither exists without the other.
    alsoInTransaction: async (trx, certificate) => {
      if (existing === null) {
        await insertStation(trx, {
          id: stationId,
          name: request.name,
          branchId,
          certificateSerial: certificate.serial,
          spki,
          registeredBy: request.actor,
          registeredAt: now,
        }).catch((error: unknown) => {
          // The same key registered by a parallel request that committed first: its station stands,
          // and this certificate rolls back unrecorded (a refusal, not a server fault).
          if (error instanceof StoreError && error.code === 'CONFLICT')
            throw new ApiError('REQUEST_INVALID', { reason: 'the key was registered meanwhile' });
          throw error;
        });
      } else if (
        !(await renewStation(trx, {
          id: stationId,
          certificateSerial: certificate.serial,
          name: request.name,
          previousSerial: existing.certificateSerial,
        }))
      ) {
        // Revoked, or renewed by a parallel request: one renewal wins, the others record nothing.
        throw new ApiError('REQUEST_INVALID', { reason: 'the station was revoked or renewed meanwhile' });
      }
      await appendAudit(trx, {
        at: now,
        actor: request.actor,
        action: existing === null ? 'station.registered' : 'station.renewed',
        subject: stationId,
        details: { branch: branchId, name: request.name, serial: certificate.serial },
      });
    },
  });
  if (existing !== null)
    await revokeQuietly(deps.ca, existing.certificateSerial, 'superseded', request.actor);
  return {
    stationId,
    serial: issued.serial,
    certificate: issued.pem,
    chain: await stationChain(deps.ca),
    renewed: existing !== null,
  };
};

/** Revokes a certificate that may already be revoked (by `cert revoke`, or a retry). */
const revokeQuietly = async (
  ca: CertificateAuthority,
  serial: string,
  reason: string,
  actor: string,
): Promise<void> => {
  try {
    await ca.revoke(serial, reason, actor);
  } catch (error) {
    if (!(error instanceof PkiError && error.code === 'ALREADY_REVOKED')) throw error;
  }
};

/**
 * Revokes, as superseded, every station certificate that no station holds and none revoked: a
 * renewal commits the station's new certificate first and revokes the old one after, so a crash
 * between the two leaves the old one good. Run at start-up, before the first request; idempotent.
 * Returns the serials revoked now.
 */
export const revokeUnheldStationCertificates = async (
  deps: StationDeps,
  actor: string,
): Promise<string[]> => {
  const revoked: string[] = [];
  for (const serial of await listUnheldStationCertificates(deps.db)) {
    await revokeQuietly(deps.ca, serial, 'superseded', actor);
    revoked.push(serial);
  }
  return revoked;
};

/** Records a station as revoked, once, with its audit entry. */
const retire = async (deps: StationDeps, station: StoredStation, actor: string): Promise<void> => {
  const now = deps.now();
  await deps.db.transaction().execute(async (trx) => {
    if (await markStationRevoked(trx, station.id)) {
      await appendAudit(trx, {
        at: now,
        actor,
        action: 'station.revoked',
        subject: station.id,
        details: { branch: station.branchId, serial: station.certificateSerial },
      });
    }
  });
};

/** A station by id, or NOT_FOUND. */
export const requireStation = async (db: Kysely<Database>, id: string): Promise<StoredStation> => {
  const station = await getStation(db, id);
  if (station === null) throw new ApiError('NOT_FOUND', { what: 'station' });
  return station;
};

/**
 * Revokes a station: its certificate first (CRL and OCSP say so at once), then the station itself.
 * Revoking a revoked station changes nothing and says so.
 */
export const revokeStation = async (deps: StationDeps, id: string, actor: string): Promise<StoredStation> => {
  const station = await requireStation(deps.db, id);
  await revokeQuietly(deps.ca, station.certificateSerial, 'cessationOfOperation', actor);
  await retire(deps, station, actor);
  return requireStation(deps.db, id);
};
