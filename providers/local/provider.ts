/**
 * provider: local — the same lifecycle as the clouds, on this machine. Artifacts go to a folder
 * store under MODELDEPLOY_HOME; each revision is a detached serving process speaking the
 * SageMaker/Vertex container contract; the endpoint is a router process on a stable port that
 * flips between revisions (blue/green).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProviderError } from '../../src/core/errors.js';
import { pollUntil } from '../../src/core/poll.js';
import type {
  Current,
  DeploymentSummary,
  DeployRequest,
  EndpointState,
  FoundResource,
  InvokeRequest,
  InvokeResponse,
  InvokeTarget,
  Owner,
  Provider,
  ProviderContext,
  Resource,
  Target,
} from '../../src/core/provider.js';
import { endpointNotFound, OWNER_TAGS } from '../../src/core/target.js';
import { FolderStore } from './folder-store.js';
import { identityEnv, isOurs, newNonce, processesOf, startTimeOf, type ProcessIdentity } from './identity.js';
import { freePort, nodeEntry, spawnDetached, stopProcess, tailLog } from './process.js';
import { ADMIN_PREFIX } from './router.js';
import { storePath } from './rules.js';
import { LocalStore, type EndpointRecord, type RevisionRecord } from './store.js';

const ORDER = { endpoint: 0, revision: 1 } as const;
const TYPE = { endpoint: 'local:endpoint', revision: 'local:revision', orphan: 'local:process' } as const;

export class LocalProvider implements Provider {
  readonly polling = { initialMs: 100, maxMs: 1000 };
  readonly artifacts: FolderStore;
  private readonly store: LocalStore;

  /** `env` is what the serving processes run with (PATH, HOME…): read once, here. */
  constructor(private readonly env: NodeJS.ProcessEnv) {
    const home = storePath(env);
    this.store = new LocalStore(home);
    this.artifacts = new FolderStore(path.join(home, 'artifacts'));
  }

  async read(t: Target): Promise<Current | undefined> {
    const owner = await this.store.owner(t.name, t.stage);
    if (!owner) return undefined;
    const endpoint = await this.store.readEndpoint(t.name, t.stage);
    if (!endpoint || !(await isOurs(endpoint))) return { owner, state: { state: 'absent' } };
    return {
      owner,
      ...(endpoint.active ? { revision: endpoint.active.revision } : {}),
      state: await this.endpointState(endpoint),
      details: { home: this.store.home, url: endpointUrl(endpoint) },
    };
  }

  async deploy(t: Target, request: DeployRequest, ctx: ProviderContext): Promise<void> {
    const { spec } = t;
    const { revision } = request;
    await this.ensureRouter(t, ctx);

    // A leftover process of the same revision (from a kept failure) is replaced, not reused.
    const leftover = await this.store.readRevision(t.name, t.stage, revision);
    if (leftover) await this.removeRevision(t, leftover);

    const modelDir = fileURLToPath(request.artifact.uri);
    const port = await freePort();
    const nonce = newNonce();
    const logFile = this.store.logFile(t.name, t.stage, revision);
    await mkdir(path.dirname(logFile), { recursive: true, mode: 0o700 });
    const command = spec.model.framework === 'onnx' ? nodeEntry('serve-onnx') : (spec.model.command ?? []);
    // Only deploy.yaml's env, the container contract and a minimal base: never the CLI's own
    // environment, which holds cloud credentials the model has no business seeing.
    const env: NodeJS.ProcessEnv = {
      ...baseEnv(this.env),
      ...spec.env,
      SM_MODEL_DIR: modelDir,
      AIP_STORAGE_URI: `file://${modelDir}`,
      AIP_HTTP_PORT: String(port),
      AIP_HEALTH_ROUTE: '/ping',
      AIP_PREDICT_ROUTE: '/invocations',
      MODELDEPLOY_REVISION: revision,
      ...identityEnv(nonce, this.store.home, t.name, t.stage),
    };
    // Recorded before the spawn: a kill between the two leaves a record `down` finds the process by.
    const record: RevisionRecord = { revision, pid: 0, nonce, port, sha256: request.artifact.sha256, logFile, startedAt: ctx.clock.now(), startupMs: spec.timeouts.startupMs };
    await this.store.writeRevision(t.name, t.stage, record);
    ctx.track(revisionResource(record));
    let pid: number;
    try {
      ({ pid } = await spawnDetached({ command, cwd: spec.dir, env, logFile }));
    } catch (error) {
      throw new ProviderError('ProcessStartFailed', `cannot start the serving process for revision ${revision}: ${(error as Error).message}`, {
        category: 'invalid',
        ...(spec.model.framework === 'custom' ? { hint: 'check model.command: its first word must be an executable on PATH' } : {}),
        cause: error,
      });
    }
    const started = await startTimeOf(pid);
    await this.store.writeRevision(t.name, t.stage, { ...record, pid, ...(started ? { startTime: started } : {}) });
  }

  async status(t: Target, revision: string | undefined, ctx: ProviderContext): Promise<EndpointState> {
    if (!revision) {
      const endpoint = await this.store.readEndpoint(t.name, t.stage);
      return endpoint ? this.endpointState(endpoint) : { state: 'absent' };
    }
    const record = await this.store.readRevision(t.name, t.stage, revision);
    if (!record) return { state: 'absent' };
    if (!(await isOurs(record))) {
      const tail = await tailLog(record.logFile, 15);
      return {
        state: 'failed',
        reason: `the serving process (pid ${record.pid}) exited${tail ? `; last log lines:\n${indent(tail)}` : ''}`,
        logsHint: `full log: ${record.logFile}`,
      };
    }
    if (await healthy(record.port)) return { state: 'ready', url: `http://127.0.0.1:${record.port}/invocations` };
    if (ctx.clock.now() - record.startedAt > record.startupMs) {
      return {
        state: 'failed',
        reason: `GET /ping on port ${record.port} did not answer 200 within the startup timeout (${Math.round(record.startupMs / 1000)} s)`,
        logsHint: `log: ${record.logFile}`,
      };
    }
    return { state: 'pending', detail: 'waiting for GET /ping' };
  }

  async invoke(t: Target, to: InvokeTarget, request: InvokeRequest, ctx: ProviderContext): Promise<InvokeResponse> {
    let port: number;
    if (to.kind === 'revision') {
      const record = await this.store.readRevision(t.name, t.stage, to.revision);
      if (!record) throw new ProviderError('RevisionNotFound', `revision ${to.revision} of ${t.base} is not running`, { category: 'notFound' });
      port = record.port;
    } else {
      const endpoint = await this.store.readEndpoint(t.name, t.stage);
      if (!endpoint || !(await isOurs(endpoint))) throw endpointNotFound(t, this.store.home);
      port = endpoint.port;
    }
    const started = performance.now();
    let response: Response;
    try {
      response = await fetch(`http://127.0.0.1:${port}/invocations`, {
        method: 'POST',
        headers: { 'content-type': request.contentType, ...(request.accept ? { accept: request.accept } : {}) },
        body: request.body,
        signal: ctx.signal,
      });
    } catch (error) {
      throw new ProviderError('InvokeFailed', `no answer from 127.0.0.1:${port}: ${(error as Error).message}`, { category: 'unavailable', retryable: false, cause: error });
    }
    const body = new Uint8Array(await response.arrayBuffer());
    const latencyMs = performance.now() - started;
    const contentType = response.headers.get('content-type');
    return { status: response.status, body, latencyMs, ...(contentType ? { contentType } : {}) };
  }

  async promote(t: Target, revision: string, ctx: ProviderContext): Promise<void> {
    const endpoint = await this.store.readEndpoint(t.name, t.stage);
    if (!endpoint || !(await isOurs(endpoint))) {
      throw new ProviderError('EndpointNotFound', `the router of ${t.base} is not running`, { category: 'notFound' });
    }
    const record = await this.store.readRevision(t.name, t.stage, revision);
    if (!record) throw new ProviderError('RevisionNotFound', `revision ${revision} of ${t.base} is not running`, { category: 'notFound' });
    const previous = endpoint.active;
    await admin(endpoint, 'PUT', { port: record.port, revision });
    await this.store.writeEndpoint({ ...endpoint, active: { revision, port: record.port } });
    // Drain: the old revision is retired next; wait until the router has nothing in flight to it.
    if (previous && previous.port !== record.port) {
      await pollUntil(
        async () => {
          const state = (await admin(endpoint, 'GET')) as { inflight: Record<string, number> };
          return state.inflight[String(previous.port)] ? undefined : true;
        },
        { clock: ctx.clock, signal: ctx.signal, polling: { initialMs: 20, maxMs: 20 }, deadline: ctx.clock.now() + 30_000 },
      );
    }
  }

  async inventory(t: Target): Promise<FoundResource[]> {
    const owner = await this.store.owner(t.name, t.stage);
    if (!owner) return [];
    const found: FoundResource[] = [];
    const endpoint = await this.store.readEndpoint(t.name, t.stage);
    if (endpoint) found.push({ ...endpointResource(endpoint), owner });
    const revisions = await this.store.revisions(t.name, t.stage);
    for (const record of revisions) found.push({ ...revisionResource(record), owner });
    // Processes of this deployment that no record names (their records were lost): stopped too.
    const known = new Set([endpoint?.nonce, ...revisions.map((r) => r.nonce)]);
    for (const p of await processesOf(this.store.home, t.name, t.stage)) {
      if (!known.has(p.nonce)) found.push({ type: TYPE.orphan, id: `${p.pid}:${p.nonce}`, scope: 'revision', order: ORDER.revision, description: 'a serving process whose record was lost', owner });
    }
    return found;
  }

  async remove(t: Target, resource: Resource): Promise<void> {
    if (resource.type === TYPE.endpoint) {
      const endpoint = await this.store.readEndpoint(t.name, t.stage);
      if (endpoint) await this.stopAll(t, endpoint);
      await rm(this.store.endpointFile(t.name, t.stage), { force: true });
    } else if (resource.type === TYPE.revision && resource.revision) {
      const record = await this.store.readRevision(t.name, t.stage, resource.revision);
      if (record) await this.removeRevision(t, record);
    } else if (resource.type === TYPE.orphan) {
      const [pid, nonce] = resource.id.split(':');
      await stopProcess({ pid: Number(pid), nonce: nonce ?? '' });
    } else {
      throw new ProviderError('UnknownResource', `cannot remove ${resource.type} ${resource.id}`, { category: 'invalid' });
    }
    await this.store.prune(t.name, t.stage);
  }

  async list(): Promise<DeploymentSummary[]> {
    const out: DeploymentSummary[] = [];
    for (const { name, stage } of await this.store.deployments()) {
      const owner: Owner | undefined = await this.store.owner(name, stage);
      if (!owner?.deployment) continue;
      const endpoint = await this.store.readEndpoint(name, stage);
      const state: EndpointState = endpoint ? await this.endpointState(endpoint) : { state: 'failed', reason: 'no endpoint' };
      out.push({
        name,
        stage,
        state: state.state,
        ...(endpoint?.active ? { revision: endpoint.active.revision } : {}),
        ...(state.state === 'ready' && state.url ? { url: state.url } : {}),
      });
    }
    return out;
  }

  private async removeRevision(t: Target, record: RevisionRecord): Promise<void> {
    await this.stopAll(t, record);
    await rm(this.store.revisionFile(t.name, t.stage, record.revision), { force: true });
    await rm(record.logFile, { force: true });
  }

  /** Stop the process a record names, and any other of this deployment carrying its nonce (its pid was never recorded). */
  private async stopAll(t: Target, id: ProcessIdentity): Promise<void> {
    await stopProcess(id);
    for (const p of await processesOf(this.store.home, t.name, t.stage)) if (p.nonce === id.nonce) await stopProcess(p);
  }

  private async ensureRouter(t: Target, ctx: ProviderContext): Promise<EndpointRecord> {
    // Records hold modeldeploy's own tags only: a user tag may carry a value read from a secret.
    const tags = ownerTags(t);
    await this.store.claim(t.name, t.stage, tags);
    const existing = await this.store.readEndpoint(t.name, t.stage);
    if (existing && (await isOurs(existing))) return existing;
    if (existing) await this.stopAll(t, existing);
    const token = randomBytes(24).toString('hex');
    const nonce = newNonce();
    const logFile = this.store.logFile(t.name, t.stage, 'router');
    await mkdir(path.dirname(logFile), { recursive: true, mode: 0o700 });
    // Recorded before the spawn: a kill between the two leaves a record `down` finds the router by.
    const pending: EndpointRecord = { name: t.name, stage: t.stage, pid: 0, nonce, port: 0, token, tags, createdAt: new Date().toISOString() };
    await this.store.writeEndpoint(pending);
    ctx.track(endpointResource(pending));
    const { pid, message } = await spawnDetached({
      command: nodeEntry('router'),
      cwd: this.store.home,
      env: { ...baseEnv(this.env), MODELDEPLOY_ROUTER_TOKEN: token, ...identityEnv(nonce, this.store.home, t.name, t.stage) },
      logFile,
      ipc: true,
    });
    const port = (message as { port?: number } | undefined)?.port;
    if (!port) throw new ProviderError('RouterStartFailed', 'the local router did not report its port', { category: 'failed', hint: `log: ${logFile}` });
    const started = await startTimeOf(pid);
    const record: EndpointRecord = { ...pending, pid, port, ...(started ? { startTime: started } : {}) };
    await this.store.writeEndpoint(record);
    return record;
  }

  private async endpointState(endpoint: EndpointRecord): Promise<EndpointState> {
    if (!(await isOurs(endpoint))) return { state: 'failed', reason: `the router (pid ${endpoint.pid}) is not running` };
    if (!endpoint.active) return { state: 'pending', detail: 'no revision promoted yet' };
    if (await healthy(endpoint.port)) return { state: 'ready', url: endpointUrl(endpoint) };
    return { state: 'failed', reason: `revision ${endpoint.active.revision} does not answer GET /ping` };
  }
}

