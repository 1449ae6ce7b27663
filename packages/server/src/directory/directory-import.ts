/**
 * # Directory import
 *
 * `reservkort directory import FILE` loads the organisation tree, the persons (possible card
 * recipients) and the ID-administrators with their roles from a JSON or CSV file. The whole file is
 * checked first and every bad row is reported; only a file without problems is written, in one
 * transaction, so an import either happens completely or not at all.
 *
 * ## JSON
 *
 * ```json
 * {
 *   "branches": [
 *     { "id": "SE2321000016-1000", "parentId": null, "name": "Region Exempel" },
 *     { "id": "SE2321000016-1100", "parentId": "SE2321000016-1000", "name": "Centrallasarettet" }
 *   ],
 *   "persons": [
 *     { "hsaId": "SE2321000016-p001", "personalNumber": "19850412-9878", "givenName": "Anna",
 *       "surname": "Andersson", "branchId": "SE2321000016-1100", "protectedIdentity": false }
 *   ],
 *   "admins": [
 *     { "hsaId": "SE2321000016-ad01", "givenName": "Karin", "surname": "Kvist",
 *       "roles": [{ "role": "KRA", "branchId": "SE2321000016-1100" }] }
 *   ]
 * }
 * ```
 *
 * - `branches`: `id` any non-empty text (usually the unit's HSA-id), unique; `parentId` the id of
 *   another branch in the file, or `null` (or left out) for a top of the tree; `name` non-empty.
 * - `persons`: `hsaId` a full HSA-id (`SE` + organisation number + `-` + local part), unique;
 *   `personalNumber` all twelve digits, `YYYYMMDDNNNC` or `YYYYMMDD-NNNC`, a personnummer or a
 *   samordningsnummer (day + 60), or `null` (or left out) for a person known only by a foreign
 *   passport; `givenName`, `surname` non-empty; `branchId` a branch of the file;
 *   `protectedIdentity` `true` for skyddade personuppgifter (default `false`); optional `upn`
 *   (the Windows user principal name, `name@suffix`, UTF-8) and `email` (an ASCII e-mail address),
 *   which go into the subjectAltName of the person's card certificates (docs/PROFILES.md).
 * - `admins`: `hsaId`, `givenName`, `surname` as for persons; `roles` a list of
 *   `{ "role": "KRA" | "RA" | "ORA" | "LRA" | "KUR", "branchId" }` (roles inherit downwards).
 *   An administrator who may also receive a card is listed under `persons` too.
 * - Each of the three lists may be left out; other keys are ignored.
 *
 * ## CSV
 *
 * One file, comma-separated (RFC 4180: a field holding a comma, a quote or a line break is written
 * in double quotes, a quote inside it doubled), UTF-8, with a header row naming all eleven columns
 * in any order, and optionally the columns `upn` and `email` too:
 *
 * ```csv
 * type,id,parent_id,name,hsa_id,personal_number,given_name,surname,branch_id,protected,role
 * branch,SE2321000016-1000,,Region Exempel,,,,,,,
 * branch,SE2321000016-1100,SE2321000016-1000,"Centrallasarettet, Storstad",,,,,,,
 * person,,,,SE2321000016-p001,19850412-9878,Anna,Andersson,SE2321000016-1100,false,
 * admin,,,,SE2321000016-ad01,,Karin,Kvist,,,
 * role,,,,SE2321000016-ad01,,,,SE2321000016-1100,,KRA
 * ```
 *
 * `type` says what a row is and which columns it uses (the others are ignored):
 * - `branch`: `id`, `parent_id` (empty for a top), `name`;
 * - `person`: `hsa_id`, `personal_number` (empty: none), `given_name`, `surname`, `branch_id`,
 *   `protected` (`true`/`false`, `yes`/`no`, `ja`/`nej`, `1`/`0`; empty is `false`), `upn` and
 *   `email` (empty: none);
 * - `admin`: `hsa_id`, `given_name`, `surname`;
 * - `role`: `hsa_id` of an `admin` row of the file, `role`, `branch_id`.
 * Rows may come in any order; empty lines are skipped.
 *
 * ## Problems
 *
 * Every problem names where it is — for CSV the line of the file (the header is line 1), for JSON
 * the list (`section`) and the 1-based position in it — the field, and a code of the catalogue:
 * HSA_ID_INVALID; PNR_INVALID, PNR_CHECK_DIGIT, PNR_DATE for a personal number; ORGANISATION_INVALID
 * for a duplicate branch id, an unknown parent or a cycle of parents; BRANCH_UNKNOWN for a person or
 * role in a branch the file does not have; REQUEST_INVALID for a missing column or value, a bad
 * UPN or e-mail address, a
 * duplicate person or administrator, or a value of the wrong kind (an unknown role, say).
 *
 * ## Writing
 *
 * Branches are inserted or, when their id is already stored, renamed and moved. Persons and
 * administrators are added: one already in the directory makes the import fail (CONFLICT) and
 * nothing is written. Roles already held are kept. One audit entry records the import.
 */
