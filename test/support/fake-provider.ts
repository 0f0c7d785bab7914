/**
 * An in-memory provider written against our own contract (not a cloud SDK fake), for driving the
 * core lifecycle in unit tests: every call is recorded, and failures are switched on per test.
 */
import type { Clock } from '../../src/core/clock.js';
import { ProviderError } from '../../src/core/errors.js';
import type {
  ArtifactStore,
  Capabilities,
  Current,
  DeploymentSummary,
  DeployRequest,
  EndpointState,
  FoundResource,
  InvokeRequest,
  InvokeResponse,
  InvokeTarget,
  LocalFile,
  Provider,
  ProviderContext,
  ProviderModule,
  ProviderRegistry,
  Resource,
  StoreContext,
  StoredObject,
  Target,
} from '../../src/core/provider.js';
import { endpointNotFound, ownerOf } from '../../src/core/target.js';

export interface FakeBehaviour {
  /** Polls a new revision stays pending before it is ready. */
  pendingPolls: number;
  /** Revision ids whose readiness ends in failure. */
  failRevisions: Set<string>;
  /** What the model answers, per revision. */
  respond: (revision: string, request: InvokeRequest) => { status: number; body: unknown };
  /** Throttle this many calls of a method before answering. */
  throttle: Partial<Record<keyof Provider, number>>;
  /** Called at the start of deploy (e.g. to abort the run mid-flight). */
  onDeploy?: () => void;
}

/** Objects in memory, keyed as the core lays them out. */
export class MemoryStore implements ArtifactStore {
  readonly concurrency = 2;
  readonly objects = new Map<string, StoredObject>();
  readonly uploads: string[] = [];
  uri(key: string): string {
    return `fake://${key}`;
  }
  async list(prefix: string): Promise<StoredObject[]> {
    return [...this.objects.values()].filter((o) => o.key.startsWith(prefix));
  }
  async upload(key: string, file: LocalFile, ctx: StoreContext & { onProgress(loaded: number): void }): Promise<void> {
    ctx.signal.throwIfAborted();
    this.uploads.push(key);
    this.objects.set(key, { key, bytes: file.bytes, sha256: file.sha256 });
    ctx.onProgress(file.bytes);
  }
  readonly bodies = new Map<string, string>();
  async write(key: string, body: string): Promise<void> {
    this.objects.set(key, { key, bytes: Buffer.byteLength(body) });
    this.bodies.set(key, body);
  }
  async create(key: string, body: string): Promise<boolean> {
    if (this.objects.has(key)) return false;
    await this.write(key, body);
    return true;
  }
  async read(key: string): Promise<string | undefined> {
    return this.objects.has(key) ? this.bodies.get(key) : undefined;
  }
  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      this.objects.delete(key);
      this.bodies.delete(key);
    }
  }
  /** The content addresses that hold model files. */
  artifacts(): string[] {
    return [...new Set([...this.objects.keys()].map((k) => k.split('/')[2] ?? '').filter((part) => /^[0-9a-f]{64}$/.test(part)))];
  }
  /** Objects that are models (not the core's references, locks, journals or marks). */
  modelObjects(): string[] {
    return [...this.objects.keys()].filter((k) => /^modeldeploy\/[^/]+\/[0-9a-f]{64}\//.test(k));
  }
}

export class FakeProvider implements Provider {
  readonly polling = { initialMs: 100, maxMs: 1000 };
  readonly artifacts = new MemoryStore();
  readonly calls: string[] = [];
  readonly revisions = new Map<string, { polls: number }>();
  endpoint: { active?: string; tags: Record<string, string> } | undefined;
  behaviour: FakeBehaviour = {
    pendingPolls: 2,
    failRevisions: new Set(),
    respond: () => ({ status: 200, body: { predictions: [0] } }),
    throttle: {},
  };

  constructor(readonly capabilities: Capabilities = fakeCapabilities('direct')) {}

  private record(method: keyof Provider, detail = ''): void {
    this.calls.push(detail ? `${method}:${detail}` : method);
    const left = this.behaviour.throttle[method] ?? 0;
    if (left > 0) {
      this.behaviour.throttle[method] = left - 1;
      throw new ProviderError('ThrottlingException', 'Rate exceeded', { category: 'throttled', retryAfterSeconds: 0 });
    }
  }

  async read(): Promise<Current | undefined> {
    this.record('read');
    if (!this.endpoint) return undefined;
    const owner = ownerOf(this.endpoint.tags);
    return this.endpoint.active ? { owner, revision: this.endpoint.active, state: { state: 'ready', url: 'fake://endpoint' } } : { owner, state: { state: 'pending' } };
  }

