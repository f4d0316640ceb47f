/**
 * The OpenAPI document the api serves (/openapi.json): lint-clean under redocly.yaml, complete
 * enough to integrate from alone, and the client's generated types (src/client/openapi.ts) and
 * wire types (src/client/wire-check.ts) in step with it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { lintFromString, loadConfig } from '@redocly/openapi-core';
import ts from 'typescript';
import { ERRORS } from '../../src/core/errors.js';
import { memoryApp } from '../support/memory-app.js';
import { CLIENT_TYPES, DOCUMENT_ENV, clientTypes, servedDocument, type OpenApiDocument } from '../../scripts/openapi.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

type Operation = {
  operationId?: string;
  tags?: string[];
  summary?: string;
  security?: Record<string, string[]>[];
  responses: Record<string, { description: string; content?: Record<string, { schema?: { $ref?: string } }> }>;
};
function operations(doc: OpenApiDocument): Array<[string, Operation]> {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([m]) => METHODS.includes(m))
      .map(([m, op]) => [`${m.toUpperCase()} ${path}`, op as Operation] as [string, Operation]),
  );
}

async function lint(doc: OpenApiDocument) {
  const config = await loadConfig({ configPath: `${root}redocly.yaml` });
  const problems = await lintFromString({ source: JSON.stringify(doc, null, 2), absoluteRef: `${root}openapi.json`, config });
  return problems.map((p) => ({ severity: p.severity, rule: p.ruleId, message: p.message, at: p.location[0]?.pointer ?? '' }));
}

/** The two redirect routes succeed with 302; redocly.yaml says why their warning stays. */
const EXPECTED_WARNINGS = [
  { rule: 'operation-2xx-response', at: '#/paths/~1d~1{id}~1download/get/responses' },
  { rule: 'operation-2xx-response', at: '#/paths/~1d~1{id}~1thumb~1{w}/get/responses' },
];

