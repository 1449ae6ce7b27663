import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './2026-11-29T00-initial.js';
import * as crls from './2026-11-29T01-crls.js';
import * as server from './2026-11-29T02-server.js';
import * as issuanceIntents from './2026-12-03T10-issuance-intents.js';
import * as cardNumberOrders from './2026-12-03T11-card-number-orders.js';
import * as auditSigners from './2026-12-03T14-audit-signers.js';
import * as stations from './2026-12-03T20-stations.js';
import * as flowStationFacts from './2026-12-04T00-flow-station-facts.js';
import * as stationSessions from './2026-12-04T01-station-sessions.js';
import * as auditHead from './2026-12-04T02-audit-head.js';
import * as personDirectoryNames from './2026-12-04T03-person-directory-names.js';
import * as holderSessions from './2026-12-04T10-holder-sessions.js';
import * as cardStock from './2026-12-04T11-card-stock.js';
import * as extensions from './2026-12-04T12-extensions.js';
import * as branchesGeneration from './2026-12-04T20-branches-generation.js';
import * as flowInsight from './2026-12-05T02-flow-insight.js';
import * as revocationsGeneration from './2026-12-05T12-revocations-generation.js';
import * as flowChangeCheck from './2026-12-06T00-flow-change-check.js';

/** Every migration, by name; listed here rather than read from disk so that bundling cannot lose one. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '2026-11-29T00-initial': initial,
  '2026-11-29T01-crls': crls,
  '2026-11-29T02-server': server,
  '2026-12-03T10-issuance-intents': issuanceIntents,
  '2026-12-03T11-card-number-orders': cardNumberOrders,
  '2026-12-03T14-audit-signers': auditSigners,
  '2026-12-03T20-stations': stations,
  '2026-12-04T00-flow-station-facts': flowStationFacts,
  '2026-12-04T01-station-sessions': stationSessions,
  '2026-12-04T02-audit-head': auditHead,
  '2026-12-04T03-person-directory-names': personDirectoryNames,
  '2026-12-04T10-holder-sessions': holderSessions,
  '2026-12-04T11-card-stock': cardStock,
  '2026-12-04T12-extensions': extensions,
  '2026-12-04T20-branches-generation': branchesGeneration,
  '2026-12-05T02-flow-insight': flowInsight,
  '2026-12-05T12-revocations-generation': revocationsGeneration,
  '2026-12-06T00-flow-change-check': flowChangeCheck,
};

export const staticMigrationProvider = (
  migrations: Readonly<Record<string, Migration>>,
): MigrationProvider => ({
  getMigrations: async () => ({ ...migrations }),
});
