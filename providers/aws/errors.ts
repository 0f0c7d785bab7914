/**
 * SDK errors → the core's failure categories, with hints. Matches on `error.name` (the wire
 * `__type`): most SageMaker errors are not modeled classes, so `instanceof` would miss them.
 */
import { ProviderError, type FailureCategory } from '../../src/core/errors.js';

interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

const THROTTLED = new Set(['ThrottlingException', 'Throttling', 'ThrottledException', 'TooManyRequestsException', 'RequestLimitExceeded', 'SlowDown', 'ModelNotReadyException']);
const AUTH = new Set(['AccessDeniedException', 'AccessDenied', 'UnrecognizedClientException', 'InvalidClientTokenId', 'ExpiredToken', 'ExpiredTokenException', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'CredentialsProviderError']);
const NOT_FOUND = new Set(['ResourceNotFound', 'ResourceNotFoundException', 'NoSuchKey', 'NoSuchBucket', 'NotFound', 'ObjectNotFoundException']);

const BUSY = /in-progress|in progress|while endpoint|is (Creating|Updating|Deleting|SystemUpdating|RollingBack)\b/i;

export function isNotFound(error: unknown): boolean {
  if (error instanceof ProviderError) return error.category === 'notFound';
  const e = error as SdkError;
  return NOT_FOUND.has(e.name ?? '') || (e.name === 'ValidationException' && /could not find|not found|does not exist/i.test(e.message ?? ''));
}

export function toProviderError(error: unknown, operation: string, subject = ''): ProviderError {
  if (error instanceof ProviderError) return error;
  const e = (error ?? {}) as SdkError;
  const name = e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const message = `${operation}${subject ? ` ${subject}` : ''} failed: ${name}: ${e.message ?? String(error)}`;
  const base = { cause: error, ...(e.$metadata?.requestId ? { requestId: e.$metadata.requestId } : {}) };
  const make = (category: FailureCategory, hint?: string, code = name, retryable?: boolean) =>
    new ProviderError(code, message, { ...base, category, ...(hint ? { hint } : {}), ...(retryable !== undefined ? { retryable } : {}) });

  if (THROTTLED.has(name) || status === 429) return make('throttled', 'AWS is rate-limiting this account; modeldeploy retries with backoff.');
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(e.message ?? '')) {
    return make('auth', 'Configure AWS credentials: AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or an instance/OIDC role.', 'CredentialsMissing');
  }
  if (AUTH.has(name) || status === 403) {
    return make('auth', `The caller lacks permission for ${operation}: allow ${permissionFor(operation)} on the resource (and iam:PassRole on aws.roleArn for CreateModel).`);
  }
  if (name === 'ResourceLimitExceeded' || name === 'LimitExceededException') {
    const quota = /service limit '([^']+)'/.exec(e.message ?? '')?.[1];
    return make('quota', quota ? `Request an increase of the quota '${quota}' in Service Quotas, or pick another instance type.` : 'Request a quota increase in Service Quotas, or pick another instance type.');
  }
  if (name === 'ConcurrentUpdateException') return make('conflict', undefined, name, true); // Application Auto Scaling: another change of the target is under way
  if (name === 'ResourceInUse' || name === 'ConflictException') return make('conflict');
  if (name === 'ValidationException' || name === 'ValidationError') {
    if (/could not find|not found|does not exist/i.test(e.message ?? '')) return make('notFound');
    if (/already existing|already exists/i.test(e.message ?? '')) return make('conflict');
    // Another operation still runs on the endpoint (or on the config it uses): wait and repeat.
    if (BUSY.test(e.message ?? '')) return make('conflict', 'SageMaker is still changing the endpoint; modeldeploy waits for it.', name, true);
    return make('invalid', 'SageMaker rejected the request; the message names the field.');
  }
  if (NOT_FOUND.has(name) || status === 404) return make('notFound');
  if (e.$fault === 'server' || (status !== undefined && status >= 500) || /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN|socket hang up/i.test(`${e.code ?? ''} ${e.message ?? ''}`)) {
    return make('unavailable', 'AWS did not answer properly; modeldeploy retries. Check AWS_ENDPOINT_URL if you set one.');
  }
  return make('failed');
}

function permissionFor(operation: string): string {
  const [service, action] = operation.includes(':') ? operation.split(':') : ['sagemaker', operation];
  return `${service}:${action}`;
}
