// Training mode's card station: the in-process agent is a registered station from the first start,
// so flows run with signed statements and no extra steps. Its key and certificate live in the
// station folder under the data folder's agent/, as a real agent's do.
import type { StationIdentity } from '@reservkort/agent';
import { DAY, type Instant } from '@reservkort/domain';
import type { CertificateAuthority } from '@reservkort/pki';
import { type Database, getStation } from '@reservkort/store';
import type { Kysely } from 'kysely';
import { registerStation, stationStatus } from '../station/station.service.js';
import { BRANCH, TRAINING_ACTOR } from './training-plan.js';

/** The station stands at Centrallasarettet: its KRA and the region's RA see it in the admin portal. */
export const TRAINING_STATION = { name: 'Övningsstation', branchId: BRANCH.hospital } as const;

/** A certificate with less than this left is renewed: a training server may run for days. */
export const TRAINING_STATION_RENEW_BEFORE_MS = 7 * DAY;

export interface TrainingStationDependencies {
  readonly db: Kysely<Database>;
  readonly ca: CertificateAuthority;
  readonly station: StationIdentity;
  readonly now: () => Instant;
}

export type TrainingStationOutcome = 'kept' | 'registered' | 'renewed';

/**
 * Registers the training agent as a station when it is not an active one (first start, or revoked
 * in the portal by a trainee), and renews its certificate when it is near expiry. The same key is
 * kept: renewal keeps the station id; after a revocation the key becomes a new station.
 */
export const ensureTrainingStation = async (
  deps: TrainingStationDependencies,
): Promise<{ stationId: string; outcome: TrainingStationOutcome }> => {
  const described = deps.station.describe();
  const now = deps.now();
  if (described.stationId !== null) {
    const stored = await getStation(deps.db, described.stationId);
    if (
      stored !== null &&
      stationStatus(stored, now) === 'active' &&
      stored.certificateNotAfter - now > TRAINING_STATION_RENEW_BEFORE_MS
    ) {
      return { stationId: stored.id, outcome: 'kept' };
    }
  }
  const { csr } = await deps.station.csr(TRAINING_STATION.name);
  const registered = await registerStation(
    { db: deps.db, ca: deps.ca, now: deps.now },
    {
      csr: Buffer.from(csr, 'base64'),
      name: TRAINING_STATION.name,
      branchId: TRAINING_STATION.branchId,
      actor: TRAINING_ACTOR,
    },
  );
  deps.station.installCertificate(registered.certificate);
  return { stationId: registered.stationId, outcome: registered.renewed ? 'renewed' : 'registered' };
};
