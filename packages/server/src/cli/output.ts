import { describeError, type ErrorCode, isErrorCode } from '@reservkort/domain';

/** Prints rows as an aligned table (people) or as JSON (scripts). */
export const printRows = (rows: readonly Record<string, string | number | null>[], json: boolean): void => {
  if (json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  if (rows.length === 0) {
    process.stdout.write('(none)\n');
    return;
  }
  const columns = Object.keys(rows[0] ?? {});
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${line(columns)}\n`);
  for (const row of rows) process.stdout.write(`${line(columns.map((c) => String(row[c] ?? '')))}\n`);
};

/** Progress of long work goes to stderr, so stdout stays clean for --json. */
export const progress = (step: string, done: number, total: number): void => {
  process.stderr.write(`[${Math.min(done + 1, total)}/${total}] ${step}\n`);
};

/** One clear line for any failure: the catalogue's English title, the detail, and the code. */
export const errorLine = (error: unknown): string => {
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (isErrorCode(code)) {
    const details = (error as { details?: Record<string, string | number | boolean> }).details;
    const title = describeError(
      details ? { code: code as ErrorCode, details } : { code: code as ErrorCode },
      'en',
    ).title;
    return `reservkort: ${title}: ${message} [${code}]`;
  }
  if (typeof code === 'string') return `reservkort: ${message} [${code}]`;
  return `reservkort: ${message}`;
};
