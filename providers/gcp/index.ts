/**
 * provider: gcp — Vertex AI online prediction. The endpoint `<name>-<stage>` (its endpoint id)
 * serves one deployed model per revision, `r-<revision>`; the model `<name>-<stage>` holds one
 * version per revision (alias `r-<revision>`), and the serving version carries the `default`
 * alias. Artifacts live at gs://<gcp.bucket>/modeldeploy/<name>/<sha256>/.
 *
 * Blue/green: Vertex AI routes predictions by traffic split only; a model deployed at 0% cannot
 * be called. So an update deploys the new version to the endpoint at 0% and, at the same time, to
 * a short-lived smoke endpoint (`<base>-<revision>`, label modeldeploy-role=smoke) where it takes
 * all traffic. The smoke test runs there; only after it passes does `promote` give the new model
 * 100% of the endpoint's traffic (one PATCH), move the `default` alias, and delete the smoke
 * endpoint. A failed smoke test leaves traffic where it was and the new model is removed.
 *
 * Settings (environment variables, all optional):
 *   MODELDEPLOY_GCP_ACCESS_TOKEN    an OAuth2 access token (`gcloud auth print-access-token`); also read:
 *                                   GOOGLE_OAUTH_ACCESS_TOKEN (as Terraform does). Without either,
 *                                   Application Default Credentials are used.
 *   MODELDEPLOY_GCP_API_ENDPOINT    the Vertex AI API URL (default https://<region>-aiplatform.googleapis.com;
 *                                   Private Service Connect endpoints, a local emulator)
 *   STORAGE_EMULATOR_HOST           the Cloud Storage JSON API URL (the Cloud Storage SDKs' own variable)
 *   MODELDEPLOY_GCP_POLL_INTERVAL   how often long-running operations are polled (default 2s, backing off to 5s)
 */
import path from 'node:path';
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
import { VertexApi, type ContainerSpec, type DeployRequest, type EndpointInfo, type TokenSource } from './api.js';
import { VertexHttpError, canonicalStatus, isNotFound, toProviderError } from './errors.js';
import { GcpServingError, resolveServing, type VertexServing } from './images.js';
import { ACCELERATORS, LABEL, gcpLabels, gcpRules, smokeEndpointId } from './rules.js';
import { GcsStore } from './storage.js';

const ORDER = { deployedModel: 1, endpoint: 2, version: 3, model: 4, artifact: 5 } as const;
const TYPE = {
  deployedModel: 'vertex:deployed-model',
  endpoint: 'vertex:endpoint',
  smokeEndpoint: 'vertex:smoke-endpoint',
  version: 'vertex:model-version',
  model: 'vertex:model',
  artifact: 'gcs:artifact',
} as const;
const DEPLOYED_NAME = /^r-([0-9a-f]{8})$/;
const DEFAULT_POLL_MS = 2000;
/**
 * Design §10: readiness is noticed within seconds, not on a 30 s tick. Vertex deploys take 10-30
 * minutes; at 5 s an operation costs 12 reads a minute of the project's CRUD request quota.
 */
const MAX_POLL_MS = 5_000;
const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

interface Settings {
  accessToken?: string;
  apiEndpoint?: string;
  storageEndpoint?: string;
  pollMs: number;
}

/** Operations started by this process, by the id of the resource they create. */
interface Pending {
  /** The long-running operation's name once the server has answered the call that starts it (undefined: none of ours to follow). */
  started: Promise<string | undefined>;
  /** Resolves when the resource is usable; rejects with the mapped failure. */
  done: Promise<void>;
}

export class VertexProvider implements Provider {
  readonly id = 'gcp' as const;
  readonly rules = gcpRules;
  private pollMs = DEFAULT_POLL_MS;
  private readonly apis = new Map<string, VertexApi>();
  private readonly stores = new Map<string, Promise<GcsStore>>();
  private readonly pending = new Map<string, Pending>();
  private adc?: Promise<TokenSource>;

  get polling(): { initialMs: number; maxMs: number } {
    return { initialMs: this.pollMs, maxMs: Math.max(this.pollMs, Math.min(MAX_POLL_MS, this.pollMs * 15)) };
  }

