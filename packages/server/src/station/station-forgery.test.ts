// The forgeries of a page, or a script with the page's cookie, against the issuance flow: each one
// driven over HTTP with admin 2's valid session and without the agent's help, each refused with its
// catalogue code, and nothing issued (the store's certificates counted before and after, and the
// real `reservkort cert list` run once). Where a forgery needs more than a page can do, the test
// plays a station whose key was stolen: the card's own signature still stops it.
import { execFile } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  type CardNumber,
  canonicalStatementBytes,
  cardKeysBytes,
  type SignedStatement,
  type StatementBody,
  type StatementPayload,
} from '@reservkort/domain';
import { getOrder, getStation } from '@reservkort/store';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeCsr } from '../../../pki/src/test-support/test-ca.js';
import { DIALECTS } from '../../../store/src/test-support/test-stores.js';
import { walkTo } from '../test-support/acceptance-flow.js';
import {
  ADMIN2_CARD,
  CARD_PINS,
  createIssuanceHarness,
  type Harness,
  RESERVE_CARD,
} from '../test-support/issuance-harness.js';
import { Page } from '../test-support/page.js';
import { revokeStation } from './station.service.js';

const run = promisify(execFile);
const BIN = new URL('../../bin/reservkort.js', import.meta.url).pathname;
const OTHER_CARD = '9752278900000000209' as CardNumber;

const decode = (signed: SignedStatement): StatementPayload =>
  JSON.parse(Buffer.from(signed.payload, 'base64url').toString('utf8')) as StatementPayload;

/** A station whose key was stolen: signs any payload, with a sequence number above the station's. */
const stolenStation = async (h: Harness) => {
  const key: KeyObject = createPrivateKey(await readFile(join(h.stationDir, 'station-key.pem'), 'utf8'));
  return async (
    payload: Omit<StatementPayload, 'v' | 'station' | 'seq' | 'at'>,
  ): Promise<SignedStatement> => {
    const station = await getStation(h.t.store.db, h.stationId);
    const full: StatementPayload = {
      v: 1,
      station: h.stationId,
      seq: (station?.lastSeq ?? 0) + 1,
      at: Date.now(),
      ...payload,
    };
    const bytes = canonicalStatementBytes(full);
    return {
      payload: Buffer.from(bytes).toString('base64url'),
      signature: sign('sha256', bytes, { key, dsaEncoding: 'ieee-p1363' }).toString('base64url'),
    };
  };
};

