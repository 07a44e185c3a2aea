import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: ['test/**/*.test.ts'],
    // One real Bluesky PDS for the run, started on first use (test/support/shared-pds.ts).
    globalSetup: ['test/support/pds-global-setup.ts'],
    setupFiles: ['test/support/load-yaml.ts'],
    // The real PDS and the bundled action run as child processes: give them room,
    // but never so much that a hang goes unnoticed.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // @actions/* are ESM-only and cache state at import; inline them so module resets work.
    server: { deps: { inline: [/@actions\//] } },
  },
});
