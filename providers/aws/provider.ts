/**
 * provider: aws — the connected adapter. Reads (read, status, list, invoke) live here; bringing a
 * revision up is deploy.ts, finding and deleting what a target owns is inventory.ts, the
 * artifact store is s3-store.ts. Nothing is built or called until a method needs it.
 */
import { ProviderError } from '../../src/core/errors.js';
import type {
  Current,
  DeploymentSummary,
  DeployRequest,
  EndpointState,
  FoundResource,
  InvokeRequest,
  InvokeResponse,
  InvokeTarget,
  Polling,
  Provider,
  ProviderContext,
  Resource,
  Target,
} from '../../src/core/provider.js';
import { endpointNotFound, ownerOf } from '../../src/core/target.js';
import type { AwsConnection } from './connection.js';
import { deployRevision, promoteRevision } from './deploy.js';
import { toProviderError } from './errors.js';
import { inventoryOf, removeResource } from './inventory.js';
import { logsHint, revisionOf, sagemakerNames } from './names.js';
import { S3Store } from './s3-store.js';
import type { EndpointInfo } from './sagemaker-api.js';
import { AwsServices, IN_PROGRESS } from './services.js';
import type { AwsSettings } from './settings.js';

type AwsTarget = Target<AwsSettings>;

export class SageMakerProvider implements Provider {
  readonly polling: Polling;
  private readonly s: AwsServices;
  private store?: S3Store;

  constructor(
    connection: AwsConnection,
    private readonly settings: AwsSettings | undefined,
  ) {
    this.s = new AwsServices(connection);
    this.polling = this.s.polling;
  }

  /** The bucket of deploy.yaml's aws block (`list`, which may have none, never touches artifacts). */
  get artifacts(): S3Store {
    this.store ??= new S3Store(this.s.connection, this.settings?.bucket);
    return this.store;
  }

  async read(t: AwsTarget, ctx: ProviderContext): Promise<Current | undefined> {
    const found = await this.s.findEndpoint(t.base, ctx.signal);
    if (!found) return undefined;
    const { endpoint, tags } = found;
    // A Failed endpoint serves nothing: there is no revision to keep or restore.
    const revision = endpoint.status === 'Failed' ? undefined : revisionOf(t, endpoint.configName);
    return {
      owner: ownerOf(tags),
      ...(revision ? { revision } : {}),
      state: this.endpointState(t, endpoint),
      details: { endpointArn: endpoint.arn, endpointStatus: endpoint.status, endpointConfig: endpoint.configName },
    };
  }

  deploy(t: AwsTarget, request: DeployRequest, ctx: ProviderContext): Promise<void> {
    return deployRevision(this.s, t, request, ctx);
  }

  async status(t: AwsTarget, revision: string | undefined, ctx: ProviderContext): Promise<EndpointState> {
    const endpoint = await this.s.sagemaker.describeEndpoint(t.base, ctx.signal);
    if (!endpoint) return { state: 'absent' };
    const state = this.endpointState(t, endpoint);
    if (!revision || state.state === 'failed') return state;
    const config = sagemakerNames(t, revision).endpointConfig;
    if (endpoint.configName === config) return state;
    if (IN_PROGRESS.has(endpoint.status)) return { state: 'pending', detail: `${endpoint.status} to ${config}` };
    // InService on another config after our UpdateEndpoint: SageMaker rolled the update back.
    if (endpoint.failureReason) return { state: 'failed', reason: `the update to ${config} failed: ${endpoint.failureReason}`, logsHint: logsHint(t) };
    return { state: 'pending', detail: `waiting for ${config}` };
  }

