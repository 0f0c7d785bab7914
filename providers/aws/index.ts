/**
 * provider: aws — SageMaker real-time endpoints. A revision is a model + an endpoint config
 * named `<name>-<stage>-<revision>`; the endpoint `<name>-<stage>` moves between configs with
 * UpdateEndpoint (SageMaker swaps fleets without downtime). Artifacts live at
 * s3://<bucket>/modeldeploy/<name>/<sha256>/, uncompressed where SageMaker allows it.
 */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { Artifact } from '../../src/core/artifact.js';
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
  Resource,
  Revision,
} from '../../src/core/provider.js';
import { baseName, type DeploymentSpec } from '../../src/core/spec.js';
import { artifactRoot, tarStream } from '../../src/artifacts/package.js';
import { uploadEach, uploadProgress } from '../../src/artifacts/transfer.js';
import { AwsApi, type Tag } from './api.js';
import { isNotFound } from './errors.js';
import { resolveImage } from './images.js';
import { awsRules, sagemakerNames } from './rules.js';

const ORDER = { scaling: 0, endpoint: 1, config: 2, model: 3, artifact: 4 } as const;
const TAG = { deployment: 'modeldeploy:deployment', stage: 'modeldeploy:stage', revision: 'modeldeploy:revision', artifact: 'modeldeploy:artifact' } as const;
const PENDING = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'Deleting']);

export class SageMakerProvider implements Provider {
  readonly id = 'aws' as const;
  readonly rules = awsRules;
  readonly polling = { initialMs: 1000, maxMs: 15_000 };
  private apis = new Map<string, Promise<AwsApi>>();

  private api(spec: Pick<DeploymentSpec, 'region'>, ctx: ProviderContext): Promise<AwsApi> {
    const region = spec.region ?? ctx.env.AWS_REGION ?? 'us-east-1';
    let api = this.apis.get(region);
    if (!api) {
      api = AwsApi.connect(region, ctx.env);
      this.apis.set(region, api);
    }
    return api;
  }

  async plan(spec: DeploymentSpec, revision: string, ctx: ProviderContext): Promise<Plan> {
    const api = await this.api(spec, ctx);
    const names = sagemakerNames(spec, revision);
    const details = { ...this.rules.details?.(spec) };
    const endpoint = await api.describeEndpoint(names.endpoint ?? '');
    // A Failed endpoint can only be deleted; deploy replaces it, so plan it as a create.
    if (!endpoint || endpoint.status === 'Failed') {
      if (endpoint) details.replacesFailedEndpoint = endpoint.failureReason ?? true;
      return { spec, action: 'create', revision, names, details };
    }
    const current = { revision: revisionOfConfig(spec, endpoint.configName), state: endpointState(endpoint) };
    const action = current.revision === revision && current.state.state === 'ready' ? 'unchanged' : 'update';
    return { spec, action, revision, current, names, details: { ...details, endpointArn: endpoint.arn } };
  }

