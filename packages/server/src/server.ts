import { readFile } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentInfo, buildAgentApp, CardAgent, StationIdentity, VirtualBackend } from '@reservkort/agent';
import { type AssuranceLevel, DEFAULT_FLOW_CONFIG, type FlowConfig } from '@reservkort/domain';
import { CertificateAuthority, DEFAULT_CA_SETTINGS, OcspResponder, RevocationWatcher } from '@reservkort/pki';
import { endSessionsOfRevokedCertificates } from '@reservkort/store';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { buildApp } from './app.js';
import { DEFAULT_CHECKPOINT_INTERVAL_MS } from './audit/audit-checkpoint.service.js';
import { ChallengePurger } from './auth/challenge-purger.js';
import { DEFAULT_SESSION_SETTINGS, type SessionSettings } from './auth/session.js';
import { finishReturns } from './card-stock/card-stock.service.js';
import {
  type CaSettingsFile,
  openCa,
  openDataStore,
  openKeyStore,
  readCaSettings,
  systemClock,
  writeCaSettings,
} from './cli/ca-context.js';
import { type DataFolder, dataFolder, prepareDataFolder, readSecret } from './config/data-folder.js';
import { SERVE_DEFAULTS } from './config/server-config.js';
import { bufferedStdout } from './http/log-destination.js';
import {
  listenOperations,
  OPERATIONS_TOKEN_ENV,
  OPERATIONS_TOKEN_FILE,
  type OperationsAccess,
  type OperationsAccessMode,
  type OperationsListener,
} from './http/operations-access.js';
import {
  closeRateLimitRedis,
  connectRateLimitRedis,
  DEFAULT_RATE_LIMIT,
  redisAddress,
} from './http/rate-limit.js';
import { RECONCILER_ACTOR } from './issuance/issuance.service.js';
import type { ServerContext } from './server-context.js';
import { createServices } from './services.js';
import { revokeUnheldStationCertificates } from './station/station.service.js';
import { TrainingClock } from './training/training-clock.js';
import { formatTrainingSummary, seedTrainingData } from './training/training-seed.js';
import { ensureTrainingStation } from './training/training-station.js';
import type { TrainingSummary } from './training/training-summary.js';

/** The built web UI, beside this package in the workspace. */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../web/dist/', import.meta.url));

