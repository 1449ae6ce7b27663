// Acceptance: SIGKILL of a real `reservkort serve` 10–60 ms into POST /api/holder/extension/:id/
// certificates, seven förlängningar at once. After the restart no certificate is valid that no
// extension (or the card's first issuance) records, OCSP agrees, and no extension hangs: a claim the
// crash left unbound is abandoned by the sweep and the holder can extend again.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CardNumber, type HsaId, luhnCheckDigit } from '@reservkort/domain';
import { certificateStatus, listExtensionsOfCard, openStore } from '@reservkort/store';
import { describe, expect, it } from 'vitest';
import { opensslOcsp } from '../../../pki/src/test-support/test-ca.js';
import { systemClock } from '../cli/ca-context.js';
import { crashScaffolding } from '../test-support/crash-scaffolding.js';
import {
  addReserveCard,
  openFolderCa,
  provisionAdminCard,
  type Recipient,
  seedDirectory,
  startServerProcess,
} from '../test-support/durable-fixture.js';
import { type ApiAnswer, DurablePage, httpEndpoint, openWorkstation } from '../test-support/durable-page.js';
import { acknowledge, walkToStep7 } from '../test-support/durable-walk.js';
import { ADMIN2, ADMIN2_CARD, completeWithPins, RESERVE_PINS } from '../test-support/issuance-harness.js';

