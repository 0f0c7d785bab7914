/**
 * `up`: hash → plan → upload → deploy → wait → smoke → promote → retire, once for every
 * provider. Whatever this run created is journaled as it appears, so a failure or an interrupt
 * at any step rolls back exactly that (or restores the previous revision on an update).
 */
import path from 'node:path';
import type { Artifact } from './artifact.js';
import type { CoreContext } from './context.js';
import { providerContext } from './context.js';
import { InterruptedError, ModeldeployError, ProviderError } from './errors.js';
import type { ArtifactRef, Plan, Provider, ProviderContext, Resource, Revision } from './provider.js';
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
export async function prepareArtifact(spec: DeploymentSpec, core: CoreContext): Promise<{ artifact: Artifact; revision: string }> {
  let artifact: Artifact;
  if (spec.model.path) {
    const cache = await HashCache.open(core.cacheDir ? path.join(core.cacheDir, 'hash-cache.json') : undefined);
    artifact = await hashArtifact(spec.model.path, cache);
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
  return { artifact, revision: revisionId(spec, artifact) };
}

export async function up(spec: DeploymentSpec, options: UpOptions, core: CoreContext): Promise<UpResult> {
  const started = core.clock.now();
  const timings: Record<string, number> = {};
  const lap = (name: string, from: number) => (timings[name] = core.clock.now() - from);
  const deadline = started + spec.timeouts.deployMs;

  const provider = await core.registry.provider(spec.provider);
  const { artifact, revision } = await prepareArtifact(spec, core);
  lap('hash', started);

  const journal: Resource[] = [];
  const ctx = { ...providerContext(core, core.signal, (r) => journal.push(r)), smokeTest: options.smoke && spec.smoke?.request !== undefined };
  const retry = <T>(fn: () => Promise<T>) => withRetry(fn, { clock: core.clock, signal: core.signal, onRetry: onRetry(core) });

  let t = core.clock.now();
  const plan = await retry(() => provider.plan(spec, revision, ctx));
  lap('plan', t);
  core.progress.emit({
    code: 'Planned',
    level: 'info',
    message: planMessage(plan),
    data: { action: plan.action, revision, current: plan.current?.revision },
  });
  const base = {
    name: spec.name,
    stage: spec.stage,
    provider: spec.provider,
    revision,
    ...(plan.current ? { previousRevision: plan.current.revision } : {}),
  };
  if (plan.action === 'unchanged') {
    const url = plan.current?.state.state === 'ready' ? plan.current.state.url : undefined;
    core.progress.emit({ code: 'Unchanged', level: 'success', message: `${spec.name}-${spec.stage} is already at revision ${revision}; nothing to do` });
    return {
      ...base,
      action: 'unchanged',
      ...(url ? { url } : {}),
      artifact: { sha256: artifact.sha256, bytes: artifact.bytes, uploaded: false },
      retired: [],
      timings: { ...timings, total: core.clock.now() - started },
    };
  }

  let ref: ArtifactRef | undefined;
  let rev: Revision | undefined;
  try {
    t = core.clock.now();
    ref = await retry(() => provider.upload(plan, artifact, ctx));
    lap('upload', t);
    core.progress.emit(
      ref.uploaded
        ? { code: 'Uploaded', level: 'info', message: `uploaded ${formatBytes(ref.bytes)} to ${ref.uri}`, data: { uri: ref.uri, bytes: ref.bytes } }
        : { code: 'UploadSkipped', level: 'info', message: `artifact already at ${ref.uri}; not uploading`, data: { uri: ref.uri } },
    );

    t = core.clock.now();
    core.progress.emit({ code: 'DeployStarted', level: 'step', message: `${plan.action === 'create' ? 'creating' : 'updating'} ${spec.name}-${spec.stage} (revision ${revision})` });
    const artifactRef = ref;
    rev = await provider.deploy(plan, artifactRef, ctx);
    const deployed = rev;
    const settled = await waitUntilSettled(() => provider.status(plan, deployed, ctx), {
      clock: core.clock,
      signal: core.signal,
      progress: core.progress,
      deadline,
      ...provider.polling,
      what: `revision ${revision}`,
    });
    lap('ready', t);
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
    const routing = provider.rules.capabilities.revisionRouting;
    if (options.smoke && spec.smoke?.request) {
      t = core.clock.now();
      const request = await smokeRequest(spec.smoke.request);
      const response = await provider.invoke(plan, routing ? { kind: 'revision', revision: deployed } : { kind: 'endpoint' }, request, ctx);
      smoke = judgeSmoke(spec.smoke, response);
      lap('smoke', t);
      if (!smoke.passed) throw smokeError(smoke, `revision ${revision}`);
      core.progress.emit({ code: 'SmokePassed', level: 'success', message: `smoke test passed (${response.status}, ${Math.round(response.latencyMs)} ms)`, data: { ...smoke } });
    }

    // Providers without routing already serve the revision; promote lets them finish (e.g.
    // attach autoscaling) and is a no-op for traffic.
    t = core.clock.now();
    await retry(() => provider.promote(plan, deployed, ctx));
    lap('promote', t);
    core.progress.emit({ code: 'Promoted', level: 'info', message: routing ? `traffic moved to revision ${revision}` : `revision ${revision} serves all traffic` });
    const retired = await retireStale(provider, spec, revision, artifact.sha256, ctx, core);
    const status = await provider.status(plan, undefined, ctx).catch(() => undefined);
    const url = status?.state === 'ready' ? status.url : undefined;
    timings.total = core.clock.now() - started;
    return {
      ...base,
      action: plan.action === 'create' ? 'created' : 'updated',
      ...(url ? { url } : {}),
      artifact: { sha256: artifact.sha256, bytes: artifact.bytes, uri: artifactRef.uri, uploaded: artifactRef.uploaded },
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
    const remaining = await rollback(provider, plan, rev, journal, core);
    if (error instanceof ModeldeployError && remaining.length > 0) {
      throw new ModeldeployError(error.kind, error.code, `${error.message}; rollback left: ${remaining.map((r) => r.id).join(', ')}`, {
        hint: 'Run `modeldeploy down` to remove what is left.',
        cause: error,
        details: { ...error.details, remaining },
      });
    }
    throw error;
  }
}

/**
 * Undo this run. On an update whose revision may already take traffic (providers without
 * revision routing), first put the previous revision back; then delete what the journal holds.
 * Runs under its own signal: the user's interrupt must not stop the cleanup it asked for.
 */
async function rollback(provider: Provider, plan: Plan, rev: Revision | undefined, journal: Resource[], core: CoreContext): Promise<Resource[]> {
  const signal = AbortSignal.timeout(10 * 60_000);
  const ctx = providerContext(core, signal);
  core.progress.emit({ code: 'RollbackStarted', level: 'warn', message: `rolling back: ${journal.length} resource(s) created by this run` });
  const retry = <T>(fn: () => Promise<T>) => withRetry(fn, { clock: core.clock, signal, onRetry: onRetry(core) });
  if (plan.current && rev && !provider.rules.capabilities.revisionRouting) {
    try {
      const previous = await retry(() => provider.revision(plan, plan.current?.revision ?? '', ctx));
      if (previous) {
        await retry(() => provider.promote(plan, previous, ctx));
        await waitUntilSettled(() => provider.status(plan, previous, ctx), {
          clock: core.clock,
          signal,
          progress: core.progress,
          deadline: core.clock.now() + plan.spec.timeouts.deployMs,
          ...provider.polling,
          what: `previous revision ${previous.id}`,
        });
        core.progress.emit({ code: 'Restored', level: 'info', message: `traffic restored to revision ${previous.id}` });
      }
    } catch (error) {
      core.progress.emit({ code: 'RestoreFailed', level: 'warn', message: `could not restore revision ${plan.current.revision}: ${(error as Error).message}` });
    }
  }
  const remaining: Resource[] = [];
  for (const resource of [...journal].sort((a, b) => a.order - b.order)) {
    try {
      await retry(() => provider.remove(plan.spec, resource, ctx));
      core.progress.emit({ code: 'RolledBack', level: 'info', message: `removed ${resource.type} ${resource.id}` });
    } catch (error) {
      remaining.push(resource);
      core.progress.emit({ code: 'RollbackFailed', level: 'warn', message: `could not remove ${resource.type} ${resource.id}: ${(error as Error).message}` });
    }
  }
  core.progress.emit({ code: 'RollbackDone', level: remaining.length ? 'warn' : 'info', message: remaining.length ? `rollback left ${remaining.length} resource(s)` : 'rollback complete: nothing of this run is left' });
  return remaining;
}

/** After a successful promote: delete older revisions and artifacts no revision uses. */
async function retireStale(provider: Provider, spec: DeploymentSpec, revision: string, sha256: string, ctx: ProviderContext, core: CoreContext): Promise<string[]> {
  const retired: string[] = [];
  try {
    const inventory = await provider.inventory(spec, ctx);
    const stale = inventory
      .filter((r) => (r.scope === 'revision' && r.revision !== revision) || (r.scope === 'artifact' && r.sha256 !== undefined && r.sha256 !== sha256))
      .sort((a, b) => a.order - b.order);
    for (const resource of stale) {
      await withRetry(() => provider.remove(spec, resource, ctx), { clock: core.clock, signal: ctx.signal });
      retired.push(resource.id);
      core.progress.emit({ code: 'Retired', level: 'info', message: `retired ${resource.type} ${resource.id}` });
    }
  } catch (error) {
    core.progress.emit({ code: 'RetireFailed', level: 'warn', message: `the new revision serves, but an old one could not be removed: ${(error as Error).message}; \`modeldeploy up\` retries, \`down\` removes everything` });
  }
  return retired;
}

function isSmokeFailure(error: unknown): boolean {
  return error instanceof ModeldeployError && error.kind === 'smoke';
}

function onRetry(core: CoreContext) {
  return (error: ProviderError, attempt: number, delayMs: number) =>
    core.progress.emit({ code: 'Retrying', level: 'warn', message: `${error.code}: retrying in ${Math.round(delayMs)} ms (attempt ${attempt + 1})` });
}

function planMessage(plan: Plan): string {
  switch (plan.action) {
    case 'create':
      return `plan: create ${plan.spec.name}-${plan.spec.stage} at revision ${plan.revision}`;
    case 'update':
      return `plan: update ${plan.spec.name}-${plan.spec.stage} from revision ${plan.current?.revision ?? '?'} to ${plan.revision}`;
    case 'unchanged':
      return `plan: ${plan.spec.name}-${plan.spec.stage} is at revision ${plan.revision}`;
  }
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
