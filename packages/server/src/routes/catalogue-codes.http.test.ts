// Every code of the SPEC §4 error catalogue, provoked over HTTP with the real store, CA, server,
// card agent and virtual cards: the code in the answer, the control it disables (with that code as
// the reason) where the flow's controls have one, and the timeline entry that records it.
import { ERROR_CODES } from '@reservkort/domain';
import { certificateStatus } from '@reservkort/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { statusOf } from '../http/api-error.js';
import {
  ACTORS,
  type ActorName,
  addAcceptanceDirectory,
  RECIPIENTS,
} from '../test-support/acceptance-directory.js';
import { walkTo } from '../test-support/acceptance-flow.js';
import {
  ADMIN1_CARD,
  ADMIN2_CARD,
  ANNA,
  ANNA_PNR,
  completeWithPins,
  createIssuanceHarness,
  type Harness,
  RESERVE_CARD,
  RESERVE_PINS,
} from '../test-support/issuance-harness.js';
import { Page } from '../test-support/page.js';

/** SPEC §4, in the order of its table. */
const SPEC_CODES = [
  'READERS_MISSING',
  'LOA2_LOGIN',
  'NO_ROLE_IN_BRANCH',
  'HSA_ID_INCOMPLETE',
  'PNR_FORMAT',
  'NO_ORDER',
  'OWN_ORDER',
  'PROTECTED_NEEDS_KUR',
  'NOT_ELIGIBLE',
  'ORDER_EXPIRED',
  'ORDER_USED',
  'CARD_REINSERTED',
  'SIGN_FAILED',
  'WRONG_CARD',
  'ONE_READER_USED',
  'HANDOVER_STUCK',
  'DOWNLOAD_START_STUCK',
  'CARD_REMOVED_DURING_DOWNLOAD',
  'AUTH_DIALOG_NOT_SHOWN',
  'SIGN_DIALOG_NOT_SHOWN',
  'DOWNLOAD_FAILED',
  'ACK_TIMEOUT',
] as const;
type SpecCode = (typeof SPEC_CODES)[number];

const OTHER_CARD = '9752278900000000300';
const STUCK_MS = 31_000;
const DIALOG_OVERDUE_MS = 61_000;

const reachedCodes = new Set<SpecCode>();

const controlOf = (view: any, id: string) => view.controls.find((c: { id: string }) => c.id === id);

/**
 * (a) the code is in the answer's `raised`, (b) the control it disables names it as the reason
 * (`control: null` where the screen has no control for it), (c) a timeline entry carries it.
 */
const expectReached = (
  code: SpecCode,
  answer: { status: number; body: any },
  expected: { control: string | null; event: string; controlView?: any },
) => {
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  expect(answer.body.raised).toContain(code);
  const view = answer.body.view;
  if (expected.control !== null) {
    const shown = expected.controlView ?? view;
    expect(controlOf(shown, expected.control), `control ${expected.control}`).toMatchObject({
      enabled: false,
      reason: { code },
    });
  }
  const entry = view.timeline.find((e: { codes: string[] }) => e.codes.includes(code));
  expect(entry, `timeline entry with ${code}`).toMatchObject({ event: expected.event });
  reachedCodes.add(code);
  return entry;
};

/** A fault ends the attempt: restart and a support case are offered. */
const expectFaultScreen = (view: any, code: SpecCode) => {
  expect(view.fault).toMatchObject({ code });
  expect(controlOf(view, 'restart')).toEqual({ id: 'restart', enabled: true });
  expect(controlOf(view, 'send-support-case')).toEqual({ id: 'send-support-case', enabled: true });
};

