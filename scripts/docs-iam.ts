// `npm run docs:iam`: writes the IAM section of docs/operations.md from deploy/permissions.ts
// (test/unit/deploy-permissions.test.ts fails while the committed section differs).
import { readFileSync, writeFileSync } from 'node:fs';
import { withIamSection } from '../deploy/permissions.js';

const path = new URL('../docs/operations.md', import.meta.url);
const before = readFileSync(path, 'utf8');
const after = withIamSection(before);
if (after !== before) writeFileSync(path, after);
console.error(after === before ? 'docs/operations.md: IAM section up to date' : 'docs/operations.md: IAM section written');
