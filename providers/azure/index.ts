/**
 * provider: azure — Azure ML managed online endpoints. The endpoint `<name>-<stage>` holds one
 * online deployment per revision, `r-<revision>`; a new revision is created beside the serving
 * one at 0% traffic, smoke-tested through the `azureml-model-deployment` header, and only then
 * given 100% (a PUT of the endpoint's traffic); the old deployment is retired after. Model, code
 * and environment assets are named `<name>-<stage>` with the revision as version. Artifacts live
 * in the workspace's default blob datastore under modeldeploy/<name>/<sha256>/.
 *
 * Settings (environment variables, all optional):
 *   MODELDEPLOY_AZURE_ACCESS_TOKEN   an ARM bearer token (`az account get-access-token --query accessToken -o tsv`);
 *                                    without it DefaultAzureCredential is used
 *   MODELDEPLOY_AZURE_ARM_ENDPOINT   the ARM URL (sovereign clouds: https://management.usgovcloudapi.net, …)
 *   MODELDEPLOY_AZURE_BLOB_ENDPOINT  the datastore account's blob URL (private endpoints, Azurite)
 *   MODELDEPLOY_AZURE_POLL_INTERVAL  how often long-running operations are polled (default 2s, backing off to 30s)
 * NODE_EXTRA_CA_CERTS of the environment the core passes in is honoured for ARM and scoring calls
 * (Node applies it to its own process at start; a provider driven with another env gets it too).
 */
import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { rootCertificates } from 'node:tls';
import type { Artifact } from '../../src/core/artifact.js';
import { ProviderError, UsageError } from '../../src/core/errors.js';
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
import { baseName, type DeploymentSpec, durationSetting } from '../../src/core/spec.js';
import { retryWhileBusy } from '../../src/core/retry.js';
import { artifactRoot } from '../../src/artifacts/package.js';
import { uploadEach, uploadProgress } from '../../src/artifacts/transfer.js';
import { AzureMlApi, type AssetKind, type DatastoreInfo, type DeploymentBody, type EndpointInfo, type Lro, type Probe, type TokenCredentialLike } from './api.js';
import { BlobStore, type BlobAuth } from './blob.js';
import type { ErrorContext } from './errors.js';
import { describeServing, MODEL_MOUNT_PATH, resolveServing, ServingError, type ModelFiles, type Serving } from './images.js';
import { findSku } from './instance-types.js';
import { azureNames, azureRules, deploymentName } from './rules.js';
import { scoringPost } from './scoring.js';

const ORDER = { endpoint: 1, deployment: 2, version: 3, container: 4, artifact: 5 } as const;
const TAG = { deployment: 'modeldeploy:deployment', stage: 'modeldeploy:stage', revision: 'modeldeploy:revision', artifact: 'modeldeploy:artifact' } as const;
const TYPE = {
  endpoint: 'azureml:online-endpoint',
  deployment: 'azureml:online-deployment',
  artifact: 'azureml:blob-artifact',
} as const;
const KINDS: readonly AssetKind[] = ['models', 'codes', 'environments'];
const ASSET_TYPE: Record<AssetKind, string> = { models: 'azureml:model', codes: 'azureml:code', environments: 'azureml:environment' };
const BUSY = new Set(['Creating', 'Updating', 'Deleting', 'Scaling']);
const DEPLOYMENT_NAME = /^r-([0-9a-f]{8})$/;
const REGISTRY_MODEL = /^azureml:\/\/registries\/[^/]+\/models\/[^/]+\/versions\/[^/]+$/i;
const DEFAULT_POLL_MS = 2000;
const MAX_POLL_MS = 30_000;

interface Settings {
  accessToken?: string;
  ca?: string[];
  armEndpoint?: string;
  blobEndpoint?: string;
  pollMs: number;
}

export class AzureMlProvider implements Provider {
  readonly id = 'azure' as const;
  readonly rules = azureRules;
  private pollMs = DEFAULT_POLL_MS;
  private readonly apis = new Map<string, Promise<AzureMlApi>>();
  private readonly stores = new Map<string, Promise<{ store: BlobStore; datastore: DatastoreInfo }>>();
  /** Deployment creations in flight in this process: `status` polls their operation. */
  private readonly pending = new Map<string, Lro<unknown>>();
  /** Scoring URI and key per endpoint, in memory only: the key is never printed or stored. */
  private readonly scoring = new Map<string, { url: string; key: string }>();

  get polling(): { initialMs: number; maxMs: number } {
    return { initialMs: this.pollMs, maxMs: Math.max(this.pollMs, Math.min(MAX_POLL_MS, this.pollMs * 15)) };
  }