  async invoke(t: AwsTarget, to: InvokeTarget, request: InvokeRequest, ctx: ProviderContext): Promise<InvokeResponse> {
    if (to.kind === 'revision') {
      throw new ProviderError('RevisionNotAddressable', `SageMaker routes every request of ${t.base} to the revision it serves; revision ${to.revision} cannot be addressed`, { category: 'invalid' });
    }
    const { sdk, client } = await this.s.connection.runtime();
    const command = new sdk.InvokeEndpointCommand({ EndpointName: t.base, Body: request.body, ContentType: request.contentType, ...(request.accept ? { Accept: request.accept } : {}) });
    // Throttling and a serverless cold start (ModelNotReadyException) are retried; the latency is the answered try's.
    return this.s.connection.retry(async () => {
      const started = performance.now();
      try {
        const out = await client.send(command, { abortSignal: ctx.signal });
        return { status: 200, body: out.Body ?? new Uint8Array(), latencyMs: performance.now() - started, ...(out.ContentType ? { contentType: out.ContentType } : {}) };
      } catch (error) {
        const latencyMs = performance.now() - started;
        // The container answered, but not 2xx: SageMaker wraps it as ModelError (424).
        const e = error as { name?: string; message?: string; OriginalStatusCode?: number; OriginalMessage?: string };
        if (e.name === 'ModelError') return { status: e.OriginalStatusCode ?? 424, body: Buffer.from(e.OriginalMessage ?? ''), contentType: 'text/plain', latencyMs };
        if (e.name === 'ValidationError' && /not found/i.test(e.message ?? '')) throw endpointNotFound(t, this.s.where(t));
        throw toProviderError(error, 'InvokeEndpoint', t.base);
      }
    }, ctx.signal);
  }

  promote(t: AwsTarget, revision: string, ctx: ProviderContext): Promise<void> {
    return promoteRevision(this.s, t, revision, ctx);
  }

  inventory(t: AwsTarget, ctx: ProviderContext): Promise<FoundResource[]> {
    return inventoryOf(this.s, t, ctx);
  }

  remove(t: AwsTarget, resource: Resource, ctx: ProviderContext): Promise<void> {
    return removeResource(this.s, t, resource, ctx);
  }

  /** Every endpoint tagged by modeldeploy in the region: ListEndpoints, then tags and configs of each at once. */
  async list(ctx: ProviderContext): Promise<DeploymentSummary[]> {
    const endpoints = await this.s.sagemaker.listEndpoints(ctx.signal);
    const found = await Promise.all(
      endpoints.map(async (e) => {
        const owner = ownerOf(await this.s.sagemaker.tags(e.arn, ctx.signal));
        if (!owner.deployment || !owner.stage) return undefined;
        const endpoint = await this.s.sagemaker.describeEndpoint(e.name, ctx.signal);
        if (!endpoint) return undefined;
        const t = { name: owner.deployment, stage: owner.stage, base: `${owner.deployment}-${owner.stage}`, region: this.s.region };
        const state = this.endpointState(t, endpoint);
        const revision = endpoint.status === 'Failed' ? undefined : revisionOf(t, endpoint.configName);
        const summary: DeploymentSummary = {
          name: owner.deployment,
          stage: owner.stage,
          state: state.state,
          ...(revision ? { revision } : {}),
          ...(state.state === 'ready' && state.url ? { url: state.url } : {}),
        };
        return summary;
      }),
    );
    return found.filter((s): s is DeploymentSummary => s !== undefined);
  }

  private endpointState(t: Pick<Target, 'base' | 'region'>, endpoint: EndpointInfo): EndpointState {
    if (endpoint.status === 'InService') return { state: 'ready', url: runtimeUrl(endpoint, this.s.region) };
    if (IN_PROGRESS.has(endpoint.status)) return { state: 'pending', detail: endpoint.status };
    return { state: 'failed', reason: `endpoint is ${endpoint.status}${endpoint.failureReason ? `: ${endpoint.failureReason}` : ''}`, logsHint: logsHint(t) };
  }
}

/** The HTTPS address InvokeEndpoint posts to (region from the ARN). */
function runtimeUrl(endpoint: EndpointInfo, fallbackRegion: string): string {
  const region = endpoint.arn.split(':')[3] || fallbackRegion;
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://runtime.sagemaker.${region}.${domain}/endpoints/${endpoint.name}/invocations`;
}
