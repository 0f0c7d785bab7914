/**
 * `deploy`: a revision becomes the online deployment `r-<revision>` beside the serving one, at 0%
 * traffic. Its model, code and environment are versions `<revision>` of the `<name>-<stage>`
 * assets; the endpoint is created (or repaired) if needed. The assets and the endpoint do not
 * depend on one another and go at once; every resource is tracked before the call that makes it.
 * Returns once the deployment's operation has started: `status` follows it.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { artifactPrefix } from '../../src/core/artifact-sync.js';
import { UsageError } from '../../src/core/errors.js';
import { withRetry } from '../../src/core/retry.js';
import type { DeployRequest, ProviderContext, Target } from '../../src/core/provider.js';
import type { DeploymentSpec } from '../../src/core/spec.js';
import { revisionTags } from '../../src/core/target.js';
import { BUSY, untilIdle, waitFor } from './arm-call.js';
import type { AssetMeta } from './arm-assets.js';
import type { ArmApi, DeploymentBody, Probe } from './arm.js';
import type { ErrorContext } from './errors.js';
import { MODEL_MOUNT_PATH, resolveServing, ServingError, type ModelFiles, type Serving } from './images.js';
import { findSku } from './instance-types.js';
import { containerResource, deploymentName, deploymentResource, endpointResource, logsCommand, versionResource, type AssetKind } from './names.js';
import { REGISTRY_MODEL } from './rules.js';
import { describeTarget, type AzureRuntime } from './runtime.js';

export async function deploy(az: AzureRuntime, t: Target, request: DeployRequest, ctx: ProviderContext): Promise<void> {
  const { revision, artifact } = request;
  // A model Azure ML cannot serve fails here, before any Azure ML resource exists.
  const serving = await servingOf(t.spec);
  const arm = await az.conn.arm();
  const meta: AssetMeta = { tags: revisionTags(t, revision), description: describeTarget(t, revision) };
  // Every step is idempotent (reads, create-or-update PUTs): one throttled past the SDK's own retries is taken again.
  const retry = <T>(fn: () => Promise<T>) => withRetry(fn, { clock: ctx.clock, signal: ctx.signal });
  const asset = (kind: AssetKind, put: () => Promise<void>) => retry(() => ensureAsset(arm, t, kind, revision, ctx, put));

  const modelId = (async () => {
    if (REGISTRY_MODEL.test(artifact.uri)) return artifact.uri;
    if (artifact.uri.startsWith('hf://')) return undefined; // TGI pulls it from the Hub itself
    await asset('models', () => arm.assets.putModelVersion(t.base, revision, { ...meta, modelUri: artifact.uri, modelType: serving.kind === 'mlflow' ? 'mlflow_model' : 'custom_model' }, ctx.signal));
    return arm.armId(`models/${t.base}/versions/${revision}`);
  })();
  const code = (async (): Promise<DeploymentBody['code']> => {
    const script = serving.kind === 'script' || serving.kind === 'environment' ? serving.scoringScript : undefined;
    if (!script || !t.spec.model.path) return undefined;
    // The scoring code is the uploaded model folder itself (score.py beside the weights).
    const codeUri = await az.store.httpsUrl(artifactPrefix(t.name, artifact.sha256), ctx);
    await asset('codes', () => arm.assets.putCodeVersion(t.base, revision, { ...meta, codeUri }, ctx.signal));
    return { codeId: arm.armId(`codes/${t.base}/versions/${revision}`), scoringScript: script };
  })();
  const environmentId = (async () => {
    if (serving.kind === 'environment') return serving.environmentId;
    if (serving.kind === 'mlflow') return undefined; // no-code: Azure ML builds it from the model
    const body = serving.kind === 'script' ? { image: serving.image, condaFile: serving.condaFile } : { image: serving.image, inference: { liveness: serving.liveness, readiness: serving.readiness, scoring: serving.scoring } };
    await asset('environments', () => arm.assets.putEnvironmentVersion(t.base, revision, { ...meta, ...body }, ctx.signal));
    return arm.armId(`environments/${t.base}/versions/${revision}`);
  })();
  const endpoint = retry(() => ensureEndpoint(az, arm, t, ctx));
  // Every one finishes (or stops on the signal) before deploy answers: a rollback then sees all it made.
  for (const r of await Promise.allSettled([modelId, code, environmentId, endpoint])) if (r.status === 'rejected') throw r.reason;
  const parts = { model: await modelId, code: await code, environmentId: await environmentId };

  const dep = deploymentName(revision);
  const key = `${t.base}/${dep}`;
  az.pending.delete(key);
  let existing = await retry(() => arm.getDeployment(t.base, dep, ctx.signal));
  if (existing && BUSY.has(existing.state)) existing = await untilIdle(() => arm.getDeployment(t.base, dep, ctx.signal), ctx, az.polling);
  // Names carry the revision: a deployment of it that succeeded already has this exact configuration.
  if (existing?.state === 'Succeeded') return;
  ctx.track(deploymentResource(t, revision));
  ctx.progress.emit({ code: 'DeploymentCreating', level: 'info', message: `creating deployment ${dep} on ${t.spec.instance.count} × ${t.spec.instance.type ?? '?'}` });
  const body = deploymentBody(t, serving, revision, parts);
  az.pending.set(key, await retry(() => arm.putDeployment(t.base, dep, body, ctx.signal, deploymentContext(az, t, dep))));
}

/** Version `revision` of an asset unless it exists (versions are immutable); its container first, with the target's tags. */
async function ensureAsset(arm: ArmApi, t: Target, kind: AssetKind, revision: string, ctx: ProviderContext, put: () => Promise<void>): Promise<void> {
  const [version, container] = await Promise.all([arm.assets.getVersion(kind, t.base, revision, ctx.signal), arm.assets.getContainer(kind, t.base, ctx.signal)]);
  if (version) return;
  if (!container) {
    ctx.track(containerResource(kind, t));
    await arm.assets.putContainer(kind, t.base, { tags: { ...t.tags }, description: describeTarget(t) }, ctx.signal);
  }
  ctx.track(versionResource(kind, t, revision));
  await put();
}

