/**
 * provider azure end to end: the built CLI as a subprocess on a copy of examples/azure-pytorch,
 * pointed at the strict fake ARM (HTTPS, trusted through NODE_EXTRA_CA_CERTS) and Azurite only
 * through settings a user has too (MODELDEPLOY_AZURE_ARM_ENDPOINT, MODELDEPLOY_AZURE_BLOB_ENDPOINT,
 * MODELDEPLOY_AZURE_ACCESS_TOKEN, MODELDEPLOY_AZURE_POLL_INTERVAL). Only what the CLI shows: exit
 * codes, --json, SIGINT, the quota hint, plan without credentials, and that the endpoint key is
 * never printed or stored. What `up` and `down` guarantee is the contract suite's (test/contract).
 */
import path from 'node:path';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ROOT, runCli, tempHome, type CliOptions, type CliRun } from '../support/cli.js';
import { ExampleCopy } from '../support/example-copy.js';
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
  fake = await startFakeAzureMl({ azurite: { blobEndpoint: azurite.blobEndpoint, accountName: azurite.accountName, accountKey: azurite.accountKey } });
  home = await tempHome();
}, 60_000);

afterAll(async () => {
  await fake?.stop();
  await azurite?.stop();
  await (await import('node:fs/promises')).rm(home, { recursive: true, force: true });
});

beforeEach(async () => {
  fake.reset();
  // Every deployment answers as model/score.py does for the Iris rows below.
  fake.scoring.setFallbackHandler((req) => {
    const { instances } = req.json() as { instances: number[][] };
    return { status: 200, body: { predictions: instances.map((x) => ((x[2] ?? 0) > 4.9 ? 2 : (x[2] ?? 0) > 2.5 ? 1 : 0)) } };
  });
  await example.create();
});

afterEach(async () => {
  await example.dispose();
  expect(fake.inventory()).toEqual({ endpoints: [], assets: [] });
  expect(await blobs()).toEqual([]);
});

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

async function blobs(): Promise<string[]> {
  const service = new BlobServiceClient(azurite.blobEndpoint, new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey));
  const out: string[] = [];
  for await (const container of service.listContainers()) {
    for await (const b of service.getContainerClient(container.name).listBlobsFlat({ prefix: 'modeldeploy/' })) out.push(b.name);
  }
  return out;
}

describe('provider azure through the CLI', () => {
  it('up → invoke → status → unchanged up → down, each exit 0 with one JSON document; a second down has nothing to delete', async () => {
    const up = await cli(['up', '--json']);
    expect(up.code, up.stderr).toBe(0);
    const doc = JSON.parse(up.stdout);
    expect(doc).toMatchObject({ ok: true, action: 'created', provider: 'azure', smoke: { passed: true }, artifact: { uploaded: true }, url: `${fake.url}/inference/eastus/${ENDPOINT}/score` });

    const invoke = await cli(['invoke', '--data', '{"instances": [[6.7, 3.0, 5.2, 2.3], [5.9, 2.8, 4.4, 1.3]]}']);
    expect(invoke.code, invoke.stderr).toBe(0);
    expect(JSON.parse(invoke.stdout)).toEqual({ predictions: [2, 1] });

    const status = await cli(['status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ state: 'ready', revision: doc.revision, url: doc.url });

    const again = await cli(['up', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ action: 'unchanged', revision: doc.revision, artifact: { uploaded: false } });

    const down = await cli(['down', '--json']);
    expect(down.code, down.stderr).toBe(0);
    expect(JSON.parse(down.stdout)).toMatchObject({ ok: true, nothingToDelete: false });
    const twice = await cli(['down', '--json']);
    expect(JSON.parse(twice.stdout)).toMatchObject({ ok: true, nothingToDelete: true });
  });

  it('OutOfQuota on the deployment: exit 3 with which quota and how to raise it, and the run rolled back', async () => {
    fake.failNext('deployment', { code: 'OutOfQuota', message: 'Not enough quota available for Standard_DS3_v2 in SubscriptionId 00000000-0000-0000-0000-000000000000. Current usage/limit: 20/24. Additional needed: 8' });
    const run = await cli(['up']);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain('OutOfQuota');
    expect(run.stderr).toMatch(/hint: This is the subscription's vCPU quota for the standardDSv2Family VM family in eastus\. 1 × Standard_DS3_v2/);
    expect(run.stderr).toContain('rollback complete');
  });

  it('SIGINT while the deployment is Creating: exit 130, and nothing of that run is left', async () => {
    fake.hold(['deployment']);
    let sent = false;
    const run = await cli(['up'], {
      onStderr: (text, child) => {
        if (!sent && text.includes('pending: Creating')) {
          sent = true;
          child.kill('SIGINT');
          fake.release(); // the deployment finishes as Azure's would; the rollback then removes it
        }
      },
    });
    expect(sent).toBe(true);
    expect(run.code, run.stderr).toBe(130);
    expect(run.stderr).toContain('rollback complete: nothing of this run is left');
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
    expect(printed.length).toBeGreaterThan(10);
    for (const key of keys) {
      for (const text of printed) expect(text.includes(key), 'an endpoint key was printed or stored').toBe(false);
    }
  });
});