  async upload(plan: Plan, artifact: Artifact, ctx: ProviderContext): Promise<ArtifactRef> {
    const { spec } = plan;
    if (artifact.kind === 'remote') {
      // hf://org/name: the serving container pulls the weights from the Hub (HF_MODEL_ID).
      if (artifact.uri?.startsWith('hf://')) return { uri: artifact.uri, sha256: artifact.sha256, uploaded: false, bytes: 0 };
      if (!artifact.uri?.startsWith('s3://')) {
        throw new ProviderError('ArtifactNotOnS3', `SageMaker reads models from S3; ${artifact.uri} is not an s3:// URI`, { category: 'invalid', hint: 'upload it to S3 or set model.path' });
      }
      return { uri: artifact.uri, sha256: artifact.sha256, uploaded: false, bytes: 0 };
    }
    const api = await this.api(spec, ctx);
    const bucket = spec.aws?.bucket ?? '';
    const prefix = artifactPrefix(spec, artifact.sha256);
    const existing = new Map((await api.listObjects(bucket, prefix)).map((o) => [o.key, o.size]));
    const progress = uploadProgress(ctx, artifact.bytes);

    if (spec.aws?.serverless) {
      // Serverless endpoints cannot read an uncompressed prefix: one deterministic model.tar.gz.
      const key = `${prefix}model.tar.gz`;
      if (existing.has(key)) return { uri: `s3://${bucket}/${key}`, sha256: artifact.sha256, uploaded: false, bytes: existing.get(key) ?? 0 };
      ctx.track(artifactResource(bucket, spec.name, artifact.sha256));
      await api.upload(bucket, key, tarStream(artifact, 'tar.gz'), ctx.signal, (n) => progress(key, n));
      return { uri: `s3://${bucket}/${key}`, sha256: artifact.sha256, uploaded: true, bytes: artifact.bytes };
    }

    const missing = artifact.files.filter((f) => existing.get(prefix + f.path) !== f.bytes);
    if (missing.length > 0) {
      ctx.track(artifactResource(bucket, spec.name, artifact.sha256));
      const root = artifactRoot(artifact);
      await uploadEach(missing, 2, ctx.signal, (file) => api.upload(bucket, prefix + file.path, createReadStream(path.join(root, file.path)), ctx.signal, (n) => progress(file.path, n)));
    }
    return { uri: `s3://${bucket}/${prefix}`, sha256: artifact.sha256, uploaded: missing.length > 0, bytes: artifact.bytes };
  }

  async deploy(plan: Plan, artifact: ArtifactRef, ctx: ProviderContext): Promise<Revision> {
    const { spec } = plan;
    const api = await this.api(spec, ctx);
    const names = sagemakerNames(spec, plan.revision);
    const endpointName = names.endpoint ?? '';
    const modelName = names.model ?? '';
    const configName = names.endpointConfig ?? '';
    const tags = this.tags(spec, plan.revision, artifact.sha256);
    const region = spec.region ?? '';
    const serverless = spec.aws?.serverless;
    const image = spec.model.image ?? resolveImage(spec.model.framework, spec.model.version, region, serverless ? undefined : spec.instance.type);
    const startup = Math.min(3600, Math.max(60, Math.round(spec.timeouts.startupMs / 1000)));

    // Names carry the revision, so a leftover of the same revision (a kept failure) is reused.
    if (!(await api.modelExists(modelName))) {
      const hub = artifact.uri.startsWith('hf://') ? artifact.uri.slice('hf://'.length) : undefined;
      const container = hub
        ? { image, environment: { HF_MODEL_ID: hub, ...spec.env } }
        : { image, environment: spec.env, modelData: artifact.uri };
      await api.createModel(modelName, spec.aws?.roleArn ?? '', container, tags);
      ctx.track({ type: 'sagemaker:model', id: modelName, scope: 'revision', revision: plan.revision, order: ORDER.model });
    }
    if (!(await api.endpointConfigExists(configName))) {
      await api.createEndpointConfig(
        configName,
        {
          modelName,
          instanceCount: spec.instance.count,
          startupTimeoutSeconds: startup,
          ...(serverless ? { serverless } : { instanceType: spec.instance.type ?? '' }),
        },
        tags,
      );
      ctx.track({ type: 'sagemaker:endpoint-config', id: configName, scope: 'revision', revision: plan.revision, order: ORDER.config });
    }
    // CreateEndpoint reads the config from an eventually consistent store: make sure it is visible.
    for (let attempt = 0; !(await api.endpointConfigExists(configName)); attempt++) {
      if (attempt >= 5) throw new ProviderError('EndpointConfigNotVisible', `endpoint config ${configName} is not visible after creation`, { category: 'unavailable' });
      await ctx.clock.sleep(1000 * (attempt + 1), ctx.signal);
    }

    const existing = await api.describeEndpoint(endpointName);
    if (existing?.status === 'Failed') {
      // DeleteEndpoint is the only operation SageMaker allows on a Failed endpoint.
      ctx.progress.emit({ code: 'ReplacingFailedEndpoint', level: 'warn', message: `endpoint ${endpointName} is Failed (${existing.failureReason ?? 'no reason given'}); replacing it` });
      await this.deleteEndpointAndWait(api, endpointName, ctx);
    }
    if (!existing || existing.status === 'Failed') {
      await api.createEndpoint(endpointName, configName, this.tags(spec));
      ctx.track({ type: 'sagemaker:endpoint', id: endpointName, scope: 'endpoint', order: ORDER.endpoint });
    } else if (existing.configName !== configName) {
      // An instance-type change is refused while the variant is a scalable target.
      if (spec.instance.autoscaling || (await api.scalableTargetExists(endpointName))) await api.deregisterScaling(endpointName);
      await api.updateEndpoint(endpointName, configName);
    }
    return { id: plan.revision, handle: { endpoint: endpointName, endpointConfig: configName, model: modelName } };
  }

