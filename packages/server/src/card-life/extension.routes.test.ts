// Förlängning through the HTTP API, with the card agent over a virtual card: the holder logs in with
// the reserve card issued in step 7, starts, accepts the terms, has new keys made on the card and
// proved by it, gets the new certificates once, writes them, acknowledges with the new signature key.
import { type CalendarDate, dateOf } from '@reservkort/domain';
import { certificateStatus, getExtension, listAudit, listExtensionsOfCard } from '@reservkort/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CurrentSession } from '../auth/session.js';
import { Client, send } from '../test-support/acceptance-client.js';
import { walkTo } from '../test-support/acceptance-flow.js';
import { acknowledge } from '../test-support/durable-walk.js';
import {
  ANNA,
  completeWithPins,
  createIssuanceHarness,
  type Harness,
  RESERVE_CARD,
  RESERVE_PINS,
} from '../test-support/issuance-harness.js';
import { Page } from '../test-support/page.js';

const DAY = 86_400_000;

describe.each(['sqlite', 'postgres'] as const)('förlängning over HTTP (%s)', (dialect) => {
  let h: Harness;
  /** What card stock says of the card's last physical day (null: not in stock). */
  let physicalExpiry: CalendarDate | null = null;

  /** The holder's login with the reserve card in reader 2 (PIN 1). */
  const holderClient = async () => {
    await h.agent.bind(h.agentToken, 'reader-2');
    const challenge = (await send(h.baseUrl, 'POST', '/api/auth/challenge', {}, null)).body;
    const started = await h.agent.authenticate(
      h.agentToken,
      'reader-2',
      Buffer.from(challenge.challenge, 'base64'),
      null,
    );
    const done = await completeWithPins(h.agent, started, [RESERVE_PINS.pin1]);
    const result = done.result as { signature: string; certificate: string };
    const client = new Client(h);
    const answer = await client.post('/api/holder/login', {
      challengeId: challenge.challengeId,
      certificate: result.certificate,
      signature: result.signature,
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    client.cookie =
      answer.setCookie
        .find((c) => c.startsWith('rk_session='))
        ?.split(';')[0]
        ?.slice(11) ?? '';
    client.csrf = answer.body.csrfToken;
    return client;
  };

  /** The card's work in the agent: new keys beside the old ones, the card's proof, the CSRs. */
  const makeKeys = async (extension: { id: string; nonce: string }) => {
    const started = await h.agent.renewKeys(h.agentToken, 'reader-2', extension);
    const done = await completeWithPins(h.agent, started, [RESERVE_PINS.pin1, RESERVE_PINS.pin2]);
    expect(done.state, JSON.stringify(done)).toBe('done');
    const { authCsr, signCsr, ...proof } = done.result as {
      cardNumber: string;
      keys: unknown;
      bureauCertificate: string;
      cardSignature: string;
      authCsr: string;
      signCsr: string;
    };
    return { proof, csrs: { authCsr, signCsr } };
  };

  const writeOnCard = async (certificates: { auth: string; sign: string }) => {
    const started = await h.agent.renewCertificates(h.agentToken, 'reader-2', {
      auth: Buffer.from(certificates.auth, 'base64'),
      sign: Buffer.from(certificates.sign, 'base64'),
    });
    const done = await completeWithPins(h.agent, started, [RESERVE_PINS.pin1]);
    expect(done.state, JSON.stringify(done)).toBe('done');
  };

  /** KVITTERA with the card's signature key now on it (PIN 2). */
  const acknowledgeExtension = async (client: Client, id: string) => {
    const challenge = (await client.post(`/api/holder/extension/${id}/acknowledgement-challenge`, {})).body;
    const started = await h.agent.sign(
      h.agentToken,
      'reader-2',
      Buffer.from(challenge.toBeSigned, 'base64'),
      null,
    );
    const done = await completeWithPins(h.agent, started, [RESERVE_PINS.pin2]);
    const signature = (done.result as { signature: string }).signature;
    return client.post(`/api/holder/extension/${id}/acknowledge`, {
      challengeId: challenge.challengeId,
      signature,
    });
  };

  /** Start, terms, keys, certificates: the extension at `issued`, with its certificates. */
  const toIssued = async (client: Client) => {
    const started = await client.post('/api/holder/extension', {});
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    const id = started.body.id as string;
    expect((await client.post(`/api/holder/extension/${id}/terms`, {})).body.termsAccepted).toBe(true);
    const { proof, csrs } = await makeKeys(started.body);
    const proven = await client.post(`/api/holder/extension/${id}/keys`, proof);
    expect(proven.status, JSON.stringify(proven.body)).toBe(200);
    const issued = await client.post(`/api/holder/extension/${id}/certificates`, csrs);
    expect(issued.status, JSON.stringify(issued.body)).toBe(200);
    return { id, started: started.body, issued: issued.body };
  };

  const status = async (serial: string) =>
    (await certificateStatus(h.ctx.store.db, serial))?.revocation ?? null;

  beforeAll(async () => {
    h = await createIssuanceHarness({}, () => ({ physicalExpiryOf: () => physicalExpiry }), dialect);
    const page = new Page(h);
    await walkTo(h, page, 7);
    expect((await acknowledge(page)).status).toBe(200);
  });
  afterAll(() => h?.dispose());

  it('refuses a card past its physical expiry (card stock), and names the day', async () => {
    const client = await holderClient();
    physicalExpiry = dateOf(h.clock.now() - DAY);
    try {
      const refused = await client.post('/api/holder/extension', {});
      expect(refused.status).toBe(422);
      expect(refused.body).toMatchObject({ code: 'CARD_PAST_PHYSICAL_EXPIRY' });
      expect(await listExtensionsOfCard(h.ctx.store.db, RESERVE_CARD)).toEqual([]);
    } finally {
      physicalExpiry = null;
    }
  });

  it('refuses after the certificates expired (EXTENSION_TOO_LATE), checked by the service at that moment', async () => {
    const client = await holderClient();
    const session = (await client.get('/api/holder/session')).body.holder;
    const stored = await h.ctx.store.db
      .selectFrom('sessions')
      .selectAll()
      .where('csrf_token', '=', session.csrfToken)
      .executeTakeFirstOrThrow();
    const current: CurrentSession = {
      id: stored.id,
      hsaId: ANNA,
      cardNumber: RESERVE_CARD,
      certificateSerial: stored.certificate_serial,
      assuranceLevel: 'LoA3',
      csrfToken: session.csrfToken,
      loginCardRemovedAt: null,
      station: null,
      role: 'holder',
    };
    h.clock.advance(8 * DAY);
    try {
      await expect(h.services.extensions.start(current)).rejects.toMatchObject({
        code: 'EXTENSION_TOO_LATE',
        details: { expiredOn: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) },
      });
    } finally {
      h.clock.advance(-8 * DAY);
    }
  });

  it('starts once for parallel starts, certifies once for parallel requests, and abandons at the deadline with the new pair revoked', async () => {
    const client = await holderClient();
    const starts = await Promise.all([1, 2, 3, 4].map(() => client.post('/api/holder/extension', {})));
    for (const answer of starts) expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(new Set(starts.map((a) => a.body.id)).size).toBe(1);
    expect(await listExtensionsOfCard(h.ctx.store.db, RESERVE_CARD)).toHaveLength(1);
    const id = starts[0]?.body.id as string;
    // The rule's validity: as long as the order gave (7 days), from now.
    const { validity } = (starts[0]?.body ?? {}) as { validity: { notBefore: number; notAfter: number } };
    expect(validity.notAfter - validity.notBefore).toBe(7 * DAY);

    const { proof, csrs } = await makeKeys(starts[0]?.body);
    // Certificates before the terms: refused, nothing claimed.
    expect(
      (await client.post(`/api/holder/extension/${id}/keys`, proof)).body.keysProven,
      'keys proven before the terms',
    ).toBe(true);
    expect((await client.post(`/api/holder/extension/${id}/certificates`, csrs)).body).toMatchObject({
      code: 'EVENT_OUT_OF_ORDER',
      details: { reason: 'terms' },
    });
    // The same proof a second time: the nonce moved on, the card's signature no longer holds.
    expect((await client.post(`/api/holder/extension/${id}/keys`, proof)).body).toMatchObject({
      code: 'EXTENSION_KEYS_NOT_PROVEN',
    });
    await client.post(`/api/holder/extension/${id}/terms`, {});
    const answers = await Promise.all(
      [1, 2, 3, 4].map(() => client.post(`/api/holder/extension/${id}/certificates`, csrs)),
    );
    const won = answers.filter((a) => a.status === 200);
    expect(won, JSON.stringify(answers.map((a) => a.body))).toHaveLength(1);
    for (const lost of answers.filter((a) => a.status !== 200))
      expect(lost.body.code).toBe('CERTIFICATES_ALREADY_REQUESTED');
    const issuedRows = await h.ctx.store.db
      .selectFrom('certificates')
      .select('serial')
      .where('card_number', '=', RESERVE_CARD)
      .where('profile', '<>', 'card-bureau')
      .execute();
    // The first pair and exactly one new pair.
    expect(issuedRows).toHaveLength(4);
    const extension = await getExtension(h.ctx.store.db, id);
    expect(extension).toMatchObject({ state: 'issued' });
    const newSerials = [extension?.newAuthSerial ?? '', extension?.newSignSerial ?? ''];

    // Not acknowledged in time: the sweep gives it up and revokes the new pair; the old pair stays.
    h.clock.advance(31 * 60_000);
    try {
      await h.services.sweeper.sweep();
    } finally {
      h.clock.advance(-31 * 60_000);
    }
    expect(await getExtension(h.ctx.store.db, id)).toMatchObject({
      state: 'abandoned',
      abandonReason: 'deadline',
    });
    for (const serial of newSerials)
      expect(await status(serial)).toMatchObject({ reason: 'cessationOfOperation' });
    expect(await status(extension?.oldAuthSerial ?? '')).toBeNull();
    expect((await client.get(`/api/holder/extension/${id}`)).body.state).toBe('abandoned');
    // A page that comes back is told the last one was given up (none was started since).
    expect((await client.get('/api/holder/extension')).body).toEqual({
      extension: null,
      abandoned: { id, reason: 'deadline', at: expect.any(Number) },
    });
    expect((await client.post(`/api/holder/extension/${id}/terms`, {})).body).toMatchObject({
      code: 'EXTENSION_ABANDONED',
      details: { reason: 'deadline' },
    });
  });

  it('extends once: new keys proven by the card, written, acknowledged with the new key; the old pair superseded; a second attempt refused', async () => {
    const client = await holderClient();
    const { id, issued } = await toIssued(client);
    const newSerials = issued.extension.newSerials as { auth: string; sign: string };
    const oldSerials = issued.extension.oldSerials as { auth: string; sign: string };
    // Until the acknowledgement the old e-ID is untouched.
    expect(await status(oldSerials.auth)).toBeNull();
    expect((await client.get(`/api/holder/extension/${id}/certificates`)).body).toEqual(issued.certificates);
    await writeOnCard(issued.certificates);
    // A signature by another key than the new signature key is refused.
    const challenge = (await client.post(`/api/holder/extension/${id}/acknowledgement-challenge`, {})).body;
    expect(
      (
        await client.post(`/api/holder/extension/${id}/acknowledge`, {
          challengeId: challenge.challengeId,
          signature: Buffer.alloc(64, 1).toString('base64'),
        })
      ).body,
    ).toMatchObject({ code: 'SIGNATURE_INVALID' });
    const acknowledged = await acknowledgeExtension(client, id);
    expect(acknowledged.status, JSON.stringify(acknowledged.body)).toBe(200);
    expect(acknowledged.body).toMatchObject({ state: 'completed', newSerials });
    for (const serial of [oldSerials.auth, oldSerials.sign])
      expect(await status(serial)).toMatchObject({ reason: 'superseded' });
    for (const serial of [newSerials.auth, newSerials.sign]) expect(await status(serial)).toBeNull();
    const stored = await getExtension(h.ctx.store.db, id);
    expect(stored?.oldRevokedAt).not.toBeNull();
    // Every step is in the audit chain.
    const actions = (await listAudit(h.ctx.store.db, { limit: 10_000 }))
      .filter((e) => e.subject === id)
      .map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'extension.started',
        'extension.terms-accepted',
        'extension.keys-proven',
        'extension.claimed',
        'extension.certificates-issued',
        'extension.acknowledged',
      ]),
    );

    // The old login certificate is revoked: that session is over. A login with the new card
    // certificate works, and a second förlängning is refused, naming the day of the first.
    expect((await client.get('/api/holder/session')).body).toEqual({ holder: null });
    const again = await holderClient();
    // Mina sidor shows the new pair as the card's valid e-ID and the superseded pair beside it.
    const eids = (await again.get('/api/holder/eids')).body.eids as {
      status: string;
      certificates: { serial: string; revocation: { reason: string } | null }[];
    }[];
    // (An earlier test's abandoned förlängning left its revoked pair on the card too.)
    const pairs = eids
      .map((e) => [e.status, e.certificates.map((c) => c.serial).sort()] as const)
      .filter(([, serials]) => serials.includes(newSerials.auth) || serials.includes(oldSerials.auth));
    expect(pairs).toEqual([
      ['good', [newSerials.auth, newSerials.sign].sort()],
      ['revoked', [oldSerials.auth, oldSerials.sign].sort()],
    ]);
    const superseded = eids.find((e) => e.certificates.some((c) => c.serial === oldSerials.auth));
    expect(superseded?.certificates.map((c) => c.revocation?.reason)).toEqual(['superseded', 'superseded']);
    const refused = await again.post('/api/holder/extension', {});
    expect(refused.status, JSON.stringify(refused.body)).toBe(409);
    expect(refused.body).toMatchObject({
      code: 'EXTENSION_ALREADY_USED',
      details: { extendedOn: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) },
    });
  });

  it('refuses a revoked e-ID (EXTENSION_CARD_REVOKED) before anything else', async () => {
    const client = await holderClient();
    const me = (await client.get('/api/holder/extension')).body.extension as { newSerials: { sign: string } };
    await h.ctx.ca.revoke(me.newSerials.sign, 'keyCompromise', 'test');
    const refused = await client.post('/api/holder/extension', {});
    expect(refused.body).toMatchObject({ code: 'EXTENSION_CARD_REVOKED' });
  });

  it('is a holder’s: without a holder’s session every route refuses', async () => {
    const stranger = new Client(h);
    expect((await stranger.post('/api/holder/extension', {})).body.code).toBe('NOT_LOGGED_IN');
    expect((await stranger.get('/api/holder/extension')).body.code).toBe('NOT_LOGGED_IN');
  });
});
