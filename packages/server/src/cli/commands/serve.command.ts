import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
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

export const registerServeCommand = (program: Command): void => {
  program
    .command('serve')
    .description(
      'run the server (with --training: CA, demo data, virtual readers and the card agent, on one machine)',
    )
    .option('--port <n>', 'HTTP port ($PORT)', process.env.PORT ?? '3000')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--training', 'training mode: virtual readers and cards, demo data on first start')
    .option('--agent-port <n>', 'loopback port of the training card agent', '31443')
    .option(
      '--ack-window <minutes>',
      'time to acknowledge a card ($RESERVKORT_ACK_WINDOW_MINUTES)',
      process.env.RESERVKORT_ACK_WINDOW_MINUTES ?? '10',
    )
    .action(
      async (
        options: { port: string; host: string; training?: boolean; agentPort: string; ackWindow: string },
        command: Command,
      ) => {
        const running = await startServer({
          data: command.optsWithGlobals().data,
          port: port(options.port, '--port'),
          host: options.host,
          training: options.training === true,
          agentPort: port(options.agentPort, '--agent-port'),
          ackWindowMs: minutes(options.ackWindow, '--ack-window'),
          logger: true,
        });
        const lines = [
          '',
          `Reservkort ${options.training ? 'i övningsläge (training mode)' : ''} på ${running.url.replace('127.0.0.1', 'localhost')}`,
          `  Webbgränssnitt / web UI: ${running.url.replace('127.0.0.1', 'localhost')}/`,
          `  API-dokumentation / API docs: ${running.url}/api/docs`,
          `  Hälsa / health: ${running.url}/health   Mätvärden / metrics: ${running.url}/metrics`,
          `  OCSP: ${running.url}/ocsp   CRL: ${running.url}/pki/crl/loa3.crl`,
          ...(running.agentUrl
            ? [`  Kortagent (virtuella kortläsare) / card agent: ${running.agentUrl}`]
            : []),
          '',
        ];
        process.stdout.write(`${lines.join('\n')}\n${running.summary ?? ''}\n`);
        await new Promise<void>((resolve) => {
          for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
        });
        await running.close();
      },
    );
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