  private settings(env: NodeJS.ProcessEnv): Settings {
    const token = env.MODELDEPLOY_AZURE_ACCESS_TOKEN?.trim();
    return {
      ...(token ? { accessToken: token } : {}),
      ...(env.MODELDEPLOY_AZURE_ARM_ENDPOINT ? { armEndpoint: env.MODELDEPLOY_AZURE_ARM_ENDPOINT } : {}),
      ...(env.MODELDEPLOY_AZURE_BLOB_ENDPOINT ? { blobEndpoint: env.MODELDEPLOY_AZURE_BLOB_ENDPOINT } : {}),
      pollMs: durationSetting('MODELDEPLOY_AZURE_POLL_INTERVAL', env.MODELDEPLOY_AZURE_POLL_INTERVAL, DEFAULT_POLL_MS),
      ...(env.NODE_EXTRA_CA_CERTS ? { ca: trustedCas(env.NODE_EXTRA_CA_CERTS) } : {}),
    };
  }

  private api(spec: Pick<DeploymentSpec, 'azure'>, ctx: ProviderContext): Promise<AzureMlApi> {
    const azure = spec.azure;
    if (!azure) {
      return Promise.reject(new UsageError('AzureBlockMissing', 'provider azure needs an azure block', { hint: 'add `azure: {subscriptionId: …, resourceGroup: …, workspace: …}`' }));
    }
    const settings = this.settings(ctx.env);
    this.pollMs = settings.pollMs;
    const key = [azure.subscriptionId, azure.resourceGroup, azure.workspace, settings.armEndpoint ?? ''].join('|').toLowerCase();
    let api = this.apis.get(key);
    if (!api) {
      api = credentialFor(settings).then((credential) =>
        AzureMlApi.connect(azure, { credential, ...(settings.armEndpoint ? { armEndpoint: settings.armEndpoint } : {}), ...(settings.ca ? { ca: settings.ca } : {}) }),
      );
      api.catch(() => this.apis.delete(key));
      this.apis.set(key, api);
    }
    return api;
  }

  private blob(spec: DeploymentSpec, ctx: ProviderContext): Promise<{ store: BlobStore; datastore: DatastoreInfo }> {
    const key = `${spec.azure?.subscriptionId}|${spec.azure?.resourceGroup}|${spec.azure?.workspace}`.toLowerCase();
    let found = this.stores.get(key);
    if (!found) {
      found = (async () => {
        const api = await this.api(spec, ctx);
        const settings = this.settings(ctx.env);
        const datastore = await api.defaultDatastore();
        let auth: BlobAuth;
        try {
          const secret = await api.datastoreSecret(datastore.name);
          auth = secret.kind === 'key' ? { kind: 'key', accountName: datastore.accountName, key: secret.key } : secret.kind === 'sas' ? { kind: 'sas', token: secret.token } : { kind: 'token', credential: api.credential };
        } catch (error) {
          // Identity-based datastores (and callers without listSecrets) use Entra ID on the account.
          if (!(error instanceof ProviderError) || error.category !== 'auth') throw error;
          auth = { kind: 'token', credential: api.credential };
        }
        const url = settings.blobEndpoint ?? `${datastore.protocol}://${datastore.accountName}.blob.${datastore.endpoint}`;
        return { store: await BlobStore.connect(url, datastore.containerName, auth), datastore };
      })();
      found.catch(() => this.stores.delete(key));
      this.stores.set(key, found);
    }
    return found;
  }

  // --- plan --------------------------------------------------------------------------------

  async plan(spec: DeploymentSpec, revision: string, ctx: ProviderContext): Promise<Plan> {
    const api = await this.api(spec, ctx);
    const names = azureNames(spec, revision);
    const details: Record<string, unknown> = { ...this.rules.details?.(spec) };
    try {
      Object.assign(details, describeServing(resolveServing(spec, await modelFiles(spec))));
    } catch (error) {
      if (!(error instanceof ServingError)) throw error;
      details.servingProblem = `${error.message} (${error.hint})`;
    }
    const endpoint = await api.getEndpoint(baseName(spec));
    if (!endpoint) return { spec, action: 'create', revision, names, details };
    if (!this.owned(endpoint.tags, spec)) {
      // PUT is create-or-update: deploying would silently take over someone else's endpoint.
      throw new ProviderError('EndpointNotOwned', `online endpoint ${endpoint.name} exists in workspace ${api.target.workspace} but modeldeploy did not create it for ${spec.name} (${spec.stage})`, {
        category: 'conflict',
        hint: `Pick another name or stage, or delete the endpoint (\`az ml online-endpoint delete -n ${endpoint.name}\`) if it is no longer used.`,
      });
    }
    if (endpoint.scoringUri) details.scoringUri = endpoint.scoringUri;
    const current = await this.current(api, endpoint);
    if (!current) return { spec, action: 'create', revision, names, details: { ...details, endpointState: endpoint.state } };
    const action = current.revision === revision && current.state.state === 'ready' ? 'unchanged' : 'update';
    return { spec, action, revision, current, names, details };
  }