import {
  type Branch,
  type BranchId,
  buildOrganisationTree,
  type CalendarDate,
  dateOf,
  type ErrorCode,
  type Grant,
  type HsaId,
  type IdAdmin,
  type Instant,
  type Person,
  type PersonalNumber,
  parseHsaId,
  parsePersonalNumber,
} from '@reservkort/domain';
import {
  appendAudit,
  type Database,
  grantRole,
  insertAdmin,
  insertPerson,
  listBranches,
  upsertBranches,
} from '@reservkort/store';
import type { Kysely, Transaction } from 'kysely';
import { parseCsv } from './csv-parser.js';

// --- Types ---------------------------------------------------------------------------------------

/** A database or an open transaction, as the store's repositories take them. */
export type DirectoryDb = Kysely<Database> | Transaction<Database>;

export type DirectoryFormat = 'json' | 'csv';

/** An ID-administrator of the directory: usable as the domain's IdAdmin, with a name. */
export interface DirectoryAdmin extends IdAdmin {
  readonly givenName: string;
  readonly surname: string;
}

/** A checked directory, ready to write. */
export interface Directory {
  readonly branches: readonly Branch[];
  readonly persons: readonly Person[];
  readonly admins: readonly DirectoryAdmin[];
}

/** The list of a JSON file a problem is in. */
export type DirectorySection = 'branches' | 'persons' | 'admins';

export interface DirectoryProblem {
  /** CSV: the line of the file the row starts on (header = 1). JSON: the 1-based position in `section`. */
  readonly line: number;
  /** JSON only: which list `line` counts in. */
  readonly section?: DirectorySection;
  /** The field as the file names it: `hsa_id` (CSV), `hsaId` or `roles[2].branchId` (JSON). */
  readonly field?: string;
  readonly code: ErrorCode;
  readonly message: string;
}

export type DirectoryParse =
  | { readonly ok: true; readonly directory: Directory }
  | { readonly ok: false; readonly problems: readonly DirectoryProblem[] };

export interface DirectoryImportCounts {
  readonly branches: number;
  readonly persons: number;
  readonly admins: number;
  /** Role grants newly given (a grant already held is not counted). */
  readonly roles: number;
}

