/** The strict SageMaker layer, driven by the real AWS SDK over HTTP. */
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DescribeEndpointCommand,
  SageMakerClient,
  UpdateEndpointCommand,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSageMakerLayer, type SageMakerLayer } from '../../emulators/sagemaker/layer.js';
import { startMoto, type Moto } from '../../support/moto.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
let moto: Moto;
let layer: SageMakerLayer;
let sm: SageMakerClient;
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const role = 'arn:aws:iam::123456789012:role/SageMakerExecutionRole';

beforeAll(async () => {
  moto = await startMoto();
  layer = await startSageMakerLayer(moto.url);
  sm = new SageMakerClient({ region: 'us-east-1', endpoint: layer.url, credentials, maxAttempts: 1 });
}, 60_000);
afterAll(async () => {
  await layer?.stop();
  await moto?.stop();
});
beforeEach(async () => {
  await moto.reset();
  layer.reset();
});

async function failure(p: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await p;
  } catch (error) {
    return error as { name: string; message: string };
  }
  throw new Error('expected a failure');
}

/** One look: the layer finishes what is in progress before it answers (unless held). */
async function look(name: string): Promise<Record<string, unknown> & { gone?: string }> {
  return sm.send(new DescribeEndpointCommand({ EndpointName: name })).then(
    (out) => ({ ...out }) as Record<string, unknown>,
    (e: Error) => ({ gone: e.message }),
  );
}

async function modelAndConfig(suffix: string): Promise<void> {
  await sm.send(new CreateModelCommand({ ModelName: `m-${suffix}`, ExecutionRoleArn: role, PrimaryContainer: { Image: '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3' } }));
  await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: `c-${suffix}`, ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: `m-${suffix}`, InstanceType: 'ml.m5.large', InitialInstanceCount: 1 }] }));
}

