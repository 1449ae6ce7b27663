// The station key on a PKCS#11 token: a workstation's TPM or HSM token, never one of the reserve
// cards. The key pair is generated on the token (sensitive, never extractable, private) and found
// again by its CKA_ID and label; the agent logs in once and signs with C_Sign, so the private key
// never leaves the token. The PIN stays in memory: a module re-initialised under the agent (the
// card backend does that when it shares the module) ends the login, and the agent logs in again.
import { createHash } from 'node:crypto';
import { acquireModule, releaseModule, type SharedModule } from '@reservkort/pkcs11';
import type { PKCS11 } from 'pkcs11js';
import pkcs11js from 'pkcs11js';
import { ckrCode, ckrName, PIN_SHAPE_CODES, REMOVAL_CODES } from '../backend/pkcs11-errors.js';
import { signingKeyPairTemplates } from '../backend/pkcs11-key-templates.js';
import { spkiFromEcPoint } from '../backend/pkcs11-spki.js';
import { type StationKeyStore, stationKeyUnavailable } from './station-key-store.js';

/** CKA_LABEL and CKA_ID of the station key pair: they name it, apart from anything else on the token. */
export const STATION_KEY_LABEL = 'reservkort-station';
export const STATION_KEY_ID = Buffer.from(STATION_KEY_LABEL, 'utf8');

export interface StationTokenConfig {
  /** The PKCS#11 module of the station's token (not the card vendor's module). */
  readonly module: string;
  /** The token, by its label: slot numbers can move between restarts. */
  readonly tokenLabel: string;
  /** The token's user PIN. */
  readonly pin: string;
}

/** What a private key object says of itself, read back from the token. */
export interface StationKeyAttributes {
  readonly token: boolean;
  readonly private: boolean;
  readonly sensitive: boolean;
  readonly extractable: boolean;
  readonly neverExtractable: boolean;
  readonly local: boolean;
  readonly sign: boolean;
}

const ECDSA_P256_SIGNATURE = 64;
const RELOGIN_CODES: ReadonlySet<number> = new Set([...REMOVAL_CODES, pkcs11js.CKR_USER_NOT_LOGGED_IN]);

interface Connection {
  readonly session: Buffer;
  readonly generation: number;
}

export class TokenStationKey implements StationKeyStore {
  readonly kind = 'pkcs11';
  private connection: Connection;
  private privateKey: Buffer | null = null;
  private spki: Uint8Array | null = null;

  private constructor(
    private readonly shared: SharedModule,
    private readonly config: StationTokenConfig,
  ) {
    this.connection = this.connect();
    this.findKey();
  }

  /** Loads the module, finds the token and logs in: STATION_KEY_UNAVAILABLE if any of that fails. */
  static open(config: StationTokenConfig): TokenStationKey {
    let shared: SharedModule;
    try {
      shared = acquireModule(config.module);
    } catch (cause) {
      throw stationKeyUnavailable(
        'module not loaded',
        `PKCS#11 module ${config.module} could not be loaded`,
        cause,
      );
    }
    try {
      return new TokenStationKey(shared, config);
    } catch (error) {
      releaseModule(shared);
      throw error;
    }
  }

  get tokenLabel(): string {
    return this.config.tokenLabel;
  }

  private get lib(): PKCS11 {
    return this.shared.lib;
  }

  private slot(): Buffer {
    for (const slot of this.lib.C_GetSlotList(true)) {
      if (this.lib.C_GetTokenInfo(slot).label.trim() === this.config.tokenLabel) return slot;
    }
    throw stationKeyUnavailable('token missing', `no token labelled ${this.config.tokenLabel}`);
  }

