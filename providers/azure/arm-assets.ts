/**
 * Azure ML assets (models, code, environments: a container and its versions) and the workspace's
 * datastores, through the same client as arm.ts. All calls are synchronous PUT/GET/DELETE (no
 * long-running operation). No SDK type leaves this file.
 */
import { all, allUnder, call, missing, orUndefined } from './arm-call.js';
import type { MlClient } from './arm.js';
import type { AssetKind } from './names.js';
import type { AzureSettings } from './settings.js';

export interface AssetVersionInfo {
  version: string;
  tags: Record<string, string>;
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

export interface ModelVersionBody {
  modelUri: string;
  modelType: string;
}

export interface Route {
  path: string;
  port: number;
}

export interface EnvironmentVersionBody {
  image: string;
  condaFile?: string;
  inference?: { liveness: Route; readiness: Route; scoring: Route };
}

/** What every asset version carries besides its kind's own fields. */
export interface AssetMeta {
  tags: Record<string, string>;
  description: string;
}

export class ArmAssets {
  constructor(
    private readonly client: MlClient,
    private readonly workspace: AzureSettings,
  ) {}

  private get rg(): string {
    return this.workspace.resourceGroup;
  }

  private get ws(): string {
    return this.workspace.workspace;
  }

  private containers(kind: AssetKind) {
    return kind === 'models' ? this.client.modelContainers : kind === 'codes' ? this.client.codeContainers : this.client.environmentContainers;
  }

  private versions(kind: AssetKind) {
    return kind === 'models' ? this.client.modelVersions : kind === 'codes' ? this.client.codeVersions : this.client.environmentVersions;
  }

  async getContainer(kind: AssetKind, name: string, signal: AbortSignal): Promise<{ tags: Record<string, string> } | undefined> {
    const c = await orUndefined({ operation: `${kind}.get`, subject: name }, () => this.containers(kind).get(this.rg, this.ws, name, { abortSignal: signal }));
    return c && { tags: stringTags(c.properties.tags) };
  }

  async putContainer(kind: AssetKind, name: string, meta: AssetMeta, signal: AbortSignal): Promise<void> {
    await call({ operation: `${kind}.createOrUpdate`, subject: name }, () =>
      this.containers(kind).createOrUpdate(this.rg, this.ws, name, { properties: { description: meta.description, tags: meta.tags } }, { abortSignal: signal }),
    );
  }

  async deleteContainer(kind: AssetKind, name: string, signal: AbortSignal): Promise<void> {
    await orUndefined({ operation: `${kind}.delete`, subject: name }, () => this.containers(kind).delete(this.rg, this.ws, name, { abortSignal: signal }));
  }

  /** The container's versions; none when it does not exist. */
  async listVersions(kind: AssetKind, name: string, signal: AbortSignal): Promise<AssetVersionInfo[]> {
    const found = await allUnder({ operation: `${kind}.versions.list`, subject: name }, () => this.versions(kind).list(this.rg, this.ws, name, { abortSignal: signal }));
    return found.map((v) => ({ version: v.name ?? '', tags: stringTags(v.properties.tags) }));
  }

  async getVersion(kind: AssetKind, name: string, version: string, signal: AbortSignal): Promise<AssetVersionInfo | undefined> {
    const v = await orUndefined({ operation: `${kind}.versions.get`, subject: `${name}:${version}` }, () => this.versions(kind).get(this.rg, this.ws, name, version, { abortSignal: signal }));
    return v && { version: v.name ?? version, tags: stringTags(v.properties.tags) };
  }

  async putModelVersion(name: string, version: string, body: ModelVersionBody & AssetMeta, signal: AbortSignal): Promise<void> {
    await call({ operation: 'modelVersions.createOrUpdate', subject: `${name}:${version}` }, () =>
      this.client.modelVersions.createOrUpdate(
        this.rg,
        this.ws,
        name,
        version,
        { properties: { modelUri: body.modelUri, modelType: body.modelType, tags: body.tags, description: body.description } },
        { abortSignal: signal },
      ),
    );
  }

  async putCodeVersion(name: string, version: string, body: { codeUri: string } & AssetMeta, signal: AbortSignal): Promise<void> {
    await call({ operation: 'codeVersions.createOrUpdate', subject: `${name}:${version}` }, () =>
      this.client.codeVersions.createOrUpdate(this.rg, this.ws, name, version, { properties: { codeUri: body.codeUri, tags: body.tags, description: body.description } }, { abortSignal: signal }),
    );
  }

  async putEnvironmentVersion(name: string, version: string, body: EnvironmentVersionBody & AssetMeta, signal: AbortSignal): Promise<void> {
    const inference = body.inference;
    await call({ operation: 'environmentVersions.createOrUpdate', subject: `${name}:${version}` }, () =>
      this.client.environmentVersions.createOrUpdate(
        this.rg,
        this.ws,
        name,
        version,
        {
          properties: {
            image: body.image,
            osType: 'Linux',
            tags: body.tags,
            description: body.description,
            ...(body.condaFile ? { condaFile: body.condaFile } : {}),
            ...(inference ? { inferenceConfig: { livenessRoute: inference.liveness, readinessRoute: inference.readiness, scoringRoute: inference.scoring } } : {}),
          },
        },
        { abortSignal: signal },
      ),
    );
  }

  async deleteVersion(kind: AssetKind, name: string, version: string, signal: AbortSignal): Promise<void> {
    await orUndefined({ operation: `${kind}.versions.delete`, subject: `${name}:${version}` }, () => this.versions(kind).delete(this.rg, this.ws, name, version, { abortSignal: signal }));
  }

  // --- Datastores ------------------------------------------------------------------------

  /** The workspace's default datastore: where modeldeploy keeps artifacts. */
  async defaultDatastore(signal: AbortSignal): Promise<DatastoreInfo> {
    const where = { operation: 'datastores.list', subject: `${this.ws} (default)` };
    const stores = await all(where, () => this.client.datastores.list(this.rg, this.ws, { isDefault: true, abortSignal: signal }));
    for (const ds of stores) {
      const p = ds.properties as { datastoreType?: string; accountName?: string; containerName?: string; endpoint?: string; protocol?: string };
      if (p.datastoreType === 'AzureBlob' && p.accountName && p.containerName) {
        return { name: ds.name ?? 'workspaceblobstore', accountName: p.accountName, containerName: p.containerName, endpoint: p.endpoint ?? 'core.windows.net', protocol: p.protocol ?? 'https' };
      }
    }
    throw missing('NotFound', `workspace ${this.ws} has no default blob datastore`, where);
  }

  async datastoreSecret(name: string, signal: AbortSignal): Promise<DatastoreSecret> {
    const out = (await call({ operation: 'datastores.listSecrets', subject: name }, () => this.client.datastores.listSecrets(this.rg, this.ws, name, { abortSignal: signal }))) as {
      secretsType?: string;
      key?: string;
      sasToken?: string;
    };
    if (out.secretsType === 'AccountKey' && out.key) return { kind: 'key', key: out.key };
    if (out.secretsType === 'Sas' && out.sasToken) return { kind: 'sas', token: out.sasToken };
    return { kind: 'none' };
  }
}

function stringTags(tags: Record<string, string | null> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(tags ?? {}).map(([k, v]) => [k, v ?? '']));
}
