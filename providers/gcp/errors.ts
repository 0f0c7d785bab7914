/**
 * Vertex AI errors → the core's ProviderError. Three shapes arrive here (cloud-apis.md B.0):
 * - a GoogleError from the SDK's REST fallback, with the numeric google.rpc `code` (our auth
 *   client hands gax a plain fetch, so gax parses the JSON error body itself);
 * - a GaxiosError (`code` = the HTTP status, `response.data.error.status` = the canonical name), if
 *   the SDK ever runs with google-auth-library's own client;
 * - a VertexHttpError from our direct REST calls (reads, predict, operation polls), and a failed
 *   long-running operation (`{code, message}` in the operation's `error`).
 * Branches on canonical codes and HTTP statuses, never on message wording, except to tell the
 * quota of a deployment from request-rate throttling, which share RESOURCE_EXHAUSTED.
 */
import { ProviderError, type FailureCategory } from '../../src/core/errors.js';

/** google.rpc.Code by number. */
const CODE_NAMES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
] as const;
export type CanonicalCode = (typeof CODE_NAMES)[number];

const HTTP_TO_CODE: Record<number, CanonicalCode> = {
  400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 409: 'ALREADY_EXISTS', 412: 'FAILED_PRECONDITION',
  429: 'RESOURCE_EXHAUSTED', 499: 'CANCELLED', 500: 'INTERNAL', 501: 'UNIMPLEMENTED', 502: 'UNAVAILABLE', 503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED',
};

const NETWORK = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EPIPE|EHOSTUNREACH|ENETUNREACH|UND_ERR_SOCKET|UND_ERR_CONNECT_TIMEOUT)$/;

/** An error answer of the Vertex REST API, read by our own fetch calls. */
export class VertexHttpError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly status: CanonicalCode,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'VertexHttpError';
  }

  /** From a non-2xx response: Google's `{"error":{"code","message","status"}}`, or whatever came back. */
  static async from(response: Response): Promise<VertexHttpError> {
    const text = await response.text().catch(() => '');
    let status: CanonicalCode = HTTP_TO_CODE[response.status] ?? (response.status >= 500 ? 'UNAVAILABLE' : 'UNKNOWN');
    let message = text.trim().startsWith('<') ? `HTTP ${response.status} ${response.statusText}` : text.slice(0, 500);
    try {
      const body = JSON.parse(text) as { error?: { message?: string; status?: string } };
      if (body.error?.message) message = body.error.message;
      if (body.error?.status && (CODE_NAMES as readonly string[]).includes(body.error.status)) status = body.error.status as CanonicalCode;
    } catch {
      // not JSON: an HTML error page from a proxy or a wrong host
    }
    const retryAfter = Number(response.headers.get('retry-after'));
    return new VertexHttpError(response.status, status, message, Number.isFinite(retryAfter) && retryAfter >= 0 && response.headers.has('retry-after') ? retryAfter : undefined);
  }
}

/** A long-running operation that finished with an error. */
export class OperationFailedError extends Error {
  readonly status: CanonicalCode;
  constructor(
    readonly operation: string,
    code: number,
    message: string,
  ) {
    super(message);
    this.name = 'OperationFailedError';
    this.status = CODE_NAMES[code] ?? 'UNKNOWN';
  }
}

export interface ErrorContext {
  /** What we were doing: "deployModel", "create endpoint". */
  operation: string;
  subject?: string;
  /** Machine and accelerator of the deployment (quota hints). */
  machine?: { type: string; accelerator?: string; count: number; region?: string };
  /** Where the deployment's logs are (failed deploys). */
  logsHint?: string;
}

interface SdkError {
  name?: string;
  message?: string;
  code?: number | string;
  status?: number;
  response?: { status?: number; data?: { error?: { status?: string; message?: string } } };
}

