/** Booleans are stored as 0/1 on both dialects, so both drivers return the same type. */
export const toIntegerBoolean = (value: boolean): number => (value ? 1 : 0);

export const fromIntegerBoolean = (value: number): boolean => value !== 0;