  async status(plan: Plan, revision: Revision | undefined, ctx: ProviderContext): Promise<EndpointState> {
    const api = await this.api(plan.spec, ctx);
    const endpoint = await api.describeEndpoint(baseName(plan.spec));
    if (!endpoint) return { state: 'absent' };
    const state = endpointState(endpoint);
    if (!revision || state.state !== 'ready') return state;
    if (endpoint.configName === revision.handle.endpointConfig) return state;
    // InService on another config after our UpdateEndpoint: SageMaker rolled the update back.
    if (endpoint.failureReason) return { state: 'failed', reason: `the update to ${String(revision.handle.endpointConfig)} failed: ${endpoint.failureReason}`, logsHint: cloudWatchHint(plan.spec) };
    return { state: 'pending', detail: `waiting for ${String(revision.handle.endpointConfig)}` };
  }

  async invoke(plan: Plan, _target: InvokeTarget, request: InvokeRequest, ctx: ProviderContext): Promise<InvokeResponse> {
    const api = await this.api(plan.spec, ctx);
    const started = performance.now();
    const out = await api.invoke(baseName(plan.spec), request.body, request.contentType, request.accept);
    return { ...out, latencyMs: performance.now() - started };
  }

  async promote(plan: Plan, revision: Revision, ctx: ProviderContext): Promise<void> {
    const { spec } = plan;
    const api = await this.api(spec, ctx);
    const endpointName = baseName(spec);
    const endpoint = await api.describeEndpoint(endpointName);
    if (!endpoint) throw new ProviderError('EndpointNotFound', `endpoint ${endpointName} does not exist`, { category: 'notFound' });
    const configName = String(revision.handle.endpointConfig);
    if (endpoint.configName !== configName) {
      await api.updateEndpoint(endpointName, configName); // rollback to a previous revision
      return;
    }
    const scaling = spec.instance.autoscaling;
    if (scaling && revision.id === plan.revision && !spec.aws?.serverless) {
      await api.registerScaling(endpointName, Math.max(1, scaling.min), scaling.max, scaling.targetInvocationsPerInstance ?? 100);
      ctx.track({ type: 'application-autoscaling:scalable-target', id: api.scalingResourceId(endpointName), scope: 'scaling', order: ORDER.scaling });
    }
  }

  async revision(plan: Plan, id: string, ctx: ProviderContext): Promise<Revision | undefined> {
    const api = await this.api(plan.spec, ctx);
    const names = sagemakerNames(plan.spec, id);
    if (!(await api.endpointConfigExists(names.endpointConfig ?? ''))) return undefined;
    return { id, handle: { endpoint: names.endpoint ?? '', endpointConfig: names.endpointConfig ?? '', model: names.model ?? '' } };
  }

