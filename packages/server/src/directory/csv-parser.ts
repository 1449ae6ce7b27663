// A small RFC 4180 reader for the directory import. No CSV library is installed, and the format we
// accept is small enough that a reader we can test line by line is safer than a new dependency.

/** One record and the line of the file it starts on (1-based), for problem reports. */
export interface CsvRecord {
  readonly line: number;
  readonly fields: readonly string[];
}

export type CsvParse =
  | { readonly ok: true; readonly records: readonly CsvRecord[] }
  | { readonly ok: false; readonly line: number; readonly message: string };

const QUOTE = '"';
const COMMA = ',';
const CR = '\r';
const LF = '\n';
const BOM = '\uFEFF';

/**
 * Splits CSV text into records of fields. Follows RFC 4180: fields separated by commas, records by
 * CRLF (a bare LF or CR is accepted too, as editors write them), fields in double quotes may hold
 * commas, line breaks and doubled quotes. A final line break does not start an empty record.
 * A quote inside an unquoted field, text after a closing quote, or a quote left open is an error:
 * guessing there would shift every later field into the wrong column.
 */
export const parseCsv = (input: string): CsvParse => {
  const text = input.startsWith(BOM) ? input.slice(BOM.length) : input;
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let i = 0;
  // Whether the current record has begun: an empty last line is no record.
  let started = false;

  const endRecord = (): void => {
    fields.push(field);
    records.push({ line: recordLine, fields });
    fields = [];
    field = '';
    started = false;
  };
  const newline = (): void => {
    // CRLF counts once.
    if (text[i] === CR && text[i + 1] === LF) i += 1;
    i += 1;
    line += 1;
  };

  while (i < text.length) {
    const c = text[i];
    if (!started) {
      recordLine = line;
      started = true;
    }
    if (c === QUOTE) {
      if (field !== '') {
        return { ok: false, line, message: 'a quote inside an unquoted field: quote the whole field' };
      }
      const openedOn = line;
      i += 1;
      for (;;) {
        if (i >= text.length) {
          return { ok: false, line: openedOn, message: 'a quoted field is never closed' };
        }
        const q = text[i];
        if (q === QUOTE) {
          if (text[i + 1] === QUOTE) {
            field += QUOTE;
            i += 2;
            continue;
          }
          i += 1;
          break;
        }
        if (q === CR || q === LF) {
          field += q === CR && text[i + 1] === LF ? '\r\n' : q;
          newline();
          continue;
        }
        field += q;
        i += 1;
      }
      const next = text[i];
      if (next !== undefined && next !== COMMA && next !== CR && next !== LF) {
        return { ok: false, line, message: 'text after a closing quote: a field is either quoted or not' };
      }
      continue;
    }
    if (c === COMMA) {
      fields.push(field);
      field = '';
      i += 1;
      continue;
    }
    if (c === CR || c === LF) {
      endRecord();
      newline();
      continue;
    }
    field += c;
    i += 1;
  }
  if (started) endRecord();
  return { ok: true, records };
};
