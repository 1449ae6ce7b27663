import { describe, expect, it } from 'vitest';
import {
  buildStationCase,
  buildSupportCase,
  type CertificateOnCard,
  caseCodeDetails,
  describeError,
  missingSupportFields,
  PROTECTED_PLACEHOLDER,
  redactSupportCase,
  restartFlow,
  SUPPORT_COMMENT_MAX,
  type SupportCaseDraft,
  type SupportCaseInput,
} from '../index.js';
import {
  admins,
  anOrder,
  FlowDriver,
  flowOrderOf,
  persons,
  RESERVE_CARD,
  signatureOf,
  T0,
} from '../test-support/fixtures.js';

const certificate: CertificateOnCard = {
  subject: 'CN=Anna Test,serialNumber=SE2321000016-anna',
  issuer: 'CN=Reservkort Test LoA3 CA',
  serial: '0a01',
  notBefore: '2026-11-29T09:00:00Z',
  notAfter: '2026-12-06T09:00:00Z',
  keyUsage: ['digitalSignature', 'keyEncipherment'],
  policies: ['1.2.752.9999.1.3'],
};

const draftOf = (
  driver: FlowDriver,
  comment = ' Kortet fungerar inte ',
  stockCard: SupportCaseInput['stockCard'] = null,
) => {
  const result = buildSupportCase({
    flow: driver.state,
    stockCard,
    agent: { version: '1.4.2', packaging: 'npm' },
    certificatesOnCard: [certificate],
    stationId: 'st-disk-0001',
    comment,
    reportedBy: admins.admin2.hsaId,
    at: T0,
  });
  if (!result.ok) throw new Error(result.error.code);
  return result.value;
};

