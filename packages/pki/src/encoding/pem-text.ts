/**
 * PEM text as the product writes and serves it: ending with a newline. Without one,
 * `cat root.pem loa3.pem > chain.pem` glues an END line to the next BEGIN line, and OpenSSL
 * refuses the file (`bad end line`). The X.509 library's `toString('pem')` has none.
 */
export const pemText = (pem: string): string => (pem.endsWith('\n') ? pem : `${pem}\n`);

/** A certificate (or anything with the library's `toString('pem')`) as PEM text. */
export const pemOf = (object: { toString(format: 'pem'): string }): string => pemText(object.toString('pem'));

/**
 * DER bytes as PEM text, line for line what the library's `toString('pem')` gives (64 characters a
 * line), newline-terminated, with Node's base64: the library's own encoder is slow.
 */
export const pemOfDer = (label: string, der: ArrayBuffer | Uint8Array): string => {
  const base64 = Buffer.from(der as ArrayBuffer).toString('base64');
  const lines = [`-----BEGIN ${label}-----`];
  for (let i = 0; i < base64.length; i += 64) lines.push(base64.slice(i, i + 64));
  lines.push(`-----END ${label}-----`, '');
  return lines.join('\n');
};
