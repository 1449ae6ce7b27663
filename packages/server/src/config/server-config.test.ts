import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSelfSignedCertificate } from '../test-support/tls-certificate.js';
import {
  type ConfigProblem,
  checkServerConfig,
  loadServerConfig,
  SERVE_DEFAULTS,
  ServerConfigError,
  serveOptionsFrom,
} from './server-config.js';

const EXAMPLE = new URL('../../../../config/reservkort.example.json', import.meta.url);

const problemsOf = (raw: unknown): readonly ConfigProblem[] => {
  const checked = checkServerConfig(raw, '/etc/reservkort');
  return checked.ok ? [] : checked.problems;
};

const lines = (raw: unknown) => problemsOf(raw).map((p) => `${p.path}: ${p.message}`);

describe('the configuration file’s checks', () => {
  it('accepts the committed example, every key in it', async () => {
    const raw = JSON.parse(await readFile(EXAMPLE, 'utf8'));
    const checked = checkServerConfig(raw, '/etc/reservkort');
    expect(checked.ok ? [] : checked.problems).toEqual([]);
    expect(Object.keys(raw).sort()).toEqual(
      [
        'agent',
        'database',
        'dataFolder',
        'issuance',
        'ocsp',
        'operations',
        'pki',
        'rateLimit',
        'audit',
        'server',
        'sessions',
        'tls',
        'training',
      ].sort(),
    );
  });

  it('accepts an empty file: every key has a default', () => {
    expect(checkServerConfig({}, '/x')).toEqual({ ok: true, config: {} });
  });

  it('reports every problem at once, one line each with where, what and what is expected', () => {
    const found = lines({
      server: { port: '80a', host: '', publicUrl: 'ftp://reservkort.example.org' },
      issuance: { ackWindowMinutes: 0 },
      sessions: { idleMinutes: 2000 },
      pki: { policyOids: { LoA3: 'one.two' } },
      training: 'yes',
    });
    expect(found).toEqual(
      expect.arrayContaining([
        'server.port: must be a whole number, not the text "80a" (expected a TCP port 0–65535, 0 for any free port)',
        'server.host: must not be empty (expected an address to listen on, e.g. 0.0.0.0)',
        'server.publicUrl: must start with https:// or http://',
        'issuance.ackWindowMinutes: must be more than 0, not 0 (expected minutes, more than 0 and at most 1440)',
        'sessions.idleMinutes: must be at most 1440, not 2000 (expected whole minutes 1–1440)',
        'pki.policyOids.LoA3: the text "one.two" is not valid (expected the dotted certificate policy OID for LoA3, e.g. 1.2.752.x.y)',
        'training: must be true or false, not the text "yes" (expected true or false)',
      ]),
    );
    expect(found).toHaveLength(7);
  });

  it('treats an unknown key as a problem and suggests the key that was meant', () => {
    expect(lines({ server: { prot: 3000 }, trainig: true })).toEqual([
      'trainig: unknown key; did you mean training? (expected one of server, tls, dataFolder, database, pki, issuance, sessions, agent, training, rateLimit, ocsp, operations, audit)',
      'server.prot: unknown key; did you mean port? (expected one of host, port, publicUrl, trustProxy, hstsMaxAgeSeconds)',
    ]);
  });

  it('refuses secrets anywhere in the file, never repeating them, and says where they belong', () => {
    const found = lines({
      caPassphrase: 'hunter2',
      pki: { pkcs11_pin: '123456' },
      database: { password: 'pw-in-file' },
      sessions: { secret: 'x' },
    });
    expect(found).toEqual([
      'caPassphrase: secrets do not belong in the configuration file; set RESERVKORT_CA_PASSPHRASE or put it in secrets/ca-passphrase of the data folder',
      'pki.pkcs11_pin: secrets do not belong in the configuration file; set RESERVKORT_PKCS11_PIN or put it in secrets/pkcs11-pin of the data folder',
      'database.password: secrets do not belong in the configuration file; give the database URL with its password in DATABASE_URL or secrets/database-url of the data folder, or the password in PGPASSWORD',
      'sessions.secret: secrets do not belong in the configuration file; secrets come from the environment or from files in the data folder’s secrets/',
    ]);
    expect(found.join('\n')).not.toMatch(/hunter2|123456|pw-in-file/);
  });

  it('refuses a database URL with a password, without showing it', () => {
    for (const url of [
      'postgres://reservkort:s3cr3t@db.example.org/reservkort',
      'postgresql://reservkort@db.example.org/reservkort?password=s3cr3t',
    ]) {
      const found = lines({ database: { url } });
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(/^database\.url: contains a password, which is a secret: .*DATABASE_URL/);
      expect(found[0]).not.toContain('s3cr3t');
    }
    expect(lines({ database: { url: 'mysql://db/x' } })).toEqual([
      'database.url: must start with postgres://, postgresql:// or sqlite:',
    ]);
    expect(lines({ database: { url: 'postgres://reservkort@db.example.org:5432/reservkort' } })).toEqual([]);
  });

  it('checks TLS: both files, and an https public URL', () => {
    expect(lines({ tls: { certificateFile: 'server.crt' } })).toEqual([
      'tls.keyFile: missing (expected the path of the PEM private key of tls.certificateFile)',
    ]);
    expect(
      lines({
        server: { publicUrl: 'http://reservkort.example.org' },
        tls: { certificateFile: 'a.crt', keyFile: 'a.key' },
      }),
    ).toEqual(['server.publicUrl: must start with https:// when tls is configured']);
  });

  it('checks URLs and proxy addresses for what they mean', () => {
    expect(
      lines({
        server: {
          publicUrl: 'https://reservkort.example.org/portal',
          trustProxy: ['10.0.0.0/8', 'loopback', '::1', 'proxy.example.org', '10.0.0.0/40'],
        },
        agent: { url: 'http://user:pw@127.0.0.1:31443' },
        sessions: { idleMinutes: 120, absoluteHours: 1 },
      }),
    ).toEqual([
      'server.publicUrl: must be an origin only, without a path, query or fragment (https://reservkort.example.org)',
      'server.trustProxy[3]: the text "proxy.example.org" is not an IP address, a CIDR range or one of loopback, linklocal, uniquelocal',
      'server.trustProxy[4]: the text "10.0.0.0/40" is not an IP address, a CIDR range or one of loopback, linklocal, uniquelocal',
      'agent.url: must not carry a user name or password',
      'sessions.idleMinutes: 120 minutes is longer than sessions.absoluteHours (1 h)',
    ]);
  });

  it('says so when the file is not an object', () => {
    expect(lines([1, 2])).toEqual(['(top level): must be an object, not a list']);
  });

  it('resolves relative paths against the configuration file’s folder', () => {
    const checked = checkServerConfig(
      {
        dataFolder: 'data',
        tls: { certificateFile: 'tls/server.crt', keyFile: '/keys/server.key' },
        database: { url: 'sqlite:db/reservkort.db' },
      },
      '/etc/reservkort',
    );
    expect(checked).toEqual({
      ok: true,
      config: {
        dataFolder: '/etc/reservkort/data',
        tls: { certificateFile: '/etc/reservkort/tls/server.crt', keyFile: '/keys/server.key' },
        database: { url: 'sqlite:/etc/reservkort/db/reservkort.db' },
      },
    });
  });
});

