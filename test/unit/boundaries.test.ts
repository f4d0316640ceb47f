/**
 * The layering of docs/architecture.md ("Layers and what may import what"), checked on the
 * source text: every .ts file under src/ is read, its import specifiers (`from '…'`,
 * `import('…')`, `import '…'`) are resolved, and each rule below lists the imports that
 * cross a boundary they must not, as `file:line imports 'specifier'`.
 *
 * Type-only imports count like any other: a type from src/aws in src/api still ties the api
 * to the AWS adapters. Also checked: nothing in docs/, src/ or README.md points at a design
 * document outside the repository — the design lives in docs/architecture.md.
 */
import { builtinModules } from 'node:module';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SKIP_DIRS = new Set(['node_modules', 'dist']);

function walk(dir: string, keep: (file: string) => boolean): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir)).sort()) {
    const rel = posix.join(dir, name);
    if (statSync(join(ROOT, rel)).isDirectory()) {
      if (!SKIP_DIRS.has(name) && !name.startsWith('.')) out.push(...walk(rel, keep));
    } else if (keep(rel)) out.push(rel);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Imports

interface Import {
  file: string;
  line: number;
  specifier: string;
  /** Repository path of a relative import (`.js` written for a `.ts` file mapped back), else undefined. */
  target?: string;
  /** Package name of a bare import ('@aws-sdk/client-s3', 'fastify', 'node:crypto'), else undefined. */
  pkg?: string;
  /** `import type …`: erased by the compiler, nothing of the target runs or ships. */
  typeOnly: boolean;
}

const SPECIFIER_PATTERNS = [
  /\bfrom\s*['"]([^'"\n]+)['"]/g, // import … from '…', export … from '…'
  /\bimport\s*\(\s*['"]([^'"\n]+)['"]\s*\)/g, // import('…')
  /^\s*import\s*['"]([^'"\n]+)['"]/gm, // import '…' (side effects only)
];

/** Comments blanked out (newlines kept, so line numbers stay right): a specifier in prose is no import. */
function withoutComments(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '))
    .replace(/^\s*\/\/.*$/gm, (c) => c.replace(/[^\n]/g, ' '));
}

function resolveTarget(file: string, specifier: string): string {
  const p = posix.normalize(posix.join(posix.dirname(file), specifier));
  return p.replace(/\.js$/, '.ts');
}

function packageOf(specifier: string): string {
  if (specifier.startsWith('node:')) return specifier;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function importsOf(file: string): Import[] {
  const text = withoutComments(readFileSync(join(ROOT, file), 'utf8'));
  const found: Import[] = [];
  for (const pattern of SPECIFIER_PATTERNS) {
    for (const m of text.matchAll(pattern)) {
      const specifier = m[1]!;
      const line = text.slice(0, m.index).split('\n').length;
      const relativeImport = specifier.startsWith('.') || specifier.startsWith('/');
      const statement = text.slice(Math.max(text.lastIndexOf('import', m.index), text.lastIndexOf('export', m.index)), m.index);
      found.push({
        file,
        line,
        specifier,
        typeOnly: /^import\s+type\b/.test(statement),
        ...(relativeImport ? { target: resolveTarget(file, specifier) } : { pkg: packageOf(specifier) }),
      });
    }
  }
  return found.sort((a, b) => a.line - b.line);
}

const SOURCES = walk('src', (f) => f.endsWith('.ts'));
const IMPORTS = SOURCES.flatMap(importsOf);

// ---------------------------------------------------------------------------------------
// Layers

/** The top folder of src/ a path belongs to ('core', 'api', …), 'config' for src/config.ts, undefined outside src/. */
function layerOf(path: string): string | undefined {
  if (path === 'src/config.ts') return 'config';
  const m = /^src\/([^/]+)\//.exec(path);
  return m?.[1];
}

const under = (path: string | undefined, folder: string) => path !== undefined && (path === folder || path.startsWith(`${folder}/`));

/** What each layer may import from src/ (besides itself). src/aws is further limited to the composition roots below. */
const ALLOWED_LAYERS: Record<string, string[]> = {
  core: ['core'],
  ports: ['core', 'ports'],
  aws: ['core', 'ports', 'config', 'aws'],
  memory: ['core', 'ports', 'memory'],
  redis: ['core', 'ports', 'config', 'redis'],
  api: ['core', 'ports', 'config', 'api', 'aws', 'memory', 'redis'],
  worker: ['core', 'ports', 'config', 'worker', 'aws'],
  client: ['client', 'core'],
  cli: ['cli', 'client'],
  web: ['web', 'client', 'core'],
  config: ['config'],
};

/**
 * The one exception: the client's wire types are derived from the api's TypeBox schemas
 * (src/client/types.ts), so the SDK cannot drift from the server. Only `import type` of
 * src/api/schemas/ — erased at compile time, nothing server-side reaches a bundle.
 */
const wireTypes = (i: Import) => i.typeOnly && under(i.file, 'src/client') && under(i.target, 'src/api/schemas');

/** The only files outside src/aws that may import it: they build the AWS adapters and hand them on as ports. */
const COMPOSITION_ROOTS = new Set(['src/api/server.ts', 'src/worker/main.ts', 'src/worker/lambda.ts']);

/** The only file outside them that chooses where the api's limits are counted: src/memory or src/redis. */
const LIMITS_ROOT = 'src/api/server.ts';

/** The Redis client library: only src/redis may import it (the api hands @fastify/rate-limit the client it made). */
const REDIS_PACKAGE = /^(ioredis|@ioredis\/.*)$/;

/**
 * AWS client libraries: only src/aws may import them. @aws-sdk/* and @smithy/* are the SDK;
 * @aws-crypto/* is its hashing; sqs-consumer drives an SQSClient it is handed.
 */
const AWS_PACKAGE = /^(@aws-sdk\/|@smithy\/|@aws-crypto\/|sqs-consumer$)/;

/** Third-party packages src/core may use. None today: core is plain TypeScript plus node: built-ins. */
const CORE_PACKAGES = new Set<string>([]);
/** Third-party packages src/ports may use (types included). None: ports are interfaces over src/core types. */
const PORTS_PACKAGES = new Set<string>([]);

const BUILTINS = new Set(builtinModules);
const isBuiltin = (pkg: string) => pkg.startsWith('node:') || BUILTINS.has(pkg);

const ROUTE = /^src\/api\/routes\/[^/]+\.ts$/;

interface Rule {
  name: string;
  broken(i: Import): boolean;
}

const RULES: Rule[] = [
  {
    name: '@aws-sdk/*, @smithy/* (and the other AWS client libraries) only in src/aws',
    broken: (i) => i.pkg !== undefined && AWS_PACKAGE.test(i.pkg) && !under(i.file, 'src/aws'),
  },
  {
    name: 'ioredis only in src/redis',
    broken: (i) => i.pkg !== undefined && REDIS_PACKAGE.test(i.pkg) && !under(i.file, 'src/redis'),
  },
  {
    name: 'only the api\'s composition root (src/api/server.ts) imports src/redis or src/memory from src/api',
    broken: (i) => under(i.file, 'src/api') && (under(i.target, 'src/redis') || under(i.target, 'src/memory')) && i.file !== LIMITS_ROOT,
  },
  {
    name: 'src/redis never imports src/api, src/worker, src/aws or src/memory',
    broken: (i) =>
      under(i.file, 'src/redis') && (under(i.target, 'src/api') || under(i.target, 'src/worker') || under(i.target, 'src/aws') || under(i.target, 'src/memory')),
  },
  {
    name: 'src/core imports nothing outside src/core (node: built-ins allowed)',
    broken: (i) =>
      under(i.file, 'src/core') &&
      (i.target !== undefined ? !under(i.target, 'src/core') : !isBuiltin(i.pkg!) && !CORE_PACKAGES.has(i.pkg!)),
  },
  {
    name: 'src/ports imports only src/core and src/ports (node: built-ins allowed)',
    broken: (i) =>
      under(i.file, 'src/ports') &&
      (i.target !== undefined
        ? !under(i.target, 'src/core') && !under(i.target, 'src/ports')
        : !isBuiltin(i.pkg!) && !PORTS_PACKAGES.has(i.pkg!)),
  },
  {
    name: 'src/worker never imports src/api',
    broken: (i) => under(i.file, 'src/worker') && under(i.target, 'src/api'),
  },
  {
    name: 'a route (src/api/routes/X.ts) never imports another route',
    broken: (i) => ROUTE.test(i.file) && i.target !== undefined && ROUTE.test(i.target) && i.target !== i.file,
  },
  {
    name: 'src/client imports nothing of src/ but src/client and src/core (never src/api, src/aws, src/worker, src/cli)',
    broken: (i) =>
      under(i.file, 'src/client') &&
      i.target !== undefined &&
      under(i.target, 'src') &&
      !under(i.target, 'src/client') &&
      !under(i.target, 'src/core') &&
      !wireTypes(i),
  },
  {
    name: 'src/memory never imports src/aws',
    broken: (i) => under(i.file, 'src/memory') && under(i.target, 'src/aws'),
  },
  {
    name: 'src/aws never imports src/api or src/worker',
    broken: (i) => under(i.file, 'src/aws') && (under(i.target, 'src/api') || under(i.target, 'src/worker')),
  },
  {
    name: 'only the composition roots (src/api/server.ts, src/worker/main.ts, src/worker/lambda.ts) and src/aws itself import src/aws',
    broken: (i) => under(i.target, 'src/aws') && !under(i.file, 'src/aws') && !COMPOSITION_ROOTS.has(i.file),
  },
  {
    name: 'each layer imports only the layers docs/architecture.md allows it',
    broken: (i) => {
      const from = layerOf(i.file);
      const to = i.target !== undefined ? layerOf(i.target) : undefined;
      if (from === undefined || to === undefined) return false;
      const allowed = ALLOWED_LAYERS[from];
      return allowed !== undefined && !allowed.includes(to) && !wireTypes(i);
    },
  },
];

const describeImport = (i: Import) => `${i.file}:${i.line} imports '${i.specifier}'${i.target ? ` (${i.target})` : ''}`;

describe('module boundaries (docs/architecture.md)', () => {
  it('finds the sources and their imports', () => {
    // Guards the checks below against passing because nothing was read.
    expect(SOURCES.length).toBeGreaterThan(50);
    expect(IMPORTS.length).toBeGreaterThan(200);
    expect(IMPORTS.some((i) => i.file === 'src/core/ids.ts' && i.pkg === 'node:crypto')).toBe(true);
    // A new top folder of src/ needs a line in ALLOWED_LAYERS (and in docs/architecture.md).
    const layers = [...new Set(SOURCES.map(layerOf))];
    expect(layers.filter((l) => l === undefined || !(l in ALLOWED_LAYERS))).toEqual([]);
  });

  it('ioredis is imported in src/redis and nowhere else in src/', () => {
    expect(IMPORTS.some((i) => i.file.startsWith('src/redis/') && i.pkg === 'ioredis')).toBe(true);
  });

  it('no file outside src/aws even names an AWS SDK package (git grep -l "@aws-sdk/\\|@smithy/" -- src)', () => {
    const naming = walk('src', (f) => !under(f, 'src/aws') && /\.(ts|md)$/.test(f)).filter((f) =>
      /@aws-sdk\/|@smithy\//.test(readFileSync(join(ROOT, f), 'utf8')),
    );
    expect(naming).toEqual([]);
  });

  it.each(RULES.map((r) => [r.name, r] as const))('%s', (_name, rule) => {
    const violations = IMPORTS.filter((i) => rule.broken(i)).map(describeImport);
    expect(violations, `${violations.length} import(s) break "${rule.name}":\n  ${violations.join('\n  ')}\n`).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------
// The design lives in the repository

describe('no references to a design document outside the repository', () => {
  const files = ['README.md', ...walk('docs', (f) => f.endsWith('.md')), ...walk('src', (f) => /\.(ts|md|html|css)$/.test(f))];
  // The design file's name in any case, and the bare upper-case word used as a reference
  // ("see DESIGN, …"). Spelt in pieces so this file does not mention it either.
  const NAME = 'DESIGN';
  const FILE_NAME = new RegExp(`${NAME}\\.md`, 'i');
  const WORD = new RegExp(`\\b${NAME}\\b`);

  it('reads README.md, docs/ and src/', () => {
    expect(files).toContain('README.md');
    expect(files).toContain('docs/architecture.md');
  });

  it('no file in docs/, src/ or README.md mentions the design file outside the repository', () => {
    const hits: string[] = [];
    for (const file of files) {
      const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
      lines.forEach((text, n) => {
        if (FILE_NAME.test(text) || WORD.test(text)) hits.push(`${file}:${n + 1}: ${text.trim().slice(0, 120)}`);
      });
    }
    expect(hits, `point these at docs/architecture.md or docs/api.md instead:\n  ${hits.join('\n  ')}\n`).toEqual([]);
  });
});
