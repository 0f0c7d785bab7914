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
import type { Current, InvokeTarget, ProviderContext, ProviderDescriptor, Resource } from './provider.js';
import { ownedInventory, removeInOrder } from './removal.js';
import { withRetry } from './retry.js';
import { revisionId } from './revision.js';
import { judgeSmoke, smokeError, smokeRequest, type SmokeResult } from './smoke.js';
import type { DeploymentSpec } from './spec.js';
import { waitUntilSettled } from './wait.js';
import { HashCache, hashArtifact, remoteArtifact } from '../artifacts/hash.js';

export interface UpOptions {
  smoke: boolean;
  keepOnFailure: boolean;
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
  const timings: Record<string, number> = {};
  const lap = (name: string, from: number) => (timings[name] = core.clock.now() - from);
  const deadline = started + spec.timeouts.deployMs;

  const session = await openSession(spec, core);
  const { module, provider, t } = session;
  const { artifact, revision } = await prepareArtifact(spec, module, core);
  lap('hash', started);

  const journal: Resource[] = [];
  const ctx = providerContext(core, core.signal, (r) => journal.push(r));
  const retry = <T>(fn: () => Promise<T>) => withRetry(fn, { clock: core.clock, signal: core.signal, onRetry: onRetry(core) });

  let at = core.clock.now();
  let current: Current | undefined;
  try {
    current = await retry(() => provider.read(t, ctx));
  } catch (error) {
    throw core.signal.aborted ? new InterruptedError('interrupted during up', { cause: error }) : error;
  }
  const decision = decide(current, revision, session);
  lap('plan', at);
  core.progress.emit({ code: 'Planned', level: 'info', message: planMessage(t.base, decision, revision), data: { action: decision.action, revision, current: decision.current } });
  const base = {
    name: spec.name,
    stage: spec.stage,
    provider: spec.provider,
    revision,
    ...(decision.current ? { previousRevision: decision.current } : {}),
  };
  if (decision.action === 'unchanged') {
    const state = current?.state;
    core.progress.emit({ code: 'Unchanged', level: 'success', message: `${t.base} is already at revision ${revision}; nothing to do` });
    return {
      ...base,
      action: 'unchanged',
      ...(state?.state === 'ready' && state.url ? { url: state.url } : {}),
      artifact: { sha256: artifact.sha256, bytes: artifact.bytes, uploaded: false },
      retired: [],
      timings: { ...timings, total: core.clock.now() - started },
    };
  }

