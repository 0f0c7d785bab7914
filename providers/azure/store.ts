/**
 * The artifact store of provider azure: the workspace's default blob datastore, found on first use
 * (ARM `datastores.list isDefault` + `listSecrets`). The core lays out and syncs artifacts in it;
 * keys are blob names in the datastore's container. Auth follows the datastore: its account key,
 * its SAS token, or — for identity-based datastores and callers without listSecrets — the caller's
 * Entra ID credential on the storage account.
 */
import { ProviderError } from '../../src/core/errors.js';
import type { ArtifactStore, LocalFile, StoreContext, StoredObject } from '../../src/core/provider.js';
import type { DatastoreInfo } from './arm-assets.js';
import { BlobStore, type BlobAuth } from './blob.js';
import type { AzureConnection } from './connection.js';

/** Azure ML's name for the default datastore every workspace starts with. */
const DEFAULT_DATASTORE = 'workspaceblobstore';

interface Opened {
  blob: BlobStore;
  datastore: DatastoreInfo;
}

export class DatastoreArtifactStore implements ArtifactStore {
  /** Files at once; each large file also moves 4 blocks at once (blob.ts). */
  readonly concurrency = 2;
  private opened: Promise<Opened> | undefined;
  private datastore: DatastoreInfo | undefined;

  constructor(private readonly conn: AzureConnection) {}

  /**
   * The long-form asset URI Azure ML resolves (cloud-apis.md C.1.1). It names the default
   * datastore found by the first call to the store (the core lists before it asks for a URI).
   */
  uri(key: string): string {
    const { subscriptionId, resourceGroup, workspace } = this.conn.workspace;
    const name = this.datastore?.name ?? DEFAULT_DATASTORE;
    return `azureml://subscriptions/${subscriptionId}/resourcegroups/${resourceGroup}/workspaces/${workspace}/datastores/${name}/paths/${key}`;
  }

  /** The https URL of a key in the datastore's account (what a code asset's codeUri takes). */
  async httpsUrl(key: string, ctx: StoreContext): Promise<string> {
    const { datastore } = await this.open(ctx);
    return `${datastore.protocol}://${datastore.accountName}.blob.${datastore.endpoint}/${datastore.containerName}/${key}`;
  }

  async list(prefix: string, ctx: StoreContext): Promise<StoredObject[]> {
    const { blob } = await this.open(ctx);
    const found = await blob.list(prefix, ctx.signal);
    return found.map((b) => ({ key: b.name, bytes: b.size, ...(b.sha256 ? { sha256: b.sha256 } : {}) }));
  }

  async upload(key: string, file: LocalFile, ctx: StoreContext & { onProgress(loaded: number): void }): Promise<void> {
    const { blob } = await this.open(ctx);
    await blob.uploadFile(key, file.path, { sha256: file.sha256, signal: ctx.signal, onProgress: (n) => ctx.onProgress(n) });
  }

  async write(key: string, body: string, ctx: StoreContext): Promise<void> {
    const { blob } = await this.open(ctx);
    await blob.uploadText(key, body, ctx.signal);
  }

  async create(key: string, body: string, ctx: StoreContext): Promise<boolean> {
    const { blob } = await this.open(ctx);
    return blob.createText(key, body, ctx.signal);
  }

  async read(key: string, ctx: StoreContext): Promise<string | undefined> {
    const { blob } = await this.open(ctx);
    return blob.readText(key, ctx.signal);
  }

  async delete(keys: readonly string[], ctx: StoreContext): Promise<void> {
    if (keys.length === 0) return;
    const { blob } = await this.open(ctx);
    await blob.deleteAll(keys, ctx.signal);
  }

  private open(ctx: StoreContext): Promise<Opened> {
    if (!this.opened) {
      this.opened = this.discover(ctx.signal);
      this.opened.catch(() => (this.opened = undefined)); // a failed discovery is tried again on the next call
    }
    return this.opened;
  }

  private async discover(signal: AbortSignal): Promise<Opened> {
    const arm = await this.conn.arm();
    const datastore = await arm.assets.defaultDatastore(signal);
    let auth: BlobAuth;
    try {
      const secret = await arm.assets.datastoreSecret(datastore.name, signal);
      auth =
        secret.kind === 'key'
          ? { kind: 'key', accountName: datastore.accountName, key: secret.key }
          : secret.kind === 'sas'
            ? { kind: 'sas', token: secret.token }
            : { kind: 'token', credential: await this.conn.credential() };
    } catch (error) {
      // Identity-based datastores (and callers without listSecrets) use Entra ID on the account.
      if (!(error instanceof ProviderError) || error.category !== 'auth') throw error;
      auth = { kind: 'token', credential: await this.conn.credential() };
    }
    const url = this.conn.env.blobEndpoint ?? `${datastore.protocol}://${datastore.accountName}.blob.${datastore.endpoint}`;
    const blob = await BlobStore.connect(url, datastore.containerName, auth);
    this.datastore = datastore;
    return { blob, datastore };
  }
}