/** The endpoint, created if missing and repaired if Failed; waits until it takes a deployment. */
async function ensureEndpoint(az: AzureRuntime, arm: ArmApi, t: Target, ctx: ProviderContext): Promise<void> {
  let endpoint = await arm.getEndpoint(t.base, ctx.signal);
  if (endpoint && BUSY.has(endpoint.state)) endpoint = await untilIdle(() => arm.getEndpoint(t.base, ctx.signal), ctx, az.polling);
  if (endpoint?.state === 'Succeeded') return;
  if (!endpoint) {
    ctx.progress.emit({ code: 'EndpointCreating', level: 'info', message: `creating online endpoint ${t.base} in ${t.region ?? '?'}` });
    ctx.track(endpointResource(t));
  } else {
    // A Failed endpoint takes no new deployment; a PUT of the same endpoint repairs it.
    ctx.progress.emit({ code: 'EndpointRepairing', level: 'warn', message: `online endpoint ${t.base} is ${endpoint.state}; updating it before the new deployment` });
  }
  const lro = await arm.putEndpoint(
    t.base,
    {
      location: endpoint?.location ?? t.region ?? '',
      tags: { ...t.tags },
      authMode: endpoint?.authMode ?? 'Key',
      identityType: endpoint?.identityType ?? 'SystemAssigned',
      description: describeTarget(t),
      traffic: endpoint?.traffic ?? {},
    },
    ctx.signal,
  );
  await waitFor(lro, ctx, az.polling);
}

function deploymentBody(t: Target, serving: Serving, revision: string, parts: { model: string | undefined; code: DeploymentBody['code']; environmentId: string | undefined }): DeploymentBody {
  const { spec } = t;
  const startup = Math.max(10, Math.round(spec.timeouts.startupMs / 1000));
  const readiness: Probe = { initialDelay: 'PT10S', period: 'PT10S', timeout: 'PT2S', failureThreshold: Math.max(3, Math.ceil((startup - 10) / 10)), successThreshold: 1 };
  // Liveness waits out the whole startup time, so a slow model load is not restarted midway.
  const liveness: Probe = { initialDelay: `PT${startup}S`, period: 'PT10S', timeout: 'PT2S', failureThreshold: 3, successThreshold: 1 };
  const container = serving.kind === 'container' ? serving : undefined;
  return {
    location: spec.region ?? '',
    tags: revisionTags(t, revision),
    instanceType: spec.instance.type ?? '',
    instanceCount: spec.instance.count,
    description: describeTarget(t, revision),
    ...(parts.model ? { model: parts.model } : {}),
    ...(container?.mountModel && parts.model ? { modelMountPath: MODEL_MOUNT_PATH } : {}),
    ...(parts.environmentId ? { environmentId: parts.environmentId } : {}),
    ...(parts.code ? { code: parts.code } : {}),
    environmentVariables: { ...container?.env, ...spec.env },
    requestTimeout: spec.model.framework === 'huggingface' ? 'PT180S' : 'PT60S',
    liveness,
    readiness,
  };
}

/** Where a deployment's failure happened, for its message and hints (quota family, logs). */
function deploymentContext(az: AzureRuntime, t: Target, dep: string): ErrorContext {
  const type = t.spec.instance.type ?? '';
  const sku = findSku(type);
  return {
    operation: 'onlineDeployments.createOrUpdate',
    subject: `${t.base}/${dep}`,
    instance: { type, count: t.spec.instance.count, ...(sku ? { family: sku.family } : {}), ...(t.region ? { region: t.region } : {}) },
    logsHint: logsCommand(az.conn.workspace, t.base, dep),
  };
}

async function modelFiles(spec: DeploymentSpec): Promise<ModelFiles | undefined> {
  const dir = spec.model.path;
  if (!dir) return undefined;
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) return { mlmodel: false };
  const isFile = (name: string) => stat(path.join(dir, name)).then((s) => s.isFile(), () => false);
  const [mlmodel, score, condaYaml, condaYml] = await Promise.all([isFile('MLmodel'), isFile('score.py'), isFile('conda.yaml'), isFile('conda.yml')]);
  const conda = condaYaml ? 'conda.yaml' : condaYml ? 'conda.yml' : undefined;
  return {
    mlmodel,
    ...(score ? { scoreScript: 'score.py' } : {}),
    ...(conda ? { condaFile: await readFile(path.join(dir, conda), 'utf8') } : {}),
  };
}

async function servingOf(spec: DeploymentSpec): Promise<Serving> {
  try {
    return resolveServing(spec, await modelFiles(spec));
  } catch (error) {
    if (!(error instanceof ServingError)) throw error;
    throw new UsageError('ModelNotServable', `${spec.file}: ${error.path.join('.')}: ${error.message}`, { hint: error.hint });
  }
}

