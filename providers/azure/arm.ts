/**
 * The narrow slice of @azure/arm-machinelearning modeldeploy uses for online endpoints and
 * deployments, loaded on first use (`validate`, `plan --offline` and importing the provider never
 * pay for it). Every call maps SDK errors to ProviderErrors; no SDK type leaves this file or
 * arm-assets.ts. Long-running operations come back as `Lro` handles (arm-call.ts).
 */
import { all, allUnder, begin, call, missing, orUndefined, type Lro } from './arm-call.js';
import { ArmAssets } from './arm-assets.js';
import type { ErrorContext } from './errors.js';
import type { AzureSettings } from './settings.js';

type MlModule = typeof import('@azure/arm-machinelearning');
export type MlClient = InstanceType<MlModule['AzureMachineLearningWorkspaces']>;

/** What @azure/core-auth calls a TokenCredential, structurally. */
export interface TokenCredentialLike {
  getToken(scopes: string | string[], options?: unknown): Promise<{ token: string; expiresOnTimestamp: number } | null>;
}

export interface EndpointInfo {
  name: string;
  location: string;
  state: string;
  traffic: Record<string, number>;
  tags: Record<string, string>;
  authMode: string;
  identityType?: string;
  description?: string;
  scoringUri?: string;
}

export interface DeploymentInfo {
  name: string;
  state: string;
  tags: Record<string, string>;
}

export interface EndpointBody {
  location: string;
  tags: Record<string, string>;
  authMode: string;
  identityType: string;
  description: string;
  traffic: Record<string, number>;
}

export interface Probe {
  initialDelay: string;
  period: string;
  timeout: string;
  failureThreshold: number;
  successThreshold: number;
}

export interface DeploymentBody {
  location: string;
  tags: Record<string, string>;
  instanceType: string;
  instanceCount: number;
  model?: string;
  modelMountPath?: string;
  environmentId?: string;
  code?: { codeId: string; scoringScript: string };
  environmentVariables: Record<string, string>;
  requestTimeout: string;
  liveness: Probe;
  readiness: Probe;
  description: string;
}

export interface ArmOptions {
  credential: TokenCredentialLike;
  /** ARM base URL (sovereign clouds, private link, test doubles). */
  armEndpoint?: string;
  /** Certificate authorities to trust (the system's plus NODE_EXTRA_CA_CERTS of the connect env). */
  ca?: readonly string[];
}

export class ArmApi {
  readonly assets: ArmAssets;

  private constructor(
    private readonly client: MlClient,
    readonly workspace: AzureSettings,
  ) {
    this.assets = new ArmAssets(client, workspace);
  }

  static async connect(workspace: AzureSettings, options: ArmOptions): Promise<ArmApi> {
    const { AzureMachineLearningWorkspaces } = await import('@azure/arm-machinelearning');
    const client = new AzureMachineLearningWorkspaces(options.credential, workspace.subscriptionId, {
      ...(options.armEndpoint ? { endpoint: options.armEndpoint.replace(/\/+$/, '') } : {}),
      userAgentOptions: { userAgentPrefix: 'modeldeploy' },
      ...(options.ca ? { tlsOptions: { ca: [...options.ca] } } : {}),
    });
    return new ArmApi(client, workspace);
  }

  private get rg(): string {
    return this.workspace.resourceGroup;
  }

  private get ws(): string {
    return this.workspace.workspace;
  }

