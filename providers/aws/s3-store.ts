/**
 * The core's artifact store over S3: keys are object keys in aws.bucket. Uploads stream from
 * disk through lib-storage (16 MiB parts, 4 in flight per file: memory stays bounded whatever the
 * model's size) and record the file's sha256 as object metadata. ListObjectsV2 returns no
 * metadata, so `list` gives sizes only (the core then compares sizes).
 */
import { createReadStream } from 'node:fs';
import { ProviderError } from '../../src/core/errors.js';
import type { ArtifactStore, IncompleteUpload, LocalFile, StoreContext, StoredObject } from '../../src/core/provider.js';
import type { AwsConnection, S3 } from './connection.js';
import { toProviderError } from './errors.js';

const PART_SIZE = 16 * 1024 * 1024;
const PARTS_IN_FLIGHT = 4;
/** DeleteObjects takes at most 1000 keys a request. */
const DELETE_BATCH = 1000;

export class S3Store implements ArtifactStore {
  /** Files at once; each sends up to PARTS_IN_FLIGHT parts at once. */
  readonly concurrency = 2;

  readonly bucket: string;

  /** Without a bucket (no aws block) every call fails with a hint; nothing is called. */
  constructor(
    private readonly connection: AwsConnection,
    bucket: string | undefined,
  ) {
    this.bucket = bucket ?? '';
  }

  uri(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  private async call<T>(operation: string, key: string, fn: (s3: S3, options: { abortSignal: AbortSignal }) => Promise<T>, signal: AbortSignal): Promise<T> {
    if (!this.bucket) throw new ProviderError('AwsBlockMissing', 'provider aws needs an aws block with a bucket for artifacts', { category: 'invalid', hint: 'add `aws: {roleArn: …, bucket: my-artifacts}`' });
    try {
      return await fn(await this.connection.s3(), { abortSignal: signal });
    } catch (error) {
      throw withBucketHint(toProviderError(error, `s3:${operation}`, this.uri(key)), this.bucket);
    }
  }

  async list(prefix: string, ctx: StoreContext): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.call(
        'ListBucket',
        prefix,
        ({ sdk, client }, o) => client.send(new sdk.ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }), o),
        ctx.signal,
      );
      for (const o of page.Contents ?? []) if (o.Key) out.push({ key: o.Key, bytes: o.Size ?? 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async upload(key: string, file: LocalFile, ctx: StoreContext & { onProgress(loaded: number): void }): Promise<void> {
    ctx.signal.throwIfAborted();
    const [{ client }, storage] = await this.call('PutObject', key, (s3) => Promise.all([s3, this.connection.storage()]), ctx.signal);
    const upload = new storage.Upload({
      client,
      params: { Bucket: this.bucket, Key: key, Body: createReadStream(file.path), ContentLength: file.bytes, Metadata: { sha256: file.sha256 } },
      partSize: PART_SIZE,
      queueSize: PARTS_IN_FLIGHT,
      leavePartsOnError: false,
    });
    upload.on('httpUploadProgress', (p) => ctx.onProgress(p.loaded ?? 0));
    const abort = () => void upload.abort();
    ctx.signal.addEventListener('abort', abort, { once: true });
    try {
      await this.call('PutObject', key, () => upload.done(), ctx.signal);
    } finally {
      ctx.signal.removeEventListener('abort', abort);
    }
  }

  async write(key: string, body: string, ctx: StoreContext): Promise<void> {
    await this.call('PutObject', key, ({ sdk, client }, o) => client.send(new sdk.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: 'application/json' }), o), ctx.signal);
  }

  /** `If-None-Match: *`: S3 refuses (412) a put over an existing key, so of two writers exactly one creates it. */
  async create(key: string, body: string, ctx: StoreContext): Promise<boolean> {
    try {
      await this.call('PutObject', key, ({ sdk, client }, o) => client.send(new sdk.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: 'application/json', IfNoneMatch: '*' }), o), ctx.signal);
      return true;
    } catch (error) {
      // 412 PreconditionFailed: the key exists; 409 ConditionalRequestConflict: another put of it is under way.
      if (error instanceof ProviderError && (error.code === 'PreconditionFailed' || error.code === 'ConditionalRequestConflict')) return false;
      throw error;
    }
  }

  async read(key: string, ctx: StoreContext): Promise<string | undefined> {
    try {
      const out = await this.call('GetObject', key, ({ sdk, client }, o) => client.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: key }), o), ctx.signal);
      return (await out.Body?.transformToString('utf8')) ?? '';
    } catch (error) {
      if (error instanceof ProviderError && error.category === 'notFound' && error.code !== 'NoSuchBucket') return undefined;
      throw error;
    }
  }

  /** Multipart uploads a killed run started and never finished: S3 keeps (and bills) their parts until aborted. */
  async incomplete(prefix: string, ctx: StoreContext): Promise<IncompleteUpload[]> {
    const out: IncompleteUpload[] = [];
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    for (;;) {
      const page = await this.call(
        'ListMultipartUploads',
        prefix,
        ({ sdk, client }, o) => client.send(new sdk.ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: idMarker }), o),
        ctx.signal,
      );
      for (const u of page.Uploads ?? []) if (u.Key && u.UploadId) out.push({ key: u.Key, id: u.UploadId });
      if (!page.IsTruncated) return out;
      keyMarker = page.NextKeyMarker;
      idMarker = page.NextUploadIdMarker;
    }
  }

  async abortIncomplete(upload: IncompleteUpload, ctx: StoreContext): Promise<void> {
    try {
      await this.call('AbortMultipartUpload', upload.key, ({ sdk, client }, o) => client.send(new sdk.AbortMultipartUploadCommand({ Bucket: this.bucket, Key: upload.key, UploadId: upload.id }), o), ctx.signal);
    } catch (error) {
      if (!(error instanceof ProviderError && (error.code === 'NoSuchUpload' || error.category === 'notFound'))) throw error;
    }
  }

  async delete(keys: readonly string[], ctx: StoreContext): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      const out = await this.call(
        'DeleteObject',
        batch[0] ?? '',
        ({ sdk, client }, o) => client.send(new sdk.DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }), o),
        ctx.signal,
      );
      const failed = out.Errors?.[0];
      if (failed) {
        const error = Object.assign(new Error(`${out.Errors?.length} of ${batch.length} objects not deleted; ${failed.Key}: ${failed.Message}`), { name: failed.Code ?? 'DeleteFailed' });
        throw toProviderError(error, 's3:DeleteObject', this.uri(failed.Key ?? ''));
      }
    }
  }
}

/** A missing bucket is the usual first-run mistake: say how to make it. */
function withBucketHint(error: ProviderError, bucket: string): ProviderError {
  if (error.code !== 'NoSuchBucket') return error;
  return new ProviderError(error.code, error.message, {
    category: 'invalid',
    hint: `create the bucket first (aws s3 mb s3://${bucket} --region <the deployment's region>) or set aws.bucket to one that exists`,
    cause: error,
  });
}
