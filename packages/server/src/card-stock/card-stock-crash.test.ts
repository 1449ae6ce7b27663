// Acceptance: SIGKILL of a real `reservkort serve` a few milliseconds into the return of a card
// (POST /api/stock/cards/:cardNumber/return), on one SQLite data folder. Right after the kill the
// card is still issued with its e-ID good, or returned (the intent: the revocation reason recorded),
// or destroyed with its e-ID revoked: never destroyed with a good certificate. After the restart no
// return is left half-done: the card is issued with its e-ID good (the return can be sent again), or
// destroyed with both certificates revoked as superseded. At the end `reservkort audit verify` passes.
import type { CardNumber, HsaId } from '@reservkort/domain';
import { type Database, getStockCard, moveStockCard } from '@reservkort/store';
import type { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { makeCsr } from '../../../pki/src/test-support/test-ca.js';
import { crashScaffolding } from '../test-support/crash-scaffolding.js';
import { auditVerifiedOffline, RECIPIENTS } from '../test-support/durable-fixture.js';
import type { ApiAnswer } from '../test-support/durable-page.js';
import { ADMIN2_CARD } from '../test-support/issuance-harness.js';
import { stockTestCards } from '../test-support/test-stock.js';

const anna = RECIPIENTS.anna;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
/** A little later each time, from before the request arrives to after it is done. */
const KILL_AFTER_MS = [2, 10, 25, 50, 100, 250] as const;
const card = (serial: number) => `97522789000000${String(serial).padStart(5, '0')}` as CardNumber;

/** What the store says of a card and its e-ID: its state, and each certificate's revocation reason. */
const factsOf = async (db: Kysely<Database>, cardNumber: CardNumber) => {
  const stock = await getStockCard(db, cardNumber);
  const certificates = await db
    .selectFrom('certificates as c')
    .leftJoin('revocations as r', 'r.serial', 'c.serial')
    .select(['c.serial', 'r.reason'])
    .where('c.card_number', '=', cardNumber)
    .where('c.hsa_id', 'is not', null)
    .execute();
  return { state: stock?.state, reasons: certificates.map((c) => c.reason ?? 'good') };
};

describe('SIGKILL in the return of a card (SQLite data folder, real server processes)', () => {
  const crash = crashScaffolding();

  it('killed a few ms into a return, restarted: never destroyed with a good certificate, nothing left half-done', async () => {
    const seeded = await crash.seededWorkstation('reservkort-stock-crash-', [anna]);
    const { setup, ca } = seeded;
    // One card given out per kill, each with an e-ID of two certificates from the folder's CA.
    const cards = KILL_AFTER_MS.map((_, i) => card(1200 + i));
    await stockTestCards(setup.db, cards);
    const now = Date.now();
    for (const cardNumber of cards) {
      for (const profile of ['card-auth', 'card-sign'] as const) {
        await ca.issue({
          caId: 'loa3',
          profile,
          csr: (await makeCsr()).pem,
          holder: {
            hsaId: anna.hsaId,
            givenName: anna.givenName,
            surname: anna.surname,
            organisation: 'Region Exempel',
          },
          cardNumber,
          validity: { notBefore: now, notAfter: now + 7 * 86_400_000 },
          orderId: null,
          actor: 'test',
        });
      }
      const sealed = await getStockCard(setup.db, cardNumber);
      if (sealed === null) throw new Error('fixture stock');
      await moveStockCard(setup.db, {
        card: { ...sealed, state: 'issued', holder: anna.hsaId as HsaId, stateChangedAt: now },
        expectedVersion: sealed.version,
      });
    }
    const served = await crash.served(seeded);
    const { page } = served;
    const db = served.store.db;
    expect((await page.login(ADMIN2_CARD)).status).toBe(200);

    const seen = new Set<string>();
    for (const [i, afterMs] of KILL_AFTER_MS.entries()) {
      const cardNumber = cards[i] as CardNumber;
      const url = `/api/stock/cards/${cardNumber}/return`;
      const sent = page.api('POST', url, { cause: 'ordinary-card-back' }).catch((error: Error) => error);
      await sleep(afterMs);
      await served.kill();
      const answer: ApiAnswer | Error = await sent;
      if (!(answer instanceof Error)) expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(500);

      // Right after the kill: issued and good, returned (the intent), or destroyed and revoked.
      const killed = await factsOf(db, cardNumber);
      if (killed.state === 'destroyed') expect(killed.reasons).toEqual(['superseded', 'superseded']);
      if (killed.state === 'issued') expect(killed.reasons).toEqual(['good', 'good']);
      seen.add(`${killed.state}:${killed.reasons.join(',')}`);

      await served.restart();

      // After the restart: no return half-done.
      const restarted = await factsOf(db, cardNumber);
      if (restarted.state === 'issued') {
        expect(restarted.reasons).toEqual(['good', 'good']);
        // Not begun before the kill: the return sent again goes through.
        const again = await page.api('POST', url, { cause: 'ordinary-card-back' });
        expect(again.status, JSON.stringify(again.body)).toBe(200);
      } else {
        expect(restarted.state).toBe('destroyed');
      }
      expect(await factsOf(db, cardNumber)).toEqual({
        state: 'destroyed',
        reasons: ['superseded', 'superseded'],
      });
      // Sent again once done, it is refused with the card's state and changes nothing.
      const late = await page.api('POST', url, { cause: 'no-longer-needed' });
      expect(late.body.code).toBe('CARD_DESTROYED');
      const audit = await db
        .selectFrom('audit_log')
        .select('action')
        .where('subject', '=', cardNumber)
        .execute();
      expect(audit.map((e) => e.action).sort()).toEqual(['stock.card-destroyed', 'stock.card-returned']);
    }
    console.info('a card right after each kill', JSON.stringify([...seen]));
    // The kills landed before the request and after it was done, at least.
    expect(seen.size, [...seen].join(' ')).toBeGreaterThanOrEqual(2);

    await served.server.stop();
    await auditVerifiedOffline(seeded.folder.root);
  }, 240_000);
});
