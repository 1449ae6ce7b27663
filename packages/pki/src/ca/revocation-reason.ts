// The X.509 library's dependency injection needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { X509CrlReason } from '@peculiar/x509';
import { PkiError } from '../pki-error.js';

/** RFC 5280 reason codes by name, as operators type them. */
export const REVOCATION_REASONS = {
  unspecified: X509CrlReason.unspecified,
  keyCompromise: X509CrlReason.keyCompromise,
  cACompromise: X509CrlReason.cACompromise,
  affiliationChanged: X509CrlReason.affiliationChanged,
  superseded: X509CrlReason.superseded,
  cessationOfOperation: X509CrlReason.cessationOfOperation,
  certificateHold: X509CrlReason.certificateHold,
  privilegeWithdrawn: X509CrlReason.privilegeWithdrawn,
  aACompromise: X509CrlReason.aACompromise,
} as const;

export type RevocationReason = keyof typeof REVOCATION_REASONS;

export const parseRevocationReason = (value: string): RevocationReason => {
  if (Object.hasOwn(REVOCATION_REASONS, value)) return value as RevocationReason;
  throw new PkiError('REVOCATION_REASON_INVALID', `unknown revocation reason ${value}`, {
    reason: value.slice(0, 40),
  });
};

export const reasonCode = (reason: string): X509CrlReason =>
  Object.hasOwn(REVOCATION_REASONS, reason)
    ? REVOCATION_REASONS[reason as RevocationReason]
    : X509CrlReason.unspecified;
