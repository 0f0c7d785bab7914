// The serving process the local provider spawns for `framework: onnx` (run as `node serve-onnx.js`).
// It speaks the SageMaker / Vertex custom-container contract on 127.0.0.1:
//   env  SM_MODEL_DIR, AIP_HTTP_PORT (required), AIP_HEALTH_ROUTE (/ping), AIP_PREDICT_ROUTE (/invocations)
//   GET  /ping and the health route      → 200 {"status":"healthy"}
//   POST /invocations and the predict route → 200 {"predictions": [...], "outputs": {...}}
// The model loads before the port opens, so an open port means ready. Measured with the example model,
// compiled: spawn → ready ~1 s (mostly onnxruntime-web's first session), RSS ~115 MB ready, ~130 MB idle
// after 200 requests.

import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isLoopbackHost, MISDIRECTED } from './loopback.js';
import { findOnnxModelFile, loadOnnxPredictor, PredictionInputError } from './onnx-predictor.js';
import type { OnnxPredictor } from './onnx-predictor.js';

export interface ServeRoutes {
  /** Answered in addition to GET /ping. */
  health: string;
  /** Answered in addition to POST /invocations. */
  predict: string;
}

export interface OnnxServerOptions {
  /** Receives one line per request (never a body). Default: stdout. */
  log?: (line: string) => void;
  /** Receives unexpected failures (answered with 500), with their stack. Default: stderr. */
  logError?: (text: string) => void;
  /** Larger request bodies get 413. Default 64 MiB. */
  maxBodyBytes?: number;
}

export const DEFAULT_ROUTES: ServeRoutes = { health: '/ping', predict: '/invocations' };
const DEFAULT_MAX_BODY = 64 * 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** An http.Server (not yet listening) that serves `predictor` under the container contract. */
export function createOnnxServer(predictor: OnnxPredictor, routes: ServeRoutes, options: OnnxServerOptions = {}): Server {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const logError = options.logError ?? ((text: string) => process.stderr.write(`${text}\n`));
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const healthPaths = new Set([DEFAULT_ROUTES.health, routes.health]);
  const predictPaths = new Set([DEFAULT_ROUTES.predict, routes.predict]);

  // After server.close(), answers carry Connection: close so keep-alive sockets of in-flight requests end too.
  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
    sendJson(res, status, body, server.listening ? headers : { ...headers, Connection: 'close' });

  const server = createServer((req, res) => {
    const started = performance.now();
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    res.on('finish', () => {
      const ms = (performance.now() - started).toFixed(1);
      log(`${new Date().toISOString()} ${req.method} ${path} ${res.statusCode} ${ms}ms`);
    });
    if (!isLoopbackHost(req.headers.host)) {
      send(res, MISDIRECTED.status, MISDIRECTED.body);
      return;
    }
    handle(req, res, path).catch((err: unknown) => {
      if (err instanceof HttpError) {
        send(res, err.status, { error: err.message }, err.headers);
        return;
      }
      logError(`serve-onnx: ${req.method} ${path} failed: ${err instanceof Error ? err.stack : String(err)}`);
      send(res, 500, { error: err instanceof Error ? err.message : String(err) });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (healthPaths.has(path)) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        throw new HttpError(405, `${req.method} is not allowed on ${path}; use GET`, { Allow: 'GET, HEAD' });
      }
      send(res, 200, { status: 'healthy' });
      return;
    }
    if (predictPaths.has(path)) {
      if (req.method !== 'POST') {
        throw new HttpError(405, `${req.method} is not allowed on ${path}; use POST`, { Allow: 'POST' });
      }
      checkContentType(req.headers['content-type']);
      const text = await readBody(req, maxBody);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (err) {
        throw new HttpError(400, `the request body is not valid JSON: ${(err as Error).message}`);
      }
      try {
        send(res, 200, await predictor.predict(body));
      } catch (err) {
        if (err instanceof PredictionInputError) throw new HttpError(400, err.message);
        throw err;
      }
      return;
    }
    throw new HttpError(404, `no route for ${req.method} ${path}; this server answers GET ${[...healthPaths].join(', ')} and POST ${[...predictPaths].join(', ')}`);
  }

  return server;
}

function checkContentType(header: string | undefined): void {
  // No header at all is taken as JSON (curl --data-binary without -H, SDKs that omit it); a different type is not.
  if (header === undefined) return;
  const type = header.split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'))) return;
  throw new HttpError(415, `content type "${header}" is not supported; send application/json`);
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const tooLarge = () => new HttpError(413, `the request body is larger than ${limit} bytes`, { Connection: 'close' });
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge());
  // Events rather than `for await`: leaving that loop early destroys the socket before the 413 is written.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    req.on('data', (chunk: Buffer) => {
      if (settled) return; // past the limit: discard; Connection: close ends the upload
      size += chunk.length;
      if (size > limit) {
        settled = true;
        chunks.length = 0;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', (err) => {
      if (settled) return;
      settled = true;
      reject(err);
    });
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Stop accepting, let in-flight requests finish (at most `graceMs`), then resolve. */
export function closeGracefully(server: Server, graceMs = 10_000): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}

