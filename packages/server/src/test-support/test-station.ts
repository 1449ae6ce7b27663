// The test workstation's card agent as a registered card station: a station folder of its own,
// its CSR registered through the station service against the test's CA and database, the
// certificate installed in the agent; and the bureau key on every card of its virtual readers.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CardAgent, StationIdentity, type VirtualBackend } from '@reservkort/agent';
import type { CertificateAuthority } from '@reservkort/pki';
import type { Database } from '@reservkort/store';
import type { Kysely } from 'kysely';
import { registerStation } from '../station/station.service.js';
import { giveBureauKeys } from '../training/training-seed.js';

export interface StationDeps {
  readonly db: Kysely<Database>;
  readonly ca: CertificateAuthority;
}

/** A fresh station folder (0700) for an agent. */
export const openTestStation = async (): Promise<StationIdentity> =>
  StationIdentity.open(await mkdtemp(join(tmpdir(), 'reservkort-station-')));

/** Registers the agent's station key (branch `region` unless given); returns the station id. */
export const registerTestStation = async (
  agent: CardAgent,
  token: string,
  deps: StationDeps,
  branchId = 'region',
): Promise<string> => {
  const { csr } = await agent.stationCsr(token, 'Testdisken');
  const registered = await registerStation(
    { db: deps.db, ca: deps.ca, now: () => Date.now() },
    { csr, name: 'Testdisken', branchId, actor: 'ca-operator' },
  );
  agent.installStationCertificate(token, registered.certificate);
  return registered.stationId;
};

/** What the card bureau writes on every blank card: its bureau key and certificate (cards without one). */
export const giveTestBureauKeys = (cards: VirtualBackend, ca: CertificateAuthority): Promise<number> =>
  giveBureauKeys(cards, ca);
