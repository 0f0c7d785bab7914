/**
 * provider azure, in-process through the core, against the strict fake ARM (HTTPS, its CA
 * trusted through NODE_EXTRA_CA_CERTS in the connect env) and Azurite: what only this provider
 * shows. The lifecycle guarantees (create, update, rollback, aborts, ownership, sharing, teardown)
 * are the contract suite's (test/contract); here: what Azure ML is sent, its failures and hints,
 * the datastore's block uploads, and the settings read at connect.
 */
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadDeployment } from '../../src/config/load.js';
import { systemClock } from '../../src/core/clock.js';
import { providerContext, type CoreContext } from '../../src/core/context.js';
import { ModeldeployError, ProviderError, UsageError } from '../../src/core/errors.js';
import { RecordingProgress, type ProgressEvent } from '../../src/core/events.js';
import { up } from '../../src/core/lifecycle.js';
import type { Provider } from '../../src/core/provider.js';
import type { DeploymentSpec } from '../../src/core/spec.js';
import { targetOf } from '../../src/core/target.js';
import { down } from '../../src/core/teardown.js';
import { registry } from '../../providers/index.js';
import { startAzurite, type AzuriteBlob } from '../emulators/azure/azurite.js';
import { startFakeAzureMl, type FakeAzureMl } from '../emulators/azure/fake-arm.js';
import { ROOT } from '../support/cli.js';

const ENDPOINT = 'iris-torch-default';
let azurite: AzuriteBlob;
let fake: FakeAzureMl;
let work: string;

beforeAll(async () => {
  azurite = await startAzurite();
  fake = await startFakeAzureMl({ azurite: { blobEndpoint: azurite.blobEndpoint, accountName: azurite.accountName, accountKey: azurite.accountKey } });
}, 60_000);

afterAll(async () => {
  await fake?.stop();
  await azurite?.stop();
});

beforeEach(async () => {
  fake.reset();
  // Every deployment answers the example's smoke request as its score.py would.
  fake.scoring.setFallbackHandler(() => ({ status: 200, body: { predictions: [0] } }));
  work = await mkdtemp(path.join(tmpdir(), 'md-azure-int-'));
  await cp(path.join(ROOT, 'examples', 'azure-pytorch'), work, { recursive: true });
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
  expect(fake.inventory()).toEqual({ endpoints: [], assets: [] });
  expect(await blobs()).toEqual([]);
});

function env(): NodeJS.ProcessEnv {
  return {
    MODELDEPLOY_AZURE_ACCESS_TOKEN: 'integration-token',
    MODELDEPLOY_AZURE_ARM_ENDPOINT: fake.url,
    MODELDEPLOY_AZURE_BLOB_ENDPOINT: azurite.blobEndpoint,
    MODELDEPLOY_AZURE_POLL_INTERVAL: '20ms',
    NODE_EXTRA_CA_CERTS: fake.caCertPath,
    AZURE_RESOURCE_GROUP: 'rg1',
    AZUREML_WORKSPACE: 'ws1',
  };
}

async function spec(file = path.join(work, 'deploy.yaml')): Promise<DeploymentSpec> {
  return (await loadDeployment(file, { env: env(), registry })).spec;
}

function core(onEvent: (event: ProgressEvent) => void = () => undefined): CoreContext & { progress: RecordingProgress } {
  return { registry, progress: new RecordingProgress({ emit: onEvent }), clock: systemClock, signal: new AbortController().signal, env: env(), cacheDir: path.join(work, '.modeldeploy') };
}

async function connect(extra: NodeJS.ProcessEnv = {}, withWorkspace = true): Promise<Provider> {
  const azure = await registry.module('azure');
  const settings = withWorkspace ? { subscriptionId: fake.subscriptionId, resourceGroup: 'rg1', workspace: 'ws1' } : undefined;
  return azure.connect({ settings, region: 'eastus', env: { ...env(), ...extra } });
}

async function blobs(): Promise<string[]> {
  const service = new BlobServiceClient(azurite.blobEndpoint, new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey));
  const names: string[] = [];
  for await (const container of service.listContainers()) {
    for await (const b of service.getContainerClient(container.name).listBlobsFlat({ prefix: 'modeldeploy/' })) names.push(b.name);
  }
  return names;
}

const put = (suffix: RegExp) => fake.requests.find((r) => r.method === 'PUT' && suffix.test(r.path))?.body;

