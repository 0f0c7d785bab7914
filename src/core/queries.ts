/** The read-only commands: plan, status, invoke, list. */
import type { CoreContext } from './context.js';
import { providerContext } from './context.js';
import { ProviderError } from './errors.js';
import { prepareArtifact } from './lifecycle.js';
import type { DeploymentSummary, EndpointState, InvokeRequest, Resource } from './provider.js';
import { withRetry } from './retry.js';
import type { DeploymentSpec } from './spec.js';
import { baseName } from './spec.js';

export interface PlanResult {
  name: string;
  stage: string;
  provider: string;
  action: 'create' | 'update' | 'unchanged' | 'unknown';
  revision: string;
  currentRevision?: string;
  names: Record<string, string>;
  details: Record<string, unknown>;
  /** True when the plan was computed without calling the provider (--offline). */
  offline: boolean;
}

/** Resolve names and the revision; with `offline`, no provider call and no credentials. */
export async function planDeployment(spec: DeploymentSpec, offline: boolean, core: CoreContext): Promise<PlanResult> {
  const { revision } = await prepareArtifact(spec, core);
  const rules = await core.registry.rules(spec.provider);
  const base = { name: spec.name, stage: spec.stage, provider: spec.provider, revision };
  if (offline) {
    return { ...base, action: 'unknown', names: rules.names(spec, revision), details: { ...offlineDetails(spec), ...rules.details?.(spec) }, offline: true };
  }
  const provider = await core.registry.provider(spec.provider);
  const ctx = providerContext(core);
  let plan;
  try {
    plan = await withRetry(() => provider.plan(spec, revision, ctx), { clock: core.clock, signal: core.signal, attempts: 2 });
  } catch (error) {
    // No credentials or no network: still show everything that needs neither.
    if (!(error instanceof ProviderError) || (error.category !== 'auth' && error.category !== 'unavailable')) throw error;
    core.progress.emit({ code: 'PlanOffline', level: 'warn', message: `cannot read the current state (${error.code}); showing the offline plan` });
    return {
      ...base,
      action: 'unknown',
      names: rules.names(spec, revision),
      details: { ...offlineDetails(spec), ...rules.details?.(spec), stateUnavailable: `${error.code}: ${error.hint ?? error.message}` },
      offline: true,
    };
  }
  return {
    ...base,
    action: plan.action,
    ...(plan.current ? { currentRevision: plan.current.revision } : {}),
    names: plan.names,
    details: plan.details,
    offline: false,
  };
}

function offlineDetails(spec: DeploymentSpec): Record<string, unknown> {
  return {
    framework: spec.model.framework,
    ...(spec.model.version ? { frameworkVersion: spec.model.version } : {}),
    ...(spec.model.image ? { image: spec.model.image } : {}),
    ...(spec.instance.type ? { instanceType: spec.instance.type } : {}),
    instanceCount: spec.instance.count,
    envKeys: Object.keys(spec.env),
  };
}

export interface StatusResult {
  name: string;
  stage: string;
  provider: string;
  state: EndpointState['state'];
  revision?: string;
  url?: string;
  reason?: string;
  resources: Array<Pick<Resource, 'type' | 'id' | 'scope' | 'revision'>>;
}

export async function statusOf(spec: DeploymentSpec, core: CoreContext): Promise<StatusResult> {
  const provider = await core.registry.provider(spec.provider);
  const ctx = providerContext(core);
  const retry = <T>(fn: () => Promise<T>) => withRetry(fn, { clock: core.clock, signal: core.signal });
  // The revision id is not needed to read the state: plan with a placeholder, skip hashing.
  const plan = await retry(() => provider.plan(spec, '', ctx));
  const resources = await retry(() => provider.inventory(spec, ctx));
  const state: EndpointState = plan.current ? await retry(() => provider.status(plan, undefined, ctx)) : { state: 'absent' };
  return {
    name: spec.name,
    stage: spec.stage,
    provider: spec.provider,
    state: state.state,
    ...(plan.current ? { revision: plan.current.revision } : {}),
    ...(state.state === 'ready' && state.url ? { url: state.url } : {}),
    ...(state.state === 'failed' ? { reason: state.reason } : {}),
    resources: resources.map((r) => ({ type: r.type, id: r.id, scope: r.scope, ...(r.revision ? { revision: r.revision } : {}) })),
  };
}

export interface InvokeResult {
  status: number;
  contentType?: string;
  latencyMs: number;
  /** The response body as text (JSON stays JSON text). */
  body: string;
}

export async function invokeEndpoint(spec: DeploymentSpec, request: InvokeRequest, core: CoreContext): Promise<InvokeResult> {
  const provider = await core.registry.provider(spec.provider);
  const ctx = providerContext(core);
  const plan = await provider.plan(spec, '', ctx);
  if (!plan.current) {
    throw new ProviderError('EndpointNotFound', `${baseName(spec)} is not deployed`, {
      category: 'notFound',
      hint: 'Run `modeldeploy up` first (same -f and --stage).',
    });
  }
  const response = await provider.invoke(plan, { kind: 'endpoint' }, request, ctx);
  return {
    status: response.status,
    ...(response.contentType ? { contentType: response.contentType } : {}),
    latencyMs: response.latencyMs,
    body: Buffer.from(response.body).toString('utf8'),
  };
}

export interface BenchResult {
  requests: number;
  concurrency: number;
  errors: number;
  statusCounts: Record<string, number>;
  latencyMs: { p50: number; p95: number; p99: number; min: number; max: number; mean: number };
  wallMs: number;
  requestsPerSecond: number;
}

/** `invoke --bench N --concurrency C`: latency percentiles measured around each call. */
export async function benchEndpoint(spec: DeploymentSpec, request: InvokeRequest, count: number, concurrency: number, core: CoreContext): Promise<BenchResult> {
  const provider = await core.registry.provider(spec.provider);
  const ctx = providerContext(core);
  const plan = await provider.plan(spec, '', ctx);
  if (!plan.current) {
    throw new ProviderError('EndpointNotFound', `${baseName(spec)} is not deployed`, { category: 'notFound', hint: 'Run `modeldeploy up` first.' });
  }
  const latencies: number[] = [];
  const statusCounts: Record<string, number> = {};
  let errors = 0;
  let next = 0;
  const started = core.clock.now();
  const worker = async () => {
    while (next < count) {
      next++;
      core.signal.throwIfAborted();
      try {
        const r = await provider.invoke(plan, { kind: 'endpoint' }, request, ctx);
        latencies.push(r.latencyMs);
        statusCounts[r.status] = (statusCounts[r.status] ?? 0) + 1;
        if (r.status >= 400) errors++;
      } catch {
        errors++;
        statusCounts.error = (statusCounts.error ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, worker));
  const wallMs = core.clock.now() - started;
  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (p: number) => (sorted.length ? (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0) : 0);
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    requests: count,
    concurrency,
    errors,
    statusCounts,
    latencyMs: {
      p50: round(pct(50)),
      p95: round(pct(95)),
      p99: round(pct(99)),
      min: round(sorted[0] ?? 0),
      max: round(sorted[sorted.length - 1] ?? 0),
      mean: round(sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1)),
    },
    wallMs: round(wallMs),
    requestsPerSecond: round((latencies.length / wallMs) * 1000),
  };
}

export async function listDeployments(
  spec: Pick<DeploymentSpec, 'provider' | 'region' | 'aws' | 'gcp' | 'azure'>,
  core: CoreContext,
): Promise<DeploymentSummary[]> {
  const provider = await core.registry.provider(spec.provider);
  return provider.list(spec, providerContext(core));
}
