import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startFakeAzureMl } from '../../emulators/azure/fake-arm.js';
import type { FakeAzureMl } from '../../emulators/azure/fake-arm.js';
import { httpsRequest } from '../../emulators/azure/https-request.js';
import type { HttpsResponse } from '../../emulators/azure/https-request.js';

/*
 * The fake's strictness over raw HTTPS (no SDK): the SDK serializer would drop unknown members and
 * never omits api-version, so these paths are only reachable this way.
 */

let fake: FakeAzureMl;
let sub: string;
const WSP = () => `/subscriptions/${sub}/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws1`;
const MODEL_ID = () => `${WSP()}/models/m/versions/1`;
const ENV = 'azureml://registries/azureml/environments/minimal-ubuntu22.04-py311-cpu-inference/versions/7';

async function arm(
  method: string,
  path: string,
  body?: unknown,
  opts: { auth?: string | null; apiVersion?: string | null; contentType?: string; raw?: string } = {},
): Promise<HttpsResponse> {
  const apiVersion = opts.apiVersion === undefined ? '2022-10-01' : opts.apiVersion;
  const url = `${fake.url}${path}${apiVersion ? `${path.includes('?') ? '&' : '?'}api-version=${apiVersion}` : ''}`;
  const headers: Record<string, string> = {};
  if (opts.auth !== null) headers['authorization'] = opts.auth ?? 'Bearer test-token';
  const payload = opts.raw ?? (body === undefined ? undefined : JSON.stringify(body));
  if (payload !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
  return httpsRequest(url, { method, headers, ca: fake.caPem, ...(payload !== undefined ? { body: payload } : {}) });
}

function errorOf(res: HttpsResponse): { code: string; message: string } {
  return (res.json() as { error: { code: string; message: string } }).error;
}

/** The resource's state as a GET shows it (a GET is a look: what was started before it has finished, unless held). */
async function stateOf(path: string): Promise<string> {
  return ((await arm('GET', path)).json() as { properties: { provisioningState: string } }).properties.provisioningState;
}

const endpointBody = (extra: Record<string, unknown> = {}) => ({ location: 'eastus', properties: { authMode: 'Key', ...extra } });
const deploymentBody = (props: Record<string, unknown> = {}, top: Record<string, unknown> = {}) => ({
  location: 'eastus',
  sku: { name: 'Default', capacity: 1 },
  ...top,
  properties: { endpointComputeType: 'Managed', instanceType: 'Standard_DS3_v2', model: MODEL_ID(), environmentId: ENV, ...props },
});

beforeAll(async () => {
  fake = await startFakeAzureMl();
  sub = fake.subscriptionId;
  const dsUri = `azureml://subscriptions/${sub}/resourcegroups/rg1/workspaces/ws1/datastores/workspaceblobstore/paths/m`;
  expect((await arm('PUT', `${WSP()}/models/m/versions/1`, { properties: { modelUri: dsUri } })).status).toBe(201);
  expect((await arm('PUT', `${WSP()}/onlineEndpoints/strict-ep`, endpointBody())).status).toBe(201);
  expect(await stateOf(`${WSP()}/onlineEndpoints/strict-ep`)).toBe('Succeeded');
});

afterAll(async () => {
  await fake?.stop();
});

describe('ARM front door', () => {
  it('401 without a bearer token, with ARM error shape and WWW-Authenticate', async () => {
    const res = await arm('GET', WSP(), undefined, { auth: null });
    expect(res.status).toBe(401);
    expect(errorOf(res)).toEqual({ code: 'AuthenticationFailed', message: "Authentication failed. The 'Authorization' header is missing." });
    expect(res.headers['www-authenticate']).toContain('Bearer');
    expect((await arm('GET', WSP(), undefined, { auth: 'Basic abc' })).status).toBe(401);
  });

  it('400 without api-version, and for an api-version it does not serve', async () => {
    const missing = await arm('GET', WSP(), undefined, { apiVersion: null });
    expect(missing.status).toBe(400);
    expect(errorOf(missing).code).toBe('MissingApiVersionParameter');
    const unknown = await arm('GET', WSP(), undefined, { apiVersion: '2099-01-01' });
    expect(unknown.status).toBe(400);
    expect(errorOf(unknown).code).toBe('NoRegisteredProviderFound');
  });

  it('404 for a missing subscription, resource group, workspace and endpoint', async () => {
    const base = '/providers/Microsoft.MachineLearningServices/workspaces/ws1';
    expect(errorOf(await arm('GET', `/subscriptions/nope/resourceGroups/rg1${base}`)).code).toBe('SubscriptionNotFound');
    expect(errorOf(await arm('GET', `/subscriptions/${sub}/resourceGroups/nope${base}`)).code).toBe('ResourceGroupNotFound');
    const ws = await arm('GET', `/subscriptions/${sub}/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/nope`);
    expect([ws.status, errorOf(ws).code]).toEqual([404, 'ResourceNotFound']);
    const ep = await arm('GET', `${WSP()}/onlineEndpoints/nope`);
    expect([ep.status, errorOf(ep).code]).toEqual([404, 'NotFound']);
  });

  it('415 for a non-JSON body and 400 InvalidRequestContent for broken JSON', async () => {
    expect((await arm('PUT', `${WSP()}/onlineEndpoints/x-ep`, undefined, { raw: 'a=b', contentType: 'text/plain' })).status).toBe(415);
    const broken = await arm('PUT', `${WSP()}/onlineEndpoints/x-ep`, undefined, { raw: '{"location":' });
    expect([broken.status, errorOf(broken).code]).toEqual([400, 'InvalidRequestContent']);
  });

  it('429 with Retry-After while throttled', async () => {
    fake.throttle(1, 7);
    const res = await arm('GET', WSP());
    expect([res.status, res.headers['retry-after'], errorOf(res).code]).toEqual([429, '7', 'SubscriptionRequestsThrottled']);
    expect((await arm('GET', WSP())).status).toBe(200);
  });

  it('throttleEveryOther: each first try gets 429 with Retry-After 0, its retry passes', async () => {
    fake.throttleEveryOther();
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await arm('GET', WSP())).status);
    fake.stopThrottling();
    expect(statuses).toEqual([429, 200, 429, 200]);
    expect((await arm('GET', WSP())).status).toBe(200);
  });
});

