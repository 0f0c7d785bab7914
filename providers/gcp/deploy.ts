/**
 * Bringing a revision up and giving it the traffic.
 *
 * Vertex AI routes predictions by traffic split only: a model deployed at 0% cannot be called.
 * So when a revision already serves and the core will reach the new one (`reach`), the new
 * version is deployed to the endpoint at 0% and, at the same time, to a short-lived smoke
 * endpoint `<base>-<revision>` (label modeldeploy-role=smoke) where it takes all traffic; the core
 * smoke-tests it there. Only then does `promote` give it 100% of the endpoint (one PATCH), move
 * the `default` alias to its version, and delete the smoke endpoint. On a first deploy the
 * revision takes all of the endpoint's traffic at once (nothing else serves).
 */
import { ProviderError, UsageError } from '../../src/core/errors.js';
import type { DeployRequest, ProviderContext, Resource, Target } from '../../src/core/provider.js';
import { retryWhileBusy } from '../../src/core/retry.js';
import { isOwned } from '../../src/core/target.js';
import type { DeploymentSpec } from '../../src/core/spec.js';
import { canonicalStatus, type ErrorContext } from './errors.js';
import { GcpServingError, resolveServing, type VertexServing } from './images.js';
import {
  LABEL,
  deployedModelIdOf,
  deployedModelResource,
  endpointResource,
  gcpLabels,
  modelResource,
  ownerOfLabels,
  revisionName,
  smokeEndpointId,
  smokeEndpointResource,
  versionResource,
} from './names.js';
import { chainKey, keyOf, type Tracked } from './operations.js';
import type { EndpointInfo, ModelVersionInfo } from './rest.js';
import { ACCELERATORS } from './rules.js';
import type { ContainerSpec, DeployModelRequest } from './sdk.js';
import { assertOwned, logsHint, type Vertex } from './vertex.js';
import { removeEndpoint } from './teardown.js';

/**
 * Returns once the first changes are under way (the version's upload and the endpoint's creation
 * answered with their operations); the rest runs in the background as one chain per endpoint,
 * which status() reports on and remove() waits for.
 */
export async function deploy(v: Vertex, t: Target, request: DeployRequest, ctx: ProviderContext): Promise<void> {
  const serving = servingOf(t.spec);
  const { revision } = request;
  const dm = deployedModelIdOf(revision);
  const [versions, existing] = await Promise.all([v.rest.listModelVersions(t.base, ctx), v.rest.getEndpoint(t.base, ctx)]);
  if (versions.length > 0 && !versions.some((version) => isOwned(ownerOfLabels(version.labels), t))) {
    throw new ProviderError('ModelNotOwned', `Vertex AI model ${t.base} exists in ${v.rest.parent} but modeldeploy did not create it for ${t.name} (${t.stage})`, {
      category: 'conflict',
      hint: 'Pick another name or stage, or delete that model.',
    });
  }
  if (existing) assertOwned(v, t, existing);
  const othersServe = Object.entries(existing?.trafficSplit ?? {}).some(([id, share]) => id !== dm && share > 0);

  // The version and the endpoint do not depend on each other: both operations run at once.
  const version = startVersion(v, t, serving, request, versions, ctx);
  const endpoint = existing ? done(existing) : startEndpoint(v, t, t.base, gcpLabels(t), endpointResource(t.base), ctx);
  const main = v.ops.chain(chainKey(t.base, revision), ctx, async (chain) => {
    const [model, ep] = await abortable(Promise.all([version.ready, endpoint.ready]), chain.signal);
    if (ep.deployedModels.some((d) => d.id === dm)) return;
    // Beside a serving model the new one comes in at 0% (an empty split leaves traffic alone).
    chain.signal.throwIfAborted();
    await startDeploy(v, t, t.base, revision, model, othersServe ? {} : { '0': 100 }, chain).done;
  });
  main.catch(() => undefined); // observed through status()
  if (othersServe && request.reach) startSmoke(v, t, revision, version.ready, ctx);
  await Promise.all([version.started, endpoint.started]);
}

/** `promise`, or the signal's reason as soon as it aborts (the work behind the promise goes on). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** A change under way: `started` once its call answered, `ready` with its result once done. */
interface Change<T> {
  started: Promise<unknown>;
  ready: Promise<T>;
}

function done<T>(value: T): Change<T> {
  const ready = Promise.resolve(value);
  return { started: ready, ready };
}

