/** Masks what looks like a personnummer (10 or 12 digits, maybe with -, + or spaces) before it reaches a log. */
export const maskPersonalNumbers = (text: string): string =>
  text.replace(
    /(?<!\d)(\d{2})?(\d{6})[ \t]*[-+]?[ \t]*(\d{4})(?!\d)/g,
    (_m, century: string | undefined, date: string) => `${century ?? ''}${date.slice(0, 2)}XXXX-XXXX`,
  );

/**
 * Percent-decodes as far as it goes, twice-encoded text included; a malformed sequence stays as it
 * is, so that nothing a client sends escapes the masking by being encoded.
 */
export const decodePercent = (text: string): string => {
  let current = text;
  for (let round = 0; round < 3; round++) {
    const next = current.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) =>
      Buffer.from(run.replaceAll('%', ''), 'hex').toString('utf8'),
    );
    if (next === current) break;
    current = next;
  }
  return current;
};

/** The routes that search for a person: their query strings and bodies are never logged, in any form. */
const SEARCH_ROUTES = [/^\/api\/admin\/persons\/?$/, /^\/api\/flows\/[^/]*\/search\/?$/];

/** What is logged in place of a search route's query string. */
export const SEARCH_NOT_LOGGED = '?[search not logged]';

/** Text for a log: personnummer masked in whatever encoding they came; unchanged when there is none. */
export const redactForLog = (text: string): string => {
  const decoded = decodePercent(text);
  const masked = maskPersonalNumbers(decoded);
  return masked === decoded ? text : masked;
};

/**
 * A request URL as the logs show it: a search route without its query string, any other URL with
 * its personnummer masked.
 */
export const loggedUrl = (url: string): string => {
  const mark = url.indexOf('?');
  const path = mark === -1 ? url : url.slice(0, mark);
  // The router decodes the path, so the route is recognised in its decoded form too.
  if (SEARCH_ROUTES.some((route) => route.test(decodePercent(path))))
    return `${redactForLog(path)}${mark === -1 ? '' : SEARCH_NOT_LOGGED}`;
  return redactForLog(url);
};
