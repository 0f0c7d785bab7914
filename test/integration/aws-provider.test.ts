/**
 * provider aws through the core, in process, on moto + the SageMaker layer (the contract
 * harness): what only SageMaker has — serverless packing, autoscaling, UpdateEndpoint's
 * rollback, the owner read from tags — and the figures of the cheap read path.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadDeployment } from '../../src/config/load.js';
import { systemClock } from '../../src/core/clock.js';
import type { CoreContext } from '../../src/core/context.js';
import { ModeldeployError } from '../../src/core/errors.js';
import { RecordingProgress } from '../../src/core/events.js';
import { up } from '../../src/core/lifecycle.js';
import { statusOf } from '../../src/core/queries.js';
import { createRegistry } from '../../src/core/registry.js';
import type { DeploymentSpec } from '../../src/core/spec.js';
import { down } from '../../src/core/teardown.js';
import { BUCKET, createHarness } from '../contract/harness-aws.js';

const harness = createHarness();
// Only the providers this file needs: the others' settings are not this worktree's concern.
const registry = createRegistry(
  {
    local: { descriptor: () => import('../../providers/local/settings.js'), module: () => import('../../providers/local/index.js') },
    aws: { descriptor: () => import('../../providers/aws/settings.js'), module: () => import('../../providers/aws/index.js') },
  },
  'local',
);
let dir: string;

beforeAll(() => harness.start(), 60_000);
afterAll(() => harness.stop());
beforeEach(async () => {
  await harness.reset();
  dir = await mkdtemp(path.join(tmpdir(), 'md-aws-provider-'));
  return () => rm(dir, { recursive: true, force: true });
});

async function deployment(overrides: Record<string, unknown> = {}, stage = 'dev'): Promise<DeploymentSpec> {
  const fixture = harness.fixture();
  for (const [file, content] of Object.entries(fixture.files)) {
    await mkdir(path.dirname(path.join(dir, 'model', file)), { recursive: true });
    await writeFile(path.join(dir, 'model', file), content);
  }
  const yaml = {
    name: 'iris',
    stage,
    ...fixture.yaml,
    model: { ...(fixture.yaml.model as object), path: './model' },
    smoke: { request: { instances: [[5.1, 3.5, 1.4, 0.2]] }, expect: { status: 200, body: { predictions: [0] } } },
    ...overrides,
  };
  await writeFile(path.join(dir, 'deploy.yaml'), stringify(yaml));
  return (await loadDeployment(path.join(dir, 'deploy.yaml'), { registry, env: harness.env() })).spec;
}

function core(signal = new AbortController().signal): CoreContext & { progress: RecordingProgress } {
  return { registry, progress: new RecordingProgress(), clock: systemClock, signal, env: harness.env() };
}

async function failure(p: Promise<unknown>): Promise<ModeldeployError> {
  try {
    await p;
  } catch (error) {
    if (error instanceof ModeldeployError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

const kinds = async () => (await harness.listing()).map((r) => r.kind).sort();

describe('provider aws (moto + SageMaker layer)', () => {
  it('up → ready and tagged; unchanged up reads the endpoint and its tags only; status reads in parallel; down leaves nothing', async () => {
    const spec = await deployment();
    const first = await up(spec, { smoke: true, keepOnFailure: false }, core());
    expect(first).toMatchObject({ action: 'created', smoke: { passed: true }, artifact: { uploaded: true } });
    expect(first.url).toBe('https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/iris-dev/invocations');
    const listing = await harness.listing();
    expect(listing.filter((r) => r.kind !== 'object').map((r) => [r.kind, r.id, r.owner])).toEqual([
      ['model', `iris-dev-${first.revision}`, { deployment: 'iris', stage: 'dev' }],
      ['endpoint-config', `iris-dev-${first.revision}`, { deployment: 'iris', stage: 'dev' }],
      ['endpoint', 'iris-dev', { deployment: 'iris', stage: 'dev' }],
    ]);
    expect(harness.invocations()).toEqual([{ revision: first.revision, via: 'endpoint' }]);

    await harness.clearCalls();
    const again = await up(spec, { smoke: true, keepOnFailure: false }, core());
    expect(again.action).toBe('unchanged');
    // The lock's one listing (which also says no journal or failed mark is there), its create and
    // release; the endpoint and its tags; one smoke request.
    expect((await harness.calls()).map((c) => c.what.replace(/\?.*$/, ''))).toEqual([
      'GET /modeldeploy-contract/',
      'PUT /modeldeploy-contract/modeldeploy/iris/stages/dev/lock/0000000001',
      'DescribeEndpoint',
      'ListTags',
      'InvokeEndpoint',
      'POST /modeldeploy-contract/',
    ]);

    await harness.clearCalls();
    const status = await statusOf(spec, core());
    expect(status).toMatchObject({ state: 'ready', revision: first.revision });
    expect(status.resources.map((r) => r.type).sort()).toEqual(['artifact', 'sagemaker:endpoint', 'sagemaker:endpoint-config', 'sagemaker:model']);
    // DescribeEndpoint + ListTags shared by read and inventory; the lists carry ARNs, so no Describe per item; the bucket listed for artifacts, unfinished uploads and kept-failure marks, all in the same round.
    expect((await harness.calls()).map((c) => c.what.split('?')[0]).sort()).toEqual(['DescribeEndpoint', 'GET /modeldeploy-contract/', 'GET /modeldeploy-contract/', 'GET /modeldeploy-contract/', 'ListEndpointConfigs', 'ListModels', 'ListTags', 'ListTags', 'ListTags']);

    await down(spec, { keepArtifacts: false }, core());
    expect(await harness.listing()).toEqual([]);
  });

  it('a SageMaker endpoint of the same name that modeldeploy did not make is refused (EndpointNotOwned) and left as it was', async () => {
    const spec = await deployment();
    const describe = await harness.plantForeignEndpoint('iris-dev');
    const before = await describe();
    const error = await failure(up(spec, { smoke: true, keepOnFailure: false }, core()));
    expect(error.code).toBe('EndpointNotOwned');
    expect(await describe()).toEqual(before);
    expect((await harness.calls()).filter((c) => c.kind !== 'read' && !/\/stages\/dev\/lock\//.test(c.what)).map((c) => c.what)).toEqual([]);
    expect((await down(spec, { keepArtifacts: false }, core())).nothingToDelete).toBe(true);
    expect(await describe()).toEqual(before);
  });

  it('serverless: the model goes up as one model.tar.gz (ModelDataUrl), deploys end to end and comes down', async () => {
    const spec = await deployment({ instance: { count: 1 }, aws: { roleArn: 'arn:aws:iam::123456789012:role/SageMakerExecutionRole', bucket: BUCKET, serverless: { memorySizeInMB: 2048, maxConcurrency: 5 } } });
    const result = await up(spec, { smoke: true, keepOnFailure: false }, core());
    expect(result).toMatchObject({ action: 'created', smoke: { passed: true }, artifact: { uploaded: true } });
    expect(result.artifact.uri).toMatch(/^s3:\/\/modeldeploy-contract\/modeldeploy\/iris\/[0-9a-f]{64}\/model\.tar\.gz$/);
    const calls = harness.layer.calls;
    const model = calls.find((c) => c.operation === 'CreateModel')?.input as { PrimaryContainer: Record<string, unknown> };
    expect(model.PrimaryContainer.ModelDataUrl).toBe(result.artifact.uri);
    expect(model.PrimaryContainer.ModelDataSource).toBeUndefined();
    const config = calls.find((c) => c.operation === 'CreateEndpointConfig')?.input as { ProductionVariants: Array<Record<string, unknown>> };
    expect(config.ProductionVariants[0]).toMatchObject({ ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 5 } });
    expect(harness.layer.violations()).toEqual([]);
    await down(spec, { keepArtifacts: false }, core());
    expect(await harness.listing()).toEqual([]);
  });

  it('autoscaling: registered on promote, kept across a model-only update, removed by down', async () => {
    const autoscaling = { type: 'ml.m5.large', count: 1, autoscaling: { min: 1, max: 3, targetInvocationsPerInstance: 150 } };
    const spec = await deployment({ instance: autoscaling });
    await up(spec, { smoke: true, keepOnFailure: false }, core());
    expect((await harness.listing()).filter((r) => r.kind === 'scalable-target')).toEqual([{ kind: 'scalable-target', id: 'endpoint/iris-dev/variant/AllTraffic' }]);
    const updated = await deployment({ instance: autoscaling, env: { LOG_LEVEL: 'debug' } });
    expect((await up(updated, { smoke: true, keepOnFailure: false }, core())).action).toBe('updated');
    expect(await kinds()).toEqual(['endpoint', 'endpoint-config', 'model', 'object', 'object', 'object', 'scalable-target']);
    expect((await statusOf(updated, core())).resources.map((r) => r.type)).toContain('application-autoscaling:scalable-target');
    await down(updated, { keepArtifacts: false }, core());
    expect(await harness.listing()).toEqual([]);
  });

  it('an update that fails the SageMaker way (rolled back, FailureReason naming CloudWatch): exit 3 with the reason and the log group; the old revision serves, the new one is gone', async () => {
    const spec = await deployment();
    const first = await up(spec, { smoke: true, keepOnFailure: false }, core());
    harness.failNextDeploy();
    const error = await failure(up(await deployment({ env: { V: '2' } }), { smoke: true, keepOnFailure: false }, core()));
    expect(error.code).toBe('EndpointNotReady');
    expect(error.message).toContain('did not pass the ping health check');
    expect(error.hint).toBe('CloudWatch log group /aws/sagemaker/Endpoints/iris-dev in us-east-1');
    expect((await statusOf(spec, core())).revision).toBe(first.revision);
    expect((await harness.listing()).filter((r) => r.kind !== 'object').map((r) => r.id)).toEqual([`iris-dev-${first.revision}`, `iris-dev-${first.revision}`, 'iris-dev']);
  });

  it('with every other request answered 5xx (ServiceUnavailable; S3 SlowDown), up still ends ready and down leaves nothing', async () => {
    const spec = await deployment();
    harness.layer.flaky('5xx');
    expect(await up(spec, { smoke: true, keepOnFailure: false }, core())).toMatchObject({ action: 'created', smoke: { passed: true } });
    await down(spec, { keepArtifacts: false }, core());
    harness.layer.flaky(undefined);
    expect(harness.layer.calls.filter((c) => c.status === 503).length).toBeGreaterThan(5);
    expect(await harness.listing()).toEqual([]);
  });

  it('interrupted while the endpoint is Creating: the rollback waits for SageMaker, and once it settles nothing is left', async () => {
    const spec = await deployment();
    const abort = new AbortController();
    harness.holdOperations();
    const ctx = core(abort.signal);
    const running = up(spec, { smoke: true, keepOnFailure: false }, ctx);
    const creating = async () => {
      while (!harness.layer.calls.some((c) => c.operation === 'DescribeEndpoint' && c.status === 200)) await new Promise((r) => setImmediate(r));
    };
    await creating();
    abort.abort();
    await harness.settle();
    expect((await failure(running)).code).toBe('Interrupted');
    expect(await harness.listing()).toEqual([]);
  });
});
