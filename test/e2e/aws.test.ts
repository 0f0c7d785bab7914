/**
 * provider: aws end to end: the built CLI as a subprocess, pointed at moto only through
 * AWS_ENDPOINT_URL (the SDK's own variable), checked afterwards with the real SDK.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApplicationAutoScalingClient, DescribeScalableTargetsCommand } from '@aws-sdk/client-application-auto-scaling';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { ListEndpointConfigsCommand, ListEndpointsCommand, ListModelsCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';
import { startMoto, type Moto } from '../support/moto.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const REGION = 'us-east-1';
const BUCKET = 'modeldeploy-e2e';
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
let moto: Moto;
let work: string;

beforeAll(async () => {
  moto = await startMoto();
  work = await mkdtemp(path.join(tmpdir(), 'md-aws-'));
  await cp(path.join(ROOT, 'examples', 'aws-sklearn'), work, { recursive: true });
  await new S3Client({ region: REGION, endpoint: moto.url, forcePathStyle: true, credentials }).send(new CreateBucketCommand({ Bucket: BUCKET }));
}, 60_000);

afterAll(async () => {
  await moto?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

function env(): NodeJS.ProcessEnv {
  return {
    AWS_ENDPOINT_URL: moto.url,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_EC2_METADATA_DISABLED: 'true',
    MODELDEPLOY_BUCKET: BUCKET,
    SAGEMAKER_ROLE_ARN: 'arn:aws:iam::123456789012:role/SageMakerExecutionRole',
  };
}

const cli = (args: string[]) => runCli([...args, '-f', path.join(work, 'deploy.yaml')], { cwd: work, env: env() });

/** moto has no containers: queue what the "model" answers (one result per distinct request body). */
async function modelAnswers(body: unknown): Promise<void> {
  const result = { Body: JSON.stringify(body), ContentType: 'application/json', InvokedProductionVariant: 'AllTraffic', CustomAttributes: '' };
  const r = await fetch(`${moto.url}/moto-api/static/sagemaker/endpoint-results`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ account_id: '123456789012', region: REGION, results: [result, result, result] }),
  });
  expect(r.status).toBe(201);
}

async function leftovers(): Promise<Record<string, unknown[]>> {
  const sm = new SageMakerClient({ region: REGION, endpoint: moto.url, credentials });
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
    await modelAnswers({ predictions: [0] });
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

    const again = await cli(['up', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ action: 'unchanged', artifact: { uploaded: false } });

    const down = await cli(['down', '--json']);
    expect(down.code, down.stderr).toBe(0);
    expect(JSON.parse(down.stdout).deleted).toHaveLength(5);
    expect(await leftovers()).toEqual({ models: [], configs: [], endpoints: [], objects: [], scalableTargets: [] });

    const twice = await cli(['down', '--json']);
    expect(JSON.parse(twice.stdout)).toMatchObject({ ok: true, nothingToDelete: true });
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