  /** The revision taking (most of) the traffic, and how it is doing. */
  private async current(api: AzureMlApi, endpoint: EndpointInfo): Promise<{ revision: string; state: EndpointState } | undefined> {
    const serving = servingDeployment(endpoint);
    const revision = serving && DEPLOYMENT_NAME.exec(serving)?.[1];
    if (!serving || !revision) return undefined;
    return { revision, state: await this.endpointState(api, endpoint, serving) };
  }

  private async endpointState(api: AzureMlApi, endpoint: EndpointInfo, serving = servingDeployment(endpoint)): Promise<EndpointState> {
    if (BUSY.has(endpoint.state)) return { state: 'pending', detail: `endpoint ${endpoint.state}` };
    if (endpoint.state !== 'Succeeded') return { state: 'failed', reason: `endpoint ${endpoint.name} is ${endpoint.state}` };
    if (!serving) return { state: 'pending', detail: 'no deployment takes traffic' };
    const dep = await api.getDeployment(endpoint.name, serving);
    if (!dep) return { state: 'failed', reason: `deployment ${serving} takes traffic but does not exist` };
    if (dep.state === 'Succeeded') return { state: 'ready', ...(endpoint.scoringUri ? { url: endpoint.scoringUri } : {}) };
    if (BUSY.has(dep.state)) return { state: 'pending', detail: `deployment ${dep.state}` };
    return { state: 'failed', reason: `deployment ${serving} is ${dep.state}`, logsHint: logsHint(api, endpoint.name, serving) };
  }

  // --- upload ------------------------------------------------------------------------------

  async upload(plan: Plan, artifact: Artifact, ctx: ProviderContext): Promise<ArtifactRef> {
    const { spec } = plan;
    await servingOf(spec); // a model Azure ML cannot serve fails here, before anything exists
    if (artifact.kind === 'remote') {
      const uri = artifact.uri ?? '';
      if (!/^(hf|azureml|https):\/\//.test(uri)) {
        throw new ProviderError('ArtifactNotOnAzure', `Azure ML cannot read ${uri}`, { category: 'invalid', hint: 'use model.path, an azureml:// URI or an https:// blob URL' });
      }
      return { uri, sha256: artifact.sha256, uploaded: false, bytes: 0 };
    }
    const api = await this.api(spec, ctx);
    const { store, datastore } = await this.blob(spec, ctx);
    const prefix = artifactPrefix(spec, artifact.sha256);
    const uri = api.datastoreUri(datastore.name, prefix);
    const existing = new Map((await store.list(prefix)).map((b) => [b.name, b]));
    const missing = artifact.files.filter((f) => {
      const blob = existing.get(prefix + f.path);
      return !blob || blob.size !== f.bytes || (blob.sha256 !== undefined && blob.sha256 !== f.sha256);
    });
    if (missing.length > 0) {
      ctx.track(artifactResource(datastore.name, spec.name, artifact.sha256));
      const root = artifactRoot(artifact);
      const progress = uploadProgress(ctx, missing.reduce((a, f) => a + f.bytes, 0));
      await uploadEach(missing, 2, ctx.signal, (file) =>
        store.uploadFile(prefix + file.path, path.join(root, file.path), {
          sha256: file.sha256,
          // Blobs take metadata, not ARM tags; stages share an artifact, so only the deployment is named.
          metadata: { modeldeploy_deployment: spec.name },
          signal: ctx.signal,
          onProgress: (n) => progress(file.path, n),
        }),
      );
    }
    return { uri, sha256: artifact.sha256, uploaded: missing.length > 0, bytes: artifact.bytes };
  }

  // --- deploy ------------------------------------------------------------------------------

