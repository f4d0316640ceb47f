import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// Mutation testing (`npm run test:mutation`, stryker.config.json) runs the unit project only:
// it needs no emulator, and a mutant is run thousands of times. The project is taken from
// vitest.config.ts, so both always agree on what a unit test is.
const unit = base.test?.projects?.find(
  (p): p is { test: { name: string } } => typeof p === 'object' && 'test' in p && p.test?.name === 'unit',
);
if (!unit) throw new Error('vitest.config.ts has no "unit" project');

export default defineConfig({ test: { projects: [unit] } });
