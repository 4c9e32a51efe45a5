import { defineConfig } from 'vitest/config';

/**
 * The fast tier: pure functions on real samples. No root, no servers, no built CLI; runs in seconds
 * (`npm run test:unit`). `npm test` runs these too, with the real-server tier.
 */
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
  },
});
