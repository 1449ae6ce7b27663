// Reader 1 and 2 as the flow numbers them, from the card agent's reader ids. Virtual readers are
// named `reader-N`. Other ids (PKCS#11 slots) are numbered in the order they are first seen, and a
// number stays with its reader: a reader unplugged keeps it, so its events still say which one
// left, until another reader is plugged in and takes the free number, as it takes the free socket.
import type { ReaderSlot } from '@reservkort/domain';

const NAMED = /^reader-(\d+)$/;

export class ReaderNumbers {
  private readonly numbers = new Map<string, number>();

  /** Takes the agent's reader list as it is now, in the agent's order. */
  update(readerIds: readonly string[]): void {
    const present = new Set(readerIds);
    for (const id of readerIds) {
      if (NAMED.test(id) || this.numbers.has(id)) continue;
      const taken = new Set([...this.numbers].filter(([other]) => present.has(other)).map(([, n]) => n));
      let number = 1;
      while (taken.has(number)) number++;
      for (const [other, held] of this.numbers) if (held === number) this.numbers.delete(other);
      this.numbers.set(id, number);
    }
  }

  slotOf(readerId: string): ReaderSlot | null {
    const named = NAMED.exec(readerId);
    const number = named ? Number(named[1]) : this.numbers.get(readerId);
    return number === 1 || number === 2 ? number : null;
  }
}
