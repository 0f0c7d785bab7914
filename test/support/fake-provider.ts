/**
 * An in-memory provider written against our own contract (not a cloud SDK fake), for driving the
 * core lifecycle in unit tests: every call is recorded, and failures are switched on per test.
 */
import type { Artifact } from '../../src/core/artifact.js';
import type { Clock } from '../../src/core/clock.js';
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
  ProviderRules,
  Resource,
  Revision,
} from '../../src/core/provider.js';
import type { DeploymentSpec } from '../../src/core/spec.js';

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

export class FakeProvider implements Provider {
  readonly id = 'local' as const;
  readonly polling = { initialMs: 100, maxMs: 1000 };
  readonly rules: ProviderRules;
  readonly calls: string[] = [];
  readonly artifacts = new Set<string>();
  readonly revisions = new Map<string, { polls: number }>();
  endpoint: { active?: string } | undefined;
  behaviour: FakeBehaviour = {
    pendingPolls: 2,
    failRevisions: new Set(),
    respond: () => ({ status: 200, body: { predictions: [0] } }),
    throttle: {},
  };

  constructor(readonly routing = true) {
    this.rules = {
      id: 'local',
      capabilities: { revisionRouting: routing, gpu: false, autoscaling: false, serverless: false },
      check: () => [],
      names: (spec) => ({ endpoint: `${spec.name}-${spec.stage}` }),
    };
  }

  private record(method: keyof Provider, detail = ''): void {
    this.calls.push(detail ? `${method}:${detail}` : method);
    const left = this.behaviour.throttle[method] ?? 0;
    if (left > 0) {
      this.behaviour.throttle[method] = left - 1;
      throw new ProviderError('ThrottlingException', 'Rate exceeded', { category: 'throttled', retryAfterSeconds: 0 });
    }
  }

  async plan(spec: DeploymentSpec, revision: string): Promise<Plan> {
    this.record('plan');
    const names = this.rules.names(spec);
    if (!this.endpoint?.active) return { spec, action: 'create', revision, names, details: {} };
    const current = { revision: this.endpoint.active, state: { state: 'ready' } as EndpointState };
    return { spec, action: current.revision === revision ? 'unchanged' : 'update', revision, current, names, details: {} };
  }

  async upload(_plan: Plan, artifact: Artifact, ctx: ProviderContext): Promise<ArtifactRef> {
    this.record('upload');
    const uploaded = !this.artifacts.has(artifact.sha256);
    if (uploaded) {
      this.artifacts.add(artifact.sha256);
      ctx.track({ type: 'fake:artifact', id: artifact.sha256.slice(0, 12), scope: 'artifact', sha256: artifact.sha256, order: 2 });
    }
    return { uri: `fake://${artifact.sha256}`, sha256: artifact.sha256, uploaded, bytes: artifact.bytes };
  }

  async deploy(plan: Plan, _artifact: ArtifactRef, ctx: ProviderContext): Promise<Revision> {
    this.record('deploy', plan.revision);
    this.behaviour.onDeploy?.();
    if (!this.endpoint) {
      this.endpoint = {};
      ctx.track({ type: 'fake:endpoint', id: 'endpoint', scope: 'endpoint', order: 0 });
    }
    this.revisions.set(plan.revision, { polls: 0 });
    ctx.track({ type: 'fake:revision', id: plan.revision, scope: 'revision', revision: plan.revision, order: 1 });
    if (!this.routing) this.endpoint.active = plan.revision; // traffic moves with the update
    return { id: plan.revision, handle: {} };
  }

  async status(_plan: Plan, revision: Revision | undefined): Promise<EndpointState> {
    this.record('status', revision?.id ?? 'endpoint');
    if (!revision) return this.endpoint?.active ? { state: 'ready', url: 'fake://endpoint' } : { state: 'absent' };
    const r = this.revisions.get(revision.id);
    if (!r) return { state: 'absent' };
    r.polls++;
    if (r.polls <= this.behaviour.pendingPolls) return { state: 'pending', detail: `poll ${r.polls}` };
    if (this.behaviour.failRevisions.has(revision.id)) return { state: 'failed', reason: 'container exited (code 1)' };
    return { state: 'ready' };
  }

  async invoke(_plan: Plan, target: InvokeTarget, request: InvokeRequest): Promise<InvokeResponse> {
    const revision = target.kind === 'revision' ? target.revision.id : this.endpoint?.active;
    this.record('invoke', target.kind === 'revision' ? `revision:${revision}` : 'endpoint');
    if (!revision) throw new ProviderError('EndpointNotFound', 'no endpoint', { category: 'notFound' });
    const { status, body } = this.behaviour.respond(revision, request);
    return { status, body: Buffer.from(JSON.stringify(body)), contentType: 'application/json', latencyMs: 5 };
  }

  async promote(_plan: Plan, revision: Revision): Promise<void> {
    this.record('promote', revision.id);
    if (!this.endpoint) throw new ProviderError('EndpointNotFound', 'no endpoint', { category: 'notFound' });
    this.endpoint.active = revision.id;
  }

  async revision(_plan: Plan, id: string): Promise<Revision | undefined> {
    this.record('revision', id);
    return this.revisions.has(id) ? { id, handle: {} } : undefined;
  }

  async inventory(): Promise<Resource[]> {
    this.record('inventory');
    return [
      ...(this.endpoint ? [{ type: 'fake:endpoint', id: 'endpoint', scope: 'endpoint' as const, order: 0 }] : []),
      ...[...this.revisions.keys()].map((id) => ({ type: 'fake:revision', id, scope: 'revision' as const, revision: id, order: 1 })),
      ...[...this.artifacts].map((sha) => ({ type: 'fake:artifact', id: sha.slice(0, 12), scope: 'artifact' as const, sha256: sha, order: 2 })),
    ];
  }

  async remove(_spec: DeploymentSpec, resource: Resource): Promise<void> {
    this.record('remove', `${resource.type}:${resource.id}`);
    if (resource.type === 'fake:endpoint') this.endpoint = undefined;
    if (resource.type === 'fake:revision') {
      this.revisions.delete(resource.id);
      if (this.endpoint?.active === resource.id) this.endpoint.active = undefined;
    }
    if (resource.type === 'fake:artifact' && resource.sha256) this.artifacts.delete(resource.sha256);
  }

  async list(): Promise<DeploymentSummary[]> {
    return [];
  }
}

/** Time that only moves when someone sleeps: waits cost nothing and intervals are observable. */
export class FakeClock implements Clock {
  time = 1_000_000;
  readonly sleeps: number[] = [];
  now(): number {
    return this.time;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.sleeps.push(ms);
    this.time += ms;
    await Promise.resolve();
    signal?.throwIfAborted();
  }
}
