import { type HsaId, luhnCheckDigit } from '@reservkort/domain';
import {
  type Database,
  getAdmin,
  getPersonByHsaId,
  insertPerson,
  listAudit,
  listBranches,
} from '@reservkort/store';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestStore, DIALECTS, type TestStore } from '../../../store/src/test-support/test-stores.js';
import {
  type Directory,
  type DirectoryParse,
  type DirectoryProblem,
  formatDirectoryProblem,
  importDirectory,
  parseDirectory,
} from './directory-import.js';

const NOW = Date.UTC(2026, 10, 29, 9, 0, 0);
const ACTOR = 'SE2321000016-op01';

/** A personnummer with its check digit: `YYYYMMDD-NNNC`. */
const pnr = (yyyymmdd: string, birthNumber: string): string =>
  `${yyyymmdd}-${birthNumber}${luhnCheckDigit(`${yyyymmdd.slice(2)}${birthNumber}`)}`;

const ANNA = pnr('19850412', '987');
const SAMIR = pnr('19910381', '990');
const BO = pnr('19790923', '988');

const JSON_DIRECTORY = JSON.stringify(
  {
    branches: [
      { id: 'SE2321000016-1110', parentId: 'SE2321000016-1100', name: 'Akutkliniken' },
      { id: 'SE2321000016-1000', parentId: null, name: 'Region Exempel' },
      { id: 'SE2321000016-1100', parentId: 'SE2321000016-1000', name: 'Centrallasarettet, "CL"' },
      { id: 'SE5566778899-2000', name: 'Vårdbolaget Annan AB' },
    ],
    persons: [
      {
        hsaId: 'SE2321000016-p001',
        personalNumber: ANNA,
        givenName: 'Anna',
        surname: 'Andersson',
        branchId: 'SE2321000016-1110',
      },
      {
        hsaId: 'SE2321000016-p002',
        personalNumber: BO,
        givenName: 'Bo',
        surname: 'Berg',
        branchId: 'SE2321000016-1110',
        protectedIdentity: true,
      },
      {
        hsaId: 'SE2321000016-p003',
        personalNumber: SAMIR,
        givenName: 'Samir',
        surname: 'Samordning',
        branchId: 'SE2321000016-1100',
      },
      {
        hsaId: 'SE5566778899-p004',
        personalNumber: null,
        givenName: 'Pat',
        surname: 'Passport',
        branchId: 'SE5566778899-2000',
      },
    ],
    admins: [
      {
        hsaId: 'SE2321000016-ad01',
        givenName: 'Admin',
        surname: 'Ett',
        roles: [
          { role: 'KRA', branchId: 'SE2321000016-1100' },
          { role: 'KUR', branchId: 'SE2321000016-1100' },
        ],
      },
      {
        hsaId: 'SE2321000016-ad02',
        givenName: 'Admin',
        surname: 'Två',
        roles: [{ role: 'RA', branchId: 'SE2321000016-1000' }],
      },
    ],
  },
  null,
  2,
);

// The same directory as CSV: columns in another order than documented, rows in any order.
const CSV_DIRECTORY = [
  'type,hsa_id,id,parent_id,name,personal_number,given_name,surname,branch_id,protected,role',
  'branch,,SE2321000016-1110,SE2321000016-1100,Akutkliniken,,,,,,',
  'branch,,SE2321000016-1000,,Region Exempel,,,,,,',
  'branch,,SE2321000016-1100,SE2321000016-1000,"Centrallasarettet, ""CL""",,,,,,',
  'branch,,SE5566778899-2000,,Vårdbolaget Annan AB,,,,,,',
  `person,SE2321000016-p001,,,,${ANNA},Anna,Andersson,SE2321000016-1110,,`,
  `person,SE2321000016-p002,,,,${BO},Bo,Berg,SE2321000016-1110,ja,`,
  `person,SE2321000016-p003,,,,${SAMIR},Samir,Samordning,SE2321000016-1100,false,`,
  'person,SE5566778899-p004,,,,,Pat,Passport,SE5566778899-2000,0,',
  'role,SE2321000016-ad01,,,,,,,SE2321000016-1100,,KRA',
  'admin,SE2321000016-ad01,,,,,Admin,Ett,,,',
  'role,SE2321000016-ad01,,,,,,,SE2321000016-1100,,kur',
  'admin,SE2321000016-ad02,,,,,Admin,Två,,,',
  'role,SE2321000016-ad02,,,,,,,SE2321000016-1000,,RA',
  '',
].join('\r\n');

