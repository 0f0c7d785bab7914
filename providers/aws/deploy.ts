/**
 * Bringing a revision up and putting one in front: CreateModel + CreateEndpointConfig named after
 * the revision, then CreateEndpoint or UpdateEndpoint (SageMaker moves all traffic itself:
 * reachRevision `none`); promote settles the variant's autoscaling, or on rollback moves the
 * endpoint back to an earlier revision's config.
 */
import { ProviderError } from '../../src/core/errors.js';
import { pollUntil } from '../../src/core/poll.js';
import type { DeployRequest, ProviderContext, Resource, Target } from '../../src/core/provider.js';
import { retryWhileBusy, withRetry } from '../../src/core/retry.js';
import { endpointTags, logsHint, ORDER, revisionResourceTags, sagemakerNames, SCALING_TAG, scalingResourceId, TYPE } from './names.js';
import { imageOf } from './rules.js';
import { formatScaling, parseScaling, type ScalingSpec } from './scaling-api.js';
import type { AwsServices } from './services.js';
import type { AwsSettings } from './settings.js';

type AwsTarget = Target<AwsSettings>;

export async function deployRevision(s: AwsServices, t: AwsTarget, request: DeployRequest, ctx: ProviderContext): Promise<void> {
  const { revision, artifact } = request;
  const names = sagemakerNames(t, revision);
  const { spec } = t;
  const serverless = t.settings.serverless ?? undefined;
  const scaling = scalingOf(t);

  // The revision serving now already has its model and config (same name, same content).
  if (request.previous !== revision) {
    const hub = artifact.uri.startsWith('hf://') ? artifact.uri.slice('hf://'.length) : undefined;
    const container = hub
      ? { image: imageOf(t), environment: { HF_MODEL_ID: hub, ...spec.env } }
      : { image: imageOf(t), environment: { ...spec.env }, modelData: artifact.uri };
    // Journaled before the call: a create whose answer is lost (an interrupt) is still rolled back.
    ctx.track(revisionResource(TYPE.model, names.model, revision, ORDER.model));
    await createOrReuse(() => s.sagemaker.createModel(names.model, t.settings.roleArn, container, revisionResourceTags(t, revision)));
    ctx.signal.throwIfAborted();

    const startup = Math.min(3600, Math.max(60, Math.round(spec.timeouts.startupMs / 1000)));
    ctx.track(revisionResource(TYPE.config, names.endpointConfig, revision, ORDER.config));
    await createOrReuse(() =>
      s.sagemaker.createEndpointConfig(
        names.endpointConfig,
        { modelName: names.model, instanceCount: spec.instance.count, startupTimeoutSeconds: startup, ...(serverless ? { serverless } : { instanceType: spec.instance.type ?? '' }) },
        revisionResourceTags(t, revision, scaling ? { [SCALING_TAG]: formatScaling(scaling) } : {}),
      ),
    );
    ctx.signal.throwIfAborted();
  }

  // Already this revision, still settling (a run interrupted while it was Updating): the core waits for it.
  if (request.previous === revision) return;
  if (request.previous) {
    await moveEndpoint(s, t, names.endpointConfig, ctx);
    return;
  }
  const existing = await s.sagemaker.describeEndpoint(names.endpoint, ctx.signal);
  const replace = existing?.status === 'Failed' || existing?.status === 'Deleting';
  if (existing && replace) {
    // DeleteEndpoint is the only operation SageMaker allows on a Failed endpoint.
    ctx.progress.emit({ code: 'ReplacingFailedEndpoint', level: 'warn', message: `endpoint ${names.endpoint} is ${existing.status}${existing.failureReason ? ` (${existing.failureReason})` : ''}; replacing it` });
    await deleteEndpointAndWait(s, names.endpoint, ctx);
  }
  if (existing && !replace) {
    if (existing.configName !== names.endpointConfig) await moveEndpoint(s, t, names.endpointConfig, ctx);
    return;
  }
  ctx.track({ type: TYPE.endpoint, id: names.endpoint, scope: 'endpoint', order: ORDER.endpoint });
  // CreateEndpoint reads the config from an eventually consistent store: a config it cannot see yet is retried.
  await withRetry(
    async () => {
      try {
        await s.sagemaker.createEndpoint(names.endpoint, names.endpointConfig, endpointTags(t));
      } catch (error) {
        if (error instanceof ProviderError && error.category === 'notFound') {
          throw new ProviderError('EndpointConfigNotVisible', error.message, { category: 'unavailable', cause: error });
        }
        throw error;
      }
    },
    { clock: ctx.clock, signal: ctx.signal, attempts: 5, baseMs: s.polling.initialMs, maxMs: s.polling.maxMs },
  );
}

/**
 * Make `revision` the one serving. After a deploy it is already (UpdateEndpoint moved the
 * traffic): only the variant's autoscaling is left to settle. On rollback the endpoint is moved
 * back to the revision's config, and its autoscaling restored once it serves.
 */
