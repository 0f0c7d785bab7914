/**
 * provider: gcp — Vertex AI online prediction, as the core's Provider. Each concern lives in its
 * own file: names.ts (what everything is called), deploy.ts (deploy, promote), status.ts (read,
 * status, invoke, list), teardown.ts (inventory, remove), operations.ts (the long-running
 * operations this process follows), rest.ts / sdk.ts (the API), artifacts.ts (the bucket).
 */
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
import { GcsArtifacts } from './artifacts.js';
import { tokenSource, type GcpConnection } from './connection.js';
import { deploy, promote } from './deploy.js';
import { endpointStatus, invoke, list, read, revisionStatus } from './status.js';
import { inventory, remove } from './teardown.js';
import { vertexOf, type Vertex } from './vertex.js';

export class VertexProvider implements Provider {
  readonly polling: Polling;
  readonly artifacts: GcsArtifacts;
  private readonly vertex: Vertex;

  /** Builds no client and makes no call. */
  constructor(conn: GcpConnection) {
    // One token source for Vertex and the bucket: Application Default Credentials load once.
    const token = tokenSource(conn.accessToken);
    this.polling = conn.polling;
    this.artifacts = new GcsArtifacts(conn, token);
    this.vertex = vertexOf(conn, token);
  }

  read(t: Target, ctx: ProviderContext): Promise<Current | undefined> {
    return read(this.vertex, t, ctx);
  }

  deploy(t: Target, request: DeployRequest, ctx: ProviderContext): Promise<void> {
    return deploy(this.vertex, t, request, ctx);
  }

  status(t: Target, revision: string | undefined, ctx: ProviderContext): Promise<EndpointState> {
    return revision === undefined ? endpointStatus(this.vertex, t, ctx) : revisionStatus(this.vertex, t, revision, ctx);
  }

  invoke(t: Target, to: InvokeTarget, request: InvokeRequest, ctx: ProviderContext): Promise<InvokeResponse> {
    return invoke(this.vertex, t, to, request, ctx);
  }

  promote(t: Target, revision: string, ctx: ProviderContext): Promise<void> {
    return promote(this.vertex, t, revision, ctx);
  }

  inventory(t: Target, ctx: ProviderContext): Promise<FoundResource[]> {
    return inventory(this.vertex, t, ctx);
  }

  remove(t: Target, resource: Resource, ctx: ProviderContext): Promise<void> {
    return remove(this.vertex, t, resource, ctx);
  }

  list(ctx: ProviderContext): Promise<DeploymentSummary[]> {
    return list(this.vertex, ctx);
  }
}
