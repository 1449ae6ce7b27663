import type { AgentCode, ErrorCode } from '@reservkort/domain';
import { isAgentError } from './agent-error.js';
import type { BackendDescription, CardBackend } from './backend/card-backend.js';
import type { AgentInfo } from './card-agent.js';
import type { StationIdentity } from './station/station-identity.js';
import type { StationKeyStoreKind } from './station/station-key-store.js';

/** The station identity as the doctor found it: where its key lives, or why it cannot be used. */
export interface StationCheck {
  /** null when the key store could not be opened (see `problem`). */
  readonly keyStore: StationKeyStoreKind | null;
  readonly registered: boolean;
  readonly stationId: string | null;
  /** The reason of STATION_KEY_UNAVAILABLE (token missing, PIN incorrect, key on a token, …). */
  readonly problem: string | null;
}

export interface DoctorReport {
  readonly ok: boolean;
  readonly agent: AgentInfo;
  readonly module: BackendDescription;
  readonly readers: readonly {
    readonly id: string;
    readonly name: string;
    readonly cardNumber: string | null;
    readonly card: boolean;
  }[];
  /** null when the doctor was not asked to look at the station. */
  readonly station: StationCheck | null;
  /**
   * Codes for what would break an issuance: READERS_MISSING with fewer than two readers,
   * STATION_KEY_UNAVAILABLE when the station key cannot be used.
   */
  readonly problems: readonly (ErrorCode | AgentCode)[];
}

/** Opens the station identity as the agent would (the token logged into), looks, and lets go. */
export const checkStation = (open: () => StationIdentity): StationCheck => {
  let station: StationIdentity;
  try {
    station = open();
  } catch (error) {
    if (!isAgentError(error) || error.code !== 'STATION_KEY_UNAVAILABLE') throw error;
    const reason = error.details.reason;
    return {
      keyStore: null,
      registered: false,
      stationId: null,
      problem: typeof reason === 'string' ? reason : error.message,
    };
  }
  try {
    const view = station.describe();
    return { keyStore: view.keyStore, registered: view.registered, stationId: view.stationId, problem: null };
  } finally {
    station.close();
  }
};

/** The guide's pre-flight check: which readers, which cards, which module and versions, the station key. */
export const runDoctor = async (
  backend: CardBackend,
  agent: AgentInfo,
  station: StationCheck | null = null,
): Promise<DoctorReport> => {
  const readers = await backend.readers();
  const problems: (ErrorCode | AgentCode)[] = readers.length < 2 ? ['READERS_MISSING'] : [];
  if (station?.problem != null) problems.push('STATION_KEY_UNAVAILABLE');
  return {
    ok: problems.length === 0,
    agent,
    station,
    module: backend.describe(),
    readers: readers.map((r) => ({
      id: r.id,
      name: r.name,
      card: r.card !== null,
      cardNumber: r.card?.cardNumber ?? null,
    })),
    problems,
  };
};

export const formatDoctor = (report: DoctorReport): string => {
  const lines = [
    `Reservkort kortagent ${report.agent.version} (${report.agent.packaging})`,
    `Modul: ${report.module.library} – ${report.module.manufacturer} ${report.module.version}`,
    `Kortläsare (${report.readers.length}):`,
    ...report.readers.map(
      (r) =>
        `  ${r.id}  ${r.name}  ${r.card ? `kort ${r.cardNumber ?? '(okänt kortnummer)'}` : 'inget kort'}`,
    ),
  ];
  if (report.problems.includes('READERS_MISSING')) {
    lines.push(
      'READERS_MISSING: två kortläsare krävs under hela utgivningen; anslut båda innan administratör 2 loggar in.',
      'READERS_MISSING: two card readers are needed throughout the issuance; connect both before administrator 2 logs in.',
    );
  } else {
    lines.push('OK: två kortläsare anslutna / two card readers connected.');
  }
  const station = report.station;
  if (station !== null) {
    if (station.problem !== null) {
      lines.push(
        `STATION_KEY_UNAVAILABLE: kortstationens nyckel kan inte användas / the station key cannot be used (${station.problem}).`,
      );
    } else {
      const where = station.keyStore === 'pkcs11' ? 'PKCS#11-token / PKCS#11 token' : 'nyckelfil / key file';
      const registered =
        station.stationId === null
          ? 'inte registrerad / not registered'
          : `registrerad / registered: ${station.stationId}`;
      lines.push(`Kortstation / card station: nyckel i / key in ${where}; ${registered}`);
    }
  }
  return `${lines.join('\n')}\n`;
};
