import { defineConfig } from 'vitest/config';

// Three projects: unit (pure logic, no I/O), integration (the real app against the
// emulator), e2e (headless Chromium through the SPA). One global setup starts the
// emulator once per run for the suites that need it. The projects run one after the
// other (groupOrder) and their files one at a time: they share one emulator and its
// queue, and a worker started by one file must not take another file's events.
export default defineConfig({
  test: {
    // Two files at once where a project allows it (the unit project): vitest's default on a
    // 2-core machine is one, which runs the unit project in ~55 s instead of ~30 s.
    maxWorkers: 2,
    // expect.poll waits for something a browser or a process does: vitest's default of 1 s is
    // a race on a loaded 2-core machine. A poll that succeeds returns at once, so this costs
    // nothing when all is well.
    expect: { poll: { timeout: 15_000 } },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          sequence: { groupOrder: 0 },
          // No unit test waits on a clock: a timeout here only catches a hang. The property
          // tests (1,000 generated inputs each) take ~1 s alone and several times that on a
          // loaded machine, past vitest's default of 5 s.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          sequence: { groupOrder: 1 },
          // build.ts: the CLI and process tests run the compiled code, dist/.
          globalSetup: ['test/setup/global.ts', 'test/setup/build.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          sequence: { groupOrder: 2 },
          globalSetup: ['test/setup/global.ts', 'test/setup/web.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      // `npm run test:stress` only: the long soak and attack runs.
      ...(process.env.DROPSHIP_STRESS === '1'
        ? [
            {
              test: {
                name: 'stress',
                include: ['test/stress/**/*.test.ts'],
                environment: 'node',
                globalSetup: ['test/setup/global.ts'],
                testTimeout: 600_000,
                hookTimeout: 120_000,
                fileParallelism: false,
                sequence: { groupOrder: 3 },
              },
            },
          ]
        : []),
    ],
  },
});