/** A directory that cannot be written as it is; the code is from the catalogue. */
export class DirectoryImportError extends Error {
  override readonly name = 'DirectoryImportError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const DIRECTORY_ROLES: readonly Grant[] = ['KRA', 'RA', 'ORA', 'LRA', 'KUR'];

export const CSV_COLUMNS = [
  'type',
  'id',
  'parent_id',
  'name',
  'hsa_id',
  'personal_number',
  'given_name',
  'surname',
  'branch_id',
  'protected',
  'role',
] as const;

/** Columns a CSV file may leave out: a person's names for certificates' subjectAltName. */
export const OPTIONAL_CSV_COLUMNS = ['upn', 'email'] as const;

type CsvColumn = (typeof CSV_COLUMNS)[number] | (typeof OPTIONAL_CSV_COLUMNS)[number];

/** "line 7" for CSV, "persons #3" for JSON: where a problem is, for people. */
export const problemLocation = (problem: DirectoryProblem): string =>
  problem.section === undefined ? `line ${problem.line}` : `${problem.section} #${problem.line}`;

/** One problem as a line of text: `persons #3, hsaId: HSA_ID_INVALID – …`. */
export const formatDirectoryProblem = (problem: DirectoryProblem): string =>
  `${problemLocation(problem)}${problem.field === undefined ? '' : `, ${problem.field}`}: ${problem.code} – ${problem.message}`;

// --- Rows as read, before checking ----------------------------------------------------------------

/** Where a row is, and how its file names each field. */
interface RowPlace {
  readonly format: DirectoryFormat;
  readonly line: number;
  readonly section?: DirectorySection;
  /** The file's name for a field of this row. */
  readonly name: (field: LogicalField) => string;
}

type LogicalField =
  | 'id'
  | 'parentId'
  | 'name'
  | 'hsaId'
  | 'personalNumber'
  | 'givenName'
  | 'surname'
  | 'branchId'
  | 'protectedIdentity'
  | 'role'
  | 'roles'
  | 'upn'
  | 'email';

interface RawBranch {
  readonly at: RowPlace;
  readonly id: unknown;
  readonly parentId: unknown;
  readonly name: unknown;
}

interface RawPerson {
  readonly at: RowPlace;
  readonly hsaId: unknown;
  readonly personalNumber: unknown;
  readonly givenName: unknown;
  readonly surname: unknown;
  readonly branchId: unknown;
  readonly protectedIdentity: unknown;
  readonly upn: unknown;
  readonly email: unknown;
}

interface RawRole {
  readonly at: RowPlace;
  /** CSV: the admin the role row names; JSON: the admin the role is listed under (null). */
  readonly adminHsaId: unknown;
  readonly role: unknown;
  readonly branchId: unknown;
}

interface RawAdmin {
  readonly at: RowPlace;
  readonly hsaId: unknown;
  readonly givenName: unknown;
  readonly surname: unknown;
  /** JSON: the roles listed under the admin. CSV roles are separate rows. */
  readonly roles: readonly RawRole[];
}

interface RawDirectory {
  readonly branches: readonly RawBranch[];
  readonly persons: readonly RawPerson[];
  readonly admins: readonly RawAdmin[];
  /** CSV role rows, matched to admins by HSA-id. */
  readonly roleRows: readonly RawRole[];
}

/** Problems found while reading the file's structure; more follow from checking the rows. */
type Read = { readonly raw: RawDirectory; readonly problems: DirectoryProblem[] };

const problemAt = (
  at: RowPlace,
  field: LogicalField | null,
  code: ErrorCode,
  message: string,
): DirectoryProblem => ({
  line: at.line,
  ...(at.section === undefined ? {} : { section: at.section }),
  ...(field === null ? {} : { field: at.name(field) }),
  code,
  message,
});

// --- JSON -----------------------------------------------------------------------------------------

const JSON_NAME = (field: LogicalField): string => field;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Where a JSON syntax error is, when the engine says. Only the place is kept: the engine's message
 * may quote the text around it, and that can be a personal number.
 */
const jsonErrorPlace = (text: string, error: unknown): { line: number; column: number | null } => {
  const message = error instanceof Error ? error.message : '';
  const lineColumn = /line (\d+) column (\d+)/.exec(message);
  if (lineColumn) return { line: Number(lineColumn[1]), column: Number(lineColumn[2]) };
  const position = /position (\d+)/.exec(message);
  if (!position) return { line: 1, column: null };
  const before = text.slice(0, Number(position[1])).split('\n');
  return { line: before.length, column: (before[before.length - 1]?.length ?? 0) + 1 };
};

const readJson = (text: string): Read | DirectoryProblem[] => {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    const { line, column } = jsonErrorPlace(text, error);
    const where = column === null ? '' : ` (column ${column})`;
    return [{ line, code: 'REQUEST_INVALID', message: `not valid JSON${where}` }];
  }
  if (!isRecord(document)) {
    return [
      {
        line: 1,
        code: 'REQUEST_INVALID',
        message: 'the file must hold one JSON object with "branches", "persons" and "admins"',
      },
    ];
  }
  const problems: DirectoryProblem[] = [];
  const place = (section: DirectorySection, index: number): RowPlace => ({
    format: 'json',
    line: index + 1,
    section,
    name: JSON_NAME,
  });
  /** The objects of a list with their places; anything else in it is reported. */
  const list = (section: DirectorySection): { at: RowPlace; item: Record<string, unknown> }[] => {
    const value = document[section];
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
      problems.push({ line: 1, code: 'REQUEST_INVALID', message: `"${section}" must be a list` });
      return [];
    }
    const objects: { at: RowPlace; item: Record<string, unknown> }[] = [];
    value.forEach((item: unknown, index) => {
      const at = place(section, index);
      if (isRecord(item)) objects.push({ at, item });
      else problems.push(problemAt(at, null, 'REQUEST_INVALID', 'each entry must be an object'));
    });
    return objects;
  };

  const branches: RawBranch[] = list('branches').map(({ at, item }) => ({
    at,
    id: item.id,
    parentId: item.parentId ?? null,
    name: item.name,
  }));
  const persons: RawPerson[] = list('persons').map(({ at, item }) => ({
    at,
    hsaId: item.hsaId,
    personalNumber: item.personalNumber ?? null,
    givenName: item.givenName,
    surname: item.surname,
    branchId: item.branchId,
    protectedIdentity: item.protectedIdentity ?? false,
    upn: item.upn ?? null,
    email: item.email ?? null,
  }));
  const admins: RawAdmin[] = list('admins').map(({ at, item }) => {
    const roles: RawRole[] = [];
    const listed = item.roles ?? [];
    if (!Array.isArray(listed)) {
      problems.push(problemAt(at, 'roles', 'REQUEST_INVALID', 'must be a list of { role, branchId }'));
    } else {
      listed.forEach((role: unknown, roleIndex) => {
        const position = `roles[${roleIndex + 1}]`;
        if (isRecord(role)) {
          const roleAt: RowPlace = { ...at, name: (field) => `${position}.${field}` };
          roles.push({ at: roleAt, adminHsaId: null, role: role.role, branchId: role.branchId });
        } else {
          const whole: RowPlace = { ...at, name: () => position };
          problems.push(problemAt(whole, 'roles', 'REQUEST_INVALID', 'must be { role, branchId }'));
        }
      });
    }
    return { at, hsaId: item.hsaId, givenName: item.givenName, surname: item.surname, roles };
  });
  return { raw: { branches, persons, admins, roleRows: [] }, problems };
};

