// One initialised PKCS#11 library per process and module path, shared by everything that opens it:
// the CA's key store, the card code and the card agent. Cryptoki has one C_Initialize per process
// and library, so a second load of the same library is the same library: whoever calls C_Finalize
// ends every session and login of every other user. Hence one registry, counting its users, and
// the last one to let go finalises.
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

export interface ModuleUse {
  /**
   * The user keeps sessions and object handles between calls and cannot open them again on its
   * own (the CA's key store, through node-webcrypto-p11): while it holds the module, `reinitialise`
   * refuses rather than end those sessions under it.
   */
  readonly keepsSessions?: boolean;
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
    // Initialised already by code outside the registry (another library in this process): share it.
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
  /** Users that asked for `keepsSessions`. */
  sessionKeepers = 0;
  /** Bumped by every re-initialisation, so callers can tell that slot and session handles moved on. */
  generation = 0;

  constructor(
    readonly path: string,
    private readonly module: Module,
  ) {}

  get lib(): PKCS11 {
    return this.module.lib;
  }

  /** The module as graphene-pk11 wraps it, for libraries built on it (node-webcrypto-p11). */
  get graphene(): Module {
    return this.module;
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
   * Returns false, and does nothing, while a user that keeps its sessions holds the module.
   */
  reinitialise(): boolean {
    if (this.sessionKeepers > 0) return false;
    try {
      this.module.finalize();
    } catch (error) {
      if (codeOf(error) !== pkcs11js.CKR_CRYPTOKI_NOT_INITIALIZED) throw error;
    }
    initialise(this.module);
    this.generation += 1;
    return true;
  }

  unload(): void {
    try {
      this.module.finalize();
    } catch {
      // Already finalised (e.g. by a library outside the registry): nothing left to release.
    }
    this.module.close();
  }
}

const loaded = new Map<string, SharedModule>();

/** The module at `path`, loaded and initialised on first use; release it with `releaseModule`. */
export const acquireModule = (path: string, use: ModuleUse = {}): SharedModule => {
  let shared = loaded.get(path);
  if (shared) {
    shared.users += 1;
  } else {
    const module = Module.load(path, 'reservkort');
    try {
      initialise(module);
    } catch (error) {
      module.close();
      throw error;
    }
    shared = new SharedModule(path, module);
    loaded.set(path, shared);
  }
  if (use.keepsSessions === true) shared.sessionKeepers += 1;
  return shared;
};

/**
 * Finalises the module when its last user lets go (with the same `use` it acquired with). A later
 * acquire initialises it afresh, which also re-reads the module's configuration (SoftHSM2 reads
 * SOFTHSM2_CONF at C_Initialize).
 */
export const releaseModule = (shared: SharedModule, use: ModuleUse = {}): void => {
  if (use.keepsSessions === true && shared.sessionKeepers > 0) shared.sessionKeepers -= 1;
  shared.users -= 1;
  if (shared.users > 0 || loaded.get(shared.path) !== shared) return;
  loaded.delete(shared.path);
  shared.unload();
};

/** How many users hold the module at `path` (0 when it is not loaded): for tests and diagnostics. */
export const moduleUsers = (path: string): number => loaded.get(path)?.users ?? 0;
