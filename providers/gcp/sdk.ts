/**
 * The Vertex AI changes — upload a model, create an endpoint, deploy, undeploy, move traffic,
 * delete — through the official @google-cloud/aiplatform clients on gax's REST transport, loaded
 * on the first change only (about a second to load and construct: measured-facts §2). Each call
 * returns the long-running operation's name; waiting is operations.ts's. No SDK type leaves this file.
 */
import { createRequire } from 'node:module';
import { isNotFound, toProviderError, type ErrorContext } from './errors.js';
import { retried, type CallContext, type EndpointInfo, type VertexRest } from './rest.js';

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

export interface DeployModelRequest {
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

type EndpointClient = import('@google-cloud/aiplatform/build/src/v1/endpoint_service_client.js').EndpointServiceClient;
type ModelClient = import('@google-cloud/aiplatform/build/src/v1/model_service_client.js').ModelServiceClient;
interface Clients {
  endpoints: EndpointClient;
  models: ModelClient;
}

export class VertexChanges {
  private sdk?: Promise<Clients>;

  constructor(private readonly rest: VertexRest) {}

  /** models.upload; returns the operation's name. */
  uploadModel(request: UploadModelRequest, ctx: CallContext): Promise<string> {
    const { rest } = this;
    return this.call({ operation: 'upload model', subject: request.modelId }, ctx, async ({ models }) => {
      const [op] = await models.uploadModel({
        parent: rest.parent,
        ...(request.parentModel ? { parentModel: rest.modelName(request.modelId) } : { modelId: request.modelId }),
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

  createEndpoint(id: string, labels: Record<string, string>, ctx: CallContext): Promise<string> {
    return this.call({ operation: 'create endpoint', subject: id }, ctx, async ({ endpoints }) => {
      const [op] = await endpoints.createEndpoint({ parent: this.rest.parent, endpointId: id, endpoint: { displayName: id, labels } });
      return op.name ?? '';
    });
  }

  deployModel(request: DeployModelRequest, where: ErrorContext, ctx: CallContext): Promise<string> {
    return this.call(where, ctx, async ({ endpoints }) => {
      const [op] = await endpoints.deployModel({
        endpoint: this.rest.endpointName(request.endpointId),
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

  /** undeployModel; `trafficSplit` gives the remaining models' shares when this one has traffic. Gone already: undefined. */
  undeployModel(endpointId: string, deployedModelId: string, trafficSplit: Record<string, number> | undefined, ctx: CallContext): Promise<string | undefined> {
    return absentOk(
      this.call({ operation: 'undeploy model', subject: `${deployedModelId} from ${endpointId}` }, ctx, async ({ endpoints }) => {
        const [op] = await endpoints.undeployModel({ endpoint: this.rest.endpointName(endpointId), deployedModelId, ...(trafficSplit ? { trafficSplit } : {}) });
        return op.name ?? '';
      }),
    );
  }

  /** PATCH the endpoint's traffic split (synchronous), guarded by its etag. */
  async setTraffic(endpoint: EndpointInfo, trafficSplit: Record<string, number>, ctx: CallContext): Promise<void> {
    await this.call({ operation: 'move traffic on', subject: endpoint.id }, ctx, async ({ endpoints }) => {
      await endpoints.updateEndpoint({
        endpoint: { name: endpoint.name, displayName: endpoint.displayName, trafficSplit, ...(endpoint.etag ? { etag: endpoint.etag } : {}) },
        updateMask: { paths: ['traffic_split'] },
      });
    });
  }

  deleteEndpoint(id: string, ctx: CallContext): Promise<string | undefined> {
    return absentOk(
      this.call({ operation: 'delete endpoint', subject: id }, ctx, async ({ endpoints }) => {
        const [op] = await endpoints.deleteEndpoint({ name: this.rest.endpointName(id) });
        return op.name ?? '';
      }),
    );
  }

  deleteModel(modelId: string, ctx: CallContext): Promise<string | undefined> {
    return absentOk(
      this.call({ operation: 'delete model', subject: modelId }, ctx, async ({ models }) => {
        const [op] = await models.deleteModel({ name: this.rest.modelName(modelId) });
        return op.name ?? '';
      }),
    );
  }

  deleteModelVersion(modelId: string, versionId: string, ctx: CallContext): Promise<string | undefined> {
    return absentOk(
      this.call({ operation: 'delete model version', subject: `${modelId}@${versionId}` }, ctx, async ({ models }) => {
        const [op] = await models.deleteModelVersion({ name: `${this.rest.modelName(modelId)}@${versionId}` });
        return op.name ?? '';
      }),
    );
  }

  /** Give a version aliases (`default` moves to it from the version that had it). */
  async mergeVersionAliases(modelId: string, versionId: string, aliases: string[], ctx: CallContext): Promise<void> {
    await this.call({ operation: 'set version aliases of', subject: `${modelId}@${versionId}` }, ctx, async ({ models }) => {
      await models.mergeVersionAliases({ name: `${this.rest.modelName(modelId)}@${versionId}`, versionAliases: aliases });
    });
  }

  /** One SDK call, retried on throttling and 5xx (the SDK retries nothing: B.2), errors mapped. */
  private call<T>(where: ErrorContext, ctx: CallContext, fn: (clients: Clients) => Promise<T>): Promise<T> {
    return retried(ctx, async () => {
      try {
        return await fn(await this.clients());
      } catch (error) {
        throw toProviderError(error, where);
      }
    });
  }

  private clients(): Promise<Clients> {
    this.sdk ??= (async () => {
      // The v1 client files alone, on gax's REST transport: not the package index, which loads
      // every API version and gRPC.
      const [{ EndpointServiceClient }, { ModelServiceClient }] = await Promise.all([
        import('@google-cloud/aiplatform/build/src/v1/endpoint_service_client.js'),
        import('@google-cloud/aiplatform/build/src/v1/model_service_client.js'),
      ]);
      const require = createRequire(import.meta.url);
      const fallback = createRequire(require.resolve('@google-cloud/aiplatform'))('google-gax/fallback') as ConstructorParameters<typeof EndpointServiceClient>[1];
      const url = new URL(this.rest.target.baseUrl);
      const options = {
        apiEndpoint: url.hostname,
        // gax takes the port from `port` only, never from apiEndpoint (cloud-apis.md B.9).
        port: url.port ? Number(url.port) : url.protocol === 'http:' ? 80 : 443,
        protocol: url.protocol === 'http:' ? 'http' : 'https',
        fallback: true,
        authClient: bearerAuthClient(() => this.rest.authorization()),
      } as ConstructorParameters<typeof EndpointServiceClient>[0];
      return { endpoints: new EndpointServiceClient(options, fallback), models: new ModelServiceClient(options, fallback) };
    })();
    this.sdk.catch(() => (this.sdk = undefined));
    return this.sdk;
  }
}

async function absentOk(call: Promise<string>): Promise<string | undefined> {
  try {
    return await call;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * What gax's REST transport needs of an auth client: it checks for getRequestHeaders and sends
 * every request through fetch (measured-facts §5). Ours adds the same bearer token as our own
 * REST calls, so the SDK's errors come back as GoogleErrors with the canonical code.
 */
function bearerAuthClient(authorization: () => Promise<string>): unknown {
  return {
    getRequestHeaders: async () => new Headers(),
    fetch: async (url: string | URL, init: RequestInit = {}) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', await authorization());
      return fetch(url, { method: init.method ?? 'GET', headers, body: init.body ?? null, signal: init.signal ?? null });
    },
  };
}
