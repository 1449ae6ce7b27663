// A person's reserve-card e-IDs and their spärr from the administrators' person page and the
// service desk: every refusal its catalogue code, protected identities hidden from anyone without
// KUR, and identical spärrar at once revoking once with one audit entry.
import { listAudit } from '@reservkort/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../test-support/acceptance-client.js';
import { ACTORS, addAcceptanceDirectory, RECIPIENTS } from '../test-support/acceptance-directory.js';
import { walkTo } from '../test-support/acceptance-flow.js';
import { acknowledge } from '../test-support/durable-walk.js';
import {
  ADMIN1_CARD,
  ADMIN2_CARD,
  ANNA,
  ANNA_PNR,
  createIssuanceHarness,
  type Harness,
  RESERVE_CARD,
} from '../test-support/issuance-harness.js';
import { Page } from '../test-support/page.js';

describe.each(['sqlite', 'postgres'] as const)(
  'a person’s reserve-card e-IDs and their spärr (%s)',
  (dialect) => {
    let h: Harness;
    const as = {} as Record<'admin1' | 'admin2' | 'outsider' | 'noKur' | 'loa2' | 'desk', Client>;

    beforeAll(async () => {
      h = await createIssuanceHarness({}, () => ({}), dialect);
      await addAcceptanceDirectory(h, { actors: ['outsider', 'noKur', 'loa2', 'desk'] });
      await h.cards.removeCard('reader-1').catch(() => undefined);
      const issuer = new Page(h);
      await walkTo(h, issuer, 7);
      expect((await acknowledge(issuer)).status).toBe(200);
      const cards = {
        admin1: ADMIN1_CARD,
        admin2: ADMIN2_CARD,
        outsider: ACTORS.outsider.cardNumber,
        noKur: ACTORS.noKur.cardNumber,
        loa2: ACTORS.loa2.cardNumber,
        desk: ACTORS.desk.cardNumber,
      } as const;
      for (const [name, card] of Object.entries(cards) as [
        keyof typeof cards,
        (typeof cards)[keyof typeof cards],
      ][]) {
        as[name] = new Client(h);
        const login = await as[name].login(card);
        expect(login.status, `${name}: ${JSON.stringify(login.body)}`).toBe(200);
      }
    });
    afterAll(() => h?.dispose());

    const annasEids = `/api/admin/persons/${ANNA}/eids`;
    const annasRevoke = `/api/admin/persons/${ANNA}/eids/revoke`;
    const deskRevoke = `/api/support/persons/${ANNA}/eids/revoke`;

    it('shows an administrator with a role in the branch both certificates and the reasons they may give', async () => {
      const answer = await as.admin1.get(annasEids);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(answer.body.reasons).toEqual([
        'card-lost',
        'suspected-misuse',
        'card-damaged',
        'no-longer-needed',
        'card-locked',
        'left-organisation',
      ]);
      expect(answer.body.eids).toHaveLength(1);
      expect(answer.body.eids[0]).toMatchObject({ cardNumber: RESERVE_CARD, status: 'good' });
      expect(answer.body.eids[0].certificates).toHaveLength(2);
    });

    it('refuses each actor the rules do not let, with its code', async () => {
      expect((await as.outsider.get(annasEids)).body.code).toBe('NO_ROLE_IN_BRANCH');
      expect((await as.loa2.get(annasEids)).body.code).toBe('LOA2_LOGIN');
      expect((await as.desk.get(annasEids)).body.code).toBe('ACCESS_DENIED');
      const body = { cardNumber: RESERVE_CARD, reason: 'card-lost' };
      expect((await as.outsider.post(annasRevoke, body)).body.code).toBe('NO_ROLE_IN_BRANCH');
      expect((await as.loa2.post(annasRevoke, body)).body.code).toBe('LOA2_LOGIN');
      expect((await as.admin1.post(annasRevoke, { ...body, reason: 'superseded' })).body.code).toBe(
        'REVOCATION_REASON_NOT_OFFERED',
      );
      expect((await as.desk.post(deskRevoke, { ...body, reason: 'because' })).body.code).toBe(
        'REVOCATION_REASON_NOT_OFFERED',
      );
      // Another card than the person's: nothing of theirs to revoke.
      const other = await as.admin1.post(annasRevoke, { ...body, cardNumber: '9752278900000000299' });
      expect(other.body).toMatchObject({ code: 'NOT_FOUND', details: { what: 'e-ID' } });
      expect((await as.admin1.get('/api/admin/persons/SE2321000016-nobody/eids')).body.code).toBe(
        'PERSON_NOT_FOUND',
      );
      // Nothing was revoked by any of them.
      expect((await as.admin1.get(annasEids)).body.eids[0].status).toBe('good');
    });

    it('never shows a protected identity to an actor without KUR', async () => {
      const secret = RECIPIENTS.protectedPerson;
      expect((await as.noKur.get(`/api/admin/persons/${secret.person.hsaId}/eids`)).body.code).toBe(
        'PROTECTED_NEEDS_KUR',
      );
      const withKur = await as.admin2.get(`/api/admin/persons/${secret.person.hsaId}/eids`);
      expect(withKur.status, JSON.stringify(withKur.body)).toBe(200);
      expect(withKur.body.eids).toEqual([]);
      // The service desk without KUR finds nobody, by personnummer or HSA-id, and revokes nothing.
      for (const query of [secret.pnr, secret.person.hsaId]) {
        const found = await as.desk.get(`/api/support/persons?query=${encodeURIComponent(query)}`);
        expect(found.body.code).toBe('PERSON_NOT_FOUND');
        expect(JSON.stringify(found.body)).not.toContain('Hemlig');
      }
      const revoke = await as.desk.post(`/api/support/persons/${secret.person.hsaId}/eids/revoke`, {
        cardNumber: secret.cardNumber,
        reason: 'card-lost',
      });
      expect(revoke.body.code).toBe('PERSON_NOT_FOUND');
    });

    it('lets the service desk find the person with their e-IDs', async () => {
      const found = await as.desk.get(`/api/support/persons?query=${ANNA_PNR}`);
      expect(found.status, JSON.stringify(found.body)).toBe(200);
      expect(found.body.person).toMatchObject({
        hsaId: ANNA,
        name: 'Anna Andersson',
        protectedIdentity: false,
      });
      expect(found.body.eids[0]).toMatchObject({ cardNumber: RESERVE_CARD, status: 'good' });
      expect((await as.admin1.get(`/api/support/persons?query=${ANNA_PNR}`)).body.code).toBe('ACCESS_DENIED');
    });

    it('revokes once for identical spärrar by administrators and the desk at once, audited once', async () => {
      const before = (await listAudit(h.ctx.store.db, { limit: 100_000 })).length;
      const body = { cardNumber: RESERVE_CARD, reason: 'left-organisation' };
      const answers = await Promise.all([
        as.admin1.post(annasRevoke, body),
        as.admin2.post(annasRevoke, body),
        as.admin1.post(annasRevoke, body),
        as.desk.post(deskRevoke, body),
        as.desk.post(deskRevoke, body),
      ]);
      const done = answers.filter((a) => a.status === 200);
      expect(done, JSON.stringify(answers.map((a) => a.body))).toHaveLength(1);
      expect(done[0]?.body).toMatchObject({ reason: 'affiliationChanged' });
      for (const other of answers.filter((a) => a.status !== 200)) {
        expect(other.status).toBe(409);
        expect(other.body.code).toBe('ALREADY_REVOKED');
      }
      const added = (await listAudit(h.ctx.store.db, { limit: 100_000 })).slice(before);
      expect(added.filter((e) => e.action === 'eid.revoked')).toHaveLength(1);
      expect(added.filter((e) => e.action === 'certificate.revoked')).toHaveLength(2);

      const after = (await as.admin1.get(annasEids)).body.eids[0];
      expect(after.status).toBe('revoked');
      for (const certificate of after.certificates)
        expect(certificate.revocation).toMatchObject({ reason: 'affiliationChanged' });
      expect((await as.desk.post(deskRevoke, body)).body.code).toBe('ALREADY_REVOKED');
    });
  },
);