describe('the SPEC §4 error catalogue over HTTP', () => {
  let h: Harness;
  let page: Page;

  const setUp = async (actors: readonly ActorName[] = []) => {
    await addAcceptanceDirectory(h, { actors });
  };

  /** Logs `card` in, starts a flow and clicks Hantera beställningar: the search screen. */
  const toSearch = async (card: string) => {
    expect((await page.login(card as typeof ADMIN2_CARD)).status).toBe(200);
    await page.start();
    expect((await page.action('manage-orders')).body.view.step).toBe(2);
  };
  const search = (query: string) => page.api('POST', `/api/flows/${page.flowId}/search`, { query });
  const view = async () => (await page.api('GET', `/api/flows/${page.flowId}`)).body.view;
  const issuedSerials = async () => (await h.services.issuance.load(page.flowId)).state.issuedSerials;
  const expectRevoked = async (serials: readonly string[]) => {
    expect(serials).toHaveLength(2);
    for (const serial of serials) {
      expect((await certificateStatus(h.t.store.db, serial))?.revocation).not.toBeNull();
    }
  };

  beforeEach(async () => {
    // The PIN dialogs must be shown within a second here: SIGN_DIALOG_NOT_SHOWN waits for that.
    h = await createIssuanceHarness({}, () => ({}), 'sqlite', {}, { dialogShowTimeoutMs: 1000 });
    page = new Page(h);
  });
  afterEach(async () => {
    await h.dispose();
  });

  it('READERS_MISSING: a login with one reader is blocked, naming the missing reader', async () => {
    await h.cards.unplugReader('reader-2');
    expect((await page.login(ADMIN2_CARD)).status).toBe(200);
    const started = await page.start();
    const entry = expectReached('READERS_MISSING', started, { control: 'login', event: 'logged-in' });
    expect(started.body.view.step).toBe(0);
    expect(controlOf(started.body.view, 'login').reason.details).toEqual({ missing: '2' });
    expect(entry.details).toMatchObject({ missing: '2' });
  });

  it('LOA2_LOGIN: Hantera beställningar is disabled for a LoA2 login, and the admin portal refuses it', async () => {
    await setUp(['loa2']);
    const login = await page.login(ACTORS.loa2.cardNumber);
    expect(login.body.assuranceLevel).toBe('LoA2');
    const started = await page.start();
    expectReached('LOA2_LOGIN', started, { control: 'manage-orders', event: 'logged-in' });
    const click = await page.action('manage-orders');
    expect(click.body.raised).toEqual(['LOA2_LOGIN']);
    expect(click.body.view.step).toBe(1);
    const portal = await page.api('GET', `/api/admin/persons?query=${ANNA_PNR}`);
    expect(portal).toMatchObject({ status: statusOf('LOA2_LOGIN'), body: { code: 'LOA2_LOGIN' } });
  });

  it('NO_ROLE_IN_BRANCH: no hit, and nothing of the person or the branch', async () => {
    await setUp(['outsider']);
    await toSearch(ACTORS.outsider.cardNumber);
    const answer = await search(ANNA_PNR);
    expectReached('NO_ROLE_IN_BRANCH', answer, { control: 'select-order', event: 'searched' });
    expect(answer.body.review).toBeNull();
    const text = JSON.stringify(answer.body);
    for (const secret of ['Anna', 'Kliniken', 'clinic', 'hospital', ANNA]) expect(text).not.toContain(secret);
    // The admin portal's lookup tells no more than for a person who does not exist.
    const portal = await page.api('GET', `/api/admin/persons?query=${ANNA_PNR}`);
    expect(portal).toMatchObject({
      status: statusOf('PERSON_NOT_FOUND'),
      body: { code: 'PERSON_NOT_FOUND' },
    });
  });

  it('HSA_ID_INCOMPLETE: the last characters of a HSA-id ask for the full one', async () => {
    await toSearch(ADMIN2_CARD);
    const answer = await search(ANNA.slice(-4));
    expectReached('HSA_ID_INCOMPLETE', answer, { control: 'select-order', event: 'searched' });
    expect(answer.body.review).toBeNull();
    const portal = await page.api('GET', `/api/admin/persons?query=${ANNA.slice(-4)}`);
    expect(portal).toMatchObject({
      status: statusOf('HSA_ID_INCOMPLETE'),
      body: { code: 'HSA_ID_INCOMPLETE' },
    });
  });

  it('PNR_FORMAT: a 10-digit personnummer with a hyphen is normalised and found; a wrong check digit is reported', async () => {
    await toSearch(ADMIN2_CARD);
    const answer = await search(`${ANNA_PNR.slice(2, 8)}-${ANNA_PNR.slice(8)}`);
    // A notice: the hit is selectable, so no control is disabled by it.
    const entry = expectReached('PNR_FORMAT', answer, { control: null, event: 'searched' });
    expect(answer.body.raised).toEqual(['PNR_FORMAT']);
    expect(entry.details).toMatchObject({ hit: true });
    expect(answer.body.review).toMatchObject({ normalisedQuery: ANNA_PNR, cardNumber: RESERVE_CARD });
    expect(controlOf(answer.body.view, 'select-order')).toEqual({ id: 'select-order', enabled: true });
    const wrong = `${ANNA_PNR.slice(0, 11)}${(Number(ANNA_PNR[11]) + 1) % 10}`;
    expect((await search(wrong)).body.raised).toEqual(['PNR_CHECK_DIGIT']);
  });

  it('NO_ORDER: a person without an order', async () => {
    await setUp();
    await toSearch(ADMIN2_CARD);
    const answer = await search(RECIPIENTS.noOrder.pnr);
    expectReached('NO_ORDER', answer, { control: 'select-order', event: 'searched' });
    expect(answer.body.review).toBeNull();
  });

  it('OWN_ORDER: admin 1 may not complete the order they registered', async () => {
    await toSearch(ADMIN1_CARD);
    const answer = await search(ANNA_PNR);
    expectReached('OWN_ORDER', answer, { control: 'select-order', event: 'searched' });
    expect(answer.body.review).toBeNull();
  });

  it('PROTECTED_NEEDS_KUR: refused without revealing anything of the person', async () => {
    await setUp(['noKur']);
    await toSearch(ACTORS.noKur.cardNumber);
    const answer = await search(RECIPIENTS.protectedPerson.pnr);
    const entry = expectReached('PROTECTED_NEEDS_KUR', answer, {
      control: 'select-order',
      event: 'searched',
    });
    expect(answer.body.review).toBeNull();
    // The timeline (which a support case copies) records a search without a hit, nothing more.
    expect(entry.details).toEqual({ queryKind: 'personal-number', hit: false });
    const reason = controlOf(answer.body.view, 'select-order').reason;
    expect(reason).toEqual({ code: 'PROTECTED_NEEDS_KUR' });
    const text = JSON.stringify(answer.body);
    for (const secret of [
      'Hemlig',
      RECIPIENTS.protectedPerson.person.hsaId,
      RECIPIENTS.protectedPerson.cardNumber,
    ])
      expect(text).not.toContain(secret);
    const portal = await page.api('GET', `/api/admin/persons?query=${RECIPIENTS.protectedPerson.pnr}`);
    expect(portal).toMatchObject({
      status: statusOf('PERSON_NOT_FOUND'),
      body: { code: 'PERSON_NOT_FOUND' },
    });
    expect(JSON.stringify(portal.body)).not.toContain('Hemlig');
  });

  it('NOT_ELIGIBLE: a samordningsnummer', async () => {
    await setUp();
    await toSearch(ADMIN2_CARD);
    const answer = await search(RECIPIENTS.coordination.pnr);
    expectReached('NOT_ELIGIBLE', answer, { control: 'select-order', event: 'searched' });
  });

  it('ORDER_EXPIRED: an order past its validity', async () => {
    await setUp();
    await toSearch(ADMIN2_CARD);
    const answer = await search(RECIPIENTS.expired.pnr);
    expectReached('ORDER_EXPIRED', answer, { control: 'select-order', event: 'searched' });
    expect(answer.body.raised).not.toContain('ORDER_USED');
  });

  it('ORDER_USED: an order already completed', async () => {
    await setUp();
    await toSearch(ADMIN2_CARD);
    const answer = await search(RECIPIENTS.used.pnr);
    expectReached('ORDER_USED', answer, { control: 'select-order', event: 'searched' });
    expect(answer.body.raised).not.toContain('ORDER_EXPIRED');
  });

  it('CARD_REINSERTED: the login card left reader 1 at step 3; only log out and start again is offered', async () => {
    await walkTo(h, page, 3);
    await h.cards.removeCard('reader-1');
    const removed = await page.relay({ type: 'card-removed', reader: 1 });
    const entry = expectReached('CARD_REINSERTED', removed, { control: 'sign', event: 'card-removed' });
    expect(controlOf(removed.body.view, 'sign').reason.details.removedAt).toEqual(expect.any(Number));
    expect(entry.details.removedAt).toEqual(controlOf(removed.body.view, 'sign').reason.details.removedAt);
    expect(controlOf(removed.body.view, 'logout-restart')).toEqual({ id: 'logout-restart', enabled: true });
    await h.cards.insertCard('reader-1', ADMIN2_CARD);
    const back = await page.relay({ type: 'card-inserted', reader: 1, cardNumber: ADMIN2_CARD });
    expect(back.body.raised).toContain('CARD_REINSERTED');
    expect(controlOf(back.body.view, 'sign')).toMatchObject({
      enabled: false,
      reason: { code: 'CARD_REINSERTED' },
    });
  });

  it('SIGN_FAILED: a failed signature may be retried once, then the attempt ends with a support case offered', async () => {
    await walkTo(h, page, 3);
    const info = await h.cards.cardInfo('reader-1');
    const certificate = Buffer.from(info.certificates.find((c) => c.key === 'sign')?.der ?? []).toString(
      'base64',
    );
    const attempt = async () => {
      const challenge = await page.api('POST', `/api/flows/${page.flowId}/signing-challenge`, {
        purpose: 'order',
      });
      return page.api('POST', `/api/flows/${page.flowId}/sign`, {
        challengeId: challenge.body.challengeId,
        certificate,
        signature: Buffer.alloc(64, 7).toString('base64'),
        readers: await page.statement('readers'),
      });
    };
    const first = await attempt();
    expect(first.body.raised).toEqual(['SIGN_FAILED']);
    expect(controlOf(first.body.view, 'sign')).toEqual({ id: 'sign', enabled: true });
    const second = await attempt();
    expectReached('SIGN_FAILED', second, { control: 'sign', event: 'signed' });
    expectFaultScreen(second.body.view, 'SIGN_FAILED');
    expect(
      second.body.view.timeline.filter((e: { codes: string[] }) => e.codes.includes('SIGN_FAILED')),
    ).toHaveLength(2);
  });

  it('WRONG_CARD: another card in reader 2 at the handover shows both numbers', async () => {
    await walkTo(h, page, 4);
    await h.cards.createCard({
      cardNumber: OTHER_CARD as typeof RESERVE_CARD,
      pin1: '1111',
      pin2: '2222',
      puk: '87654321',
    });
    await h.cards.insertCard('reader-2', OTHER_CARD as typeof RESERVE_CARD);
    const inserted = await page.relay({ type: 'card-inserted', reader: 2, cardNumber: OTHER_CARD });
    const entry = expectReached('WRONG_CARD', inserted, {
      control: 'confirm-handover',
      event: 'card-inserted',
    });
    expect(controlOf(inserted.body.view, 'confirm-handover').reason.details).toMatchObject({
      expected: RESERVE_CARD,
      actual: OTHER_CARD,
    });
    expect(entry.details).toMatchObject({ expected: RESERVE_CARD, actual: OTHER_CARD });
  });

  it('ONE_READER_USED: reader 2 was unplugged during the handover; the reader log answers the guide’s question', async () => {
    await walkTo(h, page, 4);
    await h.cards.unplugReader('reader-2');
    expect((await page.relay({ type: 'reader-unplugged', reader: 2 })).body.raised).toEqual([
      'READERS_MISSING',
    ]);
    await h.cards.plugReader('reader-2');
    // Back after a gap: the flow ran with one reader, and stops as soon as the gap is on record.
    const plugged = await page.relay({ type: 'reader-plugged', reader: 2 });
    expect(plugged.body.view.twoReadersThroughout).toBe(false);
    expectReached('ONE_READER_USED', plugged, { control: 'confirm-handover', event: 'reader-plugged' });
    expectFaultScreen(plugged.body.view, 'ONE_READER_USED');
    await h.cards.insertCard('reader-2', RESERVE_CARD);
    const inserted = await page.relay({ type: 'card-inserted', reader: 2, cardNumber: RESERVE_CARD });
    expect(controlOf(inserted.body.view, 'confirm-handover')).toMatchObject({
      enabled: false,
      reason: { code: 'ONE_READER_USED' },
    });
  });

  it('HANDOVER_STUCK: BEKRÄFTA ÖVERLÄMNING does not advance', async () => {
    await walkTo(h, page, 4);
    await h.cards.insertCard('reader-2', RESERVE_CARD);
    await page.relay({ type: 'card-inserted', reader: 2, cardNumber: RESERVE_CARD });
    expect((await page.action('handover-confirmed')).body.raised).toEqual([]);
    h.clock.advance(STUCK_MS);
    const tick = await page.relay({ type: 'tick' });
    const entry = expectReached('HANDOVER_STUCK', tick, { control: 'confirm-handover', event: 'tick' });
    expect(entry.details).toMatchObject({ twoReadersThroughout: true });
    expectFaultScreen(tick.body.view, 'HANDOVER_STUCK');
  });

  it('DOWNLOAD_START_STUCK: STARTA NEDLADDNING does not advance', async () => {
    await walkTo(h, page, 'download-requested');
    h.clock.advance(STUCK_MS);
    const tick = await page.relay({ type: 'tick' });
    expectReached('DOWNLOAD_START_STUCK', tick, { control: 'start-download', event: 'tick' });
    expectFaultScreen(tick.body.view, 'DOWNLOAD_START_STUCK');
  });

  it('CARD_REMOVED_DURING_DOWNLOAD: the issued certificates are revoked and the card is to be cleaned', async () => {
    await walkTo(h, page, 'certificates-issued');
    const serials = await issuedSerials();
    await h.cards.removeCard('reader-2');
    const removed = await page.relay({ type: 'card-removed', reader: 2 });
    // Step 6 has no control of its own: the screen offers restart and a support case.
    expectReached('CARD_REMOVED_DURING_DOWNLOAD', removed, { control: null, event: 'card-removed' });
    expectFaultScreen(removed.body.view, 'CARD_REMOVED_DURING_DOWNLOAD');
    expect(removed.body.cardEffects).toContainEqual({ type: 'clean-card', cardNumber: RESERVE_CARD });
    await expectRevoked(serials);
  });

  it('AUTH_DIALOG_NOT_SHOWN: the PIN 1 dialog never appeared after key generation started', async () => {
    await walkTo(h, page, 'download-requested');
    // The agent starts generating keys; its PIN 1 dialog is never shown (and never answered here).
    await h.agent.bind(h.agentToken, 'reader-2');
    await h.agent.enrol(h.agentToken, 'reader-2', page.flowId);
    expect((await page.relay({ type: 'key-generation-started' })).body.view.step).toBe(6);
    h.clock.advance(DIALOG_OVERDUE_MS);
    const tick = await page.relay({ type: 'tick' });
    expectReached('AUTH_DIALOG_NOT_SHOWN', tick, { control: null, event: 'tick' });
    expectFaultScreen(tick.body.view, 'AUTH_DIALOG_NOT_SHOWN');
  });

  it('SIGN_DIALOG_NOT_SHOWN: the agent records that the PIN 2 dialog never appeared', async () => {
    await walkTo(h, page, 'download-requested');
    // PIN 1 is answered; the PIN 2 dialog is never shown, and the agent's timeout records it.
    await h.agent.bind(h.agentToken, 'reader-2');
    const enrol = await h.agent.enrol(h.agentToken, 'reader-2', page.flowId);
    await completeWithPins(h.agent, enrol, [RESERVE_PINS.pin1]).catch(() => undefined);
    const deadline = Date.now() + 10_000;
    while (!h.agent.flowEvents(page.flowId).some((e) => e.type === 'dialog-not-shown')) {
      if (Date.now() > deadline) throw new Error('the agent never gave up on the PIN 2 dialog');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (const event of [
      { type: 'key-generation-started' },
      { type: 'dialog-shown', dialog: 'auth' },
      { type: 'dialog-completed', dialog: 'auth' },
      { type: 'keys-generated' },
    ]) {
      expect((await page.relay(event)).status).toBe(200);
    }
    const notShown = await page.relay({ type: 'dialog-not-shown', dialog: 'sign' });
    expectReached('SIGN_DIALOG_NOT_SHOWN', notShown, { control: null, event: 'dialog-not-shown' });
    expectFaultScreen(notShown.body.view, 'SIGN_DIALOG_NOT_SHOWN');
    expect(notShown.body.cardEffects).toContainEqual({ type: 'clean-card', cardNumber: RESERVE_CARD });
  });

  it('DOWNLOAD_FAILED: writing failed; what was issued is revoked', async () => {
    const walked = await walkTo(h, page, 'certificates-issued');
    const serials = await issuedSerials();
    // The card lost its new keys: writing their certificates fails, and the agent records why.
    await h.cards.clean('reader-2', RESERVE_CARD, RESERVE_PINS.pin1);
    const certificates = walked.certificates ?? { auth: '', sign: '' };
    const write = await h.agent.writeCertificates(
      h.agentToken,
      'reader-2',
      { auth: Buffer.from(certificates.auth, 'base64'), sign: Buffer.from(certificates.sign, 'base64') },
      page.flowId,
    );
    expect((await h.agent.waitFor(write.id, 5000)).state).toBe('failed');
    const failed = await page.relay({ type: 'download-failed' });
    expect(failed.body.view.timeline.at(-1).details).toMatchObject({ station: h.stationId });
    expectReached('DOWNLOAD_FAILED', failed, { control: null, event: 'download-failed' });
    expectFaultScreen(failed.body.view, 'DOWNLOAD_FAILED');
    expect(failed.body.cardEffects).toContainEqual({ type: 'clean-card', cardNumber: RESERVE_CARD });
    await expectRevoked(serials);
  });

  it('ACK_TIMEOUT: the deadline passed; both certificates are revoked and a restart is offered', async () => {
    await walkTo(h, page, 7);
    const flow = await h.services.issuance.load(page.flowId);
    const serials = flow.state.issuedSerials;
    h.clock.advance((flow.state.deadline ?? 0) - h.clock.now() + 1000);
    const before = await view();
    expect(controlOf(before, 'acknowledge')).toMatchObject({
      enabled: false,
      reason: { code: 'ACK_TIMEOUT' },
    });
    const tick = await page.relay({ type: 'tick' });
    expectReached('ACK_TIMEOUT', tick, { control: 'acknowledge', event: 'tick', controlView: before });
    expect(tick.body.view.timeline.at(-1).codes).toContain('ACK_TIMEOUT');
    expect(tick.body.view.status).toBe('ack-timeout-revoked');
    expect(controlOf(tick.body.view, 'restart')).toEqual({ id: 'restart', enabled: true });
    await expectRevoked(serials);
    expect(await h.services.sweeper.sweep()).toBe(0);
  });

  it('reached exactly the codes of SPEC §4', () => {
    expect(ERROR_CODES.slice(0, ERROR_CODES.indexOf('PNR_INVALID'))).toEqual([...SPEC_CODES]);
    expect([...reachedCodes].sort()).toEqual([...SPEC_CODES].sort());
  });
});

describe('the card station codes over HTTP', () => {
  let h: Harness;
  let page: Page;
  beforeEach(async () => {
    h = await createIssuanceHarness();
    page = new Page(h);
  });
  afterEach(async () => {
    await h.dispose();
  });

  it('CARD_NOT_PROVEN: the reserve card’s bureau certificate is revoked, so its proof at the handover is not believed', async () => {
    await walkTo(h, page, 4);
    await h.cards.insertCard('reader-2', RESERVE_CARD);
    await page.relay({ type: 'card-inserted', reader: 2, cardNumber: RESERVE_CARD });
    await page.action('handover-confirmed');
    const proof = await page.statement('card-proof', { reader: 2 });
    const payload = JSON.parse(Buffer.from(proof.payload, 'base64url').toString('utf8'));
    const { X509Certificate } = await import('@peculiar/x509');
    const serial = new X509Certificate(Buffer.from(payload.body.bureauCertificate, 'base64')).serialNumber;
    await h.t.ca.revoke(serial, 'keyCompromise', 'ca-operator');
    const answer = await page.api('POST', `/api/flows/${page.flowId}/handover`, { proof });
    expect(answer.status).toBe(statusOf('CARD_NOT_PROVEN'));
    expect(answer.body).toMatchObject({
      code: 'CARD_NOT_PROVEN',
      details: { reason: 'certificate revoked' },
    });
    // The station's statement was genuine: the refusal is the flow's fault, on its timeline.
    const view = (await page.view()).body.view;
    expect(view).toMatchObject({
      step: 4,
      pending: null,
      fault: { code: 'CARD_NOT_PROVEN', details: { reason: 'certificate revoked' } },
    });
    expect(view.timeline.at(-1)).toMatchObject({ event: 'card-refused', codes: ['CARD_NOT_PROVEN'] });
    expect(controlOf(view, 'restart')).toMatchObject({ enabled: true });
    expect(controlOf(view, 'confirm-handover')).toMatchObject({ enabled: false });
  });

  it('KEYS_NOT_ON_CARD: a chip that reports its keys as imported is refused at step 6; the card is cleaned, nothing issued', async () => {
    await walkTo(h, page, 'download-requested');
    h.cards.simulateFaults({ exportableKeys: true });
    await h.agent.bind(h.agentToken, 'reader-2');
    const enrol = await h.agent.enrol(h.agentToken, 'reader-2', page.flowId);
    const enrolled = await completeWithPins(h.agent, enrol, [RESERVE_PINS.pin1, RESERVE_PINS.pin2]);
    expect(enrolled.state).toBe('done');
    await page.relayAgentEvents({ count: 0 });
    const flow = (await page.view()).body;
    expect(flow.view).toMatchObject({
      step: 6,
      download: null,
      fault: { code: 'KEYS_NOT_ON_CARD', details: { reason: 'attributes' } },
    });
    expect(flow.view.timeline.flatMap((e: { codes: string[] }) => e.codes)).toContain('KEYS_NOT_ON_CARD');
    expect(flow.cardEffects).toEqual([{ type: 'clean-card', cardNumber: RESERVE_CARD }]);
    const csrs = enrolled.result as { authCsr: string; signCsr: string };
    const refused = await page.api('POST', `/api/flows/${page.flowId}/certificates`, csrs);
    expect(refused.status).not.toBe(200);
    expect((await page.view()).body.view.issuedSerials).toEqual([]);
  });

  it('KEYS_NOT_ON_CARD: certificate requests for keys the card did not vouch for', async () => {
    await walkTo(h, page, 'keys-on-card');
    const { makeCsr } = await import('../../../pki/src/test-support/test-ca.js');
    const [auth, sign] = await Promise.all([makeCsr(), makeCsr()]);
    const answer = await page.api('POST', `/api/flows/${page.flowId}/certificates`, {
      authCsr: auth.pem,
      signCsr: sign.pem,
    });
    expect(answer.status).toBe(statusOf('KEYS_NOT_ON_CARD'));
    expect(answer.body).toMatchObject({ code: 'KEYS_NOT_ON_CARD', details: { reason: 'auth' } });
  });
});
