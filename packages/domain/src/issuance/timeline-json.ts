// A flow's state is written at every step, and a flow's answer carries its timeline every time:
// all but the newest entries were encoded before. Entries are never changed once made (the machine
// appends new ones), so each entry's JSON is made once and kept with the entry.

const entryTexts = new WeakMap<object, string>();

/** Stands in for the timeline while the rest is encoded; a control character, so JSON escapes it. */
const MARK = '\u0000timeline\u0000';
const MARK_JSON = JSON.stringify(MARK);

const entryText = (entry: unknown): string => {
  if (typeof entry !== 'object' || entry === null) return JSON.stringify(entry) ?? 'null';
  let text = entryTexts.get(entry);
  if (text === undefined) {
    // An array keeps `undefined` as null, as JSON.stringify does for the whole.
    text = JSON.stringify(entry) ?? 'null';
    entryTexts.set(entry, text);
  }
  return text;
};

type Json = { readonly [key: string]: unknown };

const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * `value` with the array at `path` swapped for the mark, and that array; undefined when there is no
 * array there that JSON.stringify would write as it is.
 */
const marked = (
  value: Json,
  path: readonly string[],
): { readonly shell: Json; readonly entries: readonly unknown[] } | undefined => {
  const [key, ...rest] = path;
  // What JSON.stringify would not write as it is: a key it skips, or a value that encodes itself.
  if (key === undefined || !Object.prototype.propertyIsEnumerable.call(value, key)) return undefined;
  if (typeof value.toJSON === 'function') return undefined;
  const inner = value[key];
  if (rest.length === 0)
    return Array.isArray(inner) ? { shell: { ...value, [key]: MARK }, entries: inner } : undefined;
  const found = isRecord(inner) ? marked(inner, rest) : undefined;
  return found === undefined ? undefined : { ...found, shell: { ...value, [key]: found.shell } };
};

/**
 * Exactly `JSON.stringify(value)`, with the timeline at `path` (e.g. `['timeline']` in a state,
 * `['view', 'timeline']` in an answer) written from each entry's kept text. The entries must not
 * change after they are first encoded, as the machine's never do. Anything the shortcut cannot be
 * sure of (not an object, no array at the path, the mark's text already in the value) is encoded
 * the plain way.
 */
export const jsonWithTimeline = (value: unknown, path: readonly string[]): string => {
  const found = isRecord(value) ? marked(value, path) : undefined;
  if (found === undefined) return JSON.stringify(value);
  const shell = JSON.stringify(found.shell);
  const at = shell.indexOf(MARK_JSON);
  if (at < 0 || shell.indexOf(MARK_JSON, at + MARK_JSON.length) >= 0) return JSON.stringify(value);
  const entries = found.entries.map(entryText).join(',');
  return `${shell.slice(0, at)}[${entries}]${shell.slice(at + MARK_JSON.length)}`;
};
