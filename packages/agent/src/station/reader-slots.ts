// Reader 1 and 2 as the station numbers them in its statements. Virtual readers are named
// `reader-N`. Other ids (PKCS#11 slots) are numbered in the order they are first seen, and a number
// stays with its reader while it is away, until another reader is plugged in and takes the free
// number, as it takes the free socket. The page numbers readers by the same rules.
import type { ReaderSlot } from '@reservkort/domain';

const NAMED = /^reader-(\d+)$/;

export class ReaderSlots {
  private readonly numbers = new Map<string, number>();
  private readonly present = new Set<string>();

  /** The reader list as it is now, in the backend's order. */
  observe(readerIds: readonly string[]): void {
    this.present.clear();
    for (const id of readerIds) this.present.add(id);
    for (const id of readerIds) this.assign(id);
  }

  plugged(readerId: string): void {
    this.present.add(readerId);
    this.assign(readerId);
  }

  unplugged(readerId: string): void {
    this.present.delete(readerId);
  }

  private assign(readerId: string): void {
    if (NAMED.test(readerId) || this.numbers.has(readerId)) return;
    const taken = new Set(
      [...this.numbers].filter(([other]) => this.present.has(other)).map(([, number]) => number),
    );
    let number = 1;
    while (taken.has(number)) number++;
    for (const [other, held] of this.numbers) if (held === number) this.numbers.delete(other);
    this.numbers.set(readerId, number);
  }

  slotOf(readerId: string): ReaderSlot | null {
    const named = NAMED.exec(readerId);
    const number = named ? Number(named[1]) : this.numbers.get(readerId);
    return number === 1 || number === 2 ? number : null;
  }
}
