import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import {
  type CommandLineChoices,
  loadServerConfig,
  OCSP_MAX_AGE_LIMIT_SECONDS,
  SERVE_DEFAULTS,
  serveOptionsFrom,
} from '../../config/server-config.js';
import { startServer } from '../../server.js';

const port = (value: string, name: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be 0–65535`);
  return n;
};

const minutes = (value: string, name: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 24 * 60) throw new Error(`${name} must be 1–1440 minutes`);
  return Math.round(n * 60_000);
};

const seconds = (value: string, name: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 3600)
    throw new Error(`${name} must be more than 0 and at most 3600 seconds`);
  return Math.round(n * 1000);
};

const maxAge = (value: string, name: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > OCSP_MAX_AGE_LIMIT_SECONDS)
    throw new Error(`${name} must be whole seconds 0–${OCSP_MAX_AGE_LIMIT_SECONDS}`);
  return n;
};

interface ServeFlags {
  config?: string;
  port: string;
  host: string;
  training?: boolean;
  agentPort: string;
  ackWindow: string;
  reconcileGrace?: string;
  ocspMaxAge?: string;
}

/** The flags given on the command line or through their environment variable; defaults are not choices. */
const choicesOf = (options: ServeFlags, command: Command): CommandLineChoices => {
  const chosen = (name: keyof ServeFlags) => {
    const source = command.getOptionValueSource(name);
    return source === 'cli' || source === 'env';
  };
  const data: string | undefined = command.optsWithGlobals().data ?? process.env.RESERVKORT_DATA;
  return {
    ...(data === undefined ? {} : { data }),
    ...(chosen('port') ? { port: port(options.port, '--port') } : {}),
    ...(chosen('host') ? { host: options.host } : {}),
    ...(options.training ? { training: true } : {}),
    ...(chosen('agentPort') ? { agentPort: port(options.agentPort, '--agent-port') } : {}),
    ...(chosen('ackWindow') ? { ackWindowMs: minutes(options.ackWindow, '--ack-window') } : {}),
    ...(options.reconcileGrace !== undefined && chosen('reconcileGrace')
      ? { reconcileGraceMs: seconds(options.reconcileGrace, '--reconcile-grace') }
      : {}),
    ...(options.ocspMaxAge !== undefined && chosen('ocspMaxAge')
      ? { ocspMaxAgeSeconds: maxAge(options.ocspMaxAge, '--ocsp-max-age') }
      : {}),
  };
};

export const registerServeCommand = (program: Command): void => {
  program
    .command('serve')
    .description(
      'run the server (with --training: CA, demo data, virtual readers and the card agent, on one machine)',
    )
    .option('--config <file>', 'configuration file (JSON, no secrets; see docs/CONFIGURATION.md)')
    .addOption(new Option('--port <n>', 'port to listen on').env('PORT').default(String(SERVE_DEFAULTS.port)))
    .option('--host <host>', 'address to listen on', SERVE_DEFAULTS.host)
    .option('--training', 'training mode: virtual readers and cards, demo data on first start')
    .option('--agent-port <n>', 'loopback port of the training card agent', String(SERVE_DEFAULTS.agentPort))
    .addOption(
      new Option('--ack-window <minutes>', 'time to acknowledge a card')
        .env('RESERVKORT_ACK_WINDOW_MINUTES')
        .default(String(SERVE_DEFAULTS.ackWindowMinutes)),
    )
    .addOption(
      new Option(
        '--reconcile-grace <seconds>',
        'how long an issuance may stay unbound before its certificates are revoked (default 30)',
      ).env('RESERVKORT_RECONCILE_GRACE_SECONDS'),
    )
    .addOption(
      new Option(
        '--ocsp-max-age <seconds>',
        'how long HTTP caches may keep OCSP answers and CRLs unchecked (default 0: revalidate every use, revocation visible at once)',
      ).env('RESERVKORT_OCSP_MAX_AGE_SECONDS'),
    )
    .action(async (options: ServeFlags, command: Command) => {
      // Every problem of the file is printed by main, and the start stops with EX_CONFIG.
      const config = options.config === undefined ? {} : await loadServerConfig(options.config);
      const running = await startServer({
        ...serveOptionsFrom(config, choicesOf(options, command)),
        logger: true,
      });
      for (const warning of running.warnings) process.stderr.write(`reservkort: warning: ${warning}\n`);
      const local = running.url.replace('127.0.0.1', 'localhost');
      const lines = [
        '',
        `Reservkort ${running.training ? 'i övningsläge (training mode)' : ''} på ${local}`,
        `  Webbgränssnitt / web UI: ${local}/`,
        ...(running.publicUrl === local ? [] : [`  Publik adress / public URL: ${running.publicUrl}/`]),
        `  API-dokumentation / API docs: ${running.operationsUrl ?? local}/api/docs`,
        `  Hälsa / health: ${running.url}/health   Mätvärden / metrics: ${running.operationsUrl ?? running.url}/metrics`,
        `  OCSP: ${running.url}/ocsp   CRL: ${running.url}/pki/crl/loa3.crl`,
        `  Granskningslogg, kontrollpunkt / audit checkpoint: ${running.url}/audit/checkpoint`,
        ...(running.agentUrl ? [`  Kortagent (virtuella kortläsare) / card agent: ${running.agentUrl}`] : []),
        '',
      ];
      process.stdout.write(`${lines.join('\n')}\n${running.summary ?? ''}\n`);
      await new Promise<void>((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
      });
      await running.close();
    });
};

/** The OpenAPI document of every route (training ones included), from a throwaway training server. */
export const openApiDocument = async (): Promise<unknown> => {
  const data = await mkdtemp(join(tmpdir(), 'reservkort-openapi-'));
  try {
    const running = await startServer({
      data,
      port: 0,
      host: '127.0.0.1',
      training: true,
      agentPort: 0,
      webRoot: null,
    });
    await running.app.ready();
    const document = running.app.swagger();
    await running.close();
    return document;
  } finally {
    await rm(data, { recursive: true, force: true });
  }
};

export const registerOpenApiCommand = (program: Command): void => {
  program
    .command('openapi')
    .description('print the OpenAPI document of the server’s HTTP API (the web client is generated from it)')
    .action(async () => {
      process.stdout.write(`${JSON.stringify(await openApiDocument(), null, 2)}\n`);
    });
};