export interface ServeOptions {
  readonly data?: string;
  readonly port: number;
  readonly host: string;
  /** Training mode: CA and demo data on first start, virtual readers and cards, an agent in-process. */
  readonly training: boolean;
  readonly agentPort: number;
  readonly logger?: boolean;
  /** Time to acknowledge a card (KVITTERA KORT), default 10 minutes. */
  readonly ackWindowMs?: number;
  /**
   * How long an issuance may stay claimed but unbound before the reconciler ends it and revokes what
   * it issued (default 30 s).
   */
  readonly reconcileGraceMs?: number;
  /** Other flow timings (stuck buttons, dialogs); tests shorten them. */
  readonly flow?: Partial<FlowConfig>;
  /** Training mode: how long a virtual card takes to make a key, sign or write, so a trainee can pull it out midway. */
  readonly cardOperationMs?: number;
  /** Training mode: how long the agent waits for a PIN dialog to be opened before it counts as never shown. */
  readonly dialogShowTimeoutMs?: number;
  /** The built web UI (default: the web package's dist folder); null serves none. */
  readonly webRoot?: string | null;
  /**
   * The origin browsers use (default http://localhost:PORT, https with TLS): the training agent's
   * allowed origin, the base URL of a CA created here, and https here means Secure cookies and HSTS.
   */
  readonly publicUrl?: string;
  /** Serve HTTPS directly with these PEM files; without them, plain HTTP (behind a TLS proxy). */
  readonly tls?: { readonly certificateFile: string; readonly keyFile: string };
  /** Proxies whose X-Forwarded-* headers are believed. */
  readonly trustProxy?: boolean | readonly string[];
  /** HSTS lifetime when the public URL is https (default one year; 0: none). */
  readonly hstsMaxAgeSeconds?: number;
  /** The database when neither DATABASE_URL nor secrets/database-url says (never with a password). */
  readonly databaseUrl?: string;
  /** For a CA created at start-up (training); compared with an existing CA's own settings. */
  readonly pki?: {
    readonly organisation?: string;
    readonly policyOids?: { readonly [L in AssuranceLevel]?: string };
  };
  readonly sessions?: Partial<Pick<SessionSettings, 'idleMs' | 'absoluteMs'>>;
  /** Where the page finds the card agent outside training (default the agent's loopback port). */
  readonly agentUrl?: string;
  /**
   * The login routes' limit per client address and minute, and a Redis whose counters all servers
   * share (RESERVKORT_REDIS_URL or secrets/redis-url, which may hold a password, win over it).
   */
  readonly rateLimit?: {
    readonly perMinute?: number;
    readonly redisUrl?: string;
    /** The counters' key prefix in Redis (tests keep theirs apart). */
    readonly redisNameSpace?: string;
  };
  /** The OCSP response cache's budget in bytes (default 16 MiB). */
  readonly ocspCacheBytes?: number;
  /** How long HTTP caches may keep OCSP answers and CRLs unchecked (default 0: revalidate each use). */
  readonly ocspMaxAgeSeconds?: number;
  /**
   * /metrics and /api/docs: who may read them (default open in training mode, a bearer token
   * otherwise), and a separate plain-HTTP listener that alone serves them when a port is given.
   */
  readonly operations?: {
    readonly access?: OperationsAccessMode;
    readonly host?: string;
    readonly port?: number;
  };
  /**
   * Signed audit checkpoints: the file each one is written to (default audit-checkpoint.pem in the
   * data folder) and how often (default every 15 minutes). One is also published at start-up.
   */
  readonly auditCheckpoints?: { readonly file?: string; readonly intervalMs?: number };
}

export interface RunningServer {
  readonly url: string;
  readonly publicUrl: string;
  readonly training: boolean;
  readonly agentUrl: string | null;
  /** Where /metrics and /api/docs are served when they have a listener of their own. */
  readonly operationsUrl: string | null;
  readonly app: FastifyInstance;
  readonly summary: string | null;
  /** Where the configuration and the data folder's CA disagree (the CA's own settings are used). */
  readonly warnings: readonly string[];
  close(): Promise<void>;
}

type CaWish = NonNullable<ServeOptions['pki']> & { readonly baseUrl: string };

/** The CA of the data folder; in training mode it is created on first start. */
const ensureCa = async (
  folder: DataFolder,
  store: Awaited<ReturnType<typeof openDataStore>>,
  training: boolean,
  wish: CaWish,
) => {
  if ((await readCaSettings(folder)) !== null || !training)
    return { ca: await openCa(folder, store), created: false };
  const file: CaSettingsFile = {
    keyStore: { kind: 'file' },
    keySpec: 'ecdsa-p256',
    settings: {
      ...DEFAULT_CA_SETTINGS,
      baseUrl: wish.baseUrl,
      organisation: wish.organisation ?? DEFAULT_CA_SETTINGS.organisation,
      policyOids: { ...DEFAULT_CA_SETTINGS.policyOids, ...wish.policyOids },
    },
  };
  const { keyStore } = await openKeyStore(folder, file.keyStore, true);
  const ca = await CertificateAuthority.initialise({
    db: store.db,
    keyStore,
    clock: systemClock,
    settings: file.settings,
  });
  await writeCaSettings(folder, file);
  return { ca, created: true };
};

/**
 * An existing CA keeps the settings it was created with: issued certificates carry its URLs and
 * policies. What the configuration says differently is reported, not applied.
 */