  private connect(): Connection {
    const slot = this.slot();
    if ((this.lib.C_GetTokenInfo(slot).flags & pkcs11js.CKF_USER_PIN_LOCKED) !== 0) {
      throw stationKeyUnavailable('pin locked', `the PIN of token ${this.config.tokenLabel} is locked`);
    }
    const session = this.lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      this.lib.C_Login(session, pkcs11js.CKU_USER, this.config.pin);
    } catch (error) {
      const code = ckrCode(error);
      // Login state belongs to the process: another user of the module may have logged in already.
      if (code === pkcs11js.CKR_USER_ALREADY_LOGGED_IN)
        return { session, generation: this.shared.generation };
      this.lib.C_CloseSession(session);
      if (code === pkcs11js.CKR_PIN_INCORRECT || (code !== null && PIN_SHAPE_CODES.has(code)))
        throw stationKeyUnavailable('pin incorrect', `wrong PIN for token ${this.config.tokenLabel}`);
      if (code === pkcs11js.CKR_PIN_LOCKED)
        throw stationKeyUnavailable('pin locked', `the PIN of token ${this.config.tokenLabel} is locked`);
      throw stationKeyUnavailable(ckrName(error), `login to token ${this.config.tokenLabel} failed`, error);
    }
    return { session, generation: this.shared.generation };
  }

  private find(objectClass: number): Buffer | null {
    const { session } = this.connection;
    this.lib.C_FindObjectsInit(session, [
      { type: pkcs11js.CKA_CLASS, value: objectClass },
      { type: pkcs11js.CKA_ID, value: STATION_KEY_ID },
      { type: pkcs11js.CKA_LABEL, value: STATION_KEY_LABEL },
    ]);
    try {
      return this.lib.C_FindObjects(session, 1)[0] ?? null;
    } finally {
      this.lib.C_FindObjectsFinal(session);
    }
  }

  private ecPointSpki(publicKey: Buffer): Uint8Array {
    const [point] = this.lib.C_GetAttributeValue(this.connection.session, publicKey, [
      { type: pkcs11js.CKA_EC_POINT },
    ]);
    return spkiFromEcPoint(point?.value ?? Buffer.alloc(0));
  }

  private findKey(): void {
    const privateKey = this.find(pkcs11js.CKO_PRIVATE_KEY);
    if (privateKey === null) {
      this.privateKey = null;
      this.spki = null;
      return;
    }
    const publicKey = this.find(pkcs11js.CKO_PUBLIC_KEY);
    if (publicKey === null) {
      throw stationKeyUnavailable(
        'public key missing',
        'the station key on the token has no public key object',
      );
    }
    this.privateKey = privateKey;
    this.spki = this.ecPointSpki(publicKey);
  }

  /**
   * Runs `task` on a live, logged-in session: after a module re-initialisation, or an answer that
   * says the session or login is gone, it logs in again and tries once more.
   */
  private live<T>(task: () => T): T {
    if (this.connection.generation !== this.shared.generation) this.reconnect();
    try {
      return task();
    } catch (error) {
      const code = ckrCode(error);
      if (code === null || !RELOGIN_CODES.has(code)) throw error;
      this.reconnect();
      return task();
    }
  }

  private reconnect(): void {
    try {
      this.lib.C_CloseSession(this.connection.session);
    } catch {
      // Already gone with the re-initialisation or the token.
    }
    this.connection = this.connect();
    this.findKey();
  }

  publicKey(): Uint8Array | null {
    return this.spki;
  }

  create(): Uint8Array {
    if (this.spki !== null) return this.spki;
    return this.live(() => {
      const { mechanism, publicTemplate, privateTemplate } = signingKeyPairTemplates({
        label: STATION_KEY_LABEL,
        id: STATION_KEY_ID,
        spec: 'ecdsa-p256',
        // Usable only after a login with the token's PIN.
        privateObject: true,
      });
      const pair = this.lib.C_GenerateKeyPair(
        this.connection.session,
        mechanism,
        publicTemplate,
        privateTemplate,
      );
      this.privateKey = pair.privateKey;
      this.spki = this.ecPointSpki(pair.publicKey);
      return this.spki;
    });
  }

  sign(bytes: Uint8Array): Uint8Array {
    if (this.privateKey === null)
      throw stationKeyUnavailable('key missing', 'no station key on the token yet');
    // CKM_ECDSA signs a digest the caller made, and answers r‖s.
    const digest = createHash('sha256').update(bytes).digest();
    return this.live(() => {
      const privateKey = this.privateKey;
      if (privateKey === null) throw stationKeyUnavailable('key missing', 'the station key left the token');
      const { session } = this.connection;
      this.lib.C_SignInit(session, { mechanism: pkcs11js.CKM_ECDSA }, privateKey);
      return new Uint8Array(this.lib.C_Sign(session, digest, Buffer.alloc(ECDSA_P256_SIGNATURE)));
    });
  }

  /** The private key's attributes as the token reports them (what a doctor or a test checks). */
  attributes(): StationKeyAttributes | null {
    const privateKey = this.privateKey;
    if (privateKey === null) return null;
    return this.live(() => {
      const flag = (type: number): boolean => {
        try {
          const [value] = this.lib.C_GetAttributeValue(this.connection.session, privateKey, [{ type }]);
          return value?.value?.[0] === 1;
        } catch {
          return false;
        }
      };
      return {
        token: flag(pkcs11js.CKA_TOKEN),
        private: flag(pkcs11js.CKA_PRIVATE),
        sensitive: flag(pkcs11js.CKA_SENSITIVE),
        extractable: flag(pkcs11js.CKA_EXTRACTABLE),
        neverExtractable: flag(pkcs11js.CKA_NEVER_EXTRACTABLE),
        local: flag(pkcs11js.CKA_LOCAL),
        sign: flag(pkcs11js.CKA_SIGN),
      };
    });
  }

  close(): void {
    try {
      this.lib.C_CloseSession(this.connection.session);
    } catch {
      // The module may have been re-initialised under us: the session is gone already.
    } finally {
      releaseModule(this.shared);
    }
  }
}