  async inventory(spec: DeploymentSpec, ctx: ProviderContext): Promise<Resource[]> {
    const api = await this.api(spec, ctx);
    const base = baseName(spec);
    const ours = new RegExp(`^${base}-([0-9a-f]{8})$`);
    const resources: Resource[] = [];
    if (await api.scalableTargetExists(base)) {
      resources.push({ type: 'application-autoscaling:scalable-target', id: api.scalingResourceId(base), scope: 'scaling', order: ORDER.scaling });
    }
    const endpoint = await api.describeEndpoint(base);
    if (endpoint && this.owned(await api.tags(endpoint.arn), spec)) {
      resources.push({ type: 'sagemaker:endpoint', id: base, scope: 'endpoint', order: ORDER.endpoint, description: endpoint.status });
    }
    for (const name of await api.listEndpointConfigNames(base)) {
      const revision = ours.exec(name)?.[1];
      const arn = revision && (await api.endpointConfigArn(name));
      if (revision && arn && this.owned(await api.tags(arn), spec)) {
        resources.push({ type: 'sagemaker:endpoint-config', id: name, scope: 'revision', revision, order: ORDER.config });
      }
    }
    // Artifacts are shared by the stages of a deployment (same content, same address): this
    // stage owns the ones no other stage's model points at.
    const otherStages = new Set<string>();
    for (const name of await api.listModelNames(`${spec.name}-`)) {
      const arn = await api.modelArn(name);
      if (!arn) continue;
      const tags = await api.tags(arn);
      if (tags[TAG.deployment] !== spec.name) continue;
      const revision = ours.exec(name)?.[1];
      if (tags[TAG.stage] === spec.stage && revision) {
        resources.push({ type: 'sagemaker:model', id: name, scope: 'revision', revision, order: ORDER.model });
      } else {
        const sha = tags[TAG.artifact];
        if (tags[TAG.stage] !== spec.stage && sha) otherStages.add(sha);
      }
    }
    if (spec.aws?.bucket) {
      for (const prefix of await api.listPrefixes(spec.aws.bucket, `modeldeploy/${spec.name}/`)) {
        const sha = prefix.split('/')[2] ?? '';
        if (/^[0-9a-f]{64}$/.test(sha) && !otherStages.has(sha)) resources.push(artifactResource(spec.aws.bucket, spec.name, sha));
      }
    }
    return resources;
  }

  async remove(spec: DeploymentSpec, resource: Resource, ctx: ProviderContext): Promise<void> {
    const api = await this.api(spec, ctx);
    try {
      switch (resource.type) {
        case 'application-autoscaling:scalable-target':
          return await api.deregisterScaling(baseName(spec));
        case 'sagemaker:endpoint':
          return await this.deleteEndpointAndWait(api, resource.id, ctx);
        case 'sagemaker:endpoint-config':
          return await api.deleteEndpointConfig(resource.id);
        case 'sagemaker:model':
          return await api.deleteModel(resource.id);
        case 's3:artifact': {
          const bucket = spec.aws?.bucket ?? '';
          const keys = (await api.listObjects(bucket, artifactPrefix(spec, resource.sha256 ?? ''))).map((o) => o.key);
          return await api.deleteObjects(bucket, keys);
        }
        default:
          throw new ProviderError('UnknownResource', `cannot remove ${resource.type}`, { category: 'invalid' });
      }
    } catch (error) {
      if (isNotFound(error)) return; // already gone is success
      throw error;
    }
  }

  async list(spec: Pick<DeploymentSpec, 'region'>, ctx: ProviderContext): Promise<DeploymentSummary[]> {
    const api = await this.api(spec, ctx);
    const out: DeploymentSummary[] = [];
    for (const e of await api.listEndpoints()) {
      const tags = await api.tags(e.arn);
      const name = tags[TAG.deployment];
      const stage = tags[TAG.stage];
      if (!name || !stage) continue;
      const endpoint = await api.describeEndpoint(e.name);
      const state = endpoint ? endpointState(endpoint) : ({ state: 'absent' } as const);
      const revision = endpoint ? revisionOfConfig({ name, stage }, endpoint.configName) : undefined;
      out.push({ name, stage, state: state.state, ...(revision ? { revision } : {}), ...(state.state === 'ready' && state.url ? { url: state.url } : {}) });
    }
    return out;
  }

