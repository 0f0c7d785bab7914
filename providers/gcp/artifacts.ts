/**
 * The core's ArtifactStore over the deployment's Cloud Storage bucket. The core lays artifacts
 * out, diffs and retires them; this says how an object is listed, read, written, created if
 * absent and deleted (over REST: gcs-rest.ts) and how a model file streams up (through the
 * Storage SDK, loaded on the first upload).
 */
import type { ArtifactStore, LocalFile, StoreContext, StoredObject } from '../../src/core/provider.js';
import type { GcpConnection, TokenSource } from './connection.js';
import { deleteObject, listObjects, readText, safeForToken, writeText, type GcsListTarget } from './gcs-rest.js';
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
    await writeText(this.listing, key, body, false, ctx.signal);
  }

  /** `ifGenerationMatch=0`: of two writers racing for the key, exactly one creates it. */
  async create(key: string, body: string, ctx: StoreContext): Promise<boolean> {
    return writeText(this.listing, key, body, true, ctx.signal);
  }

  async read(key: string, ctx: StoreContext): Promise<string | undefined> {
    return readText(this.listing, key, ctx.signal);
  }

  async delete(keys: readonly string[], ctx: StoreContext): Promise<void> {
    let next = 0;
    const lane = async () => {
      for (let key = keys[next++]; key !== undefined; key = keys[next++]) await deleteObject(this.listing, key, ctx.signal);
    };
    await Promise.all(Array.from({ length: Math.min(8, keys.length) }, lane));
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
