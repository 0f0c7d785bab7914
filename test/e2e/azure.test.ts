/**
 * provider: azure end to end: the built CLI as a subprocess on a copy of examples/azure-pytorch,
 * pointed at the strict fake ARM (HTTPS, trusted through NODE_EXTRA_CA_CERTS) and Azurite only
 * through settings a user has too (MODELDEPLOY_AZURE_ARM_ENDPOINT, MODELDEPLOY_AZURE_BLOB_ENDPOINT,
 * MODELDEPLOY_AZURE_ACCESS_TOKEN, MODELDEPLOY_AZURE_POLL_INTERVAL), and checked with the fake's
 * record of every ARM request and scoring call and with Azurite's own listing.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { azureRules } from '../../providers/azure/rules.js';
import { ROOT, runCli, tempHome, type CliOptions, type CliRun } from '../support/cli.js';
import { ExampleCopy } from '../support/example-copy.js';
import { onEveryOtherRequest } from '../support/faults.js';
import { startAzurite, type AzuriteBlob } from '../emulators/azure/azurite.js';
import { startFakeAzureMl, type FakeAzureMl } from '../emulators/azure/fake-arm.js';

const ENDPOINT = 'iris-torch-default';
let azurite: AzuriteBlob;
let fake: FakeAzureMl;
let home: string;
/** Everything any run printed, and every file it left in .modeldeploy/: searched for the key at the end. */
const example = new ExampleCopy('azure-pytorch', env);
const printed = example.printed;
const keys = new Set<string>();

beforeAll(async () => {
  azurite = await startAzurite();
  fake = await startFakeAzureMl({
    delayMs: 150,
    azurite: { blobEndpoint: azurite.blobEndpoint, accountName: azurite.accountName, accountKey: azurite.accountKey },
  });
  home = await tempHome();
}, 60_000);

afterAll(async () => {
  await fake?.stop();
  await azurite?.stop();
  await rm(home, { recursive: true, force: true });
});

beforeEach(async () => {
  fake.clearRecords();
  fake.setDelay(150);
  fake.state.faults.length = 0;
  fake.scoring.clearScoreHandlers();
  await example.create();
});

afterEach(() => example.dispose());

function env(): NodeJS.ProcessEnv {
  return {
    HOME: home,
    NODE_EXTRA_CA_CERTS: fake.caCertPath,
    MODELDEPLOY_AZURE_ARM_ENDPOINT: fake.url,
    MODELDEPLOY_AZURE_BLOB_ENDPOINT: azurite.blobEndpoint,
    MODELDEPLOY_AZURE_ACCESS_TOKEN: 'e2e-arm-token',
    MODELDEPLOY_AZURE_POLL_INTERVAL: '25ms',
    AZURE_RESOURCE_GROUP: 'rg1',
    AZUREML_WORKSPACE: 'ws1',
  };
}

async function cli(args: string[], extra: CliOptions = {}): Promise<CliRun> {
  const run = await example.cli(args, extra);
  // The endpoint's keys, while it exists: no output may ever contain them.
  const ep = fake.state.findEndpoint(ENDPOINT);
  if (ep) for (const k of [ep.keys.primaryKey, ep.keys.secondaryKey]) keys.add(k);
  return run;
}

const revisionOf = (): Promise<string> => example.revision(azureRules);

/** The deployment of `revision` answers like model/score.py would (argmax of weights · x + bias), or `wrong`. */
async function serve(revision: string, wrong = false): Promise<void> {
  const w = JSON.parse(await readFile(path.join(example.dir, 'model', 'weights.json'), 'utf8')) as { classes: number[]; weight: number[][]; bias: number[] };
  fake.setScoreHandler(ENDPOINT, `r-${revision}`, (req) => {
    const { instances } = req.json() as { instances: number[][] };
    const predictions = instances.map((x) => {
      const scores = w.weight.map((row, i) => row.reduce((s, v, j) => s + v * (x[j] ?? 0), w.bias[i] ?? 0));
      return wrong ? 1 : w.classes[scores.indexOf(Math.max(...scores))];
    });
    return { status: 200, body: { predictions } };
  });
}

