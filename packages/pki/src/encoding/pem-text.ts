/**
 * PEM text as the product writes and serves it: ending with a newline. Without one,
 * `cat root.pem loa3.pem > chain.pem` glues an END line to the next BEGIN line, and OpenSSL
 * refuses the file (`bad end line`). The X.509 library's `toString('pem')` has none.
 */
export const pemText = (pem: string): string => (pem.endsWith('\n') ? pem : `${pem}\n`);

/** A certificate (or anything with the library's `toString('pem')`) as PEM text. */
export const pemOf = (object: { toString(format: 'pem'): string }): string => pemText(object.toString('pem'));