// --- CSV ------------------------------------------------------------------------------------------

const CSV_NAMES: { readonly [F in LogicalField]: string } = {
  id: 'id',
  parentId: 'parent_id',
  name: 'name',
  hsaId: 'hsa_id',
  personalNumber: 'personal_number',
  givenName: 'given_name',
  surname: 'surname',
  branchId: 'branch_id',
  protectedIdentity: 'protected',
  role: 'role',
  roles: 'role',
  upn: 'upn',
  email: 'email',
};

const CSV_NAME = (field: LogicalField): string => CSV_NAMES[field];

const readCsv = (text: string): Read | DirectoryProblem[] => {
  const parsed = parseCsv(text);
  if (!parsed.ok) return [{ line: parsed.line, code: 'REQUEST_INVALID', message: parsed.message }];
  const [header, ...rows] = parsed.records;
  if (header === undefined) {
    return [
      { line: 1, code: 'REQUEST_INVALID', message: `the header row is missing: ${CSV_COLUMNS.join(',')}` },
    ];
  }
  const names = header.fields.map((f) => f.trim().toLowerCase());
  const index = new Map<string, number>();
  const headerProblems: DirectoryProblem[] = [];
  names.forEach((name, i) => {
    if (![...CSV_COLUMNS, ...OPTIONAL_CSV_COLUMNS].includes(name as CsvColumn)) {
      headerProblems.push({
        line: header.line,
        field: name,
        code: 'REQUEST_INVALID',
        message: `unknown column; the columns are ${CSV_COLUMNS.join(', ')} (and optionally ${OPTIONAL_CSV_COLUMNS.join(', ')})`,
      });
    } else if (index.has(name)) {
      headerProblems.push({
        line: header.line,
        field: name,
        code: 'REQUEST_INVALID',
        message: 'the column appears twice',
      });
    } else {
      index.set(name, i);
    }
  });
  for (const column of CSV_COLUMNS) {
    if (!index.has(column)) {
      headerProblems.push({
        line: header.line,
        field: column,
        code: 'REQUEST_INVALID',
        message: 'the column is missing',
      });
    }
  }
  // Without a sound header no row can be read into the right fields.
  if (headerProblems.length > 0) return headerProblems;

  const problems: DirectoryProblem[] = [];
  const branches: RawBranch[] = [];
  const persons: RawPerson[] = [];
  const admins: RawAdmin[] = [];
  const roleRows: RawRole[] = [];
  for (const row of rows) {
    // An empty line (or one of empty fields only) is no row.
    if (row.fields.every((f) => f.trim() === '')) continue;
    const at: RowPlace = { format: 'csv', line: row.line, name: CSV_NAME };
    if (row.fields.length !== names.length) {
      problems.push({
        line: row.line,
        code: 'REQUEST_INVALID',
        message: `the row has ${row.fields.length} fields, the header ${names.length}`,
      });
      continue;
    }
    // Empty cells are absent values: checks then say "missing", and optional ones take defaults.
    const cell = (column: CsvColumn): string | null => {
      const value = (row.fields[index.get(column) ?? -1] ?? '').trim();
      return value === '' ? null : value;
    };
    const type = (cell('type') ?? '').toLowerCase();
    if (type === 'branch') {
      branches.push({ at, id: cell('id'), parentId: cell('parent_id'), name: cell('name') });
    } else if (type === 'person') {
      persons.push({
        at,
        hsaId: cell('hsa_id'),
        personalNumber: cell('personal_number'),
        givenName: cell('given_name'),
        surname: cell('surname'),
        branchId: cell('branch_id'),
        protectedIdentity: cell('protected'),
        upn: cell('upn'),
        email: cell('email'),
      });
    } else if (type === 'admin') {
      admins.push({
        at,
        hsaId: cell('hsa_id'),
        givenName: cell('given_name'),
        surname: cell('surname'),
        roles: [],
      });
    } else if (type === 'role') {
      roleRows.push({ at, adminHsaId: cell('hsa_id'), role: cell('role'), branchId: cell('branch_id') });
    } else {
      problems.push({
        line: row.line,
        field: 'type',
        code: 'REQUEST_INVALID',
        message:
          type === ''
            ? 'the type is missing: branch, person, admin or role'
            : 'the type must be branch, person, admin or role',
      });
    }
  }
  return { raw: { branches, persons, admins, roleRows }, problems };
};