const caDisagreements = (ca: CertificateAuthority, wish: Partial<CaWish>): string[] => {
  const found: string[] = [];
  const trimmed = (url: string) => url.replace(/\/+$/, '');
  if (wish.baseUrl !== undefined && trimmed(wish.baseUrl) !== trimmed(ca.settings.baseUrl))
    found.push(
      `the CA was created with base URL ${ca.settings.baseUrl} (in its certificates' AIA and CRL distribution points), not the configured public URL ${wish.baseUrl}; keep the old URL reachable`,
    );
  if (wish.organisation !== undefined && wish.organisation !== ca.settings.organisation)
    found.push(
      `the CA was created for organisation "${ca.settings.organisation}", not the configured "${wish.organisation}"`,
    );
  for (const [level, oid] of Object.entries(wish.policyOids ?? {})) {
    const issuing = ca.all.find((c) => c.assuranceLevel === level);
    if (issuing !== undefined && oid !== undefined && issuing.policyOid !== oid)
      found.push(
        `the ${level} CA was created with policy OID ${issuing.policyOid}, not the configured ${oid}`,
      );
  }
  return found;
};

const freePort = (host: string): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });

/** How often training mode checks that its station certificate is far from expiry. */
const STATION_CHECK_INTERVAL_MS = 6 * 3_600_000;

