/**
 * The workspace's default blob datastore through @azure/storage-blob, loaded on first use. Files
 * go up as block blobs: a file above one block is staged in 8 MiB blocks, 4 in flight, each read
 * from disk as a stream (memory stays flat whatever the size), then committed; a smaller file is
 * one PUT. Each blob carries its sha256 as metadata, so "already there" means same name, size and
 * hash. No SDK type leaves this file.
 */
import type { TokenCredentialLike } from './arm.js';
import { toProviderError } from './errors.js';

type BlobModule = typeof import('@azure/storage-blob');
type ContainerClient = ReturnType<InstanceType<BlobModule['BlobServiceClient']>['getContainerClient']>;

export const BLOCK_SIZE = 8 * 1024 * 1024;
export const BLOCK_CONCURRENCY = 4;

export interface BlobInfo {
  name: string;
  size: number;
  sha256?: string;
}

export type BlobAuth = { kind: 'key'; accountName: string; key: string } | { kind: 'sas'; token: string } | { kind: 'token'; credential: TokenCredentialLike };

export interface UploadOptions {
  sha256: string;
  signal: AbortSignal;
  onProgress: (loadedBytes: number) => void;
}

export class BlobStore {
  private constructor(
    private readonly container: ContainerClient,
    /** Account URL + container, for messages (never a SAS token). */
    readonly location: string,
  ) {}

  /** `serviceUrl`: the account's blob endpoint, e.g. https://acct.blob.core.windows.net or Azurite's http://127.0.0.1:10000/devstoreaccount1. */
  static async connect(serviceUrl: string, containerName: string, auth: BlobAuth): Promise<BlobStore> {
    const blob = await import('@azure/storage-blob');
    const base = serviceUrl.replace(/\/+$/, '');
    const options = { userAgentOptions: { userAgentPrefix: 'modeldeploy' } };
    const service =
      auth.kind === 'key'
        ? new blob.BlobServiceClient(base, new blob.StorageSharedKeyCredential(auth.accountName, auth.key), options)
        : auth.kind === 'sas'
          ? new blob.BlobServiceClient(`${base}?${auth.token.replace(/^\?/, '')}`, new blob.AnonymousCredential(), options)
          : new blob.BlobServiceClient(base, auth.credential, options);
    return new BlobStore(service.getContainerClient(containerName), `${base}/${containerName}`);
  }

  private async call<T>(operation: string, subject: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw toProviderError(error, { operation: `blob ${operation}`, subject: `${this.location}/${subject}` });
    }
  }

  async list(prefix: string, signal: AbortSignal): Promise<BlobInfo[]> {
    return this.call('list', prefix, async () => {
      const out: BlobInfo[] = [];
      for await (const b of this.container.listBlobsFlat({ prefix, includeMetadata: true, abortSignal: signal })) {
        const sha256 = b.metadata?.sha256;
        out.push({ name: b.name, size: b.properties.contentLength ?? 0, ...(sha256 ? { sha256 } : {}) });
      }
      return out;
    });
  }

  async uploadFile(name: string, file: string, options: UploadOptions): Promise<void> {
    await this.call('upload', name, () =>
      this.container.getBlockBlobClient(name).uploadFile(file, {
        blockSize: BLOCK_SIZE,
        maxSingleShotSize: BLOCK_SIZE,
        concurrency: BLOCK_CONCURRENCY,
        metadata: { sha256: options.sha256 },
        abortSignal: options.signal,
        onProgress: (p) => options.onProgress(p.loadedBytes),
      }),
    );
  }

  /** A small object, in one PUT. */
  async uploadText(name: string, text: string, signal: AbortSignal): Promise<void> {
    const body = Buffer.from(text, 'utf8');
    await this.call('upload', name, () => this.container.getBlockBlobClient(name).uploadData(body, { abortSignal: signal }));
  }

  /**
   * A small object only if no blob has the name (`If-None-Match: *`): of two writers exactly one
   * creates it; the other gets 409 BlobAlreadyExists (or 412) and false.
   */
  async createText(name: string, text: string, signal: AbortSignal): Promise<boolean> {
    const body = Buffer.from(text, 'utf8');
    try {
      await this.container.getBlockBlobClient(name).uploadData(body, { abortSignal: signal, conditions: { ifNoneMatch: '*' } });
      return true;
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (status === 409 || status === 412) return false;
      throw toProviderError(error, { operation: 'blob create', subject: `${this.location}/${name}` });
    }
  }

  /** A small object's text, or undefined when there is none. */
  async readText(name: string, signal: AbortSignal): Promise<string | undefined> {
    try {
      const buffer = await this.container.getBlockBlobClient(name).downloadToBuffer(0, undefined, { abortSignal: signal });
      return buffer.toString('utf8');
    } catch (error) {
      const e = error as { statusCode?: number; details?: { errorCode?: string } };
      if (e.statusCode === 404 && e.details?.errorCode !== 'ContainerNotFound') return undefined;
      throw toProviderError(error, { operation: 'blob read', subject: `${this.location}/${name}` });
    }
  }

  /** Deletes each blob, 8 at once; one already gone is success. */
  async deleteAll(names: readonly string[], signal: AbortSignal): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < names.length) {
        const name = names[next++];
        if (name === undefined) break;
        await this.call('delete', name, () => this.container.deleteBlob(name, { deleteSnapshots: 'include', abortSignal: signal }).catch((error: unknown) => {
          if ((error as { statusCode?: number }).statusCode !== 404) throw error; // already gone is success
        }));
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, names.length) }, worker));
  }
}
