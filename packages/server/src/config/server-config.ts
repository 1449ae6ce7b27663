import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { AssuranceLevel } from '@reservkort/domain';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { ServeOptions } from '../server.js';

// The configuration file of `reservkort serve --config FILE`: everything that is not a secret.
// Secrets come from the environment or from files in the data folder's secrets/, never from here.

/** What the server uses when neither a flag, the environment nor the configuration file says. */
export const SERVE_DEFAULTS = {
  port: 3000,
  host: '127.0.0.1',
  agentPort: 31443,
  ackWindowMinutes: 10,
  /** One year, the usual HSTS lifetime; sent only when the public URL is https. */
  hstsMaxAgeSeconds: 31_536_000,
} as const;

/**
 * The longest `ocsp.maxAgeSeconds`: half the hour an OCSP answer is valid, since the responder
 * hands an answer out for the other half (no cache may keep one past its nextUpdate).
 */
export const OCSP_MAX_AGE_LIMIT_SECONDS = 1800;

/** The exit status of a start that failed on its configuration (EX_CONFIG of sysexits.h). */
export const EXIT_CONFIG = 78;

/** The configuration as the file has it, checked, with relative paths resolved against the file's folder. */
export interface ServerConfig {
  readonly server?: {
    readonly host?: string;
    readonly port?: number;
    readonly publicUrl?: string;
    readonly trustProxy?: boolean | readonly string[];
    readonly hstsMaxAgeSeconds?: number;
  };
  readonly tls?: { readonly certificateFile: string; readonly keyFile: string };
  readonly dataFolder?: string;
  readonly database?: { readonly url?: string };
  readonly pki?: {
    readonly organisation?: string;
    readonly policyOids?: { readonly [L in AssuranceLevel]?: string };
  };
  readonly issuance?: { readonly ackWindowMinutes?: number; readonly reconcileGraceSeconds?: number };
  readonly sessions?: { readonly idleMinutes?: number; readonly absoluteHours?: number };
  readonly agent?: { readonly url?: string; readonly trainingPort?: number };
  readonly training?: boolean;
  readonly rateLimit?: { readonly loginPerMinute?: number; readonly redisUrl?: string };
  readonly ocsp?: { readonly cacheMegabytes?: number; readonly maxAgeSeconds?: number };
  readonly operations?: {
    readonly access?: 'open' | 'token';
    readonly host?: string;
    readonly port?: number;
  };
  readonly audit?: { readonly checkpointFile?: string; readonly checkpointMinutes?: number };
}

/** One thing wrong with the file: where (a dotted path, e.g. `server.port`) and what. */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
}

export type ServerConfigErrorCode = 'CONFIG_INVALID';

/** A configuration file the server cannot start with; every problem in it, not just the first. */
export class ServerConfigError extends Error {
  override readonly name = 'ServerConfigError';
  readonly code: ServerConfigErrorCode = 'CONFIG_INVALID';
  constructor(
    readonly file: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(`${problems.length} problem${problems.length === 1 ? '' : 's'} in the configuration file ${file}`);
  }

  /** One line per problem: `FILE: server.port: must be … (expected …)`. */
  lines(): string[] {
    return this.problems.map((p) => `${this.file}: ${p.path}: ${p.message}`);
  }
}

export type ConfigCheck =
  | { readonly ok: true; readonly config: ServerConfig }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

// --- The shape ------------------------------------------------------------------------------------

const OID = { type: 'string', pattern: '^[0-2](\\.(0|[1-9][0-9]*))+$', description: 'a dotted OID' } as const;
const PORT = { type: 'integer', minimum: 0, maximum: 65535, description: 'a TCP port 0–65535' } as const;
const PATH = { type: 'string', minLength: 1, description: 'a file path' } as const;

