/**
 * Every command's --json: exactly one JSON document on stdout, on success and on failure, with
 * the exit codes of design §3. README documents these shapes.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, tempHome } from '../support/cli.js';

let home: string;
let work: string;
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli([...args, '--json'], { cwd: work, env: { MODELDEPLOY_HOME: home, ...env } });

function onlyJson(stdout: string): Record<string, unknown> {
  // One document, nothing else on stdout.
  return JSON.parse(stdout) as Record<string, unknown>;
}

beforeAll(async () => {
  home = await tempHome();
  work = await mkdtemp(path.join(tmpdir(), 'md-json-'));
  await cp(path.join(ROOT, 'examples', 'local-onnx'), work, { recursive: true });
  await writeFile(path.join(work, 'bad.yaml'), 'name: Bad_Name\nmodel: {path: ./model, framework: onnx}\n');
});
afterAll(async () => {
  await runCli(['down', '-q'], { cwd: work, env: { MODELDEPLOY_HOME: home } });
  await rm(home, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

describe('--json documents', () => {
  it('validate', async () => {
    const ok = await cli(['validate']);
    expect(ok.code).toBe(0);
    expect(onlyJson(ok.stdout)).toEqual({ ok: true, command: 'validate', file: 'deploy.yaml', name: 'iris-onnx', stage: 'default', provider: 'local', names: { endpoint: 'iris-onnx-default' } });
    const bad = await cli(['validate', '-f', 'bad.yaml']);
    expect(bad.code).toBe(2);
    const doc = onlyJson(bad.stdout) as { ok: boolean; error: { code: string; details: { issues: Array<Record<string, unknown>> } } };
    expect(doc.ok).toBe(false);
    expect(doc.error.code).toBe('ConfigInvalid');
    expect(doc.error.details.issues[0]).toMatchObject({ file: 'bad.yaml', line: 1, column: 7, path: 'name' });
  });

  it('plan, status, invoke before anything is deployed', async () => {
    const plan = onlyJson((await cli(['plan'])).stdout);
    expect(plan).toMatchObject({ ok: true, command: 'plan', action: 'create', offline: false, revision: expect.stringMatching(/^[0-9a-f]{8}$/) });
    const status = await cli(['status']);
    expect(status.code).toBe(0);
    expect(onlyJson(status.stdout)).toMatchObject({ ok: true, state: 'absent', resources: [] });
    const invoke = await cli(['invoke', '--data', '{"instances": [[1,2,3,4]]}']);
    expect(invoke.code).toBe(3);
    expect(onlyJson(invoke.stdout)).toMatchObject({ ok: false, error: { code: 'EndpointNotFound', kind: 'provider', hint: expect.any(String) } });
  });

  it('up, invoke, bench, list, plan again, down', async () => {
    const ghOutput = path.join(work, 'gh-output');
    const ghSummary = path.join(work, 'gh-summary.md');
    const up = await cli(['up'], { GITHUB_OUTPUT: ghOutput, GITHUB_STEP_SUMMARY: ghSummary });
    expect(up.code, up.stderr).toBe(0);
    const upDoc = onlyJson(up.stdout);
    expect(upDoc).toMatchObject({ ok: true, command: 'up', action: 'created', name: 'iris-onnx', stage: 'default', provider: 'local', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/invocations$/), artifact: { uploaded: true }, smoke: { passed: true }, timings: { total: expect.any(Number) } });
    expect(await readFile(ghOutput, 'utf8')).toContain(`revision=${String(upDoc.revision)}\n`);
    expect(await readFile(ghSummary, 'utf8')).toContain('| action | created |');

    const invoke = await cli(['invoke', '--file', 'request.json']);
    const invokeDoc = onlyJson(invoke.stdout) as { ok: boolean; status: number; body: string; latencyMs: number };
    expect(invokeDoc).toMatchObject({ ok: true, command: 'invoke', mode: 'single', status: 200, contentType: 'application/json' });
    expect(JSON.parse(invokeDoc.body).predictions).toEqual([0, 2]);

    const bad = await cli(['invoke', '--data', '{"instances": [[1,2,3]]}']);
    expect(bad.code).toBe(3);
    expect(onlyJson(bad.stdout)).toMatchObject({ ok: false, error: { code: 'InvokeFailed' }, result: { status: 400 } });

    const bench = onlyJson((await cli(['invoke', '--file', 'request.json', '--bench', '20', '--concurrency', '4'])).stdout);
    expect(bench).toMatchObject({ ok: true, mode: 'bench', requests: 20, concurrency: 4, errors: 0, statusCounts: { 200: 20 } });
    expect((bench.latencyMs as { p50: number; p99: number }).p50).toBeLessThanOrEqual((bench.latencyMs as { p99: number }).p99);

    const list = onlyJson((await cli(['list'])).stdout);
    expect(list).toMatchObject({ ok: true, provider: 'local', deployments: [{ name: 'iris-onnx', stage: 'default', state: 'ready', revision: upDoc.revision }] });
    const badList = await cli(['list', '--provider', 'awz']);
    expect(badList.code).toBe(2);
    expect(onlyJson(badList.stdout)).toMatchObject({ ok: false, error: { code: 'InvalidOption' } });

    expect(onlyJson((await cli(['plan'])).stdout)).toMatchObject({ action: 'unchanged', currentRevision: upDoc.revision });

    const down = await cli(['down']);
    expect(down.code).toBe(0);
    expect(onlyJson(down.stdout)).toMatchObject({ ok: true, command: 'down', nothingToDelete: false, kept: [] });
    expect((onlyJson(down.stdout).deleted as unknown[]).length).toBe(3);
  });

  it('up failure (smoke test), down failure (bad file), init success and failure, usage errors', async () => {
    const yaml = await readFile(path.join(work, 'deploy.yaml'), 'utf8');
    await writeFile(path.join(work, 'failing.yaml'), yaml.replace('name: iris-onnx', 'name: failing').replace('predictions: [0, 2]', 'predictions: [2, 0]'));
    const up = await cli(['up', '-f', 'failing.yaml']);
    expect(up.code).toBe(4);
    expect(onlyJson(up.stdout)).toMatchObject({ ok: false, error: { code: 'SmokeTestFailed', kind: 'smoke', details: { mismatches: expect.any(Array) } } });

    const down = await cli(['down', '-f', 'missing.yaml']);
    expect(down.code).toBe(2);
    expect(onlyJson(down.stdout)).toMatchObject({ ok: false, error: { code: 'ConfigNotFound', hint: expect.stringContaining('init') } });

    const init = await cli(['init', '-f', 'new.yaml', '--provider', 'local', '--framework', 'onnx']);
    expect(init.code, init.stderr).toBe(0);
    expect(onlyJson(init.stdout)).toMatchObject({ ok: true, command: 'init', provider: 'local', framework: 'onnx' });
    const again = await cli(['init', '-f', 'new.yaml', '--provider', 'local', '--framework', 'onnx']);
    expect(again.code).toBe(2);
    expect(onlyJson(again.stdout)).toMatchObject({ ok: false, error: { code: 'FileExists' } });

    const usage = await cli(['up', '--no-such-flag']);
    expect(usage.code).toBe(2);
    expect(onlyJson(usage.stdout)).toMatchObject({ ok: false, error: { kind: 'usage' } });
  });
});