describe('support case', () => {
  it('fills every SPEC §5 field from the flow and the agent', () => {
    const driver = new FlowDriver().to(6);
    driver.send({ type: 'keys-generated' });
    driver.send({ type: 'download-failed', reason: 'CKR_DEVICE_ERROR' });
    const draft = draftOf(driver);
    expect(draft).toMatchObject({
      admin1HsaId: admins.admin1.hsaId,
      admin2HsaId: admins.admin2.hsaId,
      recipientHsaId: persons.anna.hsaId,
      cardNumber: RESERVE_CARD,
      agentVersion: '1.4.2',
      agentPackaging: 'npm',
      stationId: 'st-disk-0001',
      certificates: [certificate],
      codes: ['DOWNLOAD_FAILED'],
      comment: 'Kortet fungerar inte',
      readers: { throughout: true },
      protectedIdentity: false,
    });
    expect(draft.timeline).toBe(driver.state.timeline);
    expect(missingSupportFields(draft)).toEqual([]);
  });

  it('names the card’s product and physical expiry from its station’s stock, and only for its own card', () => {
    const driver = new FlowDriver().to(5);
    const stock = { product: '573' as const, physicalExpiry: { year: 2031, month: 3, day: 14 } };
    expect(draftOf(driver, '', { cardNumber: RESERVE_CARD, ...stock }).cardStock).toEqual({
      product: '573',
      physicalExpiry: '2031-03-14',
    });
    const other = '9752278900000000999' as typeof RESERVE_CARD;
    expect(draftOf(driver, '', { cardNumber: other, ...stock }).cardStock).toBeNull();
    expect(draftOf(driver).cardStock).toBeNull();
  });

  it('lists each code once, in the order it first appeared', () => {
    const driver = new FlowDriver().to(4);
    driver.send({ type: 'handover-confirmed' });
    driver.send({ type: 'reader-unplugged', reader: 2 });
    driver.send({ type: 'handover-confirmed' });
    expect(draftOf(driver).codes).toEqual(['RESERVE_CARD_MISSING', 'READERS_MISSING']);
  });

  it('adds the codes the portal showed that the flow did not record, each once', () => {
    const driver = new FlowDriver().to(4);
    driver.send({ type: 'handover-confirmed' });
    driver.send({ type: 'reader-unplugged', reader: 2 });
    driver.send({ type: 'handover-confirmed' });
    const result = buildSupportCase({
      flow: driver.state,
      agent: null,
      certificatesOnCard: [],
      comment: '',
      reportedBy: admins.admin2.hsaId,
      at: T0,
      shownCodes: ['EVENT_OUT_OF_ORDER', 'READERS_MISSING'],
    });
    expect(result.ok && result.value.codes).toEqual([
      'RESERVE_CARD_MISSING',
      'READERS_MISSING',
      'EVENT_OUT_OF_ORDER',
    ]);
  });

  it('says which fields are still unknown before an order is chosen', () => {
    const driver = new FlowDriver().to(2);
    const result = buildSupportCase({
      flow: driver.state,
      agent: null,
      certificatesOnCard: [],
      comment: '',
      reportedBy: admins.admin2.hsaId,
      at: T0,
    });
    if (!result.ok) throw new Error(result.error.code);
    // No station vouched for anything: the agent is unknown.
    expect(result.value).toMatchObject({ stationId: null, agentVersion: null, certificates: [] });
    expect(missingSupportFields(result.value)).toEqual([
      'admin1HsaId',
      'recipientHsaId',
      'cardNumber',
      'agentVersion',
      'agentPackaging',
    ]);
  });

  it('refuses an over-long comment and a comment that is not text', () => {
    const driver = new FlowDriver().to(2);
    const base = {
      flow: driver.state,
      agent: null,
      certificatesOnCard: [],
      reportedBy: admins.admin2.hsaId,
      at: T0,
    };
    expect(buildSupportCase({ ...base, comment: 'x'.repeat(SUPPORT_COMMENT_MAX) }).ok).toBe(true);
    expect(buildSupportCase({ ...base, comment: 'x'.repeat(SUPPORT_COMMENT_MAX + 1) })).toMatchObject({
      error: { code: 'TEXT_TOO_LONG', details: { max: SUPPORT_COMMENT_MAX } },
    });
    expect(buildSupportCase({ ...base, comment: 7 as unknown as string }).ok).toBe(false);
  });

  describe('protected identities', () => {
    const hiddenOrder = anOrder({
      person: persons.hidden,
      admin: admins.admin2,
      signature: signatureOf(admins.admin2),
    });
    const draft: SupportCaseDraft = draftOf(new FlowDriver().to(4, hiddenOrder));

    it('marks the case protected', () => {
      expect(draft.protectedIdentity).toBe(true);
      expect(draft.recipientHsaId).toBe(persons.hidden.hsaId);
    });

    it('withholds the recipient and the certificate subjects from viewers without KUR', () => {
      const seen = redactSupportCase(draft, { holdsKur: false });
      expect(seen.recipientHsaId).toBeNull();
      expect(seen.certificates.map((c) => c.subject)).toEqual([PROTECTED_PLACEHOLDER]);
      expect(JSON.stringify(seen)).not.toContain(persons.hidden.hsaId);
    });

    it('shows everything to viewers with KUR, and unprotected cases to everyone', () => {
      expect(redactSupportCase(draft, { holdsKur: true })).toBe(draft);
      const open = draftOf(new FlowDriver().to(4));
      expect(redactSupportCase(open, { holdsKur: false })).toBe(open);
    });
  });

  it('never carries a PIN: no event or field has one to carry', () => {
    const driver = new FlowDriver().to(7);
    const text = JSON.stringify(draftOf(driver)).toLowerCase();
    expect(text).not.toMatch(/pin|puk|privatekey/);
  });
});

