/**
 * `up`: hash → read → decide → sync the artifact → deploy → wait → smoke → promote → retire,
 * once for every provider. Whatever this run created is journaled as it appears, so a failure
 * or an interrupt at any step rolls back exactly that (or restores the previous revision).
 */
import path from 'node:path';
import type { Artifact } from './artifact.js';
import { artifactResource, staleArtifacts, syncArtifact } from './artifact-sync.js';
import { decide, openSession, providerContext, type CoreContext, type Decision, type Session } from './context.js';
import { amended, InterruptedError, ModeldeployError, ProviderError } from './errors.js';
import { Journal } from './journal.js';
import { DeploymentLock, type LockOptions } from './lock.js';
import { clearFailed, markFailed } from './markers.js';
import type { Current, InvokeTarget, ProviderContext, ProviderDescriptor, Resource } from './provider.js';
import { ownedInventory, removeInOrder } from './removal.js';
import { finishLeftRun, rollback } from './rollback.js';
import { withRetry } from './retry.js';
import { revisionId } from './revision.js';
import { judgeSmoke, smokeError, smokeRequest, type SmokeResult } from './smoke.js';
import type { DeploymentSpec } from './spec.js';
import { waitUntilSettled } from './wait.js';
import { HashCache, hashArtifact, remoteArtifact } from '../artifacts/hash.js';

export interface UpOptions {
  smoke: boolean;
  keepOnFailure: boolean;
  /** Queue behind another run of the deployment (default: fail at once naming it). */
  lock?: LockOptions;
}

export interface UpResult {
  action: 'created' | 'updated' | 'unchanged';
  name: string;
  stage: string;
  provider: string;
  revision: string;
  previousRevision?: string;
  url?: string;
  artifact: { sha256: string; bytes: number; uri?: string; uploaded: boolean };
  smoke?: SmokeResult;
  retired: string[];
  timings: Record<string, number>;
}

/** Hash the model (cached) and derive the revision id; no provider call. */
export async function prepareArtifact(
  spec: DeploymentSpec,
  descriptor: Pick<ProviderDescriptor, 'settings'>,
  core: CoreContext,
): Promise<{ artifact: Artifact; revision: string }> {
  let artifact: Artifact;
  if (spec.model.path) {
    const cache = await HashCache.open(core.cacheDir ? path.join(core.cacheDir, 'hash-cache.json') : undefined);
    artifact = await hashArtifact(spec.model.path, cache, hashProgress(core));
    await cache.save().catch(() => undefined); // a read-only working directory only costs a re-hash
    core.progress.emit({
      code: 'ArtifactHashed',
      level: 'info',
      message: `model ${shortSha(artifact.sha256)} (${formatBytes(artifact.bytes)}, ${artifact.files.length} file${artifact.files.length === 1 ? '' : 's'}${cache.misses === 0 ? ', cached hash' : ''})`,
      data: { sha256: artifact.sha256, bytes: artifact.bytes, files: artifact.files.length, hashed: cache.misses, cached: cache.hits },
    });
  } else {
    artifact = remoteArtifact(spec.model.uri ?? '');
  }
  return { artifact, revision: revisionId(spec, artifact, descriptor) };
}

export async function up(spec: DeploymentSpec, options: UpOptions, core: CoreContext): Promise<UpResult> {
  const started = core.clock.now();
  const session = await openSession(spec, core);
  const { artifact, revision } = await prepareArtifact(spec, session.module, core);
  const hashed = core.clock.now() - started;
  const lock = await takeLock(session, 'up', options.lock, core);
  try {
    await finishLeftRun(session, core, lock.files);
    return await converge(session, artifact, revision, options, core, lock, { started, hash: hashed });
  } finally {
    await lock.release().catch((error: unknown) => core.progress.emit({ code: 'LockReleaseFailed', level: 'warn', message: `could not release the lock: ${(error as Error).message}; the next run takes it over after 90 s` }));
  }
}

/** Take the deployment's lock (waiting behind another run with --wait); a stop while waiting is an interrupt. */
export async function takeLock(session: Session, command: string, options: LockOptions | undefined, core: CoreContext): Promise<DeploymentLock> {
  try {
    return await DeploymentLock.acquire(session.provider.artifacts, session.t, `modeldeploy ${command}`, options ?? { wait: false, timeoutMs: 0 }, { clock: core.clock, signal: core.signal, progress: core.progress });
  } catch (error) {
    throw core.signal.aborted ? new InterruptedError(`interrupted while waiting for the lock of ${session.t.base}`, { cause: error }) : error;
  }
}