// --- Checking rows --------------------------------------------------------------------------------

// The 12-digit form carries its century, so without a date given "today" only bounds the birth date.
const FAR_FUTURE: CalendarDate = { year: 9999, month: 12, day: 31 };
// All twelve digits, optionally with the separator: a 10-digit number needs a "today" to get its century.
const TWELVE_DIGITS = /^\d{8}[-+]?\d{4}$/;
const TRUE_WORDS = new Set(['true', 'yes', 'ja', '1']);
// An rfc822Name is an IA5String: ASCII only, one @, a domain of dot-separated labels.
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const EMAIL = new RegExp(`^[A-Za-z0-9.!#$%&'*+/=?^_\`{|}~-]{1,64}@${LABEL}(?:\\.${LABEL})+$`);
// A UPN (UTF8String): a name without spaces, controls or a second @, then its suffix (a domain name).
const UPN = new RegExp(`^[^\\s@\\p{Cc}]{1,64}@${LABEL}(?:\\.${LABEL})*$`, 'u');
const FALSE_WORDS = new Set(['false', 'no', 'nej', '0']);

const PNR_MESSAGES: Partial<Record<ErrorCode, string>> = {
  PNR_CHECK_DIGIT: 'the check digit is wrong',
  PNR_DATE: 'the date part is not a real date (or lies in the future)',
  PNR_INVALID: 'write all twelve digits: YYYYMMDDNNNC or YYYYMMDD-NNNC',
};

class RowChecker {
  readonly problems: DirectoryProblem[] = [];

  constructor(private readonly today: CalendarDate) {}

  report(at: RowPlace, field: LogicalField | null, code: ErrorCode, message: string): void {
    this.problems.push(problemAt(at, field, code, message));
  }

  text(at: RowPlace, value: unknown, field: LogicalField): string | null {
    if (value === null || value === undefined) {
      this.report(at, field, 'REQUEST_INVALID', 'a value is required');
      return null;
    }
    if (typeof value !== 'string') {
      this.report(at, field, 'REQUEST_INVALID', 'must be text');
      return null;
    }
    const trimmed = value.trim();
    if (trimmed === '') {
      this.report(at, field, 'REQUEST_INVALID', 'a value is required');
      return null;
    }
    return trimmed;
  }

  hsaId(at: RowPlace, value: unknown, field: LogicalField = 'hsaId'): HsaId | null {
    const text = this.text(at, value, field);
    if (text === null) return null;
    const parsed = parseHsaId(text);
    if (parsed.ok) return parsed.value;
    const reason = parsed.error.details?.reason ?? 'form';
    this.report(
      at,
      field,
      'HSA_ID_INVALID',
      `not a HSA-id (${reason}); a HSA-id looks like SE2321000016-abc1`,
    );
    return null;
  }

  /** Undefined when the value is bad (reported); null when there is none. */
  personalNumber(at: RowPlace, value: unknown): PersonalNumber | null | undefined {
    if (value === null || value === undefined) return null;
    if (typeof value !== 'string') {
      this.report(at, 'personalNumber', 'REQUEST_INVALID', 'must be text (or null when there is none)');
      return undefined;
    }
    const compact = value.replace(/\s+/g, '');
    if (compact === '') return null;
    if (!TWELVE_DIGITS.test(compact)) {
      this.report(at, 'personalNumber', 'PNR_INVALID', PNR_MESSAGES.PNR_INVALID ?? '');
      return undefined;
    }
    const parsed = parsePersonalNumber(compact, this.today);
    if (parsed.ok) return parsed.value.personalNumber;
    // Never echo the number itself: problem lists end up in terminals and logs.
    this.report(
      at,
      'personalNumber',
      parsed.error.code,
      PNR_MESSAGES[parsed.error.code] ?? 'not a personal number',
    );
    return undefined;
  }

  /** The parent of a branch: null for a top, undefined when the value is bad (reported). */
  parentRef(at: RowPlace, value: unknown): BranchId | null | undefined {
    if (value === null || value === undefined) return null;
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
    this.report(at, 'parentId', 'REQUEST_INVALID', 'must be the id of another branch, or empty for a top');
    return undefined;
  }

