import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'protocols/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // the prebuilt client (scripts/build-client.mjs), current before any test spawns it
    globalSetup: ['test/helpers/build-client.ts'],
  },
});