async function converge(
  session: Session,
  artifact: Artifact,
  revision: string,
  options: UpOptions,
  core: CoreContext,
  lock: DeploymentLock,
  start: { started: number; hash: number },
): Promise<UpResult> {
  const { module, provider, t } = session;
  const spec = t.spec;
  const timings: Record<string, number> = { hash: start.hash };
  const lap = (name: string, from: number) => (timings[name] = core.clock.now() - from);
  // The deploy timeout runs from here (queueing for the lock is --lock-timeout's): every provider
  // call is stopped by it, not only the waits between polls.
  const deadline = core.clock.now() + spec.timeouts.deployMs;
  const overdue = core.clock.timeout(spec.timeouts.deployMs);
  const signal = AbortSignal.any([core.signal, overdue, lock.lost]);
  const stoppedError = (caught: unknown): unknown => {
    if (core.signal.aborted) return new InterruptedError('interrupted during up', { cause: caught });
    if (lock.lost.aborted) return lock.lost.reason;
    if (overdue.aborted) {
      return new ProviderError('DeployTimeout', `up did not finish within the deploy timeout (${formatDuration(spec.timeouts.deployMs)})`, {
        category: 'failed',
        retryable: false,
        cause: caught,
        hint: 'Raise timeouts.deploy in deploy.yaml (or --timeout); `modeldeploy status` shows where it stood.',
      });
    }
    return caught;
  };
  const retry = <T>(fn: () => Promise<T>) => withRetry(fn, { clock: core.clock, signal, onRetry: onRetry(core) });
  const readCtx = providerContext(core, signal);

  let at = core.clock.now();
  let current: Current | undefined;
  try {
    current = await retry(() => provider.read(t, readCtx));
  } catch (error) {
    throw stoppedError(error);
  }
  let decision = decide(current, revision, session);
  const store = provider.artifacts;
  if (decision.action === 'unchanged' && lock.files.failed.has(revision)) {
    // Kept after a failed smoke test: never "unchanged", deployed again.
    decision = { ...decision, action: 'update' };
  }
  lap('plan', at);
  core.progress.emit({ code: 'Planned', level: 'info', message: planMessage(t.base, decision, revision), data: { action: decision.action, revision, current: decision.current } });
  const base = {
    name: spec.name,
    stage: spec.stage,
    provider: spec.provider,
    revision,
    ...(decision.current ? { previousRevision: decision.current } : {}),
  };
  const smokes = options.smoke && spec.smoke?.request !== undefined;

  if (decision.action === 'unchanged') {
    // Unchanged is not good until the live endpoint says so: one smoke request.
    let smoke: SmokeResult | undefined;
    if (smokes) {
      try {
        smoke = await smokeTest(session, { kind: 'endpoint' }, readCtx, core, `the serving revision ${revision}`);
      } catch (error) {
        throw stoppedError(error);
      }
    }
    const state = current?.state;
    core.progress.emit({ code: 'Unchanged', level: 'success', message: `${t.base} is already at revision ${revision}; nothing to do` });
    return {
      ...base,
      action: 'unchanged',
      ...(state?.state === 'ready' && state.url ? { url: state.url } : {}),
      artifact: { sha256: artifact.sha256, bytes: artifact.bytes, uploaded: false },
      ...(smoke ? { smoke } : {}),
      retired: [],
      timings: { ...timings, total: core.clock.now() - start.started },
    };
  }

  const reachRevision = module.capabilities.reachRevision;
  const journal = new Journal(store, t, revision, decision.restorable);
  const ctx = providerContext(core, signal, (r) => {
    journal.track(r);
    core.progress.emit({ code: 'Created', level: 'info', message: `created ${r.type} ${r.id}`, data: { type: r.type, id: r.id } });
  });
  try {
    at = core.clock.now();
    const ref = await syncArtifact(store, t, artifact, module.rules.packaging?.(t) ?? 'files', ctx);
    lap('upload', at);
    core.progress.emit(
      ref.uploaded
        ? { code: 'Uploaded', level: 'info', message: `uploaded ${formatBytes(ref.bytes)} to ${ref.uri}`, data: { uri: ref.uri, bytes: ref.bytes } }
        : { code: 'UploadSkipped', level: 'info', message: `artifact already at ${ref.uri}; not uploading`, data: { uri: ref.uri } },
    );

    at = core.clock.now();
    core.progress.emit({ code: 'DeployStarted', level: 'step', message: `${decision.action === 'create' ? 'creating' : 'updating'} ${t.base} (revision ${revision})` });
    if (reachRevision === 'none') journal.movesTraffic();
    await provider.deploy(t, { revision, artifact: ref, reach: smokes && reachRevision !== 'none', ...(decision.current ? { previous: decision.current } : {}) }, ctx);
    const settled = await waitUntilSettled(() => provider.status(t, revision, ctx), {
      clock: core.clock,
      signal,
      progress: core.progress,
      deadline,
      polling: provider.polling,
      what: `revision ${revision}`,
    });
    lap('ready', at);
    if (settled.state !== 'ready') {
      const reason = settled.state === 'failed' ? settled.reason : `endpoint is ${settled.state}`;
      const hint = settled.state === 'failed' ? settled.logsHint : undefined;
      throw new ProviderError('EndpointNotReady', `revision ${revision} did not become ready: ${reason}`, {
        category: 'failed',
        ...(hint ? { hint } : {}),
      });
    }
    core.progress.emit({ code: 'Ready', level: 'success', message: `revision ${revision} is ready (${Math.round(settled.waitedMs)} ms)` });

    let smoke: SmokeResult | undefined;
    if (smokes) {
      at = core.clock.now();
      smoke = await smokeTest(session, reachRevision === 'none' ? { kind: 'endpoint' } : { kind: 'revision', revision }, ctx, core, `revision ${revision}`);
      lap('smoke', at);
    }

    // Providers that cannot reach a revision already serve it; promote lets them finish (e.g.
    // attach autoscaling) and is a no-op for traffic.
    at = core.clock.now();
    journal.movesTraffic();
    await retry(() => provider.promote(t, revision, ctx));
    // Interrupted while promote ran: the run is undone like any other (the previous revision back).
    signal.throwIfAborted();
    lap('promote', at);
    core.progress.emit({ code: 'Promoted', level: 'info', message: reachRevision === 'none' ? `revision ${revision} serves all traffic` : `traffic moved to revision ${revision}` });
    // From here the run has succeeded: nothing of it is to be undone, whatever comes next.
    await journal.clear(AbortSignal.timeout(30_000));
    if (lock.files.failed.has(revision)) await clearFailed(store, t, revision, { signal: AbortSignal.timeout(30_000) }).catch(() => undefined);
    const retired = await retireStale(session, revision, artifact.sha256, providerContext(core, signal), core);
    const status = await provider.status(t, undefined, providerContext(core, signal)).catch(() => undefined);
    const url = status?.state === 'ready' ? status.url : undefined;
    timings.total = core.clock.now() - start.started;
    return {
      ...base,
      action: decision.action === 'create' ? 'created' : 'updated',
      ...(url ? { url } : {}),
      artifact: { sha256: artifact.sha256, bytes: artifact.bytes, uri: ref.uri, uploaded: ref.uploaded },
      ...(smoke ? { smoke } : {}),
      retired,
      timings,
    };
  } catch (caught) {
    const error = stoppedError(caught);
    const keep = options.keepOnFailure || (isSmokeFailure(error) && spec.smoke?.onFailure === 'keep');
    if (keep) {
      if (isSmokeFailure(error)) await markFailed(store, t, revision, (error as Error).message, { signal: AbortSignal.timeout(30_000) }).catch(() => undefined);
      await journal.clear(AbortSignal.timeout(30_000)).catch(() => undefined);
      core.progress.emit({ code: 'KeptOnFailure', level: 'warn', message: `keeping what this run created (${journal.resources.map((r) => r.id).join(', ') || 'nothing'}) for inspection; \`modeldeploy down\` removes it` });
      throw error;
    }
    await journal.flush().catch(() => undefined);
    const { removed, remaining } = await rollback(session, journal.movedTraffic ? decision.restorable : undefined, journal.resources, core);
    if (remaining.length === 0) await journal.clear(AbortSignal.timeout(30_000)).catch(() => undefined);
    if (!(error instanceof ModeldeployError)) throw error;
    // What the rollback did travels with the error (the GitHub summary of a failed up lists it).
    throw amended(error, {
      ...(remaining.length ? { message: `${error.message}; rollback left: ${remaining.map((r) => r.id).join(', ')}`, hint: 'Run `modeldeploy down` to remove what is left.' } : {}),
      details: { rolledBack: removed.map(brief), ...(remaining.length ? { remaining: remaining.map(brief) } : {}) },
    });
  }
}

