/**
 * The artifact bucket through @google-cloud/storage, loaded on first use (`connect`), so `--help`,
 * `validate` and `plan --offline` never load it. No SDK type leaves this file.
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
 *   through its own `crc32cGenerator` option: slicing-by-8, ~500 MiB/s against ~115 MiB/s for its
 *   byte-at-a-time table, which otherwise caps every upload of a process (measured: 1 GiB to the
 *   fake, `bucket.upload()` defaults 46-57 MiB/s, GcsStore 77-91 MiB/s, bench/gcp-upload.mjs).
 * - Retries: `IdempotencyStrategy.RetryAlways`. The SDK's default (RetryConditional) turns retries
 *   OFF for every upload and delete that has no `ifGenerationMatch` precondition, and does it by
 *   flipping `retryOptions.autoRetry` on the shared client while a call starts, which races with the
 *   uploads running beside it. Repeating our writes is harmless: artifact names are content
 *   addressed (a name always gets the same bytes), and deleting a gone object is success.
 *   `ifGenerationMatch: 0` would also turn retries on, but would refuse to replace a truncated object
 *   an earlier run left behind, which is exactly what a re-upload is for.
 */
import { stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { CreateWriteStreamOptions, CRC32CValidator, File, Storage } from '@google-cloud/storage';
import type { OAuth2Client } from 'google-auth-library';
import { systemClock } from '../../src/core/clock.js';
import { ProviderError, type FailureCategory } from '../../src/core/errors.js';

/** Files up to this size go in one multipart request; larger ones through a resumable session. */
export const SINGLE_REQUEST_MAX = 8 * 1024 * 1024;
/** Parallel deletes. */
const DELETE_CONCURRENCY = 8;
/** Read size from disk: fewer, larger writes into the SDK's stream pipeline. */
const READ_CHUNK = 1024 * 1024;

export interface GcsObjectInfo {
  name: string;
  size: number;
  crc32c?: string;
  md5Hash?: string;
  metadata: Record<string, string>;
}

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
    private readonly storage: Storage,
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
    const storage = new gcs.Storage({
      projectId: options.projectId,
      ...(custom ? { apiEndpoint: custom } : {}),
      ...(authClient ? { authClient } : {}),
      crc32cGenerator: () => new FastCrc32c(),
      retryOptions: { idempotencyStrategy: gcs.IdempotencyStrategy.RetryAlways },
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
    return new GcsStore(storage, options.bucket, options.location);
  }

  uri(prefix: string): string {
    return `gs://${this.bucket}/${prefix}`;
  }

  /** Every object under prefix, all pages. */
  async list(prefix: string): Promise<GcsObjectInfo[]> {
    const out: GcsObjectInfo[] = [];
    await this.pages(prefix, undefined, (files) => {
      for (const f of files) out.push(objectInfo(f.name, f.metadata));
    });
    return out;
  }

  /** The "folders" directly under prefix (which should end with '/'), each ending with '/'. */
  async prefixes(prefix: string): Promise<string[]> {
    const out: string[] = [];
    await this.pages(prefix, '/', (_files, prefixes) => out.push(...prefixes));
    return out;
  }

  private async pages(prefix: string, delimiter: string | undefined, each: (files: File[], prefixes: string[]) => void): Promise<void> {
    const bucket = this.storage.bucket(this.bucket);
    let pageToken: string | undefined;
    do {
      let response;
      try {
        response = await bucket.getFiles({ prefix, autoPaginate: false, ...(delimiter ? { delimiter } : {}), ...(pageToken ? { pageToken } : {}) });
      } catch (error) {
        throw gcsError(error, { operation: 'list', subject: this.uri(prefix), location: this.location });
      }
      const [files, next, raw] = response;
      const prefixes = (raw as { prefixes?: unknown } | undefined)?.prefixes;
      each(files, Array.isArray(prefixes) ? prefixes.filter((p): p is string => typeof p === 'string') : []);
      pageToken = (next as { pageToken?: string } | null | undefined)?.pageToken;
    } while (pageToken);
  }

  /**
   * Streams a local file to `name`, replacing any object there. Rejects with a ProviderError, or
   * with the signal's reason (an AbortError) once `signal` aborts.
   *
   * One streaming PUT per attempt rather than the SDK's chunked mode: measured with
   * bench/gcp-upload.mjs (1 GiB to the fake on loopback, one process per variant, same CRC32C code),
   * throughput is the same within run-to-run noise (one PUT 77-91 MiB/s; 16 MiB chunks 66-78; 64 MiB
   * chunks 72-84: the fake writing and hashing on the same 2 cores is the ceiling), but peak RSS is
   * 113 MiB for one PUT against 134 (16 MiB chunks) and 200-240 (64 MiB), per upload, and the
   * provider runs four at once. Each chunk also waits a round trip for its 308 before the next one
   * starts, which costs more over a real network than on loopback. Resuming after a failure
   * part-way, the one thing chunks buy, we get from the file instead.
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
    const file = this.storage.bucket(this.bucket).file(name);
    const retry = this.storage.retryOptions;
    const resumable = size > SINGLE_REQUEST_MAX;
    let sent = -1;
    const progress = (n: number) => {
      if (n <= sent) return;
      sent = Math.min(n, size);
      options.onProgress?.(sent);
    };
    const session: { uri?: string } = {};
    for (let attempt = 0; ; attempt++) {
      try {
        await this.attempt(file, localPath, size, resumable, session, options, progress);
        break;
      } catch (error) {
        if (signal?.aborted) throw abortReason(signal, error);
        if (!retry.autoRetry || attempt >= (retry.maxRetries ?? 3) || !retryable(error, retry, resumable, session.uri !== undefined)) {
          throw gcsError(error, { operation: 'upload', subject, location: this.location });
        }
        if (error instanceof RangeError) continue; // the SDK has just waited and checked the session
        if (resumable) delete session.uri; // expired or unknown: start a new session
        await systemClock.sleep(retryDelay(retry, attempt), signal);
      }
    }
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
  async deleteAll(names: string[], signal?: AbortSignal): Promise<void> {
    const bucket = this.storage.bucket(this.bucket);
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let name = names[next++]; name !== undefined; name = names[next++]) {
        signal?.throwIfAborted();
        try {
          await bucket.file(name).delete({ ignoreNotFound: true });
        } catch (error) {
          throw gcsError(error, { operation: 'delete', subject: this.uri(name), location: this.location });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, names.length) }, worker));
  }
}

// --- errors ----------------------------------------------------------------------------------

/**
 * The shapes @google-cloud/storage 7 fails with: `ApiError` (JSON API calls and multipart uploads:
 * `code` = HTTP status, `errors[].reason`), `GaxiosError` (resumable session calls: `status`,
 * `response.data.error`), the bare `{code, message, errors}` body a resumable PUT is destroyed with,
 * a plain Error "Retry limit exceeded - status: N - …" once its own retries are spent, a
 * `RequestError` with code FILE_NO_UPLOAD when the checksum did not match, a RangeError when a
 * streamed upload lost bytes, and Node network errors (`code` ECONNREFUSED …).
 */
interface StorageErrorLike {
  name?: string;
  message?: string;
  code?: number | string;
  status?: number;
  errors?: { reason?: string; message?: string }[];
  response?: { status?: number; statusCode?: number; headers?: unknown; data?: unknown };
}

const NETWORK = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ESOCKETTIMEDOUT|ENOTFOUND|EAI_AGAIN|EPIPE|EHOSTUNREACH|ENETUNREACH|UND_ERR_SOCKET|ERR_STREAM_PREMATURE_CLOSE)$/;
const RETRY_EXHAUSTED = /^Retry (?:total time )?limit exceeded - status: (\d{3})/;

/** Maps whatever the SDK threw to a ProviderError with a category and a hint. Messages carry no token or session URL. */
export function gcsError(error: unknown, where: { operation: string; subject?: string; location?: string | undefined }): ProviderError {
  if (error instanceof ProviderError) return error;
  const e = (error ?? {}) as StorageErrorLike;
  const status = statusOf(error);
  const body = errorBody(e);
  const reason = body?.errors?.[0]?.reason ?? e.errors?.[0]?.reason;
  // ApiError joins distinct messages under "Multiple errors occurred…": the first one says more.
  const own = e.message !== undefined && /^Multiple errors occurred/.test(e.message) ? (e.errors?.[0]?.message ?? e.message) : e.message;
  const text = redact(firstLine((body?.message ?? own ?? String(error)).trim()) || 'no message');
  const networkCode = typeof e.code === 'string' && NETWORK.test(e.code) ? e.code : undefined;
  const bucket = bucketOf(where.subject);
  // Both a missing bucket and a missing object are 404 notFound; only the text tells them apart.
  const bucketMissing = status === 404 && bucket !== undefined && /bucket does not exist/i.test(text);
  const code = codeFor(status, e, networkCode, bucketMissing);
  const subject = where.subject ? ` ${where.subject}` : '';
  const message = `gcs ${where.operation}${subject} failed: ${status ? `HTTP ${status}` : (typeof e.code === 'string' ? e.code : e.name) ?? 'Error'}${reason ? ` ${reason}` : ''}: ${text}`;
  const requestId = headerOf(e.response?.headers, 'x-guploader-uploadid');
  const make = (category: FailureCategory, hint?: string, extra: { retryable?: boolean; retryAfterSeconds?: number } = {}) =>
    new ProviderError(code, message, { category, cause: error, ...(hint ? { hint } : {}), ...(requestId ? { requestId } : {}), ...extra });

  if (e.name === 'AbortError') return make('failed', 'The operation was cancelled.', { retryable: false });
  if (e.code === 'FILE_NO_UPLOAD' || e.code === 'FILE_NO_UPLOAD_DELETE') {
    return make('failed', 'The bytes Cloud Storage stored did not match the bytes sent (CRC32C), so the object was removed; run again. If it repeats, something between you and Google alters uploads.', { retryable: true });
  }
  if (/Could not load the default credentials|Could not refresh access token|invalid_grant/i.test(e.message ?? '')) {
    return new ProviderError('CredentialsMissing', `gcs ${where.operation}${subject} failed: no usable Google credentials (${text})`, {
      category: 'auth',
      cause: error,
      hint: 'Set MODELDEPLOY_GCP_ACCESS_TOKEN (e.g. `gcloud auth print-access-token`) or run `gcloud auth application-default login`.',
    });
  }
  if (status === 401) {
    return make('auth', 'The access token was refused (expired or revoked). Refresh MODELDEPLOY_GCP_ACCESS_TOKEN (`gcloud auth print-access-token`) or `gcloud auth application-default login` again.');
  }
  if (status === 403) {
    return make('auth', `The caller needs roles/storage.objectAdmin on ${bucket ? `gs://${bucket}` : 'the bucket'} (\`gcloud storage buckets add-iam-policy-binding gs://${bucket ?? 'BUCKET'} --member=user:YOU --role=roles/storage.objectAdmin\`), or the bucket belongs to a project you cannot use.`);
  }
  if (bucketMissing) {
    return make('notFound', `Bucket ${bucket} does not exist. Create it in the region you deploy to: \`gcloud storage buckets create gs://${bucket} --location=${where.location ?? 'REGION'}\`, or fix gcp.bucket in deploy.yaml.`);
  }
  if (status === 404) return make('notFound');
  if (status === 429) {
    const retryAfter = retryAfterOf(e.response?.headers);
    return make('throttled', 'Cloud Storage is rate-limiting these requests; modeldeploy waits and retries.', retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {});
  }
  if (status === 409 || status === 412) return make('conflict', status === 412 ? 'The object changed while modeldeploy was writing it (a precondition failed); run again.' : undefined);
  if (status === 408 || (status !== undefined && status >= 500)) return make('unavailable', 'Cloud Storage did not answer properly; run again. Check STORAGE_EMULATOR_HOST if you set it.');
  if (status === 400 || status === 411 || status === 413 || status === 416) return make('invalid', 'Cloud Storage refused the request; the message names what it did not accept.');
  if (networkCode || /socket hang up|ECONNREFUSED|ENOTFOUND|ECONNRESET/i.test(e.message ?? '')) {
    return make('unavailable', 'Cloud Storage could not be reached. Check the network, and STORAGE_EMULATOR_HOST if you set it.');
  }
  if (error instanceof RangeError) return make('unavailable', 'The upload was interrupted and could not be resumed; run again.', { retryable: true });
  return make('failed');
}

/** Google's canonical names for HTTP statuses, as providers/gcp/errors.ts names Vertex AI failures. */
const STATUS_CODES: Record<number, string> = {
  400: 'InvalidArgument',
  401: 'Unauthenticated',
  403: 'PermissionDenied',
  404: 'NotFound',
  408: 'DeadlineExceeded',
  409: 'Conflict',
  412: 'FailedPrecondition',
  429: 'ResourceExhausted',
  500: 'Internal',
  502: 'Unavailable',
  503: 'Unavailable',
  504: 'DeadlineExceeded',
};

function codeFor(status: number | undefined, e: StorageErrorLike, networkCode: string | undefined, bucketMissing: boolean): string {
  if (e.name === 'AbortError') return 'Aborted';
  if (e.code === 'FILE_NO_UPLOAD' || e.code === 'FILE_NO_UPLOAD_DELETE') return 'ChecksumMismatch';
  if (bucketMissing) return 'BucketNotFound';
  if (status !== undefined) return STATUS_CODES[status] ?? `Http${status}`;
  if (networkCode) return 'Unreachable';
  if (e instanceof RangeError) return 'UploadInterrupted';
  return 'StorageError';
}

/** The HTTP status of any of the SDK's error shapes. */
function statusOf(error: unknown): number | undefined {
  const e = (error ?? {}) as StorageErrorLike;
  for (const candidate of [e.status, e.response?.status, e.response?.statusCode, typeof e.code === 'number' ? e.code : undefined, typeof e.code === 'string' && /^\d{3}$/.test(e.code) ? Number(e.code) : undefined]) {
    if (typeof candidate === 'number' && candidate >= 100 && candidate < 600) return candidate;
  }
  const spent = RETRY_EXHAUSTED.exec(e.message ?? '');
  return spent ? Number(spent[1]) : undefined;
}

/** `{error:{code,message,errors}}` from a GaxiosError's response body, parsed if it came as text. */
function errorBody(e: StorageErrorLike): { message?: string; errors?: { reason?: string }[] } | undefined {
  let data = e.response?.data;
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data) as unknown;
    } catch {
      return undefined;
    }
  }
  const inner = (data as { error?: unknown } | undefined)?.error;
  return typeof inner === 'object' && inner !== null ? (inner as { message?: string; errors?: { reason?: string }[] }) : undefined;
}

