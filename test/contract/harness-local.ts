/**
 * The local provider's "emulator" is this machine: a MODELDEPLOY_HOME of its own, and a model
 * server (fixtures/local-server.mjs) that asks this harness, over HTTP, whether to start, whether it
 * is ready and what to answer — so readiness, failures and predictions are the test's to decide,
 * with no timer. The listing reads the home folder and the process table.
 */
import { readdir, readFile, readlink, rm, stat, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ownerOf } from '../../src/core/target.js';
import type { ContractHarness, DeployFixture, EmulatorCall, EmulatorResource, Invocation } from './harness.js';

const SERVER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'local-server.mjs');

type Answer = (revision: string) => { status: number; body: unknown };
const DEFAULT_ANSWER: Answer = () => ({ status: 200, body: { predictions: [0] } });

export function createHarness(): ContractHarness {
  let home = '';
  let server: Server | undefined;
  let controlUrl = '';
  let answer = DEFAULT_ANSWER;
  let invocations: Invocation[] = [];
  let throttling = false;
  let pings = 0;
  let failNext = false;
  let holding = false;
  const started = new Set<string>();
  const failed = new Set<string>();
  let snapshot = new Map<string, string>();
  let processesBefore = new Set<number>();
  const planted = new Set<string>();

  const handle = (url: URL): { status: number; body: unknown } => {
    const revision = url.searchParams.get('revision') ?? '';
    switch (url.pathname) {
      case '/start': {
        if (failNext && !started.has(revision)) {
          failNext = false;
          failed.add(revision);
        }
        started.add(revision);
        return { status: 200, body: failed.has(revision) ? { exit: 'weights.txt is not a model (injected by the test)' } : {} };
      }
      case '/ready': {
        if (holding) return { status: 200, body: { status: 503 } };
        if (throttling && pings++ % 2 === 0) return { status: 200, body: { status: 503 } };
        return { status: 200, body: { status: 200 } };
      }
      case '/answer': {
        invocations.push({ revision, via: url.searchParams.get('via') === 'revision' ? 'revision' : 'endpoint' });
        return { status: 200, body: answer(revision) };
      }
      default:
        return { status: 404, body: {} };
    }
  };

  const files = async (dir: string): Promise<Map<string, string>> => {
    const out = new Map<string, string>();
    const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (!e.isFile()) continue;
      const file = path.join(e.parentPath, e.name);
      const info = await stat(file).catch(() => undefined);
      if (info) out.set(path.relative(home, file), `${info.size}:${info.mtimeMs}`);
    }
    return out;
  };

  /** The router and serving processes of this home: routers run in it, servers ask our control URL. */
  const processes = async (): Promise<Map<number, string>> => {
    const out = new Map<number, string>();
    for (const entry of await readdir('/proc')) {
      const pid = Number(entry);
      if (!Number.isInteger(pid) || pid === process.pid) continue;
      const [environ, cwd, stat] = await Promise.all([
        readFile(`/proc/${pid}/environ`, 'utf8').catch(() => ''),
        readlink(`/proc/${pid}/cwd`).catch(() => ''),
        readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ''),
      ]);
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (environ.includes(`CONTROL_URL=${controlUrl}\0`)) out.set(pid, `server ${/MODELDEPLOY_REVISION=([0-9a-f]+)/.exec(environ)?.[1] ?? '?'}`);
      else if (cwd === home && environ.includes('MODELDEPLOY_ROUTER_TOKEN=')) out.set(pid, 'router');
    }
    return out;
  };

  const killAll = async () => {
    for (const pid of (await processes()).keys()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  };

  return {
    id: 'local',
    async start() {
      home = await mkdtemp(path.join(tmpdir(), 'md-contract-local-'));
      server = createServer((req, res) => {
        const { status, body } = handle(new URL(req.url ?? '/', 'http://control'));
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      });
      await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      controlUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    },
    async stop() {
      await killAll();
      await new Promise((resolve) => server?.close(resolve));
      await rm(home, { recursive: true, force: true });
    },
    async reset() {
      await killAll();
      for (const sub of await readdir(home)) await rm(path.join(home, sub), { recursive: true, force: true });
      answer = DEFAULT_ANSWER;
      invocations = [];
      throttling = false;
      pings = 0;
      failNext = false;
      holding = false;
      started.clear();
      failed.clear();
      planted.clear();
      await this.clearCalls();
    },
    env() {
      return { MODELDEPLOY_HOME: home, PATH: process.env.PATH, HOME: process.env.HOME };
    },
    fixture(): DeployFixture {
      return {
        yaml: { provider: 'local', model: { framework: 'custom', command: [process.execPath, SERVER] }, env: { CONTROL_URL: controlUrl } },
        files: { 'model.json': JSON.stringify({ classes: [0, 1, 2] }) },
      };
    },
    answer(fn) {
      answer = fn;
    },
    invocations: () => [...invocations],
    async calls(): Promise<EmulatorCall[]> {
      // Reads leave no trace on a folder; writes and new processes do. Logs are the servers' own.
      const out: EmulatorCall[] = [];
      const now = await files(home);
      for (const file of new Set([...snapshot.keys(), ...now.keys()])) {
        if (file.split(path.sep).includes('logs') || snapshot.get(file) === now.get(file)) continue;
        const upload = /^artifacts\/modeldeploy\/[^/]+\/[0-9a-f]{64}\//.test(file.split(path.sep).join('/')) && now.has(file);
        out.push({ kind: upload ? 'upload' : 'write', what: `${now.has(file) ? (snapshot.has(file) ? 'changed' : 'created') : 'deleted'} ${file}` });
      }
      for (const [pid, what] of await processes()) if (!processesBefore.has(pid)) out.push({ kind: 'write', what: `started ${what}` });
      return out;
    },
    async clearCalls() {
      snapshot = await files(home);
      processesBefore = new Set((await processes()).keys());
    },
    async listing(): Promise<EmulatorResource[]> {
      const out: EmulatorResource[] = [];
      for (const [file] of await files(path.join(home, 'artifacts'))) out.push({ kind: 'object', id: file.split(path.sep).slice(1).join('/') });
      const root = path.join(home, 'deployments');
      for (const name of await readdir(root).catch(() => [] as string[])) {
        for (const stage of await readdir(path.join(root, name)).catch(() => [] as string[])) {
          if (planted.has(`${name}/${stage}`)) continue;
          const dir = path.join(root, name, stage);
          const owner = ownerOf(JSON.parse(await readFile(path.join(dir, 'owner.json'), 'utf8').catch(() => '{}')) as Record<string, string>);
          out.push({ kind: 'deployment folder', id: `${name}/${stage}`, owner });
          const endpoint = JSON.parse(await readFile(path.join(dir, 'endpoint.json'), 'utf8').catch(() => 'null')) as { tags: Record<string, string> } | null;
          if (endpoint) out.push({ kind: 'router record', id: `${name}-${stage}`, owner: ownerOf(endpoint.tags) });
          for (const f of await readdir(path.join(dir, 'revisions')).catch(() => [] as string[])) out.push({ kind: 'revision record', id: `${name}-${stage}/${f}`, owner });
        }
      }
      for (const [pid, what] of await processes()) out.push({ kind: 'process', id: `${what} (pid ${pid})` });
      return out;
    },
    async plantForeignEndpoint(base) {
      // Another tool's folder where modeldeploy would keep this deployment: `<name>/<stage>`.
      const cut = base.lastIndexOf('-');
      const rel = `${base.slice(0, cut)}/${base.slice(cut + 1)}`;
      const dir = path.join(home, 'deployments', rel);
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'endpoint.json'), JSON.stringify({ owner: 'someone else', port: 1 }));
      planted.add(rel);
      return async () => [...(await files(dir)).keys()].sort().map((f) => [f, f.endsWith('.json') ? readFile(path.join(home, f), 'utf8') : '']);
    },
    throttle() {
      throttling = true;
    },
    failNextDeploy() {
      failNext = true;
    },
    holdOperations() {
      holding = true;
    },
    async settle() {
      holding = false;
    },
  };
}
