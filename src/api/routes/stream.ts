/**
 * PUT /v1/stream/:name and PUT /:name (so `curl -T file http://host/` works): the request
 * body is streamed into S3 by services/stream.ts. Admission happens before a single body
 * byte is read: a full house answers 503 + Retry-After, a Content-Length over the limit
 * 413 — and for clients that send `Expect: 100-continue` (curl does for large bodies) the
 * answer goes out instead of the 100, so the body is never even sent.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { fail, type DropshipError } from '../../core/errors.js';
import { safeMimeType, sanitizeName } from '../../core/names.js';
import { checkTicket, maxFileSize } from '../../core/policy.js';
import { enforcePolicy, passwordHashOf } from '../services/create.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../core/passwords.js';
import { makeApiKeyCheck, makeUploaderCheck } from '../plugins/auth.js';
import type { StreamService } from '../services/stream.js';
import { COMMON_ERRORS, errorResponses, security } from '../schemas/responses.js';
import { examples } from '../schemas/examples.js';

const RETRY_AFTER_S = 5;

/**
 * Per-client limits, the minimum pace and the maximum duration are the service's
 * (services/stream.ts); this route only refuses what it can before the body moves.
 */
export default async function streamRoutes(app: FastifyInstance, opts: { stream: StreamService }) {
  const { stream } = opts;
  const config = app.config;
  const limit = Math.min(config.DROPSHIP_STREAM_MAX_SIZE, config.DROPSHIP_MAX_FILE_SIZE);
  const uploader = makeUploaderCheck(config);
  const apiKey = makeApiKeyCheck(config);
  const isStreamPut = (req: IncomingMessage) =>
    req.method === 'PUT' && (req.url?.startsWith('/v1/stream/') || /^\/[^/?]+(\?|$)/.test(req.url ?? ''));

  const declaredLength = (h: IncomingMessage['headers']): number | undefined => {
    const v = h['content-length'];
    return v === undefined ? undefined : Number(v);
  };

  // Refusals that must happen before the body moves (`max`: the uploader's key's limit, once known).
  function tooLarge(req: IncomingMessage, max = limit): DropshipError | undefined {
    const len = declaredLength(req.headers);
    if (len !== undefined && len > max) return fail('FILE_TOO_LARGE', `the body is larger than ${max} bytes`, { maxSize: max });
    return undefined;
  }

  // `Expect: 100-continue`: refuse instead of the 100 when the body could not be taken anyway
  // (too large — for the server or the uploader's key —, a type the key may not upload, or no
  // slot even counting starving streams). The per-client limit needs the
  // client's identity and is checked by the handler.
  app.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    // A configured key's own limits can be read from the headers too (an unknown key is the handler's 401).
    const key = isStreamPut(req) ? (apiKey(req) ?? undefined) : undefined;
    const policy = key && checkTicket(key, { type: req.headers['content-type'] });
    const no = isStreamPut(req)
      ? (tooLarge(req, maxFileSize(key, limit)) ??
        (policy && !policy.ok ? fail(policy.code, policy.message, policy.details) : undefined) ??
        (stream.full() ? fail('STREAM_SLOTS_FULL', 'all streaming upload slots are busy; retry shortly', {}, RETRY_AFTER_S) : undefined))
      : undefined;
    if (no) {
      res.writeHead(no.status, {
        'content-type': 'application/json; charset=utf-8',
        connection: 'close',
        ...(no.retryAfter ? { 'retry-after': String(no.retryAfter) } : {}),
      });
      res.end(JSON.stringify({ error: { code: no.code, message: no.message } }));
      return;
    }
    res.writeContinue();
    app.server.emit('request', req, res);
  });

  // The body is the upload: no parser may consume it.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));

  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const handler = async (req: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply) => {
    // Anything refused before reading leaves the body unread: close the connection after.
    reply.header('connection', 'close');
    const who = uploader(req);
    const name = sanitizeName(req.params.name);
    if (!name.ok) throw fail('NAME_INVALID', `name is not acceptable (${name.reason})`, { reason: name.reason });
    const no = tooLarge(req.raw, maxFileSize(who.key, limit));
    if (no) throw no;
    // The declared type is the Content-Type header (curl -T sends none: add -H 'content-type: …').
    const declared = req.headers['content-type'];
    enforcePolicy(who.key, { type: declared });
    // X-Password protects the drop (the schema checked its length); hashed before a slot is taken.
    const password = req.headers['x-password'];
    const passwordHash = await passwordHashOf(typeof password === 'string' ? password : undefined, 'headers/x-password');
    const slot = stream.acquire(who.id);
    try {
      const length = declaredLength(req.headers);
      const result = await stream.upload(req.raw, {
        name: name.name,
        type: safeMimeType(declared),
        ...(who.key && { key: who.key }),
        ...(passwordHash !== undefined && { passwordHash }),
        ...(length !== undefined ? { length } : {}),
        onIdle: () => req.log.info('streaming upload idle: cut'),
        slot,
      });
      const shareUrl = `${config.publicUrl}/d/${result.manifest.id}`;
      reply.removeHeader('connection');
      return reply
        .status(201)
        .header('content-type', 'text/plain; charset=utf-8')
        .header('location', shareUrl)
        .header('x-drop-id', result.manifest.id)
        .header('x-owner-token', result.ownerToken)
        // The one line that deletes it again (the body stays just the link: scripts read it).
        .header('x-delete-command', `curl -X DELETE -H 'X-Owner-Token: ${result.ownerToken}' ${config.publicUrl}/v1/drops/${result.manifest.id}`)
        .header('cache-control', 'no-store')
        .send(`${shareUrl}\n`);
    } finally {
      slot.release();
    }
  };

  const schema = (summary: string, operationId: string) => ({
    tags: ['stream'],
    summary,
    description: `Not JSON: the request body is the file, raw bytes of any content type (no parser reads it), with a Content-Length or chunked. At most ${limit} bytes. The answer comes only once S3 holds every byte; any failure rolls back (no partial object, no drop). Keep \`X-Owner-Token\` to delete the drop.`,
    operationId,
    security: security.uploader(config.DROPSHIP_PUBLIC_UPLOADS),
    params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 1024, description: 'The file name (URL-encoded)', examples: ['photo.jpg'] }) }),
    headers: Type.Object({
      'x-password': Type.Optional(
        Type.String({
          minLength: PASSWORD_MIN_LENGTH,
          maxLength: PASSWORD_MAX_LENGTH,
          description: 'Protects the drop with this password (4..256 characters): `curl -T f -H "X-Password: …"`.',
        }),
      ),
    }),
    response: {
      201: {
        description: 'The drop exists: its share URL as text (with a newline).',
        content: { 'text/plain': { schema: Type.String(), example: examples.shareUrlText } },
        headers: {
          location: { type: 'string', format: 'uri', description: 'The share URL.' },
          'x-drop-id': { type: 'string', description: 'The drop id.' },
          'x-owner-token': { type: 'string', description: 'The owner token (for DELETE /v1/drops/{id}); shown once.' },
          'x-delete-command': { type: 'string', description: 'The curl command that deletes this drop, filled in.' },
        },
      },
      ...errorResponses(
        ...COMMON_ERRORS,
        'NAME_INVALID',
        'PASSWORD_INVALID',
        'LENGTH_MISMATCH',
        'UNAUTHORIZED',
        'STREAM_IDLE_TIMEOUT',
        'STREAM_TOO_SLOW',
        'STREAM_TOO_LONG',
        'FILE_TOO_LARGE',
        'TYPE_NOT_ALLOWED',
        'TOO_MANY_STREAMS',
        'STREAM_SLOTS_FULL',
      ),
    },
  });
  /** The document's request body (docs only: the route's validation never sees a body schema). */
  const rawBody = {
    swaggerTransform: ({ schema, url }: { schema: object; url: string }) => ({
      schema: {
        ...schema,
        body: {
          content: { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream', description: 'The file\'s bytes.' } } },
        },
      },
      url,
    }),
  };
  // `streaming` exempts these routes from the whole-request deadline (plugins/timeouts.ts):
  // a large body legitimately takes long; the idle timeout guards them instead.
  const routeOpts = { bodyLimit: Number.MAX_SAFE_INTEGER, config: { streaming: true, ...rawBody } };
  r.put(
    '/v1/stream/:name',
    { ...routeOpts, schema: schema('Stream a file through the server into S3 (curl -T); answers with the share URL', 'streamUpload') },
    handler,
  );
  r.put('/:name', { ...routeOpts, schema: schema('Shortcut for `curl -T file http://host/`', 'streamUploadShortcut') }, handler);
}
