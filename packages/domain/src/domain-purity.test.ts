// The domain decides and never does: no I/O, no clock, no randomness, no console. The compiler
// settings already deny it Node's typings; this test also catches what typings would not.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('.', import.meta.url).pathname;

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'test-support' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });

const FORBIDDEN: [string, RegExp][] = [
  ['a Node module', /from ['"]node:|require\(/],
  ['another package', /from ['"](?!\.)/],
  ['the clock', /Date\.now\(|new Date\(\)|performance\.now/],
  ['randomness', /Math\.random|crypto\./],
  ['the console', /console\./],
  ['the process', /process\./],
  ['a thrown exception', /\bthrow\b/],
];

describe('domain purity', () => {
  const files = sourceFiles(root);

  it('finds the domain sources', () => {
    expect(files.length).toBeGreaterThan(15);
  });

  it.each(FORBIDDEN)('no source reaches for %s', (_what, pattern) => {
    const offenders = files
      .filter((file) => pattern.test(readFileSync(file, 'utf8')))
      .map((f) => relative(root, f));
    expect(offenders).toEqual([]);
  });
});
