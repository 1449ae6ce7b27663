// `reservkort serve --config FILE` as a real process: a broken file stops the start with every
// problem listed; a good one with a certificate serves HTTPS with HSTS and Secure session cookies,
// and one behind a TLS proxy (https public URL, plain HTTP here) marks the cookies Secure too.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openStore } from '@reservkort/store';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CONFIG } from '../config/server-config.js';
import {
  BIN,
  childEnv,
  initDataFolder,
  openFolderCa,
  provisionAdminCard,
  RECIPIENTS,
  seedDirectory,
} from '../test-support/durable-fixture.js';
import {
  DurablePage,
  type Endpoint,
  openWorkstation,
  type Workstation,
} from '../test-support/durable-page.js';
import { ADMIN2 } from '../test-support/issuance-harness.js';
import { writeSelfSignedCertificate } from '../test-support/tls-certificate.js';
import { systemClock } from './ca-context.js';

const run = promisify(execFile);

/** The CLI's exit code and output, for a run that is expected to end by itself. */
const reservkort = async (args: readonly string[]) => {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      env: childEnv(),
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
};

describe('reservkort serve --config with a broken file', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reservkort-config-cli-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints every problem, one line each, and exits with EX_CONFIG without starting', async () => {
    const file = join(dir, 'broken.json');
    await writeFile(
      file,
      JSON.stringify({
        server: { port: 'eighty', publicUrl: 'https://reservkort.example.org/app' },
        database: { url: 'postgres://reservkort:t0p-s3cret@db.example.org/reservkort' },
        caPassphrase: 'also-secret',
        tls: { certificateFile: 'server.crt' },
        sesions: { idleMinutes: 30 },
      }),
    );
    const result = await reservkort(['--data', join(dir, 'data'), 'serve', '--config', file]);
    expect(result.code).toBe(EXIT_CONFIG);
    expect(result.stdout).not.toContain('på http');
    const problems = result.stderr.split('\n').filter((line) => line.startsWith(`reservkort: ${file}: `));
    expect(problems.map((line) => line.slice(`reservkort: ${file}: `.length).split(':')[0])).toEqual(
      expect.arrayContaining([
        'caPassphrase',
        'server.port',
        'server.publicUrl',
        'database.url',
        'tls.keyFile',
        'sesions',
      ]),
    );
    expect(problems).toHaveLength(6);
    expect(result.stderr).toContain('did you mean sessions?');
    expect(result.stderr).toContain(
      `reservkort: 6 problems in the configuration file ${file} [CONFIG_INVALID]`,
    );
    expect(result.stderr).not.toMatch(/t0p-s3cret|also-secret/);
  });

  it('says so when the file is missing or is not JSON', async () => {
    const text = join(dir, 'text.json');
    await writeFile(text, 'port = 3000\n');
    const [missing, notJson] = await Promise.all([
      reservkort(['serve', '--config', join(dir, 'nowhere.json')]),
      reservkort(['serve', '--config', text]),
    ]);
    expect(missing.code).toBe(EXIT_CONFIG);
    expect(missing.stderr).toMatch(/nowhere\.json: \(file\): cannot read it: ENOENT/);
    expect(notJson.code).toBe(EXIT_CONFIG);
    expect(notJson.stderr).toMatch(/text\.json: \(file\): not valid JSON: /);
  });
});

describe('reservkort ca init --config', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reservkort-ca-config-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('makes the CA with the configured public URL, organisation, policy OIDs and data folder', async () => {
    const file = join(dir, 'reservkort.json');
    await writeFile(
      file,
      JSON.stringify({
        server: { publicUrl: 'https://reservkort.example.org' },
        dataFolder: 'data',
        pki: { organisation: 'Region Exempel', policyOids: { LoA3: '1.2.752.999.3', LoA2: '1.2.752.999.2' } },
      }),
    );
    const init = await reservkort(['ca', 'init', '--config', file, '--policy-loa2', '1.2.752.999.22']);
    expect(init.code, init.stderr).toBe(0);
    const saved = JSON.parse(await readFile(join(dir, 'data', 'ca', 'ca.json'), 'utf8'));
    expect(saved.settings).toMatchObject({
      baseUrl: 'https://reservkort.example.org',
      organisation: 'Region Exempel',
      // The flag wins over the file.
      policyOids: { LoA3: '1.2.752.999.3', LoA2: '1.2.752.999.22' },
    });
    const shown = await reservkort(['--data', join(dir, 'data'), 'ca', 'show', '--json']);
    const rows = JSON.parse(shown.stdout) as { id: string; policy: string | null; subject: string }[];
    expect(rows.find((r) => r.id === 'loa3')?.policy).toBe('1.2.752.999.3');
    expect(rows.find((r) => r.id === 'root')?.subject).toContain('O=Region Exempel');
  });
});

interface Started {
  readonly url: string;
  readonly output: () => string;
  readonly child: ChildProcess;
}

/** `reservkort serve --config FILE` until it prints where it listens. */
const serve = (config: string): Promise<Started> => {
  const child = spawn(process.execPath, [BIN, 'serve', '--config', config], {
    env: childEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start:\n${out}`)), 30_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /på (https?):\/\/localhost:(\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ url: `${match[1]}://127.0.0.1:${match[2]}`, output: () => out, child });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code}:\n${out}`));
    });
  });
};

