// The registry on SoftHSM2: one initialised library per path however many users open it, finalised
// by the last; no re-initialisation under a user that keeps sessions; a library some other code in
// the process initialised already is shared, not refused.
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSoftHsm, type SoftHsm } from '../../pki/src/test-support/softhsm.js';
import { acquireModule, moduleUsers, releaseModule } from './pkcs11-module.js';

const PIN = '11223344';
/** PKCS#11 §5.6 CKS_RW_USER_FUNCTIONS (pkcs11js has no CKS_ constants). */
const CKS_RW_USER_FUNCTIONS = 3;

describe('the shared PKCS#11 module', () => {
  let hsm: SoftHsm;

  const openSession = (lib: pkcs11js.PKCS11): Buffer => {
    const [slot] = lib.C_GetSlotList(true);
    if (slot === undefined) throw new Error('no token');
    return lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  };

  /** Whether the library is finalised: then a load of its own may initialise it (and finalises it again). */
  const finalised = (): boolean => {
    const probe = new pkcs11js.PKCS11();
    probe.load(hsm.module);
    try {
      probe.C_Initialize();
      probe.C_Finalize();
      return true;
    } catch (error) {
      if ((error as { code?: number }).code === pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED) return false;
      throw error;
    } finally {
      probe.close();
    }
  };

  beforeAll(async () => {
    hsm = await createSoftHsm();
    await hsm.initToken('registry', PIN);
  });
  afterAll(async () => {
    await hsm?.dispose();
  });

  it('is loaded once per path and finalised by the last user only', () => {
    const ca = acquireModule(hsm.module, { keepsSessions: true });
    const cards = acquireModule(hsm.module);
    expect(cards).toBe(ca);
    expect(moduleUsers(hsm.module)).toBe(2);

    const session = openSession(ca.lib);
    ca.lib.C_Login(session, pkcs11js.CKU_USER, PIN);
    // The card code lets go first, as `card issue-admin` does: the CA's session and login live on.
    releaseModule(cards);
    expect(moduleUsers(hsm.module)).toBe(1);
    expect(ca.lib.C_GetSessionInfo(session).state).toBe(CKS_RW_USER_FUNCTIONS);

    ca.lib.C_CloseSession(session);
    releaseModule(ca, { keepsSessions: true });
    expect(moduleUsers(hsm.module)).toBe(0);
    expect(finalised()).toBe(true);
  });

  it('refuses to re-initialise while a user keeps sessions, and does it once that user has gone', () => {
    const ca = acquireModule(hsm.module, { keepsSessions: true });
    const agent = acquireModule(hsm.module);
    const session = openSession(ca.lib);
    const slots = ca.lib.C_GetSlotList(true).length;

    expect(agent.reinitialise()).toBe(false);
    expect(agent.generation).toBe(0);
    expect(ca.lib.C_GetSessionInfo(session).slotID).toBeDefined();

    ca.lib.C_CloseSession(session);
    releaseModule(ca, { keepsSessions: true });
    expect(agent.reinitialise()).toBe(true);
    expect(agent.generation).toBe(1);
    expect(agent.lib.C_GetSlotList(true)).toHaveLength(slots);
    releaseModule(agent);
    expect(moduleUsers(hsm.module)).toBe(0);
    expect(finalised()).toBe(true);
  });

  it('shares a library that other code in the process initialised already', () => {
    const other = new pkcs11js.PKCS11();
    other.load(hsm.module);
    other.C_Initialize();
    try {
      const shared = acquireModule(hsm.module);
      expect(shared.info().manufacturer).toBe('SoftHSM');
      releaseModule(shared);
    } finally {
      // The registry's finalisation ended it for both; the other code's own C_Finalize finds nothing left.
      expect(() => other.C_Finalize()).toThrow(/CKR_CRYPTOKI_NOT_INITIALIZED/);
      other.close();
    }
  });
});
