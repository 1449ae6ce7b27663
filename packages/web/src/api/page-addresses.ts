// Where this page's card agent listens and the address the portal is configured for, as the
// server's configuration says: every error panel about the agent names them, wherever it is shown.

export interface PageAddresses {
  readonly agentUrl: string;
  /** The portal's configured origin (the one the card agent answers); null when the server names none. */
  readonly portalUrl: string | null;
}

let current: PageAddresses = { agentUrl: '', portalUrl: null };

/** Set once the page has its configuration, before anything is shown. */
export const setPageAddresses = (next: PageAddresses): void => {
  current = next;
};

export const pageAddresses = (): PageAddresses => current;
