import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
});
