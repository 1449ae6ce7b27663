import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CalendarDate, compareDates, daysInMonth } from '../time.js';
import { luhnCheckDigit } from './luhn.js';
import {
  formatPersonalNumber,
  type PersonalNumber,
  type PersonalNumberStyle,
  parsePersonalNumber,
  personalNumberAge,
} from './personal-number.js';

const TODAY: CalendarDate = { year: 2025, month: 6, day: 15 };
const STYLES: readonly PersonalNumberStyle[] = ['twelve', 'twelve-hyphen', 'ten'];

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** A 12-digit number with the right check digit for any date digits, real or not. */
const withCheck = (yyyymmdd: string, serial: string): string =>
  `${yyyymmdd}${serial}${luhnCheckDigit(`${yyyymmdd.slice(2)}${serial}`)}`;

const parseOk = (input: string, today: CalendarDate = TODAY): PersonalNumber => {
  const r = parsePersonalNumber(input, today);
  if (!r.ok) throw new Error(`expected ${input} to parse, got ${r.error.code}`);
  return r.value.personalNumber;
};

const codeOf = (input: unknown, today: CalendarDate = TODAY): string | null => {
  const r = parsePersonalNumber(input as string, today);
  return r.ok ? null : r.error.code;
};

const dateBetween = (min: CalendarDate, max: CalendarDate): fc.Arbitrary<CalendarDate> =>
  fc
    .integer({ min: min.year, max: max.year })
    .chain((year) =>
      fc
        .integer({ min: 1, max: 12 })
        .chain((month) =>
          fc.integer({ min: 1, max: daysInMonth(year, month) }).map((day) => ({ year, month, day })),
        ),
    )
    .filter((d) => compareDates(d, min) >= 0 && compareDates(d, max) <= 0);

interface Case {
  readonly today: CalendarDate;
  readonly birth: CalendarDate;
  readonly samordning: boolean;
  readonly value: string;
}

// `today` up to 2099 keeps every age below 200, the range the 10-digit form can express.
const caseArb: fc.Arbitrary<Case> = dateBetween(
  { year: 1990, month: 1, day: 1 },
  { year: 2099, month: 12, day: 31 },
)
  .chain((today) =>
    fc.record({
      today: fc.constant(today),
      birth: dateBetween({ year: 1900, month: 1, day: 1 }, today),
      serial: fc.integer({ min: 0, max: 999 }),
      samordning: fc.boolean(),
    }),
  )
  .map(({ today, birth, serial, samordning }) => {
    const day = birth.day + (samordning ? 60 : 0);
    const value = withCheck(`${pad(birth.year, 4)}${pad(birth.month, 2)}${pad(day, 2)}`, pad(serial, 3));
    return { today, birth, samordning, value };
  });

describe('parsePersonalNumber: properties', () => {
  it('parses every valid personnummer and samordningsnummer back to the same value', () => {
    fc.assert(
      fc.property(caseArb, ({ today, birth, samordning, value }) => {
        const r = parsePersonalNumber(value, today);
        expect(r).toEqual({
          ok: true,
          value: {
            personalNumber: {
              value,
              kind: samordning ? 'samordningsnummer' : 'personnummer',
              birthDate: birth,
            },
            normalised: false,
          },
        });
      }),
    );
  });

  it('round-trips through every format style', () => {
    fc.assert(
      fc.property(caseArb, ({ today, value }) => {
        const p = parseOk(value, today);
        for (const style of STYLES) {
          const r = parsePersonalNumber(formatPersonalNumber(p, style, today), today);
          expect(r.ok && r.value.personalNumber).toEqual(p);
          expect(r.ok && r.value.normalised).toBe(style !== 'twelve');
        }
      }),
    );
  });

  it('reads any single-digit change in the last 10 digits as a check digit error', () => {
    fc.assert(
      fc.property(caseArb, ({ today, value }) => {
        const ten = formatPersonalNumber(parseOk(value, today), 'ten', today);
        for (let i = 2; i < 12; i++) {
          for (let d = 0; d <= 9; d++) {
            if (String(d) === value[i]) continue;
            const changed = `${value.slice(0, i)}${d}${value.slice(i + 1)}`;
            expect(codeOf(changed, today)).toBe('PNR_CHECK_DIGIT');
            // The same digit in the 10-digit form (which has a separator after 6 digits).
            const j = i - 2 < 6 ? i - 2 : i - 1;
            expect(codeOf(`${ten.slice(0, j)}${d}${ten.slice(j + 1)}`, today)).toBe('PNR_CHECK_DIGIT');
          }
        }
      }),
      { numRuns: 50 },
    );
  });
});

