import { describe, expect, it } from 'vitest';
import { ReaderSlots } from './reader-slots.js';

describe('reader numbers in statements', () => {
  it('takes virtual readers by their names, others in the order first seen', () => {
    const slots = new ReaderSlots();
    slots.observe(['slot-b', 'reader-2', 'slot-a']);
    expect(['slot-b', 'reader-2', 'slot-a', 'reader-3', 'unknown'].map((id) => slots.slotOf(id))).toEqual([
      1,
      2,
      2,
      null,
      null,
    ]);
  });

  it('keeps a number with an unplugged reader until another reader takes the free number', () => {
    const slots = new ReaderSlots();
    slots.observe(['slot-a', 'slot-b']);
    slots.unplugged('slot-a');
    expect(slots.slotOf('slot-a')).toBe(1);
    slots.plugged('slot-c');
    expect(slots.slotOf('slot-c')).toBe(1);
    expect(slots.slotOf('slot-a')).toBeNull();
    slots.plugged('slot-b');
    expect(slots.slotOf('slot-b')).toBe(2);
  });
});
