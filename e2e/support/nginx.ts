// nginx as production runs it in front of several servers, but as a child process of the test: its
// own configuration, pid file, logs and temp folders in a temp folder, on a free loopback port.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The nginx binary on PATH or in the sbin folders (Debian puts it in /usr/sbin, often not on PATH). */
export const findNginx = (): string | null => {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (dir !== '' && existsSync(join(dir, 'nginx'))) return join(dir, 'nginx');
  }
  return null;
};

export const requireNginx = (): string => {
  const binary = findNginx();
  if (binary === null)
    throw new Error('nginx is required for this test and was not found; install the nginx package');
  return binary;
};

export interface Nginx {
  /** The balancer's base URL, e.g. http://127.0.0.1:41234. */
  readonly url: string;
  readonly config: string;
  errorLog(): Promise<string>;
  /** `nginx -s reload` with the same prefix and configuration: new workers read the files again. */
  reload(): Promise<void>;
  /** Fast shutdown (SIGTERM); resolves once the master process is gone. */
  stop(): Promise<void>;
}

/** A port on loopback that nothing listens on at the moment. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });

/** What every configuration of ours starts with: the process, its pid file, error log and temp folders. */
export const nginxPreamble = (prefix: string, logLevel: 'warn' | 'info' = 'warn'): string => {
  const temp = (name: string) => `  ${name}_temp_path ${join(prefix, 'temp', name)};`;
  return `${
    // As root, the workers would otherwise run as nobody and could not use the temp folders.
    process.getuid?.() === 0 ? `user ${userInfo().username};\n` : ''
  }worker_processes 1;
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'error.log')} ${logLevel};
events { worker_connections 256; }
http {
  access_log ${join(prefix, 'access.log')};
${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join('\n')}
`;
};

/**
 * The configuration: round robin over the upstreams, a server that refuses connections (or answers
 * 502) is skipped, and each response names the server that answered in X-Upstream.
 */
export const nginxConfig = (prefix: string, port: number, upstreams: readonly string[]): string => {
  const servers = upstreams.map((url) => `    server ${new URL(url).host};`).join('\n');
  return `${nginxPreamble(prefix)}  upstream reservkort {
${servers}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://reservkort;
      proxy_next_upstream error timeout http_502;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;
      add_header X-Upstream $upstream_addr always;
    }
  }
}
`;
};

/** The processes whose parent is `pid` (nginx's workers and cache helpers), from /proc. */
const workersOf = async (pid: number | undefined): Promise<number[]> => {
  if (pid === undefined) return [];
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // The command name is in parentheses and may hold spaces: the fields after its end are fixed.
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (parent === pid) found.push(Number(entry));
  }
  return found;
};

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

/**
 * Runs nginx in `prefix` (a folder of its own) with the configuration text; resolves once `ready`
 * says so, or fails with what nginx said.
 */
export const runNginx = async (
  prefix: string,
  configText: string,
  ready: () => Promise<boolean>,
  readiness: string,
): Promise<Omit<Nginx, 'url'>> => {
  const binary = requireNginx();
  await mkdir(join(prefix, 'temp'), { recursive: true });
  const config = join(prefix, 'nginx.conf');
  await writeFile(config, configText);
  const errorLogFile = join(prefix, 'error.log');
  // -e: the error log before the configuration is read, else nginx opens its compiled-in path.
  const base = ['-p', prefix, '-c', config, '-e', errorLogFile];
  const child = spawn(binary, [...base, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const gone = exited(child);
  const errorLog = () => readFile(errorLogFile, 'utf8').catch(() => '');
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  };
  // `-g` is given at start only: a reload reads the file with what the master was started with.
  // The signal returns at once; until the old workers have gone, they may still answer with the
  // files as they were. So a reload is done when none of the workers before it is left.
  const reload = async () => {
    const before = await workersOf(child.pid);
    await run(binary, [...base, '-g', 'daemon off;', '-s', 'reload']).catch(
      async (error: { stderr?: string }) => {
        throw new Error(`nginx -s reload: ${error.stderr ?? ''}${await errorLog()}`);
      },
    );
    const until = Date.now() + 10_000;
    for (;;) {
      const now = await workersOf(child.pid);
      if (now.length > 0 && !now.some((pid) => before.includes(pid))) return;
      if (Date.now() > until)
        throw new Error(`nginx kept its old workers after a reload:\n${await errorLog()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const until = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`nginx exited (${child.exitCode ?? child.signalCode}):\n${out}${await errorLog()}`);
    if (await ready().catch(() => false)) break;
    if (Date.now() > until) {
      await stop();
      throw new Error(`nginx did not ${readiness}:\n${out}${await errorLog()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { config, errorLog, stop, reload };
};

/** Starts nginx in `prefix` (a folder of its own) in front of the upstreams; resolves once GET /health answers. */
export const startNginx = async (prefix: string, upstreams: readonly string[]): Promise<Nginx> => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const running = await runNginx(
    prefix,
    nginxConfig(prefix, port, upstreams),
    async () => (await fetch(`${url}/health`)).status === 200,
    `answer GET /health on ${url}`,
  );
  return { url, ...running };
};
