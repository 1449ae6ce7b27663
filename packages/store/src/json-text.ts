// JSON stored as text, the same on both dialects (SQLite has no JSON column type).

/** Serialises a value for a JSON column; refuses what JSON cannot hold rather than storing nothing. */
export const toJsonText = (
  value: unknown,
  what: string,
  encode: (value: unknown) => string | undefined = JSON.stringify,
): string => {
  const text = encode(value);
  if (text === undefined) throw new TypeError(`${what} cannot be stored as JSON`);
  return text;
};

export const fromJsonText = (text: string): unknown => JSON.parse(text);

export const fromJsonArray = (text: string, what: string): unknown[] => {
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value)) throw new TypeError(`${what} is stored as JSON but not as an array`);
  return value;
};
