/**
 * provider: azure, connected: one workspace, reached as the environment said at connect. Each
 * call goes to the part of the adapter that owns it (deploy.ts, state.ts, traffic.ts, teardown.ts);
 * this class only holds what they share.
 */
import type {
  ConnectInput,
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
import { AzureConnection, readEnvironment } from './connection.js';
import { deploy } from './deploy.js';
import type { AzureRuntime } from './runtime.js';
import type { AzureSettings } from './settings.js';
import { list, read, status } from './state.js';
import { DatastoreArtifactStore } from './store.js';
import { inventory, remove } from './teardown.js';
import { invoke, promote } from './traffic.js';

export class AzureMlProvider implements Provider {
  readonly polling: Polling;
  readonly artifacts: DatastoreArtifactStore;
  private readonly az: AzureRuntime;

  /** Reads the environment once; builds no client and makes no call. */
  constructor(input: ConnectInput<AzureSettings>) {
    const conn = new AzureConnection(input.settings, readEnvironment(input.env));
    this.polling = conn.env.polling;
    this.artifacts = new DatastoreArtifactStore(conn);
    this.az = { conn, store: this.artifacts, polling: this.polling, pending: new Map(), scoring: new Map() };
  }

  read(t: Target, ctx: ProviderContext): Promise<Current | undefined> {
    return read(this.az, t, ctx);
  }

  deploy(t: Target, request: DeployRequest, ctx: ProviderContext): Promise<void> {
    return deploy(this.az, t, request, ctx);
  }

  status(t: Target, revision: string | undefined, ctx: ProviderContext): Promise<EndpointState> {
    return status(this.az, t, revision, ctx);
  }

  invoke(t: Target, to: InvokeTarget, request: InvokeRequest, ctx: ProviderContext): Promise<InvokeResponse> {
    return invoke(this.az, t, to, request, ctx);
  }

  promote(t: Target, revision: string, ctx: ProviderContext): Promise<void> {
    return promote(this.az, t, revision, ctx);
  }

  inventory(t: Target, ctx: ProviderContext): Promise<FoundResource[]> {
    return inventory(this.az, t, ctx);
  }

  remove(_t: Target, resource: Resource, ctx: ProviderContext): Promise<void> {
    return remove(this.az, resource, ctx);
  }

  list(ctx: ProviderContext): Promise<DeploymentSummary[]> {
    return list(this.az, ctx);
  }
}
