// Acceptance: SIGKILL of a real `reservkort serve` a few milliseconds into spärr requests. After the
// restart each e-ID is either revoked whole (both certificates, one audit entry for the act, OCSP
// says revoked) or not at all (both good, no entry, and the same spärr goes through now): never half.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { certificateStatus, listAudit, openStore, verifyAudit } from '@reservkort/store';
import { describe, expect, it } from 'vitest';
import { opensslOcsp } from '../../../pki/src/test-support/test-ca.js';
import { systemClock } from '../cli/ca-context.js';
import { crashScaffolding } from '../test-support/crash-scaffolding.js';
import {
  addReserveCard,
  openFolderCa,
  provisionAdminCard,
  RECIPIENTS,
  seedDirectory,
  startServerProcess,
} from '../test-support/durable-fixture.js';
import { type ApiAnswer, DurablePage, httpEndpoint, openWorkstation } from '../test-support/durable-page.js';
import { acknowledge, walkToStep7 } from '../test-support/durable-walk.js';
import { ADMIN2, ADMIN2_CARD } from '../test-support/issuance-harness.js';

/** How far into its request each of three spärrar is killed, all by one SIGKILL. */
const KILL_AFTER_MS = [2, 12, 30] as const;
const HOLDERS = [RECIPIENTS.anna, RECIPIENTS.bertil, RECIPIENTS.cecilia] as const;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

describe('a crash during spärr (SQLite data folder, real server processes)', () => {
  const { processes, cleanups, tempDataFolder } = crashScaffolding();

  it('SIGKILL 2, 12 and 30 ms into POST …/eids/revoke: after the restart each e-ID is revoked whole or not at all', async () => {
    const { dir, folder } = await tempDataFolder('reservkort-sparr-crash-');
    const sqliteUrl = `sqlite:${folder.sqliteFile}`;
    const setup = await openStore({ url: sqliteUrl });
    const ca = await openFolderCa(folder, setup.db, systemClock);
    const files = { root: join(dir, 'root.pem'), loa3: join(dir, 'loa3.pem') };
    await writeFile(files.root, ca.ca('root').certificate.toString('pem'));
    await writeFile(files.loa3, ca.ca('loa3').certificate.toString('pem'));
    await seedDirectory(setup.db, ca, HOLDERS);
    const pages: DurablePage[] = [];
    for (const holder of HOLDERS) {
      const ws = await openWorkstation({ db: setup.db, ca });
      cleanups.push(() => ws.close());
      await provisionAdminCard(ws, ca, ADMIN2);
      await addReserveCard(ws, holder);
      pages.push(new DurablePage(ws, []));
    }
    await ca.close();
    await setup.close();

    // --- Each holder's reserve card issued and acknowledged; admin 2 stays logged in on each page.
    const first = await startServerProcess(folder.root);
    processes.push(first);
    for (const [i, page] of pages.entries()) {
      page.use(httpEndpoint('first', first.url));
      await walkToStep7(page, ADMIN2_CARD, HOLDERS[i] as (typeof HOLDERS)[number]);
      expect((await acknowledge(page)).status).toBe(200);
    }
    const serialsOf = async (page: DurablePage, hsaId: string): Promise<string[]> => {
      const answer = await page.api('GET', `/api/admin/persons/${hsaId}/eids`);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      return answer.body.eids[0].certificates.map((c: { serial: string }) => c.serial);
    };
    const serials = await Promise.all(pages.map((page, i) => serialsOf(page, HOLDERS[i]?.hsaId ?? '')));

    // --- Three spärrar sent so that one SIGKILL lands 2, 12 and 30 ms into them.
    const answers: (ApiAnswer | Error)[] = [];
    const killAt = Date.now() + Math.max(...KILL_AFTER_MS) + 20;
    const sent = pages.map(async (page, i) => {
      await sleep(killAt - (KILL_AFTER_MS[i] ?? 0) - Date.now());
      const holder = HOLDERS[i] as (typeof HOLDERS)[number];
      answers[i] = await page
        .api('POST', `/api/admin/persons/${holder.hsaId}/eids/revoke`, {
          cardNumber: holder.reserveCard,
          reason: 'card-lost',
        })
        .catch((error: Error) => error);
    });
    await sleep(killAt - Date.now());
    expect(await first.kill()).toBe('SIGKILL');
    await Promise.all(sent);

    // --- Restart: what the database holds is all there is.
    const second = await startServerProcess(folder.root);
    processes.push(second);
    for (const page of pages) page.use(httpEndpoint('second', second.url));
    const store = await openStore({ url: sqliteUrl });
    cleanups.push(() => store.close());
    expect((await verifyAudit(store.db)).ok).toBe(true);
    const audit = await listAudit(store.db, { limit: 100_000 });
    const outcomes: string[] = [];
    for (const [i, page] of pages.entries()) {
      const holder = HOLDERS[i] as (typeof HOLDERS)[number];
      const own = serials[i] ?? [];
      const revoked = await Promise.all(
        own.map(async (serial) => (await certificateStatus(store.db, serial))?.revocation ?? null),
      );
      const acts = audit.filter((e) => e.action === 'eid.revoked' && e.subject === holder.reserveCard);
      const answer = answers[i];
      if (revoked.every((r) => r !== null)) {
        outcomes.push('revoked');
        expect(acts).toHaveLength(1);
        for (const serial of own)
          expect(
            audit.filter((e) => e.action === 'certificate.revoked' && e.subject === serial),
          ).toHaveLength(1);
        for (const r of revoked) expect(r?.reason).toBe('keyCompromise');
      } else {
        outcomes.push('untouched');
        expect(revoked, 'never half revoked').toEqual(own.map(() => null));
        expect(acts).toEqual([]);
        // An answer that came back before the kill was a revocation, which this is not.
        expect(answer === undefined || answer instanceof Error || answer.status !== 200).toBe(true);
        const again = await page.api('POST', `/api/admin/persons/${holder.hsaId}/eids/revoke`, {
          cardNumber: holder.reserveCard,
          reason: 'card-lost',
        });
        expect(again.status, JSON.stringify(again.body)).toBe(200);
      }
      // OpenSSL asks the restarted server's responder: revoked now, whichever way it got there.
      for (const serial of own) {
        const pem = await store.db
          .selectFrom('certificates')
          .select('certificate_pem')
          .where('serial', '=', serial)
          .executeTakeFirstOrThrow();
        const certFile = join(dir, `${serial}.pem`);
        await writeFile(certFile, pem.certificate_pem);
        const ocsp = await opensslOcsp(
          `${second.url}/ocsp`,
          { issuer: files.loa3, root: files.root },
          certFile,
        );
        expect(ocsp.out, ocsp.out).toContain('Response verify OK');
        expect(ocsp.out).toContain(`${certFile}: revoked`);
      }
    }
    expect(outcomes).toHaveLength(3);
  }, 240_000);
});
