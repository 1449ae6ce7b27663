import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isErrorCode } from '../error-code.js';
import type { CalendarDate } from '../time.js';
import { classifySearchQuery } from './search-query.js';

const TODAY: CalendarDate = { year: 2025, month: 6, day: 15 };
const PNR = {
  value: '198001019804',
  kind: 'personnummer',
  birthDate: { year: 1980, month: 1, day: 1 },
} as const;

const classify = (input: unknown) => classifySearchQuery(input as string, TODAY);
const partial = (fragment: string) => ({ kind: 'partial-hsa-id', fragment, codes: ['HSA_ID_INCOMPLETE'] });
const invalid = (code: string) => ({ kind: 'invalid', codes: [code] });

describe('classifySearchQuery: unusable input', () => {
  it.each([null, undefined, 198001019804, {}, ['1234']])('refuses %j at runtime', (input) => {
    expect(classify(input)).toEqual(invalid('QUERY_INVALID'));
  });

  it.each(['', '   ', '\t\u00a0\n'])('refuses the empty %j', (input) => {
    expect(classify(input)).toEqual(invalid('QUERY_INVALID'));
  });

  it('refuses more than 100 characters, counting surrounding space', () => {
    expect(classify('a'.repeat(101))).toEqual(invalid('QUERY_INVALID'));
    expect(classify(`${' '.repeat(97)}1234`)).toEqual(invalid('QUERY_INVALID'));
    expect(classify(`${' '.repeat(96)}1234`)).toEqual(partial('1234'));
  });
});

describe('classifySearchQuery: digits', () => {
  it('reads 12 plain digits as a personal number without notice', () => {
    expect(classify('198001019804')).toEqual({
      kind: 'personal-number',
      personalNumber: PNR,
      normalised: '198001019804',
      codes: [],
    });
  });

  it.each(['19800101-9804', '800101-9804', '8001019804', ' 198001019804', '1980 0101 9804', '19800101+9804'])(
    'reads %j as a personal number with the PNR_FORMAT notice',
    (input) => {
      expect(classify(input)).toEqual({
        kind: 'personal-number',
        personalNumber: PNR,
        normalised: '198001019804',
        codes: ['PNR_FORMAT'],
      });
    },
  );

  it('reads `+` as 100 years or older', () => {
    const q = classify('800101+9804');
    expect(q.kind === 'personal-number' && q.normalised).toBe('188001019804');
    expect(q.codes).toEqual(['PNR_FORMAT']);
  });

  it.each([
    ['19800101-9805', 'PNR_CHECK_DIGIT'],
    ['800101-9805', 'PNR_CHECK_DIGIT'],
    ['20250616-1237', 'PNR_DATE'],
    ['19000229-1235', 'PNR_DATE'],
    ['12345-67890', 'PNR_INVALID'],
    ['1980-01-01-9804', 'PNR_INVALID'],
    ['+8001019804', 'PNR_INVALID'],
  ])('passes on the error of a 10 or 12 digit %j', (input, code) => {
    expect(classify(input)).toEqual(invalid(code));
  });

  it.each(['123456', '1234567', '12345678901', '1234567890123', '12-34-56', '2321000016-123'])(
    'refuses %j: too many digits for a fragment, wrong count for a personal number',
    (input) => {
      expect(classify(input)).toEqual(invalid('PNR_INVALID'));
    },
  );

  it.each([
    ['1234', '1234'],
    ['  1234  ', '1234'],
    ['-1234', '-1234'],
    ['12345', '12345'],
    ['1', '1'],
    ['12 34', '12 34'],
  ])('reads fewer than 6 digits %j as a partial HSA-id', (input, fragment) => {
    expect(classify(input)).toEqual(partial(fragment));
  });

  it.each(['-', '+', '--', '- +'])('refuses separators without digits %j', (input) => {
    expect(classify(input)).toEqual(invalid('QUERY_INVALID'));
  });

  it('refuses a fragment longer than 31 characters', () => {
    expect(classify(`1${' '.repeat(30)}2`)).toEqual(invalid('QUERY_INVALID'));
    expect(classify(`1${' '.repeat(29)}2`)).toEqual(partial(`1${' '.repeat(29)}2`));
  });
});

describe('classifySearchQuery: SE prefix', () => {
  it.each([
    ['SE2321000016-abc1', 'SE2321000016-abc1'],
    ['se2321000016-abc1', 'SE2321000016-abc1'],
    [' SE162321000016-X9 ', 'SE162321000016-X9'],
  ])('reads %j as a HSA-id', (input, id) => {
    expect(classify(input)).toEqual({ kind: 'hsa-id', hsaId: id, normalised: id, codes: [] });
  });

  it.each(['SE2321000016', 'SE2321000016-', 'se162321000016', ' SE2321000016- '])(
    'reads the organisation part %j alone as a partial HSA-id',
    (input) => {
      expect(classify(input)).toEqual(partial(input.trim()));
    },
  );

  it.each([
    'SE1',
    'SE232',
    'SE152321000016',
    'SE2321000016-ab c',
    'SE2321000016-a-b',
    `SE2321000016-${'a'.repeat(19)}`,
  ])('refuses %j as an invalid HSA-id', (input) => {
    expect(classify(input)).toEqual(invalid('HSA_ID_INVALID'));
  });
});

describe('classifySearchQuery: fragments without SE', () => {
  it.each(['2321000016-abc1', '162321000016-X9', `2321000016-${'a'.repeat(18)}`])(
    'reads organisation number + local part %j as a partial HSA-id',
    (input) => {
      expect(classify(input)).toEqual(partial(input));
    },
  );

  it.each([`2321000016-${'a'.repeat(19)}`, '232100001-abc1', '152321000016-abc1'])(
    'refuses %j, which no HSA-id ends with',
    (input) => {
      expect(classify(input)).toEqual(invalid('QUERY_INVALID'));
    },
  );

  it.each(['abc1', '-abc1', 'X', 'SEabc', 'a'.repeat(31), '12ab'])(
    'reads the local part %j as a partial HSA-id',
    (input) => {
      expect(classify(input)).toEqual(partial(input));
    },
  );

  it.each([
    'a'.repeat(32),
    `-${'a'.repeat(31)}`,
    'abc def',
    'foo@bar',
    'åäö',
    '--abc',
    'abc-',
    'Anna Svensson',
  ])('refuses %j', (input) => {
    expect(classify(input)).toEqual(invalid('QUERY_INVALID'));
  });
});

describe('classifySearchQuery: properties', () => {
  it('never throws and always carries known codes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 120 }), fc.anything()), (input) => {
        const q = classify(input);
        expect(q.codes.every(isErrorCode)).toBe(true);
        if (q.kind === 'partial-hsa-id') expect(q.fragment.length).toBeLessThanOrEqual(31);
      }),
    );
  });
});
