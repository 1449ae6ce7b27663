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

/** `value` with the array at `path` swapped for the mark; undefined when there is no array there. */
const marked = (value: Json, path: readonly string[]): Json | undefined => {
  const [key, ...rest] = path;
  // What JSON.stringify would not write as it is: a key it skips, or a value that encodes itself.
  if (key === undefined || !Object.prototype.propertyIsEnumerable.call(value, key)) return undefined;
  if (typeof value.toJSON === 'function') return undefined;
  const inner = value[key];
  if (rest.length === 0) return Array.isArray(inner) ? { ...value, [key]: MARK } : undefined;
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) return undefined;
  const swapped = marked(inner as Json, rest);
  return swapped === undefined ? undefined : { ...value, [key]: swapped };
};

const arrayAt = (value: Json, path: readonly string[]): readonly unknown[] =>
  path.reduce<unknown>((at, key) => (at as Json)[key], value) as readonly unknown[];

/**
 * Exactly `JSON.stringify(value)`, with the timeline at `path` (e.g. `['timeline']` in a state,
 * `['view', 'timeline']` in an answer) written from each entry's kept text. The entries must not
 * change after they are first encoded, as the machine's never do. Anything the shortcut cannot be
 * sure of (no array at the path, the mark's text already in the value) is encoded the plain way.
 */
export const jsonWithTimeline = (value: object, path: readonly string[]): string => {
  const swapped = marked(value as Json, path);
  if (swapped === undefined) return JSON.stringify(value);
  const shell = JSON.stringify(swapped);
  const at = shell.indexOf(MARK_JSON);
  if (at < 0 || shell.indexOf(MARK_JSON, at + MARK_JSON.length) >= 0) return JSON.stringify(value);
  const entries = arrayAt(value as Json, path)
    .map(entryText)
    .join(',');
  return `${shell.slice(0, at)}[${entries}]${shell.slice(at + MARK_JSON.length)}`;
};