  async deploy(plan: Plan, artifact: ArtifactRef, ctx: ProviderContext): Promise<Revision> {
    const { spec, revision } = plan;
    const api = await this.api(spec, ctx);
    const serving = await servingOf(spec);
    const base = baseName(spec);
    const dep = deploymentName(revision);
    const description = `modeldeploy ${spec.name} (${spec.stage}), revision ${revision}`;
    const versionTags = this.tags(spec, revision, artifact.sha256);

    let model: string | undefined;
    if (REGISTRY_MODEL.test(artifact.uri)) model = artifact.uri;
    else if (!artifact.uri.startsWith('hf://')) {
      await this.ensureAsset(api, spec, 'models', revision, ctx, () =>
        api.putModelVersion(base, revision, { modelUri: artifact.uri, modelType: serving.kind === 'mlflow' ? 'mlflow_model' : 'custom_model', tags: versionTags, description }),
      );
      model = api.armId(`models/${base}/versions/${revision}`);
    }

    let code: DeploymentBody['code'];
    const script = serving.kind === 'script' || serving.kind === 'environment' ? serving.scoringScript : undefined;
    if (script && spec.model.path) {
      // The scoring code is the uploaded model folder itself (score.py beside the weights).
      const { datastore } = await this.blob(spec, ctx);
      const codeUri = `${datastore.protocol}://${datastore.accountName}.blob.${datastore.endpoint}/${datastore.containerName}/${artifactPrefix(spec, artifact.sha256)}`;
      await this.ensureAsset(api, spec, 'codes', revision, ctx, () => api.putCodeVersion(base, revision, { codeUri, tags: versionTags, description }));
      code = { codeId: api.armId(`codes/${base}/versions/${revision}`), scoringScript: script };
    }

    let environmentId: string | undefined;
    if (serving.kind === 'environment') environmentId = serving.environmentId;
    else if (serving.kind === 'script' || serving.kind === 'container') {
      await this.ensureAsset(api, spec, 'environments', revision, ctx, () =>
        api.putEnvironmentVersion(base, revision, {
          image: serving.image,
          tags: versionTags,
          description,
          ...(serving.kind === 'script' ? { condaFile: serving.condaFile } : { inference: { liveness: serving.liveness, readiness: serving.readiness, scoring: serving.scoring } }),
        }),
      );
      environmentId = api.armId(`environments/${base}/versions/${revision}`);
    }

    await this.ensureEndpoint(api, spec, ctx);

    const existing = await api.getDeployment(base, dep);
    // Names carry the revision: an existing deployment of it already has this exact config.
    if (existing?.state === 'Succeeded') return { id: revision, handle: { endpoint: base, deployment: dep } };
    if (existing && BUSY.has(existing.state)) await this.untilIdle(() => api.getDeployment(base, dep), ctx, ctx.signal);
    const where = this.deploymentContext(api, spec, dep);
    ctx.track(deploymentResource(base, dep, revision));
    ctx.progress.emit({ code: 'DeploymentCreating', level: 'info', message: `creating deployment ${dep} on ${spec.instance.count} × ${spec.instance.type ?? '?'}` });
    const lro = await api.beginPutDeployment(base, dep, this.deploymentBody(spec, serving, { model, code, environmentId, revision, description }), ctx.signal, where);
    this.pending.set(`${base}/${dep}`, lro);
    return { id: revision, handle: { endpoint: base, deployment: dep } };
  }

  private deploymentBody(
    spec: DeploymentSpec,
    serving: Serving,
    parts: { model: string | undefined; code: DeploymentBody['code']; environmentId: string | undefined; revision: string; description: string },
  ): DeploymentBody {
    const startup = Math.max(10, Math.round(spec.timeouts.startupMs / 1000));
    const readiness: Probe = { initialDelay: 'PT10S', period: 'PT10S', timeout: 'PT2S', failureThreshold: Math.max(3, Math.ceil((startup - 10) / 10)), successThreshold: 1 };
    // Liveness waits out the whole startup time, so a slow model load is not restarted midway.
    const liveness: Probe = { initialDelay: `PT${startup}S`, period: 'PT10S', timeout: 'PT2S', failureThreshold: 3, successThreshold: 1 };
    const container = serving.kind === 'container' ? serving : undefined;
    return {
      location: spec.region ?? '',
      tags: this.tags(spec, parts.revision),
      instanceType: spec.instance.type ?? '',
      instanceCount: spec.instance.count,
      description: parts.description,
      ...(parts.model ? { model: parts.model } : {}),
      ...(container?.mountModel && parts.model ? { modelMountPath: MODEL_MOUNT_PATH } : {}),
      ...(parts.environmentId ? { environmentId: parts.environmentId } : {}),
      ...(parts.code ? { code: parts.code } : {}),
      environmentVariables: { ...(container?.env ?? {}), ...spec.env },
      requestTimeout: spec.model.framework === 'huggingface' ? 'PT180S' : 'PT60S',
      liveness,
      readiness,
    };
  }

  private deploymentContext(api: AzureMlApi, spec: DeploymentSpec, dep: string): ErrorContext {
    const type = spec.instance.type ?? '';
    const sku = findSku(type);
    return {
      operation: 'onlineDeployments.createOrUpdate',
      subject: `${baseName(spec)}/${dep}`,
      instance: { type, count: spec.instance.count, ...(sku ? { family: sku.family } : {}), ...(spec.region ? { region: spec.region } : {}) },
      logsHint: logsHint(api, baseName(spec), dep),
    };
  }

