// OCSP throughput: our responder (keep-alive and Connection: close), OpenSSL's own responder, and a
// bare Node server answering the same requests with a fixed 1 KB body (the ceiling of any Node
// service on this machine), side by side on the same CA and certificates. Our keep-alive and bare
// Node's run in alternating rounds, and their ratio is the median of the rounds'
// (BENCH_OCSP_ROUNDS, BENCH_OCSP_ROUND_SECONDS).
// Also: issuance rate against raw ECDSA signing, for ECDSA P-256 card keys (the LoA3 CA) and
// RSA-2048 card keys (the LoA2 CA, set so for the bench).
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { createHash, createPrivateKey, generateKeyPairSync, sign, webcrypto } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CertID, OCSPRequest, Request, TBSRequest } from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate } from '@peculiar/asn1-x509';
import { Pkcs10CertificateRequestGenerator } from '@peculiar/x509';
import type { CardNumber, HsaId } from '@reservkort/domain';
import { listCas, listCertificates } from '@reservkort/store';
import { openCa, openDataStore } from '../packages/server/src/cli/ca-context.js';
import { dataFolder } from '../packages/server/src/config/data-folder.js';
import {
  type LoadResult,
  median,
  medianBy,
  ratio,
  requireTool,
  serverNodeArgs,
  startProcess,
  stopProcess,
  table,
  wrk,
} from './support.js';

const execute = promisify(execFile);
const BIN = new URL('../packages/server/bin/reservkort.js', import.meta.url).pathname;
const CERTIFICATES = Number(process.env.BENCH_CERTIFICATES ?? 2000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/** RSA-2048 card keys take long to make here (not what is measured), so fewer by default. */
const RSA_CERTIFICATES = Math.min(CERTIFICATES, Number(process.env.BENCH_RSA_CERTIFICATES ?? 200));
const CONNECTIONS = 16;
/** Alternating rounds of our keep-alive and bare Node's, and the seconds of each. */
const ROUNDS = Math.max(1, Number(process.env.BENCH_OCSP_ROUNDS ?? 5));
const ROUND_SECONDS = Number(process.env.BENCH_OCSP_ROUND_SECONDS ?? 4);
/** Extra node flags for our responder's process, e.g. `--cpu-prof --cpu-prof-dir=./prof`. */
const SERVER_NODE_ARGS = serverNodeArgs();
/** Certificates a second (CSR checked, signed, stored, audited) the CA should manage on SQLite. */
const ISSUANCE_GOAL = 500;
const crypto = webcrypto as unknown as Crypto;

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

const log = (text: string) => process.stderr.write(`${text}\n`);

/** A nonce-less OCSP request for one serial, as caches and most clients send it. */
const ocspRequest = (issuer: Certificate, serialHex: string): Uint8Array => {
  const sha1 = (data: ArrayBuffer) => createHash('sha1').update(new Uint8Array(data)).digest();
  const certId = new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: '1.3.14.3.2.26', parameters: null }),
    issuerNameHash: new OctetString(sha1(AsnConvert.serialize(issuer.tbsCertificate.subject))),
    issuerKeyHash: new OctetString(sha1(issuer.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey)),
    serialNumber: new Uint8Array(Buffer.from(serialHex.length % 2 ? `0${serialHex}` : serialHex, 'hex'))
      .buffer,
  });
  const request = new OCSPRequest({
    tbsRequest: new TBSRequest({ requestList: [new Request({ reqCert: certId })] }),
  });
  return new Uint8Array(AsnConvert.serialize(request));
};

/** A TCP gate that forwards a connection only after the client has sent something. */
const gateSource = (port: number, upstream: number): string => `
const net = require('node:net');
net.createServer((client) => {
  client.once('data', (first) => {
    const server = net.connect(${upstream}, '127.0.0.1', () => { server.write(first); client.pipe(server); server.pipe(client); });
    server.on('error', () => client.destroy());
    client.on('error', () => server.destroy());
  });
  client.on('error', () => client.destroy());
}).listen(${port}, '127.0.0.1', () => console.log('listening'));
`;

const luaString = (bytes: Uint8Array): string => `"${[...bytes].map((b) => `\\${b}`).join('')}"`;

/**
 * A wrk script sending the requests in random order, each formatted once per thread: formatting
 * a request per send costs wrk's Lua more CPU than the server's answer, on the cores they share.
 */
