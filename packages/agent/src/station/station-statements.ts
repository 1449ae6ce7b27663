// The statements the station signs: only its own facts (an event of its own log, its readers now,
// the certificates read from a card, its own version, a card's proof of itself, the keys it
// generated on a card), each with the server's nonce and the next number of its persisted sequence. Training mode can make it sign with a key no server knows, or
// spoil the next signature, so the portal's refusals can be shown.
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import {
  type CardKeyFact,
  type CardNumber,
  canonicalStatementBytes,
  cardKeysBytes,
  cardProofBytes,
  MAX_STATEMENT_EVENTS,
  parseStatementPayload,
  type ReaderFact,
  type ReaderSlot,
  type SignedStatement,
  type StatementBody,
  type StatementEvent,
  type StatementPayload,
} from '@reservkort/domain';
import { AgentError } from '../agent-error.js';
import type { CardBackend, GeneratedKey, ReaderId, ReaderInfo } from '../backend/card-backend.js';
import type { ReaderSlots } from './reader-slots.js';
import type { StatementSigner, StationIdentity } from './station-identity.js';

/** The kinds this agent signs on request: all of them (card-proof and keys-generated with the card's own key too). */
export const REQUESTABLE_KINDS = [
  'event',
  'events',
  'readers',
  'agent-info',
  'card-certificates',
  'card-proof',
  'keys-generated',
] as const;
export type RequestableKind = (typeof REQUESTABLE_KINDS)[number];

export interface StatementRequest {
  readonly flowId: string;
  readonly nonce: string;
  readonly kind: RequestableKind;
  /** For 'event': the seq of the event in the agent's own log (as its SSE id). */
  readonly eventSeq?: number;
  /** For 'events': the seqs of several events in the agent's own log, in the order it logged them. */
  readonly eventSeqs?: readonly number[];
  /** For 'card-certificates' and 'card-proof': the reader the card is in; for 'keys-generated': 2. */
  readonly reader?: ReaderSlot;
}

/** The two keys this agent generated on a card in its current enrolment, as read back from the card. */
export interface EnrolledKeys {
  readonly readerId: ReaderId;
  readonly auth: GeneratedKey;
  readonly sign: GeneratedKey;
}

/** An event of the agent's log as a statement states it, with the flow it belongs to (null: any). */
export interface LoggedFact {
  readonly event: StatementEvent;
  readonly flowId: string | null;
}

export interface StationSimulation {
  /** Sign with a throwaway key and id the server never registered. */
  readonly unregisteredStation: boolean;
  /** Spoil the signature of the next statement (once). */
  readonly forgedStatement: boolean;
}

export interface StationStatementsOptions {
  readonly station: StationIdentity | null;
  readonly backend: CardBackend;
  readonly slots: ReaderSlots;
  readonly info: { readonly version: string; readonly packaging: string };
  readonly factOf: (seq: number) => LoggedFact | undefined;
  /** The keys of the agent's current enrolment of that card, if any. */
  readonly enrolmentOf: (cardNumber: CardNumber) => EnrolledKeys | undefined;
  readonly now: () => number;
}

const base64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');
const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const keyFact = (key: GeneratedKey): CardKeyFact => ({
  spki: base64(key.spki),
  local: key.attributes.local,
  sensitive: key.attributes.sensitive,
  neverExtractable: key.attributes.neverExtractable,
});
const invalid = (reason: string): AgentError => new AgentError('REQUEST_INVALID', reason, { reason });
const unreadable = (): AgentError =>
  new AgentError('CARD_ERROR', 'the card number could not be read', { reason: 'no card number' });

export class StationStatements {
  private simulation: StationSimulation = { unregisteredStation: false, forgedStatement: false };
  private throwaway: StatementSigner | null = null;

  constructor(private readonly options: StationStatementsOptions) {}

  simulate(change: Partial<StationSimulation>): StationSimulation {
    this.simulation = { ...this.simulation, ...change };
    return this.simulation;
  }

  get simulated(): StationSimulation {
    return this.simulation;
  }

  private signer(): StatementSigner {
    if (this.simulation.unregisteredStation) {
      if (this.throwaway === null) {
        const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        this.throwaway = {
          stationId: `st-${randomBytes(12).toString('base64url')}`,
          sign: (bytes) =>
            new Uint8Array(sign('sha256', bytes, { key: privateKey, dsaEncoding: 'ieee-p1363' })),
        };
      }
      return this.throwaway;
    }
    const station = this.options.station;
    if (station === null) {
      throw new AgentError('STATION_NOT_REGISTERED', 'this card agent keeps no station identity', {
        reason: 'no station folder',
      });
    }
    return station.signer();
  }

  /** Readers 1 and 2 now: connected or not, the card in each and its insertion counter. */
  async readers(): Promise<{ 1: ReaderFact; 2: ReaderFact }> {
    const facts: { 1: ReaderFact; 2: ReaderFact } = {
      1: { connected: false, card: null },
      2: { connected: false, card: null },
    };
    for (const reader of await this.options.backend.readers()) {
      const slot = this.options.slots.slotOf(reader.id);
      if (slot === null) continue;
      facts[slot] = {
        connected: true,
        card:
          reader.card === null
            ? null
            : {
                cardNumber: reader.card.cardNumber,
                insertions: this.options.station?.insertionsOf(slot) ?? 0,
              },
      };
    }
    return facts;
  }