/** Each `description` says what is expected; problem lines quote it. */
const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    server: {
      type: 'object',
      additionalProperties: false,
      properties: {
        host: { type: 'string', minLength: 1, description: 'an address to listen on, e.g. 0.0.0.0' },
        port: { ...PORT, description: 'a TCP port 0–65535, 0 for any free port' },
        publicUrl: {
          type: 'string',
          minLength: 1,
          description: 'the origin browsers and certificates use, e.g. https://reservkort.example.org',
        },
        trustProxy: {
          type: ['boolean', 'array'],
          items: { type: 'string' },
          description: 'true, false or a list of proxy addresses and CIDR ranges',
        },
        hstsMaxAgeSeconds: {
          type: 'integer',
          minimum: 0,
          maximum: 63_072_000,
          description: 'seconds 0–63072000, 0 for no HSTS header',
        },
      },
    },
    tls: {
      type: 'object',
      additionalProperties: false,
      required: ['certificateFile', 'keyFile'],
      properties: {
        certificateFile: { ...PATH, description: 'the path of the PEM certificate (chain) to serve' },
        keyFile: { ...PATH, description: 'the path of the PEM private key of tls.certificateFile' },
      },
    },
    dataFolder: { ...PATH, description: 'a folder path' },
    database: {
      type: 'object',
      additionalProperties: false,
      properties: {
        url: {
          type: 'string',
          minLength: 1,
          description: 'postgres://USER@HOST:PORT/DATABASE (no password) or sqlite:PATH',
        },
      },
    },
    pki: {
      type: 'object',
      additionalProperties: false,
      properties: {
        organisation: {
          type: 'string',
          minLength: 1,
          maxLength: 64,
          description: 'the organisation name in CA subjects, 1–64 characters',
        },
        policyOids: {
          type: 'object',
          additionalProperties: false,
          properties: {
            LoA3: { ...OID, description: 'the dotted certificate policy OID for LoA3, e.g. 1.2.752.x.y' },
            LoA2: { ...OID, description: 'the dotted certificate policy OID for LoA2, e.g. 1.2.752.x.y' },
          },
        },
      },
    },
    issuance: {
      type: 'object',
      additionalProperties: false,
      properties: {
        ackWindowMinutes: {
          type: 'number',
          exclusiveMinimum: 0,
          maximum: 1440,
          description: 'minutes, more than 0 and at most 1440',
        },
        reconcileGraceSeconds: {
          type: 'number',
          exclusiveMinimum: 0,
          maximum: 3600,
          description: 'seconds, more than 0 and at most 3600',
        },
      },
    },
    sessions: {
      type: 'object',
      additionalProperties: false,
      properties: {
        idleMinutes: { type: 'integer', minimum: 1, maximum: 1440, description: 'whole minutes 1–1440' },
        absoluteHours: {
          type: 'number',
          exclusiveMinimum: 0,
          maximum: 168,
          description: 'hours, more than 0 and at most 168',
        },
      },
    },
    agent: {
      type: 'object',
      additionalProperties: false,
      properties: {
        url: {
          type: 'string',
          minLength: 1,
          description: 'the card agent’s origin as the page reaches it, e.g. http://127.0.0.1:31443',
        },
        trainingPort: { ...PORT, description: 'a TCP port 0–65535 for the training card agent' },
      },
    },
    training: { type: 'boolean', description: 'true or false' },
    rateLimit: {
      type: 'object',
      additionalProperties: false,
      properties: {
        loginPerMinute: {
          type: 'integer',
          minimum: 1,
          maximum: 100_000,
          description: 'requests per minute and client address, 1–100000',
        },
        redisUrl: {
          type: 'string',
          minLength: 1,
          description: 'redis://HOST:PORT/DB or rediss://HOST:PORT/DB (no password)',
        },
      },
    },
    ocsp: {
      type: 'object',
      additionalProperties: false,
      properties: {
        cacheMegabytes: {
          type: 'number',
          exclusiveMinimum: 0,
          maximum: 4096,
          description: 'megabytes (MiB), more than 0 and at most 4096',
        },
        maxAgeSeconds: {
          type: 'integer',
          minimum: 0,
          maximum: OCSP_MAX_AGE_LIMIT_SECONDS,
          description: `whole seconds 0–${OCSP_MAX_AGE_LIMIT_SECONDS}, 0 to have caches revalidate every use`,
        },
      },
    },
    operations: {
      type: 'object',
      additionalProperties: false,
      properties: {
        access: { type: 'string', enum: ['open', 'token'], description: '"open" or "token"' },
        host: {
          type: 'string',
          minLength: 1,
          description: 'an address for the operations listener, e.g. 127.0.0.1 or a private address',
        },
        port: { ...PORT, description: 'a TCP port 0–65535 for the operations listener' },
      },
    },
    audit: {
      type: 'object',
      additionalProperties: false,
      properties: {
        checkpointFile: { ...PATH, description: 'the path the signed audit checkpoint is written to' },
        checkpointMinutes: {
          type: 'number',
          exclusiveMinimum: 0,
          maximum: 1440,
          description: 'minutes, more than 0 and at most 1440',
        },
      },
    },
  },
} as const;