describe('online endpoint validation', () => {
  it.each([
    ['unknown top-level member', { ...endpointBody(), colour: 'red' }, "Could not find member 'colour'"],
    ['unknown property', endpointBody({ mirrorTraffic: { a: 1 } }), "Could not find member 'mirrorTraffic'"],
    ['missing authMode', { location: 'eastus', properties: {} }, "Required property 'authMode' not found"],
    ['missing location', { properties: { authMode: 'Key' } }, "Required property 'location' not found"],
    ['bad authMode', endpointBody({ authMode: 'Password' }), 'Error converting value "Password"'],
    ['other region', { location: 'westus', properties: { authMode: 'Key' } }, 'does not match the location'],
    ['compute on a managed endpoint', endpointBody({ compute: 'x' }), 'only valid for Kubernetes'],
    ['traffic on create', endpointBody({ traffic: { blue: 100 } }), "deployment 'blue'"],
  ])('%s → 400 UserError', async (_label, body, message) => {
    const res = await arm('PUT', `${WSP()}/onlineEndpoints/new-ep`, body);
    expect(res.status).toBe(400);
    expect(errorOf(res).code).toBe('UserError');
    expect(errorOf(res).message).toContain(message);
  });

  it.each(['ab', '1abc', 'a--b', 'abc-', 'a'.repeat(33), 'bad_name'])('rejects the endpoint name %j', async (name) => {
    const res = await arm('PUT', `${WSP()}/onlineEndpoints/${name}`, endpointBody());
    expect([res.status, errorOf(res).message]).toEqual([400, expect.stringContaining('Invalid endpoint name')]);
  });

  it('a name reserved by another customer in the region is refused; read-only members from a GET are ignored', async () => {
    fake.reserveEndpointName('East US', 'taken-ep');
    const taken = await arm('PUT', `${WSP()}/onlineEndpoints/taken-ep`, endpointBody());
    expect(errorOf(taken).message).toContain('Endpoint name needs to be unique within a region');
    const current = (await arm('GET', `${WSP()}/onlineEndpoints/strict-ep`)).json() as Record<string, unknown>;
    const echoed = await arm('PUT', `${WSP()}/onlineEndpoints/strict-ep`, current);
    expect(echoed.status).toBe(200);
    expect(await stateOf(`${WSP()}/onlineEndpoints/strict-ep`)).toBe('Succeeded');
  });

  it('409 for a second operation while the endpoint is busy', async () => {
    fake.hold();
    expect((await arm('PUT', `${WSP()}/onlineEndpoints/busy-ep`, endpointBody())).status).toBe(201);
    const again = await arm('PUT', `${WSP()}/onlineEndpoints/busy-ep`, endpointBody());
    expect(again.status).toBe(409);
    const dep = await arm('PUT', `${WSP()}/onlineEndpoints/busy-ep/deployments/blue`, deploymentBody());
    expect([dep.status, errorOf(dep).message]).toEqual([
      409,
      'Cannot create a deployment in endpoint busy-ep because it is in Creating provisioning state.',
    ]);
    expect(await stateOf(`${WSP()}/onlineEndpoints/busy-ep`)).toBe('Creating');
    fake.release();
    expect(await stateOf(`${WSP()}/onlineEndpoints/busy-ep`)).toBe('Succeeded');
    fake.hold(['endpointDelete']);
    const del = await arm('DELETE', `${WSP()}/onlineEndpoints/busy-ep`);
    expect(del.status).toBe(202);
    expect(del.headers['location']).toContain('/mfeOperationResults/');
    expect(del.headers['azure-asyncoperation']).toContain('/mfeOperationsStatus/');
    const repeat = await arm('DELETE', `${WSP()}/onlineEndpoints/busy-ep`);
    expect([repeat.status, repeat.headers['azure-asyncoperation']]).toEqual([202, del.headers['azure-asyncoperation']]);
    fake.release();
    expect((await arm('GET', `${WSP()}/onlineEndpoints/busy-ep`)).status).toBe(404);
    expect((await arm('DELETE', `${WSP()}/onlineEndpoints/busy-ep`)).status).toBe(204);
  });

  it('an operation ends on the first look after its request was answered: the PUT itself answers Creating', async () => {
    const put = await arm('PUT', `${WSP()}/onlineEndpoints/quick-ep`, endpointBody());
    expect([put.status, (put.json() as { properties: { provisioningState: string } }).properties.provisioningState]).toEqual([201, 'Creating']);
    const status = await httpsRequest(put.headers['azure-asyncoperation'] ?? '', { ca: fake.caPem, headers: { authorization: 'Bearer t' } });
    expect((status.json() as { status: string }).status).toBe('Succeeded');
    expect(await stateOf(`${WSP()}/onlineEndpoints/quick-ep`)).toBe('Succeeded');
    fake.hold(['endpointDelete']);
    expect((await arm('DELETE', `${WSP()}/onlineEndpoints/quick-ep`)).status).toBe(202);
    expect(await stateOf(`${WSP()}/onlineEndpoints/quick-ep`)).toBe('Deleting');
    fake.release();
    expect((await arm('GET', `${WSP()}/onlineEndpoints/quick-ep`)).status).toBe(404);
  });

  it('PATCH takes only tags and identity', async () => {
    const res = await arm('PATCH', `${WSP()}/onlineEndpoints/strict-ep`, { properties: { traffic: {} } });
    expect(errorOf(res).message).toContain("Could not find member 'properties'");
  });
});