/** One smoke request, bounded by its own timeout; a request that never answers fails the test. */
async function smokeTest(session: Session, to: InvokeTarget, ctx: ProviderContext, core: CoreContext, what: string): Promise<SmokeResult> {
  const smoke = session.t.spec.smoke;
  if (!smoke?.request) throw new Error('no smoke request');
  const timeoutMs = smokeTimeoutMs(smoke.expect.maxLatencyMs);
  const request = await smokeRequest(smoke.request);
  const signal = AbortSignal.any([ctx.signal, core.clock.timeout(timeoutMs)]);
  let result: SmokeResult;
  try {
    result = judgeSmoke(smoke, await session.provider.invoke(session.t, to, request, { ...ctx, signal }));
  } catch (error) {
    if (ctx.signal.aborted || !signal.aborted) throw error;
    result = { passed: false, status: 0, latencyMs: timeoutMs, mismatches: [`no answer within ${formatDuration(timeoutMs)}`] };
  }
  if (!result.passed) throw smokeError(result, what);
  core.progress.emit({ code: 'SmokePassed', level: 'success', message: `smoke test passed (${result.status}, ${Math.round(result.latencyMs)} ms)`, data: { ...result } });
  return result;
}

/** How long a smoke request may take: its latency limit and some, or two minutes. */
export function smokeTimeoutMs(maxLatencyMs: number | undefined): number {
  return maxLatencyMs !== undefined ? maxLatencyMs + 5_000 : 120_000;
}