const directoryOf = (parse: DirectoryParse): Directory => {
  if (!parse.ok) throw new Error(parse.problems.map(formatDirectoryProblem).join('\n'));
  return parse.directory;
};

/** Each problem as [where, field, code], for comparing whole lists at once. */
const brief = (parse: DirectoryParse) =>
  parse.ok
    ? []
    : parse.problems.map((p) => [p.section ? `${p.section} #${p.line}` : p.line, p.field ?? null, p.code]);

describe('parseDirectory', () => {
  it('reads JSON and CSV of the same directory alike', async () => {
    const fromJson = directoryOf(await parseDirectory(JSON_DIRECTORY, 'json'));
    const fromCsv = directoryOf(await parseDirectory(CSV_DIRECTORY, 'csv'));
    expect(fromCsv).toEqual(fromJson);
    expect(fromJson.branches.find((b) => b.id === 'SE2321000016-1100')?.name).toBe('Centrallasarettet, "CL"');
    expect(fromJson.persons.map((p) => [p.personalNumber?.kind ?? null, p.protectedIdentity])).toEqual([
      ['personnummer', false],
      ['personnummer', true],
      ['samordningsnummer', false],
      [null, false],
    ]);
    expect(fromJson.admins[0]?.grants).toEqual([
      { role: 'KRA', branchId: 'SE2321000016-1100' },
      { role: 'KUR', branchId: 'SE2321000016-1100' },
    ]);
  });

  it('reports every bad CSV row by its line, with the field and the code', async () => {
    const csv = [
      'type,id,parent_id,name,hsa_id,personal_number,given_name,surname,branch_id,protected,role',
      'branch,top,,Toppen,,,,,,,',
      'branch,lost,nowhere,Vilse,,,,,,,',
      'branch,a,b,A,,,,,,,',
      'branch,b,a,B,,,,,,,',
      'branch,top,,Toppen igen,,,,,,,',
      'person,,,,SE2321000016,,Ida,Ingen,top,,',
      `person,,,,SE2321000016-x1,${ANNA.slice(0, -1)}0,Kim,Kontroll,top,,`,
      'person,,,,SE2321000016-x2,850412-9878,Tio,Siffror,top,,',
      `person,,,,SE2321000016-x3,${pnr('19851332', '123')},Dag,Datum,top,,`,
      'person,,,,SE2321000016-x4,,Gren,Okänd,ingenstans,,',
      'admin,,,,SE2321000016-ad09,,Roll,Fel,,,',
      'role,,,,SE2321000016-ad09,,,,top,,KXA',
      'role,,,,SE2321000016-ad09,,,,ingenstans,,RA',
      'robot,,,,,,,,,,',
      'person,,,,SE2321000016-x5,,"Namn, utan",,top,kanske,',
      'person,,,,SE2321000016-x4,,Två,Gånger,top,,',
      'role,,,,SE2321000016-ghost,,,,top,,RA',
      'branch,short',
    ].join('\n');
    const parse = await parseDirectory(csv, 'csv');
    expect(brief(parse)).toEqual([
      [3, 'parent_id', 'ORGANISATION_INVALID'],
      [4, 'parent_id', 'ORGANISATION_INVALID'],
      [5, 'parent_id', 'ORGANISATION_INVALID'],
      [6, 'id', 'ORGANISATION_INVALID'],
      [7, 'hsa_id', 'HSA_ID_INVALID'],
      [8, 'personal_number', 'PNR_CHECK_DIGIT'],
      [9, 'personal_number', 'PNR_INVALID'],
      [10, 'personal_number', 'PNR_DATE'],
      [11, 'branch_id', 'BRANCH_UNKNOWN'],
      [13, 'role', 'REQUEST_INVALID'],
      [14, 'branch_id', 'BRANCH_UNKNOWN'],
      [15, 'type', 'REQUEST_INVALID'],
      [16, 'surname', 'REQUEST_INVALID'],
      [16, 'protected', 'REQUEST_INVALID'],
      [17, 'hsa_id', 'REQUEST_INVALID'],
      [18, 'hsa_id', 'REQUEST_INVALID'],
      [19, null, 'REQUEST_INVALID'],
    ]);
    if (parse.ok) return;
    const cycle = parse.problems.find((p) => p.line === 4);
    expect(cycle?.message).toContain('cycle');
    // A personal number is never repeated in a problem: problem lists end up in logs.
    expect(JSON.stringify(parse.problems)).not.toContain(ANNA.slice(0, 8));
  });

  it('reports every bad JSON entry by its list and position', async () => {
    const json = JSON.stringify({
      branches: [
        { id: 'top', parentId: null, name: 'Toppen' },
        { id: 'child', parentId: 'top' },
        { id: 'stray', parentId: 'missing', name: 'Vilse' },
        'not an object',
      ],
      persons: [
        { hsaId: 'SE2321000016-ok1', personalNumber: ANNA, givenName: 'A', surname: 'B', branchId: 'top' },
        { hsaId: 'abc1', personalNumber: 198504129878, givenName: 'A', surname: 'B', branchId: 'top' },
        {
          hsaId: 'SE2321000016-ok2',
          givenName: 'A',
          surname: 'B',
          branchId: 'nowhere',
          protectedIdentity: 'yes',
        },
      ],
      admins: [
        {
          hsaId: 'SE2321000016-ad01',
          givenName: 'A',
          surname: 'B',
          roles: [
            { role: 'RA', branchId: 'top' },
            { role: 'BOSS', branchId: 'top' },
            { role: 'KRA', branchId: 'elsewhere' },
          ],
        },
        { hsaId: 'SE2321000016-ad02', givenName: 'A', surname: 'B', roles: 'RA' },
      ],
    });
    const parse = await parseDirectory(json, 'json');
    expect(brief(parse)).toEqual([
      ['branches #2', 'name', 'REQUEST_INVALID'],
      ['branches #3', 'parentId', 'ORGANISATION_INVALID'],
      ['branches #4', null, 'REQUEST_INVALID'],
      ['persons #2', 'hsaId', 'HSA_ID_INVALID'],
      ['persons #2', 'personalNumber', 'REQUEST_INVALID'],
      ['persons #3', 'branchId', 'BRANCH_UNKNOWN'],
      ['persons #3', 'protectedIdentity', 'REQUEST_INVALID'],
      ['admins #1', 'roles[2].role', 'REQUEST_INVALID'],
      ['admins #1', 'roles[3].branchId', 'BRANCH_UNKNOWN'],
      ['admins #2', 'roles', 'REQUEST_INVALID'],
    ]);
    if (!parse.ok) {
      expect(formatDirectoryProblem(parse.problems[3] as DirectoryProblem)).toMatch(
        /^persons #2, hsaId: HSA_ID_INVALID – not a HSA-id/,
      );
    }
  });

  it('says where JSON stops being JSON, and what a bad CSV header lacks', async () => {
    const broken = await parseDirectory('{\n  "branches": [\n    { "id": "a", }\n  ]\n}', 'json');
    expect(brief(broken)).toEqual([[3, null, 'REQUEST_INVALID']]);
    expect(brief(await parseDirectory('[]', 'json'))).toEqual([[1, null, 'REQUEST_INVALID']]);
    const header = await parseDirectory(
      'type,id,parent_id,name,hsa_id,given_name,surname,branch_id,protected,rolle\n',
      'csv',
    );
    expect(brief(header)).toEqual([
      [1, 'rolle', 'REQUEST_INVALID'],
      [1, 'personal_number', 'REQUEST_INVALID'],
      [1, 'role', 'REQUEST_INVALID'],
    ]);
    expect(brief(await parseDirectory('', 'csv'))).toEqual([[1, null, 'REQUEST_INVALID']]);
    expect(brief(await parseDirectory('type,id\nbranch,"open', 'csv'))).toEqual([
      [2, null, 'REQUEST_INVALID'],
    ]);
  });

  it('takes the optional upn and email columns, checks them, and stores them for the SAN', async () => {
    const csv = [
      'type,id,parent_id,name,hsa_id,personal_number,given_name,surname,branch_id,protected,role,upn,email',
      'branch,top,,Region Exempel,,,,,,,,,',
      `person,,,,SE2321000016-u1,${ANNA},Anna,Andersson,top,,,anna.andersson@region.example,Anna.Andersson@region.example`,
      `person,,,,SE2321000016-u2,${BO},Bo,Berg,top,,,,`,
      `person,,,,SE2321000016-u3,${SAMIR},Åsa,Ödman,top,,,åsa.ödman@region.example,`,
      'person,,,,SE2321000016-x1,,Fel,Upn,top,,,anna andersson@region.example,',
      'person,,,,SE2321000016-x2,,Fel,Post,top,,,,åsa@region.example',
      'person,,,,SE2321000016-x3,,Fel,Post,top,,,,anna@@region.example',
    ].join('\n');
    const parse = await parseDirectory(csv, 'csv');
    expect(brief(parse)).toEqual([
      [6, 'upn', 'REQUEST_INVALID'],
      [7, 'email', 'REQUEST_INVALID'],
      [8, 'email', 'REQUEST_INVALID'],
    ]);
    const good = directoryOf(await parseDirectory(csv.split('\n').slice(0, 5).join('\n'), 'csv'));
    expect(good.persons.map((p) => [p.upn ?? null, p.email ?? null])).toEqual([
      ['anna.andersson@region.example', 'Anna.Andersson@region.example'],
      [null, null],
      // A UPN is UTF-8; an rfc822Name is ASCII only.
      ['åsa.ödman@region.example', null],
    ]);
    // JSON takes the same fields; a file without them stays valid (the columns are optional).
    const json = directoryOf(
      await parseDirectory(
        JSON.stringify({
          branches: [{ id: 'top', name: 'Region Exempel' }],
          persons: [
            {
              hsaId: 'SE2321000016-u1',
              personalNumber: ANNA,
              givenName: 'Anna',
              surname: 'Andersson',
              branchId: 'top',
              upn: 'anna.andersson@region.example',
              email: 'Anna.Andersson@region.example',
            },
          ],
        }),
        'json',
      ),
    );
    expect(json.persons).toEqual(good.persons.slice(0, 1));
    const store = await createTestStore('sqlite');
    try {
      await importDirectory(store.db, good, { now: NOW, actor: ACTOR });
      expect(await getPersonByHsaId(store.db, 'SE2321000016-u1' as HsaId)).toMatchObject({
        upn: 'anna.andersson@region.example',
        email: 'Anna.Andersson@region.example',
      });
      expect(await getPersonByHsaId(store.db, 'SE2321000016-u2' as HsaId)).not.toHaveProperty('upn');
    } finally {
      await store.dispose();
    }
  });

  it('keeps CSV line numbers right after a quoted field over several lines', async () => {
    const csv = [
      'type,id,parent_id,name,hsa_id,personal_number,given_name,surname,branch_id,protected,role',
      'branch,top,,"Region,',
      'med ""citat"" och radbrytning",,,,,,,',
      'person,,,,bad-id,,A,B,top,,',
    ].join('\n');
    const parse = await parseDirectory(csv, 'csv');
    expect(brief(parse)).toEqual([[4, 'hsa_id', 'HSA_ID_INVALID']]);
    const fixed = directoryOf(await parseDirectory(csv.replace('bad-id', 'SE2321000016-x1'), 'csv'));
    expect(fixed.branches[0]?.name).toBe('Region,\nmed "citat" och radbrytning');
  });

  it('refuses a birth date after `now` when it is given', async () => {
    const born = pnr('20261201', '123');
    const json = JSON.stringify({
      branches: [{ id: 'top', parentId: null, name: 'T' }],
      persons: [
        { hsaId: 'SE2321000016-f1', personalNumber: born, givenName: 'F', surname: 'F', branchId: 'top' },
      ],
    });
    expect((await parseDirectory(json, 'json')).ok).toBe(true);
    expect(brief(await parseDirectory(json, 'json', { now: NOW }))).toEqual([
      ['persons #1', 'personalNumber', 'PNR_DATE'],
    ]);
  });
});

