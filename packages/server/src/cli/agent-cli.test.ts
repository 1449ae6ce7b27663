import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BIN = new URL('../../bin/reservkort.js', import.meta.url).pathname;

const cli = async (args: readonly string[], env: Record<string, string> = {}) => {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
};

describe('reservkort agent', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reservkort-agent-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('doctor passes with two virtual readers and lists them, as text and JSON', async () => {
    const text = await cli(['--data', dir, 'agent', 'doctor', '--virtual']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('Kortläsare (2)');
    expect(text.stdout).toMatch(/Reservkort kortagent \d+\.\d+\.\d+ \(npm\)/);
    const json = await cli(['--data', dir, 'agent', 'doctor', '--virtual', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: true,
      problems: [],
      module: { kind: 'virtual' },
      station: { keyStore: 'file', registered: false, problem: null },
    });
    expect(text.stdout).toContain(
      'nyckel i / key in nyckelfil / key file; inte registrerad / not registered',
    );
    // The virtual cards live in the data folder, so they survive a restart of the agent.
    expect(await readFile(join(dir, 'agent', 'virtual-cards.json'), 'utf8')).toContain(
      'reservkort-virtual-cards',
    );
  });

  it('doctor exits non-zero with READERS_MISSING when fewer than two readers are connected', async () => {
    const one = await mkdtemp(join(tmpdir(), 'reservkort-agent-one-'));
    try {
      const result = await cli(['--data', one, 'agent', 'doctor', '--virtual', '--readers', '1', '--json']);
      expect(result.code).toBe(3);
      expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, problems: ['READERS_MISSING'] });
      const text = await cli(['--data', one, 'agent', 'doctor', '--virtual']);
      expect(text.stdout).toContain('READERS_MISSING');
    } finally {
      await rm(one, { recursive: true, force: true });
    }
  });

  it('doctor exits non-zero with STATION_KEY_UNAVAILABLE when the station token cannot be opened', async () => {
    const args = [
      '--data',
      dir,
      'agent',
      'doctor',
      '--virtual',
      '--station-pkcs11-module',
      '/nonexistent/p11.so',
    ];
    const pinless = await cli([...args, '--station-token', 'Kortstation', '--json'], {
      RESERVKORT_STATION_PIN: '',
    });
    expect(pinless.code).toBe(3);
    expect(JSON.parse(pinless.stdout)).toMatchObject({
      ok: false,
      problems: ['STATION_KEY_UNAVAILABLE'],
      station: { keyStore: null, problem: 'pin missing' },
    });
    const unloadable = await cli([...args, '--station-token', 'Kortstation'], {
      RESERVKORT_STATION_PIN: '2468',
    });
    expect(unloadable.code).toBe(3);
    expect(unloadable.stdout).toContain('STATION_KEY_UNAVAILABLE');
    expect(unloadable.stdout).toContain('module not loaded');
    const half = await cli(args);
    expect(half.code).toBe(1);
    expect(half.stderr).toContain('--station-pkcs11-module and --station-token go together');
  });

  it('refuses to run without a backend', async () => {
    const result = await cli(['--data', dir, 'agent', 'doctor']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('choose a backend');
  });

  it('serves on loopback and answers only the configured portal origin', async () => {
    const child = spawn(
      process.execPath,
      [BIN, '--data', dir, 'agent', '--virtual', '--port', '0', '--portal-origin', 'http://localhost:3999'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const address = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (match?.[1]) resolve(match[1]);
        });
        child.once('exit', (code) => reject(new Error(`agent exited ${code}`)));
      });
      const ok = await fetch(`${address}/v1/info`, { headers: { origin: 'http://localhost:3999' } });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ packaging: 'npm', backend: { kind: 'virtual' } });
      const foreign = await fetch(`${address}/v1/info`, { headers: { origin: 'http://localhost:4000' } });
      expect(foreign.status).toBe(403);
      const none = await fetch(`${address}/v1/info`);
      expect(none.status).toBe(403);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