  /** Create `<name>-<stage>` version `revision` of an asset unless it exists (versions are immutable). */
  private async ensureAsset(api: AzureMlApi, spec: DeploymentSpec, kind: AssetKind, revision: string, ctx: ProviderContext, put: () => Promise<void>): Promise<void> {
    const base = baseName(spec);
    if (await api.getAssetVersion(kind, base, revision)) return;
    if (!(await api.getAssetContainer(kind, base))) {
      ctx.track(containerResource(kind, base));
      await api.putAssetContainer(kind, base, this.tags(spec), `modeldeploy ${spec.name} (${spec.stage})`);
    }
    ctx.track(versionResource(kind, base, revision));
    await put();
  }

  private async ensureEndpoint(api: AzureMlApi, spec: DeploymentSpec, ctx: ProviderContext): Promise<void> {
    const base = baseName(spec);
    let endpoint = await api.getEndpoint(base);
    if (endpoint && BUSY.has(endpoint.state)) endpoint = await this.untilIdle(() => api.getEndpoint(base), ctx, ctx.signal);
    if (endpoint && endpoint.state === 'Succeeded') return;
    if (!endpoint) {
      ctx.progress.emit({ code: 'EndpointCreating', level: 'info', message: `creating online endpoint ${base} in ${spec.region ?? '?'}` });
      ctx.track(endpointResource(base));
    } else {
      // A Failed endpoint takes no new deployment; a PUT of the same endpoint repairs it.
      ctx.progress.emit({ code: 'EndpointRepairing', level: 'warn', message: `online endpoint ${base} is ${endpoint.state}; updating it before the new deployment` });
    }
    const lro = await api.beginPutEndpoint(
      base,
      {
        location: endpoint?.location ?? spec.region ?? '',
        tags: this.tags(spec),
        authMode: endpoint?.authMode ?? 'Key',
        identityType: endpoint?.identityType ?? 'SystemAssigned',
        description: `modeldeploy ${spec.name} (${spec.stage})`,
        traffic: endpoint?.traffic ?? {},
      },
      ctx.signal,
    );
    await this.waitFor(lro, ctx, ctx.signal);
  }

  // --- status, invoke, promote -------------------------------------------------------------

  async status(plan: Plan, revision: Revision | undefined, ctx: ProviderContext): Promise<EndpointState> {
    const { spec } = plan;
    const api = await this.api(spec, ctx);
    const base = baseName(spec);
    if (!revision) {
      const endpoint = await api.getEndpoint(base);
      return endpoint ? this.endpointState(api, endpoint) : { state: 'absent' };
    }
    const dep = String(revision.handle.deployment ?? deploymentName(revision.id));
    const key = `${base}/${dep}`;
    const lro = this.pending.get(key);
    if (lro) {
      let done: boolean;
      try {
        done = await lro.poll(ctx.signal);
      } catch (error) {
        this.pending.delete(key);
        if (ctx.signal.aborted || !(error instanceof ProviderError)) throw error;
        if (error.retryable) return { state: 'pending', detail: `status check failed (${error.code}); asking again` };
        throw await this.withLogs(api, base, dep, error);
      }
      if (!done) return { state: 'pending', detail: 'Creating' };
      this.pending.delete(key);
    }
    const deployment = await api.getDeployment(base, dep);
    if (!deployment) return { state: 'absent' };
    if (BUSY.has(deployment.state)) return { state: 'pending', detail: deployment.state };
    if (deployment.state !== 'Succeeded') {
      const tail = await api.logs(base, dep, 'InferenceServer', 5);
      return { state: 'failed', reason: `deployment ${dep} is ${deployment.state}${tail ? `; last log lines: ${oneLine(tail)}` : ''}`, logsHint: logsHint(api, base, dep) };
    }
    const endpoint = await api.getEndpoint(base);
    return { state: 'ready', ...(endpoint?.scoringUri ? { url: endpoint.scoringUri } : {}) };
  }

  /** A failed deployment operation: its error, plus the end of the container log where it helps. */
  private async withLogs(api: AzureMlApi, endpoint: string, dep: string, error: ProviderError): Promise<ProviderError> {
    if (error.category !== 'failed' && error.category !== 'invalid') return error;
    const tails = [await api.logs(endpoint, dep, 'StorageInitializer', 3), await api.logs(endpoint, dep, 'InferenceServer', 5)].filter(Boolean);
    if (tails.length === 0) return error;
    return new ProviderError(error.code, `${error.message}; last log lines: ${oneLine(tails.join('\n'))}`, {
      category: error.category,
      retryable: error.retryable,
      cause: error,
      ...(error.hint ? { hint: error.hint } : {}),
      ...(error.requestId ? { requestId: error.requestId } : {}),
    });
  }

