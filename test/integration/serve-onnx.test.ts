import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import type { Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadOnnxPredictor, PredictionInputError } from '../../providers/local/onnx-predictor.js';
import type { OnnxPredictor, PredictionResult } from '../../providers/local/onnx-predictor.js';
import { closeGracefully, createOnnxServer, DEFAULT_ROUTES } from '../../providers/local/serve-onnx.js';
import { exitOf, startCaptured, type Captured } from '../support/process.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const example = join(root, 'examples', 'local-onnx');

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

// node:http rather than fetch: fetch always sends a content type of its own choosing, and cannot
// send a Content-Length that is larger than the body it has.
function call(port: number, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? (JSON.parse(text) as unknown) : undefined });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const json = { 'Content-Type': 'application/json' };

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

describe('createOnnxServer with the example model, in-process', () => {
  let predictor: OnnxPredictor;
  let server: Server;
  let port: number;
  const lines: string[] = [];

  beforeAll(async () => {
    predictor = await loadOnnxPredictor(join(example, 'model', 'model.onnx'));
    server = createOnnxServer(predictor, { health: '/health', predict: '/predict' }, { log: (l) => lines.push(l), maxBodyBytes: 1024 });
    port = await listen(server);
  });
  afterAll(async () => {
    await closeGracefully(server);
    await predictor.close();
  });

  it('answers health on /ping and on the configured route', async () => {
    for (const path of ['/ping', '/health', '/ping?x=1']) {
      const r = await call(port, 'GET', path);
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ status: 'healthy' });
      expect(r.headers['content-type']).toBe('application/json');
    }
  });

  it('predicts on /invocations and on the configured route', async () => {
    const request = await readFile(join(example, 'request.json'), 'utf8');
    const expected = JSON.parse(await readFile(join(example, 'expected.json'), 'utf8')) as PredictionResult;
    for (const path of ['/invocations', '/predict']) {
      const r = await call(port, 'POST', path, request, json);
      expect(r.status).toBe(200);
      const body = r.body as PredictionResult;
      expect(body.predictions).toEqual(expected.predictions);
      expect(body.outputs.label).toEqual(expected.outputs.label);
    }
    // A charset parameter and a missing content type are both JSON.
    expect((await call(port, 'POST', '/invocations', request, { 'Content-Type': 'application/json; charset=utf-8' })).status).toBe(200);
    expect((await call(port, 'POST', '/invocations', request)).status).toBe(200);
  });

  it('answers 400 for a wrong request, with the reason', async () => {
    const wrongWidth = await call(port, 'POST', '/invocations', '{"instances": [[1, 2, 3]]}', json);
    expect(wrongWidth.status).toBe(400);
    expect(wrongWidth.body).toEqual({ error: "instances[0] has 3 values; the model's input 'input' takes 4" });
    const notJson = await call(port, 'POST', '/invocations', '{"instances": [[1, 2', json);
    expect(notJson.status).toBe(400);
    expect((notJson.body as { error: string }).error).toMatch(/not valid JSON/);
  });

  it('answers 415 for a body that is not JSON', async () => {
    const r = await call(port, 'POST', '/invocations', 'a=1', { 'Content-Type': 'application/x-www-form-urlencoded' });
    expect(r.status).toBe(415);
    expect((r.body as { error: string }).error).toMatch(/application\/json/);
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    expect((await call(port, 'GET', '/nope')).status).toBe(404);
    const getPredict = await call(port, 'GET', '/invocations');
    expect(getPredict.status).toBe(405);
    expect(getPredict.headers.allow).toBe('POST');
    const postPing = await call(port, 'POST', '/ping', '{}', json);
    expect(postPing.status).toBe(405);
    expect(postPing.headers.allow).toBe('GET, HEAD');
  });

  it('answers 413 above the body limit, declared or streamed', async () => {
    const big = `{"instances": [[${Array(400).fill('1.0').join(',')}]]}`; // > 1024 bytes
    const declared = await call(port, 'POST', '/invocations', big, json);
    expect(declared.status).toBe(413);
    // Chunked: no Content-Length, so the limit is found while reading.
    const streamed = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/invocations', headers: json }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write(big.slice(0, 600));
      setTimeout(() => req.end(big.slice(600)), 20);
    });
    expect(streamed).toBe(413);
  });

  it('logs one line per request with method, path, status and time, and no body', async () => {
    lines.length = 0;
    await call(port, 'POST', '/invocations', '{"instances": [[5.1, 3.5, 1.4, 0.2]]}', json);
    await call(port, 'GET', '/ping');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\S+ POST \/invocations 200 \d+\.\dms$/);
    expect(lines[1]).toMatch(/^\S+ GET \/ping 200 \d+\.\dms$/);
    // No body: neither the field name nor a row (the latency figure itself may read "5.1ms").
    expect(lines.join('\n')).not.toMatch(/instances|3\.5, 1\.4/);
  });
});

