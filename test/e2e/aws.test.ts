/**
 * provider: aws end to end: the built CLI as a subprocess, pointed at moto + the strict layer
 * only through AWS_ENDPOINT_URL (the SDK's own variable), checked with the real SDK and the
 * layer's record of every call (each validated against botocore's service model).
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApplicationAutoScalingClient, DescribeScalableTargetsCommand } from '@aws-sdk/client-application-auto-scaling';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { ListEndpointConfigsCommand, ListEndpointsCommand, ListModelsCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';
import { startMoto, type Moto } from '../support/moto.js';
import { startSageMakerLayer, type SageMakerLayer } from '../emulators/sagemaker/layer.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const REGION = 'us-east-1';
const BUCKET = 'modeldeploy-e2e';
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
let moto: Moto;
let layer: SageMakerLayer;
let work: string;
const ENDPOINT = 'iris-sklearn-default';

beforeAll(async () => {
  moto = await startMoto();
  layer = await startSageMakerLayer(moto.url, { delayMs: 150 });
}, 60_000);

afterAll(async () => {
  // Every SageMaker / autoscaling request of the whole file passed the service-model check.
  expect(layer.violations()).toEqual([]);
  await layer?.stop();
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
  layer.calls.length = 0;
  layer.flaky(undefined);
  layer.onInvoke(ENDPOINT, () => ({ status: 200, body: JSON.stringify({ predictions: [0] }) }));
  work = await mkdtemp(path.join(tmpdir(), 'md-aws-'));
  await cp(path.join(ROOT, 'examples', 'aws-sklearn'), work, { recursive: true });
  await new S3Client({ region: REGION, endpoint: moto.url, forcePathStyle: true, credentials }).send(new CreateBucketCommand({ Bucket: BUCKET }));
});

afterEach(async () => rm(work, { recursive: true, force: true }));

function env(): NodeJS.ProcessEnv {
  return {
    AWS_ENDPOINT_URL: layer.url,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_EC2_METADATA_DISABLED: 'true',
    MODELDEPLOY_BUCKET: BUCKET,
    SAGEMAKER_ROLE_ARN: 'arn:aws:iam::123456789012:role/SageMakerExecutionRole',
  };
}

const cli = (args: string[], extra: Parameters<typeof runCli>[1] = {}) => runCli([...args, '-f', path.join(work, 'deploy.yaml')], { cwd: work, env: env(), ...extra });

const ops = (name: string) => layer.calls.filter((c) => c.operation === name);
const uploads = () => layer.calls.filter((c) => c.service === 's3' && /^(PUT|POST) /.test(c.operation));

async function changeModel(): Promise<void> {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(path.join(work, 'model', 'model.json'), JSON.stringify({ classes: [0, 1, 2], coef: [[0.5, 1.4, -2.2, -1], [0.4, -1.6, 0.6, -1.4], [-1.7, -1.5, 2.5, 2.5]], intercept: [0.3, 1.1, -1.2] }));
}

async function leftovers(): Promise<Record<string, unknown[]>> {
  const sm = new SageMakerClient({ region: REGION, endpoint: layer.url, credentials });
  const s3 = new S3Client({ region: REGION, endpoint: moto.url, forcePathStyle: true, credentials });
  const aas = new ApplicationAutoScalingClient({ region: REGION, endpoint: moto.url, credentials });
  return {
    models: (await sm.send(new ListModelsCommand({}))).Models ?? [],
    configs: (await sm.send(new ListEndpointConfigsCommand({}))).EndpointConfigs ?? [],
    endpoints: (await sm.send(new ListEndpointsCommand({}))).Endpoints ?? [],
    objects: (await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents ?? [],
    scalableTargets: (await aas.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'sagemaker' }))).ScalableTargets ?? [],
  };
}

describe('provider aws against moto', () => {
  it('up → invoke → status → unchanged up → down leaves nothing', async () => {
    const up = await cli(['up', '--json']);
    expect(up.code, up.stderr).toBe(0);
    const doc = JSON.parse(up.stdout);
    expect(doc).toMatchObject({ ok: true, action: 'created', smoke: { passed: true }, artifact: { uploaded: true } });
    expect(doc.url).toBe('https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/iris-sklearn-default/invocations');

    const during = await leftovers();
    expect(during.models).toHaveLength(1);
    expect(during.configs).toHaveLength(1);
    expect(during.endpoints).toHaveLength(1);
    expect(during.scalableTargets).toHaveLength(1);
    expect((during.objects as Array<{ Key: string }>).map((o) => o.Key).sort()).toEqual([
      expect.stringMatching(/^modeldeploy\/iris-sklearn\/[0-9a-f]{64}\/code\/inference\.py$/),
      expect.stringMatching(/^modeldeploy\/iris-sklearn\/[0-9a-f]{64}\/model\.json$/),
    ]);

    const invoke = await cli(['invoke', '--data', '{"instances": [[5.1, 3.5, 1.4, 0.2]]}']);
    expect(invoke.code, invoke.stderr).toBe(0);
    expect(JSON.parse(invoke.stdout)).toEqual({ predictions: [0] });

    const status = JSON.parse((await cli(['status', '--json'])).stdout);
    expect(status).toMatchObject({ state: 'ready', revision: doc.revision });
    expect(status.resources.map((r: { type: string }) => r.type).sort()).toEqual([
      'application-autoscaling:scalable-target',
      's3:artifact',
      'sagemaker:endpoint',
      'sagemaker:endpoint-config',
      'sagemaker:model',
    ]);

    layer.calls.length = 0;
    const again = await cli(['up', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ action: 'unchanged', artifact: { uploaded: false } });
    expect(uploads()).toEqual([]);
    expect(layer.calls.filter((c) => /^(Create|Update|Delete|Register|Put)/.test(c.operation))).toEqual([]);

    const down = await cli(['down', '--json']);
    expect(down.code, down.stderr).toBe(0);
    expect(JSON.parse(down.stdout).deleted).toHaveLength(5);
    expect(await leftovers()).toEqual({ models: [], configs: [], endpoints: [], objects: [], scalableTargets: [] });

    const twice = await cli(['down', '--json']);
    expect(JSON.parse(twice.stdout)).toMatchObject({ ok: true, nothingToDelete: true });
  });

  it('a changed model is an UpdateEndpoint to a new config; afterwards only the new model and config exist', async () => {
    const first = JSON.parse((await cli(['up', '--json'])).stdout);
    await changeModel();
    layer.calls.length = 0;
    const second = await cli(['up', '--json']);
    expect(second.code, second.stderr).toBe(0);
    const doc = JSON.parse(second.stdout);
    expect(doc).toMatchObject({ action: 'updated', previousRevision: first.revision, smoke: { passed: true } });
    expect(ops('UpdateEndpoint').map((c) => (c.input as { EndpointConfigName: string }).EndpointConfigName)).toEqual([`${ENDPOINT}-${doc.revision}`]);
    expect(ops('CreateEndpoint')).toEqual([]);
    const left = await leftovers();
    expect((left.models as Array<{ ModelName: string }>).map((m) => m.ModelName)).toEqual([`${ENDPOINT}-${doc.revision}`]);
    expect((left.configs as Array<{ EndpointConfigName: string }>).map((c) => c.EndpointConfigName)).toEqual([`${ENDPOINT}-${doc.revision}`]);
    expect(new Set((left.objects as Array<{ Key: string }>).map((o) => o.Key.split('/')[2])).size).toBe(1);
    expect((await cli(['down'])).code).toBe(0);
  });

  it('a changed model that fails its smoke test exits 4: the endpoint is back on the old config, the new model and config are gone', async () => {
    const first = JSON.parse((await cli(['up', '--json'])).stdout);
    await changeModel();
    let calls = 0;
    layer.onInvoke(ENDPOINT, () => ({ status: 200, body: JSON.stringify({ predictions: [calls++ === 0 ? 2 : 0] }) }));
    const second = await cli(['up', '--json']);
    expect(second.code, second.stderr).toBe(4);
    expect(JSON.parse(second.stdout)).toMatchObject({ ok: false, error: { code: 'SmokeTestFailed' } });
    expect(second.stderr).toContain(`traffic restored to revision ${first.revision}`);
    const status = JSON.parse((await cli(['status', '--json'])).stdout);
    expect(status).toMatchObject({ state: 'ready', revision: first.revision });
    const left = await leftovers();
    expect((left.models as Array<{ ModelName: string }>).map((m) => m.ModelName)).toEqual([`${ENDPOINT}-${first.revision}`]);
    expect((left.configs as Array<{ EndpointConfigName: string }>).map((c) => c.EndpointConfigName)).toEqual([`${ENDPOINT}-${first.revision}`]);
    expect((await cli(['down'])).code).toBe(0);
  });

  it.each(['throttle', '5xx'] as const)('with a %s on the first try of every call, up and down still succeed', async (kind) => {
    layer.flaky(kind);
    const up = await cli(['up', '--json']);
    expect(up.code, up.stderr).toBe(0);
    expect(JSON.parse(up.stdout)).toMatchObject({ action: 'created', smoke: { passed: true } });
    const down = await cli(['down']);
    expect(down.code, down.stderr).toBe(0);
    layer.flaky(undefined);
    expect(await leftovers()).toEqual({ models: [], configs: [], endpoints: [], objects: [], scalableTargets: [] });
  });

  it('an endpoint that goes Failed on create: exit 3 with the FailureReason, nothing of the run left', async () => {
    layer.failNext('create');
    const up = await cli(['up']);
    expect(up.code).toBe(3);
    expect(up.stderr).toContain('did not pass the ping health check');
    expect(up.stderr).toContain('rollback complete');
    expect(await leftovers()).toEqual({ models: [], configs: [], endpoints: [], objects: [], scalableTargets: [] });
  });

  it('an update that fails: exit 3, the endpoint still serves the old config, the new revision is gone', async () => {
    const first = JSON.parse((await cli(['up', '--json'])).stdout);
    await changeModel();
    layer.failNext('update');
    const second = await cli(['up']);
    expect(second.code, second.stderr).toBe(3);
    expect(second.stderr).toContain('ping health check');
    const status = JSON.parse((await cli(['status', '--json'])).stdout);
    expect(status).toMatchObject({ state: 'ready', revision: first.revision });
    const left = await leftovers();
    expect((left.configs as Array<{ EndpointConfigName: string }>).map((c) => c.EndpointConfigName)).toEqual([`${ENDPOINT}-${first.revision}`]);
    expect((left.models as unknown[]).length).toBe(1);
    expect((await cli(['down'])).code).toBe(0);
  });

  it('SIGINT while the endpoint is Creating: exit 130, and nothing of that run is left', async () => {
    layer.setDelay(2000);
    let sent = false;
    const up = await cli(['up'], {
      onStderr: (text, child) => {
        if (!sent && text.includes('pending: Creating')) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    layer.setDelay(150);
    expect(sent).toBe(true);
    expect(up.code, up.stderr).toBe(130);
    expect(up.stderr).toContain('rollback complete');
    expect(await leftovers()).toEqual({ models: [], configs: [], endpoints: [], objects: [], scalableTargets: [] });
  });

  it('plan on examples/aws-llm with no credentials and no network prints image, instance and names', async () => {
    const run = await runCli(['plan', '--json', '-f', path.join(ROOT, 'examples', 'aws-llm', 'deploy.yaml')], {
      env: { AWS_EC2_METADATA_DISABLED: 'true', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      ok: true,
      action: 'unknown',
      names: { endpoint: 'chat-llm-default', endpointConfig: expect.stringMatching(/^chat-llm-default-[0-9a-f]{8}$/) },
      details: {
        image: '763104351884.dkr.ecr.us-west-2.amazonaws.com/huggingface-pytorch-tgi-inference:2.7.0-tgi3.3.6-gpu-py311-cu124-ubuntu22.04',
        instanceType: 'ml.g5.2xlarge',
        stateUnavailable: expect.stringContaining('CredentialsMissing'),
      },
    });
  });
});
