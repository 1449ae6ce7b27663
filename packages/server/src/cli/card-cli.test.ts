// `reservkort card init` and `card issue-admin` as processes on SoftHSM2 tokens, looked at
// independently by pkcs11-tool and by the agent's PKCS#11 backend.
import 'reflect-metadata';
import { createPublicKey, verify } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from '@peculiar/x509';
import { Pkcs11Backend } from '@reservkort/agent';
import type { CardNumber } from '@reservkort/domain';
import { CardNumberExtension, registerExtensions } from '@reservkort/pki';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSoftHsm, pkcs11Tool, type SoftHsm } from '../../../pki/src/test-support/softhsm.js';
import { runReservkort } from '../test-support/reservkort-cli.js';
import { PIN_ENV } from './card-pins.js';
import { main } from './main.js';

const PIN = '246810';
const PUK = '13579246';
const CARD_A = '9752278900000000801' as CardNumber;
const CARD_B = '9752278900000000819' as CardNumber;
const CARD_C = '9752278900000000827' as CardNumber;
const ADMIN = 'SE2321000016-cad1';

// Every command is a process of its own (a couple of seconds each): room for a handful per test.
describe('reservkort card', { timeout: 120_000 }, () => {
  let hsm: SoftHsm;
  let dir: string;

  const cli = (args: readonly string[], env: Record<string, string> = {}) => runReservkort(dir, args, env);
  /** The command in this process (quick, for refusals): exit code and what it printed. */
  const inProcess = async (args: readonly string[], env: Record<string, string>) => {
    const saved = { ...process.env };
    for (const name of Object.values(PIN_ENV)) delete process.env[name];
    Object.assign(process.env, env);
    let stdout = '';
    let stderr = '';
    const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      stdout += String(chunk);
      return true;
    });
    const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      stderr += String(chunk);
      return true;
    });
    try {
      const code = await main(['node', 'reservkort', '--data', dir, ...args]);
      return { code, stdout, stderr };
    } finally {
      out.mockRestore();
      err.mockRestore();
      process.env = saved;
    }
  };
  const pins = { RESERVKORT_CARD_PIN: PIN, RESERVKORT_CARD_PUK: PUK };
  const init = (cardNumber: string, extra: readonly string[] = [], env: Record<string, string> = pins) =>
    cli(['card', 'init', '--pkcs11-module', hsm.module, '--card-number', cardNumber, ...extra], env);
  const slots = () => pkcs11Tool(hsm, ['--list-slots']);

  /** The agent's view of the tokens: card numbers by reader, read the way the portal's agent reads them. */
  const withBackend = async <T>(work: (backend: Pkcs11Backend) => Promise<T>): Promise<T> => {
    const backend = await Pkcs11Backend.open({ module: hsm.module });
    try {
      return await work(backend);
    } finally {
      await backend.close();
    }
  };
  const readerOf = async (backend: Pkcs11Backend, cardNumber: CardNumber) => {
    const reader = (await backend.readers()).find((r) => r.card?.cardNumber === cardNumber);
    if (reader === undefined) throw new Error(`the agent sees no card ${cardNumber}`);
    return reader.id;
  };

  beforeAll(async () => {
    hsm = await createSoftHsm();
    dir = await mkdtemp(join(tmpdir(), 'reservkort-card-cli-'));
    // card init writes the card bureau's certificate, so the data folder's CA comes first.
    const ca = await cli(['ca', 'init', '--base-url', 'http://127.0.0.1:9', '--organisation', 'Kort CA']);
    expect(ca.code, ca.stderr).toBe(0);
  });
  afterAll(async () => {
    await hsm?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('initialises blank reserve cards through PKCS#11: label, PIN 1, the PUK as SO PIN, the card-number object', async () => {
    const text = await init(CARD_A, ['--slot', 'free']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^card ${CARD_A} initialised in slot-\\d+ .*label ${CARD_A}`));
    expect(text.stdout).toMatch(
      /card bureau key generated on the card, certificate [0-9a-f]+ from the bureau CA/,
    );

    // The second from a pins file, with a label that is not its number: the data object carries it.
    const file = join(dir, 'pins');
    await writeFile(file, `# PIN letter of ${CARD_B}\npin=${PIN}\npuk=${PUK}\n`, { mode: 0o600 });
    const json = await init(
      CARD_B,
      ['--slot', 'free', '--label', 'Reservkort B', '--pins-file', file, '--json'],
      {},
    );
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      cardNumber: CARD_B,
      label: 'Reservkort B',
      slot: expect.stringMatching(/^slot-\d+$/),
      replaced: null,
      wasInitialised: false,
      bureauKey: { ca: 'bureau', local: true, sensitive: true, neverExtractable: true },
    });
    const bureauSerial = (JSON.parse(json.stdout) as { bureauKey: { serial: string } }).bureauKey.serial;
    // The bureau key as pkcs11-tool sees it without any login: public, sensitive, never extractable.
    const bureauKey = (
      await pkcs11Tool(hsm, ['--token-label', 'Reservkort B', '--list-objects', '--type', 'privkey'])
    )
      .split(/\n(?=\S)/)
      .filter((block) => block.startsWith('Private Key Object'));
    expect(bureauKey).toHaveLength(1);
    expect(bureauKey[0]).toContain('label:      card-auth');
    expect(bureauKey[0]).toMatch(/Usage:\s+sign/);
    expect(bureauKey[0]).toMatch(/Access:.*\bsensitive\b/);
    expect(bureauKey[0]).toMatch(/never extractable/);
    expect(bureauKey[0]).toMatch(/\blocal\b/);
    const bureauCertificate = await pkcs11Tool(hsm, [
      '--token-label',
      'Reservkort B',
      '--list-objects',
      '--type',
      'cert',
    ]);
    expect(bureauCertificate).toContain('card-auth');
    expect(bureauCertificate).toContain(`serialNumber=${CARD_B}`);

    expect(await slots()).toMatch(new RegExp(`token label\\s+: ${CARD_A}`));
    const objects = await pkcs11Tool(hsm, [
      '--token-label',
      'Reservkort B',
      '--list-objects',
      '--type',
      'data',
    ]);
    expect(objects).toContain("label:          'card-number'");

    await withBackend(async (backend) => {
      const readers = await backend.readers();
      expect(readers.map((r) => r.card?.cardNumber).sort()).toEqual([CARD_A, CARD_B]);
      const b = await readerOf(backend, CARD_B);
      expect((await backend.cardInfo(b)).keys).toEqual({ auth: false, sign: false });
      // The card proves itself with no PIN: a signature by the key its bureau certificate certifies.
      const challenge = new TextEncoder().encode('card-proof:flow:nonce');
      const proof = await backend.proveCard(b, CARD_B, challenge);
      const certificate = new X509Certificate(new Uint8Array(proof.certificate));
      expect(certificate.serialNumber.toLowerCase().replace(/^0+/, '')).toBe(bureauSerial);
      expect(certificate.subject).toContain(`CN=Reserve card ${CARD_B}`);
      expect(certificate.issuer).toContain('CN=Kort CA Card Bureau CA');
      const key = createPublicKey({
        key: Buffer.from(certificate.publicKey.rawData),
        format: 'der',
        type: 'spki',
      });
      expect(verify('sha256', challenge, { key, dsaEncoding: 'ieee-p1363' }, proof.signature)).toBe(true);
      // PIN 1 opens the card; the PUK is the SO PIN, which unblocks it.
      await backend.generateKey(b, CARD_B, 'auth', PIN, 'ecdsa-p256');
      await backend.unblockPin(b, CARD_B, 'pin1', PUK, '1357');
      await backend.clean(b, CARD_B, '1357');
    });
  });

  it('refuses to re-initialise a card unless --force, and --force needs the PUK the card has', async () => {
    const again = await init(CARD_C, ['--token-label', CARD_A]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds card 9752278900000000801; --force wipes it \[CARD_ERROR\]/);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);

    const wrongPuk = await init(CARD_C, ['--token-label', CARD_A, '--force'], {
      RESERVKORT_CARD_PIN: PIN,
      RESERVKORT_CARD_PUK: '11111111',
    });
    expect(wrongPuk.stderr).toMatch(/\[PUK_INCORRECT\]/);

    const forced = await init(CARD_C, ['--token-label', CARD_A, '--force', '--json']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({
      cardNumber: CARD_C,
      replaced: CARD_A,
      wasInitialised: true,
    });
    expect(await slots()).not.toContain(CARD_A);
  });

  it('validates the card number, the PINs and the target, and never takes a PIN from the command line', async () => {
    const before = await slots();
    // The whole command line as a process once; the other refusals in this process, where they are quick.
    const argv = await init('9752278900000000835', ['--slot', 'free', '--pin', PIN, '--puk', PUK], {});
    expect(argv.code).toBe(1);
    expect(argv.stderr.trim()).toBe(
      'reservkort: The request is malformed: PINs are never read from the command line, where ps shows them: set RESERVKORT_CARD_PIN and RESERVKORT_CARD_PUK, or give --pins-file [REQUEST_INVALID]',
    );
    const refused = async (extra: readonly string[], env: Record<string, string>, pattern: RegExp) => {
      const { code, stderr } = await inProcess(
        ['card', 'init', '--pkcs11-module', hsm.module, '--card-number', '9752278900000000835', ...extra],
        env,
      );
      expect(code).toBe(1);
      expect(stderr).toMatch(pattern);
      expect(stderr.trim().split('\n')).toHaveLength(1);
    };
    await refused(['--slot', 'free', `--so-pin=${PUK}`], pins, /command line.*\[REQUEST_INVALID\]/);
    await refused(
      ['--slot', 'free', '--card-number', '1234'],
      pins,
      /Invalid card number: .*\[CARD_NUMBER_INVALID\]/,
    );
    await refused(
      ['--slot', 'free'],
      { RESERVKORT_CARD_PIN: '12', RESERVKORT_CARD_PUK: PUK },
      /PIN 1 is four to eight digits \[PIN_FORMAT\]/,
    );
    await refused(
      ['--slot', 'free'],
      { RESERVKORT_CARD_PIN: PIN, RESERVKORT_CARD_PUK: '1234' },
      /the PUK is eight digits \[PIN_FORMAT\]/,
    );
    await refused(
      ['--slot', 'free'],
      { RESERVKORT_CARD_PIN: PIN },
      /no PUK: set RESERVKORT_CARD_PUK \[REQUEST_INVALID\]/,
    );
    await refused(['--slot', 'free'], {}, /no PIN 1: set RESERVKORT_CARD_PIN \[REQUEST_INVALID\]/);
    await refused(
      ['--slot', 'free'],
      { ...pins, RESERVKORT_CARD_PIN2: '999999' },
      /one user PIN: PIN 2 must be PIN 1 \[PIN_FORMAT\]/,
    );
    await refused(['--slot', 'free', '--token-label', 'x'], pins, /either --slot or --token-label/);
    await refused([], pins, /either --slot or --token-label/);
    await refused(['--slot', 'nine'], pins, /--slot takes a slot id .*\[REQUEST_INVALID\]/);
    await refused(['--slot', 'free', '--label', 'x'.repeat(33)], pins, /token label is 1–32 bytes/);
    await refused(['--slot', '0x7777'], pins, /No such card reader: no slot 0x7777/);
    await refused(
      ['--token-label', 'nobody'],
      pins,
      /No card in the reader: no token labelled nobody \[CARD_MISSING\]/,
    );
    const open = join(dir, 'open-pins');
    await writeFile(open, `pin=${PIN}\npuk=${PUK}\n`);
    await chmod(open, 0o644);
    await refused(['--slot', 'free', '--pins-file', open], {}, /may be read by others: chmod 600/);
    const odd = join(dir, 'odd-pins');
    await writeFile(odd, `pin=${PIN}\nsecret ${PUK}\n`, { mode: 0o600 });
    await refused(['--slot', 'free', '--pins-file', odd], {}, /odd-pins line 2: expected pin=/);
    // Nothing was touched by any of them.
    expect(await slots()).toBe(before);

    const help = await inProcess(['card', 'init', '--help'], {});
    expect(help.stdout).toContain('--pins-file');
    expect(help.stdout).toContain('--force');
    expect(help.stdout).not.toMatch(/--pin\b|--puk\b|--so-pin/);
  });

  it('issue-admin generates both keys on the card and writes the CA’s certificates, for an administrator of the directory only', async () => {
    const directory = join(dir, 'directory.json');
    await writeFile(
      directory,
      JSON.stringify({
        branches: [
          { id: 'region', parentId: null, name: 'Region Exempel' },
          { id: 'clinic', parentId: 'region', name: 'Kliniken' },
        ],
        admins: [
          { hsaId: ADMIN, givenName: 'Karin', surname: 'Kort', roles: [{ role: 'KRA', branchId: 'clinic' }] },
        ],
      }),
    );
    expect((await cli(['directory', 'import', directory])).code).toBe(0);
    const issueArgs = (hsaId: string, cardNumber: string = CARD_B) => [
      'card',
      'issue-admin',
      '--pkcs11-module',
      hsm.module,
      '--card-number',
      cardNumber,
      '--hsa-id',
      hsaId,
    ];
    const admin = { RESERVKORT_CARD_PIN: '1357' };
    const issue = (hsaId: string, extra: readonly string[] = []) =>
      cli([...issueArgs(hsaId), ...extra], admin);

    const stranger = await inProcess(issueArgs('SE2321000016-zzz9'), admin);
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toMatch(
      /SE2321000016-zzz9 is not an administrator in the directory.*\[NOT_FOUND\]/,
    );
    expect((await inProcess([...issueArgs(ADMIN), '--pin', '1357'], {})).stderr).toMatch(
      /\[REQUEST_INVALID\]/,
    );
    expect((await inProcess(issueArgs('SE23'), admin)).stderr).toMatch(/\[HSA_ID_INVALID\]/);
    expect((await inProcess(issueArgs(ADMIN, '9752278900000000843'), admin)).stderr).toMatch(
      /card 9752278900000000843 is in no reader .*\[CARD_MISSING\]/,
    );

    const issued = await issue(ADMIN, ['--json']);
    expect(issued.code, issued.stderr).toBe(0);
    const rows = JSON.parse(issued.stdout) as {
      key: string;
      serial: string;
      ca: string;
      cardNumber: string;
    }[];
    expect(rows.map((r) => [r.key, r.ca, r.cardNumber])).toEqual([
      ['auth', 'loa3', CARD_B],
      ['sign', 'loa3', CARD_B],
    ]);

    registerExtensions();
    await withBackend(async (backend) => {
      const info = await backend.cardInfo(await readerOf(backend, CARD_B));
      expect(info.keys).toEqual({ auth: true, sign: true });
      expect(info.certificates.map((c) => c.key)).toEqual(['auth', 'sign']);
      for (const stored of info.certificates) {
        const certificate = new X509Certificate(new Uint8Array(stored.der));
        expect(certificate.subjectName.getField('2.5.4.5')).toEqual([ADMIN]);
        expect(certificate.subject).toContain('O=Region Exempel');
        expect(certificate.getExtension(CardNumberExtension)?.cardNumber).toBe(CARD_B);
        expect(rows.map((r) => r.serial)).toContain(
          certificate.serialNumber.toLowerCase().replace(/^0+/, ''),
        );
      }
    });
    const privateKeys = await pkcs11Tool(hsm, [
      '--token-label',
      'Reservkort B',
      '--login',
      '--pin',
      '1357',
      '--list-objects',
      '--type',
      'privkey',
    ]);
    // The holder's two keys, and the card bureau key that card init wrote.
    expect(privateKeys.match(/Private Key Object/g)).toHaveLength(3);
    expect(privateKeys.match(/label:\s+card-auth/g)).toHaveLength(1);

    const twice = await issue(ADMIN);
    expect(twice.stderr).toMatch(/already holds keys or certificates; --force replaces them \[CARD_ERROR\]/);
  });
});
