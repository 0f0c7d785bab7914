/**
 * The core's ArtifactStore over the deployment's Cloud Storage bucket. The core lays artifacts
 * out, diffs and retires them; this says how an object is listed, streamed up, written and
 * deleted. The Storage SDK loads on the first call, not at connect.
 */
import type { ArtifactStore, LocalFile, StoreContext, StoredObject } from '../../src/core/provider.js';
import type { GcpConnection } from './connection.js';
import type { GcsStore } from './gcs-store.js';

export class GcsArtifacts implements ArtifactStore {
  /** Files uploaded at once: each is one streaming request with bounded memory (gcs-store.ts). */
  readonly concurrency = 4;
  private store?: Promise<GcsStore>;

  constructor(private readonly conn: Pick<GcpConnection, 'bucket' | 'project' | 'region' | 'storageEndpoint' | 'accessToken'>) {}

  uri(key: string): string {
    return `gs://${this.conn.bucket}/${key}`;
  }

  async list(prefix: string, ctx: StoreContext): Promise<StoredObject[]> {
    ctx.signal.throwIfAborted();
    const objects = await (await this.connected()).list(prefix);
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
