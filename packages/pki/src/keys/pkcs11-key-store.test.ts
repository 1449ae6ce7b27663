import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLogId, readCheckpoint, signCheckpoint } from '../checkpoint/audit-checkpoint.js';
import { DEFAULT_POLICY_OIDS } from '../oids.js';
import { createSoftHsm, pkcs11Tool, type SoftHsm } from '../test-support/softhsm.js';
import {
  createTestCa,
  issueRequest,
  makeCsr,
  openssl,
  type TestCa,
  writeText,
} from '../test-support/test-ca.js';
import { Pkcs11KeyStore } from './pkcs11-key-store.js';

describe('CA keys on a PKCS#11 token (SoftHSM2)', () => {
  let hsm: SoftHsm;
  let t: TestCa;
  const PIN = '246810';

  beforeAll(async () => {
    hsm = await createSoftHsm();
    await hsm.initToken('reservkort-ca', PIN);
    // Before anyone in this process is logged in, a wrong PIN must fail (login state is per process).
    expect(() =>
      Pkcs11KeyStore.open({ module: hsm.module, tokenLabel: 'reservkort-ca', pin: '000000' }),
    ).toThrow(expect.objectContaining({ code: 'CA_KEY_UNAVAILABLE' }));
    t = await createTestCa('sqlite', {
      keyStore: () => Pkcs11KeyStore.open({ module: hsm.module, tokenLabel: 'reservkort-ca', pin: PIN }),
    });
  });
  afterAll(async () => {
    await t?.dispose();
    await hsm?.dispose();
  });

  it('keeps every CA private key on the token, sensitive and never extractable', async () => {
    const listing = await pkcs11Tool(hsm, [
      '--token-label',
      'reservkort-ca',
      '--login',
      '--pin',
      PIN,
      '--list-objects',
    ]);
    const privateKeys = listing.split(/\n(?=\S)/).filter((block) => block.startsWith('Private Key Object'));
    // Root, LoA3, LoA2, their OCSP signers (the root's too), the audit checkpoint signer and the
    // card bureau CA.
    expect(privateKeys).toHaveLength(8);
    for (const block of privateKeys) {
      expect(block).toMatch(/Access:.*sensitive/);
      expect(block).toMatch(/never extractable/);
    }
  });

  it('issues certificates and CRLs with token keys that OpenSSL accepts', async () => {
    const issued = await t.ca.issue(issueRequest((await makeCsr()).pem));
    const leaf = await writeText(t.dir, 'hsm-leaf.pem', issued.pem);
    const result = await openssl([
      'verify',
      '-x509_strict',
      '-policy_check',
      '-explicit_policy',
      '-policy',
      DEFAULT_POLICY_OIDS.LoA3,
      '-CAfile',
      t.files.root,
      '-untrusted',
      t.files.loa3,
      leaf,
    ]);
    expect(result.code, result.out).toBe(0);
  });

  it('opens the keys again by label, and refuses an unknown key, token or module with a typed error', async () => {
    const second = Pkcs11KeyStore.open({ module: hsm.module, tokenLabel: 'reservkort-ca', pin: PIN });
    try {
      const row = t.ca.ca('loa3').key.ref;
      const key = await second.open(row, 'ecdsa-p256');
      expect(key.privateKey.extractable).toBe(false);
      await expect(second.open('no-such-key', 'ecdsa-p256')).rejects.toMatchObject({
        code: 'CA_KEY_UNAVAILABLE',
      });
    } finally {
      await second.close();
    }
    expect(() => Pkcs11KeyStore.open({ module: hsm.module, tokenLabel: 'nope', pin: PIN })).toThrow(
      expect.objectContaining({ code: 'CA_KEY_UNAVAILABLE' }),
    );
    expect(() => Pkcs11KeyStore.open({ module: '/nonexistent.so', tokenLabel: 'x', pin: PIN })).toThrow(
      expect.objectContaining({ code: 'CA_KEY_UNAVAILABLE' }),
    );
  });

  it('keeps the audit checkpoint signer on the token too, and OpenSSL verifies its checkpoints', async () => {
    const signer = await t.ca.auditSigner();
    expect(signer.key.privateKey.extractable).toBe(false);
    const listing = await pkcs11Tool(hsm, [
      '--token-label',
      'reservkort-ca',
      '--login',
      '--pin',
      PIN,
      '--list-objects',
    ]);
    const labels = listing.match(/label:\s+reservkort-audit-checkpoint-\d+/g) ?? [];
    // Its private and public key objects.
    expect(labels).toHaveLength(2);
    const root = t.ca.ca('root').certificate;
    const checkpoint = { log: auditLogId(root), size: 3, headHash: 'ef'.repeat(32), time: Date.now() };
    const pem = await signCheckpoint(signer, checkpoint);
    expect(readCheckpoint(pem, root)).toMatchObject({ ok: true, checkpoint });
    const file = await writeText(t.dir, 'hsm-checkpoint.pem', pem);
    const verified = await openssl([
      'cms',
      '-verify',
      '-inform',
      'PEM',
      '-in',
      file,
      '-CAfile',
      t.files.root,
      '-purpose',
      'any',
    ]);
    expect(verified.code, verified.out).toBe(0);
  });
});
