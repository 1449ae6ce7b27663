// What the web page does between the card agent and the server, for tests against one server: the
// harness's server over real HTTP, and its card agent. The page logic itself is DurablePage's.
import { DurablePage, httpEndpoint } from './durable-page.js';
import type { Harness } from './issuance-harness.js';

export type { ApiAnswer } from './durable-page.js';

export class Page extends DurablePage {
  constructor(h: Pick<Harness, 'cards' | 'agent' | 'agentToken' | 'baseUrl' | 't'>) {
    super({ cards: h.cards, agent: h.agent, agentToken: h.agentToken, ca: h.t.ca, close: async () => {} }, [
      httpEndpoint('server', h.baseUrl),
    ]);
  }
}
