// pg's value mapping (dates, arrays, JSON, buffers to the protocol's text or bytes), exported by pg
// as a subpath but not typed by @types/pg.
declare module 'pg/lib/utils.js' {
  const utils: { prepareValue(value: unknown): string | Buffer | null };
  export default utils;
}
