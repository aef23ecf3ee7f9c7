import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // `npm run coverage` (unit tests): a text summary on the terminal and an HTML report in coverage/.
    coverage: {
      provider: 'v8',
      include: ['runtime/**', 'connectors/**', 'transforms/**', 'cli/**'],
      reporter: ['text-summary', 'html'],
    },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Integration suites share one broker and databases on 2 cores: run files one at a time.
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
          globalSetup: ['test/integration/global-setup.ts'],
        },
      },
    ],
  },
});
