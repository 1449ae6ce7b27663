// A real CA on a real store for tests, with OpenSSL as the independent judge.
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { createHash, webcrypto } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  BasicOCSPResponse,
  CertID,
  OCSPRequest,
  OCSPResponse,
  Request,
  TBSRequest,
} from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate } from '@peculiar/asn1-x509';
import { Pkcs10CertificateRequestGenerator, type X509Certificate } from '@peculiar/x509';
import type { CardNumber, Clock, HsaId } from '@reservkort/domain';
import type { Dialect } from '@reservkort/store';
import { createTestStore, type TestStore } from '../../../store/src/test-support/test-stores.js';
import { type CaSettings, CertificateAuthority, type IssueRequest } from '../ca/certificate-authority.js';
import { pemOf } from '../encoding/pem-text.js';
import { FileKeyStore } from '../keys/file-key-store.js';
import type { CaKeyStore, KeySpec } from '../keys/key-spec.js';

const run = promisify(execFile);
const crypto = webcrypto as unknown as Crypto;

export const realClock: Clock = { now: () => Date.now() };

export const HOLDER = {
  hsaId: 'SE2321000016-anna' as HsaId,
  givenName: 'Anna',
  surname: 'Andersson',
  organisation: 'Region Exempel',
};
export const CARD_NUMBER = '9752278900000000100' as CardNumber;

export interface TestCa {
  readonly store: TestStore;
  readonly ca: CertificateAuthority;
  readonly dir: string;
  /** root.pem, loa3.pem, loa2.pem written to `dir`. */
  readonly files: { readonly root: string; readonly loa3: string; readonly loa2: string };
  dispose(): Promise<void>;
}

export const writeText = async (dir: string, name: string, text: string | Uint8Array): Promise<string> => {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
};

export const createTestCa = async (
  dialect: Dialect,
  options: {
    keySpec?: KeySpec;
    keyStore?: (dir: string) => CaKeyStore;
    baseUrl?: string;
    clock?: Clock;
    cardKeyTypes?: CaSettings['cardKeyTypes'];
  } = {},
): Promise<TestCa> => {
  const store = await createTestStore(dialect);
  const dir = await mkdtemp(join(tmpdir(), 'reservkort-ca-'));
  const keyStore = options.keyStore?.(dir) ?? new FileKeyStore(join(dir, 'keys'), 'test passphrase');
  const ca = await CertificateAuthority.initialise(
    {
      db: store.db,
      keyStore,
      clock: options.clock ?? realClock,
      settings: {
        baseUrl: options.baseUrl ?? 'http://127.0.0.1:3000',
        ...(options.cardKeyTypes ? { cardKeyTypes: options.cardKeyTypes } : {}),
      },
    },
    options.keySpec ? { keySpec: options.keySpec } : {},
  );
  const files = {
    root: await writeText(dir, 'root.pem', pemOf(ca.ca('root').certificate)),
    loa3: await writeText(dir, 'loa3.pem', pemOf(ca.ca('loa3').certificate)),
    loa2: await writeText(dir, 'loa2.pem', pemOf(ca.ca('loa2').certificate)),
  };
  return {
    store,
    ca,
    dir,
    files,
    dispose: async () => {
      await ca.close();
      await store.dispose();
      await rm(dir, { recursive: true, force: true });
    },
  };
};

export type CsrKind = 'ecdsa-p256' | 'ecdsa-p384' | 'rsa-2048' | 'rsa-1024';

/** A CSR signed by a fresh key of the given kind, as a card would make one. */
export const makeCsr = async (kind: CsrKind = 'ecdsa-p256', subject = 'CN=ignored by the CA') => {
  const algorithm =
    kind === 'ecdsa-p256' || kind === 'ecdsa-p384'
      ? { name: 'ECDSA', namedCurve: kind === 'ecdsa-p384' ? 'P-384' : 'P-256', hash: 'SHA-256' }
      : {
          name: 'RSASSA-PKCS1-v1_5',
          modulusLength: kind === 'rsa-1024' ? 1024 : 2048,
          publicExponent: new Uint8Array([1, 0, 1]),
          hash: 'SHA-256',
        };
  const keys = (await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  const csr = await Pkcs10CertificateRequestGenerator.create(
    { name: subject, keys, signingAlgorithm: algorithm },
    crypto,
  );
  return { keys, pem: csr.toString('pem'), der: new Uint8Array(csr.rawData) };
};

export const issueRequest = (
  csr: string | Uint8Array,
  overrides: Partial<IssueRequest> = {},
): IssueRequest => {
  const now = Date.now();
  return {
    caId: 'loa3',
    profile: 'card-auth',
    csr,
    holder: HOLDER,
    cardNumber: CARD_NUMBER,
    validity: { notBefore: now, notAfter: now + 7 * 86_400_000 },
    orderId: 'order-1',
    actor: 'SE2321000016-adm2',
    ...overrides,
  };
};

/** Runs openssl; never throws, so a test can assert on a failing verification. */
export const openssl = async (args: readonly string[]): Promise<{ code: number; out: string }> => {
  try {
    const { stdout, stderr } = await run('openssl', [...args], { timeout: 20_000 });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof failed.code === 'number' ? failed.code : 1,
      out: `${failed.stdout ?? ''}${failed.stderr ?? ''}`,
    };
  }
};

/** A DER CRL as PEM, the form `openssl verify -CRLfile` reads. */
/** OpenSSL's own OCSP client asks `url` about one certificate, checking the answer against the root. */
export const opensslOcsp = (
  url: string,
  files: { readonly issuer: string; readonly root: string },
  certFile: string,
): Promise<{ code: number; out: string }> =>
  openssl([
    'ocsp',
    '-url',
    url,
    '-issuer',
    files.issuer,
    '-cert',
    certFile,
    '-CAfile',
    files.root,
    '-no_nonce',
  ]);

export const crlPem = (der: Uint8Array): string =>
  `-----BEGIN X509 CRL-----\n${Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')}\n-----END X509 CRL-----\n`;

/** An OCSP request (SHA-1 CertID, as OpenSSL and nginx send) about `serialHex` of `issuer`, DER. */
export const ocspRequestFor = (issuer: X509Certificate, serialHex: string): Uint8Array => {
  const parsed = AsnConvert.parse(issuer.rawData, Certificate);
  const sha1 = (data: ArrayBuffer) =>
    new Uint8Array(createHash('sha1').update(new Uint8Array(data)).digest());
  const certId = new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: '1.3.14.3.2.26', parameters: null }),
    issuerNameHash: new OctetString(sha1(AsnConvert.serialize(parsed.tbsCertificate.subject))),
    issuerKeyHash: new OctetString(sha1(parsed.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey)),
    serialNumber: new Uint8Array(Buffer.from(serialHex.length % 2 ? `0${serialHex}` : serialHex, 'hex'))
      .buffer,
  });
  const request = new OCSPRequest({
    tbsRequest: new TBSRequest({ requestList: [new Request({ reqCert: certId })] }),
  });
  return new Uint8Array(AsnConvert.serialize(request));
};

/** The basic response inside an OCSP answer (throws for an unsigned error status). */
export const basicResponseOf = (der: Uint8Array): BasicOCSPResponse => {
  const response = AsnConvert.parse(der, OCSPResponse);
  const bytes = response.responseBytes;
  if (bytes === undefined) throw new Error(`OCSP status ${response.responseStatus}, no response`);
  return AsnConvert.parse(bytes.response.buffer, BasicOCSPResponse);
};
