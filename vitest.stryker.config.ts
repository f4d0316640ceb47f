import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// Mutation testing (`npm run test:mutation`, stryker.config.json) runs the unit project only:
// it needs no emulator, and a mutant is run thousands of times. The project is taken from
// vitest.config.ts, so both always agree on what a unit test is.
const unit = base.test?.projects?.find(
  (p): p is { test: { name: string } } => typeof p === 'object' && 'test' in p && p.test?.name === 'unit',
);
if (!unit) throw new Error('vitest.config.ts has no "unit" project');

// The OpenAPI checks compare generated artifacts (the served document, the client types made
// from it) with committed files: under Stryker's instrumented copy of the sources they cannot
// match byte for byte, and they judge the document, not the behaviour mutants change.
const OPENAPI_ARTIFACT_TESTS = ['test/unit/openapi.test.ts'];
const exclude = [...((unit.test as { exclude?: string[] }).exclude ?? ['**/node_modules/**']), ...OPENAPI_ARTIFACT_TESTS];

export default defineConfig({ test: { projects: [{ ...unit, test: { ...unit.test, exclude } }] } });
