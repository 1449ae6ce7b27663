// The station token's command-line options: the PIN from the environment or an owner-only file,
// never from the command line, and the combinations that cannot work refused before any token is opened.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATION_PIN_ENV, stationTokenConfig } from './station-token-options.js';

describe('station token options', () => {
  let dir: string;
  const token = { stationPkcs11Module: '/usr/lib/tpm2-pkcs11.so', stationToken: 'Kortstation' };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reservkort-station-pin-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('means the key file when no token is named', () => {
    expect(stationTokenConfig({}, {})).toBeNull();
  });

  it('takes the PIN from the environment', () => {
    expect(stationTokenConfig(token, { [STATION_PIN_ENV]: '2468' })).toEqual({
      module: token.stationPkcs11Module,
      tokenLabel: 'Kortstation',
      pin: '2468',
    });
  });

  it('takes the PIN from a file only its owner can read, before the environment', async () => {
    const file = join(dir, 'station-pin');
    await writeFile(file, '135790\n', { mode: 0o600 });
    expect(stationTokenConfig({ ...token, stationPinFile: file }, { [STATION_PIN_ENV]: 'other' })?.pin).toBe(
      '135790',
    );
    await chmod(file, 0o644);
    expect(() => stationTokenConfig({ ...token, stationPinFile: file }, {})).toThrow(
      expect.objectContaining({
        code: 'STATION_KEY_UNAVAILABLE',
        details: { reason: 'pin file open to others' },
      }),
    );
    expect(() => stationTokenConfig({ ...token, stationPinFile: join(dir, 'none') }, {})).toThrow(
      expect.objectContaining({ code: 'STATION_KEY_UNAVAILABLE', details: { reason: 'pin file missing' } }),
    );
  });

  it('refuses a token without a PIN, half a configuration, and the card module as the station module', () => {
    expect(() => stationTokenConfig(token, {})).toThrow(
      expect.objectContaining({ code: 'STATION_KEY_UNAVAILABLE', details: { reason: 'pin missing' } }),
    );
    expect(() => stationTokenConfig({ stationToken: 'Kortstation' }, {})).toThrow(/go together/);
    expect(() => stationTokenConfig({ stationPinFile: 'x' }, {})).toThrow(/needs --station-pkcs11-module/);
    expect(() =>
      stationTokenConfig(
        { ...token, pkcs11Module: token.stationPkcs11Module },
        { [STATION_PIN_ENV]: '2468' },
      ),
    ).toThrow(/module of its own/);
  });
});
