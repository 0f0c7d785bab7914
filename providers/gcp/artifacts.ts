/**
 * The core's ArtifactStore over the deployment's Cloud Storage bucket. The core lays artifacts
 * out, diffs and retires them; this says how an object is listed (over REST: gcs-list.ts),
 * streamed up, written and deleted (through the Storage SDK, loaded on the first of those).
 */
import type { ArtifactStore, LocalFile, StoreContext, StoredObject } from '../../src/core/provider.js';
import type { GcpConnection, TokenSource } from './connection.js';
import { listObjects, safeForToken, type GcsListTarget } from './gcs-list.js';
import type { GcsStore } from './gcs-store.js';

export class GcsArtifacts implements ArtifactStore {
  /** Files uploaded at once: each is one streaming request with bounded memory (gcs-store.ts). */
  readonly concurrency = 4;
  private store?: Promise<GcsStore>;
  private readonly listing: GcsListTarget;

  /** `token`: the connection's (its access token, or Application Default Credentials). */
  constructor(
    private readonly conn: Pick<GcpConnection, 'bucket' | 'project' | 'region' | 'storageEndpoint' | 'accessToken'>,
    token: TokenSource,
  ) {
    const custom = conn.storageEndpoint;
    this.listing = {
      bucket: conn.bucket,
      location: conn.region,
      ...(custom ? { apiEndpoint: custom } : {}),
      // An emulator gets a token only when one is set, and only over TLS or on this machine (as gcs-store.ts does).
      token: custom === undefined ? token : conn.accessToken && safeForToken(custom) ? token : async () => undefined,
    };
  }

  uri(key: string): string {
    return `gs://${this.conn.bucket}/${key}`;
  }

  async list(prefix: string, ctx: StoreContext): Promise<StoredObject[]> {
    ctx.signal.throwIfAborted();
    const objects = await listObjects(this.listing, prefix, ctx.signal);
    return objects.map((o) => ({ key: o.name, bytes: o.size, ...(o.metadata.sha256 ? { sha256: o.metadata.sha256 } : {}) }));
  }

  async upload(key: string, file: LocalFile, ctx: StoreContext & { onProgress(loaded: number): void }): Promise<void> {
    const store = await this.connected();
    // Objects take metadata, not labels: the sha256 lets the core's diff trust what is there.
    await store.uploadFile(key, file.path, { signal: ctx.signal, metadata: { sha256: file.sha256 }, onProgress: (n) => ctx.onProgress(n) });
  }

  async write(key: string, body: string, ctx: StoreContext): Promise<void> {
    await (await this.connected()).writeText(key, body, ctx.signal);
  }

  async delete(keys: readonly string[], ctx: StoreContext): Promise<void> {
    if (keys.length === 0) return;
    await (await this.connected()).deleteAll(keys, ctx.signal);
  }

  private connected(): Promise<GcsStore> {
    this.store ??= import('./gcs-store.js').then(({ GcsStore }) =>
      GcsStore.connect({
        bucket: this.conn.bucket,
        projectId: this.conn.project,
        location: this.conn.region,
        ...(this.conn.storageEndpoint ? { apiEndpoint: this.conn.storageEndpoint } : {}),
        ...(this.conn.accessToken ? { accessToken: this.conn.accessToken } : {}),
      }),
    );
    this.store.catch(() => (this.store = undefined));
    return this.store;
  }
}
