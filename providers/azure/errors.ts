/**
 * Azure SDK errors → the core's failure categories, with hints. Three shapes reach us: a
 * `RestError` (ARM answered: `code` is the ARM error code, `statusCode` the HTTP status), the
 * plain `Error` core-lro throws when a long-running operation ends Failed ("The long-running
 * operation has failed. <Code>. <message>", no `code` property), and @azure/identity's
 * credential errors. Branches on codes and statuses, never on the wording of messages, except
 * where ARM gives nothing else (the LRO text, the region-wide name clash).
 */
import { ProviderError, type FailureCategory } from '../../src/core/errors.js';

interface AzureSdkError {
  name?: string;
  message?: string;
  code?: string;
  statusCode?: number;
  response?: { headers?: { get(name: string): string | undefined } };
}

/** Where a failing call happened: shown in the message and used to pick hints. */
export interface ErrorContext {
  operation: string;
  subject?: string;
  /** The instance type and count of the deployment being created (quota hints). */
  instance?: { type: string; count: number; family?: string; region?: string };
  /** Where the deployment's logs are, for failures of a deployment. */
  logsHint?: string;
}

const LRO_FAILED = /^The long-running operation has failed(?:\.\s*(?:([A-Za-z][\w.]*)\.\s*)?([\s\S]*))?$/;
const NETWORK = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ESOCKETTIMEDOUT|ENOTFOUND|EAI_AGAIN|EPIPE|EHOSTUNREACH|ENETUNREACH)$/;
const TLS = /^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|CERT_HAS_EXPIRED|ERR_TLS_CERT_ALTNAME_INVALID)$/;
const CREDENTIAL_ERRORS = new Set(['CredentialUnavailableError', 'AggregateAuthenticationError', 'AuthenticationRequiredError', 'AuthenticationError']);

const QUOTA = new Set(['OutOfQuota', 'QuotaExceeded', 'InsufficientQuota', 'QuotaExceededException']);
const CONFLICT = new Set(['Conflict', 'ResourceConflict', 'OperationConflict', 'AnotherOperationInProgress']);
const NOT_FOUND = new Set(['ResourceNotFound', 'NotFound', 'ResourceGroupNotFound', 'SubscriptionNotFound', 'ParentResourceNotFound', 'BlobNotFound', 'ContainerNotFound']);
const INVALID = new Set(['BadRequest', 'UserError', 'BadArgument', 'ValidationError', 'InvalidRequestContent', 'InvalidParameter', 'InvalidTemplate', 'MissingApiVersionParameter', 'NoRegisteredProviderFound', 'UnsupportedMediaType', 'InvalidHeaderValue']);
const AUTHZ = new Set(['AuthorizationFailed', 'Forbidden', 'AuthorizationPermissionMismatch', 'LinkedAuthorizationFailed']);
const AUTHN = new Set(['AuthenticationFailed', 'InvalidAuthenticationToken', 'ExpiredAuthenticationToken', 'InvalidAuthenticationTokenTenant', 'AuthenticationFailedMissingToken']);
const THROTTLED = new Set(['TooManyRequests', 'SubscriptionRequestsThrottled', 'TenantRequestsThrottled', 'ServerBusy']);
const TRANSIENT = new Set(['InternalServerError', 'ServiceUnavailable', 'OperationCanceled', 'GatewayTimeout', 'RetryableError', 'OperationTimedOut']);
/** Deployment failures the container or the image causes: not retryable, the logs say why. */
const DEPLOYMENT_FAILED = new Set(['ResourceNotReady', 'ImageBuildFailure', 'DeploymentFailed', 'SecretsInjectionError', 'WorkspaceManagedNetworkNotReady', 'ResourceOperationFailure']);

/** Code and message of an LRO failure, or undefined when the error is not one. */
export function parseLroFailure(error: unknown): { code: string; message: string } | undefined {
  if (!(error instanceof Error) || (error as AzureSdkError).code !== undefined) return undefined;
  const match = LRO_FAILED.exec(error.message);
  if (!match) return undefined;
  return { code: match[1] ?? 'OperationFailed', message: (match[2] ?? '').trim() || 'no reason given' };
}

export function isNotFound(error: unknown): boolean {
  if (error instanceof ProviderError) return error.category === 'notFound';
  const e = (error ?? {}) as AzureSdkError;
  return e.statusCode === 404 || NOT_FOUND.has(e.code ?? '');
}

