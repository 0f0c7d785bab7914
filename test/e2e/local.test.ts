/**
 * The main job, end to end: the built CLI as a subprocess on the local provider, with a fresh
 * MODELDEPLOY_HOME per test, checking processes and stored files as a user would.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { filesUnder, isAlive, ROOT, runCli, tempHome } from '../support/cli.js';

let home: string;
let work: string;
const pids: number[] = [];

beforeEach(async () => {
  home = await tempHome();
  work = await mkdtemp(path.join(tmpdir(), 'md-work-'));
  await cp(path.join(ROOT, 'examples', 'local-onnx'), work, { recursive: true });
});

afterEach(async () => {
  // Whatever a failing test left running must not outlive it.
  await runCli(['down', '-f', path.join(work, 'deploy.yaml'), '--quiet'], { env: { MODELDEPLOY_HOME: home } }).catch(() => undefined);
  for (const pid of pids.splice(0)) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  await rm(home, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

const cli = (args: string[], extra: Parameters<typeof runCli>[1] = {}) =>
  runCli(args, { cwd: work, ...extra, env: { MODELDEPLOY_HOME: home, ...extra.env } });

async function servingPids(): Promise<number[]> {
  const files = await filesUnder(path.join(home, 'deployments'));
  const out: number[] = [];
  for (const f of files.filter((f) => f.endsWith('endpoint.json') || f.includes('revisions/'))) {
    const record = JSON.parse(await readFile(path.join(home, 'deployments', f), 'utf8')) as { pid: number };
    out.push(record.pid);
  }
  pids.push(...out);
  return out;
}

function closeTo(actual: unknown, expected: unknown, tolerance = 1e-5): void {
  if (typeof expected === 'number') {
    expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(tolerance);
  } else if (Array.isArray(expected)) {
    expect(actual).toHaveLength(expected.length);
    expected.forEach((e, i) => closeTo((actual as unknown[])[i], e, tolerance));
  } else if (expected && typeof expected === 'object') {
    for (const [k, v] of Object.entries(expected)) closeTo((actual as Record<string, unknown>)[k], v, tolerance);
  } else {
    expect(actual).toEqual(expected);
  }
}

describe('local provider, examples/local-onnx', () => {
  it('up → invoke → status → down → down', async () => {
    const upRun = await cli(['up', '--json']);
    expect(upRun.code, upRun.stderr).toBe(0);
    const upDoc = JSON.parse(upRun.stdout);
    expect(upDoc).toMatchObject({ ok: true, command: 'up', action: 'created', smoke: { passed: true, status: 200 } });
    expect(upRun.stderr).toContain('smoke test passed');
    const processes = await servingPids();
    expect(processes).toHaveLength(2); // the router and one revision
    expect(processes.every(isAlive)).toBe(true);

    const invoke = await cli(['invoke', '--file', 'request.json']);
    expect(invoke.code, invoke.stderr).toBe(0);
    closeTo(JSON.parse(invoke.stdout), JSON.parse(await readFile(path.join(work, 'expected.json'), 'utf8')));

    const status = await cli(['status', '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ ok: true, state: 'ready', revision: upDoc.revision, url: upDoc.url });

    const downRun = await cli(['down']);
    expect(downRun.code, downRun.stderr).toBe(0);
    expect(downRun.stdout).toContain('deleted 3 resource(s)');
    expect(processes.some(isAlive)).toBe(false);
    expect(await filesUnder(home)).toEqual([]);

    const again = await cli(['down', '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, nothingToDelete: true, deleted: [] });
    expect(again.stderr).toContain('nothing to delete');
  });

  it('a second up with nothing changed starts no process and stores nothing', async () => {
    expect((await cli(['up'])).code).toBe(0);
    const before = { pids: await servingPids(), files: await filesUnder(home) };
    const second = await cli(['up', '--json']);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ action: 'unchanged', artifact: { uploaded: false } });
    expect(second.stderr).toContain('nothing to do');
    expect(await servingPids()).toEqual(before.pids);
    expect(await filesUnder(home)).toEqual(before.files);
  });

  it('swaps revisions blue/green while a client invoking in a loop sees no failed request', async () => {
    expect((await cli(['up'])).code).toBe(0);
    const url = JSON.parse((await cli(['status', '--json'])).stdout).url as string;
    const body = await readFile(path.join(work, 'request.json'));
    const seen = new Map<string, number>();
    const failures: string[] = [];
    let stop = false;
    const client = (async () => {
      while (!stop) {
        try {
          const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          const text = await r.text();
          if (r.status !== 200) failures.push(`${r.status} ${text}`);
          const revision = r.headers.get('x-modeldeploy-revision') ?? '?';
          seen.set(revision, (seen.get(revision) ?? 0) + 1);
        } catch (error) {
          failures.push(String(error));
        }
      }
    })();
    // A changed model: one more file in the model folder is a new artifact, so a new revision.
    await writeFile(path.join(work, 'model', 'NOTES.txt'), 'v2\n');
    const second = await cli(['up', '--json']);
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await client;
    expect(second.code, second.stderr).toBe(0);
    const doc = JSON.parse(second.stdout);
    expect(doc.action).toBe('updated');
    expect(failures).toEqual([]);
    expect([...seen.keys()].sort()).toEqual([doc.previousRevision, doc.revision].sort());
    expect(doc.retired).toContain(doc.previousRevision);
    expect((await servingPids()).length).toBe(2); // router + the new revision only
  });

  it('a new revision that fails its smoke test exits 4 and leaves the previous one serving', async () => {
    const first = JSON.parse((await cli(['up', '--json'])).stdout);
    const yaml = await readFile(path.join(work, 'deploy.yaml'), 'utf8');
    await writeFile(path.join(work, 'deploy.yaml'), yaml.replace('body: {predictions: [0, 2]}', 'body: {predictions: [1, 1]}'));
    await writeFile(path.join(work, 'model', 'NOTES.txt'), 'v2\n');
    const second = await cli(['up', '--json']);
    expect(second.code).toBe(4);
    const doc = JSON.parse(second.stdout);
    expect(doc).toMatchObject({ ok: false, error: { code: 'SmokeTestFailed', kind: 'smoke' } });
    expect(doc.error.details.mismatches[0]).toContain('body.predictions[0]: expected 1, got 0');
    const status = JSON.parse((await cli(['status', '--json'])).stdout);
    expect(status).toMatchObject({ state: 'ready', revision: first.revision });
    expect(status.resources.filter((r: { type: string }) => r.type === 'local:revision')).toHaveLength(1);
    expect(status.resources.filter((r: { type: string }) => r.type === 'artifact')).toHaveLength(1);
  });

  it('a first deploy that fails its smoke test exits 4 and leaves nothing', async () => {
    const yaml = await readFile(path.join(work, 'deploy.yaml'), 'utf8');
    await writeFile(path.join(work, 'deploy.yaml'), yaml.replace('maxLatencyMs: 2000', 'maxLatencyMs: 2000\n  onFailure: rollback').replace('status: 200', 'status: 201'));
    const run = await cli(['up']);
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('status: expected 201, got 200');
    expect(run.stderr).toContain('rollback complete');
    expect(await filesUnder(home)).toEqual([]);
  });

  it('SIGINT during up exits 130 and leaves no process or stored artifact of that run', async () => {
    const marker = `slow-${Date.now()}`;
    await writeFile(
      path.join(work, 'slow-server.mjs'),
      `import http from 'node:http';\nsetTimeout(() => http.createServer((q, s) => s.end('{}')).listen(Number(process.env.AIP_HTTP_PORT), '127.0.0.1'), 60000);\n`,
    );
    await writeFile(
      path.join(work, 'deploy.yaml'),
      `name: slow\nmodel:\n  path: ./model\n  framework: custom\n  command: [node, slow-server.mjs, ${marker}]\ntimeouts: {deploy: 2m, startup: 90s}\n`,
    );
    let sent = false;
    const run = await cli(['up'], {
      onStderr: (text, child) => {
        if (!sent && text.includes('pending')) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(sent).toBe(true);
    expect(run.code).toBe(130);
    expect(run.stderr).toContain('rolling back');
    expect(await filesUnder(home)).toEqual([]);
    const { execFileSync } = await import('node:child_process');
    const left = (() => {
      try {
        return execFileSync('pgrep', ['-f', marker]).toString().trim();
      } catch {
        return '';
      }
    })();
    expect(left).toBe('');
  });
});

describe('local provider, examples/local-custom', () => {
  it('runs the user command with the container contract and tears it down', async () => {
    const dir = path.join(ROOT, 'examples', 'local-custom');
    await cp(dir, work, { recursive: true, force: true });
    const yaml = path.join(work, 'deploy.yaml');
    expect((await cli(['up', '-f', yaml])).code).toBe(0);
    const invoke = await cli(['invoke', '-f', yaml, '--file', path.join(work, 'request.json'), '--json']);
    expect(invoke.code, invoke.stderr).toBe(0);
    const doc = JSON.parse(invoke.stdout);
    expect(doc).toMatchObject({ ok: true, status: 200 });
    closeTo(JSON.parse(doc.body), JSON.parse(await readFile(path.join(work, 'expected.json'), 'utf8')));
    expect((await cli(['down', '-f', yaml])).code).toBe(0);
    expect(await filesUnder(home)).toEqual([]);
  });
});