describe('online deployment validation', () => {
  const path = () => `${WSP()}/onlineEndpoints/strict-ep/deployments/blue`;
  it.each([
    ['unknown instance type', () => deploymentBody({ instanceType: 'Standard_NC6' }), "instance type 'Standard_NC6' is not supported"],
    ['missing instanceType', () => deploymentBody({ instanceType: undefined }), "Required property 'instanceType'"],
    ['missing endpointComputeType', () => deploymentBody({ endpointComputeType: undefined }), "Required property 'endpointComputeType'"],
    ['Kubernetes compute type', () => deploymentBody({ endpointComputeType: 'Kubernetes' }), "use 'Managed'"],
    ['missing sku', () => ({ ...deploymentBody(), sku: undefined }), "Required property 'sku'"],
    ['capacity 0', () => deploymentBody({}, { sku: { name: 'Default', capacity: 0 } }), 'between 1 and 50'],
    ['capacity 51', () => deploymentBody({}, { sku: { name: 'Default', capacity: 51 } }), 'between 1 and 50'],
    ['missing model', () => deploymentBody({ model: `${WSP()}/models/m/versions/9` }), 'does not exist'],
    ['model short form', () => deploymentBody({ model: 'azureml:m:1' }), 'Invalid properties.model'],
    ['missing environment', () => deploymentBody({ environmentId: undefined }), "'environmentId' not found"],
    ['missing code asset', () => deploymentBody({ codeConfiguration: { codeId: `${WSP()}/codes/c/versions/1`, scoringScript: 'score.py' } }), 'does not exist'],
    ['empty scoringScript', () => deploymentBody({ codeConfiguration: { scoringScript: '' } }), 'must not be empty'],
    ['request timeout over 180 s', () => deploymentBody({ requestSettings: { requestTimeout: 'PT181S' } }), 'at most 180'],
    ['malformed duration', () => deploymentBody({ livenessProbe: { period: '10s' } }), "to type 'System.TimeSpan'"],
    ['probe initialDelay 0', () => deploymentBody({ readinessProbe: { initialDelay: 'PT0S' } }), 'at least 1 second'],
    ['liveness successThreshold 2', () => deploymentBody({ livenessProbe: { successThreshold: 2 } }), 'must be 1 for a liveness probe'],
    ['failureThreshold 0', () => deploymentBody({ readinessProbe: { failureThreshold: 0 } }), 'at least 1'],
    ['TargetUtilization scaling', () => deploymentBody({ scaleSettings: { scaleType: 'TargetUtilization' } }), "only 'Default'"],
    ['unknown property', () => deploymentBody({ dataCollector: {} }), "Could not find member 'dataCollector'"],
    ['other region', () => ({ ...deploymentBody(), location: 'westeurope' }), 'does not match the location'],
  ])('%s → 400', async (_label, body, message) => {
    const res = await arm('PUT', path(), body());
    expect(res.status).toBe(400);
    expect(errorOf(res).message).toContain(message);
  });

  it('accepts a valid body (PUT 201 + Azure-AsyncOperation and Location), fills defaults, refuses a 2nd op meanwhile', async () => {
    // Held: the checks below are looks, and would otherwise end the operation they test.
    fake.hold(['deployment']);
    const res = await arm('PUT', path(), deploymentBody());
    expect(res.status).toBe(201);
    expect(res.headers['azure-asyncoperation']).toMatch(/\/locations\/eastus\/mfeOperationsStatus\/od:/);
    const body = res.json() as { properties: Record<string, unknown>; sku: unknown };
    expect(body.properties['provisioningState']).toBe('Creating');
    expect(body.properties['requestSettings']).toEqual({ maxConcurrentRequestsPerInstance: 1, maxQueueWait: 'PT0.5S', requestTimeout: 'PT5S' });
    expect(body.properties['scaleSettings']).toEqual({ scaleType: 'Default' });
    expect((await arm('PUT', path(), deploymentBody())).status).toBe(409);
    expect((await arm('PUT', `${WSP()}/onlineEndpoints/strict-ep`, endpointBody({ traffic: { blue: 100 } }))).status).toBe(409);
    const status = await httpsRequest(res.headers['azure-asyncoperation'] ?? '', { ca: fake.caPem, headers: { authorization: 'Bearer t' } });
    expect((status.json() as { status: string }).status).toBe('InProgress');
    expect(await stateOf(path())).toBe('Creating');
    fake.release();
    expect(await stateOf(path())).toBe('Succeeded');
  });

  it('model versions: modelUri is required and must name a workspace datastore', async () => {
    const noUri = await arm('PUT', `${WSP()}/models/x/versions/1`, { properties: { modelType: 'custom_model' } });
    expect(errorOf(noUri).message).toContain("Required property 'modelUri'");
    const s3 = await arm('PUT', `${WSP()}/models/x/versions/1`, { properties: { modelUri: 's3://bucket/model' } });
    expect(errorOf(s3).message).toContain("Invalid modelUri 's3://bucket/model'");
    const badType = await arm('PUT', `${WSP()}/models/x/versions/1`, {
      properties: { modelUri: 'azureml://datastores/workspaceblobstore/paths/x', modelType: 'onnx' },
    });
    expect(errorOf(badType).message).toContain('Error converting value "onnx"');
    fake.failNext('modelVersion', { code: 'UserError', message: 'injected', status: 400 });
    const injected = await arm('PUT', `${WSP()}/models/x/versions/1`, { properties: { modelUri: 'azureml://datastores/workspaceblobstore/paths/x' } });
    expect([injected.status, errorOf(injected).message]).toEqual([400, 'injected']);
  });
});