function routesFromEnv(env: NodeJS.ProcessEnv): ServeRoutes {
  const route = (name: string, fallback: string): string => {
    const value = env[name] || fallback;
    if (!value.startsWith('/')) throw new Error(`${name} must start with "/"; got "${value}"`);
    return value;
  };
  return { health: route('AIP_HEALTH_ROUTE', DEFAULT_ROUTES.health), predict: route('AIP_PREDICT_ROUTE', DEFAULT_ROUTES.predict) };
}

function portFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = env.AIP_HTTP_PORT;
  if (!raw) throw new Error('AIP_HTTP_PORT is not set; it is the port to listen on');
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`AIP_HTTP_PORT must be a port number (0-65535); got "${raw}"`);
  }
  return port;
}

async function main(): Promise<void> {
  const fail = (message: string): never => {
    process.stderr.write(`serve-onnx: ${message}\n`);
    process.exit(1);
  };
  let port: number;
  let routes: ServeRoutes;
  try {
    port = portFromEnv(process.env);
    routes = routesFromEnv(process.env);
  } catch (err) {
    return fail((err as Error).message);
  }
  const modelDir = process.env.SM_MODEL_DIR;
  if (!modelDir) return fail('SM_MODEL_DIR is not set; it is the directory that holds the model');

  // Registered before the model loads: a stop during loading has nothing in flight and exits 0 at once.
  let running: { server: Server; predictor: OnnxPredictor } | undefined;
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    if (!running) process.exit(0);
    const { server, predictor } = running;
    process.stdout.write(`serve-onnx: ${signal}: finishing in-flight requests, then exiting\n`);
    void closeGracefully(server)
      .then(() => predictor.close())
      .then(
        () => process.exit(0),
        (err: unknown) => fail(`shutdown failed: ${(err as Error).message}`),
      );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  let modelFile: string;
  let predictor: OnnxPredictor;
  const loadStart = performance.now();
  try {
    modelFile = await findOnnxModelFile(modelDir);
    predictor = await loadOnnxPredictor(modelFile);
  } catch (err) {
    return fail(`cannot load the model: ${(err as Error).message}`);
  }
  const loadMs = (performance.now() - loadStart).toFixed(0);

  const server = createOnnxServer(predictor, routes);
  running = { server, predictor };
  server.on('error', (err: NodeJS.ErrnoException) => {
    fail(err.code === 'EADDRINUSE' ? `port ${port} on 127.0.0.1 is already in use` : `server error: ${err.message}`);
  });
  server.listen(port, '127.0.0.1', () => {
    const address = server.address();
    const bound = typeof address === 'object' && address ? address.port : port;
    process.stdout.write(
      `serve-onnx: ${modelFile} loaded in ${loadMs}ms (inputs: ${predictor.inputNames.join(', ')}; ` +
        `outputs: ${predictor.outputNames.join(', ')}); listening on http://127.0.0.1:${bound} ` +
        `(health ${routes.health}, predict ${routes.predict})\n`,
    );
  });
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntryPoint()) void main();
