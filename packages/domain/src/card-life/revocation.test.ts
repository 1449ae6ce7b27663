import { describe, expect, it } from 'vitest';
import {
  decideSparr,
  type RevocableEid,
  SPARR_REASONS,
  SPARR_REASONS_FOR,
  type SparrActor,
} from '../index.js';
import { admins, hsa, persons, tree } from '../test-support/fixtures.js';

const eid: RevocableEid = {
  holder: persons.anna.hsaId,
  branchId: 'clinic',
  protectedIdentity: false,
  revoked: false,
  serials: ['0a01', '0a02'],
};
const holder: SparrActor = { kind: 'holder', hsaId: persons.anna.hsaId };
const desk: SparrActor = { kind: 'service-desk', hsaId: hsa('desk1') };
const admin = (
  a: (typeof admins)[keyof typeof admins],
  assuranceLevel: 'LoA2' | 'LoA3' = 'LoA3',
): SparrActor => ({
  kind: 'admin',
  admin: a,
  assuranceLevel,
});

describe('spärr', () => {
  it('maps every reason to its RFC 5280 reason', () => {
    expect(SPARR_REASONS).toEqual({
      'card-lost': 'keyCompromise',
      'suspected-misuse': 'keyCompromise',
      'card-damaged': 'cessationOfOperation',
      'no-longer-needed': 'cessationOfOperation',
      'card-locked': 'cessationOfOperation',
      'left-organisation': 'affiliationChanged',
      superseded: 'superseded',
    });
  });

  it('lets nobody choose superseded: the system sets it when it replaces certificates', () => {
    for (const reasons of Object.values(SPARR_REASONS_FOR)) expect(reasons).not.toContain('superseded');
  });

  it('lets the holder revoke their own e-ID for a lost card, misuse or a damaged card', () => {
    expect(decideSparr(tree, holder, eid, 'card-lost')).toEqual({ ok: true, value: 'keyCompromise' });
    expect(decideSparr(tree, holder, eid, 'suspected-misuse')).toEqual({ ok: true, value: 'keyCompromise' });
    expect(decideSparr(tree, holder, eid, 'card-damaged')).toEqual({
      ok: true,
      value: 'cessationOfOperation',
    });
  });

  it("refuses the holder another person's e-ID, and reasons only administrators know", () => {
    const other: SparrActor = { kind: 'holder', hsaId: hsa('someone') };
    expect(decideSparr(tree, other, eid, 'card-lost')).toEqual({
      ok: false,
      error: { code: 'REVOCATION_NOT_PERMITTED' },
    });
    expect(decideSparr(tree, holder, eid, 'left-organisation')).toEqual({
      ok: false,
      error: { code: 'REVOCATION_REASON_NOT_OFFERED', details: { reason: 'left-organisation' } },
    });
    expect(decideSparr(tree, holder, eid, 'superseded').ok).toBe(false);
  });

  it("lets an administrator with any role in the holder's branch (inherited) revoke, with the wider reasons", () => {
    expect(decideSparr(tree, admin(admins.admin1), eid, 'left-organisation')).toEqual({
      ok: true,
      value: 'affiliationChanged',
    });
    expect(decideSparr(tree, admin(admins.admin2), eid, 'no-longer-needed')).toEqual({
      ok: true,
      value: 'cessationOfOperation',
    });
    // ORA and LRA do not issue LoA3 cards, but may stop one.
    expect(decideSparr(tree, admin(admins.weakRoles), eid, 'card-locked').ok).toBe(true);
  });

  it('refuses an administrator without a role there, without KUR for a protected identity, or on LoA2', () => {
    expect(decideSparr(tree, admin(admins.outsider), eid, 'card-lost')).toEqual({
      ok: false,
      error: { code: 'NO_ROLE_IN_BRANCH' },
    });
    expect(decideSparr(tree, admin(admins.noKur), { ...eid, protectedIdentity: true }, 'card-lost')).toEqual({
      ok: false,
      error: { code: 'PROTECTED_NEEDS_KUR' },
    });
    expect(decideSparr(tree, admin(admins.admin2), { ...eid, protectedIdentity: true }, 'card-lost').ok).toBe(
      true,
    );
    expect(decideSparr(tree, admin(admins.admin1, 'LoA2'), eid, 'card-lost')).toEqual({
      ok: false,
      error: { code: 'LOA2_LOGIN' },
    });
  });

  it('lets the service desk revoke any e-ID with the wider reasons', () => {
    expect(
      decideSparr(tree, desk, { ...eid, branchId: 'other', protectedIdentity: true }, 'card-locked'),
    ).toEqual({
      ok: true,
      value: 'cessationOfOperation',
    });
    expect(decideSparr(tree, desk, eid, 'nonsense')).toMatchObject({
      ok: false,
      error: { code: 'REVOCATION_REASON_NOT_OFFERED' },
    });
  });

  it('does not revoke an e-ID twice', () => {
    expect(decideSparr(tree, holder, { ...eid, revoked: true }, 'card-lost')).toEqual({
      ok: false,
      error: { code: 'ALREADY_REVOKED', details: { serial: '0a01, 0a02' } },
    });
  });
});