/** A statement signed by a key no CA ever certified, claiming to be the flow's station. */
const forged = (h: Harness, payload: Omit<StatementPayload, 'v' | 'station' | 'seq' | 'at'>) => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const bytes = canonicalStatementBytes({ v: 1, station: h.stationId, seq: 1_000_000, at: 0, ...payload });
  return {
    payload: Buffer.from(bytes).toString('base64url'),
    signature: sign('sha256', bytes, { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url'),
  };
};

const refusal = (answer: { status: number; body: any }) => ({
  status: answer.status,
  code: answer.body?.code,
  reason: answer.body?.details?.reason,
});

describe.each(DIALECTS)('forged station facts on %s', (dialect) => {
  let h: Harness;
  let page: Page;
  let before = 0;

  const certificateCount = async () => {
    const db = h.t.store.db as any;
    const row = await db.selectFrom('certificates').select(db.fn.countAll().as('n')).executeTakeFirst();
    return Number(row?.n ?? 0);
  };
  const flowView = async () => (await page.view()).body.view;

  beforeEach(async () => {
    h = await createIssuanceHarness({}, () => ({}), dialect);
    await h.cards.createCard({ cardNumber: OTHER_CARD, pin1: '1111', pin2: '2222', puk: '87654321' });
    const { giveTestBureauKeys } = await import('../test-support/test-station.js');
    await giveTestBureauKeys(h.cards, h.t.ca);
    page = new Page(h);
    before = await certificateCount();
  });
  afterEach(async () => {
    // Nothing was issued by any forgery.
    expect(await certificateCount()).toBe(before);
    await h.dispose();
  });

  it('(1) card-inserted and handover-verified relayed with reader 2 empty are refused', async () => {
    await walkTo(h, page, 4);
    const nonce = page.stationNonce;
    await page.action('handover-confirmed');
    const url = `/api/flows/${page.flowId}/agent-events`;
    // What a page used to send: unsigned.
    for (const event of [
      { type: 'card-inserted', reader: 2, cardNumber: RESERVE_CARD },
      { type: 'handover-verified', cardNumber: RESERVE_CARD },
    ]) {
      expect(refusal(await page.api('POST', url, event))).toEqual({
        status: 422,
        code: 'STATEMENT_INVALID',
        reason: 'unsigned',
      });
    }
    // Signed with a key of its own, in the station's name.
    const cardInserted = forged(h, {
      flowId: page.flowId,
      nonce,
      kind: 'event',
      body: { event: { type: 'card-inserted', reader: 2, cardNumber: RESERVE_CARD } },
    });
    expect(refusal(await page.api('POST', url, { statement: cardInserted }))).toMatchObject({
      code: 'STATEMENT_INVALID',
      reason: 'signature',
    });
    const proof = forged(h, {
      flowId: page.flowId,
      nonce,
      kind: 'card-proof',
      body: {
        reader: 2,
        cardNumber: RESERVE_CARD,
        bureauCertificate: 'AAAA',
        cardSignature: randomBytes(64).toString('base64'),
      },
    });
    expect(refusal(await page.api('POST', `/api/flows/${page.flowId}/handover`, { proof }))).toMatchObject({
      code: 'STATEMENT_INVALID',
      reason: 'signature',
    });
    // And the agent itself signs no card that is not there.
    await expect(
      h.agent.statement(h.agentToken, { flowId: page.flowId, nonce, kind: 'card-proof', reader: 2 }),
    ).rejects.toMatchObject({ code: 'CARD_MISSING' });
    const view = await flowView();
    expect(view.step).toBe(4);
    expect(view.readers[2].card).toBeNull();
  });

  it('(2) a card number that is not the card’s: another bureau card’s proof, and a forged card signature', async () => {
    await walkTo(h, page, 4);
    await h.cards.insertCard('reader-2', RESERVE_CARD);
    await page.relay({ type: 'card-inserted', reader: 2, cardNumber: RESERVE_CARD });
    await page.action('handover-confirmed');
    // Swapped for another genuine card, the page silent: its valid proof names its own number, and
    // the domain says WRONG_CARD.
    await h.cards.removeCard('reader-2');
    await h.cards.insertCard('reader-2', OTHER_CARD);
    const other = await page.statement('card-proof', { reader: 2 });
    const wrong = await page.api('POST', `/api/flows/${page.flowId}/handover`, { proof: other });
    expect(wrong.status, JSON.stringify(wrong.body)).toBe(200);
    expect(wrong.body.raised).toEqual(['WRONG_CARD']);
    expect(wrong.body.view.step).toBe(4);

    // With the station's key stolen: the other card's proof relabelled as the order's card.
    const steal = await stolenStation(h);
    await page.action('handover-confirmed');
    const otherBody = decode(await page.statement('card-proof', { reader: 2 })).body as Extract<
      StatementBody,
      { cardSignature: string; bureauCertificate: string; keys?: never }
    >;
    const relabelled = await steal({
      flowId: page.flowId,
      nonce: page.stationNonce,
      kind: 'card-proof',
      body: { ...otherBody, cardNumber: RESERVE_CARD },
    });
    expect(
      refusal(await page.api('POST', `/api/flows/${page.flowId}/handover`, { proof: relabelled })),
    ).toEqual({ status: 422, code: 'CARD_NOT_PROVEN', reason: 'card number' });
    // The statement was the station's own, so the refusal is the flow's fault now (and its nonce
    // moved on): it is on the timeline, and restarting is what is left.
    expect(await flowView()).toMatchObject({
      step: 4,
      pending: null,
      fault: { code: 'CARD_NOT_PROVEN', details: { reason: 'card number' } },
    });

    // The order's card proves itself for this nonce; then it leaves, and the flow moves on.
    await h.cards.removeCard('reader-2');
    await h.cards.insertCard('reader-2', RESERVE_CARD);
    const genuine = decode(await page.statement('card-proof', { reader: 2 })).body as typeof otherBody;
    await h.cards.removeCard('reader-2');
    expect((await page.relay({ type: 'card-removed', reader: 2 })).status).toBe(200);
    // Its certificate with a signature the card never made.
    const forgedSignature = await steal({
      flowId: page.flowId,
      nonce: page.stationNonce,
      kind: 'card-proof',
      body: { ...genuine, cardSignature: randomBytes(64).toString('base64') },
    });
    expect(
      refusal(await page.api('POST', `/api/flows/${page.flowId}/handover`, { proof: forgedSignature })),
    ).toEqual({ status: 422, code: 'CARD_NOT_PROVEN', reason: 'card signature' });
    // The genuine proof of an earlier nonce: the card signed other bytes.
    const replayed = await steal({
      flowId: page.flowId,
      nonce: page.stationNonce,
      kind: 'card-proof',
      body: genuine,
    });
    expect(
      refusal(await page.api('POST', `/api/flows/${page.flowId}/handover`, { proof: replayed })),
    ).toEqual({ status: 422, code: 'CARD_NOT_PROVEN', reason: 'card signature' });
    expect((await flowView()).step).toBe(4);
  });

  it('(2) with BEKRÄFTA ÖVERLÄMNING in the same request: the click and the card’s refusal are kept together', async () => {
    await walkTo(h, page, 4);
    await h.cards.insertCard('reader-2', RESERVE_CARD);
    await page.relay({ type: 'card-inserted', reader: 2, cardNumber: RESERVE_CARD });
    // Swapped for another genuine card, the page silent; its proof relabelled with the station's stolen key.
    await h.cards.removeCard('reader-2');
    await h.cards.insertCard('reader-2', OTHER_CARD);
    const otherBody = decode(await page.statement('card-proof', { reader: 2 })).body;
    const relabelled = await (await stolenStation(h))({
      flowId: page.flowId,
      nonce: page.stationNonce,
      kind: 'card-proof',
      body: { ...otherBody, cardNumber: RESERVE_CARD },
    });
    const timeline = async () => (await flowView()).timeline as { event: string; codes: string[] }[];
    const was = (await timeline()).length;
    const answer = await page.api('POST', `/api/flows/${page.flowId}/handover`, {
      proof: relabelled,
      confirmed: true,
    });
    expect(refusal(answer)).toEqual({ status: 422, code: 'CARD_NOT_PROVEN', reason: 'card number' });
    expect((await timeline()).slice(was).map((e) => [e.event, e.codes])).toEqual([
      ['handover-confirmed', []],
      ['card-refused', ['CARD_NOT_PROVEN']],
    ]);
    expect(await flowView()).toMatchObject({ step: 4, pending: null, fault: { code: 'CARD_NOT_PROVEN' } });
  });

  it('(3) keys generated without a card are refused', async () => {
    await walkTo(h, page, 'download-requested');
    const url = `/api/flows/${page.flowId}/agent-events`;
    for (const type of ['key-generation-started', 'keys-generated']) {
      expect(refusal(await page.api('POST', url, { type }))).toMatchObject({
        code: 'STATEMENT_INVALID',
        reason: 'unsigned',
      });
    }
    // The agent vouches only for keys it generated on the card in reader 2.
    await expect(page.statement('keys-generated', { reader: 2 })).rejects.toMatchObject({
      code: 'KEY_MISSING',
    });
    await h.cards.removeCard('reader-2');
    await expect(page.statement('keys-generated', { reader: 2 })).rejects.toMatchObject({
      code: 'CARD_MISSING',
    });
    // A stolen station key claiming software keys, the card gone: the card's signature is missing.
    const steal = await stolenStation(h);
    const [auth, signKey] = await Promise.all([makeCsr(), makeCsr()]);
    const spki = async (keys: CryptoKeyPair) =>
      Buffer.from(await crypto.subtle.exportKey('spki', keys.publicKey)).toString('base64');
    const fact = async (keys: CryptoKeyPair) => ({
      spki: await spki(keys),
      local: true,
      sensitive: true,
      neverExtractable: true,
    });
    const bureau = await bureauCertificateOf(h, RESERVE_CARD);
    const statement = await steal({
      flowId: page.flowId,
      nonce: page.stationNonce,
      kind: 'keys-generated',
      body: {
        reader: 2,
        cardNumber: RESERVE_CARD,
        bureauCertificate: bureau,
        keys: { auth: await fact(auth.keys), sign: await fact(signKey.keys) },
        cardSignature: randomBytes(64).toString('base64'),
      },
    });
    expect(refusal(await page.api('POST', `/api/flows/${page.flowId}/keys`, { statement }))).toEqual({
      status: 422,
      code: 'CARD_NOT_PROVEN',
      reason: 'card signature',
    });
    // The card signs, but the keys were imported: their attributes say so.
    await h.cards.insertCard('reader-2', RESERVE_CARD);
    const keys = { auth: await fact(auth.keys), sign: { ...(await fact(signKey.keys)), local: false } };
    const cardSigned = await h.cards.proveCard(
      'reader-2',
      RESERVE_CARD,
      cardKeysBytes({
        flowId: page.flowId,
        nonce: page.stationNonce,
        cardNumber: RESERVE_CARD,
        authSpki: keys.auth.spki,
        signSpki: keys.sign.spki,
      }),
    );
    const imported = await steal({
      flowId: page.flowId,
      nonce: page.stationNonce,
      kind: 'keys-generated',
      body: {
        reader: 2,
        cardNumber: RESERVE_CARD,
        bureauCertificate: Buffer.from(cardSigned.certificate).toString('base64'),
        keys,
        cardSignature: Buffer.from(cardSigned.signature).toString('base64'),
      },
    });
    expect(
      refusal(await page.api('POST', `/api/flows/${page.flowId}/keys`, { statement: imported })),
    ).toEqual({ status: 422, code: 'KEYS_NOT_ON_CARD', reason: 'attributes' });
    // One key for both purposes, vouched for by the card: still refused.
    const same = { auth: await fact(auth.keys), sign: await fact(auth.keys) };
    const sameSigned = await h.cards.proveCard(
      'reader-2',
      RESERVE_CARD,
      cardKeysBytes({
        flowId: page.flowId,
        nonce: page.stationNonce,
        cardNumber: RESERVE_CARD,
        authSpki: same.auth.spki,
        signSpki: same.sign.spki,
      }),
    );
    const oneKey = await steal({
      flowId: page.flowId,
      nonce: page.stationNonce,
      kind: 'keys-generated',
      body: {
        reader: 2,
        cardNumber: RESERVE_CARD,
        bureauCertificate: Buffer.from(sameSigned.certificate).toString('base64'),
        keys: same,
        cardSignature: Buffer.from(sameSigned.signature).toString('base64'),
      },
    });
    expect(
      refusal(await page.api('POST', `/api/flows/${page.flowId}/keys`, { statement: oneKey })),
    ).toMatchObject({ status: 422, code: 'CSR_SAME_KEY' });
    expect((await flowView()).download?.phase ?? null).not.toBe('dialogs');
  });

  it('(4) certificate requests from software keys, and (5) one key for both, are refused', async () => {
    const walked = await walkTo(h, page, 'keys-on-card');
    const url = `/api/flows/${page.flowId}/certificates`;
    const [auth, signKey] = await Promise.all([makeCsr(), makeCsr()]);
    expect(refusal(await page.api('POST', url, { authCsr: auth.pem, signCsr: signKey.pem }))).toEqual({
      status: 422,
      code: 'KEYS_NOT_ON_CARD',
      reason: 'auth',
    });
    // One request from the card, the other from software.
    expect(
      refusal(await page.api('POST', url, { authCsr: walked.csrs?.authCsr, signCsr: signKey.pem })),
    ).toEqual({ status: 422, code: 'KEYS_NOT_ON_CARD', reason: 'sign' });
    // The card's own requests swapped: each key certified only for its purpose.
    expect(
      refusal(await page.api('POST', url, { authCsr: walked.csrs?.signCsr, signCsr: walked.csrs?.authCsr })),
    ).toEqual({ status: 422, code: 'KEYS_NOT_ON_CARD', reason: 'auth' });
    // (5) The same key for both certificates.
    expect(
      refusal(await page.api('POST', url, { authCsr: walked.csrs?.authCsr, signCsr: walked.csrs?.authCsr })),
    ).toMatchObject({ code: 'CSR_SAME_KEY' });
    expect(refusal(await page.api('POST', url, { authCsr: auth.pem, signCsr: auth.pem }))).toMatchObject({
      code: 'CSR_SAME_KEY',
    });
    // The card's own requests still go through: nothing was claimed by the refusals.
    const issued = await page.api('POST', url, walked.csrs);
    expect(issued.status, JSON.stringify(issued.body)).toBe(200);
    before += 2;
  });

  it('(6) a statement replayed from another flow or an earlier step is refused; parallel copies accept at most one', async () => {
    await walkTo(h, page, 4);
    const first = page.flowId;
    const url = (flowId: string) => `/api/flows/${flowId}/agent-events`;
    await h.cards.insertCard('reader-2', RESERVE_CARD);
    const inserted = await page.statement('event', { eventSeq: lastSeq(h, 'card-inserted') });
    // Five copies at once: one is accepted, the others find the nonce moved on (or the flow changed).
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => page.api('POST', url(first), { statement: inserted })),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    for (const answer of answers.filter((a) => a.status !== 200))
      expect(['STATEMENT_INVALID', 'ORDER_STATE_CONFLICT']).toContain(answer.body.code);
    // The same statement later in this flow: its nonce is spent.
    expect(refusal(await page.api('POST', url(first), { statement: inserted }))).toMatchObject({
      code: 'STATEMENT_INVALID',
      reason: 'nonce',
    });
    // A readers statement of this flow, kept for a start elsewhere.
    const readersOfFirst = await page.statement('readers');
    // A second flow of the same administrator: the first flow's statement does not fit it.
    expect((await page.start()).status).toBe(200);
    expect(page.flowId).not.toBe(first);
    expect(refusal(await page.api('POST', url(page.flowId), { statement: inserted }))).toMatchObject({
      code: 'STATEMENT_INVALID',
      reason: 'flow',
    });
    // A statement of another kind than the step takes: a readers statement is no event.
    expect(
      refusal(await page.api('POST', url(page.flowId), { statement: await page.statement('readers') })),
    ).toMatchObject({ code: 'STATEMENT_INVALID', reason: 'kind' });
    const reserved = await page.api('POST', '/api/flows/start');
    expect(
      refusal(
        await page.api('POST', '/api/flows', { flowId: reserved.body.flowId, readers: readersOfFirst }),
      ),
    ).toMatchObject({ code: 'STATEMENT_INVALID', reason: 'flow' });
  });

  it('(7) a statement from a revoked station is refused', async () => {
    await walkTo(h, page, 4);
    await revokeStation({ db: h.t.store.db, ca: h.t.ca, now: () => Date.now() }, h.stationId, 'ca-operator');
    await h.cards.insertCard('reader-2', RESERVE_CARD);
    const answer = await page.relay({ type: 'card-inserted', reader: 2, cardNumber: RESERVE_CARD });
    expect(refusal(answer)).toMatchObject({ status: 403, code: 'STATION_REVOKED' });
    // Not even a new flow starts on it.
    expect(refusal(await page.start())).toMatchObject({ code: 'STATION_REVOKED' });
  });

  it('(8) the admin card removed and re-inserted with the page silent: SIGNERA answers CARD_REINSERTED', async () => {
    await walkTo(h, page, 3);
    await h.cards.removeCard('reader-1');
    await h.cards.insertCard('reader-1', ADMIN2_CARD);
    await h.agent.bind(h.agentToken, 'reader-1');
    const signature = await page.signChallenge('order', 'reader-1', CARD_PINS.pin2);
    const signed = await page.api('POST', `/api/flows/${page.flowId}/sign`, signature);
    expect(signed.status).toBe(200);
    expect(signed.body.raised).toContain('CARD_REINSERTED');
    expect(signed.body.view.step).toBe(3);
    expect(signed.body.view.timeline.at(-1).details).toMatchObject({ station: h.stationId });
    expect((await getOrder(h.t.store.db, 'order-anna'))?.state).toBe('registered');
  });
});