function headerOf(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : Array.isArray(value) && typeof value[0] === 'string' ? value[0] : undefined;
}

function retryAfterOf(headers: unknown): number | undefined {
  const raw = headerOf(headers, 'retry-after');
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(raw);
  return Number.isFinite(date) ? Math.max(0, (date - Date.now()) / 1000) : undefined;
}

function bucketOf(subject: string | undefined): string | undefined {
  return subject ? /^gs:\/\/([^/]+)/.exec(subject)?.[1] : undefined;
}

/** Upload session URLs are bearer capabilities; tokens may appear in echoed query strings. */
function redact(text: string): string {
  return text.replace(/(upload_id|access_token|token)=[^&\s"']+/gi, '$1=…');
}

function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '') ?? text;
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

// --- upload helpers --------------------------------------------------------------------------

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

/** The SDK's own backoff: multiplier^n seconds plus up to 1 s of jitter, capped. */
function retryDelay(retry: RetryOptions, attempt: number): number {
  return Math.min((retry.retryDelayMultiplier ?? 2) ** attempt * 1000 + Math.random() * 1000, (retry.maxRetryDelay ?? 64) * 1000);
}

/** What an aborted upload rejects with: the signal's reason (an AbortError unless the caller chose another). */
function abortReason(signal: AbortSignal, error: unknown): unknown {
  return signal.reason instanceof Error ? signal.reason : error;
}

function objectInfo(name: string, m: { size?: string | number; crc32c?: string; md5Hash?: string; metadata?: Record<string, unknown> | null }): GcsObjectInfo {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.metadata ?? {})) {
    if (v !== null && v !== undefined) metadata[k] = typeof v === 'string' ? v : String(v);
  }
  return {
    name,
    size: Number(m.size ?? 0),
    ...(m.crc32c ? { crc32c: m.crc32c } : {}),
    ...(m.md5Hash ? { md5Hash: m.md5Hash } : {}),
    metadata,
  };
}

