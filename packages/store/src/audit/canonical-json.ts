/**
 * JSON with the keys of every object sorted (by UTF-16 code units, as Array.prototype.sort does),
 * so that equal values always give the same text and so the same hash. Otherwise it follows
 * JSON.stringify: toJSON is honoured, undefined members are left out, non-finite numbers are null.
 */
export const canonicalJson = (value: unknown): string => {
  const text = serialise(value, new Set());
  if (text === undefined) throw new TypeError(`Cannot serialise a ${typeof value} as JSON`);
  return text;
};

const serialise = (input: unknown, ancestors: Set<object>): string | undefined => {
  const value =
    typeof input === 'object' && input !== null && 'toJSON' in input && typeof input.toJSON === 'function'
      ? (input.toJSON() as unknown)
      : input;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'bigint':
      throw new TypeError('Cannot serialise a bigint as JSON');
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value === null) return 'null';
  if (ancestors.has(value)) throw new TypeError('Cannot serialise a cyclic structure as JSON');
  ancestors.add(value);
  let text: string;
  if (Array.isArray(value)) {
    text = `[${value.map((item: unknown) => serialise(item, ancestors) ?? 'null').join(',')}]`;
  } else {
    const members: string[] = [];
    for (const key of Object.keys(value).sort()) {
      const member = serialise((value as Record<string, unknown>)[key], ancestors);
      if (member !== undefined) members.push(`${JSON.stringify(key)}:${member}`);
    }
    text = `{${members.join(',')}}`;
  }
  ancestors.delete(value);
  return text;
};