describe('scoring data plane', () => {
  let key: string;
  const scoringUri = () => `${fake.url}/inference/eastus/strict-ep/score`;
  const post = (headers: Record<string, string>, body = '{"x":1}') =>
    httpsRequest(scoringUri(), { method: 'POST', ca: fake.caPem, headers: { 'content-type': 'application/json', ...headers }, body });

  beforeAll(async () => {
    key = ((await arm('POST', `${WSP()}/onlineEndpoints/strict-ep/listKeys`)).json() as { primaryKey: string }).primaryKey;
  });

  it('404 while no deployment has positive weight, then the default handler echoes', async () => {
    const none = await post({ authorization: `Bearer ${key}` });
    expect([none.status, none.text]).toEqual([404, "The endpoint doesn't have any valid deployment with positive weight."]);
    const pinned = await post({ authorization: `Bearer ${key}`, 'azureml-model-deployment': 'blue' });
    expect(pinned.json()).toEqual({ deployment: 'blue', input: { x: 1 } });
    expect((await post({ authorization: `Bearer ${key}`, 'azureml-model-deployment': 'nope' })).status).toBe(404);
  });

  it('424 with the model error headers when the container answers non-200; 408 past requestTimeout', async () => {
    fake.setScoreHandler('strict-ep', 'blue', () => ({ status: 500, body: { error: 'kaput' } }));
    const failed = await post({ authorization: `Bearer ${key}`, 'azureml-model-deployment': 'blue' });
    expect([failed.status, failed.headers['ms-azureml-model-error-statuscode']]).toEqual([424, '500']);
    await arm('PUT', `${WSP()}/onlineEndpoints/strict-ep/deployments/slow`, deploymentBody({ requestSettings: { requestTimeout: 'PT0.05S' } }));
    expect(await stateOf(`${WSP()}/onlineEndpoints/strict-ep/deployments/slow`)).toBe('Succeeded');
    // The container answers only after the caller has its 408.
    let answer: (result: { body: string }) => void = () => undefined;
    fake.setScoreHandler('strict-ep', 'slow', () => new Promise((r) => (answer = r)));
    const slow = await post({ authorization: `Bearer ${key}`, 'azureml-model-deployment': 'slow' });
    expect(slow.status).toBe(408);
    answer({ body: 'late' });
  });

  it('429 beyond 2 × maxConcurrentRequestsPerInstance × instances in flight', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let entered = 0;
    let bothIn: () => void = () => undefined;
    const inFlight = new Promise<void>((r) => (bothIn = r));
    fake.setScoreHandler('strict-ep', 'blue', async () => {
      if (++entered === 2) bothIn();
      await gate;
      return { body: 'ok' };
    });
    const h = { authorization: `Bearer ${key}`, 'azureml-model-deployment': 'blue' };
    const first = [post(h), post(h)];
    await inFlight; // both are inside the container, not merely sent
    expect((await post(h)).status).toBe(429);
    release();
    expect((await Promise.all(first)).map((r) => r.status)).toEqual([200, 200]);
  });

  it('routes by the live traffic split', async () => {
    fake.setScoreHandler('strict-ep', 'blue', () => ({ body: 'blue' }));
    fake.setScoreHandler('strict-ep', 'slow', () => ({ body: 'slow' }));
    expect((await arm('PUT', `${WSP()}/onlineEndpoints/strict-ep`, endpointBody({ traffic: { blue: 70, slow: 30 } }))).status).toBe(200);
    expect(await stateOf(`${WSP()}/onlineEndpoints/strict-ep`)).toBe('Succeeded');
    const rolls = [0.1, 0.69, 0.7, 0.99];
    fake.scoring.random = () => rolls.shift() ?? 0;
    const served = [];
    for (let i = 0; i < 4; i++) served.push((await post({ authorization: `Bearer ${key}` })).headers['azureml-model-deployment']);
    expect(served).toEqual(['blue', 'blue', 'slow', 'slow']);
  });

  it('AMLToken endpoints take the token from getToken, not keys', async () => {
    expect((await arm('PUT', `${WSP()}/onlineEndpoints/token-ep`, { location: 'eastus', properties: { authMode: 'AMLToken' } })).status).toBe(201);
    expect(await stateOf(`${WSP()}/onlineEndpoints/token-ep`)).toBe('Succeeded');
    expect((await arm('POST', `${WSP()}/onlineEndpoints/token-ep/listKeys`)).status).toBe(400);
    const token = (await arm('POST', `${WSP()}/onlineEndpoints/token-ep/token`)).json() as { accessToken: string; tokenType: string };
    expect(token.tokenType).toBe('Bearer');
    const uri = `${fake.url}/inference/eastus/token-ep/score`;
    const call = (auth: string) => httpsRequest(uri, { method: 'POST', ca: fake.caPem, headers: { authorization: auth }, body: '{}' });
    expect((await call(`Bearer ${key}`)).status).toBe(401);
    expect((await call(`Bearer ${token.accessToken}`)).status).toBe(404); // authorized; no deployment yet
  });
});

describe('HTTP control API', () => {
  it('seeds workspaces and reports inventory', async () => {
    const seeded = await httpsRequest(`${fake.url}/__fake/workspaces`, {
      method: 'POST',
      ca: fake.caPem,
      body: JSON.stringify({ resourceGroup: 'rg9', workspace: 'ws9', location: 'westeurope' }),
    });
    expect(seeded.status).toBe(201);
    const ws = await arm('GET', `/subscriptions/${sub}/resourceGroups/rg9/providers/Microsoft.MachineLearningServices/workspaces/ws9`);
    expect((ws.json() as { location: string }).location).toBe('westeurope');
    const inv = (await httpsRequest(`${fake.url}/__fake/inventory`, { ca: fake.caPem })).json() as { endpoints: Array<{ name: string }> };
    expect(inv.endpoints.map((e) => e.name).sort()).toEqual(['strict-ep', 'token-ep']);
  });
});
