// What a relying party sees of a reserve card. Reserve cards are issued in production mode onto
// SoftHSM2 tokens through the seven steps (the product's server and agent as processes, the page
// over HTTP). Debian's nginx, on loopback, demands a client certificate from the product's CA chain
// and checks revocation in each of three ways: OCSP for the card certificate (`ssl_ocsp leaf`),
// OCSP for the whole chain (`ssl_ocsp on`: nginx asks about the LoA3 CA too) and CRLs fetched from
// the product's own URLs (`ssl_crl`). The client is curl with the card's authentication key on its
// token, through OpenSSL's PKCS#11 engine. A good card gets in; after `reservkort cert revoke`, and
// after an acknowledgement deadline passes, nginx refuses it with "certificate revoked" within 2 s.
import 'reflect-metadata';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CRLDistributionPointsExtension, X509Certificate } from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSoftHsm, type SoftHsm } from '../packages/pki/src/test-support/softhsm.js';
import { writeSelfSignedCertificate } from '../packages/server/src/test-support/tls-certificate.js';
import { pemOf } from './support/card-checks.js';
import { ADMIN1, type IssuedReserveCard, ProductionSite, reserveCard } from './support/production-site.js';
import {
  type Answer,
  type CardKey,
  crlPem,
  getWithCardKey,
  REVOCATION_CHECKS,
  type RelyingParty,
  type RevocationCheck,
  startRelyingParty,
  verifyErrors,
} from './support/relying-party.js';
import { reservkortCli } from './support/reservkort-process.js';

/** 12 s to acknowledge: the acknowledged card does it at once; the other one's deadline is waited out. */
const ACK_WINDOW_MINUTES = 0.2;
/** How soon after a revocation every relying party must refuse the card (the product's promise). */
const REVOCATION_VISIBLE_MS = 2000;

const CARD_A = reserveCard(1, 'Rut', 'Relying');
const CARD_B = reserveCard(2, 'Olle', 'Ocsp');
/** A card made with `card issue-admin` rather than the flow: the other key type. */
const CARD_C = reserveCard(3, 'Rasmus', 'Rsa');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

const crlUrlsOf = (certificate: X509Certificate): string[] =>
  (certificate.getExtension(CRLDistributionPointsExtension)?.distributionPoints ?? []).flatMap(
    (point) =>
      point.distributionPoint?.fullName?.flatMap((name) =>
        name.uniformResourceIdentifier ? [name.uniformResourceIdentifier] : [],
      ) ?? [],
  );