  async invoke(plan: Plan, target: InvokeTarget, request: InvokeRequest, ctx: ProviderContext): Promise<InvokeResponse> {
    const { spec } = plan;
    const api = await this.api(spec, ctx);
    const base = baseName(spec);
    const headers: Record<string, string> = {
      'content-type': request.contentType,
      ...(request.accept ? { accept: request.accept } : {}),
      ...(target.kind === 'revision' ? { 'azureml-model-deployment': String(target.revision.handle.deployment ?? deploymentName(target.revision.id)) } : {}),
    };
    for (let attempt = 0; ; attempt++) {
      const scoring = await this.scoringTarget(api, base);
      const started = performance.now();
      const response = await scoringPost(scoring.url, { ...headers, authorization: `Bearer ${scoring.key}` }, request.body, ctx.signal, this.settings(ctx.env).ca);
      const latencyMs = performance.now() - started;
      // A 401 after a key rotation: fetch the key again, once.
      if (response.status === 401 && attempt === 0) {
        this.scoring.delete(base);
        continue;
      }
      return { status: response.status, body: response.body, latencyMs, ...(response.contentType ? { contentType: response.contentType } : {}) };
    }
  }

  private async scoringTarget(api: AzureMlApi, base: string): Promise<{ url: string; key: string }> {
    const known = this.scoring.get(base);
    if (known) return known;
    const endpoint = await api.getEndpoint(base);
    if (!endpoint?.scoringUri) throw new ProviderError('EndpointNotFound', `online endpoint ${base} does not exist`, { category: 'notFound', hint: 'Run `modeldeploy up` first.' });
    if (endpoint.authMode !== 'Key') {
      throw new ProviderError('EndpointAuthModeUnsupported', `online endpoint ${base} uses auth mode ${endpoint.authMode}; modeldeploy invokes Key endpoints`, { category: 'invalid' });
    }
    const found = { url: endpoint.scoringUri, key: await api.primaryKey(base) };
    this.scoring.set(base, found);
    return found;
  }

  async promote(plan: Plan, revision: Revision, ctx: ProviderContext): Promise<void> {
    const { spec } = plan;
    const api = await this.api(spec, ctx);
    const base = baseName(spec);
    const dep = String(revision.handle.deployment ?? deploymentName(revision.id));
    let endpoint = await api.getEndpoint(base);
    if (endpoint && BUSY.has(endpoint.state)) endpoint = await this.untilIdle(() => api.getEndpoint(base), ctx, ctx.signal);
    if (!endpoint) throw new ProviderError('EndpointNotFound', `online endpoint ${base} does not exist`, { category: 'notFound' });
    const others = Object.entries(endpoint.traffic).filter(([name, weight]) => name !== dep && weight > 0);
    if (endpoint.traffic[dep] === 100 && others.length === 0 && endpoint.state === 'Succeeded') return;
    const traffic = Object.fromEntries(Object.keys(endpoint.traffic).map((name) => [name, 0]));
    traffic[dep] = 100;
    const lro = await api.beginPutEndpoint(
      base,
      { location: endpoint.location, tags: this.tags(spec), authMode: endpoint.authMode, identityType: endpoint.identityType ?? 'SystemAssigned', description: endpoint.description ?? `modeldeploy ${spec.name} (${spec.stage})`, traffic },
      ctx.signal,
    );
    await this.waitFor(lro, ctx, ctx.signal);
  }

  async revision(plan: Plan, id: string, ctx: ProviderContext): Promise<Revision | undefined> {
    const api = await this.api(plan.spec, ctx);
    const base = baseName(plan.spec);
    const dep = deploymentName(id);
    return (await api.getDeployment(base, dep)) ? { id, handle: { endpoint: base, deployment: dep } } : undefined;
  }

  // --- inventory and teardown ----------------------------------------------------------------

