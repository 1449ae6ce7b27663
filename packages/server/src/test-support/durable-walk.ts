// Steps 1–7 of an issuance as routes/issuance.routes.test.ts walks them, cut where the durability
// and multi-server tests need to stop, and written against DurablePage (any server, any transport).
import type { CardNumber } from '@reservkort/domain';
import type { Database } from '@reservkort/store';
import type { Kysely } from 'kysely';
import { expect } from 'vitest';
import { readStatement } from '../auth/signing-challenge.js';
import type { SigningChallengeOffer, SigningPurpose } from '../issuance/issuance.service.js';
import type { Recipient } from './durable-fixture.js';
import type { DurablePage } from './durable-page.js';
import { CARD_PINS, completeWithPins, RESERVE_PINS } from './issuance-harness.js';

const control = (view: any, id: string) => view.controls.find((c: { id: string }) => c.id === id);

/** Login, step 1, search for the recipient, select the order: the flow waits at step 3 (SIGNERA). */
export const walkToStep3 = async (page: DurablePage, adminCard: CardNumber, recipient: Recipient) => {
  const login = await page.login(adminCard);
  expect(login.status, JSON.stringify(login.body)).toBe(200);
  const started = await page.start();
  expect(started.body.view.step).toBe(1);
  expect(control(started.body.view, 'manage-orders')).toEqual({ id: 'manage-orders', enabled: true });
  expect((await page.action('manage-orders')).body.view.step).toBe(2);
  const search = await page.api('POST', `/api/flows/${page.flowId}/search`, { query: recipient.pnr });
  expect(search.body.review, JSON.stringify(search.body)).toMatchObject({
    name: `${recipient.givenName} ${recipient.surname}`,
    cardNumber: recipient.reserveCard,
    organisation: 'Kliniken',
  });
  const selected = await page.action('order-selected');
  expect(selected.body.view.step, JSON.stringify(selected.body)).toBe(3);
};

/** SIGNERA: the challenge signed with the login card's signature key, sent to the server. */
export const prepareOrderSignature = (page: DurablePage) =>
  page.signChallenge('order', 'reader-1', CARD_PINS.pin2);

export const sendOrderSignature = (
  page: DurablePage,
  signature: Awaited<ReturnType<typeof prepareOrderSignature>>,
) => page.api('POST', `/api/flows/${page.flowId}/sign`, signature);

/** Steps 4–6 up to the keys: handover, terms, keys on the card and both PIN dialogs; the card's CSRs. */
export const walkStep4ToKeys = async (page: DurablePage, recipient: Recipient) => {
  const { cards, agent, agentToken } = page.ws;
  await cards.insertCard('reader-2', recipient.reserveCard);
  await page.relay({ type: 'card-inserted', reader: 2, cardNumber: recipient.reserveCard });
  await page.action('handover-confirmed');
  expect(
    (await page.relay({ type: 'handover-verified', cardNumber: recipient.reserveCard })).body.view.step,
  ).toBe(5);
  await page.action('terms-accepted', { accepted: true });
  await page.action('download-requested');
  const seen = { count: 0 };
  const enrol = await agent.enrol(agentToken, 'reader-2', page.flowId);
  const enrolled = await completeWithPins(agent, enrol, [RESERVE_PINS.pin1, RESERVE_PINS.pin2]);
  expect(enrolled.state).toBe('done');
  const afterDialogs = await page.relayAgentEvents(seen);
  expect(afterDialogs?.body.view.step).toBe(6);

  return enrolled.result as { authCsr: string; signCsr: string };
};

/** Step 6 after the keys: both certificates issued for the card's CSRs and written to it by the agent. */
export const issueAndWriteCertificates = async (
  page: DurablePage,
  { authCsr, signCsr }: { readonly authCsr: string; readonly signCsr: string },
) => {
  const { agent, agentToken } = page.ws;
  const issued = await page.api('POST', `/api/flows/${page.flowId}/certificates`, { authCsr, signCsr });
  expect(issued.status, JSON.stringify(issued.body)).toBe(200);
  const write = await agent.writeCertificates(
    agentToken,
    'reader-2',
    {
      auth: Buffer.from(issued.body.certificates.auth, 'base64'),
      sign: Buffer.from(issued.body.certificates.sign, 'base64'),
    },
    page.flowId,
  );
  expect((await agent.waitFor(write.id, 5000)).state).toBe('done');
  return issued.body.certificates as { auth: string; sign: string };
};

/** Steps 4–6: handover, terms, keys on the card, both certificates issued and written; at step 7. */
export const walkStep4ToStep7 = async (page: DurablePage, recipient: Recipient) => {
  const certificates = await issueAndWriteCertificates(page, await walkStep4ToKeys(page, recipient));
  const written = await page.relay({ type: 'certificates-written' });
  expect(written.body.view.step).toBe(7);
  expect(written.body.view.deadline).toBeGreaterThan(Date.now());
  return {
    certificates,
    serials: written.body.view.issuedSerials as string[],
    deadline: written.body.view.deadline as number,
    /** KVITTERA KORT's challenge, as the answer that reached step 7 gave it. */
    offered: written.body.signingChallenge as SigningChallengeOffer,
  };
};

/** Steps 1–6 for one administrator and recipient, up to the keys on the card: the CSRs to send. */
export const walkToKeys = async (page: DurablePage, adminCard: CardNumber, recipient: Recipient) => {
  await walkToStep3(page, adminCard, recipient);
  const signed = await sendOrderSignature(page, await prepareOrderSignature(page));
  expect(signed.body.view?.step, JSON.stringify(signed.body)).toBe(4);
  return walkStep4ToKeys(page, recipient);
};

/** Steps 1–7 for one administrator and recipient. */
export const walkToStep7 = async (page: DurablePage, adminCard: CardNumber, recipient: Recipient) => {
  await walkToStep3(page, adminCard, recipient);
  const signed = await sendOrderSignature(page, await prepareOrderSignature(page));
  expect(signed.body.view?.step, JSON.stringify(signed.body)).toBe(4);
  return walkStep4ToStep7(page, recipient);
};

/** KVITTERA KORT: the recipient signs with the new card's signature key. */
export const acknowledge = async (page: DurablePage) => {
  const ack = await page.signChallenge('acknowledge', 'reader-2', RESERVE_PINS.pin2);
  return page.api('POST', `/api/flows/${page.flowId}/acknowledge`, {
    challengeId: ack.challengeId,
    signature: ack.signature,
  });
};

/** The ids of the signing challenges stored for this flow and purpose (SIGNERA's or KVITTERA KORT's). */
export const storedSigningChallenges = async (
  db: Kysely<Database>,
  flowId: string,
  purpose: SigningPurpose,
): Promise<string[]> => {
  const rows = await db.selectFrom('login_challenges').select(['id', 'challenge']).execute();
  return rows
    .filter((row) => readStatement(row.challenge, purpose)?.fields.flowId === flowId)
    .map((row) => row.id);
};

/** A DER certificate (base64) as PEM, for OpenSSL. */
export const certificatePem = (der: string): string =>
  `-----BEGIN CERTIFICATE-----\n${der.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
