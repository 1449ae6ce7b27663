import { DeadlineSweeper } from './issuance/deadline-sweeper.js';
import { DirectoryCache } from './issuance/directory.js';
import { IssuanceService } from './issuance/issuance.service.js';
import type { ServerContext } from './server-context.js';

export interface Services {
  readonly directory: DirectoryCache;
  readonly issuance: IssuanceService;
  readonly sweeper: DeadlineSweeper;
}

/** The services over one context: built once, shared by the routes and the background sweeper. */
export const createServices = (ctx: ServerContext): Services => {
  const now = () => ctx.clock.now();
  const directory = new DirectoryCache(ctx.store.db);
  const issuance = new IssuanceService(ctx.store.db, ctx.ca, directory, ctx.flow, now);
  return { directory, issuance, sweeper: new DeadlineSweeper(ctx.store.db, issuance, now) };
};