describe('a case covers the order, not only the last attempt', () => {
  it('lists the earlier attempts oldest first with their codes, and gathers every code', () => {
    const first = new FlowDriver().to(6);
    first.send({ type: 'card-removed', reader: 2 });
    first.send({ type: 'aborted', reason: 'restart' });
    const second = new FlowDriver();
    second.state = restartFlow(first.state, 'flow-2', first.now + 1000);
    expect(second.state.restartOf).toBe('flow-1');
    second.send({ type: 'manage-orders' }, 5000);
    second.send({ type: 'searched', queryKind: 'personal-number', hit: null, codes: ['NO_ORDER'] });
    const result = buildSupportCase({
      flow: second.state,
      earlierAttempts: [second.state, first.state],
      agent: null,
      certificatesOnCard: [],
      comment: '',
      reportedBy: admins.admin2.hsaId,
      at: second.now,
    });
    if (!result.ok) throw new Error(result.error.code);
    const draft = result.value;
    expect(draft.attempts?.map((a) => [a.flowId, a.status, a.step, a.codes])).toEqual([
      ['flow-1', 'aborted', 6, ['CARD_REMOVED_DURING_DOWNLOAD']],
    ]);
    expect(draft.attempts?.[0]?.admin2HsaId).toBe(admins.admin2.hsaId);
    expect(draft.codes).toEqual(['CARD_REMOVED_DURING_DOWNLOAD', 'NO_ORDER']);
    expect(draft.timeline).toBe(second.state.timeline);
    // Each code's catalogue entry reads with the details it was raised with, earlier attempt or not.
    const removed = caseCodeDetails(draft, 'CARD_REMOVED_DURING_DOWNLOAD');
    expect(removed).toEqual(
      first.state.timeline.find((e) => e.codes.includes('CARD_REMOVED_DURING_DOWNLOAD'))?.details,
    );
    expect(caseCodeDetails(draft, 'ACK_TIMEOUT')).toEqual({});
    // The scenes go with the case, this attempt's and the earlier ones', so the case can be replayed.
    expect(draft.timeline.every((entry) => entry.scene !== undefined)).toBe(true);
    expect(draft.attempts?.[0]?.timeline.every((entry) => entry.scene !== undefined)).toBe(true);
    expect(draft.attempts?.[0]?.timeline.at(-2)?.scene?.fault).toBe('CARD_REMOVED_DURING_DOWNLOAD');
  });

  it('reads an ACK_TIMEOUT entry with the deadline it passed, not a dash', () => {
    const flow = new FlowDriver().to(7);
    const deadline = flow.state.deadline ?? 0;
    flow.send({ type: 'tick' }, deadline - flow.now + 1);
    const result = buildSupportCase({
      flow: flow.state,
      agent: null,
      certificatesOnCard: [],
      comment: '',
      reportedBy: admins.admin2.hsaId,
      at: flow.now,
    });
    if (!result.ok) throw new Error(result.error.code);
    expect(result.value.codes).toContain('ACK_TIMEOUT');
    const details = caseCodeDetails(result.value, 'ACK_TIMEOUT');
    const text = describeError({ code: 'ACK_TIMEOUT', details }, 'sv').explanation;
    expect(text).not.toContain('–');
    expect(text).toMatch(/\d{2}:\d{2}/);
  });

  it('names the order a search explained when the flow has none of its own (OWN_ORDER)', () => {
    const driver = new FlowDriver().to(2);
    driver.send({ type: 'searched', queryKind: 'personal-number', hit: null, codes: ['OWN_ORDER'] });
    const order = flowOrderOf(anOrder());
    const result = buildSupportCase({
      flow: driver.state,
      explainedOrder: order,
      agent: null,
      certificatesOnCard: [],
      comment: '',
      reportedBy: admins.admin2.hsaId,
      at: driver.now,
    });
    if (!result.ok) throw new Error(result.error.code);
    expect(result.value).toMatchObject({
      admin1HsaId: order.admin1HsaId,
      recipientHsaId: order.recipientHsaId,
      cardNumber: order.cardNumber,
      attempts: [],
    });
  });
});

describe('a case filed before login (READERS_MISSING)', () => {
  const input = {
    stationId: 'st-disk-0001' as const,
    agent: { version: '1.4.2', packaging: 'npm' },
    readers: { 1: { connected: true, card: true }, 2: { connected: false, card: false } },
    comment: ' Läsare 2 syns inte ',
    at: T0,
  };

  it('holds the station’s word only: no flow, no one logged in, the missing reader as a gap', () => {
    const result = buildStationCase(input);
    if (!result.ok) throw new Error(result.error.code);
    expect(result.value).toMatchObject({
      flowId: '',
      reportedBy: 'st-disk-0001',
      stationId: 'st-disk-0001',
      admin1HsaId: null,
      admin2HsaId: null,
      agentVersion: '1.4.2',
      codes: ['READERS_MISSING'],
      readers: { throughout: false, gaps: [{ reader: 2, from: T0, to: null }] },
      comment: 'Läsare 2 syns inte',
    });
    expect(result.value.timeline).toEqual([
      {
        at: T0,
        step: 0,
        event: 'station-reported',
        codes: ['READERS_MISSING'],
        details: { reader1: true, reader2: false, card1: true, card2: false, missing: '2' },
      },
    ]);
  });

  it('refuses a report with both readers there, or a comment too long', () => {
    const both = { 1: { connected: true, card: true }, 2: { connected: true, card: false } };
    expect(buildStationCase({ ...input, readers: both })).toMatchObject({
      ok: false,
      error: { code: 'REQUEST_INVALID' },
    });
    const long = 'x'.repeat(SUPPORT_COMMENT_MAX + 1);
    expect(buildStationCase({ ...input, comment: long })).toMatchObject({
      ok: false,
      error: { code: 'TEXT_TOO_LONG' },
    });
  });
});
