// Requests generated from the server's OpenAPI document: path parameters, query strings and JSON
// bodies drawn from the declared schemas, mixed with values that break them (numbers no database
// takes, text where numbers belong, long and odd Unicode text, wrong types, missing fields and
// prototype-pollution keys). Named values (a flow that exists, a fresh challenge) take a request
// past the schema into the handler.
import fc from 'fast-check';

/** The parts of JSON Schema (as OpenAPI 3.0 writes it) the server's routes use. */
export interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly nullable?: boolean;
  readonly enum?: readonly unknown[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly items?: JsonSchema;
  readonly maxItems?: number;
  readonly additionalProperties?: boolean | JsonSchema;
  readonly anyOf?: readonly JsonSchema[];
  readonly oneOf?: readonly JsonSchema[];
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
}

export interface OpenApiParameter {
  readonly in: 'path' | 'query' | 'header' | 'cookie';
  readonly name: string;
  readonly required?: boolean;
  readonly schema?: JsonSchema;
}

export interface OpenApiOperation {
  readonly parameters?: readonly OpenApiParameter[];
  readonly requestBody?: {
    readonly required?: boolean;
    readonly content?: Readonly<Record<string, { readonly schema?: JsonSchema }>>;
  };
}

export interface OpenApiDocument {
  readonly paths: Readonly<Record<string, Readonly<Record<string, OpenApiOperation>>>>;
}

export interface Operation {
  readonly method: string;
  /** As the document writes it: `/api/flows/{flowId}`. */
  readonly path: string;
  readonly operation: OpenApiOperation;
}

/** Every operation of the document. */
export const operationsOf = (document: OpenApiDocument): Operation[] =>
  Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ method: method.toUpperCase(), path, operation })),
  );

/** The route as Fastify registered it: `{flowId}` → `:flowId`, `{*}` → `*`. */
export const fastifyPath = (path: string): string =>
  path.replace(/\{\*\}/g, '*').replace(/\{([^}]+)\}/g, ':$1');

/** A number written into the JSON text as it is, such as 1e309, which JSON.stringify cannot write. */
export class RawNumber {
  constructor(readonly text: string) {}
  [fc.toStringMethod](): string {
    return this.text;
  }
}

/** A value to be fetched from the server just before the request: a fresh challenge of a kind. */
export class Fresh {
  constructor(readonly kind: string) {}
  [fc.toStringMethod](): string {
    return `<fresh ${this.kind}>`;
  }
}

/** Text that a careless parser or database mistakes for something else. */
const hostileText = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(
      '',
      ' ',
      'NaN',
      'Infinity',
      '-Infinity',
      '1e309',
      '-1e309',
      '1e20',
      '-1',
      '-0',
      '0x1F',
      '9007199254740993',
      '1.5',
      'null',
      'true',
      '[]',
      '{}',
      '__proto__',
      'constructor',
      '\u0000',
      '\ud800',
      '\ufeff',
      '\u202e\u2066abc',
      'e\u0301\u0301\u0301',
      '𝕏𝕐',
      "'; drop table orders; --",
      '../../etc/passwd',
      '%00',
      '%zz',
    ),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.integer({ min: 200, max: 5000 }).map((n) => 'é'.repeat(n)),
  );

/** JSON values of the wrong kind or beyond any bound. */
export const hostileValue = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    hostileText(),
    fc.constantFrom(
      new RawNumber('1e309'),
      new RawNumber('-1e309'),
      new RawNumber('1e400'),
      new RawNumber('1e20'),
      new RawNumber('-1e20'),
      new RawNumber('9007199254740993'),
      new RawNumber('-0'),
      new RawNumber('1.0000000000000002'),
      new RawNumber('5e-324'),
    ),
    fc.constantFrom(-1, 0, 1.5, -2147483649, 2 ** 53, Number.MAX_VALUE, true, false, null),
    fc.constantFrom([], {}, [null], [[[]]], ['x'], { length: 1 }),
    fc.constant('x'.repeat(40_000)),
    fc.anything({ maxDepth: 2 }),
  );

/** Keys that pollute a prototype if a handler merges them into an object. */
const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'] as const;

/** Sets a key as an own property, `__proto__` included. */
const withOwn = (target: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> => {
  Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true });
  return target;
};