  private owned(tags: Record<string, string>, spec: DeploymentSpec): boolean {
    return tags[TAG.deployment] === spec.name && tags[TAG.stage] === spec.stage;
  }

  private tags(spec: DeploymentSpec, revision?: string, sha256?: string): Tag[] {
    return [
      ...Object.entries(spec.tags).map(([Key, Value]) => ({ Key, Value })),
      { Key: TAG.deployment, Value: spec.name },
      { Key: TAG.stage, Value: spec.stage },
      ...(revision ? [{ Key: TAG.revision, Value: revision }] : []),
      ...(sha256 ? [{ Key: TAG.artifact, Value: sha256 }] : []),
    ];
  }

  /** DeleteEndpoint, then wait until DescribeEndpoint no longer finds it: configs go next. */
  private async deleteEndpointAndWait(api: AwsApi, name: string, ctx: ProviderContext): Promise<void> {
    const deadline = ctx.clock.now() + 30 * 60_000;
    let interval = 1000;
    let deleting = false;
    while (ctx.clock.now() < deadline) {
      const endpoint = await api.describeEndpoint(name);
      if (!endpoint) return;
      if (!deleting && !PENDING.has(endpoint.status)) {
        await api.deleteEndpoint(name);
        deleting = true;
        continue; // look again at once: a fast delete needs no wait
      }
      if (endpoint.status !== 'Deleting' && !PENDING.has(endpoint.status)) deleting = false; // the delete did not take
      await ctx.clock.sleep(interval, ctx.signal);
      interval = Math.min(10_000, interval * 1.5);
    }
    throw new ProviderError('EndpointDeleteTimeout', `endpoint ${name} was still there 30 minutes after DeleteEndpoint`, { category: 'failed' });
  }
}

function endpointState(endpoint: { name: string; arn: string; status: string; failureReason?: string }): EndpointState {
  if (endpoint.status === 'InService') return { state: 'ready', url: runtimeUrl(endpoint) };
  if (PENDING.has(endpoint.status)) return { state: 'pending', detail: endpoint.status };
  return { state: 'failed', reason: `endpoint is ${endpoint.status}${endpoint.failureReason ? `: ${endpoint.failureReason}` : ''}` };
}

/** The HTTPS address InvokeEndpoint posts to (region from the ARN). */
function runtimeUrl(endpoint: { name: string; arn: string }): string {
  const region = endpoint.arn.split(':')[3] || 'us-east-1';
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://runtime.sagemaker.${region}.${domain}/endpoints/${endpoint.name}/invocations`;
}

function revisionOfConfig(spec: Pick<DeploymentSpec, 'name' | 'stage'>, configName: string): string {
  const base = baseName(spec);
  return configName.startsWith(`${base}-`) ? configName.slice(base.length + 1) : configName;
}

function artifactPrefix(spec: Pick<DeploymentSpec, 'name'>, sha256: string): string {
  return `modeldeploy/${spec.name}/${sha256}/`;
}

function artifactResource(bucket: string, name: string, sha256: string): Resource {
  return { type: 's3:artifact', id: `s3://${bucket}/modeldeploy/${name}/${sha256}/`, scope: 'artifact', sha256, order: ORDER.artifact };
}

function cloudWatchHint(spec: DeploymentSpec): string {
  return `CloudWatch log group /aws/sagemaker/Endpoints/${baseName(spec)} in ${spec.region ?? 'the region'}`;
}

export function createProvider(): Provider {
  return new SageMakerProvider();
}
