import 'reflect-metadata';
import { createPrivateKey, createPublicKey, generateKeyPairSync, webcrypto } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Pkcs10CertificateRequestGenerator } from '@peculiar/x509';

const crypto = webcrypto as unknown as Crypto;
const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;

/** Where a card agent keeps its station identity, inside its data folder. */
export const stationFiles = (agentData: string) => {
  const folder = join(agentData, 'station');
  return { folder, key: join(folder, 'station-key.pem'), certificate: join(folder, 'station.pem') };
};

/**
 * The station key of an agent data folder (PKCS#8 PEM, 0600, in a 0700 folder), made when missing.
 * An existing key is kept: registering again renews the same station.
 */
export const ensureStationKey = async (agentData: string): Promise<{ pem: string; created: boolean }> => {
  const files = stationFiles(agentData);
  await mkdir(files.folder, { recursive: true, mode: 0o700 });
  await chmod(files.folder, 0o700);
  try {
    return { pem: await readFile(files.key, 'utf8'), created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  // 'wx': never overwrite a key another process made meanwhile.
  await writeFile(files.key, pem, { mode: 0o600, flag: 'wx' });
  return { pem, created: true };
};

/** A PKCS#10 request (DER) signed by the station key: proof that the registrant holds it. */
export const stationCsr = async (keyPem: string): Promise<Uint8Array> => {
  const key = createPrivateKey(keyPem);
  const pkcs8 = key.export({ format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  const keys = {
    privateKey: await crypto.subtle.importKey('pkcs8', pkcs8, EC_P256, false, ['sign']),
    publicKey: await crypto.subtle.importKey('spki', spki, EC_P256, true, ['verify']),
  };
  const csr = await Pkcs10CertificateRequestGenerator.create(
    { name: 'CN=card station', keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } },
    crypto,
  );
  return new Uint8Array(csr.rawData);
};
