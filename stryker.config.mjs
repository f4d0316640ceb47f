// Mutation testing: `npm run test:mutation` (README "Mutation testing").
// Stryker mutates the pure domain and the api services and runs the vitest unit project
// against every mutant (vitest.stryker.config.ts: no emulator needed). A run fails when the
// score is below `thresholds.break`. Reports land in reports/mutation/ (git-ignored).
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.stryker.config.ts', related: true },
  mutate: ['src/core/**/*.ts', 'src/api/services/**/*.ts'],
  // Only the tests that cover a mutant run against it.
  coverageAnalysis: 'perTest',
  // The machines this runs on are small and shared; `--concurrency 2` on the command line if you can spare it.
  concurrency: 1,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  clearTextReporter: { allowColor: false },
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  // Reruns test only the mutants whose code or covering tests changed since the last run.
  incremental: true,
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  thresholds: { high: 95, low: 90, break: 90 },
  tempDirName: '.stryker-tmp',
  // The sandbox copy skips what the unit tests never read (and the emulator's virtualenv,
  // whose lib64 symlink the copy cannot follow).
  ignorePatterns: ['localstack/.venv', 'localstack/.data', '.tools', 'dist', 'bench/results', 'test/e2e/artifacts', 'src/web/dist'],
};