  /** ARM resource id of something in this workspace, e.g. `models/churn/versions/3`. */
  armId(relative: string): string {
    const { subscriptionId, resourceGroup, workspace } = this.workspace;
    return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${workspace}/${relative}`;
  }

  // --- Online endpoints ------------------------------------------------------------------

  async getEndpoint(name: string, signal: AbortSignal): Promise<EndpointInfo | undefined> {
    const ep = await orUndefined({ operation: 'onlineEndpoints.get', subject: name }, () => this.client.onlineEndpoints.get(this.rg, this.ws, name, { abortSignal: signal }));
    return ep && endpointInfo(ep);
  }

  async listEndpoints(signal: AbortSignal): Promise<EndpointInfo[]> {
    const found = await all({ operation: 'onlineEndpoints.list', subject: this.ws }, () => this.client.onlineEndpoints.list(this.rg, this.ws, { abortSignal: signal }));
    return found.map(endpointInfo);
  }

  /** Create or update (a PUT of the whole endpoint: traffic changes only this way). */
  putEndpoint(name: string, body: EndpointBody, signal: AbortSignal): Promise<Lro<EndpointInfo>> {
    return begin(
      { operation: 'onlineEndpoints.createOrUpdate', subject: name },
      () =>
        this.client.onlineEndpoints.beginCreateOrUpdate(
          this.rg,
          this.ws,
          name,
          {
            location: body.location,
            tags: body.tags,
            identity: { type: body.identityType as 'SystemAssigned' },
            properties: { authMode: body.authMode as 'Key', description: body.description, traffic: body.traffic },
          },
          { abortSignal: signal },
        ),
      endpointInfo,
    );
  }

  /** Deletes the endpoint and its deployments; undefined when it is already gone. */
  async deleteEndpoint(name: string, signal: AbortSignal): Promise<Lro<void> | undefined> {
    const where = { operation: 'onlineEndpoints.delete', subject: name };
    return orUndefined(where, () => begin(where, () => this.client.onlineEndpoints.beginDelete(this.rg, this.ws, name, { abortSignal: signal }), () => undefined));
  }

  /** The endpoint's primary key (auth mode Key). Callers never print or store it. */
  async primaryKey(name: string, signal: AbortSignal): Promise<string> {
    const where = { operation: 'onlineEndpoints.listKeys', subject: name };
    const keys = await call(where, () => this.client.onlineEndpoints.listKeys(this.rg, this.ws, name, { abortSignal: signal }));
    if (!keys.primaryKey) throw missing('NoKey', 'the endpoint has no key', where);
    return keys.primaryKey;
  }

  // --- Online deployments ----------------------------------------------------------------

  async getDeployment(endpoint: string, name: string, signal: AbortSignal): Promise<DeploymentInfo | undefined> {
    const dep = await orUndefined({ operation: 'onlineDeployments.get', subject: `${endpoint}/${name}` }, () =>
      this.client.onlineDeployments.get(this.rg, this.ws, endpoint, name, { abortSignal: signal }),
    );
    return dep && deploymentInfo(dep);
  }

  /** The endpoint's deployments; none when the endpoint does not exist. */
  async listDeployments(endpoint: string, signal: AbortSignal): Promise<DeploymentInfo[]> {
    const found = await allUnder({ operation: 'onlineDeployments.list', subject: endpoint }, () => this.client.onlineDeployments.list(this.rg, this.ws, endpoint, { abortSignal: signal }));
    return found.map(deploymentInfo);
  }

  putDeployment(endpoint: string, name: string, body: DeploymentBody, signal: AbortSignal, where: ErrorContext): Promise<Lro<DeploymentInfo>> {
    return begin(
      where,
      () =>
        this.client.onlineDeployments.beginCreateOrUpdate(
          this.rg,
          this.ws,
          endpoint,
          name,
          {
            location: body.location,
            tags: body.tags,
            sku: { name: 'Default', capacity: body.instanceCount },
            properties: {
              endpointComputeType: 'Managed',
              instanceType: body.instanceType,
              description: body.description,
              ...(body.model ? { model: body.model } : {}),
              ...(body.modelMountPath ? { modelMountPath: body.modelMountPath } : {}),
              ...(body.environmentId ? { environmentId: body.environmentId } : {}),
              ...(body.code ? { codeConfiguration: { codeId: body.code.codeId, scoringScript: body.code.scoringScript } } : {}),
              environmentVariables: body.environmentVariables,
              requestSettings: { requestTimeout: body.requestTimeout },
              livenessProbe: body.liveness,
              readinessProbe: body.readiness,
              scaleSettings: { scaleType: 'Default' },
            },
          },
          { abortSignal: signal },
        ),
      deploymentInfo,
    );
  }

  /** Undefined when the deployment (or its endpoint) is already gone. */
  async deleteDeployment(endpoint: string, name: string, signal: AbortSignal): Promise<Lro<void> | undefined> {
    const where = { operation: 'onlineDeployments.delete', subject: `${endpoint}/${name}` };
    return orUndefined(where, () => begin(where, () => this.client.onlineDeployments.beginDelete(this.rg, this.ws, endpoint, name, { abortSignal: signal }), () => undefined));
  }

  /** The tail of a deployment's container log ('' when there is none, or it cannot be read). */
  async logs(endpoint: string, name: string, container: 'StorageInitializer' | 'InferenceServer', tail: number, signal: AbortSignal): Promise<string> {
    try {
      const out = await this.client.onlineDeployments.getLogs(this.rg, this.ws, endpoint, name, { containerType: container, tail }, { abortSignal: signal });
      return out.content ?? '';
    } catch {
      return ''; // logs are a courtesy in a failure's reason, never a reason to fail
    }
  }
}

interface SdkEndpoint {
  name?: string;
  location: string;
  tags?: Record<string, string>;
  identity?: { type?: string };
  properties: { authMode?: string; description?: string; provisioningState?: string; traffic?: Record<string, number>; scoringUri?: string };
}

function endpointInfo(ep: SdkEndpoint): EndpointInfo {
  const p = ep.properties;
  return {
    name: ep.name ?? '',
    location: ep.location,
    state: p.provisioningState ?? 'Unknown',
    traffic: { ...p.traffic },
    tags: { ...ep.tags },
    authMode: p.authMode ?? 'Key',
    ...(ep.identity?.type ? { identityType: ep.identity.type } : {}),
    ...(p.description ? { description: p.description } : {}),
    ...(p.scoringUri ? { scoringUri: p.scoringUri } : {}),
  };
}

function deploymentInfo(dep: { name?: string; tags?: Record<string, string>; properties: { provisioningState?: string } }): DeploymentInfo {
  return { name: dep.name ?? '', state: dep.properties.provisioningState ?? 'Unknown', tags: { ...dep.tags } };
}
