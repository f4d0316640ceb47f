/**
 * One error handler for the whole api: catalogue errors keep their code and status,
 * schema failures become 400 with a sentence naming the field (src/core/validation-messages.ts:
 * the field's own code — SIZE_INVALID, NAME_INVALID, PART_NUMBER_INVALID — else VALIDATION_FAILED), Fastify's own 4xx keep
 * their status under a stable code, and everything else is logged and answered as a bare
 * 500 INTERNAL — never a stack, message or AWS detail.
 */
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { DropshipError, type ErrorCode } from '../../core/errors.js';
import { explainValidation } from '../../core/validation-messages.js';

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

const fastifyCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'VALIDATION_FAILED',
  FST_ERR_CTP_INVALID_JSON_BODY: 'VALIDATION_FAILED',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
};

/**
 * S3/SQS failing on their side (5xx, throttling) or not reachable at all: a 503 the client
 * may retry, not a 500. Client-side faults (a missing bucket) stay 500: they need an operator.
 */
function isStorageOutage(err: unknown): boolean {
  const e = err as { $fault?: string; $metadata?: { httpStatusCode?: number }; name?: string; code?: string; $retryable?: unknown };
  if (e.$fault === 'server' || (e.$metadata?.httpStatusCode ?? 0) >= 500) return true;
  if (e.name === 'TimeoutError' || e.name === 'ThrottlingException' || e.name === 'SlowDown') return true;
  return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND'].includes(e.code ?? '');
}

export interface ErrorsOptions {
  /**
   * An HTML page for an error answered to a browser on a browser route (the share page,
   * download and thumbnail redirects: `/d/…`; collection pages: `/c/…`); undefined keeps JSON.
   */
  renderHtml?: (e: { status: number; code: string; message: string }) => { html: string; csp: string };
}

/**
 * People follow links under /d/ and /c/ (and post the share page's unlock form there); a
 * browser asking there gets a page, programs keep JSON.
 */
function wantsPage(req: FastifyRequest): boolean {
  const form = req.method === 'POST' && String(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
  if (req.method !== 'GET' && req.method !== 'HEAD' && !form) return false;
  if (!req.url.startsWith('/d/') && !req.url.startsWith('/c/')) return false;
  const accept = req.headers.accept;
  return typeof accept === 'string' && /\btext\/html\b/i.test(accept);
}

export default fp(async function errors(app: FastifyInstance, opts: ErrorsOptions) {
  // Every error answer passes here once it is JSON: a browser on a browser route gets it as a page.
  app.addHook('onSend', async (req, reply, payload) => {
    if (!opts.renderHtml || reply.statusCode < 400 || typeof payload !== 'string' || !wantsPage(req)) return payload;
    const type = reply.getHeader('content-type');
    if (typeof type !== 'string' || !type.startsWith('application/json')) return payload;
    let body: ErrorBody | undefined;
    try {
      body = JSON.parse(payload) as ErrorBody;
    } catch {
      return payload;
    }
    if (!body?.error?.code) return payload;
    const page = opts.renderHtml({ status: reply.statusCode, code: body.error.code, message: body.error.message });
    reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', page.csp)
      .header('cache-control', 'no-store')
      .header('vary', 'accept');
    return page.html;
  });

  app.setErrorHandler((err: FastifyError | DropshipError, req, reply) => {
    if (err instanceof DropshipError) {
      if (err.retryAfter !== undefined) reply.header('retry-after', String(err.retryAfter));
      if (err.status >= 500) req.log.warn({ code: err.code }, err.message);
      return reply.status(err.status).send({
        error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) },
      } satisfies ErrorBody);
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      // In words, with the field's own code where it has one (size → SIZE_INVALID, …).
      const v = fe.validation[0];
      const e = explainValidation({
        context: fe.validationContext ?? 'request',
        path: v?.instancePath ?? '',
        keyword: v?.keyword ?? '',
        params: (v?.params ?? {}) as Record<string, unknown>,
        ...(v?.message !== undefined ? { message: v.message } : {}),
      });
      return reply.status(400).send({
        error: { code: e.code, message: e.message, details: { field: e.field, ...(v?.params ? { rule: v.params } : {}) } },
      } satisfies ErrorBody);
    }
    if (fe.statusCode === 429) {
      return reply.status(429).send({ error: { code: 'RATE_LIMITED', message: fe.message } } satisfies ErrorBody);
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      const code = (fe.code && fastifyCodes[fe.code]) || 'VALIDATION_FAILED';
      return reply.status(fe.statusCode).send({ error: { code, message: fe.message } } satisfies ErrorBody);
    }
    if (isStorageOutage(err)) {
      req.log.warn({ err }, 'storage unavailable');
      reply.header('retry-after', '5');
      return reply.status(503).send({
        error: { code: 'STORAGE_UNAVAILABLE', message: 'storage is unavailable; retry shortly' },
      } satisfies ErrorBody);
    }
    req.log.error({ err }, 'unhandled error');
    return reply.status(500).send({ error: { code: 'INTERNAL', message: 'internal error' } } satisfies ErrorBody);
  });

  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send({
      error: { code: 'ROUTE_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` },
    } satisfies ErrorBody),
  );
});