  private settings(env: NodeJS.ProcessEnv): Settings {
    const token = (env.MODELDEPLOY_GCP_ACCESS_TOKEN ?? env.GOOGLE_OAUTH_ACCESS_TOKEN)?.trim();
    return {
      ...(token ? { accessToken: token } : {}),
      ...(env.MODELDEPLOY_GCP_API_ENDPOINT ? { apiEndpoint: endpointUrl(env.MODELDEPLOY_GCP_API_ENDPOINT, 'MODELDEPLOY_GCP_API_ENDPOINT') } : {}),
      ...(env.STORAGE_EMULATOR_HOST ? { storageEndpoint: endpointUrl(env.STORAGE_EMULATOR_HOST, 'STORAGE_EMULATOR_HOST') } : {}),
      pollMs: durationSetting('MODELDEPLOY_GCP_POLL_INTERVAL', env.MODELDEPLOY_GCP_POLL_INTERVAL, DEFAULT_POLL_MS),
    };
  }

  private api(spec: Pick<DeploymentSpec, 'gcp' | 'region'>, ctx: ProviderContext): VertexApi {
    const gcp = spec.gcp;
    if (!gcp) throw new UsageError('GcpBlockMissing', 'provider gcp needs a gcp block', { hint: 'add `gcp: {project: my-project, bucket: my-bucket}`' });
    if (!spec.region) throw new UsageError('RegionMissing', 'provider gcp needs a region', { hint: 'add `region: us-central1`' });
    const settings = this.settings(ctx.env);
    this.pollMs = settings.pollMs;
    const baseUrl = settings.apiEndpoint ?? `https://${spec.region}-aiplatform.googleapis.com`;
    const key = `${gcp.project}|${spec.region}|${baseUrl}`;
    let api = this.apis.get(key);
    if (!api) {
      api = new VertexApi({ project: gcp.project, location: spec.region, baseUrl }, this.tokenSource(settings), ctx.clock);
      this.apis.set(key, api);
    }
    return api;
  }

  private tokenSource(settings: Settings): TokenSource {
    const token = settings.accessToken;
    if (token) return async () => token;
    return async () => {
      this.adc ??= (async () => {
        const { GoogleAuth } = await import('google-auth-library');
        const auth = new GoogleAuth({ scopes: [SCOPE] });
        return async () => {
          const t = await auth.getAccessToken();
          if (!t) throw new Error('Could not load the default credentials: no access token');
          return t;
        };
      })();
      this.adc.catch(() => (this.adc = undefined));
      return (await this.adc)();
    };
  }

  private store(spec: DeploymentSpec, ctx: ProviderContext): Promise<GcsStore> {
    const gcp = spec.gcp;
    if (!gcp) return Promise.reject(new UsageError('GcpBlockMissing', 'provider gcp needs a gcp block'));
    const settings = this.settings(ctx.env);
    const key = `${gcp.project}|${gcp.bucket}|${settings.storageEndpoint ?? ''}`;
    let store = this.stores.get(key);
    if (!store) {
      store = GcsStore.connect({
        bucket: gcp.bucket,
        projectId: gcp.project,
        ...(settings.storageEndpoint ? { apiEndpoint: settings.storageEndpoint } : {}),
        ...(settings.accessToken ? { accessToken: settings.accessToken } : {}),
        ...(spec.region ? { location: spec.region } : {}),
      });
      store.catch(() => this.stores.delete(key));
      this.stores.set(key, store);
    }
    return store;
  }

  // --- plan --------------------------------------------------------------------------------

  async plan(spec: DeploymentSpec, revision: string, ctx: ProviderContext): Promise<Plan> {
    const api = this.api(spec, ctx);
    const names = this.rules.names(spec, revision);
    const details: Record<string, unknown> = { ...this.rules.details?.(spec) };
    const endpoint = await api.getEndpoint(baseName(spec), ctx.signal);
    if (!endpoint) return { spec, action: 'create', revision, names, details };
    this.assertOwned(endpoint, spec, api);
    details.predictUrl = predictUrl(api, endpoint);
    const current = servingRevision(endpoint);
    if (!current) return { spec, action: 'create', revision, names, details };
    const state: EndpointState = { state: 'ready', url: predictUrl(api, endpoint) };
    const action = current.revision === revision && current.share === 100 ? 'unchanged' : 'update';
    return { spec, action, revision, current: { revision: current.revision, state }, names, details };
  }

  private assertOwned(endpoint: EndpointInfo, spec: DeploymentSpec, api: VertexApi): void {
    if (owned(endpoint.labels, spec)) return;
    // An endpoint id is unique in a region: deploying would take over someone else's endpoint.
    throw new ProviderError('EndpointNotOwned', `Vertex AI endpoint ${endpoint.id} exists in ${api.parent} but modeldeploy did not create it for ${spec.name} (${spec.stage})`, {
      category: 'conflict',
      hint: `Pick another name or stage, or delete the endpoint (\`gcloud ai endpoints delete ${endpoint.id} --region=${api.target.location}\`) if it is no longer used.`,
    });
  }

  // --- upload ------------------------------------------------------------------------------