describe('strict SageMaker layer', () => {
  it('rejects what the service model rejects, in the service words, and records it', async () => {
    const error = await failure(sm.send(new CreateEndpointCommand({ EndpointName: 'e'.repeat(64), EndpointConfigName: 'c' })));
    expect(error.name).toBe('ValidationException');
    expect(error.message).toContain("at 'endpointName' failed to satisfy constraint: Member must have length less than or equal to 63");
    const bad = await failure(sm.send(new CreateModelCommand({ ModelName: 'bad_name', ExecutionRoleArn: role })));
    expect(bad.message).toContain('Member must satisfy regular expression pattern');
    expect(layer.violations().map((v) => v.operation)).toEqual(['CreateEndpoint', 'CreateModel']);
  });

  it('holds Creating, Updating and Deleting until settled, and finishes each on the next request otherwise; refuses duplicates and in-progress changes', async () => {
    await modelAndConfig('a');
    await modelAndConfig('b');
    expect((await failure(modelAndConfig('a'))).message).toContain('Cannot create already existing model');
    layer.holdOperations();
    await sm.send(new CreateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'c-a' }));
    expect((await look('ep')).EndpointStatus).toBe('Creating');
    expect((await look('ep')).EndpointStatus).toBe('Creating');
    expect((await failure(sm.send(new UpdateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'c-b' })))).message).toContain('in-progress');
    expect((await failure(sm.send(new DeleteEndpointCommand({ EndpointName: 'ep' })))).message).toContain('in-progress');
    await layer.settle();
    expect(layer.endpoints()).toEqual([{ name: 'ep', status: 'InService', configName: 'c-a' }]);
    expect((await failure(sm.send(new CreateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'c-a' })))).message).toContain('Cannot create already existing endpoint');

    layer.holdOperations();
    await sm.send(new UpdateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'c-b' }));
    const updating = await look('ep');
    expect([updating.EndpointStatus, updating.EndpointConfigName]).toEqual(['Updating', 'c-a']);
    await layer.settle();
    expect((await look('ep')).EndpointConfigName).toBe('c-b');

    // Not held: the next request finds the work done.
    await sm.send(new UpdateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'c-a' }));
    expect(layer.endpoints()[0]?.status).toBe('Updating');
    expect(await look('ep')).toMatchObject({ EndpointStatus: 'InService', EndpointConfigName: 'c-a' });
    await sm.send(new DeleteEndpointCommand({ EndpointName: 'ep' }));
    expect(layer.endpoints()[0]?.status).toBe('Deleting');
    expect((await look('ep')).gone).toContain('Could not find endpoint');
    expect(layer.endpoints()).toEqual([]);
    expect(layer.violations()).toEqual([]);
  });

  it('fails a create (Failed + FailureReason) and an update (InService on the old config + FailureReason)', async () => {
    await modelAndConfig('a');
    await modelAndConfig('b');
    layer.failNext('create');
    await sm.send(new CreateEndpointCommand({ EndpointName: 'bad', EndpointConfigName: 'c-a' }));
    expect(await look('bad')).toMatchObject({ EndpointStatus: 'Failed', FailureReason: expect.stringContaining('did not pass the ping health check') });
    await sm.send(new CreateEndpointCommand({ EndpointName: 'ok', EndpointConfigName: 'c-a' }));
    expect((await look('ok')).EndpointStatus).toBe('InService');
    layer.failNext('either');
    await sm.send(new UpdateEndpointCommand({ EndpointName: 'ok', EndpointConfigName: 'c-b' }));
    expect(await look('ok')).toMatchObject({ EndpointStatus: 'InService', EndpointConfigName: 'c-a', FailureReason: expect.stringContaining('CloudWatch logs') });
  });

  it('throttles and fails on demand; the SDK retries throttling', async () => {
    const retrying = new SageMakerClient({ region: 'us-east-1', endpoint: layer.url, credentials, maxAttempts: 3 });
    layer.throttle(2, 'CreateModel');
    await retrying.send(new CreateModelCommand({ ModelName: 'm-t', ExecutionRoleArn: role, PrimaryContainer: { Image: 'x.dkr.ecr.us-east-1.amazonaws.com/i:1' } }));
    expect(layer.calls.filter((c) => c.operation === 'CreateModel')).toHaveLength(3);
    layer.serverError(1, 'DescribeEndpoint');
    expect((await failure(sm.send(new DescribeEndpointCommand({ EndpointName: 'x' })))).name).toBe('InternalFailure');
  });

  it('invokes only InService endpoints, with the registered model behaviour', async () => {
    const rt = new SageMakerRuntimeClient({ region: 'us-east-1', endpoint: layer.url, credentials, maxAttempts: 1 });
    expect((await failure(rt.send(new InvokeEndpointCommand({ EndpointName: 'nope', Body: '{}', ContentType: 'application/json' })))).message).toContain('not found');
    await modelAndConfig('a');
    await sm.send(new CreateEndpointCommand({ EndpointName: 'inv', EndpointConfigName: 'c-a' }));
    expect((await look('inv')).EndpointStatus).toBe('InService');
    layer.onInvoke('inv', (body) => ({ status: 200, body: JSON.stringify({ echo: JSON.parse(body) }) }));
    const out = await rt.send(new InvokeEndpointCommand({ EndpointName: 'inv', Body: '{"a":1}', ContentType: 'application/json' }));
    expect(JSON.parse(new TextDecoder().decode(out.Body))).toEqual({ echo: { a: 1 } });
    layer.onInvoke('inv', () => ({ status: 500, body: 'boom' }));
    const modelError = (await failure(rt.send(new InvokeEndpointCommand({ EndpointName: 'inv', Body: '{}', ContentType: 'application/json' })))) as { name: string; OriginalStatusCode?: number };
    expect(modelError.name).toBe('ModelError');
    expect(modelError.OriginalStatusCode).toBe(500);
  });

  it('answers every endpoint through answerAll with the config that serves it', async () => {
    const rt = new SageMakerRuntimeClient({ region: 'us-east-1', endpoint: layer.url, credentials, maxAttempts: 1 });
    await modelAndConfig('a');
    await sm.send(new CreateEndpointCommand({ EndpointName: 'all', EndpointConfigName: 'c-a' }));
    layer.answerAll(({ configName }) => ({ status: 200, body: JSON.stringify({ config: configName }) }));
    const out = await rt.send(new InvokeEndpointCommand({ EndpointName: 'all', Body: '{}', ContentType: 'application/json' }));
    expect(JSON.parse(new TextDecoder().decode(out.Body))).toEqual({ config: 'c-a' });
  });

  it('passes S3 through to moto, and throttles it with 503 SlowDown when flaky (the SDK retries)', async () => {
    const s3 = new S3Client({ region: 'us-east-1', endpoint: layer.url, forcePathStyle: true, credentials });
    await s3.send(new CreateBucketCommand({ Bucket: 'through' }));
    expect(layer.calls.some((c) => c.service === 's3' && c.status === 200)).toBe(true);
    layer.flaky('throttle');
    await s3.send(new PutObjectCommand({ Bucket: 'through', Key: 'k', Body: 'v' }));
    expect(layer.calls.filter((c) => c.operation === 'PUT /through/k').map((c) => c.status)).toEqual([503, 200]);
  });
});
