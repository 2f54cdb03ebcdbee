import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{io,core,sim,real,scenarios}/**/*.test.ts'],
    // Property tests and simulated runs are CPU-bound; two cores, two forks.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