  async upload(plan: Plan, artifact: Artifact, ctx: ProviderContext): Promise<ArtifactRef> {
    const { spec } = plan;
    const serving = servingOf(spec);
    if (artifact.kind === 'remote') {
      const uri = artifact.uri ?? '';
      if (!uri.startsWith('gs://') && !(uri.startsWith('hf://') && serving.kind === 'llm')) {
        throw new ProviderError('ArtifactNotOnGcs', `Vertex AI cannot read ${uri}`, { category: 'invalid', hint: 'use model.path (uploaded to gcp.bucket) or a gs:// folder' });
      }
      return { uri, sha256: artifact.sha256, uploaded: false, bytes: 0 };
    }
    const store = await this.store(spec, ctx);
    const prefix = artifactPrefix(spec, artifact.sha256);
    const existing = new Map((await store.list(prefix)).map((o) => [o.name, o]));
    const missing = artifact.files.filter((f) => {
      const found = existing.get(prefix + f.path);
      return !found || found.size !== f.bytes || (found.metadata.sha256 !== undefined && found.metadata.sha256 !== f.sha256);
    });
    if (missing.length > 0) {
      ctx.track(artifactResource(store.uri(prefix), artifact.sha256));
      const root = artifactRoot(artifact);
      const progress = uploadProgress(ctx, missing.reduce((a, f) => a + f.bytes, 0));
      await uploadEach(missing, 4, ctx.signal, async (file) => {
        const name = prefix + file.path;
        await store.uploadFile(name, path.join(root, file.path), {
          signal: ctx.signal,
          // Objects take metadata, not labels; stages share an artifact, so only the deployment is named.
          metadata: { sha256: file.sha256, [LABEL.deployment]: spec.name },
          onProgress: (n) => progress(name, n),
        });
      });
    }
    return { uri: store.uri(prefix), sha256: artifact.sha256, uploaded: missing.length > 0, bytes: artifact.bytes };
  }

  // --- deploy ------------------------------------------------------------------------------

  async deploy(plan: Plan, artifact: ArtifactRef, ctx: ProviderContext): Promise<Revision> {
    const { spec, revision } = plan;
    const api = this.api(spec, ctx);
    const serving = servingOf(spec);
    const base = baseName(spec);
    const alias = `r-${revision}`;
    const deployedModelId = deployedModelIdOf(revision);

    // The model version (one per revision; found again when an earlier run left it).
    const versions = await api.listModelVersions(base, ctx.signal);
    if (versions.length > 0 && !versions.some((v) => owned(v.labels, spec))) {
      throw new ProviderError('ModelNotOwned', `Vertex AI model ${base} exists in ${api.parent} but modeldeploy did not create it for ${spec.name} (${spec.stage})`, {
        category: 'conflict',
        hint: 'Pick another name or stage, or delete that model.',
      });
    }
    let version = versions.find((v) => v.versionAliases.includes(alias));
    if (!version) {
      const first = versions.length === 0;
      const resource = first ? modelResource(base) : versionResource(base, alias, revision);
      ctx.track(resource);
      const opName = await api.uploadModel(
        {
          modelId: base,
          parentModel: !first,
          displayName: base,
          description: `modeldeploy ${spec.name} (${spec.stage}), revision ${revision}`,
          ...(serving.needsArtifact ? { artifactUri: artifact.uri } : {}),
          containerSpec: containerSpec(spec, serving),
          labels: gcpLabels(spec, { [LABEL.revision]: revision }),
          versionAliases: [alias],
        },
        undefined, // started even if interrupted meanwhile: its operation is then known, so rollback can wait for it
      );
      await this.follow(resource.id, opName, api, { operation: 'upload model', subject: base }, ctx);
      version = (await api.listModelVersions(base, ctx.signal)).find((v) => v.versionAliases.includes(alias));
      if (!version) throw new ProviderError('ModelVersionMissing', `model ${base} has no version ${alias} after its upload finished`, { category: 'failed' });
    }
    const model = `${api.modelName(base)}@${version.versionId}`;

    // The endpoint: found by its id (never a second one), created on the first deploy.
    let endpoint = await api.getEndpoint(base, ctx.signal);
    if (endpoint) this.assertOwned(endpoint, spec, api);
    else endpoint = await this.createEndpoint(api, spec, base, gcpLabels(spec), endpointResource(base), ctx);

    const serving100 = Object.entries(endpoint.trafficSplit).some(([id, share]) => id !== deployedModelId && share > 0);
    const handle: Record<string, string> = { endpoint: base, deployedModel: deployedModelId, model, versionId: version.versionId };
    if (!endpoint.deployedModels.some((d) => d.id === deployedModelId)) {
      // Beside a serving model the new one comes in at 0% (an empty split leaves traffic alone).
      this.startDeploy(api, spec, base, deployedModelId, model, revision, serving100 ? {} : { '0': 100 }, ctx);
    }
    if (serving100 && ctx.smokeTest) {
      const smokeId = smokeEndpointId(base, revision);
      handle.smokeEndpoint = smokeId;
      // In parallel with the main deploy: the smoke endpoint exists to reach the new model at all.
      const chain = (async () => {
        let smoke = await api.getEndpoint(smokeId, ctx.signal);
        smoke ??= await this.createEndpoint(api, spec, smokeId, gcpLabels(spec, { [LABEL.revision]: revision, [LABEL.role]: 'smoke' }), smokeEndpointResource(smokeId, revision), ctx);
        if (!smoke.deployedModels.some((d) => d.id === deployedModelId)) {
          const started = this.startDeploy(api, spec, smokeId, deployedModelId, model, revision, { '0': 100 }, ctx);
          await started.done;
        }
      })();
      chain.catch(() => undefined); // observed through status()
      this.pending.set(`smoke:${smokeId}`, { started: Promise.resolve(undefined), done: chain });
    }
    return { id: revision, handle };
  }

