/**
 * provider: azure driven in-process through the contract (and through the core where the
 * lifecycle is the subject), with the real @azure/arm-machinelearning and @azure/storage-blob
 * talking HTTPS to the strict fake ARM and HTTP to Azurite. Settings reach the provider only
 * through its environment, as they would from a user's shell (NODE_EXTRA_CA_CERTS included).
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HashCache, hashArtifact } from '../../src/artifacts/hash.js';
import { loadDeployment } from '../../src/config/load.js';
import { systemClock } from '../../src/core/clock.js';
import type { CoreContext } from '../../src/core/context.js';
import { InterruptedError, ProviderError } from '../../src/core/errors.js';
import { RecordingProgress } from '../../src/core/events.js';
import { up } from '../../src/core/lifecycle.js';
import { down } from '../../src/core/teardown.js';
import type { Provider, ProviderContext, Resource } from '../../src/core/provider.js';
import { revisionId } from '../../src/core/revision.js';
import type { DeploymentSpec } from '../../src/core/spec.js';
import { createProvider } from '../../providers/azure/index.js';
import { startAzurite, type AzuriteBlob } from '../emulators/azure/azurite.js';
import { startFakeAzureMl, type FakeAzureMl } from '../emulators/azure/fake-arm.js';
import { ROOT } from '../support/cli.js';

const ENDPOINT = 'iris-torch-default';
let azurite: AzuriteBlob;
let fake: FakeAzureMl;
let work: string;

beforeAll(async () => {
  azurite = await startAzurite();
  fake = await startFakeAzureMl({
    delayMs: 100,
    azurite: { blobEndpoint: azurite.blobEndpoint, accountName: azurite.accountName, accountKey: azurite.accountKey },
  });
}, 60_000);

afterAll(async () => {
  await fake?.stop();
  await azurite?.stop();
});

beforeEach(async () => {
  fake.clearRecords();
  fake.setDelay(100);
  fake.state.faults.length = 0;
  work = await mkdtemp(path.join(tmpdir(), 'md-azure-int-'));
  await cp(path.join(ROOT, 'examples', 'azure-pytorch'), work, { recursive: true });
});

afterEach(async () => rm(work, { recursive: true, force: true }));

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

async function loadSpec(): Promise<DeploymentSpec> {
  const provider = createProvider();
  return (await loadDeployment(path.join(work, 'deploy.yaml'), { env: env(), rules: async () => provider.rules })).spec;
}

async function revisionOf(spec: DeploymentSpec): Promise<string> {
  return revisionId(spec, await hashArtifact(spec.model.path ?? '', await HashCache.open(undefined)));
}

/** Answers like model/score.py would: argmax of weights · x + bias. */
async function serveLinear(revision: string): Promise<void> {
  const w = JSON.parse(await readFile(path.join(work, 'model', 'weights.json'), 'utf8')) as { classes: number[]; weight: number[][]; bias: number[] };
  fake.setScoreHandler(ENDPOINT, `r-${revision}`, (req) => {
    const { instances } = req.json() as { instances: number[][] };
    const predictions = instances.map((x) => {
      const scores = w.weight.map((row, i) => row.reduce((s, v, j) => s + v * (x[j] ?? 0), w.bias[i] ?? 0));
      return w.classes[scores.indexOf(Math.max(...scores))];
    });
    return { status: 200, body: { predictions } };
  });
}

function coreContext(provider: Provider, signal = new AbortController().signal): { core: CoreContext; progress: RecordingProgress } {
  const progress = new RecordingProgress();
  return { core: { registry: { rules: async () => provider.rules, provider: async () => provider }, progress, clock: systemClock, signal, env: env() }, progress };
}

function providerContext(journal: Resource[] = [], signal = new AbortController().signal): ProviderContext {
  return { signal, clock: systemClock, progress: new RecordingProgress(), env: env(), track: (r) => journal.push(r) };
}

async function blobsUnder(prefix: string): Promise<string[]> {
  const service = new BlobServiceClient(azurite.blobEndpoint, new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey));
  const names: string[] = [];
  for await (const container of service.listContainers()) {
    for await (const b of service.getContainerClient(container.name).listBlobsFlat({ prefix })) names.push(b.name);
  }
  return names;
}

async function nothingLeft(): Promise<void> {
  expect(fake.inventory()).toEqual({ endpoints: [], assets: [] });
  expect(await blobsUnder('modeldeploy/')).toEqual([]);
}

