/**
 * The narrow slice of @azure/arm-machinelearning the adapter uses, loaded on first use (a local
 * deploy or a `validate` never pays for it). Every call maps SDK errors to ProviderError; no SDK
 * type leaves this file. Long-running operations come back as `Lro` handles that the caller polls
 * on its own clock and signal, so an interrupt stops the wait at once.
 */
import { toProviderError, isNotFound, type ErrorContext } from './errors.js';

type MlModule = typeof import('@azure/arm-machinelearning');
type MlClient = InstanceType<MlModule['AzureMachineLearningWorkspaces']>;

/** What @azure/core-auth calls a TokenCredential, structurally. */
export interface TokenCredentialLike {
  getToken(scopes: string | string[], options?: unknown): Promise<{ token: string; expiresOnTimestamp: number } | null>;
}

export interface Workspace {
  subscriptionId: string;
  resourceGroup: string;
  workspace: string;
}

export type AssetKind = 'models' | 'codes' | 'environments';

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
  model?: string;
}

export interface AssetVersionInfo {
  version: string;
  tags: Record<string, string>;
  /** modelUri / codeUri. */
  uri?: string;
}

export interface DatastoreInfo {
  name: string;
  accountName: string;
  containerName: string;
  /** DNS suffix of the storage account, e.g. core.windows.net. */
  endpoint: string;
  protocol: string;
}

export type DatastoreSecret = { kind: 'key'; key: string } | { kind: 'sas'; token: string } | { kind: 'none' };

export interface EndpointBody {
  location: string;
  tags: Record<string, string>;
  authMode: string;
  identityType: string;
  description?: string;
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
  description?: string;
}

export interface Route {
  path: string;
  port: number;
}

export interface EnvironmentBody {
  image: string;
  condaFile?: string;
  inference?: { liveness: Route; readiness: Route; scoring: Route };
  tags: Record<string, string>;
  description?: string;
}

/** A long-running ARM operation in flight: poll it on your own schedule. */
export interface Lro<T> {
  /** One status check; true once done. Throws the operation's error (mapped) when it failed. */
  poll(signal: AbortSignal): Promise<boolean>;
  result(): T | undefined;
}

interface PollerLike<R> {
  poll(options?: { abortSignal?: AbortSignal }): Promise<void>;
  isDone(): boolean;
  getResult(): R | undefined;
}

export interface ConnectOptions {
  /** ARM base URL (sovereign clouds, private link, test doubles). */
  armEndpoint?: string;
  credential: TokenCredentialLike;
  /** Certificate authorities to trust (the system's plus NODE_EXTRA_CA_CERTS of the given environment). */
  ca?: string[];
}

export class AzureMlApi {
  private constructor(
    private readonly client: MlClient,
    readonly target: Workspace,
    readonly credential: TokenCredentialLike,
  ) {}

  static async connect(target: Workspace, options: ConnectOptions): Promise<AzureMlApi> {
    const { AzureMachineLearningWorkspaces } = await import('@azure/arm-machinelearning');
    const client = new AzureMachineLearningWorkspaces(options.credential, target.subscriptionId, {
      ...(options.armEndpoint ? { endpoint: options.armEndpoint.replace(/\/+$/, '') } : {}),
      userAgentOptions: { userAgentPrefix: 'modeldeploy' },
      ...(options.ca ? { tlsOptions: { ca: options.ca } } : {}),
    });
    return new AzureMlApi(client, target, options.credential);
  }

  private get rg(): string {
    return this.target.resourceGroup;
  }

  private get ws(): string {
    return this.target.workspace;
  }