  private async createEndpoint(api: VertexApi, spec: DeploymentSpec, id: string, labels: Record<string, string>, resource: Resource, ctx: ProviderContext): Promise<EndpointInfo> {
    ctx.track(resource);
    try {
      const opName = await api.createEndpoint(id, id, labels); // not abortable: see uploadModel
      await this.follow(resource.id, opName, api, { operation: 'create endpoint', subject: id }, ctx);
    } catch (error) {
      // Created by a concurrent or interrupted run: adopt it if it is ours.
      if (!(error instanceof ProviderError && canonicalStatus(error.cause) === 'ALREADY_EXISTS')) throw error;
    }
    const endpoint = await api.getEndpoint(id, ctx.signal);
    if (!endpoint) throw new ProviderError('EndpointMissing', `endpoint ${id} does not exist after its creation finished`, { category: 'failed' });
    this.assertOwned(endpoint, spec, api);
    return endpoint;
  }

  /** Start deployModel and remember its operation; `status` and `remove` follow it. */
  private startDeploy(api: VertexApi, spec: DeploymentSpec, endpointId: string, deployedModelId: string, model: string, revision: string, trafficSplit: Record<string, number>, ctx: ProviderContext): Pending {
    const resource = deployedModelResource(endpointId, deployedModelId, revision);
    ctx.track(resource);
    const accelerator = spec.instance.accelerator;
    const scaling = spec.instance.autoscaling;
    const request: DeployRequest = {
      endpointId,
      deployedModelId,
      model,
      displayName: `r-${revision}`,
      machineType: spec.instance.type ?? 'n1-standard-2',
      ...(accelerator ? { acceleratorType: ACCELERATORS[accelerator.type.toLowerCase()] ?? accelerator.type, acceleratorCount: accelerator.count } : {}),
      minReplicaCount: scaling?.min ?? spec.instance.count,
      maxReplicaCount: scaling?.max ?? spec.instance.count,
      trafficSplit,
    };
    const where = { operation: 'deploy model', subject: `r-${revision} to endpoint ${endpointId}`, logsHint: logsHint(api, endpointId), machine: api.machineOf(request) };
    // Not abortable (see uploadModel): an interrupted run still learns the operation it must cancel.
    const started = api.deployModel(request, undefined).catch((error: unknown) => {
      // The same deployed model id is already deploying: an earlier try of this call whose answer
      // was lost, or another run of this revision. Its operation is not ours to follow; status()
      // watches the endpoint instead, within the deploy timeout.
      if (error instanceof ProviderError && canonicalStatus(error.cause) === 'ALREADY_EXISTS') return undefined;
      throw error;
    });
    const done = started.then(async (name) => {
      if (name) await api.waitOperation(name, where, this.polling, ctx.signal);
      else if (this.pending.get(resource.id) === pending) this.pending.delete(resource.id);
    });
    started.catch(() => undefined);
    done.catch(() => undefined);
    const pending: Pending = { started, done };
    this.pending.set(resource.id, pending);
    return pending;
  }

  /** Remember an operation for `remove`, then wait for it. */
  private async follow(resourceId: string, opName: string, api: VertexApi, where: { operation: string; subject: string }, ctx: ProviderContext): Promise<void> {
    const done = api.waitOperation(opName, where, this.polling, ctx.signal).then(() => undefined);
    this.pending.set(resourceId, { started: Promise.resolve(opName), done });
    try {
      await done;
    } finally {
      this.pending.delete(resourceId);
    }
  }