  flag(at: RowPlace, value: unknown): boolean | null {
    if (value === null || value === undefined || value === false) return false;
    if (value === true) return true;
    // JSON has booleans; CSV has only text, so there the usual words count.
    if (at.format === 'csv' && typeof value === 'string') {
      const word = value.trim().toLowerCase();
      if (word === '' || FALSE_WORDS.has(word)) return false;
      if (TRUE_WORDS.has(word)) return true;
    }
    this.report(at, 'protectedIdentity', 'REQUEST_INVALID', 'must be true or false');
    return null;
  }

  /** An optional directory name: null when absent, undefined when bad (reported). */
  directoryName(at: RowPlace, value: unknown, field: 'upn' | 'email'): string | null | undefined {
    if (value === null || value === undefined) return null;
    if (typeof value !== 'string') {
      this.report(at, field, 'REQUEST_INVALID', 'must be text (or left out when there is none)');
      return undefined;
    }
    const trimmed = value.trim();
    if (trimmed === '') return null;
    const [pattern, what] =
      field === 'email'
        ? [EMAIL, 'an e-mail address in ASCII, like anna.andersson@region.example']
        : [UPN, 'a user principal name, like anna.andersson@region.example'];
    if (trimmed.length > 254 || !pattern.test(trimmed)) {
      this.report(at, field, 'REQUEST_INVALID', `must be ${what}`);
      return undefined;
    }
    return trimmed;
  }

  role(at: RowPlace, value: unknown): Grant | null {
    const text = this.text(at, value, 'role');
    if (text === null) return null;
    const role = DIRECTORY_ROLES.find((r) => r === text.toUpperCase());
    if (role === undefined) {
      this.report(at, 'role', 'REQUEST_INVALID', `unknown role; the roles are ${DIRECTORY_ROLES.join(', ')}`);
      return null;
    }
    return role;
  }

  branchRef(at: RowPlace, value: unknown, known: ReadonlySet<BranchId>): BranchId | null {
    const id = this.text(at, value, 'branchId');
    if (id === null) return null;
    if (!known.has(id)) {
      this.report(at, 'branchId', 'BRANCH_UNKNOWN', `no branch with id "${id}" in the file`);
      return null;
    }
    return id;
  }
}

const whereFirst = (at: RowPlace): string => (at.section === undefined ? `line ${at.line}` : `#${at.line}`);

/**
 * The branches: each row checked, then the tree. Rows with an unknown parent or on a cycle are
 * reported and made tops of the tree for the rest of the check, so that one bad parent does not
 * make every branch below it a problem too; buildOrganisationTree has the last word.
 */
const checkBranches = (
  check: RowChecker,
  rows: readonly RawBranch[],
): { branches: Branch[]; known: Set<BranchId> } => {
  const known = new Set<BranchId>();
  const first = new Map<BranchId, RowPlace>();
  const candidates: { branch: Branch; at: RowPlace }[] = [];
  for (const row of rows) {
    const id = check.text(row.at, row.id, 'id');
    const name = check.text(row.at, row.name, 'name');
    const parentId = check.parentRef(row.at, row.parentId);
    if (id === null) continue;
    known.add(id);
    const earlier = first.get(id);
    if (earlier !== undefined) {
      check.report(
        row.at,
        'id',
        'ORGANISATION_INVALID',
        `the branch id "${id}" appears twice (first at ${whereFirst(earlier)})`,
      );
      continue;
    }
    first.set(id, row.at);
    if (name !== null && parentId !== undefined)
      candidates.push({ branch: { id, parentId, name }, at: row.at });
  }

  const byId = new Map(candidates.map((c) => [c.branch.id, c]));
  let branches: Branch[] = candidates.map(({ branch, at }) => {
    if (branch.parentId === null || known.has(branch.parentId)) return branch;
    check.report(
      at,
      'parentId',
      'ORGANISATION_INVALID',
      `the parent "${branch.parentId}" is not a branch of the file`,
    );
    return { ...branch, parentId: null };
  });
  // A parent that is in the file but was itself refused: its children are not at fault.
  branches = branches.map((b) =>
    b.parentId !== null && !byId.has(b.parentId) ? { ...b, parentId: null } : b,
  );

  for (;;) {
    const tree = buildOrganisationTree(branches);
    if (tree.ok) return { branches, known };
    const start = tree.error.details?.branch;
    if (tree.error.details?.reason !== 'cycle' || typeof start !== 'string') {
      // Not reachable with the checks above; kept so a future rule of the tree is still reported.
      check.report(
        { format: 'json', line: 1, name: JSON_NAME },
        null,
        tree.error.code,
        `the organisation tree is invalid (${String(tree.error.details?.reason)})`,
      );
      return { branches, known };
    }
    const parentOf = new Map(branches.map((b) => [b.id, b.parentId]));
    const cycle: BranchId[] = [start];
    let next = parentOf.get(start) ?? null;
    while (next !== null && next !== start && !cycle.includes(next)) {
      cycle.push(next);
      next = parentOf.get(next) ?? null;
    }
    const path = [...cycle, start].join(' → ');
    for (const id of cycle) {
      const at = byId.get(id)?.at;
      if (at !== undefined)
        check.report(at, 'parentId', 'ORGANISATION_INVALID', `the parents form a cycle: ${path}`);
    }
    branches = branches.map((b) => (cycle.includes(b.id) ? { ...b, parentId: null } : b));
  }
};