describe('parsePersonalNumber: written forms', () => {
  const expected: PersonalNumber = {
    value: '198001019804',
    kind: 'personnummer',
    birthDate: { year: 1980, month: 1, day: 1 },
  };

  it('accepts 12 plain digits without normalising', () => {
    expect(parsePersonalNumber('198001019804', TODAY)).toEqual({
      ok: true,
      value: { personalNumber: expected, normalised: false },
    });
  });

  it.each([
    ['19800101-9804'],
    ['800101-9804'],
    ['8001019804'],
    [' 198001019804 '],
    ['19800101 - 9804'],
    ['800101\t9804'],
    ['\u00a0800101\u00a0-\u00a09804\u00a0'],
    ['1980 01 01 9804'],
    // With the century given, `+` says nothing more and is ignored.
    ['19800101+9804'],
  ])('normalises %j', (input) => {
    expect(parsePersonalNumber(input, TODAY)).toEqual({
      ok: true,
      value: { personalNumber: expected, normalised: true },
    });
  });

  it('reads `+` as 100 years or older', () => {
    expect(parseOk('800101+9804')).toEqual({
      ...expected,
      value: '188001019804',
      birthDate: { ...expected.birthDate, year: 1880 },
    });
    expect(parseOk('121212+1212').birthDate.year).toBe(1912);
    expect(parseOk('121212-1212').birthDate.year).toBe(2012);
  });

  it('picks the century so that the birth date is not after today', () => {
    // Born today in 2025; tomorrow's date can only be 1925.
    expect(parseOk('250615-1238').birthDate).toEqual({ year: 2025, month: 6, day: 15 });
    expect(parseOk('250616-1237').birthDate).toEqual({ year: 1925, month: 6, day: 16 });
    expect(parseOk('2506161237').birthDate.year).toBe(1925);
    expect(parseOk('250616+1237').birthDate.year).toBe(1825);
    expect(parseOk('991231-1231').birthDate.year).toBe(1999);
  });
});

describe('parsePersonalNumber: dates', () => {
  it('accepts 29 February in a leap year', () => {
    expect(parseOk('20000229-1235').birthDate).toEqual({ year: 2000, month: 2, day: 29 });
    expect(parseOk('000229-1235').birthDate.year).toBe(2000);
    expect(parseOk('19240229-1237').birthDate.year).toBe(1924);
  });

  it('rejects 29 February outside leap years as a date, not a check digit, error', () => {
    expect(codeOf('19000229-1235')).toBe('PNR_DATE');
    expect(codeOf('000229+1235')).toBe('PNR_DATE');
    expect(codeOf('20230229-1238')).toBe('PNR_DATE');
    expect(codeOf('230229-1238')).toBe('PNR_DATE');
  });

  it.each([
    ['month 00', '19800001', 'PNR_DATE'],
    ['month 13', '19801301', 'PNR_DATE'],
    ['day 00', '19800100', 'PNR_DATE'],
    ['day 31 in April', '19800431', 'PNR_DATE'],
    ['day 32', '19800132', 'PNR_DATE'],
    ['day 60', '19800160', 'PNR_DATE'],
    ['day 92', '19800192', 'PNR_DATE'],
    ['day 91 in April (31 April + 60)', '19800491', 'PNR_DATE'],
  ])('rejects %s', (_, date, code) => {
    expect(codeOf(withCheck(date, '123'))).toBe(code);
    expect(codeOf(withCheck(date, '123').slice(2))).toBe(code);
  });

  it('rejects year 0000 in the 12-digit form', () => {
    expect(codeOf(withCheck('00000101', '123'))).toBe('PNR_DATE');
  });

  it('detects a samordningsnummer by day + 60 and keeps that day in the value', () => {
    expect(parseOk('800161-9801')).toEqual({
      value: '198001619801',
      kind: 'samordningsnummer',
      birthDate: { year: 1980, month: 1, day: 1 },
    });
    expect(parseOk(withCheck('19800191', '123')).kind).toBe('samordningsnummer');
    expect(parseOk(withCheck('20000289', '123')).birthDate).toEqual({ year: 2000, month: 2, day: 29 });
    expect(codeOf(withCheck('19000289', '123'))).toBe('PNR_DATE');
  });

  it('rejects a birth date after today', () => {
    expect(codeOf('20250616-1237')).toBe('PNR_DATE');
    expect(codeOf(withCheck('20990101', '123'))).toBe('PNR_DATE');
    expect(codeOf(withCheck('20250676', '123'))).toBe('PNR_DATE');
    expect(parseOk('20250615-1238').birthDate).toEqual(TODAY);
  });
});