  private async call<T>(where: ErrorContext, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw toProviderError(error, where);
    }
  }

  private async orUndefined<T>(where: ErrorContext, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw toProviderError(error, where);
    }
  }

  private async all<T>(where: ErrorContext, iterator: () => AsyncIterable<T>): Promise<T[]> {
    return this.call(where, async () => {
      const out: T[] = [];
      for await (const item of iterator()) out.push(item);
      return out;
    });
  }

  /** ARM resource id of something in this workspace, e.g. `models/churn/versions/3`. */
  armId(relative: string): string {
    const { subscriptionId, resourceGroup, workspace } = this.target;
    return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${workspace}/${relative}`;
  }

  /** The long-form asset URI of a datastore path (cloud-apis C.1.1). */
  datastoreUri(datastore: string, path: string): string {
    const { subscriptionId, resourceGroup, workspace } = this.target;
    return `azureml://subscriptions/${subscriptionId}/resourcegroups/${resourceGroup}/workspaces/${workspace}/datastores/${datastore}/paths/${path}`;
  }

  // --- Online endpoints ------------------------------------------------------------------

  async getEndpoint(name: string): Promise<EndpointInfo | undefined> {
    const ep = await this.orUndefined({ operation: 'onlineEndpoints.get', subject: name }, () => this.client.onlineEndpoints.get(this.rg, this.ws, name));
    return ep && endpointInfo(ep);
  }

  async listEndpoints(): Promise<EndpointInfo[]> {
    const all = await this.all({ operation: 'onlineEndpoints.list', subject: this.ws }, () => this.client.onlineEndpoints.list(this.rg, this.ws));
    return all.map(endpointInfo);
  }

  async beginPutEndpoint(name: string, body: EndpointBody, signal: AbortSignal): Promise<Lro<EndpointInfo>> {
    const where = { operation: 'onlineEndpoints.createOrUpdate', subject: name };
    const poller = await this.call(where, () =>
      this.client.onlineEndpoints.beginCreateOrUpdate(
        this.rg,
        this.ws,
        name,
        {
          location: body.location,
          tags: body.tags,
          identity: { type: body.identityType as 'SystemAssigned' },
          properties: {
            authMode: body.authMode as 'Key',
            ...(body.description ? { description: body.description } : {}),
            traffic: body.traffic,
          },
        },
        { abortSignal: signal },
      ),
    );
    return sdkLro(poller, endpointInfo, where);
  }

  async beginDeleteEndpoint(name: string, signal: AbortSignal): Promise<Lro<void> | undefined> {
    const where = { operation: 'onlineEndpoints.delete', subject: name };
    const poller = await this.orUndefined(where, () => this.client.onlineEndpoints.beginDelete(this.rg, this.ws, name, { abortSignal: signal }));
    return poller && sdkLro(poller, () => undefined, where);
  }

  /** The endpoint's primary key (auth mode Key). Callers must never print or store it. */
  async primaryKey(name: string): Promise<string> {
    const keys = await this.call({ operation: 'onlineEndpoints.listKeys', subject: name }, () => this.client.onlineEndpoints.listKeys(this.rg, this.ws, name));
    if (!keys.primaryKey) throw toProviderError(Object.assign(new Error('the endpoint has no key'), { code: 'NoKey' }), { operation: 'onlineEndpoints.listKeys', subject: name });
    return keys.primaryKey;
  }

  // --- Online deployments ----------------------------------------------------------------

  async getDeployment(endpoint: string, name: string): Promise<DeploymentInfo | undefined> {
    const dep = await this.orUndefined({ operation: 'onlineDeployments.get', subject: `${endpoint}/${name}` }, () =>
      this.client.onlineDeployments.get(this.rg, this.ws, endpoint, name),
    );
    return dep && deploymentInfo(dep);
  }

  async listDeployments(endpoint: string): Promise<DeploymentInfo[]> {
    try {
      const all: DeploymentInfo[] = [];
      for await (const d of this.client.onlineDeployments.list(this.rg, this.ws, endpoint)) all.push(deploymentInfo(d));
      return all;
    } catch (error) {
      if (isNotFound(error)) return [];
      throw toProviderError(error, { operation: 'onlineDeployments.list', subject: endpoint });
    }
  }

  async beginPutDeployment(endpoint: string, name: string, body: DeploymentBody, signal: AbortSignal, where: ErrorContext): Promise<Lro<DeploymentInfo>> {
    const poller = await this.call(where, () =>
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
            ...(body.description ? { description: body.description } : {}),
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
    );
    return sdkLro(poller, deploymentInfo, where);
  }

  async beginDeleteDeployment(endpoint: string, name: string, signal: AbortSignal): Promise<Lro<void> | undefined> {
    const where = { operation: 'onlineDeployments.delete', subject: `${endpoint}/${name}` };
    const poller = await this.orUndefined(where, () => this.client.onlineDeployments.beginDelete(this.rg, this.ws, endpoint, name, { abortSignal: signal }));
    return poller && sdkLro(poller, () => undefined, where);
  }

  /** The tail of a deployment's container log ('' when there is none yet). */
  async logs(endpoint: string, name: string, container: 'StorageInitializer' | 'InferenceServer', tail: number): Promise<string> {
    try {
      const out = await this.client.onlineDeployments.getLogs(this.rg, this.ws, endpoint, name, { containerType: container, tail });
      return out.content ?? '';
    } catch {
      return ''; // logs are a courtesy in an error message, never a reason to fail
    }
  }

  // --- Datastores ------------------------------------------------------------------------

  async defaultDatastore(): Promise<DatastoreInfo> {
    const where = { operation: 'datastores.list', subject: `${this.ws} (default)` };
    const stores = await this.all(where, () => this.client.datastores.list(this.rg, this.ws, { isDefault: true }));
    for (const ds of stores) {
      const p = ds.properties as { datastoreType?: string; accountName?: string; containerName?: string; endpoint?: string; protocol?: string };
      if (p.datastoreType === 'AzureBlob' && p.accountName && p.containerName) {
        return { name: ds.name ?? 'workspaceblobstore', accountName: p.accountName, containerName: p.containerName, endpoint: p.endpoint ?? 'core.windows.net', protocol: p.protocol ?? 'https' };
      }
    }
    throw toProviderError(Object.assign(new Error(`workspace ${this.ws} has no default blob datastore`), { code: 'NotFound', statusCode: 404 }), where);
  }

  async datastoreSecret(name: string): Promise<DatastoreSecret> {
    const out = (await this.call({ operation: 'datastores.listSecrets', subject: name }, () => this.client.datastores.listSecrets(this.rg, this.ws, name))) as {
      secretsType?: string;
      key?: string;
      sasToken?: string;
    };
    if (out.secretsType === 'AccountKey' && out.key) return { kind: 'key', key: out.key };
    if (out.secretsType === 'Sas' && out.sasToken) return { kind: 'sas', token: out.sasToken };
    return { kind: 'none' };
  }

  // --- Assets (models, code, environments) -----------------------------------------------

  private containers(kind: AssetKind) {
    return kind === 'models' ? this.client.modelContainers : kind === 'codes' ? this.client.codeContainers : this.client.environmentContainers;
  }

  async getAssetContainer(kind: AssetKind, name: string): Promise<{ tags: Record<string, string> } | undefined> {
    const c = await this.orUndefined({ operation: `${kind}.get`, subject: name }, () => this.containers(kind).get(this.rg, this.ws, name));
    return c && { tags: stringTags(c.properties.tags) };
  }

  async listAssetContainers(kind: AssetKind): Promise<Array<{ name: string; tags: Record<string, string> }>> {
    const all = await this.all({ operation: `${kind}.list`, subject: this.ws }, () => this.containers(kind).list(this.rg, this.ws));
    return all.map((c) => ({ name: c.name ?? '', tags: stringTags(c.properties.tags) }));
  }

  async putAssetContainer(kind: AssetKind, name: string, tags: Record<string, string>, description: string): Promise<void> {
    await this.call({ operation: `${kind}.createOrUpdate`, subject: name }, () => this.containers(kind).createOrUpdate(this.rg, this.ws, name, { properties: { description, tags } }));
  }

  async deleteAssetContainer(kind: AssetKind, name: string): Promise<void> {
    await this.orUndefined({ operation: `${kind}.delete`, subject: name }, () => this.containers(kind).delete(this.rg, this.ws, name));
  }

  async listAssetVersions(kind: AssetKind, name: string): Promise<AssetVersionInfo[]> {
    const where = { operation: `${kind}.versions.list`, subject: name };
    try {
      const out: AssetVersionInfo[] = [];
      const iterator =
        kind === 'models'
          ? this.client.modelVersions.list(this.rg, this.ws, name)
          : kind === 'codes'
            ? this.client.codeVersions.list(this.rg, this.ws, name)
            : this.client.environmentVersions.list(this.rg, this.ws, name);
      for await (const v of iterator) out.push(versionInfo(v));
      return out;
    } catch (error) {
      if (isNotFound(error)) return [];
      throw toProviderError(error, where);
    }
  }

  async getAssetVersion(kind: AssetKind, name: string, version: string): Promise<AssetVersionInfo | undefined> {
    const where = { operation: `${kind}.versions.get`, subject: `${name}:${version}` };
    const v = await this.orUndefined(where, () =>
      kind === 'models'
        ? this.client.modelVersions.get(this.rg, this.ws, name, version)
        : kind === 'codes'
          ? this.client.codeVersions.get(this.rg, this.ws, name, version)
          : this.client.environmentVersions.get(this.rg, this.ws, name, version),
    );
    return v && versionInfo(v);
  }

  async putModelVersion(name: string, version: string, body: { modelUri: string; modelType: string; tags: Record<string, string>; description: string }): Promise<void> {
    await this.call({ operation: 'modelVersions.createOrUpdate', subject: `${name}:${version}` }, () =>
      this.client.modelVersions.createOrUpdate(this.rg, this.ws, name, version, {
        properties: { modelUri: body.modelUri, modelType: body.modelType, tags: body.tags, description: body.description },
      }),
    );
  }

  async putCodeVersion(name: string, version: string, body: { codeUri: string; tags: Record<string, string>; description: string }): Promise<void> {
    await this.call({ operation: 'codeVersions.createOrUpdate', subject: `${name}:${version}` }, () =>
      this.client.codeVersions.createOrUpdate(this.rg, this.ws, name, version, { properties: { codeUri: body.codeUri, tags: body.tags, description: body.description } }),
    );
  }

  async putEnvironmentVersion(name: string, version: string, body: EnvironmentBody): Promise<void> {
    await this.call({ operation: 'environmentVersions.createOrUpdate', subject: `${name}:${version}` }, () =>
      this.client.environmentVersions.createOrUpdate(this.rg, this.ws, name, version, {
        properties: {
          image: body.image,
          osType: 'Linux',
          tags: body.tags,
          ...(body.description ? { description: body.description } : {}),
          ...(body.condaFile ? { condaFile: body.condaFile } : {}),
          ...(body.inference
            ? { inferenceConfig: { livenessRoute: body.inference.liveness, readinessRoute: body.inference.readiness, scoringRoute: body.inference.scoring } }
            : {}),
        },
      }),
    );
  }

  async deleteAssetVersion(kind: AssetKind, name: string, version: string): Promise<void> {
    await this.orUndefined({ operation: `${kind}.versions.delete`, subject: `${name}:${version}` }, () =>
      kind === 'models'
        ? this.client.modelVersions.delete(this.rg, this.ws, name, version)
        : kind === 'codes'
          ? this.client.codeVersions.delete(this.rg, this.ws, name, version)
          : this.client.environmentVersions.delete(this.rg, this.ws, name, version),
    );
  }
}

