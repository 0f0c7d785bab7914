import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { exitOf, startCaptured, type Captured } from '../support/process.js';

// examples/local-custom/server.mjs started the way the local provider starts `framework: custom`:
// `node server.mjs` with the example folder as working directory and the contract's environment.
const example = fileURLToPath(new URL('../../examples/local-custom/', import.meta.url));

interface Reply {
  status: number;
  body: unknown;
}

function call(port: number, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as unknown) : undefined });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const json = { 'Content-Type': 'application/json' };

describe('examples/local-custom/server.mjs', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = undefined;
  });

  function start(env: Record<string, string>): Captured {
    const started = startCaptured(['server.mjs'], example, env);
    child = started.proc;
    return started;
  }


  // AIP_HTTP_PORT=0 and the port read back from the "listening on" line: no race for a free port.
  async function waitListening(proc: ChildProcess, output: { stdout: string; stderr: string }): Promise<number> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output.stdout);
      if (match) return Number(match[1]);
      if (proc.exitCode !== null) throw new Error(`server.mjs exited with ${proc.exitCode}: ${output.stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`server.mjs did not become ready: ${output.stdout} ${output.stderr}`);
  }

  it('serves request.json → expected.json under the contract and exits 0 on SIGTERM', async () => {
    const { proc, output } = start({
      SM_MODEL_DIR: join(example, 'model'),
      AIP_HTTP_PORT: '0',
      AIP_HEALTH_ROUTE: '/health',
      AIP_PREDICT_ROUTE: '/predict',
    });
    const port = await waitListening(proc, output);
    expect(await call(port, 'GET', '/health')).toEqual({ status: 200, body: { status: 'healthy' } });
    expect(await call(port, 'GET', '/ping')).toEqual({ status: 200, body: { status: 'healthy' } });

    const request = await readFile(join(example, 'request.json'), 'utf8');
    const expected = JSON.parse(await readFile(join(example, 'expected.json'), 'utf8')) as unknown;
    expect(await call(port, 'POST', '/predict', request, json)).toEqual({ status: 200, body: expected });
    expect(await call(port, 'POST', '/invocations', request, json)).toEqual({ status: 200, body: expected });

    const wrongWidth = await call(port, 'POST', '/predict', '{"instances": [[1, 2]]}', json);
    expect(wrongWidth).toEqual({ status: 400, body: { error: 'instances[0] must be a list of 3 numbers' } });
    expect((await call(port, 'POST', '/predict', '{"instances": [', json)).status).toBe(400);
    expect((await call(port, 'POST', '/predict', request, { 'Content-Type': 'text/plain' })).status).toBe(415);
    expect((await call(port, 'GET', '/nope')).status).toBe(404);
    expect((await call(port, 'GET', '/predict')).status).toBe(405);

    proc.kill('SIGTERM');
    expect(await exitOf(proc), output.stderr).toBe(0);
    expect(output.stdout).toMatch(/POST \/predict 200 \d+ms/);
    expect(output.stderr).toBe('');
  });

  it('defaults to ./model, /ping and /invocations', async () => {
    const { proc, output } = start({ AIP_HTTP_PORT: '0' });
    const port = await waitListening(proc, output);
    expect((await call(port, 'GET', '/ping')).status).toBe(200);
    const request = await readFile(join(example, 'request.json'), 'utf8');
    expect((await call(port, 'POST', '/invocations', request, json)).status).toBe(200);
    proc.kill('SIGTERM');
    expect(await exitOf(proc)).toBe(0);
  });

  it('exits 1 with the reason when the model cannot load', async () => {
    const { proc, output } = start({ SM_MODEL_DIR: join(example, 'no-such-dir'), AIP_HTTP_PORT: '0' });
    expect(await exitOf(proc)).toBe(1);
    expect(output.stderr).toMatch(/cannot load .*weights\.json/);
  });
});
