import { defineConfig } from 'vitest/config';

const DOMAIN = 'packages/domain/src/**/*.test.ts';
/**
 * Test files that load SoftHSM2 in their own process. The library reads its configuration (the
 * token folder) once, at its first C_Initialize, so each of these needs a process of its own.
 */
const SOFTHSM = [
  '**/*pkcs11*.test.ts',
  'packages/server/src/cli/{cli,card-cli,card-cli-ca-token,station-cli}.test.ts',
  'packages/agent/src/station/station-token-key.test.ts',
  'e2e/relying-party.test.ts',
];

export default defineConfig({
  test: {
    // Integration tests start processes, databases and OpenSSL: give them room, but not forever.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two files at a time even on two cores: the browser and process tests spend much of their
    // time waiting on timers, windows and child processes.
    maxWorkers: 2,
    projects: [
      // The pure domain: `npm run test:unit` runs it alone with coverage, since V8's block coverage
      // slows every worker it is on by about a fifth and only the domain is measured.
      { extends: true, test: { name: 'domain', include: [DOMAIN] } },
      // Everything with I/O. A worker keeps the modules it loaded from one test file to the next:
      // every file imports the same server, PKI and store code, and loading it afresh for each file
      // took a sixth of the run. Files share nothing else: each starts and stops what it uses.
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['packages/*/src/**/*.test.ts', 'e2e/**/*.test.ts'],
          exclude: [DOMAIN, ...SOFTHSM, '**/node_modules/**'],
          isolate: false,
        },
      },
      { extends: true, test: { name: 'softhsm', include: SOFTHSM } },
    ],
    coverage: {
      provider: 'v8',
      include: ['packages/domain/src/**/*.ts'],
      exclude: ['**/*.test.ts', '**/test-support/**'],
      reporter: ['text-summary', 'text'],
      thresholds: {
        'packages/domain/src/**': { lines: 95, statements: 95, functions: 95, branches: 90 },
      },
    },
  },
});