const checkPersons = (
  check: RowChecker,
  rows: readonly RawPerson[],
  known: ReadonlySet<BranchId>,
): Person[] => {
  const persons: Person[] = [];
  const first = new Map<HsaId, RowPlace>();
  for (const row of rows) {
    const hsaId = check.hsaId(row.at, row.hsaId);
    const personalNumber = check.personalNumber(row.at, row.personalNumber);
    const givenName = check.text(row.at, row.givenName, 'givenName');
    const surname = check.text(row.at, row.surname, 'surname');
    const branchId = check.branchRef(row.at, row.branchId, known);
    const protectedIdentity = check.flag(row.at, row.protectedIdentity);
    const upn = check.directoryName(row.at, row.upn, 'upn');
    const email = check.directoryName(row.at, row.email, 'email');
    if (hsaId !== null) {
      const earlier = first.get(hsaId);
      if (earlier !== undefined) {
        check.report(
          row.at,
          'hsaId',
          'REQUEST_INVALID',
          `the person ${hsaId} appears twice (first at ${whereFirst(earlier)})`,
        );
        continue;
      }
      first.set(hsaId, row.at);
    }
    if (
      hsaId === null ||
      personalNumber === undefined ||
      givenName === null ||
      surname === null ||
      branchId === null ||
      protectedIdentity === null ||
      upn === undefined ||
      email === undefined
    )
      continue;
    persons.push({
      hsaId,
      personalNumber,
      givenName,
      surname,
      branchId,
      protectedIdentity,
      ...(upn === null ? {} : { upn }),
      ...(email === null ? {} : { email }),
    });
  }
  return persons;
};

const checkRole = (check: RowChecker, row: RawRole, known: ReadonlySet<BranchId>) => {
  const role = check.role(row.at, row.role);
  const branchId = check.branchRef(row.at, row.branchId, known);
  return role === null || branchId === null ? null : { role, branchId };
};

const checkAdmins = (
  check: RowChecker,
  rows: readonly RawAdmin[],
  roleRows: readonly RawRole[],
  known: ReadonlySet<BranchId>,
): DirectoryAdmin[] => {
  const admins = new Map<
    HsaId,
    { givenName: string; surname: string; grants: Map<string, { role: Grant; branchId: BranchId }> }
  >();
  const first = new Map<HsaId, RowPlace>();
  const addGrant = (hsaId: HsaId, grant: { role: Grant; branchId: BranchId } | null): void => {
    // A role listed twice is the same grant: kept once.
    if (grant !== null) admins.get(hsaId)?.grants.set(`${grant.role} ${grant.branchId}`, grant);
  };
  for (const row of rows) {
    const hsaId = check.hsaId(row.at, row.hsaId);
    const givenName = check.text(row.at, row.givenName, 'givenName');
    const surname = check.text(row.at, row.surname, 'surname');
    const grants = row.roles.map((r) => checkRole(check, r, known));
    if (hsaId === null) continue;
    const earlier = first.get(hsaId);
    if (earlier !== undefined) {
      check.report(
        row.at,
        'hsaId',
        'REQUEST_INVALID',
        `the administrator ${hsaId} appears twice (first at ${whereFirst(earlier)})`,
      );
      continue;
    }
    first.set(hsaId, row.at);
    if (givenName === null || surname === null) continue;
    admins.set(hsaId, { givenName, surname, grants: new Map() });
    for (const grant of grants) addGrant(hsaId, grant);
  }
  for (const row of roleRows) {
    const hsaId = check.hsaId(row.at, row.adminHsaId);
    const grant = checkRole(check, row, known);
    if (hsaId === null) continue;
    if (!first.has(hsaId)) {
      check.report(
        row.at,
        'hsaId',
        'REQUEST_INVALID',
        `no admin row for ${hsaId}: a role belongs to an administrator of the file`,
      );
      continue;
    }
    addGrant(hsaId, grant);
  }
  return [...admins.entries()].map(([hsaId, a]) => ({
    hsaId,
    givenName: a.givenName,
    surname: a.surname,
    grants: [...a.grants.values()],
  }));
};

