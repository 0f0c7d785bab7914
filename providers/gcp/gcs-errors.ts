/**
 * Cloud Storage failures → the core's ProviderError, with a category the core's retries read and
 * a hint that says what to do (a missing bucket: the command that creates it in the region).
 * Messages carry no token and no upload session URL.
 */
import { ProviderError, type FailureCategory } from '../../src/core/errors.js';

/**
 * The shapes @google-cloud/storage 7 fails with: `ApiError` (JSON API calls and multipart uploads:
 * `code` = HTTP status, `errors[].reason`), `GaxiosError` (resumable session calls: `status`,
 * `response.data.error`), the bare `{code, message, errors}` body a resumable PUT is destroyed with,
 * a plain Error "Retry limit exceeded - status: N - …" once its own retries are spent, a
 * `RequestError` with code FILE_NO_UPLOAD when the checksum did not match, a RangeError when a
 * streamed upload lost bytes, and Node network errors (`code` ECONNREFUSED …).
 */
export interface StorageErrorLike {
  name?: string;
  message?: string;
  code?: number | string;
  status?: number;
  errors?: { reason?: string; message?: string }[];
  response?: { status?: number; statusCode?: number; headers?: unknown; data?: unknown };
}

export const NETWORK = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ESOCKETTIMEDOUT|ENOTFOUND|EAI_AGAIN|EPIPE|EHOSTUNREACH|ENETUNREACH|UND_ERR_SOCKET|ERR_STREAM_PREMATURE_CLOSE)$/;
const RETRY_EXHAUSTED = /^Retry (?:total time )?limit exceeded - status: (\d{3})/;

/** Maps whatever the SDK threw to a ProviderError with a category and a hint. Messages carry no token or session URL. */
export function gcsError(
  error: unknown,
  where: { operation: string; subject?: string; location?: string | undefined },
  /** Whether another try can help, when the caller knows better than the status (an upload session). */
  override: { retryable?: boolean } = {},
): ProviderError {
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
    new ProviderError(code, message, { category, cause: error, ...(hint ? { hint } : {}), ...(requestId ? { requestId } : {}), ...extra, ...override });

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
export function statusOf(error: unknown): number | undefined {
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