/** What a serving process inherits of the CLI's environment: enough to run, nothing to steal. */
const BASE_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'TZ'] as const;

function baseEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const key of BASE_ENV) if (env[key] !== undefined) out[key] = env[key];
  return out;
}

function ownerTags(t: Target): Record<string, string> {
  return { [OWNER_TAGS.deployment]: t.name, [OWNER_TAGS.stage]: t.stage };
}

function endpointUrl(endpoint: EndpointRecord): string {
  return `http://127.0.0.1:${endpoint.port}/invocations`;
}

async function healthy(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/ping`, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

async function admin(endpoint: EndpointRecord, method: 'GET' | 'PUT', body?: unknown): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${endpoint.port}${ADMIN_PREFIX}route`, {
    method,
    headers: { 'x-modeldeploy-token': endpoint.token, 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(5000),
  });
  const result = (await response.json()) as unknown;
  if (!response.ok) throw new ProviderError('RouterRejected', `the local router refused ${method}: ${JSON.stringify(result)}`, { category: 'failed' });
  return result;
}

function endpointResource(endpoint: EndpointRecord): Resource {
  return { type: TYPE.endpoint, id: `${endpoint.name}-${endpoint.stage}`, scope: 'endpoint', order: ORDER.endpoint, description: `router pid ${endpoint.pid} on 127.0.0.1:${endpoint.port}` };
}

function revisionResource(record: RevisionRecord): Resource {
  return { type: TYPE.revision, id: record.revision, scope: 'revision', revision: record.revision, order: ORDER.revision, description: `pid ${record.pid} on 127.0.0.1:${record.port}` };
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}
