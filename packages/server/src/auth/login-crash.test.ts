// Acceptance: SIGKILL of a real `reservkort serve` a few milliseconds into POST /api/auth/login at a
// card station, on one SQLite data folder. Login writes twice: it uses its challenge up (with the
// station's sequence number) and then stores the session, with the issuance's first flow reserved.
// After each restart the login either happened (one session and its reservation, the challenge
// spent) or did not leave a session or a reservation behind (the challenge spent or not); the same
// signed request again is then refused as a spent challenge, or goes through once and its flow
// starts; a fresh login works, and at the end `reservkort audit verify` passes.
import { describe, expect, it } from 'vitest';
import { crashScaffolding } from '../test-support/crash-scaffolding.js';
import { auditVerifiedOffline, RECIPIENTS } from '../test-support/durable-fixture.js';
import type { ApiAnswer } from '../test-support/durable-page.js';
import { ADMIN2, ADMIN2_CARD } from '../test-support/issuance-harness.js';

/** How far into the login the server is killed: a little later each time. */
const KILL_AFTER_MS = [2, 4, 6, 10] as const;

describe('SIGKILL in POST /api/auth/login (SQLite data folder, real server processes)', () => {
  const crash = crashScaffolding();

  it('killed a few ms into a login, restarted: one session or none, the challenge never used twice', async () => {
    const seeded = await crash.seededWorkstation('reservkort-login-crash-', [RECIPIENTS.anna]);
    const { ws, folder } = seeded;
    const served = await crash.served(seeded);
    const { page } = served;
    const db = served.store.db;

    const sessions = async () =>
      (await db.selectFrom('sessions').select('id').where('admin_hsa_id', '=', ADMIN2).execute()).length;
    // The issuance's first flow reserved with the login: stored with the session or not at all.
    const reservations = async () =>
      (
        await db
          .selectFrom('login_challenges')
          .select('id')
          .where('challenge', 'like', `%"flow-start"%"${ADMIN2}"%`)
          .execute()
      ).length;
    const used = async (challengeId: string) =>
      (
        await db
          .selectFrom('login_challenges')
          .select('used_at')
          .where('id', '=', challengeId)
          .executeTakeFirst()
      )?.used_at != null;
    const outcomes: Record<number, string> = {};

    // The administrator takes the card out and puts it back for each login, as at a real station.
    const cardOut = () => ws.cards.removeCard('reader-1').catch(() => undefined);
    for (const afterMs of KILL_AFTER_MS) {
      await cardOut();
      const request = { ...(await page.signedLogin(ADMIN2_CARD)), reserveFlow: true };
      const before = await sessions();
      const reservedBefore = await reservations();
      const answer: ApiAnswer | Error = await served.killedInto(() => page.sendLogin(request), afterMs);
      // An answer that came before the kill is the login done: it says so.
      if (!(answer instanceof Error)) expect(answer.status, JSON.stringify(answer.body)).toBe(200);

      const made = (await sessions()) - before;
      const spent = await used(request.challengeId);
      expect([0, 1]).toContain(made);
      expect((await reservations()) - reservedBefore).toBe(made);
      // A session is never stored for a challenge that was not used up.
      if (made === 1) expect(spent).toBe(true);
      outcomes[afterMs] = made === 1 ? 'logged in' : spent ? 'challenge spent, no session' : 'nothing';

      // The same signed request again: once the challenge is spent it is refused, else it logs in.
      const again = await page.sendLogin(request);
      if (spent) {
        expect(again.status, JSON.stringify(again.body)).toBe(401);
        expect(again.body).toMatchObject({ code: 'LOGIN_FAILED' });
        expect(await sessions()).toBe(before + made);
      } else {
        expect(again.status, JSON.stringify(again.body)).toBe(200);
        expect(await sessions()).toBe(before + 1);
        expect(await reservations()).toBe(reservedBefore + 1);
        // The flow starts on that login's reservation.
        const started = await page.start(again.body.flowReservation);
        expect(started.status, JSON.stringify(started.body)).toBe(200);
      }
      // Whatever happened, a fresh login works, and its session is the page's.
      await cardOut();
      expect((await page.login(ADMIN2_CARD)).status).toBe(200);
      const me = await page.api('GET', '/api/auth/me');
      expect(me.status, JSON.stringify(me.body)).toBe(200);
    }

    // The audit log, as the operator checks it, with the server stopped.
    expect(await served.server.stop()).toBe(0);
    await auditVerifiedOffline(folder.root);
    console.info('login killed after (ms)', JSON.stringify(outcomes));
  }, 180_000);
});
