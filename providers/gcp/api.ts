/**
 * The narrow Vertex AI surface the provider uses, for one project and region.
 *
 * Changes (upload a model, create an endpoint, deploy, undeploy, move traffic, delete) go through
 * the official @google-cloud/aiplatform clients (REST transport), loaded on the first change: the
 * library costs about a second to load and construct (measured-facts §2). Reads (get, list,
 * operation polls) and prediction are plain GETs and POSTs of the same public REST API with the
 * same bearer token, so `plan`, `status` and `invoke` never pay that second, and so that row
 * instances (`[[5.1, 3.5]]`) reach the model intact: the SDK's REST transport turns arrays nested
 * in arrays into objects (cloud-apis.md B.1.6).
 */
import { createRequire } from 'node:module';
import type { Clock } from '../../src/core/clock.js';
import { withRetry } from '../../src/core/retry.js';
import { OperationFailedError, VertexHttpError, isNotFound, toProviderError, type ErrorContext } from './errors.js';

export interface VertexTarget {
  project: string;
  location: string;
  /** The API's base URL: https://<region>-aiplatform.googleapis.com, or MODELDEPLOY_GCP_API_ENDPOINT. */
  baseUrl: string;
}

/** Yields a bearer token: MODELDEPLOY_GCP_ACCESS_TOKEN as is, or Application Default Credentials. */
export type TokenSource = () => Promise<string>;

export interface EndpointInfo {
  name: string;
  id: string;
  displayName: string;
  labels: Record<string, string>;
  trafficSplit: Record<string, number>;
  deployedModels: DeployedModelInfo[];
  etag?: string;
}

export interface DeployedModelInfo {
  id: string;
  /** projects/…/models/<id> */
  model: string;
  modelVersionId?: string;
  displayName?: string;
}

export interface ModelVersionInfo {
  /** projects/…/models/<id> */
  name: string;
  versionId: string;
  versionAliases: string[];
  labels: Record<string, string>;
  artifactUri?: string;
  deployedModels: { endpoint: string; deployedModelId: string }[];
}

export interface OperationInfo {
  name: string;
  done: boolean;
  error?: { code: number; message: string };
  response?: Record<string, unknown>;
}

export interface ContainerSpec {
  imageUri: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value: string }[];
  ports?: { containerPort: number }[];
  predictRoute?: string;
  healthRoute?: string;
}

export interface UploadModelRequest {
  modelId: string;
  /** Add a version to this existing model instead of creating it. */
  parentModel?: boolean;
  displayName: string;
  description?: string;
  artifactUri?: string;
  containerSpec: ContainerSpec;
  labels: Record<string, string>;
  versionAliases: string[];
}

export interface DeployRequest {
  endpointId: string;
  /** 1–10 digits, chosen by us so the resource is known before the operation ends. */
  deployedModelId: string;
  model: string;
  displayName: string;
  machineType: string;
  acceleratorType?: string;
  acceleratorCount?: number;
  minReplicaCount: number;
  maxReplicaCount: number;
  /** Traffic after the deploy, with "0" for the new model; empty leaves traffic as it is. */
  trafficSplit: Record<string, number>;
}

/** Tries of a prediction the front end turned away (429/503); the model itself is never asked twice. */
const PREDICT_ATTEMPTS = 4;
const RETRY_ATTEMPTS = 6;

type EndpointClient = import('@google-cloud/aiplatform/build/src/v1/endpoint_service_client.js').EndpointServiceClient;
type ModelClient = import('@google-cloud/aiplatform/build/src/v1/model_service_client.js').ModelServiceClient;

export class VertexApi {
  private sdk?: Promise<{ endpoints: EndpointClient; models: ModelClient }>;

  constructor(
    readonly target: VertexTarget,
    private readonly token: TokenSource,
    private readonly clock: Clock,
  ) {}

  get parent(): string {
    return `projects/${this.target.project}/locations/${this.target.location}`;
  }

  endpointName(id: string): string {
    return `${this.parent}/endpoints/${id}`;
  }

  modelName(id: string): string {
    return `${this.parent}/models/${id}`;
  }

  // --- reads (REST) ---------------------------------------------------------------------------

