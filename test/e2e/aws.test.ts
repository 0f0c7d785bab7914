/**
 * provider aws end to end: what only the built CLI shows — exit codes, --json, SIGINT, plan with
 * no credentials — on a copy of examples/aws-sklearn, pointed at moto + the strict SageMaker layer
 * only through AWS_ENDPOINT_URL (the SDK's own variable) and MODELDEPLOY_AWS_POLL_INTERVAL.
 * What every provider guarantees (tags, no re-upload, rollback, throttling, nothing left) is
 * proven once for all by the contract suite (test/contract/).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';
import { ExampleCopy } from '../support/example-copy.js';
import { BUCKET, createHarness } from '../contract/harness-aws.js';

const harness = createHarness();
const ENDPOINT = 'iris-sklearn-default';
const env = (): NodeJS.ProcessEnv => ({ ...harness.env(), MODELDEPLOY_BUCKET: BUCKET, SAGEMAKER_ROLE_ARN: 'arn:aws:iam::123456789012:role/SageMakerExecutionRole' });
const example = new ExampleCopy('aws-sklearn', env);

beforeAll(() => harness.start(), 60_000);
afterAll(async () => {
  // Every SageMaker / autoscaling request of the whole file passed the service-model check.
  expect(harness.layer.violations()).toEqual([]);
  await harness.stop();
});
beforeEach(async () => {
  await harness.reset();
  await example.create();
});
afterEach(() => example.dispose());

async function changeModel(): Promise<void> {
  await writeFile(path.join(example.dir, 'model', 'weights.txt'), 'v2\n');
}

/** Tests that run the CLI six or seven times: each run is a Node start plus the SDK load, slow on a busy machine. */
const MANY_RUNS = { timeout: 180_000 };

const cloudKinds = async () => (await harness.listing()).filter((r) => r.kind !== 'object').map((r) => `${r.kind} ${r.id}`);

