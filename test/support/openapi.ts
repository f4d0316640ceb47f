/**
 * Holds real answers to the OpenAPI document: finds the operation of a request, and says what
 * of the answer the document does not promise — an undeclared status, another content type,
 * a JSON body its schema refuses, an error code whose catalogue status is not the HTTP status.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { ERRORS } from '../../src/core/errors.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

type Media = { schema?: object };
type Operation = { operationId: string; responses: Record<string, { content?: Record<string, Media>; headers?: Record<string, unknown> }> };
type Doc = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, object> } };
export interface Answer {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}

export function conformance(doc: Doc) {
  const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }));
  // OpenAPI keywords JSON Schema does not know.
  ajv.addKeyword('example');
  ajv.addSchema({ $id: 'doc', components: doc.components });
  const routes = Object.entries(doc.paths).map(([template, item]) => ({
    template,
    re: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
    item,
  }));
  // Concrete paths before templated ones (/v1/drops/{id}/parts before /{name}...).
  routes.sort((a, b) => a.template.split('{').length - b.template.split('{').length);

  function operation(method: string, url: string): Operation | undefined {
    const path = url.split('?')[0]!;
    for (const r of routes) {
      const op = r.item[method.toLowerCase()];
      if (op && r.re.test(path)) return op;
    }
    return undefined;
  }

  /** What the document does not promise about this answer (empty: it conforms). */
  function problems(method: string, url: string, res: Answer): string[] {
    const op = operation(method, url);
    const where = `${method} ${url} → ${res.statusCode}`;
    if (!op) return [`${where}: no operation in the document`];
    const declared = op.responses[String(res.statusCode)];
    if (!declared) return [`${where}: ${op.operationId} does not declare ${res.statusCode} (${res.body.slice(0, 200)})`];
    const type = String(res.headers['content-type'] ?? '').split(';')[0]!.trim();
    if (!declared.content) return res.body.length && type === 'application/json' ? [`${where}: a body where none is declared`] : [];
    const media = declared.content[type];
    if (!media) return [`${where}: content type ${type || '(none)'}, declared ${Object.keys(declared.content).join(', ')}`];
    if (type !== 'application/json' || !media.schema) return [];
    const body = JSON.parse(res.body) as { error?: { code?: string } };
    const schema = JSON.parse(JSON.stringify(media.schema).replaceAll('"#/components/', '"doc#/components/'));
    const out: string[] = [];
    if (body.error && declared.headers?.['retry-after'] && res.headers['retry-after'] === undefined) out.push(`${where}: no Retry-After`);
    if (!ajv.validate(schema, body)) out.push(`${where}: ${ajv.errorsText(ajv.errors)} in ${res.body.slice(0, 300)}`);
    const code = body.error?.code;
    if (code && code in ERRORS && ERRORS[code as keyof typeof ERRORS] !== res.statusCode) {
      out.push(`${where}: ${code} belongs to status ${ERRORS[code as keyof typeof ERRORS]}`);
    }
    return out;
  }
  return { operation, problems };
}
