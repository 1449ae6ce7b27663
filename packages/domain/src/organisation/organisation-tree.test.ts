import { describe, expect, it } from 'vitest';
import {
  buildOrganisationTree,
  grantsIn,
  holdsKurIn,
  isWithin,
  lineageOf,
  mayIssueLoa3In,
} from '../index.js';
import { admins, tree } from '../test-support/fixtures.js';

describe('organisation tree', () => {
  it('gives a branch and its ancestors up to the root', () => {
    expect(lineageOf(tree, 'clinic')).toEqual({ ok: true, value: ['clinic', 'hospital', 'region'] });
    expect(lineageOf(tree, 'nowhere')).toEqual({ ok: false, error: { code: 'BRANCH_UNKNOWN' } });
  });

  it('knows what lies within what', () => {
    expect(isWithin(tree, 'clinic', 'region')).toBe(true);
    expect(isWithin(tree, 'clinic', 'clinic')).toBe(true);
    expect(isWithin(tree, 'other', 'hospital')).toBe(false);
    expect(isWithin(tree, 'nowhere', 'region')).toBe(false);
  });

  it.each([
    [
      'duplicate-id',
      [
        { id: 'a', parentId: null, name: 'A' },
        { id: 'a', parentId: null, name: 'A2' },
      ],
    ],
    ['unknown-parent', [{ id: 'a', parentId: 'x', name: 'A' }]],
    ['empty-id', [{ id: '', parentId: null, name: 'A' }]],
    [
      'cycle',
      [
        { id: 'root', parentId: null, name: 'R' },
        { id: 'a', parentId: 'c', name: 'A' },
        { id: 'b', parentId: 'a', name: 'B' },
        { id: 'c', parentId: 'b', name: 'C' },
      ],
    ],
    ['cycle', [{ id: 'self', parentId: 'self', name: 'S' }]],
  ])('refuses a tree with %s', (reason, branches) => {
    const result = buildOrganisationTree(branches);
    expect(result).toMatchObject({ ok: false, error: { code: 'ORGANISATION_INVALID', details: { reason } } });
  });

  it('accepts a forest with shared ancestors, whatever the order of the list', () => {
    const result = buildOrganisationTree([
      { id: 'leaf', parentId: 'mid', name: 'L' },
      { id: 'mid', parentId: 'top', name: 'M' },
      { id: 'top', parentId: null, name: 'T' },
      { id: 'leaf2', parentId: 'mid', name: 'L2' },
      { id: 'top2', parentId: null, name: 'T2' },
    ]);
    expect(result.ok).toBe(true);
  });
});

describe('roles', () => {
  it('inherits roles downwards and never upwards', () => {
    expect([...grantsIn(tree, admins.admin1, 'clinic')]).toEqual(['KRA']);
    expect([...grantsIn(tree, admins.admin1, 'region')]).toEqual([]);
    expect(grantsIn(tree, admins.admin1, 'nowhere').size).toBe(0);
  });

  it('lets KRA and RA issue LoA3, not ORA or LRA', () => {
    expect(mayIssueLoa3In(tree, admins.admin1, 'clinic')).toBe(true);
    expect(mayIssueLoa3In(tree, admins.admin2, 'other')).toBe(true);
    expect(mayIssueLoa3In(tree, admins.weakRoles, 'clinic')).toBe(false);
    expect(mayIssueLoa3In(tree, admins.outsider, 'clinic')).toBe(false);
  });

  it('reads KUR as an inherited add-on', () => {
    expect(holdsKurIn(tree, admins.admin2, 'clinic')).toBe(true);
    expect(holdsKurIn(tree, admins.noKur, 'clinic')).toBe(false);
  });
});
