/**
 * The artifact bucket through @google-cloud/storage, loaded on first use (`connect`), so `--help`,
 * `validate`, `plan` and `status` never load it. No SDK type leaves this file.
 *
 * How a file goes up:
 * - up to SINGLE_REQUEST_MAX bytes: one multipart request (`resumable: false`), no session round trip.
 * - above: a resumable session whose bytes go in ONE streaming PUT (`Content-Range: bytes 0-*\/SIZE`),
 *   read from disk as a stream, so memory stays flat whatever the size. If that PUT fails part-way,
 *   the SDK cannot resume it by itself (it kept none of the bytes it sent); we can, because they are
 *   on disk: the next attempt reuses the session URI and streams the file from byte 0, and the SDK
 *   asks the server how much it kept and skips that much. Why not the SDK's chunked mode
 *   (`chunkSize`), which resumes by itself: see `uploadFile`.
 * - Integrity: the SDK's CRC32C validation stays on (it hashes what it sends, compares with the
 *   crc32c the server reports and deletes the object on a mismatch). We only hand it a faster CRC32C
 *   (crc32c.ts) through its own `crc32cGenerator` option (bench/gcp-upload.mjs).
 * - Retries: a resumable session is retried by the SDK itself (it asks the server for the offset and
 *   carries on), with `IdempotencyStrategy.RetryAlways`: the SDK's default (RetryConditional) turns
 *   retries OFF for every upload that has no `ifGenerationMatch` precondition, and does it by
 *   flipping `retryOptions.autoRetry` on the shared client while a call starts, which races with the
 *   uploads running beside it. Repeating our writes is harmless: artifact names are content
 *   addressed (a name always gets the same bytes), and deleting a gone object is success.
 *   `ifGenerationMatch: 0` would also turn retries on, but would refuse to replace a truncated object
 *   an earlier run left behind, which is exactly what a re-upload is for. Every other request (a
 *   list page, a delete, a small write, a multipart upload) goes through a second client that does
 *   not retry, and is repeated by the core's withRetry, request by request, at the pace every
 *   provider uses: the SDK's own first wait is 2-3 s.
 */
import { stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { CreateWriteStreamOptions, File, Storage } from '@google-cloud/storage';
import type { OAuth2Client } from 'google-auth-library';
import { systemClock } from '../../src/core/clock.js';
import { ProviderError } from '../../src/core/errors.js';
import { withRetry } from '../../src/core/retry.js';
import { FastCrc32c } from './crc32c.js';
import { NETWORK, gcsError, statusOf, type StorageErrorLike } from './gcs-errors.js';
import { listObjects, safeForToken, type GcsListTarget, type GcsObjectInfo } from './gcs-rest.js';

export type { GcsObjectInfo } from './gcs-rest.js';

/** Files up to this size go in one multipart request; larger ones through a resumable session. */
export const SINGLE_REQUEST_MAX = 8 * 1024 * 1024;
/** Read size from disk: fewer, larger writes into the SDK's stream pipeline. */
const READ_CHUNK = 1024 * 1024;

export interface GcsConnectOptions {
  bucket: string;
  projectId: string;
  /** JSON API base, e.g. http://127.0.0.1:4443 (from STORAGE_EMULATOR_HOST) or undefined for Google */
  apiEndpoint?: string;
  /** an OAuth2 access token (MODELDEPLOY_GCP_ACCESS_TOKEN / GOOGLE_OAUTH_ACCESS_TOKEN); else ADC */
  accessToken?: string;
  /** The region deployed to: named in the hint for creating a missing bucket. */
  location?: string;
}

export interface GcsUploadOptions {
  signal?: AbortSignal;
  /** Cumulative bytes of this file sent so far; never decreases, ends at the file size. */
  onProgress?: (bytesSent: number) => void;
  /** Custom object metadata (`x-goog-meta-*`). */
  metadata?: Record<string, string>;
  /** Default: guessed from the name by the SDK (application/octet-stream when unknown). */
  contentType?: string;
  /** The file's CRC32C (base64, big-endian) if the caller has it: Cloud Storage then checks it too, and so do we. */
  crc32c?: string;
}

type RetryOptions = Storage['retryOptions'];
type Interceptor = Storage['interceptors'][number];

export class GcsStore {
  private constructor(
    /** Retries by itself: for resumable sessions. */
    private readonly storage: Storage,
    /** Retries nothing: for single requests, which the core's retry repeats. */
    private readonly single: Storage,
    /** Listing goes over REST (gcs-rest.ts). */
    private readonly listing: GcsListTarget,
    readonly bucket: string,
    private readonly location?: string,
  ) {}

  /** Builds the client; makes no request (a missing bucket shows up on the first call). */
  static async connect(options: GcsConnectOptions): Promise<GcsStore> {
    const gcs = await import('@google-cloud/storage');
    const custom = options.apiEndpoint?.replace(/\/+$/, '');
    let authClient: OAuth2Client | undefined;
    if (options.accessToken && custom === undefined) {
      // The google-auth-library the SDK itself uses (v9): a fixed bearer token, no refresh, no ADC.
      const { OAuth2Client } = await import('google-auth-library');
      authClient = new OAuth2Client();
      authClient.setCredentials({ access_token: options.accessToken });
    }
    const client = (retry: Storage['retryOptions']): Storage => {
      const storage = new gcs.Storage({
        projectId: options.projectId,
        ...(custom ? { apiEndpoint: custom } : {}),
        ...(authClient ? { authClient } : {}),
        crc32cGenerator: () => new FastCrc32c(),
        retryOptions: retry,
        userAgent: 'modeldeploy',
      });
      if (custom) {
        // The SDK reads STORAGE_EMULATOR_HOST from process.env by itself and then calls the JSON API
        // without its /storage/v1 prefix (uploads keep it). The endpoint we were given wins, whole.
        storage.baseUrl = `${custom}/storage/v1`;
        // To a custom endpoint the SDK sends no credentials, and `useAuthWithCustomEndpoint` does not
        // reach resumable uploads in 7.22. So the token goes as a header on every request, and only
        // over TLS (Private Service Connect) or to this machine: never in clear text over a network.
        if (options.accessToken && safeForToken(custom)) {
          const authorization = `Bearer ${options.accessToken}`;
          storage.interceptors.push({
            request: (reqOpts) => {
              reqOpts.headers = { ...reqOpts.headers, Authorization: authorization };
              return reqOpts as ReturnType<Interceptor['request']>;
            },
          });
        }
      }
      return storage;
    };
    const retrying = client({ idempotencyStrategy: gcs.IdempotencyStrategy.RetryAlways });
    const single = client({ autoRetry: false, idempotencyStrategy: gcs.IdempotencyStrategy.RetryNever });
    const token = options.accessToken && (custom === undefined || safeForToken(custom)) ? options.accessToken : undefined;
    const listing: GcsListTarget = {
      bucket: options.bucket,
      ...(custom ? { apiEndpoint: custom } : {}),
      ...(options.location ? { location: options.location } : {}),
      // Without a token: an emulator gets none (as from the SDK); Google gets the SDK's own credentials.
      token: token ? async () => token : custom ? async () => undefined : async () => (await retrying.authClient.getAccessToken()) ?? undefined,
    };
    return new GcsStore(retrying, single, listing, options.bucket, options.location);
  }

  uri(prefix: string): string {
    return `gs://${this.bucket}/${prefix}`;
  }

  /** Every object under prefix, all pages (over REST). */
  list(prefix: string, signal?: AbortSignal): Promise<GcsObjectInfo[]> {
    return listObjects(this.listing, prefix, signal);
  }

  /**
   * Streams a local file to `name`, replacing any object there. Rejects with a ProviderError, or
   * with the signal's reason (an AbortError) once `signal` aborts.
   *
   * One streaming PUT per attempt rather than the SDK's chunked mode: measured with
   * bench/gcp-upload.mjs (1 GiB to the fake on loopback, one process per variant, same CRC32C code),
   * throughput is the same within run-to-run noise, but peak RSS is 113 MiB for one PUT against 134
   * (16 MiB chunks) and 200-240 (64 MiB), per upload, and the core runs four at once. Each chunk
   * also waits a round trip for its 308 before the next one starts, which costs more over a real
   * network than on loopback. Resuming after a failure part-way, the one thing chunks buy, we get
   * from the file instead.
   */
  async uploadFile(name: string, localPath: string, options: GcsUploadOptions = {}): Promise<void> {
    const { signal } = options;
    const subject = this.uri(name);
    signal?.throwIfAborted();
    let size: number;
    try {
      size = (await stat(localPath)).size;
    } catch (error) {
      throw new ProviderError('ArtifactUnreadable', `cannot read ${localPath}: ${(error as Error).message}`, { category: 'invalid', cause: error });
    }
    const resumable = size > SINGLE_REQUEST_MAX;
    const file = (resumable ? this.storage : this.single).bucket(this.bucket).file(name);
    const retry = this.storage.retryOptions;
    let sent = -1;
    const progress = (n: number) => {
      if (n <= sent) return;
      sent = Math.min(n, size);
      options.onProgress?.(sent);
    };
    const session: { uri?: string } = {};
    const where = { operation: 'upload', subject, location: this.location };
    // Our own tries (see `retryable`), on the core's retry.
    await withRetry(
      async () => {
        try {
          await this.attempt(file, localPath, size, resumable, session, options, progress);
        } catch (error) {
          if (signal?.aborted) throw abortReason(signal, error);
          const again = retryable(error, retry, resumable, session.uri !== undefined);
          // A session the server no longer knows is started anew; after a RangeError the SDK has just checked it.
          if (again && resumable && !(error instanceof RangeError)) delete session.uri;
          throw gcsError(error, where, { retryable: again });
        }
      },
      { clock: systemClock, ...(signal ? { signal } : {}), attempts: (retry.maxRetries ?? 3) + 1 },
    );
    const stored = file.metadata as { crc32c?: string } | undefined;
    if (options.crc32c !== undefined && stored?.crc32c !== undefined && stored.crc32c !== options.crc32c) {
      // Cloud Storage refuses such an upload itself; an emulator may not.
      await file.delete({ ignoreNotFound: true }).catch(() => undefined);
      throw new ProviderError('UploadChecksumMismatch', `${subject} was stored with CRC32C ${stored.crc32c}, expected ${options.crc32c}`, {
        category: 'invalid',
        hint: `${localPath} changed while it was being uploaded, or its recorded checksum is stale; run again.`,
      });
    }
    progress(size);
  }

  /** One request (multipart) or one PUT into the session (resumable), reading the file from byte 0. */
  private async attempt(
    file: File,
    localPath: string,
    size: number,
    resumable: boolean,
    session: { uri?: string },
    options: GcsUploadOptions,
    progress: (n: number) => void,
  ): Promise<void> {
    const objectMetadata = {
      ...(options.contentType ? { contentType: options.contentType } : {}),
      ...(options.metadata ? { metadata: { ...options.metadata } } : {}),
      ...(options.crc32c ? { crc32c: options.crc32c } : {}),
    };
    const writeOptions: CreateWriteStreamOptions = resumable
      ? {
          resumable: true,
          // Sent as X-Upload-Content-Length and in Content-Range: the server checks the total size.
          metadata: { ...objectMetadata, contentLength: size },
          ...(session.uri ? { uri: session.uri } : {}),
        }
      : { resumable: false, metadata: objectMetadata };
    const writable = file.createWriteStream(writeOptions);
    writable.on('uri', (uri: string) => (session.uri = uri));
    // Bytes the SDK has handed to the request body (a resumed attempt starts past what the server kept).
    writable.on('progress', (event: { bytesWritten?: number }) => progress(event.bytesWritten ?? 0));
    // Aborting destroys every stream in the pipeline, the SDK's included, which aborts its request.
    await pipeline(createReadStream(localPath, { highWaterMark: READ_CHUNK }), writable, options.signal ? { signal: options.signal } : {});
  }

  /** Deletes the objects, a few at a time; one already gone counts as deleted. */
}

/**
 * Worth another attempt of our own. In a session the SDK already retries every transient failure
 * itself (429, 5xx, dropped connections: it asks the server for the offset and carries on), so
 * what reaches us has spent its retries, except two things only we can fix: the RangeError it
 * raises when a streamed PUT failed after bytes left that it no longer has (we re-read them from
 * the file), and a session the server no longer knows (we start a new one). A multipart request
 * is streamed once and never retried by the SDK: there, whatever the SDK would retry, we retry.
 */
function retryable(error: unknown, retry: RetryOptions, resumable: boolean, hasSession: boolean): boolean {
  if (resumable) {
    const status = statusOf(error);
    return hasSession && (error instanceof RangeError || status === 404 || status === 410);
  }
  const e = (error ?? {}) as StorageErrorLike;
  if (retry.retryableErrorFn?.(error as Parameters<NonNullable<RetryOptions['retryableErrorFn']>>[0])) return true;
  return typeof e.code === 'string' && NETWORK.test(e.code) && e.code !== 'ECONNREFUSED' && e.code !== 'ENOTFOUND';
}

/** What an aborted upload rejects with: the signal's reason (an AbortError unless the caller chose another). */
function abortReason(signal: AbortSignal, error: unknown): unknown {
  return signal.reason instanceof Error ? signal.reason : error;
}