  // --- status ------------------------------------------------------------------------------

  async status(plan: Plan, revision: Revision | undefined, ctx: ProviderContext): Promise<EndpointState> {
    const { spec } = plan;
    const api = this.api(spec, ctx);
    const base = baseName(spec);
    if (!revision) {
      const endpoint = await api.getEndpoint(base, ctx.signal);
      if (!endpoint) return { state: 'absent' };
      return servingRevision(endpoint) ? { state: 'ready', url: predictUrl(api, endpoint) } : { state: 'pending', detail: 'no deployed model takes traffic' };
    }
    const dm = String(revision.handle.deployedModel ?? deployedModelIdOf(revision.id));
    const waits: [string, string][] = [[deployedModelResource(base, dm, revision.id).id, `deploying ${revision.id}`]];
    if (revision.handle.smokeEndpoint) waits.push([`smoke:${revision.handle.smokeEndpoint}`, 'deploying to the smoke endpoint']);
    for (const [key, detail] of waits) {
      const pending = this.pending.get(key);
      if (pending && !(await settled(pending.done))) return { state: 'pending', detail };
      if (pending) await pending.done; // throws the operation's failure (quota, a model server that never started…)
    }
    const endpoint = await api.getEndpoint(base, ctx.signal);
    if (!endpoint) return { state: 'failed', reason: `endpoint ${base} does not exist` };
    if (!endpoint.deployedModels.some((d) => d.id === dm)) {
      return this.pending.has(deployedModelResource(base, dm, revision.id).id)
        ? { state: 'failed', reason: `deployed model ${dm} is not on endpoint ${base}`, logsHint: logsHint(api, base) }
        : { state: 'pending', detail: 'deploying (started by another run)' };
    }
    return { state: 'ready', url: predictUrl(api, endpoint) };
  }

  // --- invoke ------------------------------------------------------------------------------

  async invoke(plan: Plan, target: InvokeTarget, request: InvokeRequest, ctx: ProviderContext): Promise<InvokeResponse> {
    const api = this.api(plan.spec, ctx);
    const endpointId = target.kind === 'revision' && target.revision.handle.smokeEndpoint ? String(target.revision.handle.smokeEndpoint) : baseName(plan.spec);
    const started = performance.now();
    const response = await api.predict(endpointId, request.body, request.contentType, request.accept, ctx.signal);
    const body = new Uint8Array(await response.arrayBuffer());
    const latencyMs = performance.now() - started;
    // The caller's own problems (credentials, a missing endpoint) are errors; the model's answers are results.
    if (response.status === 401 || response.status === 403 || (response.status === 404 && !response.headers.has('x-vertex-ai-deployed-model-id'))) {
      const error = toProviderError(await VertexHttpError.from(new Response(body, { status: response.status, headers: response.headers })), { operation: 'predict', subject: endpointId });
      if (response.status !== 404) throw error;
      throw new ProviderError('EndpointNotFound', `Vertex AI endpoint ${endpointId} does not exist in ${api.parent}`, { category: 'notFound', hint: 'Run `modeldeploy up` first.', cause: error });
    }
    const contentType = response.headers.get('content-type') ?? undefined;
    return { status: response.status, ...(contentType ? { contentType } : {}), body, latencyMs };
  }

  // --- promote -----------------------------------------------------------------------------

  async promote(plan: Plan, revision: Revision, ctx: ProviderContext): Promise<void> {
    const { spec } = plan;
    const api = this.api(spec, ctx);
    const base = baseName(spec);
    const dm = String(revision.handle.deployedModel ?? deployedModelIdOf(revision.id));
    const endpoint = await api.getEndpoint(base, ctx.signal);
    if (!endpoint) throw new ProviderError('EndpointNotFound', `Vertex AI endpoint ${base} does not exist`, { category: 'notFound' });
    if (!endpoint.deployedModels.some((d) => d.id === dm)) throw new ProviderError('DeployedModelNotFound', `revision ${revision.id} is not deployed on endpoint ${base}`, { category: 'notFound' });
    if (endpoint.trafficSplit[dm] !== 100) await retryWhileBusy(ctx, this.polling, () => api.setTraffic(endpoint, { [dm]: 100 }, ctx.signal));

    // The serving version becomes the model's default, so older versions can be deleted.
    const version = (await api.listModelVersions(base, ctx.signal)).find((v) => v.versionAliases.includes(`r-${revision.id}`));
    if (version && !version.versionAliases.includes('default')) await api.mergeVersionAliases(base, version.versionId, ['default'], ctx.signal);

    const smokeId = revision.handle.smokeEndpoint;
    if (smokeId) {
      this.pending.delete(`smoke:${smokeId}`);
      await this.remove(spec, smokeEndpointResource(String(smokeId), revision.id), ctx);
    }
  }

