/** Masks what looks like a personnummer (10 or 12 digits, maybe with - or +) before it reaches a log. */
export const maskPersonalNumbers = (text: string): string =>
  text.replace(
    /(?<!\d)(\d{2})?(\d{6})[-+]?(\d{4})(?!\d)/g,
    (_m, century: string | undefined, date: string) => `${century ?? ''}${date.slice(0, 2)}XXXX-XXXX`,
  );