describe('provider aws from the CLI', () => {
  it('up --json → invoke → status --json → unchanged up → down --json: exit 0 each, and the documents say what happened', MANY_RUNS, async () => {
    const up = await example.cli(['up', '--json']);
    expect(up.code, up.stderr).toBe(0);
    const doc = JSON.parse(up.stdout);
    expect(doc).toMatchObject({ ok: true, action: 'created', smoke: { passed: true }, artifact: { uploaded: true } });
    expect(doc.url).toBe(`https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/${ENDPOINT}/invocations`);

    const invoke = await example.cli(['invoke', '--data', '{"instances": [[5.1, 3.5, 1.4, 0.2]]}']);
    expect(invoke.code, invoke.stderr).toBe(0);
    expect(JSON.parse(invoke.stdout)).toEqual({ predictions: [0] });

    const status = JSON.parse((await example.cli(['status', '--json'])).stdout);
    expect(status).toMatchObject({ ok: true, state: 'ready', revision: doc.revision });
    expect(status.resources.map((r: { type: string }) => r.type).sort()).toEqual([
      'application-autoscaling:scalable-target',
      'artifact',
      'sagemaker:endpoint',
      'sagemaker:endpoint-config',
      'sagemaker:model',
    ]);

    const again = await example.cli(['up', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ action: 'unchanged', artifact: { uploaded: false } });

    const down = await example.cli(['down', '--json']);
    expect(down.code, down.stderr).toBe(0);
    expect(JSON.parse(down.stdout).deleted).toHaveLength(5);
    expect(await harness.listing()).toEqual([]);
    expect(JSON.parse((await example.cli(['down', '--json'])).stdout)).toMatchObject({ ok: true, nothingToDelete: true });
  });

  it('an endpoint of the same name made by hand: up exits 3 with EndpointNotOwned, down deletes nothing, the endpoint is untouched', async () => {
    const describe = await harness.plantForeignEndpoint(ENDPOINT);
    const before = await describe();
    const up = await example.cli(['up', '--json']);
    expect(up.code, up.stderr).toBe(3);
    expect(JSON.parse(up.stdout)).toMatchObject({ ok: false, error: { code: 'EndpointNotOwned' } });
    const down = await example.cli(['down', '--json']);
    expect(down.code, down.stderr).toBe(0);
    expect(JSON.parse(down.stdout)).toMatchObject({ nothingToDelete: true });
    expect(await describe()).toEqual(before);
    // Nothing written but the deployment lock each command took and released.
    expect((await harness.calls()).filter((c) => c.kind !== 'read' && !/\/stages\/default\/lock\//.test(c.what)).map((c) => c.what)).toEqual([]);
  });

  it('an update SageMaker rolls back exits 3 naming the reason and the CloudWatch log group; one whose smoke test fails exits 4; the first revision serves after both', MANY_RUNS, async () => {
    const first = JSON.parse((await example.cli(['up', '--json'])).stdout);
    await changeModel();
    harness.failNextDeploy();
    const failed = await example.cli(['up']);
    expect(failed.code, failed.stderr).toBe(3);
    expect(failed.stderr).toContain('did not pass the ping health check');
    expect(failed.stderr).toContain(`CloudWatch log group /aws/sagemaker/Endpoints/${ENDPOINT} in us-east-1`);

    harness.answer((revision) => ({ status: 200, body: { predictions: [revision === first.revision ? 0 : 2] } }));
    const smoke = await example.cli(['up', '--json']);
    expect(smoke.code, smoke.stderr).toBe(4);
    expect(JSON.parse(smoke.stdout)).toMatchObject({ ok: false, error: { code: 'SmokeTestFailed' } });
    expect(smoke.stderr).toContain(`traffic restored to revision ${first.revision}`);

    expect(JSON.parse((await example.cli(['status', '--json'])).stdout)).toMatchObject({ state: 'ready', revision: first.revision });
    expect((await cloudKinds()).sort()).toEqual([`endpoint ${ENDPOINT}`, `endpoint-config ${ENDPOINT}-${first.revision}`, `model ${ENDPOINT}-${first.revision}`, `scalable-target endpoint/${ENDPOINT}/variant/AllTraffic`]);
    expect((await example.cli(['down'])).code).toBe(0);
  });

  it('SIGINT while the endpoint is Creating: exit 130, and once SageMaker lets the rollback through nothing of the run is left', async () => {
    harness.holdOperations();
    let sent = false;
    const up = await example.cli(['up'], {
      onStderr: (text, child) => {
        if (!sent && text.includes('pending: Creating')) {
          sent = true;
          child.kill('SIGINT');
          void harness.settle();
        }
      },
    });
    expect(sent).toBe(true);
    expect(up.code, up.stderr).toBe(130);
    expect(up.stderr).toContain('rollback complete');
    expect(await harness.listing()).toEqual([]);
  });

  it('each command loads only the SDK clients it calls: invoke the runtime alone; status SageMaker, S3 and (the example autoscales) Application Auto Scaling, never the uploader', MANY_RUNS, async () => {
    expect((await example.cli(['up', '-q'])).code).toBe(0);
    const loaded = async (args: string[]) => {
      const log = path.join(example.dir, `imports-${args[0]}.log`);
      const run = await example.cli(args, { nodeArgs: ['--import', path.join(ROOT, 'test', 'support', 'record-imports.mjs')], env: { ...env(), MODELDEPLOY_IMPORT_LOG: log } });
      expect(run.code, run.stderr).toBe(0);
      const modules = (await readFile(log, 'utf8')).split('\n');
      return [...new Set(modules.flatMap((m) => /node_modules\/@aws-sdk\/(client-[a-z0-9-]+|lib-storage)\//.exec(m)?.[1] ?? []))].sort();
    };
    expect(await loaded(['invoke', '--data', '{"instances": [[5.1, 3.5, 1.4, 0.2]]}'])).toEqual(['client-sagemaker-runtime']);
    expect(await loaded(['status', '--json'])).toEqual(['client-application-auto-scaling', 'client-s3', 'client-sagemaker']);
    // unchanged: the endpoint read, its lock in S3, one smoke request; never the uploader
    expect(await loaded(['up', '--json'])).toEqual(['client-s3', 'client-sagemaker', 'client-sagemaker-runtime']);
    expect((await example.cli(['down', '-q'])).code).toBe(0);
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