  async revision(plan: Plan, id: string, ctx: ProviderContext): Promise<Revision | undefined> {
    const api = this.api(plan.spec, ctx);
    const base = baseName(plan.spec);
    const endpoint = await api.getEndpoint(base, ctx.signal);
    const dm = endpoint?.deployedModels.find((d) => d.displayName === `r-${id}`);
    return dm ? { id, handle: { endpoint: base, deployedModel: dm.id, model: dm.model } } : undefined;
  }

  // --- inventory and teardown ----------------------------------------------------------------

  async inventory(spec: DeploymentSpec, ctx: ProviderContext): Promise<Resource[]> {
    const api = this.api(spec, ctx);
    const base = baseName(spec);
    const resources: Resource[] = [];
    const endpoints: EndpointInfo[] = [];
    const main = await api.getEndpoint(base, ctx.signal);
    if (main && owned(main.labels, spec)) {
      endpoints.push(main);
      resources.push({ ...endpointResource(base), description: `${main.deployedModels.length} deployed model(s)` });
    }
    for (const smoke of await api.listEndpoints({ [LABEL.deployment]: spec.name, [LABEL.stage]: spec.stage, [LABEL.role]: 'smoke' }, ctx.signal)) {
      if (smoke.id === base) continue;
      endpoints.push(smoke);
      resources.push(smokeEndpointResource(smoke.id, smoke.labels[LABEL.revision] ?? ''));
    }
    for (const endpoint of endpoints) {
      for (const d of endpoint.deployedModels) {
        const revision = DEPLOYED_NAME.exec(d.displayName ?? '')?.[1];
        if (revision) resources.push({ ...deployedModelResource(endpoint.id, d.id, revision), description: `${endpoint.trafficSplit[d.id] ?? 0}% of traffic` });
      }
    }
    const versions = (await api.listModelVersions(base, ctx.signal)).filter((v) => owned(v.labels, spec));
    for (const v of versions) {
      const revision = v.labels[LABEL.revision];
      // The default version goes with the model itself (Vertex refuses to delete it alone).
      if (revision && !v.versionAliases.includes('default')) resources.push(versionResource(base, v.versionId, revision));
    }
    if (versions.length > 0) resources.push(modelResource(base));

    const store = await this.store(spec, ctx);
    const shas = (await store.prefixes(`modeldeploy/${spec.name}/`)).map((p) => p.split('/')[2] ?? '').filter((s) => /^[0-9a-f]{64}$/.test(s));
    if (shas.length > 0) {
      // Stages of one deployment share artifacts (same content, same address): this stage owns
      // the ones no other stage's model points at.
      const elsewhere = await this.artifactsOfOtherStages(api, spec);
      for (const sha of shas) if (!elsewhere.has(sha)) resources.push(artifactResource(store.uri(artifactPrefix(spec, sha)), sha));
    }
    return resources;
  }

  private async artifactsOfOtherStages(api: VertexApi, spec: DeploymentSpec): Promise<Set<string>> {
    const shas = new Set<string>();
    for (const model of await api.listModels({ [LABEL.deployment]: spec.name }, undefined)) {
      if (model.labels[LABEL.stage] === spec.stage) continue;
      const id = model.name.split('/').pop() ?? '';
      for (const v of await api.listModelVersions(id)) {
        const sha = /\/modeldeploy\/[^/]+\/([0-9a-f]{64})\//.exec(v.artifactUri ?? '')?.[1];
        if (sha) shas.add(sha);
      }
    }
    return shas;
  }

