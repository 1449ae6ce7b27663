import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = new URL('../../bin/reservkort.js', import.meta.url).pathname;

/** `npm start` is `reservkort serve --training`: run it as the README says and look at what it offers. */
describe('reservkort serve --training (npm start)', () => {
  let dir: string;
  let output = '';
  let child: ReturnType<typeof spawn>;
  let url = '';
  let agentUrl = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reservkort-serve-'));
    child = spawn(
      process.execPath,
      [BIN, '--data', dir, 'serve', '--training', '--port', '0', '--agent-port', '0'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start: ${output.slice(-2000)}`)), 50_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        // Every address a person opens in a browser is printed as the portal's own (localhost).
        const server = /API docs: http:\/\/localhost:(\d+)\/api\/docs/.exec(output);
        const agent = /card agent: (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (server?.[1] && agent?.[1] && output.includes('Prova det här')) {
          url = `http://127.0.0.1:${server[1]}`;
          agentUrl = agent[1];
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${output.slice(-2000)}`)));
    });
  }, 60_000);

  afterAll(async () => {
    child?.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the demo cards, PIN letters and what to try', () => {
    expect(output).toContain('Administratörernas kort');
    expect(output).toContain('Lena LoA2');
    expect(output).toContain('PIN 1 1234');
    expect(output).toContain('LOA2_LOGIN');
  });

  it('serves health, the API description and the PKI, and its card agent answers the portal only', async () => {
    const health = await fetch(`${url}/health`);
    expect(await health.json()).toMatchObject({ status: 'ok', training: true });
    // Plain HTTP on localhost: no HSTS, which would mean nothing here.
    expect(health.headers.get('strict-transport-security')).toBeNull();
    const docs = await (await fetch(`${url}/api/docs/json`)).json();
    expect(Object.keys(docs.paths)).toEqual(
      expect.arrayContaining(['/api/auth/login', '/api/flows/{flowId}/search']),
    );
    expect(await (await fetch(`${url}/pki/ca/root.pem`)).text()).toContain('BEGIN CERTIFICATE');
    const origin = url.replace('127.0.0.1', 'localhost');
    expect((await fetch(`${agentUrl}/v1/info`, { headers: { origin } })).status).toBe(200);
    // Training: the page opened at 127.0.0.1 (as the server's own log spells it) works as well.
    expect((await fetch(`${agentUrl}/v1/info`, { headers: { origin: url } })).status).toBe(200);
    expect(await (await fetch(`${url}/api/config`)).json()).toMatchObject({ portalUrl: origin });
    expect(
      (await fetch(`${agentUrl}/v1/info`, { headers: { origin: 'http://elsewhere.example' } })).status,
    ).toBe(403);
  });

  it('logs each request on standard output within a moment, in batches', async () => {
    const marker = `/api/no-such-route-${Date.now()}`;
    expect((await fetch(`${url}${marker}`)).status).toBe(404);
    const until = Date.now() + 5000;
    while (!output.includes(marker) && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
    const line = output.split('\n').find((l) => l.includes(marker)) ?? '';
    expect(JSON.parse(line)).toMatchObject({ msg: 'request completed', res: { statusCode: 404 } });
  });

  it('writes its last log lines when it is stopped', async () => {
    const marker = `/api/last-words-${Date.now()}`;
    await fetch(`${url}${marker}`);
    // 'close', not 'exit': the output may still be on its way when the process has exited.
    const closed = new Promise((resolve) => child.once('close', resolve));
    child.kill('SIGTERM');
    await closed;
    expect(output).toContain(marker);
  });
});