const typesOf = (schema: JsonSchema): string[] => {
  const declared =
    schema.type === undefined ? [] : typeof schema.type === 'string' ? [schema.type] : [...schema.type];
  return schema.nullable ? [...declared, 'null'] : declared;
};

/**
 * A choice by weight, as the weights say: fast-check's bias would otherwise favour the first and
 * the last alternative, and a hostile value in every field stops every request at the schema.
 */
export const weighted = <T>(...choices: fc.WeightedArbitrary<T>[]): fc.Arbitrary<T> =>
  fc.noBias(fc.oneof(...choices));

/** Now and then `arbitrary`, else null: one in `every` draws. */
export const nowAndThen = <T>(arbitrary: fc.Arbitrary<T>, every: number): fc.Arbitrary<T | null> =>
  weighted<T | null>({ weight: every - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary });

/**
 * Values for names the test knows, to get past "not found" into the handler: per property or
 * parameter name, given its schema (undefined where the name means something else there).
 */
export interface Hints {
  readonly values: Readonly<Record<string, (schema: JsonSchema) => fc.Arbitrary<unknown> | undefined>>;
  /** Fields a handler reads beyond the schema, added now and then where the schema allows more. */
  readonly extraFields: readonly string[];
}

const stringOf = (schema: JsonSchema): fc.Arbitrary<string> => {
  const min = schema.minLength ?? 0;
  const max = schema.maxLength ?? 200;
  const inBounds = (s: string) => s.length >= min && s.length <= max;
  const drawn = schema.pattern
    ? fc.stringMatching(new RegExp(schema.pattern), { maxLength: Math.min(max, 80) })
    : fc.string({ minLength: Math.min(min, 80), maxLength: Math.min(max, 80) });
  // At the bounds and just beyond them, now and then.
  const edges = fc.constantFrom('a'.repeat(max), 'a'.repeat(max + 1), 'a'.repeat(Math.max(min - 1, 0)));
  return weighted({ weight: 12, arbitrary: drawn.filter(inBounds) }, { weight: 1, arbitrary: edges });
};

/** Numbers beyond what a database column or a JavaScript integer holds, as JSON and as text. */
const outlandishNumber = (): fc.Arbitrary<unknown> =>
  fc.constantFrom(
    new RawNumber('1e309'),
    new RawNumber('-1e309'),
    new RawNumber('1e20'),
    new RawNumber('9007199254740993'),
    new RawNumber('-0'),
    '1e309',
    '-1e309',
    '1e400',
    '1e20',
    'Infinity',
    'NaN',
    '-1',
    '0x10',
    '1.5',
  );

const numberOf = (schema: JsonSchema, integer: boolean): fc.Arbitrary<unknown> => {
  const min = schema.minimum ?? Number.MIN_SAFE_INTEGER;
  const max = schema.maximum ?? Number.MAX_SAFE_INTEGER;
  const edges = fc.constantFrom(min, max, min - 1, max + 1);
  const drawn = integer
    ? fc.integer({ min: Math.max(min, Number.MIN_SAFE_INTEGER), max: Math.min(max, Number.MAX_SAFE_INTEGER) })
    : fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
  return weighted<unknown>(
    { weight: 12, arbitrary: drawn },
    { weight: 1, arbitrary: edges },
    { weight: 2, arbitrary: outlandishNumber() },
  );
};

/**
 * Values for `schema`: mostly of its shape (or the hint for `name`, the property or parameter the
 * value is for), now and then a hostile value instead.
 */
export const valueFor = (schema: JsonSchema, hints: Hints, name = '', depth = 0): fc.Arbitrary<unknown> => {
  const shaped = shapedValue(schema, hints, name, depth);
  const hinted = hints.values[name]?.(schema);
  return weighted<unknown>(
    { weight: hinted ? 6 : 24, arbitrary: shaped },
    ...(hinted ? [{ weight: 18, arbitrary: hinted }] : []),
    { weight: 1, arbitrary: hostileValue() },
  );
};