describe('the limits and the operators’ endpoints in the file', () => {
  it('checks the rate limit, the OCSP cache and the operations listener', () => {
    expect(
      lines({
        rateLimit: { loginPerMinute: 0, redisUrl: 'http://redis.internal:6379' },
        ocsp: { cacheMegabytes: 0 },
        operations: { access: 'public', host: '10.0.0.11' },
      }),
    ).toEqual([
      'rateLimit.loginPerMinute: must be at least 1, not 0 (expected requests per minute and client address, 1–100000)',
      'ocsp.cacheMegabytes: must be more than 0, not 0 (expected megabytes (MiB), more than 0 and at most 4096)',
      'operations.access: must be equal to one of the allowed values (expected "open" or "token")',
      'rateLimit.redisUrl: must start with redis:// or rediss://',
      'operations.host: needs operations.port: the operations listener has no port of its own otherwise',
    ]);
  });

  it('refuses a Redis URL with a password and a token in the file, never showing them', () => {
    const found = lines({
      rateLimit: { redisUrl: 'redis://:s3cr3t@redis.internal:6379/0' },
      operations: { token: 'tok-in-file' },
    });
    expect(found).toEqual([
      'operations.token: secrets do not belong in the configuration file; set RESERVKORT_OPERATIONS_TOKEN or put it in secrets/operations-token of the data folder',
      'rateLimit.redisUrl: contains a password, which is a secret: give the whole URL in RESERVKORT_REDIS_URL or secrets/redis-url of the data folder',
    ]);
    expect(found.join('\n')).not.toMatch(/s3cr3t|tok-in-file/);
    expect(lines({ rateLimit: { redisUrl: 'rediss://reservkort@redis.internal:6380/2' } })).toEqual([]);
  });

  it('becomes the server’s options', () => {
    const checked = checkServerConfig(
      {
        rateLimit: { loginPerMinute: 20, redisUrl: 'redis://redis.internal:6379/0' },
        ocsp: { cacheMegabytes: 32, maxAgeSeconds: 60 },
        operations: { access: 'open', host: '10.0.0.11', port: 9464 },
      },
      '/srv',
    );
    if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
    expect(serveOptionsFrom(checked.config, {})).toMatchObject({
      rateLimit: { perMinute: 20, redisUrl: 'redis://redis.internal:6379/0' },
      ocspCacheBytes: 32 * 1024 * 1024,
      ocspMaxAgeSeconds: 60,
      operations: { access: 'open', host: '10.0.0.11', port: 9464 },
    });
    // The environment (RESERVKORT_OCSP_MAX_AGE_SECONDS) or the flag wins over the file.
    expect(serveOptionsFrom(checked.config, { ocspMaxAgeSeconds: 0 })).toMatchObject({
      ocspMaxAgeSeconds: 0,
    });
  });

  it('keeps the OCSP freshness within half an answer’s validity, in whole seconds', () => {
    expect(lines({ ocsp: { maxAgeSeconds: 3600 } })).toEqual([
      'ocsp.maxAgeSeconds: must be at most 1800, not 3600 (expected whole seconds 0–1800, 0 to have caches revalidate every use)',
    ]);
    expect(lines({ ocsp: { maxAgeSeconds: 0.5 } })).toEqual([
      'ocsp.maxAgeSeconds: must be a whole number, not 0.5 (expected whole seconds 0–1800, 0 to have caches revalidate every use)',
    ]);
    expect(lines({ ocsp: { maxAgeSeconds: 0 } })).toEqual([]);
  });
});