const luaScript = (bodies: readonly Uint8Array[], path: string, close: boolean): string => `
local bodies = { ${bodies.map(luaString).join(',\n')} }
local n = #bodies
local headers = { ["Content-Type"] = "application/ocsp-request"${close ? ', ["Connection"] = "close"' : ''} }
local formatted = {}
init = function(args)
  for i, body in ipairs(bodies) do formatted[i] = wrk.format("POST", "${path}", headers, body) end
  math.randomseed(os.time())
end
request = function()
  return formatted[math.random(n)]
end
`;

const opensslDate = (ms: number): string => {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCFullYear() % 100)}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}Z`;
};

export const run = async (): Promise<void> => {
  await requireTool('wrk', 'install it with apt-get install wrk');
  await requireTool('openssl', 'install it with apt-get install openssl');
  const dir = await mkdtemp(join(tmpdir(), 'reservkort-bench-'));
  const dataDir = join(dir, 'data');
  const env: NodeJS.ProcessEnv = { ...process.env, RESERVKORT_DATA: dataDir };
  delete env.DATABASE_URL;
  try {
    log('creating the CA (reservkort ca init), the LoA2 CA certifying RSA-2048 card keys…');
    await execute(process.execPath, [BIN, 'ca', 'init'], { env });
    await execute(process.execPath, [BIN, 'ca', 'card-key-type', 'rsa-2048', '--level', 'LoA2'], { env });
    const folder = dataFolder(dataDir);
    const store = await openDataStore(folder);
    const ca = await openCa(folder, store);

    log(`generating ${CERTIFICATES} card keys and CSRs…`);
    const csrs: string[] = [];
    for (let i = 0; i < CERTIFICATES; i++) {
      const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
        'sign',
        'verify',
      ])) as CryptoKeyPair;
      const csr = await Pkcs10CertificateRequestGenerator.create(
        { name: 'CN=card', keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } },
        crypto,
      );
      csrs.push(csr.toString('pem'));
    }

    log(`generating ${RSA_CERTIFICATES} RSA-2048 card keys and CSRs…`);
    const rsaAlgorithm = {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    };
    const rsaCsrs: string[] = [];
    for (let i = 0; i < RSA_CERTIFICATES; i++) {
      const keys = (await crypto.subtle.generateKey(rsaAlgorithm, false, [
        'sign',
        'verify',
      ])) as CryptoKeyPair;
      const csr = await Pkcs10CertificateRequestGenerator.create(
        { name: 'CN=card', keys, signingAlgorithm: rsaAlgorithm },
        crypto,
      );
      rsaCsrs.push(csr.toString('pem'));
    }

    const now = Date.now();
    /** Issues every CSR with the given CA (CSR checked, certificate signed and stored, audited); certificates/s. */
    const issueAll = async (caId: 'loa3' | 'loa2', requests: readonly string[], offset: number) => {
      const issuedSerials: string[] = [];
      const start = process.hrtime.bigint();
      for (const [i, csr] of requests.entries()) {
        const n = offset + i;
        const issued = await ca.issue({
          caId,
          profile: i % 2 === 0 ? 'card-auth' : 'card-sign',
          csr,
          holder: {
            hsaId: `SE2321000016-b${n}` as HsaId,
            givenName: 'Bench',
            surname: `Person${n}`,
            organisation: 'Bench',
            unit: 'Bench Unit',
            upn: `person${n}@bench.example`,
            email: `person${n}@bench.example`,
          },
          cardNumber: `9752278900${String(n).padStart(9, '0')}` as CardNumber,
          validity: { notBefore: now, notAfter: now + 14 * 86_400_000 },
          orderId: null,
          actor: 'bench',
        });
        issuedSerials.push(issued.serial);
      }
      return {
        serials: issuedSerials,
        perSecond: requests.length / (Number(process.hrtime.bigint() - start) / 1e9),
      };
    };
    log('issuing P-256 card certificates (CSR in, certificate stored)…');
    const ecIssued = await issueAll('loa3', csrs, 0);
    const serials = ecIssued.serials;
    const issuedPerSecond = ecIssued.perSecond;
    log('issuing RSA-2048 card certificates…');
    const rsaPerSecond = (await issueAll('loa2', rsaCsrs, CERTIFICATES)).perSecond;

    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const tbs = Buffer.alloc(600, 7);
    let signs = 0;
    const signStart = process.hrtime.bigint();
    while (Number(process.hrtime.bigint() - signStart) < 2e9) {
      sign('sha256', tbs, privateKey);
      signs++;
    }
    const signsPerSecond = signs / (Number(process.hrtime.bigint() - signStart) / 1e9);

    log('revoking one in ten…');
    for (const serial of serials.slice(0, Math.ceil(CERTIFICATES / 10)))
      await ca.revoke(serial, 'keyCompromise', 'bench');

    // OpenSSL's responder gets the same CA, signer and statuses.
    const cas = await listCas(store.db);
    const loa3Row = cas.find((c) => c.id === 'loa3');
    const signerRow = cas.find((c) => c.id === 'ocsp-loa3');
    if (!loa3Row || !signerRow) throw new Error('CA rows missing');
    const passphrase = (await readFile(join(folder.secrets, 'ca-passphrase'), 'utf8')).trim();
    const signerKeyPem = createPrivateKey({
      key: await readFile(join(folder.caKeys, signerRow.keyRef.split(':').slice(1).join(':')), 'utf8'),
      passphrase,
    }).export({ type: 'pkcs8', format: 'pem' });
    await writeFile(join(dir, 'loa3.pem'), loa3Row.certificatePem);
    await writeFile(join(dir, 'ocsp.pem'), signerRow.certificatePem);
    await writeFile(join(dir, 'ocsp.key'), signerKeyPem, { mode: 0o600 });
    const rows = await listCertificates(store.db, { caId: 'loa3', limit: CERTIFICATES + 100 });
    const index = rows
      .map((r) => {
        const serial = r.serial.toUpperCase().padStart(r.serial.length + (r.serial.length % 2), '0');
        const revoked = r.revocation ? `${opensslDate(r.revocation.revokedAt)},${r.revocation.reason}` : '';
        return `${r.revocation ? 'R' : 'V'}\t${opensslDate(r.notAfter)}\t${revoked}\t${serial}\tunknown\t/CN=x`;
      })
      .join('\n');
    await writeFile(join(dir, 'index.txt'), `${index}\n`);
    await writeFile(join(dir, 'index.txt.attr'), 'unique_subject = no\n');

    const issuer = AsnConvert.parse(
      Buffer.from(loa3Row.certificatePem.replace(/-----[^-]+-----|\s/g, ''), 'base64'),
      Certificate,
    );
    const bodies = serials.map((serial) => ocspRequest(issuer, serial));
    await writeFile(join(dir, 'ours.lua'), luaScript(bodies, '/ocsp', false));
    await writeFile(join(dir, 'ours-close.lua'), luaScript(bodies, '/ocsp', true));
    await writeFile(join(dir, 'openssl.lua'), luaScript(bodies, '/', true));
    await ca.close();
    await store.close();

    const results: Record<string, LoadResult> = {};
    const measure = async (name: string, url: string, script: string, seconds = SECONDS) => {
      log(`${name}: ${CONNECTIONS} connections, ${seconds} s…`);
      const result = await wrk(url, { connections: CONNECTIONS, seconds, script: join(dir, script) });
      results[name] = result;
      return result;
    };

    const oursPort = await freePort();
    const ours = await startProcess(
      process.execPath,
      [...SERVER_NODE_ARGS, BIN, 'pki', 'serve', '--port', String(oursPort)],
      /listening/,
      env,
    );
    const barePort = await freePort();
    const bare = await startProcess(
      process.execPath,
      [
        '-e',
        `const body = Buffer.alloc(1024, 97); require('node:http').createServer((q, s) => { s.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }); s.end(body); }).listen(${barePort}, '127.0.0.1', () => console.log('listening'));`,
      ],
      /listening/,
    );
    // Keep-alive against bare Node in alternating rounds, both servers up throughout: this
    // machine's speed drifts by half between minutes, which one long run of each reads as a ratio.
    const rounds: { ours: LoadResult; bare: LoadResult }[] = [];
    try {
      // Warm the cache once over every request, as a running responder would be.
      for (const body of bodies) {
        await fetch(`http://127.0.0.1:${oursPort}/ocsp`, {
          method: 'POST',
          headers: { 'content-type': 'application/ocsp-request' },
          body: body as unknown as BodyInit,
        });
      }
      for (let round = 1; round <= ROUNDS; round++) {
        const first = await measure(
          `reservkort keep-alive, round ${round}`,
          `http://127.0.0.1:${oursPort}/ocsp`,
          'ours.lua',
          ROUND_SECONDS,
        );
        // The same requests as ours, so that wrk does the same work for both.
        const second = await measure(
          `bare node http (1 KB), round ${round}`,
          `http://127.0.0.1:${barePort}/ocsp`,
          'ours.lua',
          ROUND_SECONDS,
        );
        rounds.push({ ours: first, bare: second });
      }
      await measure('reservkort Connection: close', `http://127.0.0.1:${oursPort}/ocsp`, 'ours-close.lua');
    } finally {
      await stopProcess(bare);
      await stopProcess(ours);
    }

    const opensslPort = await freePort();
    const gatePort = await freePort();
    // OpenSSL's responder serves one connection at a time and blocks for good on a connection that
    // closes without a request (wrk opens such connections at start and end). A gate in front only
    // connects to it once a request's first bytes have arrived; it is measured alone below, too.
    const responder = await startProcess(
      'openssl',
      [
        'ocsp',
        '-index',
        join(dir, 'index.txt'),
        '-port',
        String(opensslPort),
        '-rsigner',
        join(dir, 'ocsp.pem'),
        '-rkey',
        join(dir, 'ocsp.key'),
        '-CA',
        join(dir, 'loa3.pem'),
        '-nmin',
        '60',
        '-ignore_err',
      ],
      /waiting for OCSP client/i,
    );
    const gate = await startProcess(process.execPath, ['-e', gateSource(gatePort, opensslPort)], /listening/);
    try {
      await measure('openssl ocsp responder', `http://127.0.0.1:${gatePort}/`, 'openssl.lua');
    } finally {
      await stopProcess(gate);
      await stopProcess(responder);
    }

    const get = (name: string) =>
      results[name] ?? { rps: Number.NaN, p50ms: Number.NaN, p99ms: Number.NaN, errors: 0 };
    const keepAlive = medianBy(
      rounds.map((r) => r.ours),
      (r) => r.rps,
    );
    const ceiling = medianBy(
      rounds.map((r) => r.bare),
      (r) => r.rps,
    );
    const keepAliveRatio = median(rounds.map((r) => r.ours.rps / r.bare.rps));
    results[`reservkort keep-alive, median of ${ROUNDS}`] = keepAlive;
    results[`bare node http (1 KB), median of ${ROUNDS}`] = ceiling;
    const close = get('reservkort Connection: close');
    const openssl = get('openssl ocsp responder');
    process.stdout.write(
      `${table([
        ['server', 'responses/s', 'p50 ms', 'p99 ms', 'errors', 'vs openssl', 'vs bare node'],
        ...Object.entries(results).map(([name, r]) => [
          name,
          r.rps.toFixed(0),
          r.p50ms.toFixed(2),
          r.p99ms.toFixed(2),
          String(r.errors),
          ratio(r.rps, openssl.rps),
          ratio(r.rps, ceiling.rps),
        ]),
      ])}\n\n`,
    );
    process.stdout.write(
      `keep-alive ÷ bare Node, round by round: ${rounds.map((r) => ratio(r.ours.rps, r.bare.rps)).join(', ')}\n\n`,
    );
    const goal = (ok: boolean, text: string) =>
      process.stdout.write(`${ok ? 'met    ' : 'MISSED '} ${text}\n`);
    goal(keepAlive.rps >= 3 * openssl.rps, `keep-alive ≥ 3× OpenSSL (${ratio(keepAlive.rps, openssl.rps)})`);
    goal(
      keepAliveRatio >= 0.8,
      `keep-alive at ${CONNECTIONS} connections ≥ 0.8× bare Node (median of ${ROUNDS} rounds: ${keepAliveRatio.toFixed(3)}×)`,
    );
    goal(keepAlive.p99ms < 5, `keep-alive p99 < 5 ms (${keepAlive.p99ms.toFixed(2)} ms)`);
    goal(
      close.rps >= openssl.rps,
      `Connection: close not slower than OpenSSL (${ratio(close.rps, openssl.rps)})`,
    );
    process.stdout.write(
      `\nissuance: ${issuedPerSecond.toFixed(0)} certificates/s (CSR checked, certificate signed and stored, audited) vs raw ECDSA P-256 signing ${signsPerSecond.toFixed(0)}/s = ${ratio(issuedPerSecond, signsPerSecond)}\n`,
    );
    process.stdout.write(
      `${table([
        ['card key', 'certificates', 'issued/s', 'vs P-256'],
        ['ECDSA P-256', String(CERTIFICATES), issuedPerSecond.toFixed(0), '1.00×'],
        ['RSA-2048', String(RSA_CERTIFICATES), rsaPerSecond.toFixed(0), ratio(rsaPerSecond, issuedPerSecond)],
      ])}\n\n`,
    );
    goal(
      issuedPerSecond >= ISSUANCE_GOAL,
      `issuance on SQLite ≥ ${ISSUANCE_GOAL} certificates/s (${issuedPerSecond.toFixed(0)}/s)`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};
