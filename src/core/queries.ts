/** The read-only commands: plan, status, invoke, list. */
import { decide, openSession, providerContext, type CoreContext, type Session } from './context.js';
import { ProviderError } from './errors.js';
import { prepareArtifact } from './lifecycle.js';
import type { Current, DeploymentSummary, EndpointState, InvokeRequest, InvokeResponse, Resource } from './provider.js';
import { ownedInventory } from './removal.js';
import { withRetry } from './retry.js';
import type { DeploymentSpec } from './spec.js';
import { failedPrefix, failedReason } from './markers.js';
import { isOwned, targetOf } from './target.js';

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
  const module = await core.registry.module(spec.provider);
  const t = targetOf(spec);
  const { revision } = await prepareArtifact(spec, module, core);
  const base = { name: spec.name, stage: spec.stage, provider: spec.provider, revision };
  const offlinePlan = (extra: Record<string, unknown> = {}): PlanResult => ({
    ...base,
    action: 'unknown',
    names: module.rules.names(t, revision),
    details: { ...offlineDetails(spec), ...module.rules.details?.(t), ...extra },
    offline: true,
  });
  if (offline) return offlinePlan();
  const session: Session = { module, t, provider: await module.connect({ settings: t.settings, region: t.region, env: core.env }) };
  let current: Current | undefined;
  try {
    current = await withRetry(() => session.provider.read(t, providerContext(core)), { clock: core.clock, signal: core.signal, attempts: 2 });
  } catch (error) {
    // No credentials or no network: still show everything that needs neither.
    if (!(error instanceof ProviderError) || (error.category !== 'auth' && error.category !== 'unavailable')) throw error;
    core.progress.emit({ code: 'PlanOffline', level: 'warn', message: `cannot read the current state (${error.code}); showing the offline plan` });
    return offlinePlan({ stateUnavailable: `${error.code}: ${error.hint ?? error.message}` });
  }
  const decision = decide(current, revision, session);
  return {
    ...base,
    action: decision.action,
    ...(decision.current ? { currentRevision: decision.current } : {}),
    names: module.rules.names(t, revision),
    details: { ...module.rules.details?.(t), ...current?.details },
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
  /** `partial`: something of the deployment exists, but no endpoint of it; `absent` only when nothing does. */
  state: EndpointState['state'] | 'partial';
  revision?: string;
  url?: string;
  reason?: string;
  resources: Array<Pick<Resource, 'type' | 'id' | 'scope' | 'revision'>>;
}

/** The endpoint's state and everything the deployment owns: independent reads, in parallel. */
export async function statusOf(spec: DeploymentSpec, core: CoreContext): Promise<StatusResult> {
  const session = await openSession(spec, core);
  const { provider, t } = session;
  const ctx = providerContext(core);
  const [current, resources, marks] = await Promise.all([
    withRetry(() => provider.read(t, ctx), { clock: core.clock, signal: core.signal }),
    ownedInventory(session, ctx),
    withRetry(() => provider.artifacts.list(failedPrefix(t), ctx), { clock: core.clock, signal: core.signal }),
  ]);
  const owned = current && isOwned(current.owner, t) ? current : undefined;
  let state: EndpointState = owned ? owned.state : { state: 'absent' };
  // A revision kept after a failed smoke test serves (or would), but is not good.
  const revision = owned?.revision;
  if (revision && marks.some((m) => m.key.endsWith(`/${revision}`))) {
    const why = (await failedReason(provider.artifacts, t, revision, { signal: core.signal })) ?? 'failed its smoke test';
    state = { state: 'failed', reason: `revision ${revision} was kept after it failed its smoke test: ${why}` };
  }
  const shown: StatusResult['state'] = state.state === 'absent' && resources.length > 0 ? 'partial' : state.state;
  return {
    name: spec.name,
    stage: spec.stage,
    provider: spec.provider,
    state: shown,
    ...(owned?.revision ? { revision: owned.revision } : {}),
    ...(state.state === 'ready' && state.url ? { url: state.url } : {}),
    ...(state.state === 'failed' ? { reason: state.reason } : shown === 'partial' ? { reason: `no endpoint, but ${resources.length} resource(s) of the deployment exist; \`modeldeploy down\` removes them, \`up\` deploys again` } : {}),
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

/** One request to the endpoint: no read first (the provider says EndpointNotFound when there is none). */
export async function invokeEndpoint(spec: DeploymentSpec, request: InvokeRequest, core: CoreContext): Promise<InvokeResult> {
  const { provider, t } = await openSession(spec, core);
  const response = await provider.invoke(t, { kind: 'endpoint' }, request, providerContext(core));
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
  const { provider, t } = await openSession(spec, core);
  const ctx = providerContext(core);
  // The first request alone: a missing endpoint is an error, not N failed requests.
  let first: InvokeResponse | undefined;
  try {
    first = await provider.invoke(t, { kind: 'endpoint' }, request, ctx);
  } catch (error) {
    if (error instanceof ProviderError && error.category === 'notFound') throw error;
  }
  const latencies: number[] = [];
  const statusCounts: Record<string, number> = {};
  let errors = 0;
  let next = 0;
  const started = core.clock.now();
  const record = (r: InvokeResponse) => {
    latencies.push(r.latencyMs);
    statusCounts[r.status] = (statusCounts[r.status] ?? 0) + 1;
    if (r.status >= 400) errors++;
  };
  if (first) record(first);
  else {
    errors++;
    statusCounts.error = 1;
  }
  next = 1;
  const worker = async () => {
    while (next < count) {
      next++;
      core.signal.throwIfAborted();
      try {
        record(await provider.invoke(t, { kind: 'endpoint' }, request, ctx));
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

export interface BenchGate {
  passed: boolean;
  /** One line per limit breached, with the figure and the limit. */
  breaches: string[];
  limits: { maxErrorRate?: number; maxP95Ms?: number };
}

/** A load test as a CI gate: the share of failed requests and the p95 against their limits. */
export function judgeBench(result: BenchResult, limits: BenchGate['limits']): BenchGate {
  const breaches: string[] = [];
  const rate = result.requests > 0 ? result.errors / result.requests : 0;
  if (limits.maxErrorRate !== undefined && rate > limits.maxErrorRate) {
    breaches.push(`error rate ${(rate * 100).toFixed(1)}% (${result.errors} of ${result.requests}) is above ${(limits.maxErrorRate * 100).toFixed(1)}%`);
  }
  if (limits.maxP95Ms !== undefined && result.latencyMs.p95 > limits.maxP95Ms) {
    breaches.push(`p95 latency ${result.latencyMs.p95} ms is above ${limits.maxP95Ms} ms`);
  }
  return { passed: breaches.length === 0, breaches, limits };
}

/** Every deployment the provider can see, with settings and region from deploy.yaml or flags. */
export async function listDeployments(providerId: string, where: { settings?: unknown; region?: string }, core: CoreContext): Promise<DeploymentSummary[]> {
  const module = await core.registry.module(providerId);
  const provider = await module.connect({ settings: where.settings, region: where.region, env: core.env });
  return provider.list(providerContext(core));
}
