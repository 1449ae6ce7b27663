// A relying party as its operator sets it up: Debian's nginx asking for a client certificate from
// the product's CA chain, checking revocation one way (OCSP for the card certificate, OCSP for the
// whole chain, or CRLs), and a client that logs in with the card's key on its token through PKCS#11
// (curl with OpenSSL's PKCS#11 engine), as a browser with the card's middleware would.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { SoftHsm } from '../../packages/pki/src/test-support/softhsm.js';
import { freePort, type Nginx, nginxPreamble, runNginx } from './nginx.js';

const run = promisify(execFile);

/** How the relying party checks revocation: nginx's `ssl_ocsp leaf`, `ssl_ocsp on`, or `ssl_crl`. */
export type RevocationCheck = 'ocsp-leaf' | 'ocsp-chain' | 'crl';
export const REVOCATION_CHECKS: readonly RevocationCheck[] = ['ocsp-leaf', 'ocsp-chain', 'crl'];

export interface RelyingPartyFiles {
  /** The server's own certificate and key (PEM), from any CA the client trusts. */
  readonly serverCertificate: string;
  readonly serverKey: string;
  /** The CA certificates a client certificate must chain to (PEM, concatenated as fetched). */
  readonly clientCas: string;
  /** For `crl`: the CRLs of every CA in the chain (PEM, concatenated). */
  readonly crls?: string;
}

const revocationDirectives = (check: RevocationCheck, files: RelyingPartyFiles): string => {
  switch (check) {
    case 'ocsp-leaf':
      return 'ssl_ocsp leaf;';
    case 'ocsp-chain':
      return 'ssl_ocsp on;';
    case 'crl':
      if (files.crls === undefined) throw new Error('ssl_crl needs the CRLs');
      return `ssl_crl ${files.crls};`;
  }
};

/**
 * TLS on loopback with client certificates required. No `resolver`: the OCSP URLs in the
 * certificates name an IP address. No `ssl_ocsp_cache`: each handshake asks the responder. The
 * answer names the certificate nginx accepted.
 */
export const relyingPartyConfig = (
  prefix: string,
  port: number,
  check: RevocationCheck,
  files: RelyingPartyFiles,
): string => `${nginxPreamble(prefix, 'info')}  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${files.serverCertificate};
    ssl_certificate_key ${files.serverKey};
    ssl_verify_client on;
    ssl_client_certificate ${files.clientCas};
    ssl_verify_depth 2;
    ${revocationDirectives(check, files)}
    location / {
      default_type text/plain;
      return 200 "$ssl_client_verify $ssl_client_s_dn\\n";
    }
  }
}
`;

export interface RelyingParty extends Nginx {
  readonly check: RevocationCheck;
}

const listening = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** nginx in `prefix` as a relying party that checks revocation the one way; resolves once it listens. */
export const startRelyingParty = async (
  prefix: string,
  check: RevocationCheck,
  files: RelyingPartyFiles,
): Promise<RelyingParty> => {
  const port = await freePort();
  const running = await runNginx(
    prefix,
    relyingPartyConfig(prefix, port, check, files),
    () => listening(port),
    `listen on 127.0.0.1:${port}`,
  );
  return { url: `https://127.0.0.1:${port}`, check, ...running };
};

/** PEM of a DER CRL, as nginx's ssl_crl wants it. */
export const crlPem = async (der: Uint8Array, dir: string, name: string): Promise<string> => {
  const file = join(dir, `${name}.crl.der`);
  await writeFile(file, der);
  return (await run('openssl', ['crl', '-inform', 'DER', '-in', file, '-outform', 'PEM'])).stdout;
};

/** The card's key for TLS: a private key object on a token, its PIN in a file, the certificate as PEM. */
export interface CardKey {
  readonly hsm: SoftHsm;
  /** The token label: the card number. */
  readonly token: string;
  /** The private key object's label. */
  readonly object: string;
  /** A file holding the PIN (mode 0600): the PIN goes into no command line and no log. */
  readonly pinFile: string;
  readonly certificate: string;
}

export interface Answer {
  /** The HTTP status, or 0 when no HTTP answer came (the handshake failed). */
  readonly status: number;
  readonly body: string;
  /** curl's own words on failure. */
  readonly said: string;
}

/**
 * GET `url` with curl, TLS client authentication with the card's key through OpenSSL's PKCS#11
 * engine (libp11) on SoftHSM2's module.
 */
export const getWithCardKey = async (url: string, serverCa: string, key: CardKey): Promise<Answer> => {
  const uri = `pkcs11:token=${encodeURIComponent(key.token)};object=${encodeURIComponent(key.object)};type=private?pin-source=file:${key.pinFile}`;
  const env = {
    ...process.env,
    SOFTHSM2_CONF: join(key.hsm.dir, 'softhsm2.conf'),
    PKCS11_MODULE_PATH: key.hsm.module,
  };
  const args = [
    '--silent',
    '--show-error',
    '--max-time',
    '20',
    '--cacert',
    serverCa,
    '--engine',
    'pkcs11',
    '--key-type',
    'ENG',
    '--key',
    uri,
    '--cert',
    key.certificate,
    '--write-out',
    '\n%{http_code}',
    url,
  ];
  try {
    const { stdout, stderr } = await run('curl', args, { env });
    const end = stdout.lastIndexOf('\n');
    const body = stdout.slice(0, end);
    // nginx's error pages: the title says it all.
    const title = /<title>([^<]*)<\/title>/.exec(body)?.[1];
    return { status: Number(stdout.slice(end + 1)), body: title ?? body, said: stderr };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; code?: number };
    return {
      status: 0,
      body: failed.stdout ?? '',
      said: `curl exited ${failed.code}: ${failed.stderr ?? ''}`,
    };
  }
};

/** The lines of nginx's error log that say why it refused a client certificate, or what went wrong. */
export const verifyErrors = async (party: RelyingParty): Promise<string[]> =>
  (await party.errorLog())
    .split('\n')
    .filter((line) => /client SSL certificate verify error|\[(warn|error|crit|alert|emerg)\]/.test(line))
    .map((line) => line.replace(/^\S+ \S+ /, ''));