describe('createOnnxServer with a fake predictor', () => {
  let server: Server | undefined;
  afterEach(async () => {
    if (server?.listening) await closeGracefully(server, 100);
  });

  function fakePredictor(predict: (body: unknown) => Promise<PredictionResult>): OnnxPredictor {
    return { inputNames: ['x'], outputNames: ['y'], predict, close: async () => {} };
  }

  it('answers 500 with the message when inference fails for another reason, and logs the stack', async () => {
    const errors: string[] = [];
    server = createOnnxServer(
      fakePredictor(async () => {
        throw new Error('onnxruntime-web failed to run the model: boom');
      }),
      DEFAULT_ROUTES,
      { log: () => {}, logError: (text) => errors.push(text) },
    );
    const port = await listen(server);
    const r = await call(port, 'POST', '/invocations', '{"instances": [[1]]}', json);
    expect(r.status).toBe(500);
    expect(r.body).toEqual({ error: 'onnxruntime-web failed to run the model: boom' });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/POST \/invocations failed: Error: onnxruntime-web failed to run the model: boom\n\s+at /);
  });

  it('maps PredictionInputError from any predictor to 400', async () => {
    server = createOnnxServer(
      fakePredictor(async () => {
        throw new PredictionInputError('bad rows');
      }),
      DEFAULT_ROUTES,
      { log: () => {} },
    );
    const port = await listen(server);
    expect(await call(port, 'POST', '/invocations', '{}', json)).toMatchObject({ status: 400, body: { error: 'bad rows' } });
  });

  it('on close, stops accepting but lets an in-flight request finish', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    let started: () => void = () => {};
    const inFlight = new Promise<void>((r) => (started = r));
    server = createOnnxServer(
      fakePredictor(async () => {
        started();
        await gate;
        return { predictions: [1], outputs: { y: [1] } };
      }),
      DEFAULT_ROUTES,
      { log: () => {} },
    );
    const port = await listen(server);
    const pending = call(port, 'POST', '/invocations', '{"instances": [[1]]}', json);
    await inFlight;

    let closed = false;
    const closing = closeGracefully(server).then(() => (closed = true));
    await expect(call(port, 'GET', '/ping')).rejects.toThrow(/ECONNREFUSED/);
    expect(closed).toBe(false);

    release();
    const reply = await pending;
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ predictions: [1], outputs: { y: [1] } });
    expect(reply.headers.connection).toBe('close');
    await closing;
    expect(closed).toBe(true);
  });
});

describe('serve-onnx.ts as a process', () => {
  let child: ChildProcess | undefined;
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'serve-onnx-'));
  });
  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = undefined;
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  function start(env: Record<string, string>): Captured {
    const started = startCaptured(['--import', 'tsx', join(root, 'providers', 'local', 'serve-onnx.ts')], root, env);
    child = started.proc;
    return started;
  }


  // AIP_HTTP_PORT=0 and the port read back from the "listening on" line: no race for a free port with
  // other processes on the machine. The line is printed once the socket is bound, after the model loaded.
  async function waitListening(proc: ChildProcess, output: { stdout: string; stderr: string }, timeoutMs = 20_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output.stdout);
      if (match) return Number(match[1]);
      if (proc.exitCode !== null) throw new Error(`serve-onnx exited with ${proc.exitCode}: ${output.stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`serve-onnx did not become ready: ${output.stdout} ${output.stderr}`);
  }

  it('serves the example model under the contract and exits 0 on SIGTERM', async () => {
    const { proc, output } = start({
      SM_MODEL_DIR: join(example, 'model'),
      AIP_HTTP_PORT: '0',
      AIP_HEALTH_ROUTE: '/health',
      AIP_PREDICT_ROUTE: '/predict',
    });
    const port = await waitListening(proc, output);
    expect((await call(port, 'GET', '/ping')).body).toEqual({ status: 'healthy' });
    expect((await call(port, 'GET', '/health')).body).toEqual({ status: 'healthy' });

    const request = await readFile(join(example, 'request.json'), 'utf8');
    const expected = JSON.parse(await readFile(join(example, 'expected.json'), 'utf8')) as PredictionResult & {
      outputs: { probabilities: number[][] };
    };
    for (const path of ['/predict', '/invocations']) {
      const r = await call(port, 'POST', path, request, json);
      expect(r.status).toBe(200);
      const body = r.body as typeof expected;
      expect(body.predictions).toEqual(expected.predictions);
      expect(body.outputs.label).toEqual(expected.outputs.label);
      body.outputs.probabilities.flat().forEach((p, i) => {
        expect(Math.abs(p - (expected.outputs.probabilities.flat()[i] ?? NaN))).toBeLessThan(1e-5);
      });
    }
    expect((await call(port, 'POST', '/predict', '{"instances": []}', json)).status).toBe(400);
    expect((await call(port, 'POST', '/predict', request, { 'Content-Type': 'text/csv' })).status).toBe(415);
    expect((await call(port, 'GET', '/metrics')).status).toBe(404);

    proc.kill('SIGTERM');
    expect(await exitOf(proc), output.stderr).toBe(0);
    expect(output.stdout).toMatch(/POST \/predict 200 /);
    expect(output.stdout).not.toMatch(/instances|3\.5,\s?1\.4/); // request bodies are never logged
    expect(output.stderr).toBe('');
  });

  it('exits 1 with the reason when the model cannot load, without listening', async () => {
    const { proc, output } = start({ SM_MODEL_DIR: tmp, AIP_HTTP_PORT: '0' });
    expect(await exitOf(proc)).toBe(1);
    expect(output.stderr).toMatch(/cannot load the model: no \.onnx file in/);
    expect(output.stdout).not.toMatch(/listening/);
  });

  it('exits 1 when the port is taken', async () => {
    const holder = createNetServer();
    holder.listen(0, '127.0.0.1');
    await once(holder, 'listening');
    try {
      const { port } = holder.address() as AddressInfo;
      const { proc, output } = start({ SM_MODEL_DIR: join(example, 'model'), AIP_HTTP_PORT: String(port) });
      expect(await exitOf(proc)).toBe(1);
      expect(output.stderr).toMatch(new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
    } finally {
      holder.close();
    }
  });

  it('exits 1 when AIP_HTTP_PORT is missing', async () => {
    const { proc, output } = start({ SM_MODEL_DIR: join(example, 'model') });
    expect(await exitOf(proc)).toBe(1);
    expect(output.stderr).toMatch(/AIP_HTTP_PORT is not set/);
  });
});