/** A retrained model: same classes, slightly different weights. */
async function retrain(step: number): Promise<void> {
  const file = path.join(example.dir, 'model', 'weights.json');
  const w = JSON.parse(await readFile(file, 'utf8')) as { bias: number[] };
  w.bias = w.bias.map((b) => Math.round((b + 0.01 * step) * 1000) / 1000);
  await writeFile(file, JSON.stringify(w, null, 2));
}

async function blobs(): Promise<Array<{ name: string; etag: string }>> {
  const service = new BlobServiceClient(azurite.blobEndpoint, new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey));
  const out: Array<{ name: string; etag: string }> = [];
  for await (const container of service.listContainers()) {
    for await (const b of service.getContainerClient(container.name).listBlobsFlat({ prefix: 'modeldeploy/' })) out.push({ name: b.name, etag: b.properties.etag ?? '' });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

async function expectNothingLeft(): Promise<void> {
  expect(fake.inventory()).toEqual({ endpoints: [], assets: [] });
  expect(await blobs()).toEqual([]);
}

const writes = (pattern: RegExp) => fake.requests.filter((r) => r.method !== 'GET' && r.method !== 'POST' && pattern.test(r.path)).map((r) => `${r.method} ${r.path.split('/').slice(-2).join('/')}`);

describe('provider azure against the fake ARM and Azurite', () => {
  it('up → invoke → status → unchanged up (0 uploads, 0 PUTs) → down: exit 0 each, and nothing of it is left', async () => {
    const revision = await revisionOf();
    await serve(revision);
    const up = await cli(['up', '--json']);
    expect(up.code, up.stderr).toBe(0);
    const doc = JSON.parse(up.stdout);
    expect(doc).toMatchObject({ ok: true, action: 'created', revision, smoke: { passed: true }, artifact: { uploaded: true }, url: `${fake.url}/inference/eastus/${ENDPOINT}/score` });

    const during = fake.inventory();
    expect(during.endpoints).toEqual([expect.objectContaining({ name: ENDPOINT, state: 'Succeeded', traffic: { [`r-${revision}`]: 100 }, deployments: [{ name: `r-${revision}`, state: 'Succeeded' }] })]);
    expect(during.assets.map((a) => `${a.kind}/${a.name}:${a.versions.join(',')}`).sort()).toEqual([`codes/${ENDPOINT}:${revision}`, `environments/${ENDPOINT}:${revision}`, `models/${ENDPOINT}:${revision}`]);
    const uploaded = await blobs();
    expect(uploaded.map((b) => b.name)).toEqual([`modeldeploy/iris-torch/${doc.artifact.sha256}/score.py`, `modeldeploy/iris-torch/${doc.artifact.sha256}/weights.json`]);

    const invoke = await cli(['invoke', '--data', '{"instances": [[6.7, 3.0, 5.2, 2.3], [5.9, 2.8, 4.4, 1.3]]}']);
    expect(invoke.code, invoke.stderr).toBe(0);
    expect(JSON.parse(invoke.stdout)).toEqual({ predictions: [2, 1] });
    expect(fake.scoringCalls.at(-1)).toMatchObject({ deployment: `r-${revision}`, authScheme: 'Bearer', status: 200 });
    expect(fake.scoringCalls.at(-1)?.pinnedDeployment).toBeUndefined();

    const status = await cli(['status', '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ state: 'ready', revision, url: doc.url });

    fake.clearRecords();
    const again = await cli(['up', '--json', '--verbose']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ action: 'unchanged', artifact: { uploaded: false } });
    expect(await blobs()).toEqual(uploaded); // same blobs, same etags: nothing was sent
    expect(fake.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`)).toEqual([]);
    expect(writes(/\/(onlineEndpoints|deployments)\//)).toEqual([]);

    const down = await cli(['down', '--json']);
    expect(down.code, down.stderr).toBe(0);
    expect(JSON.parse(down.stdout).deleted).toHaveLength(9);
    await expectNothingLeft();
    const twice = await cli(['down', '--json']);
    expect(JSON.parse(twice.stdout)).toMatchObject({ ok: true, nothingToDelete: true });
  });

  it('a changed model goes blue/green: a failing smoke test exits 4 with traffic unchanged and the new deployment deleted; a passing one moves traffic, then retires the old', async () => {
    const first = await revisionOf();
    await serve(first);
    expect((await cli(['up'])).code).toBe(0);
    const firstBlobs = await blobs();

    await retrain(1);
    const bad = await revisionOf();
    await serve(bad, true);
    fake.clearRecords();
    const failed = await cli(['up', '--json']);
    expect(failed.code, failed.stderr).toBe(4);
    expect(JSON.parse(failed.stdout)).toMatchObject({ ok: false, error: { code: 'SmokeTestFailed' } });
    expect(fake.scoringCalls.map((c) => c.pinnedDeployment)).toEqual([`r-${bad}`]);
    expect(writes(/\/onlineEndpoints\/[^/]+$/)).toEqual([]); // traffic was never touched
    const after = fake.inventory();
    expect(after.endpoints).toEqual([expect.objectContaining({ traffic: { [`r-${first}`]: 100 }, deployments: [{ name: `r-${first}`, state: 'Succeeded' }] })]);
    expect(after.assets.every((a) => a.versions.length === 1 && a.versions[0] === first)).toBe(true);
    expect(await blobs()).toEqual(firstBlobs);
    expect(JSON.parse((await cli(['status', '--json'])).stdout)).toMatchObject({ state: 'ready', revision: first });

    await retrain(2);
    const next = await revisionOf();
    await serve(next);
    fake.clearRecords();
    const updated = await cli(['up', '--json']);
    expect(updated.code, updated.stderr).toBe(0);
    expect(JSON.parse(updated.stdout)).toMatchObject({ action: 'updated', previousRevision: first, revision: next, smoke: { passed: true } });
    // Smoke-tested by name at 0% traffic first; then one traffic PUT; then the old deployment deleted.
    const trafficPut = fake.requests.find((r) => r.method === 'PUT' && r.path.endsWith(`/onlineEndpoints/${ENDPOINT}`));
    expect(trafficPut?.body).toMatchObject({ properties: { traffic: { [`r-${first}`]: 0, [`r-${next}`]: 100 } } });
    const smoke = fake.scoringCalls.find((c) => c.pinnedDeployment === `r-${next}`);
    expect(smoke?.status).toBe(200);
    expect(smoke?.time).toBeLessThanOrEqual(trafficPut?.time ?? 0);
    expect(writes(/\/deployments\/[^/]+$/)).toEqual([`PUT deployments/r-${next}`, `DELETE deployments/r-${first}`]);
    const final = fake.inventory();
    expect(final.endpoints).toEqual([expect.objectContaining({ traffic: { [`r-${next}`]: 100 }, deployments: [{ name: `r-${next}`, state: 'Succeeded' }] })]);
    expect(final.assets.every((a) => a.versions.length === 1 && a.versions[0] === next)).toBe(true);
    expect(new Set((await blobs()).map((b) => b.name.split('/')[2])).size).toBe(1);

    expect((await cli(['down'])).code).toBe(0);
    await expectNothingLeft();
  });

  it('OutOfQuota on the deployment: exit 3 with which quota and how to raise it, and nothing of the run is left', async () => {
    fake.failNext('deployment', { code: 'OutOfQuota', message: 'Not enough quota available for Standard_DS3_v2 in SubscriptionId 00000000-0000-0000-0000-000000000000. Current usage/limit: 20/24. Additional needed: 8' });
    const run = await cli(['up']);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain('OutOfQuota');
    expect(run.stderr).toMatch(/hint: This is the subscription's vCPU quota for the standardDSv2Family VM family in eastus\. 1 × Standard_DS3_v2/);
    expect(run.stderr).toContain('rollback complete');
    await expectNothingLeft();
  });

  it('a Failed provisioning state: exit 3 with the error and where the logs are, and nothing of the run is left', async () => {
    fake.failNext('deployment', { code: 'ResourceNotReady', message: 'User container has crashed or terminated.' });
    const run = await cli(['up', '--verbose']);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain('ResourceNotReady: User container has crashed or terminated.');
    expect(run.stderr).toMatch(/hint: Read the deployment logs: az ml online-deployment get-logs --endpoint-name iris-torch-default --name r-[0-9a-f]{8} --resource-group rg1 --workspace-name ws1/);
    expect(run.stderr).toContain('rollback complete');
    await expectNothingLeft();
  });

  it('429 with Retry-After on the first try of every ARM call: up ends ready and down removes everything', async () => {
    const revision = await revisionOf();
    await serve(revision);
    // Every other request (each first try; its retry is the next one) is throttled, with Retry-After: 0.
    const stop = onEveryOtherRequest(fake.requests, () => fake.throttle(1, 0));
    try {
      const up = await cli(['up', '--json']);
      expect(up.code, up.stderr).toBe(0);
      expect(JSON.parse(up.stdout)).toMatchObject({ action: 'created', smoke: { passed: true } });
      const down = await cli(['down']);
      expect(down.code, down.stderr).toBe(0);
    } finally {
      stop();
      fake.throttle(0);
    }
    const throttled = fake.requests.filter((r) => r.status === 429).length;
    expect(throttled).toBeGreaterThanOrEqual(Math.floor(fake.requests.length / 2));
    expect(throttled).toBeGreaterThan(40);
    await expectNothingLeft();
  });

  it('SIGINT while the deployment is Creating: exit 130, and nothing of that run is left', async () => {
    fake.setDelay(1500, 'deployment');
    let sent = false;
    const run = await cli(['up'], {
      onStderr: (text, child) => {
        if (!sent && text.includes('pending: Creating')) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(sent).toBe(true);
    expect(run.code, run.stderr).toBe(130);
    expect(run.stderr).toContain('rollback complete: nothing of this run is left');
    await expectNothingLeft();
  });

  it('plan --json on examples/azure-llm with no credentials and no network', async () => {
    const run = await runCli(['plan', '--json', '-f', path.join(ROOT, 'examples', 'azure-llm', 'deploy.yaml')], {
      // Developer credentials only (az, azd, PowerShell, VS Code: none installed here), so nothing
      // reaches for the metadata service; ARM points at a closed loopback port.
      env: { HOME: home, AZURE_TOKEN_CREDENTIALS: 'dev', MODELDEPLOY_AZURE_ARM_ENDPOINT: 'https://127.0.0.1:9' },
    });
    printed.push(run.stdout, run.stderr);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      ok: true,
      action: 'unknown',
      names: { endpoint: 'chat-llm-default', deployment: expect.stringMatching(/^r-[0-9a-f]{8}$/), model: 'chat-llm-default' },
      details: {
        image: 'ghcr.io/huggingface/text-generation-inference:3.3.5',
        instanceType: 'Standard_NC24ads_A100_v4',
        region: 'eastus',
        stateUnavailable: expect.stringContaining('CredentialsMissing'),
      },
    });
  });

  it('the endpoint key appears nowhere: not in any stdout or stderr above, nor in .modeldeploy/', () => {
    expect(keys.size).toBeGreaterThanOrEqual(2);
    expect(printed.length).toBeGreaterThan(20);
    for (const key of keys) {
      for (const text of printed) expect(text.includes(key), 'an endpoint key was printed or stored').toBe(false);
    }
  });
});
