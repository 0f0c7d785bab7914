/**
 * The contract harness of provider aws: moto (S3, models, configs, tags, Application Auto
 * Scaling) behind the strict SageMaker layer (endpoint states, UpdateEndpoint, service-model
 * validation, faults, invocations). The provider reaches both only through AWS_ENDPOINT_URL;
 * the harness watches them through the layer's record and moto directly (which counts as no call).
 */
import { ApplicationAutoScalingClient, DescribeScalableTargetsCommand } from '@aws-sdk/client-application-auto-scaling';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  ListEndpointConfigsCommand,
  ListEndpointsCommand,
  ListModelsCommand,
  ListTagsCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { ownerOf } from '../../src/core/target.js';
import { startSageMakerLayer, type RecordedCall, type SageMakerLayer } from '../emulators/sagemaker/layer.js';
import { startMoto, type Moto } from '../support/moto.js';
import type { ContractHarness, DeployFixture, EmulatorCall, EmulatorResource, Invocation } from './harness.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export const REGION = 'us-east-1';
export const BUCKET = 'modeldeploy-contract';
export const ROLE = 'arn:aws:iam::123456789012:role/SageMakerExecutionRole';
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const IMAGE = '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3';

type Answer = (revision: string) => { status: number; body: unknown };
const defaultAnswer: Answer = () => ({ status: 200, body: { predictions: [0] } });

export interface AwsHarness extends ContractHarness {
  /** The layer itself, for aws-only tests. */
  readonly layer: SageMakerLayer;
  readonly motoUrl: string;
}

