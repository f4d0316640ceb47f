/**
 * Uppy Companion (@uppy/companion) as its own process, for the signing comparison: the
 * express app from `companion.app(options)` — the documented way to mount it — with its S3
 * options pointed at the same emulator and bucket as dropship. Configured for speed, so the
 * comparison is against Companion at its best: no request logger (its standalone server adds
 * morgan), no session store, no Prometheus middleware. GET /healthz answers for the bench.
 *
 * Env: BENCH_PORT, AWS_ENDPOINT_URL, AWS_REGION, DROPSHIP_BUCKET.
 */
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import * as companion from '@uppy/companion';

const port = Number(process.env.BENCH_PORT ?? 3020);
// Companion insists on a writable download directory; the S3 routes never use it.
const filePath = mkdtempSync(join(tmpdir(), 'companion-bench-'));
process.once('exit', () => rmSync(filePath, { recursive: true, force: true }));
const { app } = companion.app({
  secret: randomUUID(),
  filePath,
  server: { host: `127.0.0.1:${port}`, protocol: 'http' },
  uploadUrls: [`http://127.0.0.1:${port}`],
  corsOrigins: true,
  metrics: false,
  s3: {
    key: 'test',
    secret: 'test',
    bucket: process.env.DROPSHIP_BUCKET,
    region: process.env.AWS_REGION ?? 'us-east-1',
    endpoint: process.env.AWS_ENDPOINT_URL,
    forcePathStyle: true,
    getKey: ({ filename }: { filename: string }) => `companion/${randomUUID()}-${filename}`,
  },
});

const server = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  app(req, res);
});
server.keepAliveTimeout = 72_000;
server.listen(port, '127.0.0.1', () => console.log(`companion listening on ${port}`));
const stop = () => server.close(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