function sdkLro<R, T>(poller: PollerLike<R>, map: (r: R) => T, where: ErrorContext): Lro<T> {
  return {
    async poll(signal) {
      if (!poller.isDone()) {
        try {
          await poller.poll({ abortSignal: signal });
        } catch (error) {
          throw toProviderError(error, where);
        }
      }
      return poller.isDone();
    },
    result() {
      const r = poller.getResult();
      return r === undefined ? undefined : map(r);
    },
  };
}

function stringTags(tags: Record<string, string | null> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(tags ?? {}).map(([k, v]) => [k, v ?? '']));
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
    traffic: { ...(p.traffic ?? {}) },
    tags: { ...(ep.tags ?? {}) },
    authMode: p.authMode ?? 'Key',
    ...(ep.identity?.type ? { identityType: ep.identity.type } : {}),
    ...(p.description ? { description: p.description } : {}),
    ...(p.scoringUri ? { scoringUri: p.scoringUri } : {}),
  };
}

function deploymentInfo(dep: { name?: string; tags?: Record<string, string>; properties: { provisioningState?: string; model?: string } }): DeploymentInfo {
  return {
    name: dep.name ?? '',
    state: dep.properties.provisioningState ?? 'Unknown',
    tags: { ...(dep.tags ?? {}) },
    ...(dep.properties.model ? { model: dep.properties.model } : {}),
  };
}

function versionInfo(v: { name?: string; properties: { tags?: Record<string, string | null>; modelUri?: string; codeUri?: string } }): AssetVersionInfo {
  const uri = v.properties.modelUri ?? v.properties.codeUri;
  return { version: v.name ?? '', tags: stringTags(v.properties.tags), ...(uri ? { uri } : {}) };
}
