// Who is logged in, and card login: the server's challenge signed on the card through the agent.
import { AgentFailure } from '../api/agent-client.js';
import { answer, client, setCsrfToken } from '../api/server-client.js';
import type { LoginAnswer, Me } from '../api/views.js';
import type { Workstation } from './workstation.js';

/** The signed login challenge as the agent returns it. */
interface Authenticated {
  readonly signature: string;
  readonly certificate: string;
}

/** An agent operation that ended in failure, as an error the page can show. */
export const agentFailureOf = (operation: {
  error: { code: string; details?: Readonly<Record<string, unknown>> } | null;
}): AgentFailure => AgentFailure.of(operation.error?.code ?? 'CARD_ERROR', operation.error?.details ?? {});

/** Who is logged in, if anyone: no one is an answer, not an error. */
export const currentUser = async (): Promise<Me | null> => {
  const { user } = await answer<{ user: Me | null }>(client.GET('/api/auth/session'));
  if (user !== null) setCsrfToken(user.csrfToken);
  return user;
};

/**
 * Logs in with the card in reader 1 (PIN 1 in the agent's dialog); with `reserveFlow`, the answer
 * carries the issuance portal's first flow id too, saving the page a request for it.
 */
export const loginWithCard = async (ws: Workstation, reserveFlow = false): Promise<LoginAnswer> => {
  const readerId = ws.readerIdOf(1);
  if (readerId === null) throw AgentFailure.of('READER_NOT_FOUND', { reader: '1' });
  await ws.agent.bind(readerId);
  const challenge = await answer<{ challengeId: string; challenge: string; stationNonce: string }>(
    client.POST('/api/auth/challenge'),
  );
  const done = await ws.run(ws.agent.authenticate(readerId, challenge.challenge));
  if (done.state !== 'done') throw agentFailureOf(done);
  const signed = done.result as Authenticated;
  // At a card station, the station itself states which reader holds the login card (and since
  // which insertion): the session's right to sign lasts as long as that card stays.
  const readers = (await ws.isStation())
    ? await ws.statement({
        flowId: challenge.challengeId,
        nonce: challenge.stationNonce,
        kind: 'readers',
      })
    : undefined;
  const me = await answer<LoginAnswer>(
    client.POST('/api/auth/login', {
      body: {
        challengeId: challenge.challengeId,
        certificate: signed.certificate,
        signature: signed.signature,
        ...(readers === undefined ? {} : { readers }),
        ...(reserveFlow ? { reserveFlow } : {}),
      },
    }),
  );
  setCsrfToken(me.csrfToken);
  return me;
};

export const logout = async (): Promise<void> => {
  await answer<{ ok: true }>(client.POST('/api/auth/logout')).catch(() => undefined);
  setCsrfToken('');
};

/** Tells the server when the login card leaves its reader: from then on the session may not sign. */
export const reportLoginCardRemoval = (ws: Workstation, me: () => Me | null): (() => void) =>
  ws.onAgentEvent((event) => {
    const current = me();
    if (event.type !== 'card-removed' || current === null) return;
    if (event.cardNumber !== current.cardNumber) return;
    void answer(client.POST('/api/auth/card-removed', { body: { cardNumber: event.cardNumber } })).catch(
      () => undefined,
    );
  });
