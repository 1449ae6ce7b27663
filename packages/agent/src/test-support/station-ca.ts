// A throwaway CA for tests that signs a station's CSR, and a check of statements with node:crypto
// against the certificate's key, independently of the agent's own code.
import 'reflect-metadata';
import { createPublicKey, verify, webcrypto } from 'node:crypto';
import {
  BasicConstraintsExtension,
  cryptoProvider,
  KeyUsageFlags,
  KeyUsagesExtension,
  Pkcs10CertificateRequest,
  X509Certificate,
  X509CertificateGenerator,
} from '@peculiar/x509';
import { parseStatementPayload, type SignedStatement, type StatementPayload } from '@reservkort/domain';

const crypto = webcrypto as unknown as Crypto;
cryptoProvider.set(crypto);
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface StationCa {
  /** Issues a certificate for the CSR (base64 DER), subject taken from it; PEM. */
  issue(csr: string, options?: { notAfter?: Date; subject?: string }): Promise<string>;
}

export const createStationCa = async (): Promise<StationCa> => {
  const keys = (await crypto.subtle.generateKey(ALGORITHM, false, ['sign', 'verify'])) as CryptoKeyPair;
  const root = await X509CertificateGenerator.createSelfSigned({
    name: 'CN=Test Station CA',
    keys,
    signingAlgorithm: ALGORITHM,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    extensions: [new BasicConstraintsExtension(true, 0, true)],
  });
  let serial = 1;
  return {
    issue: async (csr, options = {}) => {
      const request = new Pkcs10CertificateRequest(Buffer.from(csr, 'base64'));
      const certificate = await X509CertificateGenerator.create({
        serialNumber: (serial++).toString(16).padStart(2, '0'),
        subject: options.subject ?? request.subject,
        issuer: root.subject,
        publicKey: request.publicKey,
        signingKey: keys.privateKey,
        signingAlgorithm: ALGORITHM,
        notBefore: new Date(Date.now() - 60_000),
        notAfter: options.notAfter ?? new Date(Date.now() + 30 * 86_400_000),
        extensions: [new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true)],
      });
      return certificate.toString('pem');
    },
  };
};

/** Verifies a statement's signature with the certificate's public key and returns its payload. */
export const verifyStatement = (
  signed: SignedStatement,
  certificatePem: string,
): { valid: boolean; payload: StatementPayload } => {
  const certificate = new X509Certificate(certificatePem);
  const key = createPublicKey({
    key: Buffer.from(certificate.publicKey.rawData),
    format: 'der',
    type: 'spki',
  });
  const bytes = Buffer.from(signed.payload, 'base64url');
  const valid = verify(
    'sha256',
    bytes,
    { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(signed.signature, 'base64url'),
  );
  const parsed = parseStatementPayload(JSON.parse(bytes.toString('utf8')));
  if (!parsed.ok) throw new Error(`statement payload refused: ${JSON.stringify(parsed.error)}`);
  return { valid, payload: parsed.value };
};
