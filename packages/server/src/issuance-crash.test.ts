// Acceptance: SIGKILL of a real `reservkort serve` 10–60 ms into POST /api/flows/:id/certificates.
// After the restart every certificate the CA issued for those flows is either bound to its flow or
// revoked, OCSP agrees, and no flow hangs: a claim the crash left unbound ends with DOWNLOAD_FAILED
// (restart offered); a request killed before its claim can simply be sent again.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CardNumber, type HsaId, luhnCheckDigit } from '@reservkort/domain';
import { certificateStatus, getFlow, openStore } from '@reservkort/store';
import { describe, expect, it } from 'vitest';
import { opensslOcsp } from '../../pki/src/test-support/test-ca.js';
import { systemClock } from './cli/ca-context.js';
import { crashScaffolding } from './test-support/crash-scaffolding.js';
import {
  addReserveCard,
  openFolderCa,
  provisionAdminCard,
  RECIPIENTS,
  type Recipient,
  seedDirectory,
  startServerProcess,
} from './test-support/durable-fixture.js';
import { type ApiAnswer, DurablePage, httpEndpoint, openWorkstation } from './test-support/durable-page.js';
import { walkToKeys, walkToStep7 } from './test-support/durable-walk.js';
import { ADMIN2, ADMIN2_CARD } from './test-support/issuance-harness.js';

/** How far into its request each of three issuances is killed, all by one SIGKILL. */
const KILL_AFTER_MS = [10, 35, 60] as const;

const DAVID: Recipient = {
  hsaId: 'SE2321000016-davi' as HsaId,
  pnr: `19900909135${luhnCheckDigit('900909135')}`,
  givenName: 'David',
  surname: 'Dahl',
  orderId: 'order-david',
  reserveCard: '9752278900000000103' as CardNumber,
};
const WARM_UP = RECIPIENTS.anna;
const KILLED = [RECIPIENTS.bertil, RECIPIENTS.cecilia, DAVID] as const;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const control = (view: any, id: string) => view.controls.find((c: { id: string }) => c.id === id);

