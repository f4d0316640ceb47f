/** Prints the configuration table for the README from the config schema (the one source). */
import { describeConfig } from '../src/config.js';

const fmt = (v: unknown) => (v === '' ? '(empty)' : `\`${String(v)}\``);
console.log('| variable | default | meaning |\n|---|---|---|');
for (const c of describeConfig()) console.log(`| \`${c.name}\` | ${fmt(c.default)} | ${c.description} |`);