// Compiled on first use: every CLI command loads this module, few read a configuration file.
let compiled: ValidateFunction | undefined;
const validator = (): ValidateFunction =>
  (compiled ??= new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true }).compile(
    SCHEMA,
  ));

// --- Problems as people read them -------------------------------------------------------------------

/** `/server/trustProxy/1` → `server.trustProxy[1]`. */
const dotted = (pointer: string): string =>
  pointer
    .split('/')
    .slice(1)
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');

const joinPath = (parent: string, key: string): string => (parent ? `${parent}.${key}` : key);

/** A value as a problem line shows it; long text is cut. */
const shown = (value: unknown): string => {
  if (typeof value === 'string')
    return `the text ${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}…` : value)}`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return String(value);
};

const TYPE_NAMES: Record<string, string> = {
  integer: 'a whole number',
  number: 'a number',
  string: 'a text (string)',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
};

const COMPARISONS: Record<string, string> = {
  '>=': 'at least',
  '<=': 'at most',
  '>': 'more than',
  '<': 'less than',
};

/** Levenshtein distance, for "did you mean" on a misspelt key. */
const distance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
};

const description = (schema: unknown): string | undefined =>
  typeof schema === 'object' &&
  schema !== null &&
  'description' in schema &&
  typeof schema.description === 'string'
    ? schema.description
    : undefined;

const propertiesOf = (schema: unknown): Record<string, unknown> =>
  typeof schema === 'object' &&
  schema !== null &&
  'properties' in schema &&
  typeof schema.properties === 'object'
    ? (schema.properties as Record<string, unknown>)
    : {};

const expecting = (schema: unknown): string => {
  const text = description(schema);
  return text ? ` (expected ${text})` : '';
};

const fromAjv = (error: ErrorObject): ConfigProblem => {
  const path = dotted(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const known = Object.keys(propertiesOf(error.parentSchema));
      const near = known.find((k) => distance(k, key) <= 2);
      return {
        path: joinPath(path, key),
        message: `unknown key${near ? `; did you mean ${near}?` : ''} (expected one of ${known.join(', ')})`,
      };
    }
    case 'required': {
      const key = String(params.missingProperty);
      return {
        path: joinPath(path, key),
        message: `missing${expecting(propertiesOf(error.parentSchema)[key])}`,
      };
    }
    case 'type':
      return {
        path: path || '(top level)',
        message: `must be ${String(params.type)
          .split(',')
          .map((t) => TYPE_NAMES[t] ?? t)
          .join(' or ')}, not ${shown(error.data)}${expecting(error.parentSchema)}`,
      };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return {
        path,
        message: `must be ${COMPARISONS[String(params.comparison)] ?? params.comparison} ${params.limit}, not ${shown(error.data)}${expecting(error.parentSchema)}`,
      };
    case 'minLength':
      return { path, message: `must not be empty${expecting(error.parentSchema)}` };
    case 'maxLength':
      return { path, message: `is too long, ${shown(error.data)}${expecting(error.parentSchema)}` };
    case 'pattern':
      return { path, message: `${shown(error.data)} is not valid${expecting(error.parentSchema)}` };
    default:
      return {
        path: path || '(top level)',
        message: `${error.message ?? 'is not valid'}${expecting(error.parentSchema)}`,
      };
  }
};

// --- Secrets ------------------------------------------------------------------------------------------

const SECRET_WORDS = new Set([
  'passphrase',
  'password',
  'passwd',
  'pwd',
  'pin',
  'secret',
  'secrets',
  'token',
]);

/** `caPassphrase`, `pkcs11_pin`, `db-password` → their words. */
const wordsOf = (key: string): string[] =>
  key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);

const secretHint = (words: readonly string[]): string => {
  if (words.includes('passphrase'))
    return 'set RESERVKORT_CA_PASSPHRASE or put it in secrets/ca-passphrase of the data folder';
  if (words.includes('pin'))
    return 'set RESERVKORT_PKCS11_PIN or put it in secrets/pkcs11-pin of the data folder';
  if (words.includes('token'))
    return 'set RESERVKORT_OPERATIONS_TOKEN or put it in secrets/operations-token of the data folder';
  if (words.some((w) => w.startsWith('pass') || w === 'pwd'))
    return 'give the database URL with its password in DATABASE_URL or secrets/database-url of the data folder, or the password in PGPASSWORD';
  return 'secrets come from the environment or from files in the data folder’s secrets/';
};

/** Keys that look like they hold a secret, anywhere in the file; their values are never shown. */
const secretKeys = (value: unknown, path: string, found: ConfigProblem[]): void => {
  if (typeof value !== 'object' || value === null) return;
  for (const [key, child] of Object.entries(value)) {
    const childPath = Array.isArray(value) ? `${path}[${key}]` : joinPath(path, key);
    const words = wordsOf(key);
    if (!Array.isArray(value) && words.some((w) => SECRET_WORDS.has(w))) {
      found.push({
        path: childPath,
        message: `secrets do not belong in the configuration file; ${secretHint(words)}`,
      });
    } else secretKeys(child, childPath, found);
  }
};

// --- Checks the shape cannot express --------------------------------------------------------------

/** An http(s) origin: scheme, host and port, no credentials, path, query or fragment. */
const originProblem = (text: string): string | null => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `${shown(text)} is not a URL`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `must start with https:// or http://`;
  if (url.username !== '' || url.password !== '') return 'must not carry a user name or password';
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '')
    return `must be an origin only, without a path, query or fragment (${url.origin})`;
  return null;
};

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