  async deploy(t: Target, request: DeployRequest, ctx: ProviderContext): Promise<void> {
    this.record('deploy', request.revision);
    this.behaviour.onDeploy?.();
    if (!this.endpoint) {
      this.endpoint = { tags: { ...t.tags } };
      ctx.track({ type: 'fake:endpoint', id: 'endpoint', scope: 'endpoint', order: 0 });
    }
    this.revisions.set(request.revision, { polls: 0 });
    ctx.track({ type: 'fake:revision', id: request.revision, scope: 'revision', revision: request.revision, order: 1 });
    if (this.capabilities.reachRevision === 'none') this.endpoint.active = request.revision; // traffic moves with the update
  }

  async status(_t: Target, revision: string | undefined): Promise<EndpointState> {
    this.record('status', revision ?? 'endpoint');
    if (!revision) return this.endpoint?.active ? { state: 'ready', url: 'fake://endpoint' } : { state: 'absent' };
    const r = this.revisions.get(revision);
    if (!r) return { state: 'absent' };
    r.polls++;
    if (r.polls <= this.behaviour.pendingPolls) return { state: 'pending', detail: `poll ${r.polls}` };
    if (this.behaviour.failRevisions.has(revision)) return { state: 'failed', reason: 'container exited (code 1)', logsHint: 'fake logs' };
    return { state: 'ready' };
  }

  async invoke(t: Target, to: InvokeTarget, request: InvokeRequest): Promise<InvokeResponse> {
    const revision = to.kind === 'revision' ? to.revision : this.endpoint?.active;
    this.record('invoke', to.kind === 'revision' ? `revision:${revision}` : 'endpoint');
    if (!revision) throw endpointNotFound(t, 'memory');
    const { status, body } = this.behaviour.respond(revision, request);
    return { status, body: Buffer.from(JSON.stringify(body)), contentType: 'application/json', latencyMs: 5 };
  }

  async promote(_t: Target, revision: string): Promise<void> {
    this.record('promote', revision);
    if (!this.endpoint) throw new ProviderError('EndpointNotFound', 'no endpoint', { category: 'notFound' });
    if (!this.revisions.has(revision)) throw new ProviderError('RevisionNotFound', `no revision ${revision}`, { category: 'notFound' });
    this.endpoint.active = revision;
  }

  async inventory(): Promise<FoundResource[]> {
    this.record('inventory');
    const owner = ownerOf(this.endpoint?.tags ?? {});
    return [
      ...(this.endpoint ? [{ type: 'fake:endpoint', id: 'endpoint', scope: 'endpoint' as const, order: 0, owner }] : []),
      ...[...this.revisions.keys()].map((id) => ({ type: 'fake:revision', id, scope: 'revision' as const, revision: id, order: 1, owner })),
    ];
  }

  async remove(_t: Target, resource: Resource): Promise<void> {
    this.record('remove', `${resource.type}:${resource.id}`);
    if (resource.type === 'fake:endpoint') this.endpoint = undefined;
    if (resource.type === 'fake:revision') {
      this.revisions.delete(resource.id);
      if (this.endpoint?.active === resource.id) delete this.endpoint.active;
    }
  }

  async list(): Promise<DeploymentSummary[]> {
    return [];
  }
}

export function fakeCapabilities(reachRevision: Capabilities['reachRevision']): Capabilities {
  return { reachRevision, accelerators: 'none', autoscaling: false, maxInstances: 1, artifactSchemes: [], logs: false };
}

/** A registry holding one provider module around a FakeProvider (id `fake`). */
export function fakeRegistry(provider: FakeProvider): ProviderRegistry {
  const module: ProviderModule = {
    id: 'fake',
    title: 'the fake provider',
    init: { framework: 'onnx', maxBaseName: 60 },
    capabilities: provider.capabilities,
    rules: { check: () => [], names: (t) => ({ endpoint: t.base }) },
    connect: async () => provider,
  };
  return { ids: ['fake'], defaultId: 'fake', descriptors: async () => [module], module: async () => module };
}

/** Time that only moves when someone sleeps: waits cost nothing and intervals are observable. */
export class FakeClock implements Clock {
  time = 1_000_000;
  readonly sleeps: number[] = [];
  private readonly deadlines: Array<{ at: number; controller: AbortController }> = [];
  now(): number {
    return this.time;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.sleeps.push(ms);
    this.time += ms;
    for (const d of this.deadlines) if (d.at <= this.time && !d.controller.signal.aborted) d.controller.abort(new Error('deadline'));
    await Promise.resolve();
    signal?.throwIfAborted();
  }
  timeout(ms: number): AbortSignal {
    const controller = new AbortController();
    this.deadlines.push({ at: this.time + ms, controller });
    return controller.signal;
  }
}