// The claim comes some 35–60 ms into the request on this machine: the kill points are spread over
// that stretch, so that runs meet a request before its claim, between claim and binding, and after.
const KILL_AFTER_MS = [10, 30, 38, 44, 50, 56, 62] as const;
const HOLDERS: readonly Recipient[] = KILL_AFTER_MS.map((_, n) => {
  const birth = `7001${String(n + 10).padStart(2, '0')}`;
  return {
    hsaId: `SE2321000016-ext${n}` as HsaId,
    pnr: `19${birth}123${luhnCheckDigit(`${birth}123`)}`,
    givenName: 'Förläng',
    surname: `Nummer${n}`,
    orderId: `order-ext${n}`,
    reserveCard: `97522789000000002${String(n + 10).padStart(2, '0')}` as CardNumber,
  };
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Start, terms, new keys proven by the card: the extension ready for its certificates. */
const toCertificates = async (page: DurablePage) => {
  const started = await page.api('POST', '/api/holder/extension');
  expect(started.status, JSON.stringify(started.body)).toBe(200);
  const id = started.body.id as string;
  expect((await page.api('POST', `/api/holder/extension/${id}/terms`)).status).toBe(200);
  const { agent, agentToken } = page.ws;
  const op = await agent.renewKeys(agentToken, 'reader-2', started.body);
  const done = await completeWithPins(agent, op, [RESERVE_PINS.pin1, RESERVE_PINS.pin2]);
  const { authCsr, signCsr, ...proof } = done.result as Record<string, unknown>;
  const proven = await page.api('POST', `/api/holder/extension/${id}/keys`, proof);
  expect(proven.status, JSON.stringify(proven.body)).toBe(200);
  return { id, csrs: { authCsr, signCsr } };
};

describe('a crash during förlängning (SQLite data folder, real server processes)', () => {
  const { processes, cleanups, tempDataFolder } = crashScaffolding();

  it('SIGKILL 10–62 ms into POST /certificates: afterwards every valid certificate is one an extension or the issuance records', async () => {
    const { dir, folder } = await tempDataFolder('reservkort-extension-crash-');
    const sqliteUrl = `sqlite:${folder.sqliteFile}`;
    const setup = await openStore({ url: sqliteUrl });
    const ca = await openFolderCa(folder, setup.db, systemClock);
    const files = { root: join(dir, 'root.pem'), issuer: join(dir, 'loa3.pem') };
    await writeFile(files.root, ca.ca('root').certificate.toString('pem'));
    await writeFile(files.issuer, ca.ca('loa3').certificate.toString('pem'));
    await seedDirectory(setup.db, ca, [...HOLDERS]);
    const pages: DurablePage[] = [];
    for (const recipient of HOLDERS) {
      const ws = await openWorkstation({ db: setup.db, ca });
      cleanups.push(() => ws.close());
      await provisionAdminCard(ws, ca, ADMIN2);
      await addReserveCard(ws, recipient);
      pages.push(new DurablePage(ws, []));
    }
    await ca.close();
    await setup.close();

    // --- Each card issued and acknowledged; its holder logged in and at the certificates. ---------
    const first = await startServerProcess(folder.root);
    processes.push(first);
    for (const page of pages) page.use(httpEndpoint('first', first.url));
    const extensions: { id: string; csrs: unknown }[] = [];
    for (const [i, page] of pages.entries()) {
      await walkToStep7(page, ADMIN2_CARD, HOLDERS[i] as Recipient);
      expect((await acknowledge(page)).status).toBe(200);
      expect((await page.holderLogin()).status).toBe(200);
      extensions.push(await toCertificates(page));
    }

    // --- One SIGKILL lands 10, 35 and 60 ms into the three requests. ------------------------------
    const answers: (ApiAnswer | Error)[] = [];
    const killAt = Date.now() + Math.max(...KILL_AFTER_MS);
    const sent = pages.map(async (page, i) => {
      await sleep(killAt - (KILL_AFTER_MS[i] ?? 0) - Date.now());
      const { id, csrs } = extensions[i] as { id: string; csrs: unknown };
      answers[i] = await page
        .api('POST', `/api/holder/extension/${id}/certificates`, csrs)
        .catch((error: Error) => error);
    });
    await sleep(killAt - Date.now());
    expect(await first.kill()).toBe('SIGKILL');
    await Promise.all(sent);

    // --- Restart with a short grace: the sweep gives up every claim the crash left unbound. --------
    const second = await startServerProcess(folder.root, undefined, 30_000, ['--reconcile-grace', '0.5']);
    processes.push(second);
    for (const page of pages) page.use(httpEndpoint('second', second.url));
    const store = await openStore({ url: sqliteUrl });
    cleanups.push(() => store.close());

    const outcomes: string[] = [];
    for (const [i, page] of pages.entries()) {
      const card = (HOLDERS[i] as Recipient).reserveCard;
      // No extension stays claimed: it was bound before the kill, or the sweep abandons it.
      await expect
        .poll(async () => (await listExtensionsOfCard(store.db, card)).map((e) => e.state), {
          timeout: 10_000,
        })
        .not.toContain('issuing');
      const all = await listExtensionsOfCard(store.db, card);
      expect(all).toHaveLength(1);
      const extension = all[0];
      if (extension === undefined) throw new Error('one extension');
      outcomes.push(extension.state);
      const recorded = new Set(
        [
          extension.newAuthSerial,
          extension.newSignSerial,
          extension.oldAuthSerial,
          extension.oldSignSerial,
        ].filter((s): s is string => s !== null),
      );
      const issued = await store.db
        .selectFrom('certificates')
        .select(['serial', 'certificate_pem'])
        .where('card_number', '=', card)
        .where('profile', '<>', 'card-bureau')
        .execute();
      for (const certificate of issued) {
        // Every certificate of the card is one the issuance or the extension records: nothing was
        // recorded outside the extension's binding transaction.
        expect(
          recorded.has(certificate.serial),
          `${certificate.serial} recorded by an extension or the issuance`,
        ).toBe(true);
        const revocation = (await certificateStatus(store.db, certificate.serial))?.revocation ?? null;
        const certFile = join(dir, `${certificate.serial}.pem`);
        await writeFile(certFile, certificate.certificate_pem);
        const ocsp = await opensslOcsp(`${second.url}/ocsp`, files, certFile);
        expect(ocsp.out, ocsp.out).toContain('Response verify OK');
        expect(ocsp.out).toContain(`${certFile}: ${revocation === null ? 'good' : 'revoked'}`);
      }
      if (extension.state === 'issued') {
        // Bound before the kill: the new pair good, the old one still good until the acknowledgement.
        expect(issued).toHaveLength(4);
        for (const serial of recorded)
          expect(await certificateStatus(store.db, serial)).toMatchObject({ revocation: null });
      } else if (extension.state === 'open') {
        // Killed before its claim: nothing was issued, and the same request goes through now.
        expect(issued).toHaveLength(2);
        const { id, csrs } = extensions[i] as { id: string; csrs: unknown };
        const again = await page.api('POST', `/api/holder/extension/${id}/certificates`, csrs);
        expect(again.status, JSON.stringify(again.body)).toBe(200);
      } else {
        // Killed between the claim and the binding: abandoned, nothing new recorded, the old pair untouched, and
        // the holder may start again.
        expect(extension.state).toBe('abandoned');
        expect(issued).toHaveLength(2);
        const again = await page.api('POST', '/api/holder/extension');
        expect(again.status, JSON.stringify(again.body)).toBe(200);
        expect(again.body.id).not.toBe(extension.id);
      }
    }
    expect(outcomes).toHaveLength(KILL_AFTER_MS.length);
  }, 180_000);
});