function safeForToken(endpoint: string): boolean {
  try {
    const url = new URL(endpoint);
    return url.protocol === 'https:' || /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i.test(url.hostname);
  } catch {
    return false;
  }
}

// --- CRC32C ----------------------------------------------------------------------------------

/** Castagnoli tables for slicing-by-8: table k maps a byte that is k positions further back. */
const CRC_TABLES = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n] as number;
    for (let k = 1; k < 8; k++) {
      c = (t[c & 0xff] as number) ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

/**
 * CRC32C for the SDK's `crc32cGenerator` option: the same checksum as its `CRC32C` class (checked
 * against it in test/integration/gcp-storage.test.ts), eight bytes per step instead of one.
 */
export class FastCrc32c implements CRC32CValidator {
  private crc = 0;

  update(data: Buffer): void {
    const t = CRC_TABLES;
    let c = ~this.crc;
    let i = 0;
    const end = data.length - (data.length & 7);
    for (; i < end; i += 8) {
      const a = c ^ ((data[i] as number) | ((data[i + 1] as number) << 8) | ((data[i + 2] as number) << 16) | ((data[i + 3] as number) << 24));
      c =
        (t[1792 + (a & 0xff)] as number) ^
        (t[1536 + ((a >>> 8) & 0xff)] as number) ^
        (t[1280 + ((a >>> 16) & 0xff)] as number) ^
        (t[1024 + (a >>> 24)] as number) ^
        (t[768 + (data[i + 4] as number)] as number) ^
        (t[512 + (data[i + 5] as number)] as number) ^
        (t[256 + (data[i + 6] as number)] as number) ^
        (t[data[i + 7] as number] as number);
    }
    for (; i < data.length; i++) c = (t[(c ^ (data[i] as number)) & 0xff] as number) ^ (c >>> 8);
    this.crc = ~c;
  }

  /** Base64 of the big-endian value, as Cloud Storage reports it. */
  toString(): string {
    const out = Buffer.alloc(4);
    out.writeInt32BE(this.crc | 0);
    return out.toString('base64');
  }

  validate(value: string): boolean {
    return value === this.toString();
  }
}