/** One model version per revision (alias r-<revision>), found again when an earlier run left it; `ready` names it. */
function startVersion(v: Vertex, t: Target, serving: VertexServing, request: DeployRequest, versions: ModelVersionInfo[], ctx: ProviderContext): Change<string> {
  const { revision } = request;
  const alias = revisionName(revision);
  const named = (versionId: string) => `${v.rest.modelName(t.base)}@${versionId}`;
  const found = versions.find((version) => version.versionAliases.includes(alias));
  if (found) return done(named(found.versionId));
  const first = versions.length === 0;
  const resource = first ? modelResource(t.base) : versionResource(t.base, alias, revision);
  ctx.track(resource);
  // Not abortable: an interrupted run still learns the operation it must cancel.
  const upload = () =>
    v.changes.uploadModel(
      {
        modelId: t.base,
        parentModel: !first,
        displayName: t.base,
        description: `modeldeploy ${t.name} (${t.stage}), revision ${revision}`,
        ...(serving.needsArtifact ? { artifactUri: request.artifact.uri } : {}),
        containerSpec: containerSpec(t.spec, serving),
        labels: gcpLabels(t, { [LABEL.revision]: revision }),
        versionAliases: [alias],
      },
      { clock: ctx.clock },
    );
  const tracked = v.ops.track(keyOf(resource), upload, { operation: 'upload model', subject: t.base }, ctx);
  const ready = tracked.done.then(async (response) => {
    let versionId = typeof response?.modelVersionId === 'string' ? response.modelVersionId : undefined;
    versionId ??= (await v.rest.listModelVersions(t.base, ctx)).find((version) => version.versionAliases.includes(alias))?.versionId;
    if (versionId === undefined) throw new ProviderError('ModelVersionMissing', `model ${t.base} has no version ${alias} after its upload finished`, { category: 'failed' });
    return named(versionId);
  });
  return { started: tracked.started, ready };
}

/** Create an endpoint; one a concurrent or interrupted run created is adopted if it is ours. */
function startEndpoint(v: Vertex, t: Target, id: string, labels: Record<string, string>, resource: Resource, ctx: ProviderContext): Change<EndpointInfo> {
  ctx.track(resource);
  const tracked = v.ops.track(keyOf(resource), () => v.changes.createEndpoint(id, labels, { clock: ctx.clock }), { operation: 'create endpoint', subject: id }, ctx);
  const adopt = (error: unknown): undefined => {
    if (error instanceof ProviderError && canonicalStatus(error.cause) === 'ALREADY_EXISTS') return undefined;
    throw error;
  };
  const ready = tracked.done.then(() => undefined, adopt).then(async () => {
    const endpoint = await v.rest.getEndpoint(id, ctx);
    if (!endpoint) throw new ProviderError('EndpointMissing', `endpoint ${id} does not exist after its creation finished`, { category: 'failed' });
    assertOwned(v, t, endpoint);
    return endpoint;
  });
  return { started: tracked.started.then(() => undefined, adopt), ready };
}

/**
 * The smoke endpoint and the revision on it, in the background beside the main deploy: the
 * smoke endpoint exists to reach the new model at all.
 */
function startSmoke(v: Vertex, t: Target, revision: string, model: Promise<string>, ctx: ProviderContext): void {
  const smokeId = smokeEndpointId(t.base, revision);
  const dm = deployedModelIdOf(revision);
  const run = v.ops.chain(chainKey(smokeId, revision), ctx, async (chain) => {
    let smoke = await v.rest.getEndpoint(smokeId, chain);
    if (smoke) assertOwned(v, t, smoke);
    else {
      chain.signal.throwIfAborted();
      const labels = gcpLabels(t, { [LABEL.revision]: revision, [LABEL.role]: 'smoke' });
      smoke = await startEndpoint(v, t, smokeId, labels, smokeEndpointResource(smokeId, revision), chain).ready;
    }
    const modelName = await abortable(model, chain.signal);
    if (smoke.deployedModels.some((d) => d.id === dm)) return;
    chain.signal.throwIfAborted();
    await startDeploy(v, t, smokeId, revision, modelName, { '0': 100 }, chain).done;
  });
  run.catch(() => undefined); // observed through status()
}