/** Starts the server (and in training mode the card agent beside it); resolves once both listen. */
export const startServer = async (options: ServeOptions): Promise<RunningServer> => {
  const folder = dataFolder(options.data);
  // Before anything is read or written: a folder others may read is refused, a new one is private.
  await prepareDataFolder(folder);
  // The agent must know the portal's origin before the portal listens: settle the port first.
  const port = options.port === 0 ? await freePort(options.host) : options.port;
  const publicUrl = options.publicUrl ?? `${options.tls ? 'https' : 'http'}://localhost:${port}`;
  const secure = publicUrl.startsWith('https:');
  // Read before anything is opened, so a missing file stops the start cleanly.
  const https = options.tls
    ? { cert: await readFile(options.tls.certificateFile), key: await readFile(options.tls.keyFile) }
    : undefined;
  // A SQLite WAL is checkpointed off the event loop: never inside a request's commit.
  const store = await openDataStore(folder, options.databaseUrl, { backgroundCheckpoints: true });
  const { ca, created } = await ensureCa(folder, store, options.training, {
    ...options.pki,
    baseUrl: publicUrl,
  });
  // Only what was configured is compared: a default public URL (training, any port) is no wish.
  const warnings = created
    ? []
    : caDisagreements(ca, { ...options.pki, ...(options.publicUrl ? { baseUrl: options.publicUrl } : {}) });
  const responder = new OcspResponder(ca, store.db, systemClock, {
    ...(options.ocspCacheBytes === undefined ? {} : { cacheBytes: options.ocspCacheBytes }),
    ...(options.ocspMaxAgeSeconds === undefined ? {} : { maxAgeSeconds: options.ocspMaxAgeSeconds }),
  });
  // A revocation made elsewhere (the CLI, another server) drops cached OCSP answers and ends the
  // sessions of revoked login certificates. Requests check the revocation themselves, so a failed
  // update here only leaves the rows to the next revocation, never a usable session.
  const watcher = new RevocationWatcher(store.db, () => {
    responder.invalidate();
    endSessionsOfRevokedCertificates(store.db, systemClock.now()).catch(() => undefined);
  });
  await watcher.start();

  let agentApp: FastifyInstance | null = null;
  let cardAgent: CardAgent | null = null;
  let summary: string | null = null;
  let agentUrl: string | null = null;
  let trainingKit: { summary: TrainingSummary; clock: TrainingClock } | undefined;
  let stationRenewal: NodeJS.Timeout | null = null;
  if (options.training) {
    const cards = await VirtualBackend.open({
      stateFile: join(folder.root, 'agent', 'virtual-cards.json'),
      readers: 2,
    });
    // Seeds on first start; on later starts it reads the demo data back, so what to try is printed every time.
    const seeded = await seedTrainingData({ db: store.db, ca, cards, now: systemClock.now() });
    summary = formatTrainingSummary(seeded);
    cards.setOperationDelay(options.cardOperationMs ?? 1500);
    trainingKit = { summary: seeded, clock: new TrainingClock() };
    // The training agent is a registered card station from the first start, renewed near expiry.
    const station = StationIdentity.open(join(folder.root, 'agent', 'station'));
    const keepStation = () =>
      ensureTrainingStation({ db: store.db, ca, station, now: () => systemClock.now() });
    await keepStation();
    stationRenewal = setInterval(() => {
      keepStation().catch((error: unknown) =>
        process.emitWarning(
          `training station not renewed: ${error instanceof Error ? error.message : error}`,
        ),
      );
    }, STATION_CHECK_INTERVAL_MS);
    stationRenewal.unref();
    cardAgent = new CardAgent({
      backend: cards,
      info: agentInfo(),
      station,
      ...(options.dialogShowTimeoutMs ? { dialogShowTimeoutMs: options.dialogShowTimeoutMs } : {}),
    });
    agentApp = await buildAgentApp({
      agent: cardAgent,
      portalOrigin: new URL(publicUrl).origin,
      training: cards,
    });
    agentUrl = await agentApp.listen({ port: options.agentPort, host: '127.0.0.1' });
  }

  const ctx: ServerContext = {
    store,
    ca,
    responder,
    clock: trainingKit?.clock ?? systemClock,
    // Behind a TLS proxy the server speaks HTTP, yet browsers reach it over https: the public URL decides.
    sessions: { ...DEFAULT_SESSION_SETTINGS, ...options.sessions, secureCookies: secure },
    flow: {
      ...DEFAULT_FLOW_CONFIG,
      ...options.flow,
      ...(options.ackWindowMs ? { ackWindowMs: options.ackWindowMs } : {}),
    },
    agentUrl: agentUrl ?? options.agentUrl ?? null,
    publicUrl,
    training: options.training,
    ...(options.reconcileGraceMs === undefined ? {} : { reconciler: { graceMs: options.reconcileGraceMs } }),
    ...(trainingKit ? { trainingKit } : {}),
    webRoot: options.webRoot === undefined ? DEFAULT_WEB_ROOT : options.webRoot,
    auditCheckpoints: {
      file: options.auditCheckpoints?.file ?? folder.auditCheckpoint,
      intervalMs: options.auditCheckpoints?.intervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS,
    },
  };
  const services = createServices(ctx);
  const limits = await rateLimitStore(folder, options, warnings);
  const operations = await operationsAccess(folder, options, warnings);
  // Built first, so that the sweeps below report any failure through its logger and metrics.
  // The log goes to standard output in batches (see bufferedStdout), written out when the server closes.
  const log = options.logger ? bufferedStdout() : null;
  const app = await buildApp(ctx, {
    logger: options.logger ?? false,
    ...(log === null ? {} : { logStream: log.stream }),
    services,
    ...(https ? { https } : {}),
    ...(options.trustProxy === undefined ? {} : { trustProxy: options.trustProxy }),
    ...(secure ? { hstsMaxAgeSeconds: options.hstsMaxAgeSeconds ?? SERVE_DEFAULTS.hstsMaxAgeSeconds } : {}),
    rateLimit: {
      perMinute: options.rateLimit?.perMinute ?? DEFAULT_RATE_LIMIT.perMinute,
      redis: limits.redis,
      ...(options.rateLimit?.redisNameSpace === undefined
        ? {}
        : { nameSpace: options.rateLimit.redisNameSpace }),
    },
    operations,
  });
  // Deadlines that passed, and issuances a crash left unbound, while the server was down are
  // settled before the first request.
  await services.sweeper.sweep();
  await services.reconciler.reconcile();
  // Likewise a station certificate a renewal replaced, left good by a crash before its revocation.
  await revokeUnheldStationCertificates(
    { db: store.db, ca: ctx.ca, now: () => ctx.clock.now() },
    RECONCILER_ACTOR,
  ).catch((error: unknown) => services.sweepFailures.report('reconciler', error, { what: 'stations' }));
  // And a card return a crash interrupted: its certificates revoked, then the card destroyed.
  await finishReturns({ db: store.db, ca: ctx.ca, now: () => ctx.clock.now() }, RECONCILER_ACTOR).catch(
    (error: unknown) => services.sweepFailures.report('reconciler', error, { what: 'card returns' }),
  );
  services.sweeper.start();
  services.reconciler.start();
  limits.report((message) => app.log.warn(message));
  const purger = new ChallengePurger(store.db, () => ctx.clock.now(), {
    onError: (error) => app.log.error({ err: error }, 'purging expired challenges failed'),
  });
  purger.start();
  // A checkpoint of the log as it is at start-up, checked against the last one in the file: a log
  // cut short while the server was down is reported here. The server starts all the same.
  const unpublished = await services.checkpoints.publish().then(
    () => null,
    (error: unknown) => error,
  );
  if (unpublished !== null) app.log.error({ err: unpublished }, 'audit checkpoint not published');
  services.checkpoints.start((error) => app.log.error({ err: error }, 'audit checkpoint not published'));
  const url = await app.listen({ port, host: options.host });
  let operationsListener: OperationsListener | null = null;
  if (options.operations?.port !== undefined)
    operationsListener = await listenOperations(
      app,
      options.operations.host ?? SERVE_DEFAULTS.host,
      options.operations.port,
    );
  return {
    url,
    publicUrl,
    training: options.training,
    agentUrl,
    operationsUrl: operationsListener?.url ?? null,
    app,
    summary,
    warnings:
      unpublished === null
        ? warnings
        : [
            ...warnings,
            `no audit checkpoint published: ${unpublished instanceof Error ? unpublished.message : String(unpublished)}`,
          ],
    close: async () => {
      services.checkpoints.stop();
      services.sweeper.stop();
      services.reconciler.stop();
      await purger.stop();
      await operationsListener?.close();
      await app.close();
      if (limits.redis) await closeRateLimitRedis(limits.redis);
      if (stationRenewal !== null) clearInterval(stationRenewal);
      await agentApp?.close();
      await cardAgent?.close();
      watcher.stop();
      responder.close();
      await ca.close();
      await store.close();
      log?.close();
    },
  };
};