interface Exchange {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One HTTPS exchange, trusting only the test's own certificate. */
const overTls = (ca: string, url: string, method: string, headers: Record<string, string>, body?: string) =>
  new Promise<Exchange>((resolve, reject) => {
    const req = httpsRequest(url, { method, ca, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });

/** The page's requests over HTTPS; every Set-Cookie header is kept for the test to read. */
const tlsEndpoint = (ca: string, baseUrl: string, setCookies: string[]): Endpoint => ({
  name: 'tls',
  send: async ({ method, url, cookie, csrf, payload }) => {
    const headers: Record<string, string> = {};
    if (cookie) headers.cookie = `rk_session=${cookie}`;
    if (csrf) headers['x-csrf-token'] = csrf;
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const answer = await overTls(
      ca,
      new URL(url, baseUrl).href,
      method,
      headers,
      payload === undefined ? undefined : JSON.stringify(payload),
    );
    const cookies = [answer.headers['set-cookie'] ?? []].flat();
    setCookies.push(...cookies);
    const session = cookies.map((c) => /^rk_session=([^;]*)/.exec(c)?.[1]).find((c) => c !== undefined);
    return {
      status: answer.status,
      body: answer.body ? JSON.parse(answer.body) : null,
      sessionCookie: session ?? null,
    };
  },
});

/** The page's requests over plain HTTP, as a TLS-terminating proxy passes them on. */
const proxiedEndpoint = (baseUrl: string, setCookies: string[]): Endpoint => ({
  name: 'proxied',
  send: async ({ method, url, cookie, csrf, payload }) => {
    const headers: Record<string, string> = { 'x-forwarded-proto': 'https' };
    if (cookie) headers.cookie = `rk_session=${cookie}`;
    if (csrf) headers['x-csrf-token'] = csrf;
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(new URL(url, baseUrl), {
      method,
      headers,
      ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
    });
    const cookies = response.headers.getSetCookie();
    setCookies.push(...cookies);
    const text = await response.text();
    const session = cookies.map((c) => /^rk_session=([^;]*)/.exec(c)?.[1]).find((c) => c !== undefined);
    return { status: response.status, body: text ? JSON.parse(text) : null, sessionCookie: session ?? null };
  },
});

describe('reservkort serve --config: HTTPS, or behind a TLS proxy', () => {
  let dir: string;
  let certificate: string;
  let ws: Workstation;
  let adminCard: Awaited<ReturnType<typeof provisionAdminCard>>;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reservkort-tls-'));
    await writeSelfSignedCertificate(dir);
    certificate = await readFile(join(dir, 'server.crt'), 'utf8');
    // A data folder made by `reservkort ca init` (base URL http://127.0.0.1:9), with an administrator.
    const folder = await initDataFolder(join(dir, 'data'));
    const store = await openStore({ url: `sqlite:${folder.sqliteFile}` });
    const ca = await openFolderCa(folder, store.db, systemClock);
    try {
      await seedDirectory(store.db, ca, [RECIPIENTS.anna]);
      ws = await openWorkstation({ db: store.db, ca });
      adminCard = await provisionAdminCard(ws, ca, ADMIN2);
    } finally {
      await ca.close();
      await store.close();
    }
  }, 60_000);

  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGTERM');
    // Each login leaves the card in reader 1.
    if ((await ws.cards.readers()).some((r) => r.id === 'reader-1' && r.card))
      await ws.cards.removeCard('reader-1');
  });

  afterAll(async () => {
    await ws?.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await rm(dir, { recursive: true, force: true });
  });

  it('serves HTTPS with HSTS, and a login’s session cookie is Secure', async () => {
    const config = join(dir, 'tls.json');
    await writeFile(
      config,
      JSON.stringify({
        server: { host: '127.0.0.1', port: 0, publicUrl: 'https://localhost' },
        dataFolder: 'data',
        tls: { certificateFile: 'server.crt', keyFile: 'server.key' },
      }),
    );
    const server = await serve(config);
    children.push(server.child);
    expect(server.url).toMatch(/^https:/);
    // The CA keeps the base URL it was made with; the different public URL is reported (on stderr,
    // which may arrive after the summary on stdout).
    await expect
      .poll(() => server.output(), { timeout: 10_000 })
      .toContain('reservkort: warning: the CA was created with base URL http://127.0.0.1:9');

    const health = await overTls(certificate, `${server.url}/health`, 'GET', {});
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok', training: false });
    expect(health.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    // Helmet's other headers stay.
    expect(health.headers['x-content-type-options']).toBe('nosniff');

    const setCookies: string[] = [];
    const page = new DurablePage(ws, [tlsEndpoint(certificate, server.url, setCookies)]);
    const login = await page.login(adminCard);
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    const session = setCookies.find((c) => c.startsWith('rk_session='));
    expect(session).toMatch(/; Secure/);
    expect(session).toMatch(/; HttpOnly/);
    expect(session).toMatch(/; SameSite=Strict/);
    expect((await page.api('GET', '/api/auth/me')).status).toBe(200);
  });

  it('behind a TLS proxy: plain HTTP here, yet the https public URL makes cookies Secure and sends HSTS', async () => {
    const config = join(dir, 'proxied.json');
    await writeFile(
      config,
      JSON.stringify({
        server: {
          host: '127.0.0.1',
          port: 0,
          publicUrl: 'https://reservkort.example.org',
          trustProxy: ['loopback'],
          hstsMaxAgeSeconds: 600,
        },
        dataFolder: 'data',
      }),
    );
    const server = await serve(config);
    children.push(server.child);
    expect(server.url).toMatch(/^http:/);
    await expect
      .poll(() => server.output(), { timeout: 10_000 })
      .toContain('Publik adress / public URL: https://reservkort.example.org/');

    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(health.headers.get('strict-transport-security')).toBe('max-age=600; includeSubDomains');

    const setCookies: string[] = [];
    const page = new DurablePage(ws, [proxiedEndpoint(server.url, setCookies)]);
    expect((await page.login(adminCard)).status).toBe(200);
    expect(setCookies.find((c) => c.startsWith('rk_session='))).toMatch(/; Secure/);
  });
});