describe('azure provider against the fake ARM and Azurite', () => {
  it('sends Azure ML what the model needs: score.py as code, the framework pinned in a conda file, probes from timeouts.startup', async () => {
    const s = await spec();
    const result = await up(s, { smoke: true, keepOnFailure: false }, core());
    const { revision } = result;
    const prefix = `modeldeploy/iris-torch/${result.artifact.sha256}/`;
    expect(result.artifact.uri).toBe(`azureml://subscriptions/${fake.subscriptionId}/resourcegroups/rg1/workspaces/ws1/datastores/workspaceblobstore/paths/${prefix}`);

    expect(put(/\/onlineEndpoints\/[^/]+$/)).toMatchObject({
      location: 'eastus',
      identity: { type: 'SystemAssigned' },
      properties: { authMode: 'Key', traffic: {} },
      tags: { 'modeldeploy:deployment': 'iris-torch', 'modeldeploy:stage': 'default' },
    });
    expect(put(/\/models\/[^/]+\/versions\/[^/]+$/)).toMatchObject({ properties: { modelUri: result.artifact.uri, modelType: 'custom_model', tags: { 'modeldeploy:revision': revision } } });
    const container = fake.state.workspaces.get('rg1/ws1')?.datastores.get('workspaceblobstore')?.containerName;
    expect(put(/\/codes\/[^/]+\/versions\/[^/]+$/)).toMatchObject({ properties: { codeUri: `https://devstoreaccount1.blob.core.windows.net/${container}/${prefix}` } });
    expect(put(/\/environments\/[^/]+\/versions\/[^/]+$/)).toMatchObject({
      properties: { image: 'mcr.microsoft.com/azureml/curated/minimal-py311-inference:latest', osType: 'Linux', condaFile: expect.stringContaining('      - torch==2.2.*\n') },
    });
    expect(put(/\/deployments\/[^/]+$/)).toMatchObject({
      sku: { name: 'Default', capacity: 1 },
      tags: { 'modeldeploy:revision': revision },
      properties: {
        endpointComputeType: 'Managed',
        instanceType: 'Standard_DS3_v2',
        model: expect.stringMatching(new RegExp(`/workspaces/ws1/models/${ENDPOINT}/versions/${revision}$`)),
        environmentId: expect.stringMatching(new RegExp(`/workspaces/ws1/environments/${ENDPOINT}/versions/${revision}$`)),
        codeConfiguration: { codeId: expect.stringMatching(new RegExp(`/codes/${ENDPOINT}/versions/${revision}$`)), scoringScript: 'score.py' },
        // timeouts.startup 10m: liveness waits it out, readiness keeps asking meanwhile.
        livenessProbe: { initialDelay: 'PT600S', period: 'PT10S', failureThreshold: 3 },
        readinessProbe: { initialDelay: 'PT10S', failureThreshold: 59 },
        requestSettings: { requestTimeout: 'PT60S' },
      },
    });
    // The smoke test named the new deployment; one traffic PUT followed it.
    expect(fake.scoringCalls.map((c) => c.pinnedDeployment)).toEqual([`r-${revision}`]);
    await down(s, { keepArtifacts: false }, core());
  });

  it('an LLM from the Hub: nothing uploaded, no model asset, TGI as a custom container with its routes and MODEL_ID', async () => {
    const s = await spec(path.join(ROOT, 'examples', 'azure-llm', 'deploy.yaml'));
    const result = await up(s, { smoke: true, keepOnFailure: false }, core());
    expect(result).toMatchObject({ action: 'created', artifact: { uploaded: false } });
    expect(await blobs()).toEqual([]);
    expect(fake.requests.filter((r) => /\/(models|codes)\//.test(r.path) && r.method === 'PUT')).toEqual([]);
    expect(put(/\/environments\/[^/]+\/versions\/[^/]+$/)).toMatchObject({
      properties: {
        image: 'ghcr.io/huggingface/text-generation-inference:3.3.5',
        inferenceConfig: { livenessRoute: { path: '/health', port: 80 }, readinessRoute: { path: '/health', port: 80 }, scoringRoute: { path: '/generate', port: 80 } },
      },
    });
    expect(put(/\/deployments\/[^/]+$/)).toMatchObject({
      properties: { instanceType: 'Standard_NC24ads_A100_v4', environmentVariables: { MODEL_ID: 'mistralai/Mistral-7B-Instruct-v0.3', MAX_TOTAL_TOKENS: '8192' }, requestSettings: { requestTimeout: 'PT180S' } },
    });
    expect((put(/\/deployments\/[^/]+$/) as { properties: Record<string, unknown> }).properties.model).toBeUndefined();
    await down(s, { keepArtifacts: false }, core());
  });

  it('OutOfQuota on the deployment: thrown with which quota (VM family, region, the 20% reserve) and how to raise it; the run is rolled back', async () => {
    fake.failNext('deployment', { code: 'OutOfQuota', message: 'Not enough quota available for Standard_DS3_v2 in SubscriptionId 0000. Current usage/limit: 4/4. Additional needed: 4' });
    const c = core();
    const error = await up(await spec(), { smoke: true, keepOnFailure: false }, c).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: 'OutOfQuota', category: 'quota' });
    expect((error as ProviderError).hint).toMatch(/vCPU quota for the standardDSv2Family VM family in eastus\. 1 × Standard_DS3_v2 .*20%.*Quota/);
    expect(c.progress.events.find((e) => e.code === 'RollbackDone')?.message).toBe('rollback complete: nothing of this run is left');
  });

  it('a deployment that ends Failed: its error and the last lines of its container log, and the get-logs command', async () => {
    fake.hold(['deployment']);
    fake.failNext('deployment', { code: 'ResourceNotReady', message: 'User container has crashed or terminated.' });
    // While the deployment is still Creating, its container prints why; then Azure ML gives up on it.
    const c = core((event) => {
      if (event.code !== 'StateChanged' || event.data?.state !== 'pending') return;
      const deployment = fake.state.findEndpoint(ENDPOINT)?.deployments.values().next().value;
      if (deployment) fake.setLogs(ENDPOINT, deployment.name, { InferenceServer: 'Initializing scoring script\nModuleNotFoundError: No module named torch' });
      fake.release();
    });
    const error = await up(await spec(), { smoke: true, keepOnFailure: true }, c).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EndpointNotReady', kind: 'provider' });
    const { message, hint } = error as ModeldeployError;
    expect(message).toMatch(/ResourceNotReady.*User container has crashed or terminated\..*ModuleNotFoundError: No module named torch/);
    expect(hint).toMatch(new RegExp(`az ml online-deployment get-logs --endpoint-name ${ENDPOINT} --name r-[0-9a-f]{8} --resource-group rg1 --workspace-name ws1`));

    // Another process (no operation to follow) still sees the state and where the logs are.
    const s = await spec();
    const t = targetOf(s);
    const revision = (message.match(/r-([0-9a-f]{8})/) ?? [])[1] ?? '';
    const later = await (await connect()).status(t, revision, providerContext(c));
    expect(later).toMatchObject({ state: 'failed', reason: expect.stringContaining(`r-${revision} is Failed`), logsHint: expect.stringContaining('get-logs') });
    await down(s, { keepArtifacts: false }, core());
  });

  it('an endpoint name another customer holds in the region: a conflict that says names are region-unique', async () => {
    fake.reserveEndpointName('eastus', ENDPOINT);
    const error = await up(await spec(), { smoke: false, keepOnFailure: false }, core()).catch((e: unknown) => e);
    expect(error).toMatchObject({ category: 'conflict', hint: expect.stringContaining('unique per Azure region') });
  });

  it('throttled past the SDK\'s own retries: a retryable throttled error carrying Retry-After', async () => {
    const provider = await connect();
    fake.throttle(4, 0); // the first try and the SDK's three retries
    const error = await provider.list(providerContext(core())).catch((e: unknown) => e);
    expect(error).toMatchObject({ category: 'throttled', retryable: true, retryAfterSeconds: 0, code: 'SubscriptionRequestsThrottled' });
    expect(fake.requests.map((r) => r.status)).toEqual([429, 429, 429, 429]);
  });

  it('the datastore takes a large file in 8 MiB blocks with its sha256 as metadata, and lists it back with the hash', async () => {
    const provider = await connect();
    const file = path.join(work, 'big.bin');
    await writeFile(file, Buffer.alloc(17 * 1024 * 1024 + 3, 7));
    const key = `modeldeploy/iris-torch/${'ab'.repeat(32)}/big.bin`;
    const ctx = { signal: new AbortController().signal };
    let progressed = 0;
    await provider.artifacts.upload(key, { path: file, bytes: 17 * 1024 * 1024 + 3, sha256: 'cd'.repeat(32) }, { ...ctx, onProgress: (n) => (progressed = n) });
    expect(progressed).toBe(17 * 1024 * 1024 + 3);
    expect(await provider.artifacts.list('modeldeploy/iris-torch/', ctx)).toEqual([{ key, bytes: 17 * 1024 * 1024 + 3, sha256: 'cd'.repeat(32) }]);
    const container = fake.state.workspaces.get('rg1/ws1')?.datastores.get('workspaceblobstore')?.containerName ?? '';
    const blob = new BlobServiceClient(azurite.blobEndpoint, new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey)).getContainerClient(container).getBlockBlobClient(key);
    expect((await blob.getBlockList('committed')).committedBlocks?.map((b) => b.size)).toEqual([8 * 1024 * 1024, 8 * 1024 * 1024, 1024 * 1024 + 3]);
    await provider.artifacts.delete([key, key], ctx); // one already gone is success
  });

  it('settings are read once, at connect: the poll interval, a bad one refused, no workspace for list', async () => {
    expect((await connect({ MODELDEPLOY_AZURE_POLL_INTERVAL: '250ms' })).polling).toEqual({ initialMs: 250, maxMs: 3750 });
    expect((await connect({ MODELDEPLOY_AZURE_POLL_INTERVAL: undefined })).polling).toEqual({ initialMs: 2000, maxMs: 30_000 });
    await expect(connect({ MODELDEPLOY_AZURE_POLL_INTERVAL: 'soon' })).rejects.toMatchObject({ code: 'InvalidSetting' });
    const without = await connect({}, false);
    const error = await without.list(providerContext(core())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(error).toMatchObject({ code: 'AzureBlockMissing' });
    expect(fake.requests).toEqual([]);
  });
});