  async getEndpoint(id: string, signal?: AbortSignal): Promise<EndpointInfo | undefined> {
    try {
      return toEndpoint(await this.rest('GET', `/v1/${this.endpointName(id)}`, { operation: 'get endpoint', subject: id }, signal));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Endpoints whose labels match every pair given (`*`: the label is set). */
  async listEndpoints(labels: Record<string, string>, signal?: AbortSignal): Promise<EndpointInfo[]> {
    const out: EndpointInfo[] = [];
    for await (const item of this.pages('endpoints', `/v1/${this.parent}/endpoints`, labelFilter(labels), { operation: 'list endpoints' }, signal)) out.push(toEndpoint(item));
    return out;
  }

  /** Every version of a model; empty when the model does not exist. */
  async listModelVersions(modelId: string, signal?: AbortSignal): Promise<ModelVersionInfo[]> {
    const out: ModelVersionInfo[] = [];
    try {
      for await (const item of this.pages('models', `/v1/${this.modelName(modelId)}:listVersions`, undefined, { operation: 'list model versions', subject: modelId }, signal)) out.push(toModelVersion(item));
    } catch (error) {
      if (isNotFound(error)) return [];
      throw error;
    }
    return out;
  }

  /** The default versions of every model whose labels match. */
  async listModels(labels: Record<string, string>, signal?: AbortSignal): Promise<ModelVersionInfo[]> {
    const out: ModelVersionInfo[] = [];
    for await (const item of this.pages('models', `/v1/${this.parent}/models`, labelFilter(labels), { operation: 'list models' }, signal)) out.push(toModelVersion(item));
    return out;
  }

  async getOperation(name: string, signal?: AbortSignal): Promise<OperationInfo> {
    const op = await this.rest('GET', `/v1/${name}`, { operation: 'get operation', subject: name }, signal);
    return {
      name: String(op.name ?? name),
      done: op.done === true,
      ...(op.error ? { error: op.error as { code: number; message: string } } : {}),
      ...(op.response ? { response: op.response as Record<string, unknown> } : {}),
    };
  }

  async cancelOperation(name: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.rest('POST', `/v1/${name}:cancel`, { operation: 'cancel operation', subject: name }, signal, {});
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  /**
   * POST the body as given to `:predict` (JSON) or `:rawPredict` (anything else), so it reaches
   * the model byte for byte. Returns the raw answer; errors of the model server are answers too.
   * A 429 or 503 from Vertex's front end (a Google error body, no deployed model named) never
   * reached the model, so it is sent again, up to PREDICT_ATTEMPTS times in all.
   */
  async predict(endpointId: string, body: Uint8Array, contentType: string, accept: string | undefined, signal?: AbortSignal): Promise<Response> {
    const verb = /^application\/json\b/i.test(contentType) ? 'predict' : 'rawPredict';
    const url = `${this.target.baseUrl}/v1/${this.endpointName(endpointId)}:${verb}`;
    for (let attempt = 1; ; attempt++) {
      const headers = new Headers({ authorization: `Bearer ${await this.bearer()}`, 'content-type': contentType });
      if (accept) headers.set('accept', accept);
      let response: Response;
      try {
        response = await fetch(url, { method: 'POST', headers, body, ...(signal ? { signal } : {}) });
      } catch (error) {
        throw toProviderError(error, { operation: verb, subject: endpointId });
      }
      const frontEnd = (response.status === 429 || response.status === 503) && !response.headers.has('x-vertex-ai-deployed-model-id');
      if (!frontEnd || attempt >= PREDICT_ATTEMPTS) return response;
      const retryAfter = Number(response.headers.get('retry-after'));
      await response.arrayBuffer().catch(() => undefined);
      const backoff = 250 * 2 ** (attempt - 1);
      await this.clock.sleep(Number.isFinite(retryAfter) && response.headers.has('retry-after') ? Math.max(retryAfter * 1000, backoff) : backoff / 2 + Math.random() * (backoff / 2), signal);
    }
  }

  // --- changes (SDK) ---------------------------------------------------------------------------

  /** models.upload; returns the operation's name. */
  async uploadModel(request: UploadModelRequest, signal?: AbortSignal): Promise<string> {
    const { models } = await this.clients();
    return this.call({ operation: 'upload model', subject: request.modelId }, signal, async () => {
      const [op] = await models.uploadModel({
        parent: this.parent,
        ...(request.parentModel ? { parentModel: this.modelName(request.modelId) } : { modelId: request.modelId }),
        model: {
          displayName: request.displayName,
          ...(request.description ? { description: request.description } : {}),
          ...(request.artifactUri ? { artifactUri: request.artifactUri } : {}),
          containerSpec: request.containerSpec,
          labels: request.labels,
          versionAliases: request.versionAliases,
        },
      });
      return op.name ?? '';
    });
  }

  async createEndpoint(id: string, displayName: string, labels: Record<string, string>, signal?: AbortSignal): Promise<string> {
    const { endpoints } = await this.clients();
    return this.call({ operation: 'create endpoint', subject: id }, signal, async () => {
      const [op] = await endpoints.createEndpoint({ parent: this.parent, endpointId: id, endpoint: { displayName, labels } });
      return op.name ?? '';
    });
  }

  async deployModel(request: DeployRequest, signal?: AbortSignal): Promise<string> {
    const { endpoints } = await this.clients();
    const where = { operation: 'deploy model', subject: `${request.displayName} to ${request.endpointId}`, machine: this.machineOf(request) };
    return this.call(where, signal, async () => {
      const [op] = await endpoints.deployModel({
        endpoint: this.endpointName(request.endpointId),
        deployedModel: {
          id: request.deployedModelId,
          model: request.model,
          displayName: request.displayName,
          dedicatedResources: {
            machineSpec: {
              machineType: request.machineType,
              ...(request.acceleratorType ? { acceleratorType: request.acceleratorType as never, acceleratorCount: request.acceleratorCount ?? 1 } : {}),
            },
            minReplicaCount: request.minReplicaCount,
            maxReplicaCount: request.maxReplicaCount,
          },
        },
        trafficSplit: request.trafficSplit,
      });
      return op.name ?? '';
    });
  }

  /** What a deploy asks for, for quota hints: quota is charged on the maximum replica count. */
  machineOf(request: DeployRequest): NonNullable<ErrorContext['machine']> {
    return {
      type: request.machineType,
      count: request.maxReplicaCount,
      region: this.target.location,
      ...(request.acceleratorType ? { accelerator: `${request.acceleratorCount ?? 1} × ${request.acceleratorType}` } : {}),
    };
  }

  /** undeployModel; `trafficSplit` gives the remaining models' shares when this one has traffic. */
  async undeployModel(endpointId: string, deployedModelId: string, trafficSplit: Record<string, number> | undefined, signal?: AbortSignal): Promise<string> {
    const { endpoints } = await this.clients();
    return this.call({ operation: 'undeploy model', subject: `${deployedModelId} from ${endpointId}` }, signal, async () => {
      const [op] = await endpoints.undeployModel({ endpoint: this.endpointName(endpointId), deployedModelId, ...(trafficSplit ? { trafficSplit } : {}) });
      return op.name ?? '';
    });
  }

  /** PATCH the endpoint's traffic split (synchronous), guarded by its etag. */
  async setTraffic(endpoint: EndpointInfo, trafficSplit: Record<string, number>, signal?: AbortSignal): Promise<void> {
    const { endpoints } = await this.clients();
    await this.call({ operation: 'move traffic on', subject: endpoint.id }, signal, async () => {
      await endpoints.updateEndpoint({
        endpoint: { name: endpoint.name, displayName: endpoint.displayName, trafficSplit, ...(endpoint.etag ? { etag: endpoint.etag } : {}) },
        updateMask: { paths: ['traffic_split'] },
      });
    });
  }

  async deleteEndpoint(id: string, signal?: AbortSignal): Promise<string | undefined> {
    const { endpoints } = await this.clients();
    return this.absentOk(() =>
      this.call({ operation: 'delete endpoint', subject: id }, signal, async () => {
        const [op] = await endpoints.deleteEndpoint({ name: this.endpointName(id) });
        return op.name ?? '';
      }),
    );
  }

  async deleteModel(modelId: string, signal?: AbortSignal): Promise<string | undefined> {
    const { models } = await this.clients();
    return this.absentOk(() =>
      this.call({ operation: 'delete model', subject: modelId }, signal, async () => {
        const [op] = await models.deleteModel({ name: this.modelName(modelId) });
        return op.name ?? '';
      }),
    );
  }

  async deleteModelVersion(modelId: string, versionId: string, signal?: AbortSignal): Promise<string | undefined> {
    const { models } = await this.clients();
    return this.absentOk(() =>
      this.call({ operation: 'delete model version', subject: `${modelId}@${versionId}` }, signal, async () => {
        const [op] = await models.deleteModelVersion({ name: `${this.modelName(modelId)}@${versionId}` });
        return op.name ?? '';
      }),
    );
  }

  /** Give a version aliases (`default` moves to it from the version that had it). */
  async mergeVersionAliases(modelId: string, versionId: string, aliases: string[], signal?: AbortSignal): Promise<void> {
    const { models } = await this.clients();
    await this.call({ operation: 'set version aliases of', subject: `${modelId}@${versionId}` }, signal, async () => {
      await models.mergeVersionAliases({ name: `${this.modelName(modelId)}@${versionId}`, versionAliases: aliases });
    });
  }

  /** Poll an operation on our clock until it is done; throws OperationFailedError (mapped) on failure. */
  async waitOperation(name: string, where: ErrorContext, pollMs: { initialMs: number; maxMs: number }, signal?: AbortSignal): Promise<Record<string, unknown> | undefined> {
    let interval = pollMs.initialMs;
    for (;;) {
      const op = await this.withRetry(() => this.getOperation(name, signal), signal);
      if (op.done) {
        if (op.error) throw toProviderError(new OperationFailedError(name, op.error.code, op.error.message), where);
        return op.response;
      }
      await this.clock.sleep(interval, signal);
      interval = Math.min(pollMs.maxMs, Math.ceil(interval * 1.5));
    }
  }

  // --- plumbing --------------------------------------------------------------------------------

  private async bearer(): Promise<string> {
    try {
      return await this.token();
    } catch (error) {
      throw toProviderError(error, { operation: 'get Google Cloud credentials' });
    }
  }

  private clients(): Promise<{ endpoints: EndpointClient; models: ModelClient }> {
    this.sdk ??= (async () => {
      // The v1 client files alone, on gax's REST transport: not the package index, which loads
      // every API version and gRPC.
      const [{ EndpointServiceClient }, { ModelServiceClient }] = await Promise.all([
        import('@google-cloud/aiplatform/build/src/v1/endpoint_service_client.js'),
        import('@google-cloud/aiplatform/build/src/v1/model_service_client.js'),
      ]);
      const require = createRequire(import.meta.url);
      const fallback = createRequire(require.resolve('@google-cloud/aiplatform'))('google-gax/fallback') as ConstructorParameters<typeof EndpointServiceClient>[1];
      const url = new URL(this.target.baseUrl);
      const options = {
        apiEndpoint: url.hostname,
        // gax takes the port from `port` only, never from apiEndpoint (cloud-apis.md B.9).
        port: url.port ? Number(url.port) : url.protocol === 'http:' ? 80 : 443,
        protocol: url.protocol === 'http:' ? 'http' : 'https',
        fallback: true,
        authClient: bearerAuthClient(() => this.bearer()),
      } as ConstructorParameters<typeof EndpointServiceClient>[0];
      return { endpoints: new EndpointServiceClient(options, fallback), models: new ModelServiceClient(options, fallback) };
    })();
    this.sdk.catch(() => (this.sdk = undefined));
    return this.sdk;
  }

  /** One SDK call, retried on throttling and 5xx (the SDK retries nothing: B.2), errors mapped. */
  private call<T>(where: ErrorContext, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    return this.withRetry(async () => {
      try {
        return await fn();
      } catch (error) {
        throw toProviderError(error, where);
      }
    }, signal);
  }

  /** The core's retry of retryable errors (throttling, 5xx), on this API's clock, a little quicker to start than the lifecycle's. */
  private withRetry<T>(fn: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    return withRetry(fn, { clock: this.clock, ...(signal ? { signal } : {}), attempts: RETRY_ATTEMPTS, baseMs: 250 });
  }

  private async absentOk(fn: () => Promise<string>): Promise<string | undefined> {
    try {
      return await fn();
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  private async rest(method: 'GET' | 'POST', path: string, where: ErrorContext, signal?: AbortSignal, body?: unknown): Promise<Record<string, unknown>> {
    return this.withRetry(async () => {
      let response: Response;
      try {
        const headers = new Headers({ authorization: `Bearer ${await this.bearer()}` });
        if (body !== undefined) headers.set('content-type', 'application/json');
        response = await fetch(`${this.target.baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), ...(signal ? { signal } : {}) });
      } catch (error) {
        throw toProviderError(error, where);
      }
      if (!response.ok) throw toProviderError(await VertexHttpError.from(response), where);
      return (await response.json()) as Record<string, unknown>;
    }, signal);
  }

  private async *pages(key: string, path: string, filter: string | undefined, where: ErrorContext, signal?: AbortSignal): AsyncGenerator<Record<string, unknown>> {
    let pageToken: string | undefined;
    do {
      const query = new URLSearchParams({ pageSize: '100', ...(filter ? { filter } : {}), ...(pageToken ? { pageToken } : {}) });
      const page = await this.rest('GET', `${path}?${query}`, where, signal);
      yield* ((page[key] as Record<string, unknown>[] | undefined) ?? []);
      pageToken = typeof page.nextPageToken === 'string' && page.nextPageToken ? page.nextPageToken : undefined;
    } while (pageToken);
  }
}

/**
 * What gax's REST transport needs of an auth client: it checks for getRequestHeaders and sends
 * every request through fetch (measured-facts §5). Ours adds the same bearer token as our own
 * REST calls, so the SDK's errors come back as GoogleErrors with the canonical code.
 */
function bearerAuthClient(token: () => Promise<string>): unknown {
  return {
    getRequestHeaders: async () => new Headers(),
    fetch: async (url: string | URL, init: RequestInit = {}) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${await token()}`);
      return fetch(url, { method: init.method ?? 'GET', headers, body: init.body ?? null, signal: init.signal ?? null });
    },
  };
}

function labelFilter(labels: Record<string, string>): string | undefined {
  // Values quoted: AIP-160 reads an unquoted `a-b` as more than one token.
  const terms = Object.entries(labels).map(([k, v]) => (v === '*' ? `labels.${k}:*` : `labels.${k}="${v}"`));
  return terms.length ? terms.join(' AND ') : undefined;
}

function toEndpoint(raw: Record<string, unknown>): EndpointInfo {
  const name = String(raw.name ?? '');
  const deployed = (raw.deployedModels as Record<string, unknown>[] | undefined) ?? [];
  return {
    name,
    id: name.split('/').pop() ?? '',
    displayName: String(raw.displayName ?? ''),
    labels: (raw.labels as Record<string, string> | undefined) ?? {},
    trafficSplit: Object.fromEntries(Object.entries((raw.trafficSplit as Record<string, number> | undefined) ?? {}).map(([k, v]) => [k, Number(v)])),
    deployedModels: deployed.map((d) => ({
      id: String(d.id ?? ''),
      model: String(d.model ?? ''),
      ...(d.modelVersionId ? { modelVersionId: String(d.modelVersionId) } : {}),
      ...(d.displayName ? { displayName: String(d.displayName) } : {}),
    })),
    ...(typeof raw.etag === 'string' ? { etag: raw.etag } : {}),
  };
}

function toModelVersion(raw: Record<string, unknown>): ModelVersionInfo {
  return {
    name: String(raw.name ?? ''),
    versionId: String(raw.versionId ?? ''),
    versionAliases: (raw.versionAliases as string[] | undefined) ?? [],
    labels: (raw.labels as Record<string, string> | undefined) ?? {},
    ...(typeof raw.artifactUri === 'string' ? { artifactUri: raw.artifactUri } : {}),
    deployedModels: ((raw.deployedModels as Record<string, unknown>[] | undefined) ?? []).map((d) => ({ endpoint: String(d.endpoint ?? ''), deployedModelId: String(d.deployedModelId ?? '') })),
  };
}
