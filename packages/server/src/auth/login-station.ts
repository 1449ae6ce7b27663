// The login card as a registered card station sees it: at login, which of its readers holds the
// card and that reader's insertion counter; at a later signature, whether the same reader still
// holds it without having been taken out since (the counter would have moved).
import type { CardNumber, Instant, ReaderFact, SignedStatement } from '@reservkort/domain';
import type { CertificateAuthority } from '@reservkort/pki';
import type { Database, SessionStation } from '@reservkort/store';
import type { Kysely, Transaction } from 'kysely';
import { ApiError } from '../http/api-error.js';
import { verifyStatement } from '../station/station-statement.service.js';

export interface StationReaders {
  readonly stationId: string;
  readonly readers: { readonly 1: ReaderFact; readonly 2: ReaderFact };
}

/**
 * A `readers` statement made for one challenge (its id as the statement's flowId, the station nonce
 * handed out with it), verified by verifyStatement in `db`: pass the transaction that uses it.
 */
export const verifyChallengeReaders = async (
  db: Kysely<Database> | Transaction<Database>,
  ca: CertificateAuthority,
  signed: SignedStatement,
  expected: {
    readonly challengeId: string;
    readonly nonce: string;
    readonly now: Instant;
    readonly stationId?: string;
  },
): Promise<StationReaders> => {
  const verified = await verifyStatement(db, ca, signed, {
    flowId: expected.challengeId,
    nonce: expected.nonce,
    kinds: ['readers'],
    now: expected.now,
    ...(expected.stationId === undefined ? {} : { stationId: expected.stationId }),
  });
  const body = verified.payload.body;
  // The kind was checked to be 'readers': its body was checked to be the readers' shape.
  if (!('readers' in body)) throw new ApiError('STATEMENT_INVALID', { reason: 'kind' });
  return { stationId: verified.station.id, readers: body.readers };
};

/** The reader of the station that holds the login card, with its insertion counter; null: none does. */
export const loginCardAt = (seen: StationReaders, cardNumber: CardNumber): SessionStation | null => {
  for (const reader of [1, 2] as const) {
    const fact = seen.readers[reader];
    if (fact.connected && fact.card !== null && fact.card.cardNumber === cardNumber)
      return { stationId: seen.stationId, reader, insertions: fact.card.insertions };
  }
  return null;
};

/** Whether the station shows the login card in its login reader, never taken out since login. */
export const loginCardStillIn = (
  seen: StationReaders,
  login: SessionStation,
  cardNumber: CardNumber,
): boolean => {
  const fact = seen.readers[login.reader];
  return (
    seen.stationId === login.stationId &&
    fact.connected &&
    fact.card !== null &&
    fact.card.cardNumber === cardNumber &&
    fact.card.insertions === login.insertions
  );
};
