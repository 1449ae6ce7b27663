// One initialised PKCS#11 library per process and module path, shared by every backend that opens
// it (the pattern of the pki package's key store): Cryptoki allows C_Initialize once per process,
// and login state belongs to the process, not to a session.
import { Module } from 'graphene-pk11';
import type { PKCS11 } from 'pkcs11js';
import pkcs11js from 'pkcs11js';

export interface ModuleInfo {
  readonly manufacturer: string;
  readonly description: string;
  /** The library's own version, "major.minor". */
  readonly libraryVersion: string;
  readonly cryptokiVersion: string;
}

const codeOf = (error: unknown): number | null => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : null;
};

const initialise = (module: Module): void => {
  try {
    // Asynchronous calls (key generation, signing) run on libuv worker threads: ask for OS locking.
    module.initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch (error) {
    if (codeOf(error) === pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED) return;
    if (codeOf(error) !== pkcs11js.CKR_CANT_LOCK) throw error;
    // Calls are serialised by SharedModule.exclusive anyway, so a library without locking still works.
    module.initialize();
  }
};

/** A loaded, initialised module with a lock that serialises every use of it in this process. */
export class SharedModule {
  private tail: Promise<unknown> = Promise.resolve();
  users = 1;
  /** Bumped by every re-initialisation, so callers can tell that slot and session handles moved on. */
  generation = 0;

  constructor(
    readonly path: string,
    private readonly module: Module,
  ) {}

  get lib(): PKCS11 {
    return this.module.lib;
  }

  info(): ModuleInfo {
    const info = this.lib.C_GetInfo();
    return {
      manufacturer: info.manufacturerID.trim(),
      description: info.libraryDescription.trim(),
      libraryVersion: `${info.libraryVersion.major}.${info.libraryVersion.minor}`,
      cryptokiVersion: `${info.cryptokiVersion.major}.${info.cryptokiVersion.minor}`,
    };
  }

  /**
   * Runs `task` alone: a re-initialisation must never pull the library away from under a running
   * key generation, and two logins in one process would share the same login state.
   */
  exclusive<T>(task: () => Promise<T> | T): Promise<T> {
    const run = this.tail.then(task, task);
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * C_Finalize + C_Initialize: the only way to make a module that keeps its token list from
   * C_Initialize (SoftHSM2) look again. Call it only inside `exclusive`, with no session open: it
   * ends every session and login of this process on this module, those of other users included.
   */
  reinitialise(): void {
    try {
      this.module.finalize();
    } catch (error) {
      if (codeOf(error) !== pkcs11js.CKR_CRYPTOKI_NOT_INITIALIZED) throw error;
    }
    initialise(this.module);
    this.generation += 1;
  }

  unload(): void {
    try {
      this.module.finalize();
    } catch {
      // Already finalised (e.g. by another component of this process): nothing left to release.
    }
    this.module.close();
  }
}

const loaded = new Map<string, SharedModule>();

export const acquireModule = (path: string): SharedModule => {
  const existing = loaded.get(path);
  if (existing) {
    existing.users += 1;
    return existing;
  }
  const module = Module.load(path, 'reservkort-agent');
  try {
    initialise(module);
  } catch (error) {
    module.close();
    throw error;
  }
  const shared = new SharedModule(path, module);
  loaded.set(path, shared);
  return shared;
};

/**
 * Finalises the module when its last user lets go. A later acquire initialises it afresh, which
 * also re-reads the module's configuration (SoftHSM2 reads SOFTHSM2_CONF at C_Initialize).
 */
export const releaseModule = (shared: SharedModule): void => {
  shared.users -= 1;
  if (shared.users > 0 || loaded.get(shared.path) !== shared) return;
  loaded.delete(shared.path);
  shared.unload();
};
