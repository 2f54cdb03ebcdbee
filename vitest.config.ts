import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{io,core,sim,real,scenarios}/**/*.test.ts'],
    // Checksums as the CLI computes them (native from 200 bytes up, where the binary loads).
    setupFiles: ['real/native_crc32c.ts'],
    // Property tests and simulated runs are CPU-bound; two cores, two forks.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
