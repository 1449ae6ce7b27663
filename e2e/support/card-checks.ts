// What the browser tests check outside the browser: the card in reader 2 as the card agent reads it,
// and OpenSSL's verdict (chain and OCSP) on the certificates it holds.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import type { BrowserHarness } from './browser-harness.js';

const run = promisify(execFile);

export interface CardInReader {
  readonly cardNumber: string;
  readonly keys: { readonly auth: boolean; readonly sign: boolean };
  readonly certificates: readonly { readonly der: string }[];
}

export const pemOf = (der: string): string =>
  `-----BEGIN CERTIFICATE-----\n${der.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;

/** The card in reader 2 as the agent reads it (a session of its own, with the portal's origin). */
export const cardInReader2 = async (h: BrowserHarness): Promise<CardInReader> => {
  const agent = h.server.agentUrl ?? '';
  const headers = { origin: h.url };
  const { token } = (await (await fetch(`${agent}/v1/sessions`, { method: 'POST', headers })).json()) as {
    token: string;
  };
  const answer = await fetch(`${agent}/v1/readers/reader-2/card`, {
    headers: { ...headers, 'x-agent-session': token },
  });
  return (await answer.json()) as CardInReader;
};

export interface CertificateVerdict {
  /** OpenSSL's OCSP status through the server's responder. */
  readonly ocsp: 'good' | 'revoked' | 'unknown';
  /** `openssl verify` against the root with the LoA3 CA as intermediate. */
  readonly chainOk: boolean;
  /** The serial, lower-case hex without leading zeros. */
  readonly serial: string;
  /** The RFC 5280 reason OCSP gives for a revoked certificate, if it gives one. */
  readonly reason: string | null;
}

/** OpenSSL's verdict on each certificate on the card in reader 2; the responses must verify. */
export const judgeCardCertificates = async (
  h: BrowserHarness,
  card: string,
): Promise<readonly CertificateVerdict[]> => {
  const onCard = await cardInReader2(h);
  expect(onCard.cardNumber, JSON.stringify(onCard)).toBe(card);
  expect(onCard.certificates).toHaveLength(2);
  return judgeCertificates(
    h,
    onCard.certificates.map((c) => c.der),
  );
};

/** OpenSSL's verdict on certificates given as base64 DER (on a card or not); the responses must verify. */
export const judgeCertificates = async (
  h: BrowserHarness,
  ders: readonly string[],
): Promise<readonly CertificateVerdict[]> => {
  const dir = await mkdtemp(join(tmpdir(), 'reservkort-e2e-openssl-'));
  try {
    const caFile = async (name: string) => {
      const file = join(dir, `${name}.pem`);
      await writeFile(file, await (await fetch(`${h.server.url}/pki/ca/${name}.pem`)).text());
      return file;
    };
    const [root, loa3] = [await caFile('root'), await caFile('loa3')];
    const verdicts: CertificateVerdict[] = [];
    for (const [index, der] of ders.entries()) {
      const file = join(dir, `card-${index}.pem`);
      await writeFile(file, pemOf(der));
      const verify = await run('openssl', ['verify', '-CAfile', root, '-untrusted', loa3, file]).catch(
        (error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }),
      );
      const ocsp = await run('openssl', [
        'ocsp',
        '-url',
        `${h.server.url}/ocsp`,
        '-issuer',
        loa3,
        '-cert',
        file,
        '-CAfile',
        root,
        '-no_nonce',
      ]);
      const said = `${ocsp.stdout}${ocsp.stderr}`;
      expect(said).toContain('Response verify OK');
      const status = /: (good|revoked|unknown)/.exec(said)?.[1];
      if (status !== 'good' && status !== 'revoked' && status !== 'unknown') throw new Error(said);
      const serial = (await run('openssl', ['x509', '-in', file, '-noout', '-serial'])).stdout
        .trim()
        .replace('serial=', '')
        .toLowerCase()
        .replace(/^0+/, '');
      const reason = /Reason: (\w+)/.exec(said)?.[1] ?? null;
      verdicts.push({ ocsp: status, chainOk: verify.stdout.includes(': OK'), serial, reason });
    }
    return verdicts;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};