const proxyAddressProblem = (text: string): string | null => {
  if (PROXY_NAMES.has(text)) return null;
  const [address = '', prefix, extra] = text.split('/');
  const family = isIP(address);
  const bits = family === 4 ? 32 : 128;
  if (
    family === 0 ||
    extra !== undefined ||
    (prefix !== undefined && !/^\d+$/.test(prefix)) ||
    Number(prefix ?? 0) > bits
  )
    return `${shown(text)} is not an IP address, a CIDR range or one of loopback, linklocal, uniquelocal`;
  return null;
};

const POSTGRES_URL = /^postgres(?:ql)?:\/\//i;
const SQLITE_SCHEME = 'sqlite:';

/** A database URL, checked without ever repeating it (it may hold a secret). */
const databaseProblem = (text: string): string | null => {
  if (text.startsWith(SQLITE_SCHEME)) {
    return text.length > SQLITE_SCHEME.length ? null : 'sqlite: needs a path, e.g. sqlite:reservkort.db';
  }
  if (!POSTGRES_URL.test(text)) return 'must start with postgres://, postgresql:// or sqlite:';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not a valid postgres:// URL';
  }
  if (url.password !== '' || url.searchParams.has('password'))
    return 'contains a password, which is a secret: give the whole URL in DATABASE_URL or secrets/database-url of the data folder, or leave the password out and set PGPASSWORD';
  return null;
};

/** A Redis URL, checked without ever repeating it (it may hold a secret). */
const redisProblem = (text: string): string | null => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not a valid redis:// URL';
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return 'must start with redis:// or rediss://';
  if (url.password !== '' || url.searchParams.has('password'))
    return 'contains a password, which is a secret: give the whole URL in RESERVKORT_REDIS_URL or secrets/redis-url of the data folder';
  return null;
};

/** `sqlite:PATH` with PATH relative to the configuration file's folder. */
const resolvedDatabaseUrl = (text: string, base: string): string => {
  if (!text.startsWith(SQLITE_SCHEME)) return text;
  const rest = text.slice(SQLITE_SCHEME.length);
  const path = rest.startsWith('//') ? rest.slice(2) : rest;
  return path === ':memory:' || isAbsolute(path) ? text : `${SQLITE_SCHEME}${resolve(base, path)}`;
};

const semanticProblems = (config: ServerConfig): ConfigProblem[] => {
  const problems: ConfigProblem[] = [];
  const add = (path: string, message: string | null) => {
    if (message !== null) problems.push({ path, message });
  };
  const publicUrl = config.server?.publicUrl;
  if (typeof publicUrl === 'string') {
    const problem = originProblem(publicUrl);
    add('server.publicUrl', problem);
    if (problem === null && config.tls !== undefined && publicUrl.startsWith('http:'))
      add('server.publicUrl', 'must start with https:// when tls is configured');
  }
  const trust = config.server?.trustProxy;
  if (Array.isArray(trust))
    trust.forEach((entry, i) => {
      if (typeof entry === 'string') add(`server.trustProxy[${i}]`, proxyAddressProblem(entry));
    });
  if (typeof config.database?.url === 'string') add('database.url', databaseProblem(config.database.url));
  if (typeof config.agent?.url === 'string') add('agent.url', originProblem(config.agent.url));
  if (typeof config.rateLimit?.redisUrl === 'string')
    add('rateLimit.redisUrl', redisProblem(config.rateLimit.redisUrl));
  if (config.operations?.host !== undefined && config.operations.port === undefined)
    add('operations.host', 'needs operations.port: the operations listener has no port of its own otherwise');
  const idle = config.sessions?.idleMinutes;
  const absolute = config.sessions?.absoluteHours;
  if (typeof idle === 'number' && typeof absolute === 'number' && idle > absolute * 60)
    add('sessions.idleMinutes', `${idle} minutes is longer than sessions.absoluteHours (${absolute} h)`);
  return problems;
};

