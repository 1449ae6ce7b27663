import { describe, expect, it } from 'vitest';
import { parseCsv } from './csv-parser.js';

const fieldsOf = (text: string) => {
  const parsed = parseCsv(text);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.records.map((r) => r.fields);
};

describe('parseCsv', () => {
  it('splits plain records and keeps empty fields', () => {
    expect(fieldsOf('a,b,c\n1,,3\n')).toEqual([
      ['a', 'b', 'c'],
      ['1', '', '3'],
    ]);
    expect(fieldsOf(',\n')).toEqual([['', '']]);
  });

  it('reads quoted fields with commas, doubled quotes and line breaks', () => {
    expect(fieldsOf('"Berg, Bo","say ""hej""","two\nlines",""\n')).toEqual([
      ['Berg, Bo', 'say "hej"', 'two\nlines', ''],
    ]);
  });

  it('accepts CRLF, LF and CR line ends, a BOM, and no final line break', () => {
    expect(fieldsOf('\uFEFFa,b\r\nc,d\re,f\ng,h')).toEqual([
      ['a', 'b'],
      ['c', 'd'],
      ['e', 'f'],
      ['g', 'h'],
    ]);
    expect(fieldsOf('"x\r\ny",z\r\n')).toEqual([['x\r\ny', 'z']]);
  });

  it('numbers records by the line they start on, counting line breaks inside quotes', () => {
    const parsed = parseCsv('h\n"one\ntwo\nthree"\n\nlast\n');
    expect(parsed.ok && parsed.records.map((r) => [r.line, r.fields])).toEqual([
      [1, ['h']],
      [2, ['one\ntwo\nthree']],
      [5, ['']],
      [6, ['last']],
    ]);
  });

  it('gives nothing for empty text', () => {
    expect(fieldsOf('')).toEqual([]);
  });

  it.each([
    ['a,"never closed\n\nx', 1, 'never closed'],
    ['a,b\nc,"d"e\n', 2, 'after a closing quote'],
    ['a,b\nc,d"e"\n', 2, 'inside an unquoted field'],
  ])('refuses %j at line %i', (text, line, message) => {
    const parsed = parseCsv(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.line).toBe(line);
      expect(parsed.message).toContain(message);
    }
  });
});