  private async readerIn(slot: ReaderSlot): Promise<ReaderInfo> {
    const reader = (await this.options.backend.readers()).find(
      (r) => this.options.slots.slotOf(r.id) === slot,
    );
    if (reader === undefined) throw new AgentError('READER_NOT_FOUND', `no reader ${slot}`, { reader: slot });
    if (reader.card === null)
      throw new AgentError('CARD_MISSING', `no card in reader ${slot}`, { reader: slot });
    return reader;
  }

  /** An event of this agent's log, for this flow: only what it saw itself. */
  private loggedEvent(seq: number, flowId: string): StatementEvent {
    const fact = this.options.factOf(seq);
    if (fact === undefined) throw invalid('unknown event');
    if (fact.flowId !== null && fact.flowId !== flowId) throw invalid('event of another flow');
    return fact.event;
  }

  private async body(request: StatementRequest): Promise<StatementBody> {
    switch (request.kind) {
      case 'event': {
        if (request.eventSeq === undefined) throw invalid('eventSeq missing');
        return { event: this.loggedEvent(request.eventSeq, request.flowId) };
      }
      case 'events': {
        const seqs = request.eventSeqs;
        if (seqs === undefined || seqs.length < 2 || seqs.length > MAX_STATEMENT_EVENTS)
          throw invalid(`eventSeqs: 2 to ${MAX_STATEMENT_EVENTS} events`);
        // In the order they were logged, each once: the server applies them in the order stated.
        if (seqs.some((seq, i) => i > 0 && seq <= (seqs[i - 1] as number)))
          throw invalid('eventSeqs not in the order logged');
        return { events: seqs.map((seq) => this.loggedEvent(seq, request.flowId)) };
      }
      case 'readers': {
        // The agent names itself with the readers, so a flow knows from its start which agent ran it.
        const { version, packaging } = this.options.info;
        const named =
          version.length >= 1 && version.length <= 100 && packaging.length >= 1 && packaging.length <= 100;
        return { readers: await this.readers(), ...(named && { agent: { version, packaging } }) };
      }
      case 'agent-info':
        return { version: this.options.info.version, packaging: this.options.info.packaging };
      case 'card-certificates': {
        if (request.reader === undefined) throw invalid('reader missing');
        const reader = await this.readerIn(request.reader);
        const info = await this.options.backend.cardInfo(reader.id);
        if (info.cardNumber === null) throw unreadable();
        return {
          reader: request.reader,
          cardNumber: info.cardNumber,
          certificates: info.certificates.map((c) => base64(c.der)),
        };
      }
      case 'card-proof': {
        if (request.reader === undefined) throw invalid('reader missing');
        const reader = await this.readerIn(request.reader);
        const cardNumber = reader.card?.cardNumber ?? null;
        if (cardNumber === null) throw unreadable();
        // The card signs the flow and the server's nonce itself: the station only carries its answer.
        const proof = await this.options.backend.proveCard(
          reader.id,
          cardNumber,
          cardProofBytes({ flowId: request.flowId, nonce: request.nonce, cardNumber }),
        );
        return {
          reader: request.reader,
          cardNumber,
          bureauCertificate: base64(proof.certificate),
          cardSignature: base64(proof.signature),
        };
      }
      case 'keys-generated': {
        // Keys are generated on the recipient's card, which is always in reader 2.
        if (request.reader !== undefined && request.reader !== 2) throw invalid('keys only in reader 2');
        const reader = await this.readerIn(2);
        const cardNumber = reader.card?.cardNumber ?? null;
        if (cardNumber === null) throw unreadable();
        const enrolled = this.options.enrolmentOf(cardNumber);
        if (enrolled === undefined || enrolled.readerId !== reader.id) {
          throw new AgentError('KEY_MISSING', 'no keys were generated on this card in this session', {
            key: 'enrolment',
          });
        }
        const keys = { auth: keyFact(enrolled.auth), sign: keyFact(enrolled.sign) };
        // The card's bureau key vouches that these two public keys are its own, for this flow step.
        const proof = await this.options.backend.proveCard(
          reader.id,
          cardNumber,
          cardKeysBytes({
            flowId: request.flowId,
            nonce: request.nonce,
            cardNumber,
            authSpki: keys.auth.spki,
            signSpki: keys.sign.spki,
          }),
        );
        return {
          reader: 2,
          cardNumber,
          bureauCertificate: base64(proof.certificate),
          keys,
          cardSignature: base64(proof.signature),
        };
      }
    }
  }

  /** Signs one of the agent's own facts for the server: the number is on disk before the statement leaves. */
  async statement(request: StatementRequest): Promise<SignedStatement> {
    const signer = this.signer();
    const station = this.options.station;
    if (station === null) throw new AgentError('STATION_NOT_REGISTERED', 'no station identity', {});
    const body = await this.body(request);
    const payload: StatementPayload = {
      v: 1,
      station: signer.stationId,
      flowId: request.flowId,
      nonce: request.nonce,
      seq: station.nextSeq(),
      at: this.options.now(),
      kind: request.kind,
      body,
    };
    // The same strict check the server applies: the agent never signs what the server must refuse.
    const checked = parseStatementPayload(payload);
    if (!checked.ok) throw new AgentError('REQUEST_INVALID', 'statement shape', checked.error.details ?? {});
    const bytes = canonicalStatementBytes(checked.value);
    const signature = signer.sign(bytes);
    if (this.simulation.forgedStatement) {
      this.simulation = { ...this.simulation, forgedStatement: false };
      signature[signature.length - 1] = (signature[signature.length - 1] ?? 0) ^ 0x01;
    }
    return { payload: base64url(bytes), signature: base64url(signature) };
  }
}