describe.each(DIALECTS)('importDirectory on %s', (dialect) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(dialect);
  });
  afterAll(() => store?.dispose());

  const counts = async (db: Kysely<Database>) => {
    const tables = ['branches', 'persons', 'admins', 'role_grants', 'audit_log'] as const;
    const result: Record<string, number> = {};
    for (const table of tables) {
      const row = await db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow();
      result[table] = Number(row.n);
    }
    return result;
  };

  describe.each(['json', 'csv'] as const)('from %s', (format) => {
    beforeEach(async () => {
      // Each format imports into an empty directory of its own.
      await store.dispose();
      store = await createTestStore(dialect);
    });

    it('writes the directory and reads back what the file said', async () => {
      const directory = directoryOf(
        await parseDirectory(format === 'json' ? JSON_DIRECTORY : CSV_DIRECTORY, format),
      );
      expect(await importDirectory(store.db, directory, { now: NOW, actor: ACTOR })).toEqual({
        branches: 4,
        persons: 4,
        admins: 2,
        roles: 3,
      });
      expect(await listBranches(store.db)).toHaveLength(4);
      expect(await getPersonByHsaId(store.db, 'SE2321000016-p002' as HsaId)).toEqual({
        hsaId: 'SE2321000016-p002',
        personalNumber: {
          value: BO.replace('-', ''),
          kind: 'personnummer',
          birthDate: { year: 1979, month: 9, day: 23 },
        },
        givenName: 'Bo',
        surname: 'Berg',
        branchId: 'SE2321000016-1110',
        protectedIdentity: true,
        createdAt: NOW,
      });
      expect((await getPersonByHsaId(store.db, 'SE5566778899-p004' as HsaId))?.personalNumber).toBeNull();
      expect((await getAdmin(store.db, 'SE2321000016-ad01' as HsaId))?.grants).toEqual([
        { role: 'KRA', branchId: 'SE2321000016-1100' },
        { role: 'KUR', branchId: 'SE2321000016-1100' },
      ]);
      const audit = await listAudit(store.db, { limit: 10 });
      expect(audit.map((e) => [e.actor, e.action, e.details])).toEqual([
        [ACTOR, 'directory.imported', { branches: 4, persons: 4, admins: 2, roles: 3 }],
      ]);
    });
  });

  it('imports nothing when any part fails to write', async () => {
    await store.dispose();
    store = await createTestStore(dialect);
    const directory = directoryOf(await parseDirectory(JSON_DIRECTORY, 'json'));
    // Samir is already in the directory: the third person cannot be added.
    await importDirectory(
      store.db,
      { branches: directory.branches, persons: [], admins: [] },
      { now: NOW, actor: ACTOR },
    );
    const samir = directory.persons[2];
    if (samir === undefined) throw new Error('fixture');
    await insertPerson(store.db, { ...samir, createdAt: NOW });
    const before = await counts(store.db);
    await expect(importDirectory(store.db, directory, { now: NOW, actor: ACTOR })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    expect(await counts(store.db)).toEqual(before);
  });

  it('lets a later file add below branches already stored, and refuses a person in no branch', async () => {
    const later = directoryOf(
      await parseDirectory(
        JSON.stringify({
          branches: [
            { id: 'SE2321000016-1000', parentId: null, name: 'Region Exempel' },
            { id: 'SE2321000016-1300', parentId: 'SE2321000016-1000', name: 'Vårdcentralen' },
          ],
        }),
        'json',
      ),
    );
    await importDirectory(store.db, later, { now: NOW, actor: ACTOR });
    expect((await listBranches(store.db)).map((b) => b.id)).toContain('SE2321000016-1300');
    const before = await counts(store.db);
    const stray = directoryOf(await parseDirectory(JSON_DIRECTORY, 'json'));
    await expect(
      importDirectory(
        store.db,
        {
          branches: [],
          persons: [{ ...(stray.persons[0] as Directory['persons'][number]), branchId: 'gone' }],
          admins: [],
        },
        { now: NOW, actor: ACTOR },
      ),
    ).rejects.toMatchObject({ code: 'BRANCH_UNKNOWN' });
    expect(await counts(store.db)).toEqual(before);
  });
});