const puts = (suffix: RegExp) => fake.requests.filter((r) => r.method === 'PUT' && suffix.test(r.path));

describe('azure provider against the fake ARM and Azurite', () => {
  it('walks the contract: plan → upload → deploy → status → invoke the revision → promote → unchanged → remove everything', async () => {
    const provider = createProvider();
    const spec = await loadSpec();
    const revision = await revisionOf(spec);
    await serveLinear(revision);
    const journal: Resource[] = [];
    const ctx = providerContext(journal);

    const plan = await provider.plan(spec, revision, ctx);
    expect(plan).toMatchObject({ action: 'create', names: { endpoint: ENDPOINT, deployment: `r-${revision}`, model: ENDPOINT } });
    expect(plan.details).toMatchObject({ serving: 'scoring script score.py', curatedEnvironment: 'minimal-ubuntu22.04-py311-cpu-inference' });

    const artifact = await hashArtifact(spec.model.path ?? '', await HashCache.open(undefined));
    const ref = await provider.upload(plan, artifact, ctx);
    expect(ref).toMatchObject({ uploaded: true, uri: expect.stringMatching(/^azureml:\/\/subscriptions\/.+\/datastores\/workspaceblobstore\/paths\/modeldeploy\/iris-torch\/[0-9a-f]{64}\/$/) });
    expect((await blobsUnder('modeldeploy/')).sort()).toEqual([`modeldeploy/iris-torch/${artifact.sha256}/score.py`, `modeldeploy/iris-torch/${artifact.sha256}/weights.json`]);
    expect(await provider.upload(plan, artifact, ctx)).toMatchObject({ uploaded: false });

    const rev = await provider.deploy(plan, ref, ctx);
    expect(rev).toEqual({ id: revision, handle: { endpoint: ENDPOINT, deployment: `r-${revision}` } });
    // Every resource was journaled as it was created, before the call that created it.
    expect(journal.map((r) => r.type).sort()).toEqual([
      'azureml:blob-artifact', 'azureml:code', 'azureml:code-version', 'azureml:environment', 'azureml:environment-version',
      'azureml:model', 'azureml:model-version', 'azureml:online-deployment', 'azureml:online-endpoint',
    ]);
    let state = await provider.status(plan, rev, ctx);
    for (let i = 0; state.state === 'pending' && i < 100; i++) {
      await systemClock.sleep(20);
      state = await provider.status(plan, rev, ctx);
    }
    expect(state).toEqual({ state: 'ready', url: `${fake.url}/inference/eastus/${ENDPOINT}/score` });

    const [endpointPut] = puts(/\/onlineEndpoints\/[^/]+$/);
    expect(endpointPut?.body).toMatchObject({ location: 'eastus', identity: { type: 'SystemAssigned' }, properties: { authMode: 'Key', traffic: {} }, tags: { 'modeldeploy:deployment': 'iris-torch', 'modeldeploy:stage': 'default' } });
    const [deploymentPut] = puts(/\/deployments\/[^/]+$/);
    expect(deploymentPut?.body).toMatchObject({
      sku: { name: 'Default', capacity: 1 },
      tags: { 'modeldeploy:revision': revision },
      properties: {
        endpointComputeType: 'Managed',
        instanceType: 'Standard_DS3_v2',
        model: expect.stringMatching(new RegExp(`/workspaces/ws1/models/${ENDPOINT}/versions/${revision}$`)),
        environmentId: expect.stringMatching(new RegExp(`/workspaces/ws1/environments/${ENDPOINT}/versions/${revision}$`)),
        codeConfiguration: { codeId: expect.stringMatching(new RegExp(`/codes/${ENDPOINT}/versions/${revision}$`)), scoringScript: 'score.py' },
        livenessProbe: { initialDelay: 'PT600S', period: 'PT10S', failureThreshold: 3 },
        readinessProbe: { initialDelay: 'PT10S', failureThreshold: 59 },
        requestSettings: { requestTimeout: 'PT60S' },
      },
    });
    const [environmentPut] = puts(/\/environments\/[^/]+\/versions\/[^/]+$/);
    expect(environmentPut?.body).toMatchObject({ properties: { image: 'mcr.microsoft.com/azureml/curated/minimal-py311-inference:latest', condaFile: expect.stringContaining('torch==2.2.*') } });

    // Before promote the new deployment has no traffic, but answers when named.
    const smoke = await provider.invoke(plan, { kind: 'revision', revision: rev }, { body: Buffer.from('{"instances": [[5.1, 3.5, 1.4, 0.2]]}'), contentType: 'application/json' }, ctx);
    expect(smoke.status).toBe(200);
    expect(JSON.parse(Buffer.from(smoke.body).toString())).toEqual({ predictions: [0] });
    expect(fake.scoringCalls.at(-1)).toMatchObject({ pinnedDeployment: `r-${revision}`, authScheme: 'Bearer', status: 200 });
    const unrouted = await provider.invoke(plan, { kind: 'endpoint' }, { body: Buffer.from('{}'), contentType: 'application/json' }, ctx);
    expect(unrouted.status).toBe(404);

    await provider.promote(plan, rev, ctx);
    expect(fake.inventory().endpoints[0]?.traffic).toEqual({ [`r-${revision}`]: 100 });
    const again = await provider.plan(spec, revision, ctx);
    expect(again).toMatchObject({ action: 'unchanged', current: { revision, state: { state: 'ready' } } });

    const inventory = await provider.inventory(spec, ctx);
    expect(inventory.map((r) => r.type).sort()).toEqual(journal.map((r) => r.type).sort());
    for (const r of [...inventory].sort((a, b) => a.order - b.order)) await provider.remove(spec, r, ctx);
    for (const r of inventory) await provider.remove(spec, r, ctx); // already gone is success
    expect(await provider.inventory(spec, ctx)).toEqual([]);
    await nothingLeft();
  });

  it('OutOfQuota on the deployment: a quota error naming the VM family and region, and nothing of the run is left', async () => {
    const provider = createProvider();
    const spec = await loadSpec();
    fake.failNext('deployment', { code: 'OutOfQuota', message: 'Not enough quota available for Standard_DS3_v2 in SubscriptionId 0000. Current usage/limit: 4/4. Additional needed: 4' });
    const { core, progress } = coreContext(provider);
    const error = await up(spec, { smoke: true, keepOnFailure: false }, core).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: 'OutOfQuota', category: 'quota' });
    expect((error as ProviderError).hint).toMatch(/vCPU quota for the standardDSv2Family VM family in eastus.*20%.*Quota/);
    expect(progress.codes()).toContain('RollbackDone');
    await nothingLeft();
  });

  it('a deployment that ends Failed: its error, the last log lines and where the logs are; the journal removes it all', async () => {
    const provider = createProvider();
    const spec = await loadSpec();
    const revision = await revisionOf(spec);
    fake.setDelay(300, 'deployment');
    fake.failNext('deployment', { code: 'ResourceNotReady', message: 'User container has crashed or terminated.' });
    const journal: Resource[] = [];
    const ctx = providerContext(journal);
    const plan = await provider.plan(spec, revision, ctx);
    const ref = await provider.upload(plan, await hashArtifact(spec.model.path ?? '', await HashCache.open(undefined)), ctx);
    const rev = await provider.deploy(plan, ref, ctx);
    // Mid-step, while the deployment is still Creating: what its container printed.
    fake.setLogs(ENDPOINT, `r-${revision}`, { InferenceServer: 'Initializing scoring script\nModuleNotFoundError: No module named torch' });
    let error: unknown;
    for (let i = 0; i < 100 && !error; i++) {
      try {
        if ((await provider.status(plan, rev, ctx)).state !== 'pending') break;
      } catch (e) {
        error = e;
      }
      await systemClock.sleep(20);
    }
    expect(error).toMatchObject({ code: 'ResourceNotReady', category: 'failed' });
    expect((error as ProviderError).message).toContain('User container has crashed or terminated.');
    expect((error as ProviderError).message).toContain('ModuleNotFoundError: No module named torch');
    expect((error as ProviderError).hint).toContain(`az ml online-deployment get-logs --endpoint-name ${ENDPOINT} --name r-${revision} --resource-group rg1 --workspace-name ws1`);
    // Later runs (no operation in flight) still see the state and where the logs are.
    const later = await createProvider().status(plan, rev, providerContext());
    expect(later).toMatchObject({ state: 'failed', reason: expect.stringContaining('is Failed'), logsHint: expect.stringContaining('get-logs') });
    for (const r of [...journal].sort((a, b) => a.order - b.order)) await provider.remove(spec, r, ctx);
    await nothingLeft();
  });

  it('an abort while the deployment is Creating: the core rolls back, waiting out the busy deployment, and nothing is left', async () => {
    const provider = createProvider();
    const spec = await loadSpec();
    fake.setDelay(800, 'deployment');
    const controller = new AbortController();
    const { core, progress } = coreContext(provider, controller.signal);
    const emit = progress.emit.bind(progress);
    progress.emit = (event) => {
      emit(event);
      if (event.code === 'StateChanged' && event.data?.state === 'pending') controller.abort(new Error('SIGINT'));
    };
    const error = await up(spec, { smoke: true, keepOnFailure: false }, core).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InterruptedError);
    expect(progress.events.find((e) => e.code === 'RollbackDone')?.message).toBe('rollback complete: nothing of this run is left');
    await nothingLeft();
  });

  it('an endpoint name another customer holds in the region: a conflict that says names are region-unique', async () => {
    const provider = createProvider();
    const spec = await loadSpec();
    fake.reserveEndpointName('eastus', ENDPOINT);
    const { core } = coreContext(provider);
    const error = await up(spec, { smoke: false, keepOnFailure: false }, core).catch((e: unknown) => e);
    expect(error).toMatchObject({ category: 'conflict', hint: expect.stringContaining('unique per Azure region') });
    fake.state.reservedNames.clear();
    await nothingLeft();
  });

  it('an endpoint of the same name that modeldeploy did not create is refused, not taken over', async () => {
    const sdk = new AzureMachineLearningWorkspaces({ getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 3.6e6 }) }, fake.subscriptionId, { endpoint: fake.url, tlsOptions: { ca: fake.caPem } });
    await sdk.onlineEndpoints.beginCreateOrUpdateAndWait('rg1', 'ws1', ENDPOINT, { location: 'eastus', properties: { authMode: 'Key' } }, { updateIntervalInMs: 20 });
    const provider = createProvider();
    const spec = await loadSpec();
    await expect(provider.plan(spec, 'abcdef01', providerContext())).rejects.toMatchObject({ code: 'EndpointNotOwned', category: 'conflict' });
    expect(await provider.inventory(spec, providerContext())).toEqual([]);
    await sdk.onlineEndpoints.beginDeleteAndWait('rg1', 'ws1', ENDPOINT, { updateIntervalInMs: 20 });
    await nothingLeft();
  });

  it('429 with Retry-After: the SDK waits as told; past its retries the error is throttled with retryAfterSeconds', async () => {
    const provider = createProvider();
    const spec = await loadSpec();
    fake.throttle(4, 1); // the first try and the SDK's three retries
    const started = Date.now();
    const error = await provider.plan(spec, 'abcdef01', providerContext()).catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
    expect(error).toMatchObject({ category: 'throttled', retryable: true, retryAfterSeconds: 1, code: 'SubscriptionRequestsThrottled' });
    expect(fake.requests.filter((r) => r.status === 429)).toHaveLength(4);
    expect(await provider.plan(spec, 'abcdef01', providerContext())).toMatchObject({ action: 'create' });
  });

  it('a multi-block file goes up in blocks with its sha256 as metadata, and is not sent again', async () => {
    const provider = createProvider();
    const spec = await loadSpec();
    const big = Buffer.alloc(17 * 1024 * 1024 + 3, 7);
    await writeFile(path.join(work, 'model', 'extra.bin'), big);
    const artifact = await hashArtifact(spec.model.path ?? '', await HashCache.open(undefined));
    const ctx = providerContext();
    const plan = await provider.plan(spec, await revisionOf(spec), ctx);
    expect(await provider.upload(plan, artifact, ctx)).toMatchObject({ uploaded: true, bytes: artifact.bytes });
    const service = new BlobServiceClient(azurite.blobEndpoint, new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey));
    const datastore = fake.state.workspaces.get('rg1/ws1')?.datastores.get('workspaceblobstore');
    const blob = service.getContainerClient(datastore?.containerName ?? '').getBlockBlobClient(`modeldeploy/iris-torch/${artifact.sha256}/extra.bin`);
    const blocks = await blob.getBlockList('committed');
    expect(blocks.committedBlocks?.map((b) => b.size)).toEqual([8 * 1024 * 1024, 8 * 1024 * 1024, 1024 * 1024 + 3]);
    expect((await blob.getProperties()).metadata).toEqual({ sha256: artifact.files.find((f) => f.path === 'extra.bin')?.sha256, modeldeploy_deployment: 'iris-torch' });
    expect(await provider.upload(plan, artifact, ctx)).toMatchObject({ uploaded: false });
    const { core } = coreContext(provider);
    await down(spec, { keepArtifacts: false }, core);
    await nothingLeft();
  });
});