  async inventory(spec: DeploymentSpec, ctx: ProviderContext): Promise<Resource[]> {
    const api = await this.api(spec, ctx);
    const base = baseName(spec);
    const resources: Resource[] = [];
    const endpoint = await api.getEndpoint(base);
    if (endpoint && this.owned(endpoint.tags, spec)) {
      resources.push({ ...endpointResource(base), description: endpoint.state });
      for (const d of await api.listDeployments(base)) {
        const revision = DEPLOYMENT_NAME.exec(d.name)?.[1];
        if (revision && this.owned(d.tags, spec)) resources.push({ ...deploymentResource(base, d.name, revision), description: d.state });
      }
    }
    for (const kind of KINDS) {
      const container = await api.getAssetContainer(kind, base);
      if (!container) continue;
      for (const v of await api.listAssetVersions(kind, base)) {
        if (/^[0-9a-f]{8}$/.test(v.version) && this.owned(v.tags, spec)) resources.push(versionResource(kind, base, v.version));
      }
      if (this.owned(container.tags, spec)) resources.push(containerResource(kind, base));
    }
    const { store, datastore } = await this.blob(spec, ctx);
    const shas = (await store.prefixes(`modeldeploy/${spec.name}/`)).map((p) => p.split('/')[2] ?? '').filter((s) => /^[0-9a-f]{64}$/.test(s));
    if (shas.length > 0) {
      // Stages of one deployment share artifacts (same content, same address): this stage owns
      // the ones no other stage's model points at.
      const elsewhere = await this.artifactsOfOtherStages(api, spec);
      for (const sha of shas) if (!elsewhere.has(sha)) resources.push(artifactResource(datastore.name, spec.name, sha));
    }
    return resources;
  }

  private async artifactsOfOtherStages(api: AzureMlApi, spec: DeploymentSpec): Promise<Set<string>> {
    const shas = new Set<string>();
    for (const c of await api.listAssetContainers('models')) {
      if (!c.name.startsWith(`${spec.name}-`) || c.name === baseName(spec) || c.tags[TAG.deployment] !== spec.name) continue;
      for (const v of await api.listAssetVersions('models', c.name)) {
        const sha = v.tags[TAG.artifact];
        if (sha) shas.add(sha);
      }
    }
    return shas;
  }

  async remove(spec: DeploymentSpec, resource: Resource, ctx: ProviderContext): Promise<void> {
    const api = await this.api(spec, ctx);
    switch (resource.type) {
      case TYPE.endpoint:
        this.scoring.delete(resource.id);
        return retryWhileBusy(ctx, this.polling, async () => {
          const lro = await api.beginDeleteEndpoint(resource.id, ctx.signal);
          if (lro) await this.waitFor(lro, ctx, ctx.signal);
        });
      case TYPE.deployment: {
        const [endpoint = '', dep = ''] = resource.id.split('/');
        this.pending.delete(resource.id);
        return retryWhileBusy(ctx, this.polling, async () => {
          const lro = await api.beginDeleteDeployment(endpoint, dep, ctx.signal);
          if (lro) await this.waitFor(lro, ctx, ctx.signal);
        });
      }
      case TYPE.artifact: {
        const { store } = await this.blob(spec, ctx);
        const blobs = await store.list(artifactPrefix(spec, resource.sha256 ?? ''));
        return store.deleteAll(
          blobs.map((b) => b.name),
          ctx.signal,
        );
      }
    }
    const asset = parseAssetId(resource);
    if (!asset) throw new ProviderError('UnknownResource', `cannot remove ${resource.type} ${resource.id}`, { category: 'invalid' });
    if (asset.version !== undefined) return api.deleteAssetVersion(asset.kind, asset.name, asset.version);
    // The container goes last; versions still under it (none, after teardown's order) go first.
    for (const v of await api.listAssetVersions(asset.kind, asset.name)) await api.deleteAssetVersion(asset.kind, asset.name, v.version);
    return api.deleteAssetContainer(asset.kind, asset.name);
  }

  async list(spec: Pick<DeploymentSpec, 'region' | 'aws' | 'gcp' | 'azure'>, ctx: ProviderContext): Promise<DeploymentSummary[]> {
    const api = await this.api(spec, ctx);
    const out: DeploymentSummary[] = [];
    for (const endpoint of await api.listEndpoints()) {
      const name = endpoint.tags[TAG.deployment];
      const stage = endpoint.tags[TAG.stage];
      if (!name || !stage) continue;
      const state = await this.endpointState(api, endpoint);
      const revision = DEPLOYMENT_NAME.exec(servingDeployment(endpoint) ?? '')?.[1];
      out.push({ name, stage, state: state.state, ...(revision ? { revision } : {}), ...(state.state === 'ready' && state.url ? { url: state.url } : {}) });
    }
    return out;
  }

  // --- helpers -----------------------------------------------------------------------------

  private owned(tags: Record<string, string>, spec: DeploymentSpec): boolean {
    return tags[TAG.deployment] === spec.name && tags[TAG.stage] === spec.stage;
  }

  private tags(spec: DeploymentSpec, revision?: string, sha256?: string): Record<string, string> {
    return {
      ...spec.tags,
      [TAG.deployment]: spec.name,
      [TAG.stage]: spec.stage,
      ...(revision ? { [TAG.revision]: revision } : {}),
      ...(sha256 ? { [TAG.artifact]: sha256 } : {}),
    };
  }

