/**
 * Azure error mapping on the shapes the SDKs throw: RestError (code, statusCode, response
 * headers), core-lro's plain Error for a failed long-running operation, @azure/identity's
 * credential errors, and Node's socket/TLS codes.
 */
import { describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/core/errors.js';
import { isNotFound, parseLroFailure, toProviderError } from '../../providers/azure/errors.js';

function restError(statusCode: number | undefined, code: string, message: string, headers: Record<string, string> = {}) {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return Object.assign(new Error(message), { name: 'RestError', code, statusCode, response: { headers: { get: (name: string) => lower[name.toLowerCase()] } } });
}

const at = { operation: 'onlineDeployments.createOrUpdate', subject: 'churn-prod/r-0a1b2c3d' };

describe('azure errors', () => {
  it('parses a failed long-running operation to its ARM code', () => {
    expect(parseLroFailure(new Error('The long-running operation has failed. OutOfQuota. Not enough quota available for Standard_DS3_v2.'))).toEqual({ code: 'OutOfQuota', message: 'Not enough quota available for Standard_DS3_v2.' });
    expect(parseLroFailure(new Error('The long-running operation has failed'))).toEqual({ code: 'OperationFailed', message: 'no reason given' });
    expect(parseLroFailure(restError(400, 'UserError', 'The long-running operation has failed. X. y'))).toBeUndefined();
    expect(parseLroFailure(new Error('something else'))).toBeUndefined();
  });

  it('OutOfQuota from the LRO: quota, naming the VM family, the region, the 20% reserve and where to raise it', () => {
    const e = toProviderError(new Error('The long-running operation has failed. OutOfQuota. Not enough quota available for Standard_NC6s_v3 in SubscriptionId x. Current usage/limit: 0/6. Additional needed: 12'), {
      ...at,
      instance: { type: 'Standard_NC6s_v3', count: 2, family: 'standardNCSv3Family', region: 'westeurope' },
    });
    expect(e).toMatchObject({ code: 'OutOfQuota', category: 'quota', retryable: false });
    expect(e.message).toBe('onlineDeployments.createOrUpdate churn-prod/r-0a1b2c3d failed: OutOfQuota: Not enough quota available for Standard_NC6s_v3 in SubscriptionId x. Current usage/limit: 0/6. Additional needed: 12');
    expect(e.hint).toContain('vCPU quota for the standardNCSv3Family VM family in westeurope');
    expect(e.hint).toContain('2 × Standard_NC6s_v3');
    expect(e.hint).toContain('20%');
    expect(e.hint).toContain('Quota');
    expect(toProviderError(restError(400, 'QuotaExceeded', 'Endpoint count limit reached for this region'), { operation: 'onlineEndpoints.createOrUpdate' }).hint).toContain('online endpoint count');
  });

  it('a deployment that failed in its container: failed, with where the logs are', () => {
    const e = toProviderError(new Error('The long-running operation has failed. ResourceNotReady. User container has crashed or terminated.'), { ...at, logsHint: 'az ml online-deployment get-logs …' });
    expect(e).toMatchObject({ code: 'ResourceNotReady', category: 'failed', retryable: false, hint: 'Read the deployment logs: az ml online-deployment get-logs …' });
  });

  it('429: throttled and retryable, with the seconds of Retry-After (or retry-after-ms)', () => {
    expect(toProviderError(restError(429, 'SubscriptionRequestsThrottled', 'Number of write requests exceeded', { 'Retry-After': '7' }), at)).toMatchObject({ category: 'throttled', retryable: true, retryAfterSeconds: 7 });
    expect(toProviderError(restError(429, 'TooManyRequests', 'slow down', { 'retry-after-ms': '1500' }), at)).toMatchObject({ retryAfterSeconds: 1.5 });
    expect(toProviderError(restError(429, 'TooManyRequests', 'slow down'), at).retryAfterSeconds).toBeUndefined();
  });

  it('403 names the action and the role that allows it; storage actions need Storage Blob Data Contributor', () => {
    const e = toProviderError(
      restError(403, 'AuthorizationFailed', "The client 'dev@example.com' with object id '1' does not have authorization to perform action 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/write' over scope '/subscriptions/0/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/onlineEndpoints/churn-prod' or the scope is invalid."),
      { operation: 'onlineEndpoints.createOrUpdate', subject: 'churn-prod' },
    );
    expect(e).toMatchObject({ category: 'auth', retryable: false });
    expect(e.hint).toContain('Microsoft.MachineLearningServices/workspaces/onlineEndpoints/write');
    expect(e.hint).toContain('AzureML Data Scientist');
    expect(toProviderError(restError(403, 'AuthorizationPermissionMismatch', "does not have authorization to perform action 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write'"), at).hint).toContain('Storage Blob Data Contributor');
  });

  it('401 and missing credentials: auth, saying how to get a token', () => {
    expect(toProviderError(restError(401, 'ExpiredAuthenticationToken', 'The access token expiry UTC time is earlier than current UTC time.'), at)).toMatchObject({ category: 'auth', hint: expect.stringContaining('MODELDEPLOY_AZURE_ACCESS_TOKEN') });
    const missing = toProviderError(Object.assign(new Error('DefaultAzureCredential failed to retrieve a token from the included credentials.\nAttempted credentials:'), { name: 'AggregateAuthenticationError' }), { operation: 'onlineEndpoints.get' });
    expect(missing).toMatchObject({ code: 'CredentialsMissing', category: 'auth', hint: expect.stringContaining('az login') });
    expect(missing.message).not.toContain('\n');
    expect(toProviderError(Object.assign(new Error('Azure CLI could not be found.'), { name: 'CredentialUnavailableError' }), at).code).toBe('CredentialsMissing');
  });

  it('409: conflict; retryable only while another operation is in progress', () => {
    expect(toProviderError(restError(409, 'UserError', "Conflict: an operation is already in progress on online endpoint 'churn-prod' (provisioning state Updating)."), at)).toMatchObject({ category: 'conflict', retryable: true });
    expect(toProviderError(restError(409, 'Conflict', 'The resource already exists.'), at)).toMatchObject({ category: 'conflict', retryable: false });
    const taken = toProviderError(restError(400, 'UserError', 'There is already an endpoint with this name, Endpoint name needs to be unique within a region. Try some other name.'), at);
    expect(taken).toMatchObject({ category: 'conflict', retryable: false, hint: expect.stringContaining('unique per Azure region') });
  });

  it('404 not found (with hints for the azure block), 400 invalid, 5xx unavailable', () => {
    expect(toProviderError(restError(404, 'ResourceGroupNotFound', "Resource group 'rg' could not be found."), at)).toMatchObject({ category: 'notFound', hint: expect.stringContaining('azure.resourceGroup') });
    expect(toProviderError(restError(404, 'ResourceNotFound', "The Resource 'Microsoft.MachineLearningServices/workspaces/ws' was not found."), at).hint).toContain('azure.workspace');
    expect(toProviderError(restError(400, 'UserError', "Could not find member 'x' on object of type 'OnlineDeployment'. Path 'x'."), at)).toMatchObject({ category: 'invalid', retryable: false });
    expect(toProviderError(restError(400, 'BadRequest', 'The request is invalid.'), at).category).toBe('invalid');
    expect(toProviderError(new Error('The long-running operation has failed. BadArgument. Unable to download user model: nothing found.'), at)).toMatchObject({ category: 'invalid', hint: expect.stringContaining('managed identity') });
    expect(toProviderError(restError(500, 'InternalServerError', 'oops'), at)).toMatchObject({ category: 'unavailable', retryable: true });
    expect(toProviderError(restError(503, 'ServiceUnavailable', 'later'), at)).toMatchObject({ category: 'unavailable', retryable: true });
  });

  it('socket and TLS errors: unavailable (retryable), or a certificate hint', () => {
    expect(toProviderError(restError(undefined, 'ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9'), at)).toMatchObject({ category: 'unavailable', retryable: true, hint: expect.stringContaining('MODELDEPLOY_AZURE_ARM_ENDPOINT') });
    expect(toProviderError(restError(undefined, 'DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'), at)).toMatchObject({ category: 'failed', hint: expect.stringContaining('NODE_EXTRA_CA_CERTS') });
  });

  it('isNotFound knows 404s and mapped notFound errors; ProviderErrors pass through unchanged', () => {
    expect(isNotFound(restError(404, 'NotFound', 'The specified resource was not found.'))).toBe(true);
    expect(isNotFound(restError(400, 'UserError', 'no'))).toBe(false);
    const mapped = new ProviderError('X', 'x', { category: 'notFound' });
    expect(isNotFound(mapped)).toBe(true);
    expect(toProviderError(mapped, at)).toBe(mapped);
  });
});