/** After a successful promote: delete older revisions, and let go of artifacts no revision uses. */
async function retireStale(session: Session, revision: string, sha256: string, ctx: ProviderContext, core: CoreContext): Promise<string[]> {
  try {
    const owned = await ownedInventory(session, ctx, { artifacts: false });
    const staleShas = await staleArtifacts(session.provider.artifacts, session.t, sha256, ctx);
    const stale = [
      ...owned.filter((r) => r.scope === 'revision' && r.revision !== revision),
      ...staleShas.map((sha) => artifactResource(session.provider.artifacts, session.t.name, sha)),
    ];
    const { removed, failed } = await removeInOrder(session, stale, ctx, (resource, error) => {
      if (!error) core.progress.emit({ code: 'Retired', level: 'info', message: `retired ${resource.type} ${resource.id}` });
    });
    const first = failed[0];
    if (first) throw first.error;
    return removed.map((r) => r.id);
  } catch (error) {
    core.progress.emit({ code: 'RetireFailed', level: 'warn', message: `the new revision serves, but an old one could not be removed: ${(error as Error).message}; \`modeldeploy up\` retries, \`down\` removes everything` });
    return [];
  }
}

function brief(r: Resource): Pick<Resource, 'type' | 'id'> {
  return { type: r.type, id: r.id };
}

function isSmokeFailure(error: unknown): boolean {
  return error instanceof ModeldeployError && error.kind === 'smoke';
}

function onRetry(core: CoreContext) {
  return (error: ProviderError, attempt: number, delayMs: number) =>
    core.progress.emit({ code: 'Retrying', level: 'warn', message: `${error.code}: retrying in ${Math.round(delayMs)} ms (attempt ${attempt + 1})` });
}

function planMessage(base: string, decision: Decision, revision: string): string {
  switch (decision.action) {
    case 'create':
      return `plan: create ${base} at revision ${revision}`;
    case 'update':
      return `plan: update ${base} from revision ${decision.current ?? '?'} to ${revision}`;
    case 'unchanged':
      return `plan: ${base} is at revision ${revision}`;
  }
}

/** A `Hashing` event at most once a second while a model is hashed (1 GiB takes seconds). */
function hashProgress(core: CoreContext): (n: number) => void {
  const started = core.clock.now();
  let last = started;
  let done = 0;
  return (n) => {
    done += n;
    const now = core.clock.now();
    if (now - last < 1000) return;
    last = now;
    core.progress.emit({ code: 'Hashing', level: 'info', message: `hashing the model: ${formatBytes(done)} so far (${formatBytes((done / (now - started)) * 1000)}/s)`, data: { hashed: done } });
  };
}

export function shortSha(sha: string): string {
  return sha.slice(0, 12);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