export async function promoteRevision(s: AwsServices, t: AwsTarget, revision: string, ctx: ProviderContext): Promise<void> {
  const names = sagemakerNames(t, revision);
  const [endpoint, configArn] = await Promise.all([s.sagemaker.describeEndpoint(names.endpoint, ctx.signal), s.sagemaker.endpointConfigArn(names.endpointConfig, ctx.signal)]);
  if (!endpoint) throw new ProviderError('EndpointNotFound', `endpoint ${names.endpoint} does not exist`, { category: 'notFound' });
  if (!configArn) throw new ProviderError('RevisionNotFound', `endpoint config ${names.endpointConfig} of revision ${revision} does not exist`, { category: 'notFound' });
  // What the revision was deployed with, not what deploy.yaml says now: a rollback restores the old settings.
  const wanted = t.settings.serverless ? undefined : parseScaling((await s.sagemaker.tags(configArn, ctx.signal))[SCALING_TAG]);

  if (endpoint.configName !== names.endpointConfig) {
    await moveEndpoint(s, t, names.endpointConfig, ctx);
    const serving = await pollUntil(
      async () => {
        const now = await s.sagemaker.describeEndpoint(names.endpoint, ctx.signal);
        if (!now || now.status === 'Failed') throw new ProviderError('EndpointNotReady', `endpoint ${names.endpoint} is ${now?.status ?? 'gone'} while moving back to ${names.endpointConfig}`, { category: 'failed', hint: logsHint(t) });
        return now.status === 'InService' ? now : undefined;
      },
      { clock: ctx.clock, signal: ctx.signal, polling: s.polling, deadline: ctx.clock.now() + t.spec.timeouts.deployMs },
    );
    if (serving?.configName !== names.endpointConfig) return; // the core's wait reports why
    if (wanted) await s.scaling.register(names.endpoint, wanted);
    else if (await s.scaling.exists(names.endpoint, ctx.signal)) await s.scaling.deregister(names.endpoint);
    return;
  }
  if (wanted) {
    if (!(await s.scaling.exists(names.endpoint, ctx.signal))) ctx.track(scalingResource(names.endpoint, revision));
    await s.scaling.register(names.endpoint, wanted);
  } else if (await s.scaling.exists(names.endpoint, ctx.signal)) {
    await s.scaling.deregister(names.endpoint);
  }
}

/**
 * UpdateEndpoint to `configName`, waiting while the endpoint is busy. SageMaker refuses to change
 * the instance type of a variant registered for autoscaling: then the variant is deregistered
 * first (promote registers it again for the revision that serves).
 */
async function moveEndpoint(s: AwsServices, t: AwsTarget, configName: string, ctx: ProviderContext): Promise<void> {
  const update = () => retryWhileBusy(ctx, s.polling, () => s.sagemaker.updateEndpoint(t.base, configName));
  try {
    await update();
  } catch (error) {
    const said = error instanceof ProviderError && error.cause instanceof Error ? error.cause.message : '';
    if (!(error instanceof ProviderError) || error.category !== 'invalid' || !/auto ?scaling|scalable target|deregister/i.test(said)) throw error;
    await s.scaling.deregister(t.base);
    await update();
  }
}

/** DeleteEndpoint (once SageMaker lets it), then wait until DescribeEndpoint no longer finds it: configs go next. */
export async function deleteEndpointAndWait(s: AwsServices, name: string, ctx: ProviderContext): Promise<void> {
  try {
    await retryWhileBusy(ctx, s.polling, () => s.sagemaker.deleteEndpoint(name));
  } catch (error) {
    // Gone already, or being deleted: either way, wait until Describe no longer finds it.
    if (!(error instanceof ProviderError) || error.category !== 'notFound') throw error;
  }
  const gone = await pollUntil(async () => ((await s.sagemaker.describeEndpoint(name, ctx.signal)) ? undefined : true), {
    clock: ctx.clock,
    signal: ctx.signal,
    polling: s.polling,
    deadline: ctx.clock.now() + 30 * 60_000,
  });
  if (!gone) throw new ProviderError('EndpointDeleteTimeout', `endpoint ${name} was still there 30 minutes after DeleteEndpoint`, { category: 'failed', retryable: true });
}

/** Names carry the revision: one that exists already (a run kept on failure) is the same and is used as it is. */
async function createOrReuse(create: () => Promise<void>): Promise<void> {
  try {
    await create();
  } catch (error) {
    if (error instanceof ProviderError && error.category === 'conflict' && !error.retryable) return;
    throw error;
  }
}

function scalingOf(t: AwsTarget): ScalingSpec | undefined {
  const a = t.spec.instance.autoscaling;
  if (!a || t.settings.serverless) return undefined;
  return { min: Math.max(1, a.min), max: a.max, target: a.targetInvocationsPerInstance ?? 100 };
}

export function revisionResource(type: string, id: string, revision: string, order: number): Resource {
  return { type, id, scope: 'revision', revision, order };
}

export function scalingResource(endpoint: string, revision?: string): Resource {
  return { type: TYPE.scaling, id: scalingResourceId(endpoint), scope: 'scaling', order: ORDER.scaling, ...(revision ? { revision } : {}) };
}
