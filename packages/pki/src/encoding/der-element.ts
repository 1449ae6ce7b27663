/** Where a DER element's contents start and how long they are, from its header at `offset`. */
const header = (der: Uint8Array, offset: number): { start: number; length: number } => {
  const first = der[offset + 1];
  if (first === undefined) throw new RangeError('DER element cut short');
  if (first < 0x80) return { start: offset + 2, length: first };
  const octets = first & 0x7f;
  // Indefinite lengths are BER, not DER; more than four octets is no structure of ours.
  if (octets === 0 || octets > 4) throw new RangeError('DER length not definite');
  let length = 0;
  for (let i = 0; i < octets; i++) {
    const octet = der[offset + 2 + i];
    if (octet === undefined) throw new RangeError('DER element cut short');
    length = length * 256 + octet;
  }
  return { start: offset + 2 + octets, length };
};

/**
 * The signed part of a signed structure (a CSR's CertificationRequestInfo, a certificate's
 * TBSCertificate): the first element inside the outer SEQUENCE, as the bytes that were signed.
 */
export const signedPart = (der: Uint8Array): Uint8Array => {
  const outer = header(der, 0);
  const inner = header(der, outer.start);
  const end = inner.start + inner.length;
  if (end > outer.start + outer.length || end > der.length) throw new RangeError('DER element cut short');
  return der.subarray(outer.start, end);
};