/** The seq of the latest event of this type in the agent's log. */
function lastSeq(h: Harness, type: string): number {
  const seqs: number[] = [];
  h.agent.subscribe((e) => {
    if (e.type === type) seqs.push(e.seq);
  }, 0)();
  const seq = seqs.at(-1);
  if (seq === undefined) throw new Error(`no ${type} in the agent's log`);
  return seq;
}

/** A card's bureau certificate, read as the station reads it when the card proves itself. */
async function bureauCertificateOf(h: Harness, cardNumber: CardNumber): Promise<string> {
  const readers = await h.cards.readers();
  const free = readers.find((r) => r.card === null)?.id ?? 'reader-2';
  await h.cards.insertCard(free, cardNumber);
  const proof = await h.cards.proveCard(free, cardNumber, new Uint8Array([1]));
  await h.cards.removeCard(free);
  return Buffer.from(proof.certificate).toString('base64');
}

describe('nothing issued, as the CLI lists it', () => {
  let h: Harness;
  let data = '';
  beforeAll(async () => {
    h = await createIssuanceHarness();
    data = await mkdtemp(join(tmpdir(), 'reservkort-forgery-'));
  });
  afterAll(async () => {
    await h?.dispose();
    await rm(data, { recursive: true, force: true });
  });

  it('`reservkort cert list` shows no certificate for the recipient after the forgeries', async () => {
    const page = new Page(h);
    await walkTo(h, page, 'keys-on-card');
    const [auth, signKey] = await Promise.all([makeCsr(), makeCsr()]);
    const refused = await page.api('POST', `/api/flows/${page.flowId}/certificates`, {
      authCsr: auth.pem,
      signCsr: signKey.pem,
    });
    expect(refused.body.code).toBe('KEYS_NOT_ON_CARD');
    await page.api('POST', `/api/flows/${page.flowId}/agent-events`, { type: 'card-inserted', reader: 2 });
    const listed = await run(process.execPath, [BIN, '--data', data, 'cert', 'list', '--json'], {
      env: { ...process.env, DATABASE_URL: h.t.store.url },
      timeout: 60_000,
    });
    const rows = JSON.parse(listed.stdout) as { profile: string; cardNumber: string | null; ca: string }[];
    // The administrators' cards and the cards' bureau certificates, and nothing of the recipient's.
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.ca === 'loa3' && r.cardNumber === RESERVE_CARD)).toEqual([]);
  });
});
