/** Object identifiers the card profile uses. */
export const OID = {
  /** The card number of the card the keys live on (PrintableString). */
  cardNumber: '1.2.752.34.2.1',
  /** Subject attributes. */
  serialNumber: '2.5.4.5',
  commonName: '2.5.4.3',
  givenName: '2.5.4.42',
  surname: '2.5.4.4',
  organisation: '2.5.4.10',
  organisationalUnit: '2.5.4.11',
  country: '2.5.4.6',
  /** Extended key usages. */
  clientAuth: '1.3.6.1.5.5.7.3.2',
  /** Microsoft smart-card logon (szOID_KP_SMARTCARD_LOGON), beside clientAuth when a UPN is present. */
  smartcardLogon: '1.3.6.1.4.1.311.20.2.2',
  /** Microsoft user principal name, a subjectAltName otherName (UTF8String). */
  userPrincipalName: '1.3.6.1.4.1.311.20.2.3',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
  /** id-kp-documentSigning (RFC 9336): the audit checkpoint signer signs notes, nothing else. */
  documentSigning: '1.3.6.1.5.5.7.3.36',
  /** id-pkix-ocsp-nocheck: the OCSP signer's own certificate is not checked for revocation. */
  ocspNoCheck: '1.3.6.1.5.5.7.48.1.5',
  ocspNonce: '1.3.6.1.5.5.7.48.1.2',
  ocspBasic: '1.3.6.1.5.5.7.48.1.1',
  anyPolicy: '2.5.29.32.0',
} as const;

/**
 * Default assurance-level policies. They sit under the ITU-T/ISO "example" arc (2.999), so no one
 * mistakes a demo certificate for a real one; production configures its own OIDs.
 */
export const DEFAULT_POLICY_OIDS = {
  LoA3: '2.999.752.1.3',
  LoA2: '2.999.752.1.2',
} as const;
