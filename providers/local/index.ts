/**
 * provider: local — the same lifecycle as the clouds, on this machine. Artifacts go to a
 * content-addressed store under MODELDEPLOY_HOME; each revision is a detached serving process
 * speaking the SageMaker/Vertex container contract; the endpoint is a router process on a
 * stable port that flips between revisions (blue/green).
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Artifact } from '../../src/core/artifact.js';
import { ProviderError } from '../../src/core/errors.js';
import type {
  ArtifactRef,
  DeploymentSummary,
  EndpointState,
  InvokeRequest,
  InvokeResponse,
  InvokeTarget,
  Plan,
  Provider,
  ProviderContext,
  Resource,
  Revision,
} from '../../src/core/provider.js';
import { baseName, type DeploymentSpec } from '../../src/core/spec.js';
import { freePort, isAlive, nodeEntry, spawnDetached, stopProcess, tailLog } from './process.js';
import { ADMIN_PREFIX } from './router.js';
import { localRules, storePath } from './rules.js';
import { LocalStore, type EndpointRecord, type RevisionRecord } from './store.js';

const ORDER = { endpoint: 0, revision: 1, artifact: 2 } as const;

export class LocalProvider implements Provider {
  readonly id = 'local' as const;
  readonly rules = localRules;
  readonly polling = { initialMs: 100, maxMs: 1000 };

  private storeFor(ctx: ProviderContext): LocalStore {
    return new LocalStore(storePath(ctx.env));
  }

  async plan(spec: DeploymentSpec, revision: string, ctx: ProviderContext): Promise<Plan> {
    const store = this.storeFor(ctx);
    const endpoint = await store.readEndpoint(spec.name, spec.stage);
    const names = this.rules.names(spec);
    const details: Record<string, unknown> = { home: store.home, framework: spec.model.framework };
    if (!endpoint || !isAlive(endpoint.pid) || !endpoint.active) {
      return { spec, action: 'create', revision, names, details };
    }
    const state = await this.endpointState(endpoint);
    details.url = endpointUrl(endpoint);
    const current = { revision: endpoint.active.revision, state };
    const action = endpoint.active.revision === revision && state.state === 'ready' ? 'unchanged' : 'update';
    return { spec, action, revision, current, names, details };
  }

  async upload(plan: Plan, artifact: Artifact, ctx: ProviderContext): Promise<ArtifactRef> {
    const { spec } = plan;
    if (!artifact.path) throw new ProviderError('ArtifactNotLocal', 'the local provider needs a local model path', { category: 'invalid' });
    const store = this.storeFor(ctx);
    const target = store.artifactDir(artifact.sha256);
    const ref = store.refFile(spec.name, spec.stage, artifact.sha256);
    const hadRef = await exists(ref);
    let uploaded = false;
    if (!(await exists(target))) {
      // Copy into a private folder, then rename: a concurrent or interrupted run never sees a
      // half-copied artifact at its content address.
      const tmp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
      const root = artifact.kind === 'directory' ? artifact.path : path.dirname(artifact.path);
      try {
        for (const file of artifact.files) {
          ctx.signal.throwIfAborted();
          const dest = path.join(tmp, file.path);
          await mkdir(path.dirname(dest), { recursive: true });
          await copyFile(path.join(root, file.path), dest); // copy_file_range: no bytes through JS
        }
        await rename(tmp, target).catch(async (error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
          await rm(tmp, { recursive: true, force: true }); // another run stored the same content
        });
      } catch (error) {
        await rm(tmp, { recursive: true, force: true });
        throw error;
      }
      uploaded = true;
    }
    if (!hadRef) {
      await mkdir(path.dirname(ref), { recursive: true });
      await writeFile(ref, `${new Date().toISOString()}\n`);
      ctx.track(artifactResource(artifact.sha256, target));
    }
    return { uri: `file://${target}`, sha256: artifact.sha256, uploaded, bytes: artifact.bytes };
  }

  async deploy(plan: Plan, artifact: ArtifactRef, ctx: ProviderContext): Promise<Revision> {
    const { spec } = plan;
    const store = this.storeFor(ctx);
    await this.ensureRouter(spec, ctx);

    // A leftover process of the same revision (from a kept failure) is replaced, not reused.
    const leftover = await store.readRevision(spec.name, spec.stage, plan.revision);
    if (leftover) await this.removeRevision(spec, leftover, store);

    const modelDir = store.artifactDir(artifact.sha256);
    const port = await freePort();
    const logFile = store.logFile(spec.name, spec.stage, plan.revision);
    await mkdir(path.dirname(logFile), { recursive: true });
    const command = spec.model.framework === 'onnx' ? nodeEntry('serve-onnx') : (spec.model.command ?? []);
    const env: NodeJS.ProcessEnv = {
      ...ctx.env,
      ...spec.env,
      SM_MODEL_DIR: modelDir,
      AIP_STORAGE_URI: `file://${modelDir}`,
      AIP_HTTP_PORT: String(port),
      AIP_HEALTH_ROUTE: '/ping',
      AIP_PREDICT_ROUTE: '/invocations',
      MODELDEPLOY_REVISION: plan.revision,
    };
    let pid: number;
    try {
      ({ pid } = await spawnDetached({ command, cwd: spec.dir, env, logFile }));
    } catch (error) {
      throw new ProviderError('ProcessStartFailed', `cannot start the serving process for revision ${plan.revision}: ${(error as Error).message}`, {
        category: 'invalid',
        hint: spec.model.framework === 'custom' ? 'check model.command: its first word must be an executable on PATH' : undefined,
        cause: error,
      });
    }
    const record: RevisionRecord = {
      revision: plan.revision,
      pid,
      port,
      sha256: artifact.sha256,
      command,
      logFile,
      startedAt: ctx.clock.now(),
      startupMs: spec.timeouts.startupMs,
    };
    await store.writeRevision(spec.name, spec.stage, record);
    ctx.track(revisionResource(record));
    return { id: plan.revision, handle: { port, pid } };
  }

  async status(plan: Plan, revision: Revision | undefined, ctx: ProviderContext): Promise<EndpointState> {
    const { spec } = plan;
    const store = this.storeFor(ctx);
    if (!revision) {
      const endpoint = await store.readEndpoint(spec.name, spec.stage);
      return endpoint ? this.endpointState(endpoint) : { state: 'absent' };
    }
    const record = await store.readRevision(spec.name, spec.stage, revision.id);
    if (!record) return { state: 'absent' };
    if (!isAlive(record.pid)) {
      const tail = await tailLog(record.logFile, 15);
      return {
        state: 'failed',
        reason: `the serving process (pid ${record.pid}) exited${tail ? `; last log lines:\n${indent(tail)}` : ''}`,
        logsHint: `full log: ${record.logFile}`,
      };
    }
    if (await healthy(record.port)) return { state: 'ready', url: `http://127.0.0.1:${record.port}/invocations` };
    const waited = ctx.clock.now() - record.startedAt;
    if (waited > record.startupMs) {
      return {
        state: 'failed',
        reason: `GET /ping on port ${record.port} did not answer 200 within the startup timeout (${Math.round(record.startupMs / 1000)} s)`,
        logsHint: `log: ${record.logFile}`,
      };
    }
    return { state: 'pending', detail: 'waiting for GET /ping' };
  }

  async invoke(plan: Plan, target: InvokeTarget, request: InvokeRequest, ctx: ProviderContext): Promise<InvokeResponse> {
    const { spec } = plan;
    const store = this.storeFor(ctx);
    let port: number;
    if (target.kind === 'revision') {
      port = Number(target.revision.handle.port);
    } else {
      const endpoint = await store.readEndpoint(spec.name, spec.stage);
      if (!endpoint || !isAlive(endpoint.pid)) {
        throw new ProviderError('EndpointNotFound', `${baseName(spec)} is not running`, { category: 'notFound', hint: 'Run `modeldeploy up`.' });
      }
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

  async promote(plan: Plan, revision: Revision, ctx: ProviderContext): Promise<void> {
    const { spec } = plan;
    const store = this.storeFor(ctx);
    const endpoint = await store.readEndpoint(spec.name, spec.stage);
    if (!endpoint || !isAlive(endpoint.pid)) {
      throw new ProviderError('EndpointNotFound', `the router of ${baseName(spec)} is not running`, { category: 'notFound' });
    }
    const port = Number(revision.handle.port);
    const previous = endpoint.active;
    await admin(endpoint, 'PUT', { port, revision: revision.id });
    await store.writeEndpoint({ ...endpoint, active: { revision: revision.id, port } });
    // Drain: the old revision is retired next; wait until the router has nothing in flight to it.
    if (previous && previous.port !== port) {
      const deadline = ctx.clock.now() + 30_000;
      while (ctx.clock.now() < deadline) {
        const state = (await admin(endpoint, 'GET')) as { inflight: Record<string, number> };
        if (!state.inflight[String(previous.port)]) break;
        await ctx.clock.sleep(20);
      }
    }
  }

  async revision(plan: Plan, id: string, ctx: ProviderContext): Promise<Revision | undefined> {
    const record = await this.storeFor(ctx).readRevision(plan.spec.name, plan.spec.stage, id);
    return record ? { id: record.revision, handle: { port: record.port, pid: record.pid } } : undefined;
  }

  async inventory(spec: DeploymentSpec, ctx: ProviderContext): Promise<Resource[]> {
    const store = this.storeFor(ctx);
    const resources: Resource[] = [];
    const endpoint = await store.readEndpoint(spec.name, spec.stage);
    if (endpoint) resources.push(endpointResource(endpoint));
    for (const record of await store.revisions(spec.name, spec.stage)) resources.push(revisionResource(record));
    for (const sha of await store.refs(spec.name, spec.stage)) resources.push(artifactResource(sha, store.artifactDir(sha)));
    return resources;
  }

  async remove(spec: DeploymentSpec, resource: Resource, ctx: ProviderContext): Promise<void> {
    const store = this.storeFor(ctx);
    if (resource.type === 'local:endpoint') {
      const endpoint = await store.readEndpoint(spec.name, spec.stage);
      if (endpoint) await stopProcess(endpoint.pid);
      await rm(store.endpointFile(spec.name, spec.stage), { force: true });
    } else if (resource.type === 'local:revision' && resource.revision) {
      const record = await store.readRevision(spec.name, spec.stage, resource.revision);
      if (record) await this.removeRevision(spec, record, store);
    } else if (resource.type === 'local:artifact' && resource.sha256) {
      await unlink(store.refFile(spec.name, spec.stage, resource.sha256)).catch(ignoreMissing);
      if (!(await store.referencedAnywhere(resource.sha256))) {
        await rm(store.artifactDir(resource.sha256), { recursive: true, force: true });
      }
    }
    await store.prune(spec.name, spec.stage);
  }

  async list(_spec: unknown, ctx: ProviderContext): Promise<DeploymentSummary[]> {
    const store = this.storeFor(ctx);
    const out: DeploymentSummary[] = [];
    for (const { name, stage } of await store.deployments()) {
      const endpoint = await store.readEndpoint(name, stage);
      const state = endpoint ? await this.endpointState(endpoint) : ({ state: 'failed', reason: 'no endpoint' } as EndpointState);
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

  private async removeRevision(spec: DeploymentSpec, record: RevisionRecord, store: LocalStore): Promise<void> {
    await stopProcess(record.pid);
    await rm(store.revisionFile(spec.name, spec.stage, record.revision), { force: true });
    await rm(record.logFile, { force: true });
  }

  private async ensureRouter(spec: DeploymentSpec, ctx: ProviderContext): Promise<EndpointRecord> {
    const store = this.storeFor(ctx);
    const existing = await store.readEndpoint(spec.name, spec.stage);
    if (existing && isAlive(existing.pid)) return existing;
    if (existing) await rm(store.endpointFile(spec.name, spec.stage), { force: true });
    const token = randomBytes(24).toString('hex');
    const logFile = store.logFile(spec.name, spec.stage, 'router');
    await mkdir(path.dirname(logFile), { recursive: true });
    const { pid, message } = await spawnDetached({
      command: nodeEntry('router'),
      cwd: store.home,
      env: { PATH: ctx.env.PATH, MODELDEPLOY_ROUTER_TOKEN: token },
      logFile,
      ipc: true,
    });
    const port = (message as { port?: number } | undefined)?.port;
    if (!port) throw new ProviderError('RouterStartFailed', 'the local router did not report its port', { category: 'failed', hint: `log: ${logFile}` });
    const record: EndpointRecord = {
      name: spec.name,
      stage: spec.stage,
      pid,
      port,
      token,
      tags: { 'modeldeploy:deployment': spec.name, 'modeldeploy:stage': spec.stage, ...spec.tags },
      createdAt: new Date().toISOString(),
    };
    await store.writeEndpoint(record);
    ctx.track(endpointResource(record));
    return record;
  }

  private async endpointState(endpoint: EndpointRecord): Promise<EndpointState> {
    if (!isAlive(endpoint.pid)) return { state: 'failed', reason: `the router (pid ${endpoint.pid}) is not running` };
    if (!endpoint.active) return { state: 'pending', detail: 'no revision promoted yet' };
    if (await healthy(endpoint.port)) return { state: 'ready', url: endpointUrl(endpoint) };
    return { state: 'failed', reason: `revision ${endpoint.active.revision} does not answer GET /ping` };
  }
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
  return { type: 'local:endpoint', id: `${endpoint.name}-${endpoint.stage}`, scope: 'endpoint', order: ORDER.endpoint, description: `router pid ${endpoint.pid} on 127.0.0.1:${endpoint.port}` };
}

function revisionResource(record: RevisionRecord): Resource {
  return { type: 'local:revision', id: record.revision, scope: 'revision', revision: record.revision, order: ORDER.revision, description: `pid ${record.pid} on 127.0.0.1:${record.port}` };
}

function artifactResource(sha256: string, dir: string): Resource {
  return { type: 'local:artifact', id: sha256.slice(0, 12), scope: 'artifact', sha256, order: ORDER.artifact, description: dir };
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

export function createProvider(): Provider {
  return new LocalProvider();
}
