// A self-signed server certificate for localhost, made by OpenSSL, for the HTTPS tests.
import { join } from 'node:path';
import { openssl } from '../../../pki/src/test-support/test-ca.js';

/** Writes `server.key` and `server.crt` (P-256, one day, CN and SAN localhost/127.0.0.1) into `dir`. */
export const writeSelfSignedCertificate = async (
  dir: string,
): Promise<{ key: string; certificate: string }> => {
  const key = join(dir, 'server.key');
  const certificate = join(dir, 'server.crt');
  const made = await openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    key,
    '-out',
    certificate,
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ]);
  if (made.code !== 0) throw new Error(made.out);
  return { key, certificate };
};