export function createHarness(): AwsHarness {
  let moto: Moto | undefined;
  let layer: SageMakerLayer | undefined;
  const planted = new Set<string>();
  const log: Invocation[] = [];
  let from = 0;
  const need = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the aws harness is not started');
    return value;
  };
  /** Straight to moto: not through the layer, so no call is recorded and no operation finished. */
  const direct = () => {
    const endpoint = need(moto).url;
    return {
      sm: new SageMakerClient({ region: REGION, endpoint, credentials }),
      s3: new S3Client({ region: REGION, endpoint, credentials, forcePathStyle: true }),
      aas: new ApplicationAutoScalingClient({ region: REGION, endpoint, credentials }),
    };
  };
  const answerWith = (fn: Answer) =>
    need(layer).answerAll(({ endpoint, configName }) => {
      const revision = configName.startsWith(`${endpoint}-`) ? configName.slice(endpoint.length + 1) : configName;
      log.push({ revision, via: 'endpoint' }); // SageMaker cannot address a revision: the endpoint routes every request
      const { status, body } = fn(revision);
      return { status, body: JSON.stringify(body), contentType: 'application/json' };
    });

  return {
    id: 'aws',
    get layer() {
      return need(layer);
    },
    get motoUrl() {
      return need(moto).url;
    },
    async start() {
      moto = await startMoto();
      layer = await startSageMakerLayer(moto.url, { region: REGION });
    },
    async stop() {
      await layer?.stop();
      await moto?.stop();
    },
    async reset() {
      await need(moto).reset();
      need(layer).reset();
      planted.clear();
      log.length = 0;
      from = 0;
      answerWith(defaultAnswer);
      await direct().s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    },
    env() {
      return {
        AWS_ENDPOINT_URL: need(layer).url,
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        AWS_EC2_METADATA_DISABLED: 'true',
        MODELDEPLOY_AWS_POLL_INTERVAL: '20ms',
      };
    },
    fixture(): DeployFixture {
      return {
        yaml: {
          provider: 'aws',
          region: REGION,
          model: { framework: 'sklearn', version: '1.2-1' },
          instance: { type: 'ml.m5.large', count: 1 },
          aws: { roleArn: ROLE, bucket: BUCKET },
        },
        files: {
          'model.json': JSON.stringify({ classes: [0, 1, 2], coef: [[0.4, 1.4, -2.2, -1], [0.5, -1.6, 0.6, -1.4], [-1.7, -1.5, 2.5, 2.5]], intercept: [0.3, 1.1, -1.2] }),
          'code/inference.py': 'import json\n\ndef model_fn(model_dir):\n    return json.load(open(f"{model_dir}/model.json"))\n',
        },
      };
    },
    answer(fn) {
      answerWith(fn);
    },
    invocations() {
      return [...log];
    },
    async calls() {
      return need(layer).calls.slice(from).map(kindOf);
    },
    async clearCalls() {
      from = need(layer).calls.length;
    },
    async listing() {
      const { sm, s3, aas } = direct();
      const tagged = async (kind: string, items: Array<{ name: string; arn: string }>): Promise<EmulatorResource[]> =>
        Promise.all(
          items
            .filter((i) => !planted.has(i.name))
            .map(async (i) => {
              const tags = Object.fromEntries(((await sm.send(new ListTagsCommand({ ResourceArn: i.arn }))).Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
              return { kind, id: i.name, owner: ownerOf(tags) };
            }),
        );
      const [models, configs, endpoints, objects, targets] = await Promise.all([
        sm.send(new ListModelsCommand({ MaxResults: 100 })),
        sm.send(new ListEndpointConfigsCommand({ MaxResults: 100 })),
        sm.send(new ListEndpointsCommand({ MaxResults: 100 })),
        s3.send(new ListObjectsV2Command({ Bucket: BUCKET })),
        aas.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'sagemaker' })),
      ]);
      return [
        ...(await tagged('model', (models.Models ?? []).map((m) => ({ name: m.ModelName ?? '', arn: m.ModelArn ?? '' })))),
        ...(await tagged('endpoint-config', (configs.EndpointConfigs ?? []).map((c) => ({ name: c.EndpointConfigName ?? '', arn: c.EndpointConfigArn ?? '' })))),
        ...(await tagged('endpoint', (endpoints.Endpoints ?? []).map((e) => ({ name: e.EndpointName ?? '', arn: e.EndpointArn ?? '' })))),
        ...(objects.Contents ?? []).map((o) => ({ kind: 'object', id: o.Key ?? '' })),
        ...(targets.ScalableTargets ?? []).filter((t) => !planted.has(t.ResourceId ?? '')).map((t) => ({ kind: 'scalable-target', id: t.ResourceId ?? '' })),
      ];
    },
    async plantForeignEndpoint(base) {
      const l = need(layer);
      const before = l.calls.length;
      // Made by hand, through the real SDK: no modeldeploy tag anywhere.
      const sm = new SageMakerClient({ region: REGION, endpoint: l.url, credentials });
      const name = `${base}-byhand`;
      await sm.send(new CreateModelCommand({ ModelName: name, ExecutionRoleArn: ROLE, PrimaryContainer: { Image: IMAGE }, Tags: [{ Key: 'team', Value: 'someone-else' }] }));
      await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: name, ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: name, InstanceType: 'ml.m5.large', InitialInstanceCount: 1 }] }));
      await sm.send(new CreateEndpointCommand({ EndpointName: base, EndpointConfigName: name, Tags: [{ Key: 'team', Value: 'someone-else' }] }));
      for (const n of [name, base]) planted.add(n);
      await l.settle();
      l.calls.splice(before); // planting is not the provider's doing
      return async () => {
        const endpoint = l.endpoints().find((e) => e.name === base);
        const arn = (await direct().sm.send(new ListEndpointsCommand({ NameContains: base }))).Endpoints?.find((e) => e.EndpointName === base)?.EndpointArn;
        const tags = arn ? ((await direct().sm.send(new ListTagsCommand({ ResourceArn: arn }))).Tags ?? []) : [];
        return { endpoint, tags };
      };
    },
    throttle() {
      need(layer).flaky('throttle');
    },
    failNextDeploy() {
      need(layer).failNext('either');
    },
    holdOperations() {
      need(layer).holdOperations();
    },
    settle() {
      return need(layer).settle();
    },
  };
}

const SHA_PATH = /^\/[^/]+\/modeldeploy\/[^/]+\/[0-9a-f]{64}\//;

/** read: looks; write: changes; upload: model bytes (an object under a content address, or a multipart part). */
function kindOf(call: RecordedCall): EmulatorCall {
  const keys = (call.input as { keys?: string[] } | undefined)?.keys;
  const what = `${call.query ? `${call.operation}?${call.query}` : call.operation}${keys ? ` ${keys.join(' ')}` : ''}`;
  if (call.service === 'runtime') return { kind: 'read', what };
  if (call.service !== 's3') return { kind: /^(Describe|List)/.test(call.operation) ? 'read' : 'write', what };
  const [method = '', path = ''] = call.operation.split(' ');
  if (method === 'GET' || method === 'HEAD') return { kind: 'read', what };
  if ((method === 'PUT' || method === 'POST') && (SHA_PATH.test(path) || /(^|&)(uploads|uploadId|partNumber)=?/.test(call.query ?? ''))) return { kind: 'upload', what };
  return { kind: 'write', what };
}
