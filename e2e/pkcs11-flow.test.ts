// Production mode end to end on PKCS#11: SoftHSM2 tokens stand in for the two administrators' cards
// and the reserve card. Everything is made with the product's own commands (ca init, directory
// import, card init, card issue-admin), `reservkort serve` runs without training mode and
// `reservkort agent --pkcs11-module` beside it, both as processes. The test then does what the web
// page does, over HTTP: the server's API, the agent's loopback API with the portal's Origin, its
// event stream, and the PINs typed into the agent's own dialog. Reader 1 and 2 are numbered by the
// page's own rule (ReaderNumbers). Finally pkcs11-tool and OpenSSL look at the reserve card.
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { X509Certificate } from '@peculiar/x509';
import { type CardNumber, luhnCheckDigit } from '@reservkort/domain';
import { CardNumberExtension, registerExtensions } from '@reservkort/pki';
import { describe, expect, it } from 'vitest';
import { productionSiteFixture, type ReserveCard } from './support/production-site.js';

const run = promisify(execFile);

const RESERVE: ReserveCard = {
  card: '9752278900000001031' as CardNumber,
  pin: '246802',
  puk: '80246802',
  recipient: {
    hsaId: 'SE2321000016-pa11',
    pnr: `19780615789${luhnCheckDigit('780615789')}`,
    givenName: 'Petra',
    surname: 'Pkcs',
  },
};
const RECIPIENT = RESERVE.recipient;

// Processes take a few seconds each to start (TypeScript through tsx): the whole run stays within this.
describe('production mode on PKCS#11 cards (SoftHSM2)', { timeout: 180_000 }, () => {
  const fixture = productionSiteFixture('pkcs11-flow');

  it('admin 1 orders, admin 2 issues onto the reserve card, the recipient acknowledges; the card holds what the CA issued', async () => {
    // ---- the CA operator and the card bureau with the product's commands; the server and the agent ----
    // Cards with RSA-2048 keys, as real SITHS cards carry: the CA's setting, followed by every card.
    const site = await fixture.open([RESERVE], { caInitArgs: ['--card-key-type', 'rsa-2048'] });
    const serverUrl = site.serverUrl;
    const tool = (args: readonly string[]) => site.tool(args);

    // ---- admin 1: the admin portal; admin 2: steps 1–3; the recipient: steps 4–7 -----------------------
    const [order] = await site.orderAll();
    const { certificates } = await site.issue(RESERVE, true);

    // ---- the reserve card, looked at by pkcs11-tool and OpenSSL ---------------------------------------
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
    // The recipient's two keys, and the card bureau key that card init wrote.
    expect(privateKeys).toHaveLength(3);
    expect(privateKeys.filter((b) => /label:\s+card-auth/.test(b))).toHaveLength(1);
    for (const block of privateKeys) {
      expect(block).toMatch(/Access:.*\bsensitive\b/);
      expect(block).toMatch(/Access:.*never extractable/);
      expect(block).not.toMatch(/Access:[^\n]*(?<!never )extractable/);
    }
    expect(blocks.filter((b) => b.startsWith('Certificate Object'))).toHaveLength(3);

    const dir = join(fixture.data, 'check');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'root.pem'), await (await fetch(`${serverUrl}/pki/ca/root.pem`)).text());
    await writeFile(join(dir, 'loa3.pem'), await (await fetch(`${serverUrl}/pki/ca/loa3.pem`)).text());
    registerExtensions();
    const onCard: string[] = [];
    for (const [key, id] of [
      ['auth', '01'],
      ['sign', '02'],
    ] as const) {
      const der = join(dir, `${key}.der`);
      const pem = join(dir, `${key}.pem`);
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
      await run('openssl', ['x509', '-inform', 'DER', '-in', der, '-out', pem]);
      const verified = await run('openssl', [
        'verify',
        '-CAfile',
        join(dir, 'root.pem'),
        '-untrusted',
        join(dir, 'loa3.pem'),
        pem,
      ]);
      expect(verified.stdout.trim()).toBe(`${pem}: OK`);
      const text = (await run('openssl', ['x509', '-in', pem, '-noout', '-text'])).stdout;
      expect(text).toContain('1.2.752.34.2.1');
      expect(text).toContain(RESERVE.card);
      expect(text).toContain('Public-Key: (2048 bit)');
      expect(text).toMatch(
        key === 'auth'
          ? /Key Usage: critical\s+Digital Signature, Key Encipherment\n/
          : /Key Usage: critical\s+Non Repudiation\n/,
      );
      const certificate = new X509Certificate(await readFile(der));
      expect(certificate.getExtension(CardNumberExtension)?.cardNumber).toBe(order.cardNumber);
      expect(certificate.subjectName.getField('2.5.4.5')).toEqual([RECIPIENT.hsaId]);
      onCard.push(Buffer.from(certificate.rawData).toString('base64'));
    }
    // What the card holds is what the CA issued in the flow.
    expect(onCard).toEqual([certificates.auth, certificates.sign]);

    // And the card bureau's certificate, which the flow left alone, chains to the root through the bureau CA.
    await writeFile(join(dir, 'bureau.pem'), await (await fetch(`${serverUrl}/pki/ca/bureau.pem`)).text());
    const bureauDer = join(dir, 'card-bureau.der');
    const bureauPem = join(dir, 'card-bureau.pem');
    await tool([
      '--token-label',
      RESERVE.card,
      '--read-object',
      '--type',
      'cert',
      '--id',
      '03',
      '--output-file',
      bureauDer,
    ]);
    await run('openssl', ['x509', '-inform', 'DER', '-in', bureauDer, '-out', bureauPem]);
    const bureauVerified = await run('openssl', [
      'verify',
      '-CAfile',
      join(dir, 'root.pem'),
      '-untrusted',
      join(dir, 'bureau.pem'),
      bureauPem,
    ]);
    expect(bureauVerified.stdout.trim()).toBe(`${bureauPem}: OK`);
    expect((await run('openssl', ['x509', '-in', bureauPem, '-noout', '-subject'])).stdout).toContain(
      `serialNumber = ${RESERVE.card}`,
    );
  });
});