const withResolvedPaths = (config: ServerConfig, base: string): ServerConfig => ({
  ...config,
  ...(config.dataFolder === undefined ? {} : { dataFolder: resolve(base, config.dataFolder) }),
  ...(config.tls === undefined
    ? {}
    : {
        tls: {
          certificateFile: resolve(base, config.tls.certificateFile),
          keyFile: resolve(base, config.tls.keyFile),
        },
      }),
  ...(config.database?.url === undefined
    ? {}
    : { database: { url: resolvedDatabaseUrl(config.database.url, base) } }),
  ...(config.audit?.checkpointFile === undefined
    ? {}
    : { audit: { ...config.audit, checkpointFile: resolve(base, config.audit.checkpointFile) } }),
});

/**
 * Checks a parsed configuration file: its shape (types, ranges, unknown keys), secrets that must not
 * be in it, and what the values mean. Every problem is reported. Relative paths are resolved
 * against `base`, the file's folder.
 */
export const checkServerConfig = (raw: unknown, base: string): ConfigCheck => {
  const secrets: ConfigProblem[] = [];
  secretKeys(raw, '', secrets);
  const secretPaths = new Set(secrets.map((p) => p.path));
  const validate = validator();
  const shape = validate(raw)
    ? []
    : (validate.errors ?? []).map(fromAjv).filter((p) => !secretPaths.has(p.path));
  const shapePaths = new Set(shape.map((p) => p.path));
  const meaning =
    typeof raw === 'object' && raw !== null && !Array.isArray(raw)
      ? semanticProblems(raw as ServerConfig).filter((p) => !shapePaths.has(p.path))
      : [];
  const problems = [...secrets, ...shape, ...meaning];
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, config: withResolvedPaths(raw as ServerConfig, base) };
};

// --- The file -------------------------------------------------------------------------------------

const reasonOf = (error: unknown): string => {
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return typeof code === 'string' && !message?.includes(code)
    ? `${code}: ${message}`
    : (message ?? 'unknown error');
};

/** JSON.parse's complaint, with a line and column where the engine gives only a position. */
const jsonProblem = (error: unknown, text: string): string => {
  const message = error instanceof Error ? error.message : String(error);
  const position = /at position (\d+)/.exec(message)?.[1];
  if (position === undefined || /line \d+/.test(message)) return message;
  const before = text.slice(0, Number(position)).split('\n');
  return `${message} (line ${before.length} column ${(before.at(-1)?.length ?? 0) + 1})`;
};

/** The TLS files: readable, PEM, and the key belongs to the certificate. */
const tlsProblems = async (tls: NonNullable<ServerConfig['tls']>): Promise<ConfigProblem[]> => {
  const problems: ConfigProblem[] = [];
  let certificate: X509Certificate | null = null;
  try {
    certificate = new X509Certificate(await readFile(tls.certificateFile));
  } catch (error) {
    problems.push({
      path: 'tls.certificateFile',
      message: `cannot use ${tls.certificateFile}: ${reasonOf(error)} (expected a readable PEM certificate)`,
    });
  }
  try {
    const key = createPrivateKey(await readFile(tls.keyFile));
    if (certificate !== null && !certificate.checkPrivateKey(key))
      problems.push({
        path: 'tls.keyFile',
        message: `${tls.keyFile} is not the private key of ${tls.certificateFile}`,
      });
  } catch (error) {
    problems.push({
      path: 'tls.keyFile',
      message: `cannot use ${tls.keyFile}: ${reasonOf(error)} (expected a readable, unencrypted PEM private key)`,
    });
  }
  return problems;
};

/**
 * Reads and checks a configuration file; throws a ServerConfigError listing every problem. Files it
 * names (TLS certificate and key) are read here too, so a wrong path stops the start, not a request.
 */
