import { describe, expect, it } from 'vitest';
import { ReaderNumbers } from './reader-numbers.js';

describe('reader numbers (reader 1 and 2 of the flow)', () => {
  it('takes virtual readers by their name', () => {
    const numbers = new ReaderNumbers();
    numbers.update(['reader-2', 'reader-1', 'reader-3']);
    expect(['reader-1', 'reader-2', 'reader-3'].map((id) => numbers.slotOf(id))).toEqual([1, 2, null]);
  });

  it('numbers PKCS#11 slots in the order first seen and keeps the numbers when the list changes', () => {
    const numbers = new ReaderNumbers();
    numbers.update(['slot-9', 'slot-4']);
    expect([numbers.slotOf('slot-9'), numbers.slotOf('slot-4')]).toEqual([1, 2]);
    // The agent lists them the other way round: nothing swaps.
    numbers.update(['slot-4', 'slot-9']);
    expect([numbers.slotOf('slot-9'), numbers.slotOf('slot-4')]).toEqual([1, 2]);
    expect(numbers.slotOf('slot-7')).toBeNull();
  });

  it('lets an unplugged reader keep its number until another reader takes the free one', () => {
    const numbers = new ReaderNumbers();
    numbers.update(['slot-9', 'slot-4']);
    // Reader 1 unplugged: reader 2 stays reader 2, and events of the one gone still name reader 1.
    numbers.update(['slot-4']);
    expect([numbers.slotOf('slot-9'), numbers.slotOf('slot-4')]).toEqual([1, 2]);
    // The same reader back: reader 1 again.
    numbers.update(['slot-9', 'slot-4']);
    expect(numbers.slotOf('slot-9')).toBe(1);
    // Another reader in its place: it becomes reader 1, and the old one has no number left.
    numbers.update(['slot-4']);
    numbers.update(['slot-4', 'slot-12']);
    expect([numbers.slotOf('slot-12'), numbers.slotOf('slot-4'), numbers.slotOf('slot-9')]).toEqual([
      1,
      2,
      null,
    ]);
    // A third reader gets no flow number.
    numbers.update(['slot-4', 'slot-12', 'slot-9']);
    expect(numbers.slotOf('slot-9')).toBeNull();
  });
});
