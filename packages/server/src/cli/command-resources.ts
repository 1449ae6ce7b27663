/** Something a command opens and must close: a store, a CA, a card backend. */
export interface Closable {
  close(): Promise<void> | void;
}

/**
 * What a command opened, closed when it ends, the last opened first. When the command's work
 * failed, that failure is what the operator reads: a close that fails after it (say, a session the
 * failure already ended) must not take its place. After work that succeeded, a failed close fails
 * the command, since something was left behind.
 */
export class CommandResources {
  private readonly opened: Closable[] = [];

  /** Registers `resource` for closing and hands it back. */
  add<T extends Closable>(resource: T): T {
    this.opened.push(resource);
    return resource;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await work();
    } catch (error) {
      await this.closeAll().catch(() => undefined);
      throw error;
    }
    await this.closeAll();
    return result;
  }

  private async closeAll(): Promise<void> {
    let failure: { error: unknown } | null = null;
    for (const resource of this.opened.splice(0).reverse()) {
      try {
        await resource.close();
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure !== null) throw failure.error;
  }
}
