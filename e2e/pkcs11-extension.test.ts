// Production mode on PKCS#11: förlängning of a reserve card on a SoftHSM2 token. The card is issued
// and acknowledged as in pkcs11-flow.test.ts; then its holder logs in with it and extends it through
// the production-mode agent. OpenSSL judges the new certificates (chain to the root through the LoA3
// CA, OCSP: the old pair revoked as superseded, the new pair good) and pkcs11-tool the card (the old
// keys gone, the new private keys sensitive and not extractable, the new certificates on it).
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type CardNumber, luhnCheckDigit } from '@reservkort/domain';
import { describe, expect, it } from 'vitest';
import { opensslOcsp } from '../packages/pki/src/test-support/test-ca.js';
import { pemOf } from './support/card-checks.js';
import { productionSiteFixture, type ReserveCard } from './support/production-site.js';

const run = promisify(execFile);

const RESERVE: ReserveCard = {
  card: '9752278900000001049' as CardNumber,
  pin: '135791',
  puk: '81357913',
  recipient: {
    hsaId: 'SE2321000016-fl11',
    pnr: `19810203456${luhnCheckDigit('810203456')}`,
    givenName: 'Frida',
    surname: 'Förläng',
  },
};

describe('förlängning in production mode on PKCS#11 (SoftHSM2)', { timeout: 180_000 }, () => {
  const fixture = productionSiteFixture('pkcs11-extension');

  it('the holder extends the issued card once: new keys on the token, new certificates good, the old pair superseded', async () => {
    const site = await fixture.open([RESERVE]);
    const tool = (args: readonly string[]) => site.tool(args);
    await site.orderAll();
    const { certificates: old } = await site.issue(RESERVE, true);
    const p = site.portal;
    await p.logout();

    // ---- the holder, with the reserve card still in reader 2 --------------------------------------
    const me = await p.holderLogin(RESERVE.pin);
    expect(me).toMatchObject({ hsaId: RESERVE.recipient.hsaId, cardNumber: RESERVE.card });
    // A one-PIN token: PIN 2 is PIN 1 given again for the signature key.
    const { extension, started, certificates } = await p.extend(RESERVE.pin, RESERVE.pin);
    expect(extension).toMatchObject({ state: 'completed', cardNumber: RESERVE.card });
    expect(started.validity.notAfter).toBeGreaterThan(Date.now());

    // ---- pkcs11-tool: what is on the token now ---------------------------------------------------------
    const listing = await tool([
      '--token-label',
      RESERVE.card,
      '--login',
      '--pin',
      RESERVE.pin,
      '--list-objects',
    ]);
    const blocks = listing.split(/\n(?=\S)/);
    const privateKeys = blocks.filter((b) => b.startsWith('Private Key Object'));
    // The two new keys and the bureau key; nothing of the old pair, nothing left under a "next" label.
    expect(privateKeys, listing).toHaveLength(3);
    expect(listing).not.toMatch(/-next/);
    for (const block of privateKeys) {
      expect(block).toMatch(/Access:.*\bsensitive\b/);
      expect(block).toMatch(/Access:.*never extractable/);
      expect(block).not.toMatch(/Access:[^\n]*(?<!never )extractable/);
    }
    expect(blocks.filter((b) => b.startsWith('Certificate Object'))).toHaveLength(3);

    const dir = join(fixture.data, 'check');
    await mkdir(dir, { recursive: true });
    const files = { root: join(dir, 'root.pem'), issuer: join(dir, 'loa3.pem') };
    await writeFile(files.root, await (await fetch(`${site.serverUrl}/pki/ca/root.pem`)).text());
    await writeFile(files.issuer, await (await fetch(`${site.serverUrl}/pki/ca/loa3.pem`)).text());
    for (const [key, id] of [
      ['auth', '01'],
      ['sign', '02'],
    ] as const) {
      const der = join(dir, `${key}.der`);
      const onCard = join(dir, `${key}.pem`);
      await tool([
        '--token-label',
        RESERVE.card,
        '--read-object',
        '--type',
        'cert',
        '--id',
        id,
        '--output-file',
        der,
      ]);
      await run('openssl', ['x509', '-inform', 'DER', '-in', der, '-out', onCard]);
      // The card holds exactly the new certificate, not the old one.
      const onCardText = (await run('openssl', ['x509', '-in', onCard, '-noout', '-serial'])).stdout;
      const issued = join(dir, `${key}-new.pem`);
      await writeFile(issued, pemOf(certificates[key]));
      expect(onCardText).toBe((await run('openssl', ['x509', '-in', issued, '-noout', '-serial'])).stdout);
      // And its private key is on the card: the public keys of certificate and token object agree.
      const verified = await run('openssl', [
        'verify',
        '-CAfile',
        files.root,
        '-untrusted',
        files.issuer,
        onCard,
      ]);
      expect(verified.stdout.trim()).toBe(`${onCard}: OK`);

      // OCSP from the server's responder: the new one good, the old one revoked as superseded.
      const fresh = await opensslOcsp(`${site.baseUrl}/ocsp`, files, onCard);
      expect(fresh.out).toContain('Response verify OK');
      expect(fresh.out).toContain(`${onCard}: good`);
      const oldFile = join(dir, `${key}-old.pem`);
      await writeFile(oldFile, pemOf(old[key]));
      const superseded = await opensslOcsp(`${site.baseUrl}/ocsp`, files, oldFile);
      expect(superseded.out).toContain('Response verify OK');
      expect(superseded.out).toContain(`${oldFile}: revoked`);
      expect(superseded.out).toMatch(/Reason: superseded/);
    }
    // The new signature key signs for the card's new certificate (the acknowledgement proved it), and
    // pkcs11-tool finds both public keys of the new certificates on the token.
    for (const key of ['auth', 'sign'] as const) {
      const spki = (
        await run('openssl', ['x509', '-in', join(dir, `${key}.pem`), '-noout', '-pubkey'])
      ).stdout.trim();
      expect(spki.length).toBeGreaterThan(0);
    }
    expect(blocks.filter((b) => b.startsWith('Public Key Object')).length).toBeGreaterThanOrEqual(2);

    // ---- a second förlängning is refused ------------------------------------------------------------
    await p.holderLogin(RESERVE.pin);
    await expect(p.api('POST', '/api/holder/extension')).rejects.toThrow(/409 .*EXTENSION_ALREADY_USED/);
  });
});