export const loadServerConfig = async (file: string): Promise<ServerConfig> => {
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ServerConfigError(file, [{ path: '(file)', message: `cannot read it: ${reasonOf(error)}` }]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ServerConfigError(file, [
      { path: '(file)', message: `not valid JSON: ${jsonProblem(error, text)}` },
    ]);
  }
  const checked = checkServerConfig(raw, dirname(path));
  if (!checked.ok) throw new ServerConfigError(file, checked.problems);
  const files = checked.config.tls ? await tlsProblems(checked.config.tls) : [];
  if (files.length > 0) throw new ServerConfigError(file, files);
  return checked.config;
};

// --- Precedence -----------------------------------------------------------------------------------

/** What the command line (or the environment behind a flag) chose explicitly; unset means not chosen. */
export interface CommandLineChoices {
  readonly data?: string;
  readonly port?: number;
  readonly host?: string;
  readonly training?: boolean;
  readonly agentPort?: number;
  readonly ackWindowMs?: number;
  readonly reconcileGraceMs?: number;
  readonly ocspMaxAgeSeconds?: number;
}

/**
 * The server's options: a flag or its environment variable wins over the configuration file, which
 * wins over the defaults. Training is on when either the flag or the file turns it on.
 */
export const serveOptionsFrom = (config: ServerConfig, chosen: CommandLineChoices): ServeOptions => {
  const data = chosen.data ?? config.dataFolder;
  const ackWindowMs =
    chosen.ackWindowMs ??
    Math.round((config.issuance?.ackWindowMinutes ?? SERVE_DEFAULTS.ackWindowMinutes) * 60_000);
  const graceSeconds = config.issuance?.reconcileGraceSeconds;
  const reconcileGraceMs =
    chosen.reconcileGraceMs ?? (graceSeconds === undefined ? undefined : Math.round(graceSeconds * 1000));
  const sessions = {
    ...(config.sessions?.idleMinutes === undefined ? {} : { idleMs: config.sessions.idleMinutes * 60_000 }),
    ...(config.sessions?.absoluteHours === undefined
      ? {}
      : { absoluteMs: Math.round(config.sessions.absoluteHours * 3_600_000) }),
  };
  const server = config.server ?? {};
  const ocspMaxAgeSeconds = chosen.ocspMaxAgeSeconds ?? config.ocsp?.maxAgeSeconds;
  const checkpoints = {
    ...(config.audit?.checkpointFile === undefined ? {} : { file: config.audit.checkpointFile }),
    ...(config.audit?.checkpointMinutes === undefined
      ? {}
      : { intervalMs: Math.round(config.audit.checkpointMinutes * 60_000) }),
  };
  return {
    ...(data === undefined ? {} : { data }),
    port: chosen.port ?? server.port ?? SERVE_DEFAULTS.port,
    host: chosen.host ?? server.host ?? SERVE_DEFAULTS.host,
    training: chosen.training === true || config.training === true,
    agentPort: chosen.agentPort ?? config.agent?.trainingPort ?? SERVE_DEFAULTS.agentPort,
    ackWindowMs,
    ...(reconcileGraceMs === undefined ? {} : { reconcileGraceMs }),
    ...(server.publicUrl === undefined ? {} : { publicUrl: new URL(server.publicUrl).origin }),
    ...(config.tls === undefined ? {} : { tls: config.tls }),
    ...(server.trustProxy === undefined ? {} : { trustProxy: server.trustProxy }),
    ...(server.hstsMaxAgeSeconds === undefined ? {} : { hstsMaxAgeSeconds: server.hstsMaxAgeSeconds }),
    ...(config.database?.url === undefined ? {} : { databaseUrl: config.database.url }),
    ...(config.pki === undefined ? {} : { pki: config.pki }),
    ...(Object.keys(sessions).length === 0 ? {} : { sessions }),
    ...(config.agent?.url === undefined ? {} : { agentUrl: new URL(config.agent.url).origin }),
    ...(config.rateLimit === undefined
      ? {}
      : {
          rateLimit: {
            ...(config.rateLimit.loginPerMinute === undefined
              ? {}
              : { perMinute: config.rateLimit.loginPerMinute }),
            ...(config.rateLimit.redisUrl === undefined ? {} : { redisUrl: config.rateLimit.redisUrl }),
          },
        }),
    ...(config.ocsp?.cacheMegabytes === undefined
      ? {}
      : { ocspCacheBytes: Math.round(config.ocsp.cacheMegabytes * 1024 * 1024) }),
    ...(ocspMaxAgeSeconds === undefined ? {} : { ocspMaxAgeSeconds }),
    ...(config.operations === undefined ? {} : { operations: config.operations }),
    ...(Object.keys(checkpoints).length === 0 ? {} : { auditCheckpoints: checkpoints }),
  };
};