  /** Poll a long-running operation on our clock, so the signal stops the wait at once. */
  private async waitFor<T>(lro: Lro<T>, ctx: ProviderContext, signal: AbortSignal): Promise<T | undefined> {
    let interval = this.pollMs;
    while (!(await lro.poll(signal))) {
      await ctx.clock.sleep(interval, signal);
      interval = Math.min(this.polling.maxMs, Math.ceil(interval * 1.5));
    }
    return lro.result();
  }

  /** Wait until a resource is no longer Creating/Updating/Deleting (or is gone). */
  private async untilIdle<T extends { state: string }>(get: () => Promise<T | undefined>, ctx: ProviderContext, signal: AbortSignal): Promise<T | undefined> {
    let interval = this.pollMs;
    for (;;) {
      const found = await get();
      if (!found || !BUSY.has(found.state)) return found;
      await ctx.clock.sleep(interval, signal);
      interval = Math.min(this.polling.maxMs, Math.ceil(interval * 1.5));
    }
  }
}

/** The deployment with the largest traffic share, if any has traffic. */
function servingDeployment(endpoint: EndpointInfo): string | undefined {
  const [top] = Object.entries(endpoint.traffic)
    .filter(([, weight]) => weight > 0)
    .sort((a, b) => b[1] - a[1]);
  return top?.[0];
}

async function credentialFor(settings: Settings): Promise<TokenCredentialLike> {
  if (settings.accessToken) return accessTokenCredential(settings.accessToken);
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new DefaultAzureCredential();
}

/** MODELDEPLOY_AZURE_ACCESS_TOKEN as a credential; its expiry is read from the JWT when it is one. */
function accessTokenCredential(token: string): TokenCredentialLike {
  let expiresOnTimestamp = Date.now() + 3600_000;
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: number };
    if (typeof payload.exp === 'number') expiresOnTimestamp = payload.exp * 1000;
  } catch {
    // not a JWT: an opaque token, valid as far as we know
  }
  return { getToken: async () => ({ token, expiresOnTimestamp }) };
}

/** The system's CAs plus the PEM file NODE_EXTRA_CA_CERTS names (ignored when unreadable, as Node does). */
function trustedCas(file: string): string[] | undefined {
  if (!caCache.has(file)) {
    try {
      caCache.set(file, [...rootCertificates, readFileSync(file, 'utf8')]);
    } catch {
      caCache.set(file, undefined);
    }
  }
  return caCache.get(file);
}

const caCache = new Map<string, string[] | undefined>();

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

function logsHint(api: AzureMlApi, endpoint: string, dep: string): string {
  const { resourceGroup, workspace } = api.target;
  return `az ml online-deployment get-logs --endpoint-name ${endpoint} --name ${dep} --resource-group ${resourceGroup} --workspace-name ${workspace} (add --container storage-initializer for model download errors)`;
}

function oneLine(text: string): string {
  const line = text.trim().split('\n').map((l) => l.trim()).filter(Boolean).join(' | ');
  return line.length > 400 ? `…${line.slice(-400)}` : line;
}

function artifactPrefix(spec: Pick<DeploymentSpec, 'name'>, sha256: string): string {
  return `modeldeploy/${spec.name}/${sha256}/`;
}

function endpointResource(name: string): Resource {
  return { type: TYPE.endpoint, id: name, scope: 'endpoint', order: ORDER.endpoint };
}

function deploymentResource(endpoint: string, dep: string, revision: string): Resource {
  return { type: TYPE.deployment, id: `${endpoint}/${dep}`, scope: 'revision', revision, order: ORDER.deployment };
}

function versionResource(kind: AssetKind, name: string, version: string): Resource {
  return { type: `${ASSET_TYPE[kind]}-version`, id: `${kind}/${name}/versions/${version}`, scope: 'revision', revision: version, order: ORDER.version };
}

function containerResource(kind: AssetKind, name: string): Resource {
  return { type: ASSET_TYPE[kind], id: `${kind}/${name}`, scope: 'endpoint', order: ORDER.container };
}

function artifactResource(datastore: string, name: string, sha256: string): Resource {
  return { type: TYPE.artifact, id: `azureml://datastores/${datastore}/paths/modeldeploy/${name}/${sha256}/`, scope: 'artifact', sha256, order: ORDER.artifact };
}

function parseAssetId(resource: Resource): { kind: AssetKind; name: string; version?: string } | undefined {
  const m = /^(models|codes|environments)\/([^/]+)(?:\/versions\/([^/]+))?$/.exec(resource.id);
  if (!m) return undefined;
  return { kind: m[1] as AssetKind, name: m[2] ?? '', ...(m[3] ? { version: m[3] } : {}) };
}

export function createProvider(): Provider {
  return new AzureMlProvider();
}
