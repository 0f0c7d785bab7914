import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import type { OnlineDeployment, OnlineEndpoint } from '@azure/arm-machinelearning';
import { ClientSecretCredential } from '@azure/identity';
import type { TokenCredential } from '@azure/identity';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startAzurite } from '../../emulators/azure/azurite.js';
import type { AzuriteBlob } from '../../emulators/azure/azurite.js';
import { startFakeAzureMl } from '../../emulators/azure/fake-arm.js';
import type { FakeAzureMl } from '../../emulators/azure/fake-arm.js';
import { httpsRequest } from '../../emulators/azure/https-request.js';

const RG = 'rg1';
const WS = 'ws1';
const EP = 'md-churn-prod';
const POLL = { updateIntervalInMs: 25 };

let fake: FakeAzureMl;
let azurite: AzuriteBlob;
let ml: AzureMachineLearningWorkspaces;
let modelArmId: string;
let codeArmId: string;
let uploadedBlobs: string[] = [];
let containerName: string;

const credential: TokenCredential = {
  getToken: async () => ({ token: 'fake-arm-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
};

const CURATED_ENV = 'azureml://registries/azureml/environments/minimal-ubuntu22.04-py311-cpu-inference/versions/7';

function deploymentBody(model: string, overrides: Partial<OnlineDeployment['properties']> = {}): OnlineDeployment {
  return {
    location: 'eastus',
    sku: { name: 'Default', capacity: 1 },
    tags: { 'modeldeploy:deployment': 'churn' },
    properties: {
      endpointComputeType: 'Managed',
      model,
      environmentId: CURATED_ENV,
      codeConfiguration: { codeId: codeArmId, scoringScript: 'score.py' },
      instanceType: 'Standard_DS3_v2',
      requestSettings: { requestTimeout: 'PT10S', maxConcurrentRequestsPerInstance: 2 },
      livenessProbe: { initialDelay: 'PT30S', period: 'PT10S', timeout: 'PT2S', failureThreshold: 30, successThreshold: 1 },
      readinessProbe: { initialDelay: 'PT30S', period: 'PT10S', timeout: 'PT2S', failureThreshold: 30, successThreshold: 1 },
      ...overrides,
    } as OnlineDeployment['properties'],
  };
}

async function setTraffic(traffic: Record<string, number>): Promise<OnlineEndpoint> {
  const current = await ml.onlineEndpoints.get(RG, WS, EP);
  return ml.onlineEndpoints.beginCreateOrUpdateAndWait(
    RG,
    WS,
    EP,
    { ...current, properties: { ...current.properties, traffic } },
    POLL,
  );
}

async function score(key: string | undefined, deployment?: string) {
  const ep = await ml.onlineEndpoints.get(RG, WS, EP);
  return httpsRequest(ep.properties.scoringUri ?? '', {
    method: 'POST',
    ca: fake.caPem,
    headers: {
      'content-type': 'application/json',
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(deployment ? { 'azureml-model-deployment': deployment } : {}),
    },
    body: JSON.stringify({ data: [[1, 2, 3]] }),
  });
}

beforeAll(async () => {
  azurite = await startAzurite();
  fake = await startFakeAzureMl({
    workspaces: [
      { resourceGroup: RG, workspace: WS, location: 'eastus' },
      { resourceGroup: 'rg-other-team', workspace: 'ws-other', location: 'eastus' },
    ],
    azurite: { blobEndpoint: azurite.blobEndpoint, accountName: azurite.accountName, accountKey: azurite.accountKey },
  });
  // The stock client and its stock pipeline (bearer policy included); only the endpoint and the CA differ from production.
  ml = new AzureMachineLearningWorkspaces(credential, fake.subscriptionId, {
    endpoint: fake.url,
    tlsOptions: { ca: fake.caPem },
  });
});

afterAll(async () => {
  await fake?.stop();
  await azurite?.stop();
});

describe('fake Azure ML control plane with the real @azure/arm-machinelearning client', () => {
  it('serves the workspace and its default datastore pointing at Azurite; blobs upload there', async () => {
    const ws = await ml.workspaces.get(RG, WS);
    expect(ws.location).toBe('eastus');
    expect(ws.storageAccount).toMatch(/\/storageAccounts\/devstoreaccount1$/);

    const [ds] = await toArray(ml.datastores.list(RG, WS, { isDefault: true }));
    expect(ds?.name).toBe('workspaceblobstore');
    const props = ds?.properties as { datastoreType: string; accountName: string; containerName: string; isDefault: boolean };
    expect(props.datastoreType).toBe('AzureBlob');
    expect(props.isDefault).toBe(true);
    containerName = props.containerName;

    const secrets = (await ml.datastores.listSecrets(RG, WS, 'workspaceblobstore')) as { secretsType: string; key?: string };
    expect(secrets.secretsType).toBe('AccountKey');

    const blobs = new BlobServiceClient(azurite.blobEndpoint, new StorageSharedKeyCredential(props.accountName, secrets.key ?? ''));
    const container = blobs.getContainerClient(containerName);
    uploadedBlobs = ['LocalUpload/abc123/model/model.onnx', 'LocalUpload/abc123/src/score.py'];
    for (const name of uploadedBlobs) await container.getBlockBlobClient(name).uploadData(Buffer.from(`content of ${name}`));
    const listed = [];
    for await (const b of container.listBlobsFlat({ prefix: 'LocalUpload/abc123/' })) listed.push(b.name);
    expect(listed.sort()).toEqual([...uploadedBlobs].sort());
  });

  it('creates an endpoint: 201 Creating, in progress while held, then Succeeded', async () => {
    fake.hold(['endpoint']);
    const poller = await ml.onlineEndpoints.beginCreateOrUpdate(
      RG,
      WS,
      EP,
      {
        location: 'eastus',
        identity: { type: 'SystemAssigned' },
        tags: { 'modeldeploy:deployment': 'churn' },
        properties: { authMode: 'Key', description: 'churn model' },
      },
      POLL,
    );
    expect((await ml.onlineEndpoints.get(RG, WS, EP)).properties.provisioningState).toBe('Creating');
    await poller.poll();
    expect(poller.isDone()).toBe(false);
    fake.release();
    const ep = await poller.pollUntilDone();
    expect(ep.properties.provisioningState).toBe('Succeeded');
    expect(ep.properties.scoringUri).toBe(`${fake.url}/inference/eastus/${EP}/score`);
    const put = fake.requests.find((r) => r.method === 'PUT' && r.path.endsWith(`/onlineEndpoints/${EP}`));
    expect(put?.status).toBe(201);
    expect(put?.query['api-version']).toBe('2022-10-01');
    expect(fake.requests.some((r) => r.path.includes('/mfeOperationsStatus/'))).toBe(true);
  });

  it('registers code and model versions pointing at the uploaded blobs', async () => {
    const base = `azureml://subscriptions/${fake.subscriptionId}/resourcegroups/${RG}/workspaces/${WS}/datastores/workspaceblobstore/paths`;
    const code = await ml.codeVersions.createOrUpdate(RG, WS, 'churn-code', '1', {
      properties: { codeUri: `${base}/LocalUpload/abc123/src` },
    });
    codeArmId = code.id ?? '';
    const mv = await ml.modelVersions.createOrUpdate(RG, WS, 'churn', '1', {
      properties: { modelUri: `${base}/LocalUpload/abc123/model`, modelType: 'custom_model', tags: { stage: 'prod' } },
    });
    modelArmId = mv.id ?? '';
    expect(modelArmId).toBe(
      `/subscriptions/${fake.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.MachineLearningServices/workspaces/${WS}/models/churn/versions/1`,
    );
    expect(mv.properties.tags).toEqual({ stage: 'prod' });
    expect((await ml.modelContainers.get(RG, WS, 'churn')).properties.latestVersion).toBe('1');
    const versions = await toArray(ml.modelVersions.list(RG, WS, 'churn'));
    expect(versions.map((v) => v.name)).toEqual(['1']);
    // Asset versions are immutable in their path.
    await expect(
      ml.modelVersions.createOrUpdate(RG, WS, 'churn', '1', { properties: { modelUri: `${base}/elsewhere` } }),
    ).rejects.toMatchObject({ statusCode: 400, code: 'UserError', message: 'Asset paths cannot be updated.' });
  });

  it('creates a deployment, routes 100 % to it, and scores through the scoring URI with the key', async () => {
    const dep = await ml.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, EP, 'blue', deploymentBody(modelArmId), POLL);
    expect(dep.properties.provisioningState).toBe('Succeeded');
    expect(dep.sku?.capacity).toBe(1);

    const ep = await setTraffic({ blue: 100 });
    expect(ep.properties.traffic).toEqual({ blue: 100 });

    const keys = await ml.onlineEndpoints.listKeys(RG, WS, EP);
    expect(keys.primaryKey).toBeTruthy();
    fake.setScoreHandler(EP, 'blue', (req) => ({ body: { predictions: [0.9], got: req.json() } }));
    const res = await score(keys.primaryKey);
    expect(res.status).toBe(200);
    expect(res.headers['azureml-model-deployment']).toBe('blue');
    expect(res.json()).toEqual({ predictions: [0.9], got: { data: [[1, 2, 3]] } });

    expect((await score(undefined)).status).toBe(401);
    expect((await score('wrong-key')).status).toBe(401);
    expect((await score(keys.secondaryKey)).status).toBe(200);
    const recorded = fake.scoringCalls.at(-1);
    expect(recorded?.deployment).toBe('blue');
    expect(JSON.stringify(fake.scoringCalls)).not.toContain(keys.primaryKey);
    expect(JSON.stringify(fake.scoringCalls)).not.toContain(keys.secondaryKey);
  });

  it('blue/green: a second deployment at 0 % answers only when pinned, then takes all traffic', async () => {
    const { primaryKey } = await ml.onlineEndpoints.listKeys(RG, WS, EP);
    await ml.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, EP, 'green', deploymentBody(modelArmId), POLL);
    fake.setScoreHandler(EP, 'green', () => ({ body: { predictions: [0.1], version: 'green' } }));
    expect((await ml.onlineEndpoints.get(RG, WS, EP)).properties.traffic).toEqual({ blue: 100 });

    const pinned = await score(primaryKey, 'green');
    expect(pinned.status).toBe(200);
    expect(pinned.headers['azureml-model-deployment']).toBe('green');
    expect((await score(primaryKey)).headers['azureml-model-deployment']).toBe('blue');

    await setTraffic({ blue: 0, green: 100 });
    for (let i = 0; i < 3; i++) expect((await score(primaryKey)).headers['azureml-model-deployment']).toBe('green');
    expect(fake.scoringCalls.find((c) => c.pinnedDeployment === 'green')?.deployment).toBe('green');
  });

  it('rejects traffic to a missing deployment and traffic that does not sum to 0 or 100', async () => {
    await expect(setTraffic({ green: 50, purple: 50 })).rejects.toMatchObject({
      statusCode: 400,
      code: 'UserError',
      message: expect.stringContaining("deployment 'purple'"),
    });
    await expect(setTraffic({ blue: 30, green: 60 })).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringContaining('Total traffic has to either be 0 or sum up to 100'),
    });
    expect((await ml.onlineEndpoints.get(RG, WS, EP)).properties.traffic).toEqual({ blue: 0, green: 100 });
  });

  it('rejects a deployment on a missing endpoint and deleting a deployment that still has traffic', async () => {
    await expect(
      ml.onlineDeployments.beginCreateOrUpdate(RG, WS, 'no-such-endpoint', 'blue', deploymentBody(modelArmId), POLL),
    ).rejects.toMatchObject({ statusCode: 404, code: 'NotFound' });
    await expect(ml.onlineDeployments.beginDelete(RG, WS, EP, 'green', POLL)).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringContaining('Set its traffic to 0 before deleting it'),
    });
    await ml.onlineDeployments.beginDeleteAndWait(RG, WS, EP, 'blue', POLL);
    const names = (await toArray(ml.onlineDeployments.list(RG, WS, EP))).map((d) => d.name);
    expect(names).toEqual(['green']);
    expect((await ml.onlineEndpoints.get(RG, WS, EP)).properties.traffic).toEqual({ green: 100 });
  });

  it('an injected OutOfQuota fails the deployment LRO with that code; the deployment stays Failed', async () => {
    fake.failNext('deployment', {
      code: 'OutOfQuota',
      message: 'Not enough quota available for Standard_DS3_v2 in SubscriptionId 0000. Current usage/limit: 4/4.',
    });
    // begin… polls once before it returns: the operation ends on that first look.
    await expect(ml.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, EP, 'red', deploymentBody(modelArmId), POLL)).rejects.toThrow(/OutOfQuota/);
    expect((await ml.onlineDeployments.get(RG, WS, EP, 'red')).properties.provisioningState).toBe('Failed');
    const logs = await ml.onlineDeployments.getLogs(RG, WS, EP, 'red', { containerType: 'StorageInitializer', tail: 10 });
    expect(logs.content).toContain('Download failed');
    await ml.onlineDeployments.beginDeleteAndWait(RG, WS, EP, 'red', POLL);
  });

  it('a model whose blobs are not in the datastore fails the deployment LRO with BadArgument', async () => {
    const uri = `azureml://subscriptions/${fake.subscriptionId}/resourcegroups/${RG}/workspaces/${WS}/datastores/workspaceblobstore/paths/LocalUpload/never-uploaded/model`;
    const ghost = await ml.modelVersions.createOrUpdate(RG, WS, 'ghost', '1', { properties: { modelUri: uri } });
    await expect(ml.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, EP, 'ghost', deploymentBody(ghost.id ?? ''), POLL)).rejects.toThrow(
      /BadArgument.*Unable to download user model/,
    );
    await ml.onlineDeployments.beginDeleteAndWait(RG, WS, EP, 'ghost', POLL);
    await ml.modelContainers.delete(RG, WS, 'ghost');
  });

  it('the SDK retries a 429 with Retry-After and succeeds', async () => {
    fake.throttle(1, 1);
    const before = fake.requests.length;
    const started = Date.now();
    const ep = await ml.onlineEndpoints.get(RG, WS, EP);
    expect(ep.name).toBe(EP);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(fake.requests.slice(before).map((r) => r.status)).toEqual([429, 200]);
  });

  it('scales a deployment with PATCH and regenerates a key', async () => {
    const scaled = await ml.onlineDeployments.beginUpdateAndWait(RG, WS, EP, 'green', { sku: { capacity: 3 } }, POLL);
    expect(scaled.sku?.capacity).toBe(3);
    const { primaryKey: old } = await ml.onlineEndpoints.listKeys(RG, WS, EP);
    await ml.onlineEndpoints.beginRegenerateKeysAndWait(RG, WS, EP, { keyType: 'Primary' }, POLL);
    const { primaryKey } = await ml.onlineEndpoints.listKeys(RG, WS, EP);
    expect(primaryKey).not.toBe(old);
    expect((await score(old)).status).toBe(401);
    expect((await score(primaryKey)).status).toBe(200);
  });

  it('the stock client in a child process needs only `endpoint` and NODE_EXTRA_CA_CERTS; global fetch scores', async () => {
    const probe = fileURLToPath(new URL('../../emulators/azure/stock-client-probe.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', probe], {
      env: {
        ...process.env,
        NODE_EXTRA_CA_CERTS: fake.caCertPath,
        PROBE_ARM: fake.url,
        PROBE_SUB: fake.subscriptionId,
        PROBE_RG: RG,
        PROBE_WS: WS,
        PROBE_EP: EP,
      },
    });
    expect(JSON.parse(stdout)).toEqual({
      provisioningState: 'Succeeded',
      status: 200,
      deployment: 'green',
      body: { predictions: [0.1], version: 'green' },
    });
  });

  it('@azure/identity ClientSecretCredential gets its token from the fake Entra endpoint', async () => {
    fake.registerServicePrincipal('modeldeploy-ci', 'ci-secret');
    const viaIdentity = new AzureMachineLearningWorkspaces(
      new ClientSecretCredential(fake.tenantId, 'modeldeploy-ci', 'ci-secret', {
        authorityHost: fake.url,
        // Instance discovery would ask login.microsoftonline.com, which is unreachable offline.
        disableInstanceDiscovery: true,
        tlsOptions: { ca: fake.caPem },
      }),
      fake.subscriptionId,
      { endpoint: fake.url, tlsOptions: { ca: fake.caPem }, credentialScopes: ['https://management.azure.com/.default'] },
    );
    expect((await viaIdentity.onlineEndpoints.get(RG, WS, EP)).name).toBe(EP);
    const wrong = new ClientSecretCredential(fake.tenantId, 'modeldeploy-ci', 'nope', {
      authorityHost: fake.url,
      disableInstanceDiscovery: true,
      tlsOptions: { ca: fake.caPem },
    });
    await expect(wrong.getToken('https://management.azure.com/.default')).rejects.toThrow(/AADSTS7000215/);
  });

  it('endpoint names are unique per region across workspaces', async () => {
    await expect(
      ml.onlineEndpoints.beginCreateOrUpdate('rg-other-team', 'ws-other', EP, { location: 'eastus', properties: { authMode: 'Key' } }),
    ).rejects.toMatchObject({
      statusCode: 400,
      message: 'There is already an endpoint with this name, Endpoint name needs to be unique within a region. Try some other name.',
    });
  });

  it('deleting the endpoint removes its deployments; nothing is left at the end', async () => {
    await ml.onlineEndpoints.beginDeleteAndWait(RG, WS, EP, POLL);
    await expect(ml.onlineEndpoints.get(RG, WS, EP)).rejects.toMatchObject({ statusCode: 404 });
    await expect(ml.onlineDeployments.get(RG, WS, EP, 'green')).rejects.toMatchObject({ statusCode: 404 });
    expect(await toArray(ml.onlineEndpoints.list(RG, WS))).toEqual([]);

    await ml.modelVersions.delete(RG, WS, 'churn', '1');
    await ml.modelContainers.delete(RG, WS, 'churn');
    await ml.codeVersions.delete(RG, WS, 'churn-code', '1');
    await ml.codeContainers.delete(RG, WS, 'churn-code');
    expect(fake.inventory()).toEqual({ endpoints: [], assets: [] });

    const blobs = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(containerName);
    for (const name of uploadedBlobs) await blobs.deleteBlob(name);
    const left = [];
    for await (const b of blobs.listBlobsFlat()) left.push(b.name);
    expect(left).toEqual([]);
  });
});

async function toArray<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