/** The canonical status of any error this module knows, or undefined for a non-API error. */
export function canonicalStatus(error: unknown): CanonicalCode | undefined {
  if (error instanceof VertexHttpError || error instanceof OperationFailedError) return error.status;
  const e = (error ?? {}) as SdkError;
  const fromBody = e.response?.data?.error?.status;
  if (fromBody && (CODE_NAMES as readonly string[]).includes(fromBody)) return fromBody as CanonicalCode;
  if (e.name === 'GaxiosError' && typeof e.code === 'number') return HTTP_TO_CODE[e.code];
  if (typeof e.code === 'number' && e.code >= 0 && e.code < CODE_NAMES.length) return CODE_NAMES[e.code];
  if (typeof e.status === 'number') return HTTP_TO_CODE[e.status];
  return undefined;
}

export function isNotFound(error: unknown): boolean {
  if (error instanceof ProviderError) return error.category === 'notFound';
  return canonicalStatus(error) === 'NOT_FOUND';
}

export function toProviderError(error: unknown, where: ErrorContext): ProviderError {
  if (error instanceof ProviderError) return error;
  const e = (error ?? {}) as SdkError & { cause?: { code?: string } };
  const status = canonicalStatus(error);
  const isLro = error instanceof OperationFailedError;
  const text = firstLine(e.response?.data?.error?.message ?? e.message ?? String(error));
  const subject = where.subject ? ` ${where.subject}` : '';
  const code = status ? pascal(status) : e.name === 'AbortError' ? 'Aborted' : 'VertexError';
  const message = `${where.operation}${subject} failed: ${status ?? e.name ?? 'error'}: ${text}`;
  const make = (category: FailureCategory, hint?: string, extra: { retryable?: boolean; retryAfterSeconds?: number } = {}) =>
    new ProviderError(code, message, { category, cause: error, ...(hint ? { hint } : {}), ...extra });

  if (e.name === 'AbortError') return make('failed', 'The operation was cancelled.');
  if (/Could not load the default credentials|Unable to detect a Project Id|invalid_grant|reauth/i.test(text) && !status) {
    return new ProviderError('CredentialsMissing', `${where.operation}${subject} failed: no Google Cloud credentials (${text})`, {
      category: 'auth',
      cause: error,
      hint: 'Run `gcloud auth application-default login`, set GOOGLE_APPLICATION_CREDENTIALS to a service account key, or set MODELDEPLOY_GCP_ACCESS_TOKEN (e.g. `gcloud auth print-access-token`).',
    });
  }
  switch (status) {
    case 'RESOURCE_EXHAUSTED':
      // A deployment's quota fails the operation; request-rate limits answer 429 at once.
      if (isLro || /quota metrics exceed|custom_model_serving|gpus|cpus/i.test(text)) return make('quota', quotaHint(where, text));
      return make('throttled', 'Vertex AI is limiting the request rate of this project; modeldeploy backs off and retries.', retryAfter(error));
    case 'UNAVAILABLE':
    case 'DEADLINE_EXCEEDED':
    case 'INTERNAL':
    case 'UNKNOWN':
      if (isLro && status !== 'UNAVAILABLE') return make('failed', where.logsHint ? `Read the model server's logs: ${where.logsHint}` : undefined);
      return make('unavailable', 'Vertex AI did not answer properly; modeldeploy retries. Check MODELDEPLOY_GCP_API_ENDPOINT if you set one.', retryAfter(error));
    case 'ABORTED':
      return make('conflict', 'Another change to this resource was made at the same time; modeldeploy retries.', { retryable: true });
    case 'UNAUTHENTICATED':
      return make('auth', 'The credentials were refused (expired token?). Refresh MODELDEPLOY_GCP_ACCESS_TOKEN (`gcloud auth print-access-token`) or run `gcloud auth application-default login` again.');
    case 'PERMISSION_DENIED':
      return make('auth', permissionHint(text));
    case 'NOT_FOUND':
      return make('notFound');
    case 'ALREADY_EXISTS':
      return make('conflict', 'A resource with this id exists already; modeldeploy adopts resources it labelled and refuses others.');
    case 'FAILED_PRECONDITION':
      if (isLro) return make('failed', deployFailureHint(where, text));
      // Another mutation is still running on the endpoint: worth a wait.
      return make('conflict', 'Vertex AI refused the change in the resource\'s current state; modeldeploy waits for running operations and retries.', { retryable: /in progress|in flight|being|still|another operation/i.test(text) });
    case 'INVALID_ARGUMENT':
    case 'OUT_OF_RANGE':
      if (isLro) return make('failed', deployFailureHint(where, text));
      return make('invalid', /location|region/i.test(text) ? 'Check region in deploy.yaml: Vertex AI must be called at its regional host.' : 'Vertex AI refused the request; the message names the field.');
    case 'CANCELLED':
      return make('failed', 'The operation was cancelled.');
    case 'UNIMPLEMENTED':
      return make('invalid', 'This Vertex AI method is not available at this endpoint or region.');
    case undefined:
      break;
    default:
      return make('failed');
  }
  const sys = e.cause?.code ?? (typeof e.code === 'string' ? e.code : undefined);
  if ((sys && NETWORK.test(sys)) || /fetch failed|ECONNREFUSED|ENOTFOUND|socket hang up/i.test(text)) {
    // A name that does not resolve or a port nobody listens on will not heal in seconds.
    const lasting = /ENOTFOUND|ECONNREFUSED/.test(sys ?? text);
    return make('unavailable', 'Vertex AI could not be reached. Check the network, and MODELDEPLOY_GCP_API_ENDPOINT if you set it.', { retryable: !lasting });
  }
  return make('failed');
}

