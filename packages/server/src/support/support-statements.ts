// What a support case may say about the card agent and the card: only what a registered card
// station signed for this flow, with the flow's current station nonce. A page's word about the
// agent's version or a card's certificates no longer reaches a case.
import type { AgentInfo, CertificateOnCard, Instant, SignedStatement } from '@reservkort/domain';
import { type CertificateAuthority, summariseCertificate } from '@reservkort/pki';
import { type Database, getFlowStationNonce, rotateFlowStationNonce, stationOfFlow } from '@reservkort/store';
import type { Kysely, Transaction } from 'kysely';
import { ApiError } from '../http/api-error.js';
import { newStationNonce, verifyStatement } from '../station/station-statement.service.js';

/** At most this many statements with one case: the agent's own and a few cards' certificates. */
export const MAX_CASE_STATEMENTS = 6;

/** What the station vouched for; all empty when no statement came. */
export interface StationFacts {
  readonly stationId: string | null;
  readonly agent: AgentInfo | null;
  readonly certificatesOnCard: readonly CertificateOnCard[];
}

const NO_FACTS: StationFacts = { stationId: null, agent: null, certificatesOnCard: [] };

const summary = (der: string): CertificateOnCard => {
  try {
    const read = summariseCertificate(Buffer.from(der, 'base64'));
    return {
      subject: read.subject,
      issuer: read.issuer,
      serial: read.serial,
      notBefore: read.notBefore,
      notAfter: read.notAfter,
      keyUsage: read.keyUsage,
      policies: read.policies,
    };
  } catch {
    // The station signed bytes that are no certificate: the case keeps nothing of them.
    throw new ApiError('STATEMENT_INVALID', { reason: 'certificate on card' });
  }
};

/**
 * Verifies `agent-info` and `card-certificates` statements for a flow in `trx`: each carries the
 * flow's current nonce, all come from one station (the flow's, if it is bound to one) in increasing
 * sequence, and the nonce is replaced once after them, so none of them is accepted twice.
 */
export const verifyCaseStatements = async (
  trx: Transaction<Database>,
  ca: CertificateAuthority,
  flowId: string,
  statements: readonly SignedStatement[],
  now: Instant,
): Promise<StationFacts> => {
  if (statements.length === 0) return NO_FACTS;
  if (statements.length > MAX_CASE_STATEMENTS)
    throw new ApiError('STATEMENT_INVALID', { reason: 'too many statements' });
  const nonce = await getFlowStationNonce(trx, flowId);
  if (nonce === null) throw new ApiError('STATEMENT_INVALID', { reason: 'nonce' });
  let stationId = await stationOfFlow(trx, flowId);
  let agent: AgentInfo | null = null;
  const certificatesOnCard: CertificateOnCard[] = [];
  for (const signed of statements) {
    const verified = await verifyStatement(trx, ca, signed, {
      flowId,
      nonce,
      kinds: ['agent-info', 'card-certificates'],
      now,
      stationId,
    });
    // The first statement names the station for the rest.
    stationId = verified.station.id;
    const body = verified.payload.body;
    if ('version' in body) {
      if (agent !== null) throw new ApiError('STATEMENT_INVALID', { reason: 'agent-info twice' });
      agent = { version: body.version, packaging: body.packaging };
    } else if ('certificates' in body) {
      certificatesOnCard.push(...body.certificates.map(summary));
    }
  }
  await rotateFlowStationNonce(trx, flowId, newStationNonce());
  return { stationId, agent, certificatesOnCard };
};

/** Thrown to end a transaction that only checked: the checks' writes (seq, nonce) roll back. */
class CheckedOnly extends Error {
  constructor(readonly facts: StationFacts) {
    super('checked only');
  }
}

/**
 * The same verification without keeping its effects: a preview shows what the case would hold,
 * and the very same statements can then be sent with the case.
 */
export const checkCaseStatements = async (
  db: Kysely<Database>,
  ca: CertificateAuthority,
  flowId: string,
  statements: readonly SignedStatement[],
  now: Instant,
): Promise<StationFacts> => {
  if (statements.length === 0) return NO_FACTS;
  try {
    await db.transaction().execute(async (trx) => {
      throw new CheckedOnly(await verifyCaseStatements(trx, ca, flowId, statements, now));
    });
  } catch (error) {
    if (error instanceof CheckedOnly) return error.facts;
    throw error;
  }
  throw new Error('unreachable: the check always ends its transaction');
};
