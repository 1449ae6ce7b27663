import { execFile } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, readSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bufferedStdout, LOG_FLUSH_INTERVAL_MS } from './log-destination.js';

describe('bufferedStdout', () => {
  let dir: string;
  let file: string;
  let fd: number;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reservkort-log-'));
    file = join(dir, 'out.log');
    fd = openSync(file, 'a');
  });

  afterEach(async () => {
    closeSync(fd);
    await rm(dir, { recursive: true, force: true });
  });

  const written = () => readFileSync(file, 'utf8');

  it('holds lines back, and writes them within the flush interval', async () => {
    const log = bufferedStdout(fd);
    log.stream.write('{"msg":"one"}\n');
    expect(written()).toBe('');
    const until = Date.now() + 20 * LOG_FLUSH_INTERVAL_MS;
    while (written() === '' && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(written()).toBe('{"msg":"one"}\n');
    log.close();
  });

  it('writes what is buffered at once when closed, in order', () => {
    const log = bufferedStdout(fd);
    for (let i = 0; i < 100; i++) log.stream.write(`{"n":${i}}\n`);
    log.close();
    const lines = written().trim().split('\n');
    expect(lines).toHaveLength(100);
    expect(lines.map((l) => (JSON.parse(l) as { n: number }).n)).toEqual([...Array(100).keys()]);
    // Closing twice, as an exit after close does, is harmless.
    expect(() => log.close()).not.toThrow();
  });

  it('writes nothing more once closed, so its descriptor may be closed too', async () => {
    const log = bufferedStdout(fd);
    log.stream.write('{"msg":"last"}\n');
    log.close();
    closeSync(fd);
    // A write to the closed descriptor would fail as an uncaught error, failing this test file.
    await new Promise((r) => setTimeout(r, 3 * LOG_FLUSH_INTERVAL_MS));
    expect(written()).toBe('{"msg":"last"}\n');
    fd = openSync(file, 'a');
  });

  it('writes a line that came while a write was held up, once the reader takes the rest', async () => {
    // A pipe nobody reads yet: the first write fills it and waits, as a slow log reader makes it.
    const fifo = join(dir, 'pipe');
    await promisify(execFile)('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    const log = bufferedStdout(writer);
    const big = `${'x'.repeat(200 * 1024)}\n`;
    log.stream.write(big);
    log.stream.write('{"msg":"after"}\n');
    // The first flush falls while the pipe is still full.
    await new Promise((r) => setTimeout(r, 1.5 * LOG_FLUSH_INTERVAL_MS));
    let read = '';
    const chunk = Buffer.alloc(64 * 1024);
    const until = Date.now() + 40 * LOG_FLUSH_INTERVAL_MS;
    while (!read.endsWith('{"msg":"after"}\n') && Date.now() < until) {
      try {
        const n = readSync(reader, chunk);
        read += chunk.toString('latin1', 0, n);
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    expect(read).toBe(`${big}{"msg":"after"}\n`);
    log.close();
    closeSync(writer);
    closeSync(reader);
  });
});