  async remove(spec: DeploymentSpec, resource: Resource, ctx: ProviderContext): Promise<void> {
    const api = this.api(spec, ctx);
    await this.settlePending(resource.id, api, ctx);
    switch (resource.type) {
      case TYPE.deployedModel: {
        const [endpointId = '', dm = ''] = resource.id.split('/');
        return retryWhileBusy(ctx, this.polling, () => this.undeploy(api, endpointId, dm, ctx));
      }
      case TYPE.endpoint:
      case TYPE.smokeEndpoint: {
        if (resource.type === TYPE.smokeEndpoint) await this.settlePending(`smoke:${resource.id}`, api, ctx);
        const endpoint = await api.getEndpoint(resource.id, ctx.signal);
        if (!endpoint) return;
        for (const d of endpoint.deployedModels) {
          await this.settlePending(`${resource.id}/${d.id}`, api, ctx);
          await retryWhileBusy(ctx, this.polling, () => this.undeploy(api, resource.id, d.id, ctx));
        }
        return retryWhileBusy(ctx, this.polling, async () => {
          const op = await api.deleteEndpoint(resource.id, ctx.signal);
          if (op) await api.waitOperation(op, { operation: 'delete endpoint', subject: resource.id }, this.polling, ctx.signal);
        });
      }
      case TYPE.version: {
        const [modelId = '', ref = ''] = resource.id.split('@');
        const versions = await api.listModelVersions(modelId, ctx.signal);
        const version = versions.find((v) => v.versionId === ref || v.versionAliases.includes(ref));
        if (!version) return;
        if (versions.length === 1) return this.deleteModel(api, modelId, ctx);
        if (version.versionAliases.includes('default')) return; // removed with the model
        return retryWhileBusy(ctx, this.polling, async () => {
          const op = await api.deleteModelVersion(modelId, version.versionId, ctx.signal);
          if (op) await api.waitOperation(op, { operation: 'delete model version', subject: resource.id }, this.polling, ctx.signal);
        });
      }
      case TYPE.model:
        return this.deleteModel(api, resource.id, ctx);
      case TYPE.artifact: {
        const store = await this.store(spec, ctx);
        const objects = await store.list(artifactPrefix(spec, resource.sha256 ?? ''));
        return store.deleteAll(
          objects.map((o) => o.name),
          ctx.signal,
        );
      }
    }
    throw new ProviderError('UnknownResource', `cannot remove ${resource.type} ${resource.id}`, { category: 'invalid' });
  }

  private async deleteModel(api: VertexApi, modelId: string, ctx: ProviderContext): Promise<void> {
    return retryWhileBusy(ctx, this.polling, async () => {
      const op = await api.deleteModel(modelId, ctx.signal);
      if (op) await api.waitOperation(op, { operation: 'delete model', subject: modelId }, this.polling, ctx.signal);
    });
  }

