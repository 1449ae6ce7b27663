// Shared by the benchmarks: a load generator (wrk) and child processes that report readiness.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface LoadResult {
  readonly rps: number;
  readonly p50ms: number;
  readonly p99ms: number;
  readonly errors: number;
}

const toMs = (value: string, unit: string): number =>
  Number(value) * (unit === 'us' ? 0.001 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 1);

/** Runs wrk against a URL with a Lua script; parses requests/s and the latency percentiles. */
export const wrk = async (
  url: string,
  options: { connections: number; seconds: number; threads?: number; script: string },
): Promise<LoadResult> => {
  const { stdout } = await run(
    'wrk',
    [
      '-t',
      String(options.threads ?? 2),
      '-c',
      String(options.connections),
      '-d',
      `${options.seconds}s`,
      '--latency',
      '--timeout',
      '5s',
      '-s',
      options.script,
      url,
    ],
    { timeout: (options.seconds + 30) * 1000, maxBuffer: 10 * 1024 * 1024 },
  );
  const percentile = (p: string): number => {
    const match = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\b`, 'm').exec(stdout);
    return match ? toMs(match[1] ?? '0', match[2] ?? 'ms') : Number.NaN;
  };
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? Number.NaN);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
  const errors = non2xx + (socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0);
  return { rps, p50ms: percentile('50'), p99ms: percentile('99'), errors };
};

export const requireTool = async (tool: string, hint: string): Promise<void> => {
  try {
    await run('sh', ['-c', `command -v ${tool}`]);
  } catch {
    throw new Error(`${tool} is needed for this benchmark: ${hint}`);
  }
};

/** Starts a process and resolves once a line of its output matches `ready`. */
export const startProcess = (
  command: string,
  args: readonly string[],
  ready: RegExp,
  env: NodeJS.ProcessEnv = process.env,
) =>
  new Promise<ChildProcess>((resolve, reject) => {
    const child = spawn(command, [...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let started = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} did not start: ${output.slice(-500)}`));
    }, 30_000);
    // Only a tail is kept, and only tested until ready: a server logging every request otherwise
    // grows it without end, rescanning it makes this process slow to drain the pipe, and the
    // server's synchronous log writes then wait on a full pipe inside the measured requests.
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8192);
      if (!started && ready.test(output)) {
        started = true;
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code}: ${output.slice(-500)}`));
    });
  });

export const stopProcess = async (child: ChildProcess): Promise<void> => {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
};

/** The median of some numbers (the upper one of an even count); NaN for none. */
export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

/** The item whose `key` is the median of the items' (the upper one of an even count). */
export const medianBy = <T>(items: readonly T[], key: (item: T) => number): T => {
  const sorted = [...items].sort((a, b) => key(a) - key(b));
  const middle = sorted[Math.floor(sorted.length / 2)];
  if (middle === undefined) throw new Error('no results');
  return middle;
};

export const ratio = (a: number, b: number): string => {
  if (!(b > 0) || !Number.isFinite(a)) return 'n/a';
  const r = a / b;
  return r >= 0.01 ? `${r.toFixed(2)}×` : `1/${Math.round(1 / r)}`;
};

export const table = (rows: readonly (readonly string[])[]): string => {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
};

/** CPU time in ms, and the part of it spent in the kernel. */
export interface CpuMs {
  readonly total: number;
  readonly system: number;
}

/** User + system CPU time of a process so far, from /proc (Linux); NaN elsewhere. */
export const processCpuMs = (pid: number | undefined): CpuMs => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat, in clock ticks (100 a second on Linux).
    const user = Number(fields[11]) * 10;
    const system = Number(fields[12]) * 10;
    return { total: user + system, system };
  } catch {
    return { total: Number.NaN, system: Number.NaN };
  }
};

/** Node flags for the servers a bench starts (BENCH_SERVER_NODE_ARGS, space-separated): e.g. --cpu-prof. */
export const serverNodeArgs = (): string[] =>
  (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
