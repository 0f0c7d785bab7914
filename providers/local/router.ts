/**
 * The local endpoint: a small reverse proxy on a stable port that sends every request to the
 * revision currently promoted. Blue/green happens here: a new revision is smoke-tested on its
 * own port, then the route flips atomically, and the old one is stopped only once the router
 * has no request in flight to it. Run as its own detached process (`node router.js`).
 */
import { request as httpRequest, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isLoopbackHost, MISDIRECTED } from './loopback.js';

export const ADMIN_PREFIX = '/_modeldeploy/';

interface Route {
  port: number;
  revision: string;
}

export function createRouter(token: string) {
  let route: Route | undefined;
  const inflight = new Map<number, number>();

  const authorised = (req: IncomingMessage) => {
    const given = Buffer.from(String(req.headers['x-modeldeploy-token'] ?? ''));
    const expected = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };

  const json = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const admin = async (req: IncomingMessage, res: ServerResponse) => {
    if (!authorised(req)) return json(res, 401, { error: 'bad or missing x-modeldeploy-token' });
    if (req.url === `${ADMIN_PREFIX}route` && req.method === 'GET') {
      return json(res, 200, { route: route ?? null, inflight: Object.fromEntries(inflight) });
    }
    if (req.url === `${ADMIN_PREFIX}route` && req.method === 'PUT') {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Partial<Route>;
        if (!Number.isInteger(body.port) || typeof body.revision !== 'string') throw new Error('need {port, revision}');
        route = { port: body.port as number, revision: body.revision };
        return json(res, 200, { route });
      } catch (error) {
        return json(res, 400, { error: (error as Error).message });
      }
    }
    return json(res, 404, { error: 'unknown admin call' });
  };

  const proxy = (req: IncomingMessage, res: ServerResponse) => {
    const target = route;
    if (!target) return json(res, 503, { error: 'no revision is serving yet' });
    inflight.set(target.port, (inflight.get(target.port) ?? 0) + 1);
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      const left = (inflight.get(target.port) ?? 1) - 1;
      if (left > 0) inflight.set(target.port, left);
      else inflight.delete(target.port);
    };
    // No keep-alive to upstreams: a pooled socket to a revision being stopped would be a
    // request lost; on loopback a fresh connection costs well under a millisecond.
    const upstream = httpRequest(
      { host: '127.0.0.1', port: target.port, method: req.method, path: req.url, headers: { ...req.headers, connection: 'close' }, agent: false },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, { ...upstreamRes.headers, 'x-modeldeploy-revision': target.revision });
        upstreamRes.pipe(res);
        upstreamRes.on('end', done);
        upstreamRes.on('error', done);
      },
    );
    upstream.on('error', (error) => {
      done();
      if (!res.headersSent) json(res, 502, { error: `revision ${target.revision} did not answer: ${error.message}` });
      else res.destroy();
    });
    res.on('close', done);
    req.pipe(upstream);
  };

  const server = createServer((req, res) => {
    if (!isLoopbackHost(req.headers.host)) return json(res, MISDIRECTED.status, MISDIRECTED.body);
    if (req.url?.startsWith(ADMIN_PREFIX)) {
      admin(req, res).catch(() => json(res, 500, { error: 'admin call failed' }));
      return;
    }
    proxy(req, res);
  });
  return server;
}

async function main(): Promise<void> {
  const token = process.env.MODELDEPLOY_ROUTER_TOKEN;
  if (!token) {
    process.stderr.write('MODELDEPLOY_ROUTER_TOKEN is not set\n');
    process.exit(2);
  }
  delete process.env.MODELDEPLOY_ROUTER_TOKEN;
  const server = createRouter(token);
  server.listen(Number(process.env.MODELDEPLOY_ROUTER_PORT ?? 0), '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    process.stdout.write(`${new Date().toISOString()} router listening on 127.0.0.1:${port}\n`);
    process.send?.({ port });
  });
  process.on('disconnect', () => undefined);
  const stop = () => {
    server.close(() => process.exit(0));
    // Clients' idle keep-alive sockets would hold close() open; in-flight requests still finish.
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  void main();
}
