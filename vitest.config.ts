import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'e2e/**/*.test.ts'],
    // Integration tests start processes, databases and OpenSSL: give them room, but not forever.
    testTimeout: 60_000,
    // Two files at a time even on two cores: the browser and process tests spend most of their
    // time waiting on timers, windows and child processes, not on the CPU.
    maxWorkers: 2,
    hookTimeout: 60_000,
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