/** Values of the schema's shape, with hostile values only inside it. */
export const shapedValue = (
  schema: JsonSchema,
  hints: Hints,
  name: string,
  depth: number,
): fc.Arbitrary<unknown> => {
  if (schema.enum !== undefined && schema.enum.length > 0) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives !== undefined && alternatives.length > 0)
    return fc.oneof(...alternatives.map((s) => shapedValue(s, hints, name, depth)));
  const types = typesOf(schema);
  if (types.length === 0) return depth > 2 ? fc.jsonValue({ maxDepth: 1 }) : fc.anything({ maxDepth: 2 });
  return fc.oneof(
    ...types.map((type): fc.Arbitrary<unknown> => {
      switch (type) {
        case 'null':
          return fc.constant(null);
        case 'boolean':
          return fc.boolean();
        case 'string':
          return stringOf(schema);
        case 'integer':
          return numberOf(schema, true);
        case 'number':
          return numberOf(schema, false);
        case 'array':
          return fc.array(schema.items ? valueFor(schema.items, hints, name, depth + 1) : fc.jsonValue(), {
            maxLength: Math.min(schema.maxItems ?? 2, 2) + 1,
          });
        case 'object':
          return objectOf(schema, hints, depth);
        default:
          return fc.anything({ maxDepth: 1 });
      }
    }),
  );
};

/**
 * An object of the schema's properties, now and then with one required field missing, a polluting
 * key, or fields the handler reads beyond the schema (where the schema allows more).
 */
const objectOf = (schema: JsonSchema, hints: Hints, depth: number): fc.Arbitrary<Record<string, unknown>> => {
  const properties = schema.properties ?? {};
  const names = Object.keys(properties);
  const model = Object.fromEntries(
    names.map((name) => [name, valueFor(properties[name] ?? {}, hints, name, depth + 1)]),
  );
  const required = (schema.required ?? []).filter((name) => names.includes(name));
  const extraNames =
    schema.additionalProperties === false ? [] : hints.extraFields.filter((n) => !names.includes(n));
  const extras = fc.record(
    Object.fromEntries(extraNames.map((name) => [name, valueFor({}, hints, name, depth + 1)])),
    { requiredKeys: [] },
  );
  return fc
    .tuple(
      fc.record(model, { requiredKeys: required }),
      nowAndThen(extras, 2),
      nowAndThen(fc.constantFrom(...(required.length > 0 ? required : ['-'])), 25),
      nowAndThen(fc.tuple(fc.constantFrom(...POLLUTION_KEYS), hostileValue()), 25),
    )
    .map(([value, extra, missing, pollution]) => {
      const copy: Record<string, unknown> = { ...extra, ...value };
      if (missing !== null) delete copy[missing];
      if (pollution !== null) withOwn(copy, pollution[0], pollution[1]);
      return copy;
    });
};

/** The JSON text of a value, raw numbers written as they are and `__proto__` as an ordinary key. */
export const jsonText = (value: unknown): string => {
  if (value instanceof RawNumber) return value.text;
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return 'null';
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return `[${value.map(jsonText).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value).map(
      (key) => `${JSON.stringify(key)}:${jsonText((value as Record<string, unknown>)[key])}`,
    );
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
};

/** Replaces every Fresh in a value by what `fetch` gives for its kind. */
export const resolveFresh = async (
  value: unknown,
  fetch: (kind: string) => Promise<string>,
): Promise<unknown> => {
  if (value instanceof Fresh) return fetch(value.kind);
  if (value instanceof RawNumber || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return Promise.all(value.map((v) => resolveFresh(v, fetch)));
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value))
    withOwn(copy, key, await resolveFresh((value as Record<string, unknown>)[key], fetch));
  return copy;
};

/** Text as a URL path segment or query value: every byte but the unreserved ones percent-encoded. */
export const encodeText = (text: string): string =>
  Array.from(Buffer.from(text, 'utf8'))
    .map((byte) => {
      const char = String.fromCharCode(byte);
      return /[A-Za-z0-9_~.-]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');

/** A value as the text a URL carries: strings as they are, other values as their JSON. */
export const urlText = (value: unknown): string =>
  typeof value === 'string' ? value : value instanceof RawNumber ? value.text : jsonText(value);

/** Percent sequences sent as they are: broken, overlong and encoded-surrogate UTF-8. */
export const RAW_SEGMENTS = ['%', '%zz', '%E0%A4%A', '%C0%AF', '%ED%A0%80', '..%2F..%2F', '%00'] as const;