export function toProviderError(error: unknown, where: ErrorContext): ProviderError {
  if (error instanceof ProviderError) return error;
  const e = (error ?? {}) as AzureSdkError;
  const lro = parseLroFailure(error);
  const code = lro?.code ?? e.code ?? e.name ?? 'Error';
  const status = lro ? undefined : e.statusCode;
  const text = (lro?.message ?? e.message ?? String(error)).trim();
  const subject = where.subject ? ` ${where.subject}` : '';
  const message = `${where.operation}${subject} failed: ${code}${status ? ` (HTTP ${status})` : ''}: ${text}`;
  const requestId = e.response?.headers?.get('x-ms-request-id');
  const make = (category: FailureCategory, hint?: string, extra: { retryable?: boolean; retryAfterSeconds?: number } = {}) =>
    new ProviderError(code, message, {
      category,
      cause: error,
      ...(requestId ? { requestId } : {}),
      ...(hint ? { hint } : {}),
      ...extra,
    });

  if (e.name === 'AbortError') return make('failed', 'The operation was cancelled.');
  if (CREDENTIAL_ERRORS.has(e.name ?? '') || CREDENTIAL_ERRORS.has(code)) {
    return new ProviderError('CredentialsMissing', `${where.operation}${subject} failed: no Azure credentials (${firstLine(text)})`, {
      category: 'auth',
      cause: error,
      hint: 'Set MODELDEPLOY_AZURE_ACCESS_TOKEN (e.g. `az account get-access-token --query accessToken -o tsv`), run `az login`, or configure a service principal (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_CLIENT_SECRET) or a managed identity.',
    });
  }
  if (QUOTA.has(code)) return make('quota', quotaHint(where, text));
  if (status === 429 || THROTTLED.has(code)) {
    const retryAfter = retryAfterSeconds(e);
    return make('throttled', 'Azure Resource Manager is throttling this subscription; modeldeploy waits as long as it asks (Retry-After) and retries.', {
      ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}),
    });
  }
  if (status === 401 || AUTHN.has(code)) {
    return make('auth', 'The access token was refused (expired, or for another tenant or cloud). Refresh MODELDEPLOY_AZURE_ACCESS_TOKEN or `az login` again; for a sovereign cloud set MODELDEPLOY_AZURE_ARM_ENDPOINT.');
  }
  if (status === 403 || AUTHZ.has(code)) return make('auth', roleHint(text, where));
  if (status === 409 || CONFLICT.has(code)) {
    // One management operation per endpoint at a time: another one finishing is worth a wait.
    const busy = /in progress|provisioning state/i.test(text);
    return make('conflict', busy ? 'Another operation is running on this endpoint; modeldeploy waits and retries.' : undefined, { retryable: busy });
  }
  if (/already an endpoint with this name|unique within a region/i.test(text)) {
    return make('conflict', 'Online endpoint names are unique per Azure region across all customers: change name or stage in deploy.yaml.');
  }
  if (status === 404 || NOT_FOUND.has(code)) return make('notFound', notFoundHint(code));
  if (DEPLOYMENT_FAILED.has(code)) return make('failed', where.logsHint ? `Read the deployment logs: ${where.logsHint}` : undefined);
  if (code === 'BadArgument' && /unable to download user (model|container image)/i.test(text)) {
    return make('invalid', `Azure ML could not fetch the model or image. The endpoint's managed identity needs read access to the workspace storage and registry.${where.logsHint ? ` Logs: ${where.logsHint}` : ''}`);
  }
  if ((status !== undefined && status >= 500) || TRANSIENT.has(code)) {
    return make('unavailable', 'Azure did not answer properly; modeldeploy retries. Check MODELDEPLOY_AZURE_ARM_ENDPOINT if you set one.');
  }
  if (status === 400 || status === 422 || status === 415 || INVALID.has(code)) {
    return make('invalid', `Azure ML refused the request; the message names the field.${where.logsHint ? ` Logs: ${where.logsHint}` : ''}`);
  }
  if (TLS.test(e.code ?? '')) {
    return make('failed', 'The TLS certificate of the endpoint is not trusted. For a private CA set NODE_EXTRA_CA_CERTS to its PEM file.');
  }
  if (NETWORK.test(e.code ?? '') || /ECONNREFUSED|ENOTFOUND|socket hang up/i.test(text)) {
    return make('unavailable', 'Azure could not be reached. Check the network, and MODELDEPLOY_AZURE_ARM_ENDPOINT / MODELDEPLOY_AZURE_BLOB_ENDPOINT if you set them.');
  }
  return make('failed', where.logsHint ? `Read the deployment logs: ${where.logsHint}` : undefined);
}

function retryAfterSeconds(e: AzureSdkError): number | undefined {
  const headers = e.response?.headers;
  const ms = Number(headers?.get('retry-after-ms') ?? headers?.get('x-ms-retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms / 1000;
  const raw = headers?.get('retry-after');
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(raw);
  return Number.isFinite(date) ? Math.max(0, (date - Date.now()) / 1000) : undefined;
}

function quotaHint(where: ErrorContext, text: string): string {
  const i = where.instance;
  const family = i?.family ? ` for the ${i.family} VM family` : '';
  const region = i?.region ? ` in ${i.region}` : '';
  const need = i ? ` ${i.count} × ${i.type} needs that many instances' cores plus the 20% Azure ML reserves for upgrades.` : '';
  const what = /endpoint/i.test(text) && !/core|cpu|gpu/i.test(text) ? 'the online endpoint count (100 per subscription and region)' : `the subscription's vCPU quota${family}${region}`;
  return `This is ${what}.${need} Raise it in Azure ML studio → Quota (or the Azure portal's Quotas page for Machine Learning), or pick another instance type or region; region-wide capacity shortages clear if you retry later.`;
}

function roleHint(text: string, where: ErrorContext): string {
  const action = /perform action '([^']+)'/.exec(text)?.[1];
  const scope = /over scope '([^']+)'/.exec(text)?.[1];
  if (action?.startsWith('Microsoft.Storage/')) {
    return `The caller needs the Storage Blob Data Contributor role on the workspace's storage account${scope ? ` (${scope})` : ''}.`;
  }
  const what = action ? `the action ${action}` : `${where.operation}`;
  return `The caller lacks a role that allows ${what}${scope ? ` on ${scope}` : ''}: grant AzureML Data Scientist (or Contributor) on the workspace; listing datastore secrets and endpoint keys needs it too.`;
}

function notFoundHint(code: string): string | undefined {
  if (code === 'SubscriptionNotFound') return 'Check azure.subscriptionId in deploy.yaml (`az account show --query id -o tsv`).';
  if (code === 'ResourceGroupNotFound') return 'Check azure.resourceGroup in deploy.yaml.';
  if (code === 'ResourceNotFound') return 'Check azure.resourceGroup and azure.workspace in deploy.yaml: the workspace must exist before `up`.';
  return undefined;
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? text;
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}