describe('parsePersonalNumber: bad input', () => {
  it('reports a wrong check digit', () => {
    expect(parsePersonalNumber('19800101-9805', TODAY)).toEqual({
      ok: false,
      error: { code: 'PNR_CHECK_DIGIT' },
    });
  });

  it.each([
    '',
    '   ',
    'abc',
    '19800101--9804',
    '1980-01-01-9804',
    '1980010-19804',
    '98001019804',
    '800101-98045',
    '19800101980',
    '1198001019804',
    '8001019804x',
    '800101/9804',
    '+8001019804',
    'SE2321000016-abc1',
    '１９８００１０１９８０４',
  ])('rejects the shape of %j', (input) => {
    expect(codeOf(input)).toBe('PNR_INVALID');
  });

  it('never echoes the input: a personnummer is personal data', () => {
    const r = parsePersonalNumber(`  ${'x'.repeat(100)}  `, TODAY);
    expect(r).toEqual({ ok: false, error: { code: 'PNR_INVALID' } });
  });

  it.each([null, undefined, 198001019804, {}, ['198001019804']])('never throws on %j at runtime', (input) => {
    expect(parsePersonalNumber(input as unknown as string, TODAY)).toEqual({
      ok: false,
      error: { code: 'PNR_INVALID' },
    });
  });
});

describe('formatPersonalNumber', () => {
  const p = parseOk('198001019804');

  it('writes the three styles', () => {
    expect(formatPersonalNumber(p, 'twelve', TODAY)).toBe('198001019804');
    expect(formatPersonalNumber(p, 'twelve-hyphen', TODAY)).toBe('19800101-9804');
    expect(formatPersonalNumber(p, 'ten', TODAY)).toBe('800101-9804');
  });

  it('uses `+` from the 100th birthday on', () => {
    const old = parseOk('19250615-1238');
    expect(formatPersonalNumber(old, 'ten', { year: 2025, month: 6, day: 14 })).toBe('250615-1238');
    expect(formatPersonalNumber(old, 'ten', TODAY)).toBe('250615+1238');
  });

  it('keeps day + 60 for a samordningsnummer', () => {
    expect(formatPersonalNumber(parseOk('800161-9801'), 'ten', TODAY)).toBe('800161-9801');
  });
});

describe('personalNumberAge', () => {
  const born = parseOk(withCheck('19800615', '123'));

  it('counts whole years, the birthday counting on the day itself', () => {
    expect(personalNumberAge(born, { year: 2025, month: 6, day: 14 })).toBe(44);
    expect(personalNumberAge(born, { year: 2025, month: 6, day: 15 })).toBe(45);
    expect(personalNumberAge(born, { year: 2025, month: 6, day: 16 })).toBe(45);
    expect(personalNumberAge(born, { year: 1980, month: 6, day: 15 })).toBe(0);
  });

  it('turns a 29 February birthday on 1 March in other years', () => {
    const leap = parseOk('20000229-1235');
    expect(personalNumberAge(leap, { year: 2023, month: 2, day: 28 })).toBe(22);
    expect(personalNumberAge(leap, { year: 2023, month: 3, day: 1 })).toBe(23);
    expect(personalNumberAge(leap, { year: 2024, month: 2, day: 28 })).toBe(23);
    expect(personalNumberAge(leap, { year: 2024, month: 2, day: 29 })).toBe(24);
  });

  it('uses the real birth date of a samordningsnummer', () => {
    const s = parseOk(withCheck('19800675', '123'));
    expect(s.birthDate).toEqual({ year: 1980, month: 6, day: 15 });
    expect(personalNumberAge(s, { year: 2025, month: 6, day: 14 })).toBe(44);
    expect(personalNumberAge(s, { year: 2025, month: 6, day: 15 })).toBe(45);
  });
});