const SECTION_ORDER: readonly (DirectorySection | undefined)[] = [undefined, 'branches', 'persons', 'admins'];

const inFileOrder = (problems: readonly DirectoryProblem[]): DirectoryProblem[] =>
  [...problems].sort(
    (a, b) => SECTION_ORDER.indexOf(a.section) - SECTION_ORDER.indexOf(b.section) || a.line - b.line,
  );

/**
 * Reads and checks a directory file (the format is described at the top of this file). Either the
 * directory, or every problem found, each with where it is. `now`, when given, also refuses birth
 * dates in the future; without it only the calendar is checked.
 */
export async function parseDirectory(
  text: string,
  format: DirectoryFormat,
  options: { readonly now?: Instant } = {},
): Promise<DirectoryParse> {
  const read = format === 'json' ? readJson(text) : readCsv(text);
  if (Array.isArray(read)) return { ok: false, problems: inFileOrder(read) };
  const check = new RowChecker(options.now === undefined ? FAR_FUTURE : dateOf(options.now));
  const { branches, known } = checkBranches(check, read.raw.branches);
  const persons = checkPersons(check, read.raw.persons, known);
  const admins = checkAdmins(check, read.raw.admins, read.raw.roleRows, known);
  const problems = [...read.problems, ...check.problems];
  if (problems.length > 0) return { ok: false, problems: inFileOrder(problems) };
  return { ok: true, directory: { branches, persons, admins } };
}

// --- Writing --------------------------------------------------------------------------------------

/**
 * Writes a directory with the caller's database or transaction, and appends one audit entry. Used
 * by importDirectory (which owns the transaction) and by the training seed (which adds orders to
 * the same transaction). The branches may refer to parents already stored.
 */
export async function writeDirectory(
  db: DirectoryDb,
  directory: Directory,
  context: { readonly now: Instant; readonly actor: string },
): Promise<DirectoryImportCounts> {
  // The file's branches over the stored ones: the tree they make together must hold.
  const merged = new Map((await listBranches(db)).map((b) => [b.id, b]));
  for (const branch of directory.branches) merged.set(branch.id, branch);
  const tree = buildOrganisationTree([...merged.values()]);
  if (!tree.ok) {
    throw new DirectoryImportError(
      'ORGANISATION_INVALID',
      `the branches do not make a tree with those already stored (${String(tree.error.details?.reason)}` +
        `${tree.error.details?.branch === undefined ? '' : ` at ${String(tree.error.details.branch)}`})`,
    );
  }
  const requireBranch = (branchId: BranchId, whose: string): void => {
    if (!tree.value.branches.has(branchId)) {
      throw new DirectoryImportError('BRANCH_UNKNOWN', `${whose} is in the unknown branch "${branchId}"`);
    }
  };
  for (const person of directory.persons) requireBranch(person.branchId, `person ${person.hsaId}`);
  for (const admin of directory.admins) {
    for (const grant of admin.grants) requireBranch(grant.branchId, `a role of ${admin.hsaId}`);
  }

  await upsertBranches(db, directory.branches);
  for (const person of directory.persons) await insertPerson(db, { ...person, createdAt: context.now });
  let roles = 0;
  for (const admin of directory.admins) {
    await insertAdmin(db, {
      hsaId: admin.hsaId,
      givenName: admin.givenName,
      surname: admin.surname,
      createdAt: context.now,
    });
    for (const grant of admin.grants) {
      if (await grantRole(db, { adminHsaId: admin.hsaId, role: grant.role, branchId: grant.branchId }))
        roles += 1;
    }
  }
  const counts: DirectoryImportCounts = {
    branches: directory.branches.length,
    persons: directory.persons.length,
    admins: directory.admins.length,
    roles,
  };
  await appendAudit(db, {
    at: context.now,
    actor: context.actor,
    action: 'directory.imported',
    subject: 'directory',
    details: { ...counts },
  });
  return counts;
}

/**
 * Imports a checked directory in one transaction: everything is written, or (on any failure, such
 * as a person already in the directory) nothing is.
 */
export async function importDirectory(
  db: Kysely<Database>,
  directory: Directory,
  context: { readonly now: Instant; readonly actor: string },
): Promise<DirectoryImportCounts> {
  return db.transaction().execute((trx) => writeDirectory(trx, directory, context));
}
