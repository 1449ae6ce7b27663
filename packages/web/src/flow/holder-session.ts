// The reserve card holder's own session: the server's challenge signed by the reserve card in
// reader 1 (PIN 1 in the agent's own dialog), as the administrators' login does.
import { AgentFailure } from '../api/agent-client.js';
import { answer, client, setCsrfToken } from '../api/server-client.js';
import type { HolderMe } from '../api/views.js';
import { agentFailureOf } from './portal-session.js';
import type { Workstation } from './workstation.js';

/** The holder logged in, if anyone: no one is an answer, not an error. */
export const currentHolder = async (): Promise<HolderMe | null> => {
  const { holder } = await answer<{ holder: HolderMe | null }>(client.GET('/api/holder/session'));
  if (holder !== null) setCsrfToken(holder.csrfToken);
  return holder;
};

/** Logs the holder in with the reserve card in reader 1. */
export const loginHolderWithCard = async (ws: Workstation): Promise<HolderMe> => {
  const readerId = ws.readerIdOf(1);
  if (readerId === null) throw AgentFailure.of('READER_NOT_FOUND', { reader: '1' });
  await ws.agent.bind(readerId);
  const challenge = await answer<{ challengeId: string; challenge: string }>(
    client.POST('/api/auth/challenge'),
  );
  const done = await ws.run(ws.agent.authenticate(readerId, challenge.challenge));
  if (done.state !== 'done') throw agentFailureOf(done);
  const signed = done.result as { readonly signature: string; readonly certificate: string };
  const holder = await answer<HolderMe>(
    client.POST('/api/holder/login', {
      body: {
        challengeId: challenge.challengeId,
        certificate: signed.certificate,
        signature: signed.signature,
      },
    }),
  );
  setCsrfToken(holder.csrfToken);
  return holder;
};

export const logoutHolder = async (): Promise<void> => {
  await answer<{ ok: true }>(client.POST('/api/holder/logout')).catch(() => undefined);
  setCsrfToken('');
};