describe('precedence: flags and environment, then the file, then the defaults', () => {
  const config = checkServerConfig(
    {
      server: { port: 8443, host: '0.0.0.0', publicUrl: 'https://reservkort.example.org/' },
      dataFolder: 'data',
      issuance: { ackWindowMinutes: 15 },
      sessions: { idleMinutes: 20 },
      agent: { url: 'http://127.0.0.1:4000', trainingPort: 4001 },
      audit: { checkpointFile: 'shipped/checkpoint.pem', checkpointMinutes: 5 },
    },
    '/srv',
  );
  if (!config.ok) throw new Error('fixture');

  it('takes the file over the defaults', () => {
    expect(serveOptionsFrom(config.config, {})).toEqual({
      data: '/srv/data',
      port: 8443,
      host: '0.0.0.0',
      training: false,
      agentPort: 4001,
      ackWindowMs: 15 * 60_000,
      publicUrl: 'https://reservkort.example.org',
      sessions: { idleMs: 20 * 60_000 },
      agentUrl: 'http://127.0.0.1:4000',
      auditCheckpoints: { file: '/srv/shipped/checkpoint.pem', intervalMs: 5 * 60_000 },
    });
  });

  it('checks the audit checkpoint settings', () => {
    expect(lines({ audit: { checkpointMinutes: 0, checkpointFile: '', every: 1 } })).toEqual([
      'audit.every: unknown key (expected one of checkpointFile, checkpointMinutes)',
      'audit.checkpointFile: must not be empty (expected the path the signed audit checkpoint is written to)',
      'audit.checkpointMinutes: must be more than 0, not 0 (expected minutes, more than 0 and at most 1440)',
    ]);
  });

  it('takes what the command line chose over the file', () => {
    expect(
      serveOptionsFrom(config.config, {
        data: '/elsewhere',
        port: 9000,
        host: '127.0.0.1',
        training: true,
        agentPort: 0,
        ackWindowMs: 60_000,
      }),
    ).toMatchObject({
      data: '/elsewhere',
      port: 9000,
      host: '127.0.0.1',
      training: true,
      agentPort: 0,
      ackWindowMs: 60_000,
    });
  });

  it('takes the reconciler’s grace period from the flag, then the file, else leaves the default', () => {
    const graced = checkServerConfig({ issuance: { reconcileGraceSeconds: 45 } }, '/srv');
    if (!graced.ok) throw new Error('fixture');
    expect(serveOptionsFrom(graced.config, {}).reconcileGraceMs).toBe(45_000);
    expect(serveOptionsFrom(graced.config, { reconcileGraceMs: 500 }).reconcileGraceMs).toBe(500);
    expect(serveOptionsFrom({}, {})).not.toHaveProperty('reconcileGraceMs');
    const wrong = checkServerConfig({ issuance: { reconcileGraceSeconds: 0 } }, '/srv');
    expect(wrong.ok ? [] : wrong.problems.map((p) => p.path)).toEqual(['issuance.reconcileGraceSeconds']);
  });

  it('falls back to the defaults without a file', () => {
    expect(serveOptionsFrom({}, {})).toEqual({
      port: SERVE_DEFAULTS.port,
      host: SERVE_DEFAULTS.host,
      training: false,
      agentPort: SERVE_DEFAULTS.agentPort,
      ackWindowMs: SERVE_DEFAULTS.ackWindowMinutes * 60_000,
    });
  });
});

