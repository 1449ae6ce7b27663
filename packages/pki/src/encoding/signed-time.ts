/**
 * A time as the CA signs it: whole seconds, the fraction dropped. RFC 5280 §4.1.2.5 profiles
 * GeneralizedTime without fractional seconds, and the ASN.1 encoder writes a fraction whenever the
 * date has milliseconds (`20261203192704.118Z`), which nginx and GnuTLS refuse in OCSP answers.
 * Every time in a certificate, CRL or OCSP answer goes through here, so a revocation has the same
 * second in the CRL and in OCSP.
 */
export const wholeSeconds = (ms: number): Date => new Date(Math.floor(ms / 1000) * 1000);
