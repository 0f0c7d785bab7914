/**
 * The Vertex AI reads and predictions, over the public REST API with fetch and a bearer token:
 * get and list endpoints and models, poll and cancel operations, predict. No SDK: `plan`,
 * `status` and `invoke` never pay the second the aiplatform client costs to load (measured-facts
 * §2), and row instances (`[[5.1, 3.5]]`) reach the model byte for byte: the SDK's REST
 * transport turns arrays nested in arrays into objects (cloud-apis.md B.1.6).
 */
import type { Clock } from '../../src/core/clock.js';
import { ProviderError } from '../../src/core/errors.js';
import { withRetry } from '../../src/core/retry.js';
import type { TokenSource } from './connection.js';
import { VertexHttpError, isNotFound, toProviderError, type ErrorContext } from './errors.js';

/** One project and region of the API. */
export interface VertexTarget {
  project: string;
  location: string;
  /** https://<region>-aiplatform.googleapis.com, or MODELDEPLOY_GCP_API_ENDPOINT. */
  baseUrl: string;
}

/** What every call needs: the clock its retries wait on, and the signal that stops it (none: it runs to its end). */
export interface CallContext {
  clock: Clock;
  signal?: AbortSignal;
}

export interface EndpointInfo {
  /** projects/<number>/locations/<region>/endpoints/<id>, as the service names it. */
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
}

export interface OperationInfo {
  name: string;
  done: boolean;
  error?: { code: number; message: string };
  response?: Record<string, unknown>;
}

/** Tries of a prediction the front end turned away (429/503); the model itself is never asked twice. */
const PREDICT_ATTEMPTS = 4;
const RETRY_ATTEMPTS = 6;

export class VertexRest {
  constructor(
    readonly target: VertexTarget,
    private readonly token: TokenSource,
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

  /** The URL `invoke` posts to, from the endpoint's name as the service gives it. */
  predictUrl(endpoint: Pick<EndpointInfo, 'name'>): string {
    return `${this.target.baseUrl}/v1/${endpoint.name}:predict`;
  }

  async getEndpoint(id: string, ctx: CallContext): Promise<EndpointInfo | undefined> {
    try {
      return toEndpoint(await this.rest('GET', `/v1/${this.endpointName(id)}`, { operation: 'get endpoint', subject: id }, ctx));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Endpoints whose labels match every pair given (`*`: the label is set). */
  async listEndpoints(labels: Record<string, string>, ctx: CallContext): Promise<EndpointInfo[]> {
    const items = await this.pages('endpoints', `/v1/${this.parent}/endpoints`, labelFilter(labels), { operation: 'list endpoints' }, ctx);
    return items.map(toEndpoint);
  }

  /** Every version of a model; empty when the model does not exist. */
  async listModelVersions(modelId: string, ctx: CallContext): Promise<ModelVersionInfo[]> {
    try {
      const items = await this.pages('models', `/v1/${this.modelName(modelId)}:listVersions`, undefined, { operation: 'list model versions', subject: modelId }, ctx);
      return items.map(toModelVersion);
    } catch (error) {
      if (isNotFound(error)) return [];
      throw error;
    }
  }

  async getOperation(name: string, ctx: CallContext): Promise<OperationInfo> {
    const op = await this.rest('GET', `/v1/${name}`, { operation: 'get operation', subject: name }, ctx);
    return {
      name: String(op.name ?? name),
      done: op.done === true,
      ...(op.error ? { error: op.error as { code: number; message: string } } : {}),
      ...(op.response ? { response: op.response as Record<string, unknown> } : {}),
    };
  }

  /** Best effort, as on the service: the operation ends later, cancelled or otherwise. */
  async cancelOperation(name: string, ctx: CallContext): Promise<void> {
    try {
      await this.rest('POST', `/v1/${name}:cancel`, { operation: 'cancel operation', subject: name }, ctx, {});
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
  async predict(endpointId: string, body: Uint8Array, contentType: string, accept: string | undefined, ctx: CallContext): Promise<Response> {
    const verb = /^application\/json\b/i.test(contentType) ? 'predict' : 'rawPredict';
    const url = `${this.target.baseUrl}/v1/${this.endpointName(endpointId)}:${verb}`;
    const where = { operation: verb, subject: endpointId };
    let attempt = 0;
    return withRetry(
      async () => {
        attempt += 1;
        const headers = new Headers({ authorization: `Bearer ${await this.bearer()}`, 'content-type': contentType });
        if (accept) headers.set('accept', accept);
        let response: Response;
        try {
          response = await fetch(url, { method: 'POST', headers, body, ...(ctx.signal ? { signal: ctx.signal } : {}) });
        } catch (error) {
          throw toProviderError(error, where);
        }
        const frontEnd = (response.status === 429 || response.status === 503) && !response.headers.has('x-vertex-ai-deployed-model-id');
        // The last refusal is the caller's answer, as the service gave it.
        if (!frontEnd || attempt >= PREDICT_ATTEMPTS) return response;
        const refused = await VertexHttpError.from(response);
        throw new ProviderError('PredictRefused', `${verb} ${endpointId}: Vertex AI answered ${response.status} ${refused.status}`, {
          category: response.status === 429 ? 'throttled' : 'unavailable',
          retryable: true,
          ...(refused.retryAfterSeconds !== undefined ? { retryAfterSeconds: refused.retryAfterSeconds } : {}),
        });
      },
      { clock: ctx.clock, ...(ctx.signal ? { signal: ctx.signal } : {}), attempts: PREDICT_ATTEMPTS, baseMs: 250 },
    );
  }

  private async bearer(): Promise<string> {
    try {
      return await this.token();
    } catch (error) {
      throw toProviderError(error, { operation: 'get Google Cloud credentials' });
    }
  }

  /** Bearer headers for the SDK's own requests: the same token as ours. */
  authorization(): Promise<string> {
    return this.bearer().then((token) => `Bearer ${token}`);
  }

  private rest(method: 'GET' | 'POST', path: string, where: ErrorContext, ctx: CallContext, body?: unknown): Promise<Record<string, unknown>> {
    return retried(ctx, async () => {
      let response: Response;
      try {
        const headers = new Headers({ authorization: `Bearer ${await this.bearer()}` });
        if (body !== undefined) headers.set('content-type', 'application/json');
        response = await fetch(`${this.target.baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), ...(ctx.signal ? { signal: ctx.signal } : {}) });
      } catch (error) {
        throw toProviderError(error, where);
      }
      if (!response.ok) throw toProviderError(await VertexHttpError.from(response), where);
      return (await response.json()) as Record<string, unknown>;
    });
  }

  private async pages(key: string, path: string, filter: string | undefined, where: ErrorContext, ctx: CallContext): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    let pageToken: string | undefined;
    do {
      const query = new URLSearchParams({ pageSize: '100', ...(filter ? { filter } : {}), ...(pageToken ? { pageToken } : {}) });
      const page = await this.rest('GET', `${path}?${query}`, where, ctx);
      out.push(...((page[key] as Record<string, unknown>[] | undefined) ?? []));
      pageToken = typeof page.nextPageToken === 'string' && page.nextPageToken ? page.nextPageToken : undefined;
    } while (pageToken);
    return out;
  }
}

/** The core's retry of retryable errors (throttling, 5xx), a little quicker to start than the lifecycle's. */
export function retried<T>(ctx: CallContext, fn: () => Promise<T>): Promise<T> {
  return withRetry(fn, { clock: ctx.clock, ...(ctx.signal ? { signal: ctx.signal } : {}), attempts: RETRY_ATTEMPTS, baseMs: 250 });
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
  };
}