  const reachRevision = module.capabilities.reachRevision;
  const smokes = options.smoke && spec.smoke?.request !== undefined;
  /** Whether the new revision may take traffic: then a rollback puts the previous one back first. */
  let trafficMoved = false;
  try {
    at = core.clock.now();
    const ref = await syncArtifact(provider.artifacts, t, artifact, module.rules.packaging?.(t) ?? 'files', ctx);
    lap('upload', at);
    core.progress.emit(
      ref.uploaded
        ? { code: 'Uploaded', level: 'info', message: `uploaded ${formatBytes(ref.bytes)} to ${ref.uri}`, data: { uri: ref.uri, bytes: ref.bytes } }
        : { code: 'UploadSkipped', level: 'info', message: `artifact already at ${ref.uri}; not uploading`, data: { uri: ref.uri } },
    );

    at = core.clock.now();
    core.progress.emit({ code: 'DeployStarted', level: 'step', message: `${decision.action === 'create' ? 'creating' : 'updating'} ${t.base} (revision ${revision})` });
    trafficMoved = reachRevision === 'none';
    await provider.deploy(t, { revision, artifact: ref, reach: smokes && reachRevision !== 'none', ...(decision.current ? { previous: decision.current } : {}) }, ctx);
    const settled = await waitUntilSettled(() => provider.status(t, revision, ctx), {
      clock: core.clock,
      signal: core.signal,
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
    if (smokes && spec.smoke?.request) {
      at = core.clock.now();
      const request = await smokeRequest(spec.smoke.request);
      const to: InvokeTarget = reachRevision === 'none' ? { kind: 'endpoint' } : { kind: 'revision', revision };
      const response = await provider.invoke(t, to, request, ctx);
      smoke = judgeSmoke(spec.smoke, response);
      lap('smoke', at);
      if (!smoke.passed) throw smokeError(smoke, `revision ${revision}`);
      core.progress.emit({ code: 'SmokePassed', level: 'success', message: `smoke test passed (${response.status}, ${Math.round(response.latencyMs)} ms)`, data: { ...smoke } });
    }

    // Providers that cannot reach a revision already serve it; promote lets them finish (e.g.
    // attach autoscaling) and is a no-op for traffic.
    at = core.clock.now();
    trafficMoved = true;
    await retry(() => provider.promote(t, revision, ctx));
    // Interrupted while promote ran: the run is undone like any other (the previous revision back).
    core.signal.throwIfAborted();
    lap('promote', at);
    core.progress.emit({ code: 'Promoted', level: 'info', message: reachRevision === 'none' ? `revision ${revision} serves all traffic` : `traffic moved to revision ${revision}` });
    const retired = await retireStale(session, revision, artifact.sha256, ctx, core);
    const status = await provider.status(t, undefined, ctx).catch(() => undefined);
    const url = status?.state === 'ready' ? status.url : undefined;
    timings.total = core.clock.now() - started;
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
    const error = core.signal.aborted ? new InterruptedError('interrupted during up', { cause: caught }) : caught;
    const keep = options.keepOnFailure || (isSmokeFailure(error) && spec.smoke?.onFailure === 'keep');
    if (keep) {
      core.progress.emit({ code: 'KeptOnFailure', level: 'warn', message: `keeping what this run created (${journal.map((r) => r.id).join(', ') || 'nothing'}) for inspection; \`modeldeploy down\` removes it` });
      throw error;
    }
    const { removed, remaining } = await rollback(session, trafficMoved ? decision.restorable : undefined, journal, core);
    if (!(error instanceof ModeldeployError)) throw error;
    // What the rollback did travels with the error (the GitHub summary of a failed up lists it).
    throw amended(error, {
      ...(remaining.length ? { message: `${error.message}; rollback left: ${remaining.map((r) => r.id).join(', ')}`, hint: 'Run `modeldeploy down` to remove what is left.' } : {}),
      details: { rolledBack: removed.map(brief), ...(remaining.length ? { remaining: remaining.map(brief) } : {}) },
    });
  }
}

/**
 * Undo this run. When the new revision may already take traffic (deploy moved it, or promote was
 * called), first put the previous revision back; then delete what the journal holds. Runs under
 * its own signal: the user's interrupt must not stop the cleanup it asked for.
 */
async function rollback(session: Session, previous: string | undefined, journal: Resource[], core: CoreContext): Promise<{ removed: Resource[]; remaining: Resource[] }> {
  const { provider, t } = session;
  const signal = AbortSignal.timeout(10 * 60_000);
  const ctx = providerContext(core, signal);
  core.progress.emit({ code: 'RollbackStarted', level: 'warn', message: `rolling back: ${journal.length} resource(s) created by this run` });
  if (previous) {
    try {
      await withRetry(() => provider.promote(t, previous, ctx), { clock: core.clock, signal, onRetry: onRetry(core) });
      await waitUntilSettled(() => provider.status(t, previous, ctx), {
        clock: core.clock,
        signal,
        progress: core.progress,
        deadline: core.clock.now() + t.spec.timeouts.deployMs,
        polling: provider.polling,
        what: `previous revision ${previous}`,
      });
      core.progress.emit({ code: 'Restored', level: 'info', message: `traffic restored to revision ${previous}` });
    } catch (error) {
      core.progress.emit({ code: 'RestoreFailed', level: 'warn', message: `could not restore revision ${previous}: ${(error as Error).message}` });
    }
  }
  const { removed, failed } = await removeInOrder(session, journal, ctx, (resource, error) =>
    core.progress.emit(
      error
        ? { code: 'RollbackFailed', level: 'warn', message: `could not remove ${resource.type} ${resource.id}: ${error.message}` }
        : { code: 'RolledBack', level: 'info', message: `removed ${resource.type} ${resource.id}` },
    ),
  );
  const remaining = failed.map((f) => f.resource);
  core.progress.emit({ code: 'RollbackDone', level: remaining.length ? 'warn' : 'info', message: remaining.length ? `rollback left ${remaining.length} resource(s)` : 'rollback complete: nothing of this run is left' });
  return { removed, remaining };
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
