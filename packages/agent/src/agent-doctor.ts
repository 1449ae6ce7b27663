import type { AgentCode, ErrorCode } from '@reservkort/domain';
import type { BackendDescription, CardBackend } from './backend/card-backend.js';
import type { AgentInfo } from './card-agent.js';

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
  /** Codes for what would break an issuance: READERS_MISSING with fewer than two readers. */
  readonly problems: readonly (ErrorCode | AgentCode)[];
}

/** The guide's pre-flight check: which readers, which cards, which module and versions. */
export const runDoctor = async (backend: CardBackend, agent: AgentInfo): Promise<DoctorReport> => {
  const readers = await backend.readers();
  const problems: ErrorCode[] = readers.length < 2 ? ['READERS_MISSING'] : [];
  return {
    ok: problems.length === 0,
    agent,
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
  return `${lines.join('\n')}\n`;
};