describe('the OpenAPI document', () => {
  let doc: OpenApiDocument;
  beforeAll(async () => {
    doc = await servedDocument();
  });

  it.each([
    ['the default configuration', DOCUMENT_ENV],
    ['public uploads and API keys', { ...DOCUMENT_ENV, DROPSHIP_PUBLIC_UPLOADS: 'true', DROPSHIP_API_KEYS: 'k1' }],
  ])('passes redocly lint (redocly.yaml) with no errors and only the known warnings: %s', async (_name, env) => {
    const problems = await lint(await servedDocument(env));
    expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(problems.filter((p) => p.severity !== 'error').map(({ rule, at }) => ({ rule, at }))).toEqual(EXPECTED_WARNINGS);
  });

  it('the lint fails on a broken document (the check is real)', async () => {
    const broken = structuredClone(doc);
    const op = broken.paths['/v1/drops']!.post as Operation;
    delete op.operationId;
    (op.responses['201']!.content!['application/json'] as { example?: unknown }).example = { id: 42 };
    const errors = (await lint(broken)).filter((p) => p.severity === 'error').map((p) => p.rule);
    expect(errors).toEqual(expect.arrayContaining(['operation-operationId', 'no-invalid-media-type-examples']));
  });

  it('every operation has an operationId, tags, a summary, its security and success and error responses', () => {
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThan(15);
    const ids = new Set<string>();
    for (const [name, op] of ops) {
      expect.soft(op.operationId, name).toMatch(/^[a-z][A-Za-z]+$/);
      ids.add(op.operationId!);
      expect.soft(op.tags?.length, name).toBeGreaterThan(0);
      expect.soft(op.summary, name).toBeTruthy();
      expect.soft(op.security, name).toBeDefined();
      const codes = Object.keys(op.responses);
      expect.soft(codes.some((c) => /^[23]/.test(c)), `${name}: a success`).toBe(true);
      expect.soft(codes, `${name}: 500`).toContain('500');
      for (const [code, res] of Object.entries(op.responses)) {
        expect.soft(res.description, `${name} ${code}`).not.toBe('Default Response');
        const json = res.content?.['application/json']?.schema;
        // Every JSON error answer is the shared Error component.
        if (/^[45]/.test(code) && json && name !== 'GET /readyz') expect.soft(json.$ref, `${name} ${code}`).toBe('#/components/schemas/Error');
      }
    }
    expect(ids.size).toBe(ops.length);
  });

  it('security is what the routes check: owner token to change, API key (or nobody, if allowed) to create, nothing to read', async () => {
    const sec = (d: OpenApiDocument, path: string, method: string) => (d.paths[path]![method] as Operation).security;
    expect(sec(doc, '/v1/drops', 'post')).toEqual([{ apiKey: [] }]);
    const open = await servedDocument({ ...DOCUMENT_ENV, DROPSHIP_PUBLIC_UPLOADS: 'true' });
    expect(sec(open, '/v1/drops', 'post')).toEqual([{ apiKey: [] }, {}]);
    expect(sec(open, '/v1/stream/{name}', 'put')).toEqual([{ apiKey: [] }, {}]);
    for (const [path, method] of [['/v1/drops/{id}/parts', 'post'], ['/v1/drops/{id}/parts', 'get'], ['/v1/drops/{id}/complete', 'post'], ['/v1/drops/{id}', 'delete']] as const) {
      expect(sec(doc, path, method), `${method} ${path}`).toEqual([{ ownerToken: [] }]);
    }
    expect(sec(doc, '/s3/multipart/{uploadId}/complete', 'post')).toEqual([{ ownerToken: [] }, { uppyOwnerCookie: [] }]);
    for (const [path, method] of [['/v1/drops/{id}', 'get'], ['/v1/drops/{id}/events', 'get'], ['/d/{id}/download', 'get'], ['/d/{id}', 'get']] as const) {
      expect(sec(doc, path, method), `${method} ${path}`).toEqual([]);
    }
  });

  it('is served at /openapi.json and, identical, at /docs/json (the Swagger UI at /docs reads it)', async () => {
    const t = await memoryApp();
    try {
      const a = await t.app.inject({ method: 'GET', url: '/openapi.json' });
      const b = await t.app.inject({ method: 'GET', url: '/docs/json' });
      expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
      expect(b.json()).toEqual(a.json());
      expect((await t.app.inject({ method: 'GET', url: '/docs' })).statusCode).toBeLessThan(400);
    } finally {
      await t.close();
    }
  });

  it('the Error component enumerates the whole catalogue', () => {
    const error = (doc.components as { schemas: Record<string, { properties: { error: { properties: { code: { enum: string[] } } } } }> }).schemas.Error!;
    expect(error.properties.error.properties.code.enum).toEqual(Object.keys(ERRORS));
  });

  it('each error response names only codes of its own status', () => {
    for (const [name, op] of operations(doc)) {
      for (const [status, res] of Object.entries(op.responses)) {
        for (const [, code] of res.description.matchAll(/`([A-Z_]{4,})`/g)) {
          if (code! in ERRORS) expect.soft(ERRORS[code as keyof typeof ERRORS], `${name} ${status} ${code}`).toBe(Number(status));
        }
      }
    }
  });

  it("'try it out' defaults are modest: no example asks for more than 1 GiB", () => {
    const sizes = [...JSON.stringify(doc).matchAll(/"size":(\d+)/g)].map((m) => Number(m[1]));
    expect(sizes.length).toBeGreaterThan(0);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1024 ** 3);
    const body = (doc.paths['/v1/drops']!.post as { requestBody: { content: Record<string, { examples: Record<string, { value: { size: number } }> }> } }).requestBody;
    expect(Object.values(body.content['application/json']!.examples).map((e) => e.value.size)).toEqual([1024 ** 3, 3 * 1024 ** 2]);
  });

  it('hides only what is not an API, and says so', () => {
    const paths = Object.keys(doc.paths);
    expect(paths).not.toContain('/');
    expect(paths).not.toContain('/metrics');
    expect(paths).not.toContain('/openapi.json');
    expect((doc.info as { description: string }).description).toMatch(/Not listed here: the upload\s+page/);
    expect(paths).toEqual(expect.arrayContaining(['/d/{id}', '/d/{id}/download', '/{name}', '/s3/params', '/s3/multipart']));
  });
});

describe('client types generated from the document', () => {
  it('src/client/openapi.ts is what `npm run openapi:types` makes of the served document', async () => {
    const fresh = await clientTypes(await servedDocument());
    const committed = readFileSync(CLIENT_TYPES, 'utf8');
    // On failure: a schema changed; run `npm run openapi:types` and commit the result.
    expect(committed === fresh, 'src/client/openapi.ts is out of date: run `npm run openapi:types`').toBe(true);
  });

  it('the SDK wire types match the generated ones (src/client/wire-check.ts type-checks)', () => {
    const file = `${root}src/client/wire-check.ts`;
    const read = ts.readConfigFile(`${root}tsconfig.json`, ts.sys.readFile);
    const { options } = ts.parseJsonConfigFileContent(read.config, ts.sys, root);
    const program = ts.createProgram([file], { ...options, noEmit: true });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(diagnostics).toEqual([]);
  }, 60_000);
});