describe('loading the file', () => {
  let dir: string;
  const write = async (name: string, value: unknown) => {
    const path = join(dir, name);
    await writeFile(path, typeof value === 'string' ? value : JSON.stringify(value));
    return path;
  };
  const failure = async (file: string): Promise<string[]> => {
    try {
      await loadServerConfig(file);
    } catch (error) {
      if (error instanceof ServerConfigError) return error.lines();
      throw error;
    }
    throw new Error('loaded');
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reservkort-config-'));
    await writeSelfSignedCertificate(dir);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await writeFile(join(dir, 'other.key'), other.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a good file, with the TLS files beside it', async () => {
    const file = await write('good.json', {
      tls: { certificateFile: 'server.crt', keyFile: 'server.key' },
      server: { publicUrl: 'https://localhost' },
    });
    expect((await loadServerConfig(file)).tls).toEqual({
      certificateFile: join(dir, 'server.crt'),
      keyFile: join(dir, 'server.key'),
    });
  });

  it('reports a missing file, broken JSON with its line, and TLS files that cannot be used', async () => {
    expect(await failure(join(dir, 'absent.json'))).toEqual([
      expect.stringMatching(/absent\.json: \(file\): cannot read it: ENOENT/),
    ]);
    const broken = await write('broken.json', '{\n  "server": {\n    "port": 3000,\n  }\n}\n');
    expect(await failure(broken)).toEqual([
      expect.stringMatching(/broken\.json: \(file\): not valid JSON: .*line 4/),
    ]);
    const wrong = await write('wrong.json', {
      tls: { certificateFile: 'missing.crt', keyFile: 'other.key' },
    });
    expect(await failure(wrong)).toEqual([
      expect.stringMatching(/^.*wrong\.json: tls\.certificateFile: cannot use .*missing\.crt: ENOENT/),
    ]);
    const mismatched = await write('mismatched.json', {
      tls: { certificateFile: 'server.crt', keyFile: 'other.key' },
    });
    expect(await failure(mismatched)).toEqual([
      `${mismatched}: tls.keyFile: ${join(dir, 'other.key')} is not the private key of ${join(dir, 'server.crt')}`,
    ]);
  });
});
