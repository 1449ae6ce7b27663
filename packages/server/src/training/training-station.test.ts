// Training mode's card station: registered by the seed on first start, kept while its certificate
// is far from expiry, renewed with the same key near it, and registered again after a revocation.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StationIdentity } from '@reservkort/agent';
import { canonicalStatementBytes, DAY, parseStatementPayload } from '@reservkort/domain';
import { getStation, upsertBranches } from '@reservkort/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, type TestCa } from '../../../pki/src/test-support/test-ca.js';
import { DIALECTS } from '../../../store/src/test-support/test-stores.js';
import { revokeStation } from '../station/station.service.js';
import { verifyStatement } from '../station/station-statement.service.js';
import { TRAINING_ACTOR, TRAINING_BRANCHES } from './training-plan.js';
import { ensureTrainingStation, TRAINING_STATION } from './training-station.js';

describe.each(DIALECTS)('the training station on %s', (dialect) => {
  let t: TestCa;
  let dir: string;
  let station: StationIdentity;
  let clock = Date.now();
  const now = () => clock;
  const ensure = () => ensureTrainingStation({ db: t.store.db, ca: t.ca, station, now });

  beforeAll(async () => {
    t = await createTestCa(dialect);
    await upsertBranches(t.store.db, TRAINING_BRANCHES);
    dir = await mkdtemp(join(tmpdir(), 'reservkort-training-station-'));
    station = StationIdentity.open(join(dir, 'agent', 'station'));
  });
  afterAll(async () => {
    await t?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('registers the agent as an active station of the training hospital on first start', async () => {
    expect(station.describe().registered).toBe(false);
    const first = await ensure();
    expect(first.outcome).toBe('registered');
    expect(station.describe()).toMatchObject({ stationId: first.stationId, registered: true });
    expect(await getStation(t.store.db, first.stationId)).toMatchObject({
      name: TRAINING_STATION.name,
      branchId: TRAINING_STATION.branchId,
      registeredBy: TRAINING_ACTOR,
      status: 'active',
    });
    // The server believes what it signs.
    const signer = station.signer();
    const payload = parseStatementPayload({
      v: 1,
      station: signer.stationId,
      flowId: 'flow-training',
      nonce: '0123456789abcdef0123456789abcdef',
      seq: station.nextSeq(),
      at: clock,
      kind: 'agent-info',
      body: { version: '0.1.0', packaging: 'training' },
    });
    if (!payload.ok) throw new Error('payload refused');
    const bytes = canonicalStatementBytes(payload.value);
    const signed = {
      payload: Buffer.from(bytes).toString('base64url'),
      signature: Buffer.from(signer.sign(bytes)).toString('base64url'),
    };
    const verified = await t.store.db.transaction().execute((trx) =>
      verifyStatement(trx, t.ca, signed, {
        flowId: 'flow-training',
        nonce: '0123456789abcdef0123456789abcdef',
        kinds: ['agent-info'],
        now: clock,
      }),
    );
    expect(verified.station.id).toBe(first.stationId);
  });

  it('keeps the station on later starts, and renews it with the same id near expiry', async () => {
    const { stationId } = station.describe();
    expect(await ensure()).toEqual({ stationId, outcome: 'kept' });
    const before = await getStation(t.store.db, stationId ?? '');
    clock = (before?.certificateNotAfter ?? 0) - 6 * DAY;
    const renewed = await ensure();
    expect(renewed).toEqual({ stationId, outcome: 'renewed' });
    const after = await getStation(t.store.db, stationId ?? '');
    expect(after?.certificateSerial).not.toBe(before?.certificateSerial);
    clock = Date.now();
  });

  it('registers again, as a new station, after a trainee revoked it', async () => {
    const { stationId } = station.describe();
    await revokeStation({ db: t.store.db, ca: t.ca, now }, stationId ?? '', 'SE2321000016-ad01');
    const again = await ensure();
    expect(again.outcome).toBe('registered');
    expect(again.stationId).not.toBe(stationId);
    expect(station.describe().stationId).toBe(again.stationId);
    expect(await getStation(t.store.db, again.stationId)).toMatchObject({ status: 'active' });
  });
});