describe('relying parties: nginx with OCSP or CRLs, the reserve card’s key over PKCS#11', {
  timeout: 150_000,
}, () => {
  let hsm: SoftHsm;
  const hsms: SoftHsm[] = [];
  let dir = '';
  let site: ProductionSite | undefined;
  /** nginx's own certificate (self-signed: the client trusts exactly it) and key. */
  let tls = { certificate: '', key: '' };
  /** Each way of checking revocation: its nginx, or why it could not start. */
  const parties = new Map<RevocationCheck, RelyingParty | Error>();
  const cas: { root?: X509Certificate; loa3?: X509Certificate; loa2?: X509Certificate } = {};
  /** The card certificates met so far: the CRL file holds the CRLs their chains need. */
  const cards: X509Certificate[] = [];
  let crlFile = '';
  let crlsServed = '';

  const fetchOk = async (url: string): Promise<Response> => {
    const answer = await fetch(url);
    if (!answer.ok) throw new Error(`GET ${url}: ${answer.status} ${await answer.text()}`);
    return answer;
  };

  /**
   * The CRLs a relying party fetches: the one each CA certificate names (the root's) and the one
   * the card certificates name (the LoA3 CA's), PEM, one after the other.
   */
  const fetchCrls = async (): Promise<string> => {
    const urls = new Set<string>();
    const named = [...cards.map((card) => ['card', card] as const), ...Object.entries(cas)];
    for (const [name, certificate] of named) {
      if (certificate === undefined) continue;
      const named = crlUrlsOf(certificate);
      if (named.length === 0 && name !== 'root')
        throw new Error(`the ${name} certificate names no CRL distribution point`);
      for (const url of named) urls.add(url);
    }
    const pems: string[] = [];
    for (const url of urls) {
      const der = new Uint8Array(await (await fetchOk(url)).arrayBuffer());
      pems.push(await crlPem(der, dir, `crl-${pems.length}`));
    }
    return pems.join('');
  };

  /** New CRLs, if the product published new ones, into nginx's file, and nginx reloaded. */
  const refreshCrls = async (): Promise<void> => {
    const crls = await fetchCrls();
    if (crls === crlsServed) return;
    await writeFile(crlFile, crls);
    crlsServed = crls;
    const party = parties.get('crl');
    if (party !== undefined && !(party instanceof Error)) await party.reload();
  };

  /** The card's authentication key on its token (the agent labels it), and its certificate as the flow issued it. */
  const cardKey = async (card: typeof CARD_A, issued: IssuedReserveCard): Promise<CardKey> => {
    const pinFile = join(dir, `pin-${card.card}`);
    await writeFile(pinFile, card.pin, { mode: 0o600 });
    const certificate = join(dir, `auth-${card.card}.pem`);
    await writeFile(certificate, pemOf(issued.certificates.auth));
    return { hsm, token: card.card, object: 'reservkort-auth', pinFile, certificate };
  };

  /** The relying party's answer to the card, and what nginx logged since `logged` lines. */
  const ask = async (
    check: RevocationCheck,
    key: CardKey,
    logged = 0,
  ): Promise<Answer & { log: string[] }> => {
    const party = parties.get(check);
    if (party === undefined || party instanceof Error)
      return { status: 0, body: '', said: `nginx did not start: ${party?.message}`, log: [] };
    const answer = await getWithCardKey(party.url, tls.certificate, key);
    return { ...answer, log: (await verifyErrors(party)).slice(logged) };
  };

  /** How many lines nginx has logged so far (its answers after this are news). */
  const logLength = async (check: RevocationCheck): Promise<number> => {
    const party = parties.get(check);
    return party === undefined || party instanceof Error ? 0 : (await verifyErrors(party)).length;
  };

  /** Every relying party lets the card in. */
  const expectAccepted = async (key: CardKey, what: string) => {
    // A CRL-checking party holds the CRLs of every chain it has met, this card's included.
    await refreshCrls();
    for (const check of REVOCATION_CHECKS) {
      const answer = await ask(check, key, await logLength(check));
      expect
        .soft(answer.status, `${what}, ${check}: ${answer.said}${answer.body}\n${answer.log.join('\n')}`)
        .toBe(200);
      if (answer.status === 200) expect.soft(answer.body, check).toMatch(/^SUCCESS /);
    }
  };

  /**
   * Every relying party refuses the card: 400, "certificate revoked" in nginx's error log, within
   * REVOCATION_VISIBLE_MS of `since`. The CRL party's fetch and reload are part of that time.
   */
  const expectRefusedWithin = async (key: CardKey, since: number, what: string) => {
    const logged = new Map<RevocationCheck, number>();
    for (const check of REVOCATION_CHECKS) logged.set(check, await logLength(check));
    const outcomes = await Promise.all(
      REVOCATION_CHECKS.map(async (check) => {
        for (;;) {
          if (check === 'crl') await refreshCrls().catch(() => undefined);
          const answer = await ask(check, key, logged.get(check));
          const news = answer.log;
          const elapsed = Date.now() - since;
          if (answer.status === 400 && news.some((line) => line.includes('certificate revoked')))
            return { check, answer, news, elapsed, refused: true };
          if (elapsed > REVOCATION_VISIBLE_MS) return { check, answer, news, elapsed, refused: false };
          await sleep(50);
        }
      }),
    );
    for (const { check, answer, news, elapsed, refused } of outcomes) {
      const said = `${what}, ${check} after ${elapsed} ms: ${answer.status} ${answer.said}${answer.body}\n${news.join('\n')}`;
      expect.soft(refused, said).toBe(true);
      if (refused) expect.soft(elapsed, said).toBeLessThanOrEqual(REVOCATION_VISIBLE_MS);
    }
  };

  let keyA: CardKey;
  let certA: X509Certificate;
  let keyB: CardKey;
  let issuedB: IssuedReserveCard;

  beforeAll(async () => {
    hsm = await createSoftHsm();
    dir = await mkdtemp(join(tmpdir(), 'reservkort-relying-party-'));
    site = new ProductionSite(hsm, join(dir, 'data'), [CARD_A, CARD_B]);
    await site.open({ serveArgs: ['--ack-window', String(ACK_WINDOW_MINUTES)] });
    await site.orderAll();
    tls = await writeSelfSignedCertificate(dir);
  }, 120_000);

  afterAll(async () => {
    for (const party of parties.values()) if (!(party instanceof Error)) await party.stop();
    await site?.close();
    await hsm?.dispose();
    for (const other of hsms) await other.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a P-256 reserve card from the flow logs in with its key on the token, whichever way nginx checks revocation', async () => {
    if (site === undefined) throw new Error('no site');
    const issued = await site.issue(CARD_A, true);
    keyA = await cardKey(CARD_A, issued);
    certA = new X509Certificate(Buffer.from(issued.certificates.auth, 'base64'));
    cards.push(certA);
    expect(certA.publicKey.algorithm.name).toBe('ECDSA');

    // The relying party's files: the CA chain as served, one file after the other, as everyone does it.
    const chain: string[] = [];
    for (const name of ['root', 'loa3', 'loa2'] as const) {
      const pem = await (await fetchOk(`${site.baseUrl}/pki/ca/${name}.pem`)).text();
      cas[name] = new X509Certificate(pem);
      chain.push(pem);
    }
    const clientCas = join(dir, 'ca-chain.pem');
    await writeFile(clientCas, chain.join(''));
    crlFile = join(dir, 'crls.pem');
    const files = { serverCertificate: tls.certificate, serverKey: tls.key, clientCas, crls: crlFile };
    for (const check of REVOCATION_CHECKS) {
      try {
        if (check === 'crl') await refreshCrls();
        const prefix = join(dir, `nginx-${check}`);
        await mkdir(prefix, { recursive: true });
        parties.set(check, await startRelyingParty(prefix, check, files));
      } catch (error) {
        parties.set(check, error instanceof Error ? error : new Error(String(error)));
      }
    }
    await expectAccepted(keyA, 'card A, good');
  });

  it('reservkort cert revoke: every relying party refuses the card within 2 s, "certificate revoked"', async () => {
    if (site === undefined || keyA === undefined) throw new Error('card A was not issued');
    const said = await site.cli(['cert', 'revoke', certA.serialNumber, '--reason', 'keyCompromise']);
    // From the moment the operator's command is done.
    const revokedAt = Date.now();
    expect(said).toContain('revoked');
    await expectRefusedWithin(keyA, revokedAt, 'card A, revoked');
  });

  it('an RSA-2048 card (LoA2 CA set to rsa-2048, card issue-admin) logs in, and is refused once revoked', async () => {
    if (site === undefined) throw new Error('no site');
    // Another workstation's reader: a token directory of its own, which this site's agent never sees.
    const otherReader = await createSoftHsm();
    hsms.push(otherReader);
    const cli = reservkortCli(site.data, otherReader);
    expect(await site.cli(['ca', 'card-key-type', 'rsa-2048', '--level', 'LoA2'])).toContain('rsa-2048');
    const letter = join(dir, `pins-${CARD_C.card}`);
    await writeFile(letter, `pin=${CARD_C.pin}\npuk=${CARD_C.puk}\n`, { mode: 0o600 });
    const module = ['--pkcs11-module', otherReader.module];
    await cli([
      'card',
      'init',
      ...module,
      '--slot',
      'free',
      '--card-number',
      CARD_C.card,
      '--pins-file',
      letter,
    ]);
    const issued: { key: string; serial: string }[] = JSON.parse(
      await cli(
        [
          'card',
          'issue-admin',
          ...module,
          '--card-number',
          CARD_C.card,
          '--hsa-id',
          ADMIN1.hsaId,
          '--level',
          'LoA2',
          '--json',
        ],
        { RESERVKORT_CARD_PIN: CARD_C.pin },
      ),
    );
    const serial = issued.find((row) => row.key === 'auth')?.serial ?? '';
    const pem = await cli(['cert', 'show', serial, '--pem']);
    const certC = new X509Certificate(pem);
    expect(certC.publicKey.algorithm.name).toBe('RSASSA-PKCS1-v1_5');
    cards.push(certC);
    const keyC: CardKey = {
      hsm: otherReader,
      token: CARD_C.card,
      object: 'reservkort-auth',
      pinFile: join(dir, `pin-${CARD_C.card}`),
      certificate: join(dir, `auth-${CARD_C.card}.pem`),
    };
    await writeFile(keyC.pinFile, CARD_C.pin, { mode: 0o600 });
    await writeFile(keyC.certificate, pem);
    await expectAccepted(keyC, 'card C (RSA-2048), good');

    await cli(['cert', 'revoke', serial, '--reason', 'keyCompromise']);
    await expectRefusedWithin(keyC, Date.now(), 'card C (RSA-2048), revoked');
  });

  it('a reserve card never acknowledged logs in until its deadline', async () => {
    if (site === undefined) throw new Error('no site');
    await site.takeOut(CARD_A);
    issuedB = await site.issue(CARD_B, false);
    keyB = await cardKey(CARD_B, issuedB);
    cards.push(new X509Certificate(Buffer.from(issuedB.certificates.auth, 'base64')));
    expect(issuedB.after.view.deadline).toBeGreaterThan(Date.now());
    await expectAccepted(keyB, 'card B, before its deadline');
  });

  it('the acknowledgement deadline passes: the product revokes, every relying party refuses within 2 s', async () => {
    if (site === undefined || keyB === undefined) throw new Error('card B was not issued');
    const deadline: number = issuedB.after.view.deadline;
    const certB = new X509Certificate(Buffer.from(issuedB.certificates.auth, 'base64'));
    // Nothing to poll before the deadline: the card is good until then.
    await sleep(deadline - Date.now());
    await expectRefusedWithin(keyB, deadline, 'card B, deadline passed');
    const shown = JSON.parse(await site.cli(['cert', 'show', certB.serialNumber, '--json']));
    expect(shown).toMatchObject({ status: 'revoked', reason: 'cessationOfOperation' });
  });
});