/**
 * The Redis of the rate limit, if one is configured: the secret URL (it may carry a password) wins
 * over the configuration's. Not reachable at start-up is a warning, not a failure: each server then
 * limits alone until Redis answers.
 */
const rateLimitStore = async (
  folder: DataFolder,
  options: ServeOptions,
  warnings: string[],
): Promise<{ redis: Redis | null; report(log: (message: string) => void): void }> => {
  const secret = await readSecret(folder, 'RESERVKORT_REDIS_URL', 'redis-url', false);
  const url = secret?.value || options.rateLimit?.redisUrl;
  if (url === undefined) return { redis: null, report: () => undefined };
  // Errors before the logger exists are held back, then logged.
  let log: ((message: string) => void) | null = null;
  const early: string[] = [];
  const { redis, reachable } = await connectRateLimitRedis(url, (message) =>
    log ? log(message) : early.push(message),
  );
  if (!reachable) {
    // The warning says it; the client's own complaint would only repeat it.
    early.splice(0);
    warnings.push(
      `the rate-limit store ${redisAddress(url)} does not answer; each server limits alone until it does`,
    );
  }
  return {
    redis,
    report: (to) => {
      log = to;
      for (const message of early.splice(0)) to(message);
    },
  };
};

/** Who may read /metrics and /api/docs; a warning when no one can. */
const operationsAccess = async (
  folder: DataFolder,
  options: ServeOptions,
  warnings: string[],
): Promise<OperationsAccess> => {
  const token = await readSecret(folder, OPERATIONS_TOKEN_ENV, OPERATIONS_TOKEN_FILE, false);
  const access: OperationsAccess = {
    mode: options.operations?.access ?? (options.training ? 'open' : 'token'),
    token: token?.value || null,
    separateListener: options.operations?.port !== undefined,
  };
  if (access.mode === 'token' && access.token === null)
    warnings.push(
      `/metrics and /api/docs answer 401 to everyone: set ${OPERATIONS_TOKEN_ENV} or secrets/${OPERATIONS_TOKEN_FILE} in the data folder, or give them a private listener (operations.port) with operations.access "open"`,
    );
  return access;
};