/** Start deployModel; the operation is followed in the background, for status() and remove(). */
function startDeploy(v: Vertex, t: Target, endpointId: string, revision: string, model: string, trafficSplit: Record<string, number>, ctx: ProviderContext): Tracked {
  const resource = deployedModelResource(endpointId, deployedModelIdOf(revision), revision);
  ctx.track(resource);
  const request = deployRequest(t.spec, endpointId, revision, model, trafficSplit);
  const where: ErrorContext = { operation: 'deploy model', subject: `${revisionName(revision)} to endpoint ${endpointId}`, logsHint: logsHint(v, endpointId), machine: machineOf(v, request) };
  const start = () =>
    // Not abortable: an interrupted run still learns the operation it must cancel.
    v.changes.deployModel(request, where, { clock: ctx.clock }).catch((error: unknown) => {
      // The same deployed model id is already deploying: an earlier try of this call whose answer
      // was lost, or another run of this revision. Its operation is not ours to follow; status()
      // watches the endpoint instead, within the deploy timeout.
      if (error instanceof ProviderError && canonicalStatus(error.cause) === 'ALREADY_EXISTS') return undefined;
      throw error;
    });
  return v.ops.track(keyOf(resource), start, where, ctx);
}

function deployRequest(spec: DeploymentSpec, endpointId: string, revision: string, model: string, trafficSplit: Record<string, number>): DeployModelRequest {
  const { accelerator, autoscaling } = spec.instance;
  return {
    endpointId,
    deployedModelId: deployedModelIdOf(revision),
    model,
    displayName: revisionName(revision),
    machineType: spec.instance.type ?? 'n1-standard-2',
    ...(accelerator ? { acceleratorType: ACCELERATORS[accelerator.type.toLowerCase()] ?? accelerator.type, acceleratorCount: accelerator.count } : {}),
    minReplicaCount: autoscaling?.min ?? spec.instance.count,
    maxReplicaCount: autoscaling?.max ?? spec.instance.count,
    trafficSplit,
  };
}

/** What a deploy asks for, for quota hints: quota is charged on the maximum replica count. */
function machineOf(v: Vertex, request: DeployModelRequest): NonNullable<ErrorContext['machine']> {
  return {
    type: request.machineType,
    count: request.maxReplicaCount,
    region: v.rest.target.location,
    ...(request.acceleratorType ? { accelerator: `${request.acceleratorCount ?? 1} × ${request.acceleratorType}` } : {}),
  };
}

/**
 * All of the endpoint's traffic to the revision (one PATCH, read again on each try so its etag is
 * current), its version becomes the model's default (so older ones can be deleted), and its smoke
 * endpoint goes. Idempotent.
 */
export async function promote(v: Vertex, t: Target, revision: string, ctx: ProviderContext): Promise<void> {
  const dm = deployedModelIdOf(revision);
  const alias = revisionName(revision);
  const moveTraffic = retryWhileBusy(ctx, v.polling, async () => {
    const endpoint = await v.rest.getEndpoint(t.base, ctx);
    if (!endpoint) throw new ProviderError('EndpointNotFound', `Vertex AI endpoint ${t.base} does not exist`, { category: 'notFound' });
    if (!endpoint.deployedModels.some((d) => d.id === dm)) {
      throw new ProviderError('DeployedModelNotFound', `revision ${revision} is not deployed on endpoint ${t.base}`, { category: 'notFound' });
    }
    if (endpoint.trafficSplit[dm] !== 100) await v.changes.setTraffic(endpoint, { [dm]: 100 }, ctx);
  });
  const [, versions] = await Promise.all([moveTraffic, v.rest.listModelVersions(t.base, ctx)]);
  const version = versions.find((candidate) => candidate.versionAliases.includes(alias));
  if (version && !version.versionAliases.includes('default')) await v.changes.mergeVersionAliases(t.base, version.versionId, ['default'], ctx);
  await removeEndpoint(v, t, smokeEndpointResource(smokeEndpointId(t.base, revision), revision), ctx);
}

export function servingOf(spec: DeploymentSpec): VertexServing {
  try {
    return resolveServing(spec);
  } catch (error) {
    if (!(error instanceof GcpServingError)) throw error;
    throw new UsageError('ModelNotServable', `${spec.file}: ${error.path.join('.')}: ${error.message}`, { hint: error.hint });
  }
}

/** The serving image's spec; deploy.yaml's env wins over the image defaults of the same name. */
function containerSpec(spec: DeploymentSpec, serving: VertexServing): ContainerSpec {
  const env = [...serving.env.filter((e) => !(e.name in spec.env)), ...Object.entries(spec.env).map(([name, value]) => ({ name, value }))];
  return {
    imageUri: serving.imageUri,
    ...(serving.command ? { command: serving.command } : {}),
    ...(serving.args ? { args: serving.args } : {}),
    ...(env.length ? { env } : {}),
    ...(serving.port ? { ports: [{ containerPort: serving.port }] } : {}),
    ...(serving.predictRoute ? { predictRoute: serving.predictRoute } : {}),
    ...(serving.healthRoute ? { healthRoute: serving.healthRoute } : {}),
  };
}