  /** Undeploy one model; its traffic share, if any, goes to the others in proportion. */
  private async undeploy(api: VertexApi, endpointId: string, dm: string, ctx: ProviderContext): Promise<void> {
    const endpoint = await api.getEndpoint(endpointId, ctx.signal);
    if (!endpoint?.deployedModels.some((d) => d.id === dm)) return;
    let split: Record<string, number> | undefined;
    const others = endpoint.deployedModels.filter((d) => d.id !== dm).map((d) => d.id);
    if ((endpoint.trafficSplit[dm] ?? 0) > 0 && others.length > 0) split = redistribute(endpoint.trafficSplit, others);
    try {
      const op = await api.undeployModel(endpointId, dm, split, ctx.signal);
      await api.waitOperation(op, { operation: 'undeploy model', subject: `${dm} from ${endpointId}` }, this.polling, ctx.signal);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  /**
   * An operation this process started on the resource (an interrupted deploy, say) is cancelled
   * and waited for, so the delete that follows does not race it.
   */
  private async settlePending(id: string, api: VertexApi, ctx: ProviderContext): Promise<void> {
    const pending = this.pending.get(id);
    if (!pending) return;
    const name = await pending.started.catch(() => undefined);
    if (name) {
      // This process may have stopped waiting (an interrupt aborts the wait, not the operation):
      // ask the server, cancel what still runs, and wait for it to end (cancelled, failed or done).
      let interval = this.pollMs;
      let cancelled = false;
      for (;;) {
        const op = await api.getOperation(name, ctx.signal).catch((error: unknown) => (isNotFound(error) ? { done: true } : Promise.reject(error)));
        if (op.done) break;
        if (!cancelled) {
          cancelled = true;
          await api.cancelOperation(name, ctx.signal).catch(() => undefined);
          continue;
        }
        await ctx.clock.sleep(interval, ctx.signal);
        interval = Math.min(this.polling.maxMs, Math.ceil(interval * 1.5));
      }
    } else {
      await settled(pending.done, true);
    }
    this.pending.delete(id);
  }

  async list(spec: Pick<DeploymentSpec, 'region' | 'aws' | 'gcp' | 'azure'>, ctx: ProviderContext): Promise<DeploymentSummary[]> {
    const api = this.api(spec, ctx);
    const out: DeploymentSummary[] = [];
    for (const endpoint of await api.listEndpoints({ [LABEL.deployment]: '*' }, ctx.signal)) {
      const name = endpoint.labels[LABEL.deployment];
      const stage = endpoint.labels[LABEL.stage];
      if (!name || !stage || endpoint.labels[LABEL.role] === 'smoke') continue;
      const serving = servingRevision(endpoint);
      out.push({
        name,
        stage,
        state: serving ? 'ready' : 'pending',
        ...(serving ? { revision: serving.revision, url: predictUrl(api, endpoint) } : {}),
      });
    }
    return out;
  }
}

/** Names and stages are lowercase DNS labels (the schema's rule), so they are label values as they are. */
function owned(labels: Record<string, string>, spec: Pick<DeploymentSpec, 'name' | 'stage'>): boolean {
  return labels[LABEL.deployment] === spec.name && labels[LABEL.stage] === spec.stage;
}

/** The revision taking the largest share of traffic, if any takes some. */
function servingRevision(endpoint: EndpointInfo): { revision: string; share: number } | undefined {
  const [top] = Object.entries(endpoint.trafficSplit)
    .filter(([, share]) => share > 0)
    .sort((a, b) => b[1] - a[1]);
  if (!top) return undefined;
  const dm = endpoint.deployedModels.find((d) => d.id === top[0]);
  const revision = DEPLOYED_NAME.exec(dm?.displayName ?? '')?.[1];
  return revision ? { revision, share: top[1] } : undefined;
}

/** Shares of `others`, scaled to sum to 100 (equal when none had traffic). */
function redistribute(split: Record<string, number>, others: string[]): Record<string, number> {
  const total = others.reduce((a, id) => a + (split[id] ?? 0), 0);
  const out: Record<string, number> = {};
  let given = 0;
  others.forEach((id, i) => {
    const share = i === others.length - 1 ? 100 - given : total > 0 ? Math.floor(((split[id] ?? 0) * 100) / total) : Math.floor(100 / others.length);
    out[id] = share;
    given += share;
  });
  return out;
}

/** A DeployedModel id (1–10 digits) derived from the revision, so it is known before the deploy ends. */
export function deployedModelIdOf(revision: string): string {
  return String(1_000_000_000 + (Number.parseInt(revision, 16) % 1_000_000_000 || 0));
}

function predictUrl(api: VertexApi, endpoint: EndpointInfo): string {
  return `${api.target.baseUrl}/v1/${endpoint.name}:predict`;
}

function logsHint(api: VertexApi, endpointId: string): string {
  const { project, location } = api.target;
  return `gcloud logging read 'resource.type="aiplatform.googleapis.com/Endpoint" AND resource.labels.endpoint_id="${endpointId}"' --project=${project} --limit=50 (region ${location})`;
}

function servingOf(spec: DeploymentSpec): VertexServing {
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

async function settled(promise: Promise<unknown>, wait = false): Promise<boolean> {
  let done = false;
  const observed = promise.then(
    () => (done = true),
    () => (done = true),
  );
  if (wait) await observed;
  else await Promise.race([observed, new Promise((resolve) => setImmediate(resolve))]);
  return done;
}

function endpointUrl(raw: string, name: string): string {
  const value = /^https?:\/\//.test(raw.trim()) ? raw.trim() : `http://${raw.trim()}`;
  try {
    const url = new URL(value);
    return `${url.protocol}//${url.host}`;
  } catch {
    throw new UsageError('InvalidSetting', `${name}=${raw} is not a URL`, { hint: 'e.g. https://us-central1-aiplatform.googleapis.com or http://127.0.0.1:8080' });
  }
}

function artifactPrefix(spec: Pick<DeploymentSpec, 'name'>, sha256: string): string {
  return `modeldeploy/${spec.name}/${sha256}/`;
}

function endpointResource(id: string): Resource {
  return { type: TYPE.endpoint, id, scope: 'endpoint', order: ORDER.endpoint };
}

function smokeEndpointResource(id: string, revision: string): Resource {
  return { type: TYPE.smokeEndpoint, id, scope: 'revision', revision, order: ORDER.endpoint, description: 'smoke endpoint' };
}

function deployedModelResource(endpointId: string, dm: string, revision: string): Resource {
  return { type: TYPE.deployedModel, id: `${endpointId}/${dm}`, scope: 'revision', revision, order: ORDER.deployedModel };
}

function versionResource(modelId: string, ref: string, revision: string): Resource {
  return { type: TYPE.version, id: `${modelId}@${ref}`, scope: 'revision', revision, order: ORDER.version };
}

function modelResource(modelId: string): Resource {
  return { type: TYPE.model, id: modelId, scope: 'endpoint', order: ORDER.model };
}

function artifactResource(uri: string, sha256: string): Resource {
  return { type: TYPE.artifact, id: uri, scope: 'artifact', sha256, order: ORDER.artifact };
}

export function createProvider(): Provider {
  return new VertexProvider();
}