function retryAfter(error: unknown): { retryAfterSeconds?: number } {
  return error instanceof VertexHttpError && error.retryAfterSeconds !== undefined ? { retryAfterSeconds: error.retryAfterSeconds } : {};
}

function quotaHint(where: ErrorContext, text: string): string {
  const metric = /aiplatform\.googleapis\.com\/[\w/]+/.exec(text)?.[0];
  const m = where.machine;
  const need = m ? ` The deployment asks for ${m.count} × ${m.type}${m.accelerator ? ` with ${m.accelerator}` : ''} (quota is charged on the maximum replica count).` : '';
  return `Your project's quota${metric ? ` ${metric}` : ''}${m?.region ? ` in ${m.region}` : ''} is too small.${need} Request more under IAM & Admin → Quotas (filter on the metric), or pick a smaller machine, fewer replicas, or another region.`;
}

function permissionHint(text: string): string {
  const permission = /Permission '([^']+)'/.exec(text)?.[1];
  if (permission) return `The caller lacks ${permission}: grant roles/aiplatform.user on the project (and check gcp.project in deploy.yaml: Google answers "denied" for projects that do not exist too).`;
  return 'The caller lacks a permission on the project: grant roles/aiplatform.user, and check gcp.project in deploy.yaml.';
}

function deployFailureHint(where: ErrorContext, text: string): string {
  if (/image|pull|artifact registry/i.test(text)) {
    return 'Vertex AI could not pull the serving image: the Vertex AI service agent (service-<project-number>@gcp-sa-aiplatform.iam.gserviceaccount.com) needs roles/artifactregistry.reader on the repository.';
  }
  if (/storage|gs:\/\//i.test(text)) {
    return 'Vertex AI could not read the model artifacts: the Vertex AI service agent needs roles/storage.objectViewer on the bucket.';
  }
  return where.logsHint ? `The model server did not start. Read its logs: ${where.logsHint}` : 'The model server did not start; its logs are in Cloud Logging (resource type aiplatform.googleapis.com/Endpoint).';
}

function pascal(status: string): string {
  return status.toLowerCase().replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase());
}

function firstLine(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}