describe('a crash during issuance (SQLite data folder, real server processes)', () => {
  const { processes, cleanups, tempDataFolder } = crashScaffolding();

  it('SIGKILL 10, 35 and 60 ms into POST /certificates: after the restart each certificate is bound or revoked', async () => {
    const { dir, folder } = await tempDataFolder('reservkort-crash-');
    const sqliteUrl = `sqlite:${folder.sqliteFile}`;
    const setup = await openStore({ url: sqliteUrl });
    const ca = await openFolderCa(folder, setup.db, systemClock);
    const files = { root: join(dir, 'root.pem'), loa3: join(dir, 'loa3.pem') };
    await writeFile(files.root, ca.ca('root').certificate.toString('pem'));
    await writeFile(files.loa3, ca.ca('loa3').certificate.toString('pem'));
    await seedDirectory(setup.db, ca, [WARM_UP, ...KILLED]);
    const pages: DurablePage[] = [];
    for (const recipient of [WARM_UP, ...KILLED]) {
      const ws = await openWorkstation({ db: setup.db, ca });
      cleanups.push(() => ws.close());
      await provisionAdminCard(ws, ca, ADMIN2);
      await addReserveCard(ws, recipient);
      pages.push(new DurablePage(ws, []));
    }
    await ca.close();
    await setup.close();

    // --- One issuance from login to step 7 warms the server's issuance path up. ----------------
    const first = await startServerProcess(folder.root);
    processes.push(first);
    const [warmUp, ...killed] = pages.map((p) => p.use(httpEndpoint('first', first.url)));
    if (warmUp === undefined) throw new Error('fixture');
    const live = await walkToStep7(warmUp, ADMIN2_CARD, WARM_UP);

    // --- Three flows at their keys; their requests are sent so that one SIGKILL lands 10, 35 and 60 ms in.
    const csrs = await Promise.all(
      killed.map((page, i) => walkToKeys(page, ADMIN2_CARD, KILLED[i] as Recipient)),
    );
    const answers: (ApiAnswer | Error)[] = [];
    const started = Date.now();
    const killAt = started + Math.max(...KILL_AFTER_MS);
    const sent = killed.map(async (page, i) => {
      await sleep(killAt - (KILL_AFTER_MS[i] ?? 0) - Date.now());
      answers[i] = await page
        .api('POST', `/api/flows/${page.flowId}/certificates`, csrs[i])
        .catch((error: Error) => error);
    });
    await sleep(killAt - Date.now());
    expect(await first.kill()).toBe('SIGKILL');
    await Promise.all(sent);
    expect(answers.filter((a) => !(a instanceof Error)).length, 'requests answered before the kill').toBe(
      answers.filter((a) => !(a instanceof Error) && a.status === 200).length,
    );

    // --- Restart with a short grace period: the start-up pass settles every claim the crash left.
    const second = await startServerProcess(folder.root, undefined, 30_000, ['--reconcile-grace', '0.5']);
    processes.push(second);
    for (const page of pages) page.use(httpEndpoint('second', second.url));

    const store = await openStore({ url: sqliteUrl });
    cleanups.push(() => store.close());
    const outcomes: string[] = [];
    for (const [i, page] of killed.entries()) {
      const recipient = KILLED[i] as Recipient;
      const flow = await getFlow(store.db, page.flowId);
      const state = flow?.state as {
        issuance: unknown;
        issuedSerials: string[];
        fault: { code: string } | null;
        download: { phase: string } | null;
      };
      const issued = await store.db
        .selectFrom('certificates')
        .select(['serial', 'intent_id', 'certificate_pem'])
        .where('card_number', '=', recipient.reserveCard)
        // The card bureau's certificate of the card itself is no issued e-ID.
        .where('profile', '<>', 'card-bureau')
        .execute();
      const bound = new Set(flow?.status === 'active' && state.fault === null ? state.issuedSerials : []);
      for (const certificate of issued) {
        expect(certificate.intent_id, 'issued under an intent').not.toBeNull();
        const revocation = (await certificateStatus(store.db, certificate.serial))?.revocation ?? null;
        expect(revocation === null, `${certificate.serial}: good only while bound`).toBe(
          bound.has(certificate.serial),
        );
        if (revocation !== null) expect(revocation.reason).toBe('cessationOfOperation');
        // OpenSSL asks the restarted server's responder, which must say the same.
        const certFile = join(dir, `${certificate.serial}.pem`);
        await writeFile(certFile, certificate.certificate_pem);
        const ocsp = await opensslOcsp(
          `${second.url}/ocsp`,
          { issuer: files.loa3, root: files.root },
          certFile,
        );
        expect(ocsp.out, ocsp.out).toContain('Response verify OK');
        expect(ocsp.out).toContain(`${certFile}: ${revocation === null ? 'good' : 'revoked'}`);
      }
      for (const serial of bound) expect(issued.map((c) => c.serial)).toContain(serial);

      const view = (await page.view()).body.view;
      if (state.issuance == null) {
        // Killed before its claim: nothing was issued, and the same request goes through now.
        outcomes.push('before-claim');
        expect(issued).toEqual([]);
        expect(view).toMatchObject({ step: 6, status: 'active', fault: null });
        const again = await page.api('POST', `/api/flows/${page.flowId}/certificates`, csrs[i]);
        expect(again.status, JSON.stringify(again.body)).toBe(200);
      } else if (bound.size > 0) {
        // Bound before the kill: a live flow at step 6 with both certificates good, to be written.
        outcomes.push('bound');
        expect(bound.size).toBe(2);
        expect(view).toMatchObject({
          step: 6,
          status: 'active',
          fault: null,
          download: { phase: 'writing' },
        });
      } else {
        // Claimed, maybe issued, never bound: ended cleanly, with the restart offered.
        outcomes.push('claimed-unbound');
        expect(view.fault).toMatchObject({
          code: 'DOWNLOAD_FAILED',
          details: { reason: 'issuance-interrupted' },
        });
        expect(control(view, 'restart')).toEqual({ id: 'restart', enabled: true });
        const restarted = await page.api('POST', `/api/flows/${page.flowId}/restart`);
        expect(restarted.status, JSON.stringify(restarted.body)).toBe(200);
        expect(restarted.body.view.step).toBe(1);
      }
    }
    expect(outcomes).toHaveLength(3);

    // The warm-up flow, at step 7 through it all, keeps its certificates: they are bound and live.
    const warmView = (await warmUp.view()).body.view;
    expect(warmView).toMatchObject({ step: 7, status: 'active', issuedSerials: live.serials });
    for (const serial of live.serials)
      expect((await certificateStatus(store.db, serial))?.revocation, serial).toBeNull();
  }, 180_000);
});
