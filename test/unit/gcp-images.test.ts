/** provider: gcp serving resolution (prebuilt containers, TGI, custom images) and error mapping. Pure: no SDK, no network. */
import { describe, expect, it } from 'vitest';
import type { DeploymentSpec } from '../../src/core/spec.js';
import { targetOf } from '../../src/core/target.js';
import { GcpServingError, majorMinor, resolveServing } from '../../providers/gcp/images.js';
import { deployedModelIdOf, gcpLabels, gcpNames, ownerOfLabels, smokeEndpointId } from '../../providers/gcp/names.js';
import { builtInGpu, gcpRules } from '../../providers/gcp/rules.js';
import type { GcpSettings } from '../../providers/gcp/settings.js';
import { type CanonicalCode, toProviderError, VertexHttpError } from '../../providers/gcp/errors.js';

type Overrides = Omit<Partial<DeploymentSpec>, 'model' | 'instance'> & { model?: Partial<DeploymentSpec['model']>; instance?: Partial<DeploymentSpec['instance']> };

function spec(overrides: Overrides = {}): DeploymentSpec {
  const { model, instance, ...rest } = overrides;
  return {
    file: 'deploy.yaml',
    dir: '/p',
    name: 'iris',
    stage: 'prod',
    provider: 'gcp',
    region: 'us-central1',
    env: {},
    tags: {},
    timeouts: { deployMs: 1_800_000, startupMs: 600_000 },
    settings: { project: 'my-project', bucket: 'my-models' },
    ...rest,
    model: { uri: 'gs://my-models/iris/', framework: 'sklearn', ...model },
    instance: { type: 'n1-standard-4', count: 1, ...instance },
  };
}

function servingError(s: DeploymentSpec): GcpServingError {
  try {
    resolveServing(s);
  } catch (error) {
    if (error instanceof GcpServingError) return error;
    throw error;
  }
  throw new Error('resolveServing accepted the spec');
}

describe('Vertex AI serving containers', () => {
  it.each([
    ['sklearn', '1.5', 'us-central1', undefined, 'us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-5:latest'],
    ['sklearn', undefined, 'europe-west4', undefined, 'europe-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-6:latest'],
    ['xgboost', '2.1.3', 'asia-southeast1', undefined, 'asia-docker.pkg.dev/vertex-ai/prediction/xgboost-cpu.2-1:latest'],
    ['tensorflow', '2-15', 'australia-southeast1', undefined, 'asia-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest'],
    ['tensorflow', '2.14', 'us-east4', 'nvidia-tesla-t4', 'us-docker.pkg.dev/vertex-ai/prediction/tf2-gpu.2-14:latest'],
    ['pytorch', '2.4', 'me-west1', undefined, 'europe-docker.pkg.dev/vertex-ai/prediction/pytorch-cpu.2-4:latest'],
    ['pytorch', '2.3', 'northamerica-northeast1', 'nvidia-tesla-t4', 'us-docker.pkg.dev/vertex-ai/prediction/pytorch-gpu.2-3:latest'],
  ] as const)('%s %s in %s (gpu %s)', (framework, version, region, gpu, uri) => {
    const s = spec({ region, model: { framework, ...(version ? { version } : {}) }, instance: gpu ? { accelerator: { type: gpu, count: 1 } } : {} });
    const serving = resolveServing(s);
    expect(serving).toMatchObject({ kind: 'prebuilt', imageUri: uri, needsArtifact: true });
    expect(serving.predictRoute).toBeUndefined();
  });

  it('reads versions as major.minor in any of the spellings users write', () => {
    expect([majorMinor('1.5'), majorMinor('1-5'), majorMinor('1.5.2'), majorMinor('latest'), majorMinor('1')]).toEqual(['1.5', '1.5', '1.5', undefined, undefined]);
  });

  it('serves a Hub LLM on TGI with MODEL_ID, one shard per GPU, and no artifact', () => {
    const s = spec({ model: { uri: 'hf://Qwen/Qwen2.5-1.5B-Instruct', framework: 'huggingface' }, instance: { type: 'g2-standard-24', accelerator: { type: 'nvidia-l4', count: 2 } } });
    const serving = resolveServing(s);
    expect(serving).toMatchObject({ kind: 'llm', needsArtifact: false, port: 8080, artifactFiles: [] });
    expect(serving.imageUri).toBe('us-docker.pkg.dev/deeplearning-platform-release/gcr.io/huggingface-text-generation-inference-cu124.2-4.ubuntu2204.py311');
    expect(serving.env).toEqual([{ name: 'MODEL_ID', value: 'Qwen/Qwen2.5-1.5B-Instruct' }, { name: 'NUM_SHARD', value: '2' }]);
  });

  it('takes a custom image with the modeldeploy contract, or the AIP_* routes and port from env', () => {
    expect(resolveServing(spec({ model: { framework: 'custom', image: 'us-docker.pkg.dev/p/r/server:1' } }))).toMatchObject({ kind: 'custom', port: 8080, healthRoute: '/ping', predictRoute: '/invocations' });
    const own = resolveServing(spec({ model: { framework: 'custom', image: 'us-docker.pkg.dev/p/r/server:1' }, env: { AIP_HTTP_PORT: '7080', AIP_PREDICT_ROUTE: '/predict', AIP_HEALTH_ROUTE: '/health' } }));
    expect(own).toMatchObject({ port: 7080, healthRoute: '/health', predictRoute: '/predict' });
    // A prebuilt container named by model.image is served as one: a way to pin a version the table does not offer.
    expect(resolveServing(spec({ model: { image: 'us-docker.pkg.dev/vertex-ai/prediction/xgboost-cpu.1-7:latest', framework: 'xgboost' } }))).toMatchObject({ kind: 'prebuilt', artifactFiles: ['model.bst', 'model.joblib', 'model.pkl'] });
  });

  it('refuses what Vertex cannot serve, naming the field to change', () => {
    expect(servingError(spec({ model: { framework: 'onnx' } })).path).toEqual(['model', 'framework']);
    expect(servingError(spec({ model: { framework: 'sklearn', version: '0.9' } })).path).toEqual(['model', 'version']);
    expect(servingError(spec({ model: { framework: 'xgboost' }, instance: { accelerator: { type: 'nvidia-tesla-t4', count: 1 } } })).path).toEqual(['instance', 'accelerator']);
    expect(servingError(spec({ model: { framework: 'huggingface', uri: 'hf://org/m' } })).message).toContain('needs a GPU');
    expect(servingError(spec({ model: { uri: 'gs://b' } })).path).toEqual(['model', 'uri']);
    expect(servingError(spec({ model: { framework: 'custom', image: 'x/y:1' }, env: { AIP_HTTP_PORT: '99999' } })).path).toEqual(['env', 'AIP_HTTP_PORT']);
  });
});

describe('Vertex AI names, labels and machines', () => {
  it('fits the smoke endpoint id into 63 characters', () => {
    const long = 'a'.repeat(63);
    expect(smokeEndpointId(long, '0123abcd')).toHaveLength(63);
    expect(smokeEndpointId('iris-prod', '0123abcd')).toBe('iris-prod-0123abcd');
    expect(smokeEndpointId(`${'a'.repeat(53)}-b`, '0123abcd')).toBe(`${'a'.repeat(53)}-0123abcd`);
  });

  it('labels with lowercased tags, modeldeploy labels winning, and reads the owner back from them', () => {
    const labels = gcpLabels(targetOf(spec({ tags: { Team: 'ML', 'modeldeploy-stage': 'x' } })), { 'modeldeploy-revision': 'abc' });
    expect(labels).toEqual({
      team: 'ml',
      'modeldeploy-stage': 'prod',
      'modeldeploy-deployment': 'iris',
      'modeldeploy-revision': 'abc',
    });
    expect(ownerOfLabels(labels)).toEqual({ deployment: 'iris', stage: 'prod' });
    expect(ownerOfLabels({ team: 'ml' })).toEqual({});
  });

  it('derives every name from the base name and the revision', () => {
    expect(gcpNames({ base: 'iris-prod' }, '0123abcd')).toEqual({
      endpoint: 'iris-prod',
      model: 'iris-prod',
      modelVersionAlias: 'r-0123abcd',
      deployedModel: 'r-0123abcd',
      smokeEndpoint: 'iris-prod-0123abcd',
    });
    expect(deployedModelIdOf('0123abcd')).toMatch(/^\d{10}$/);
    expect(deployedModelIdOf('0123abcd')).toBe(deployedModelIdOf('0123abcd'));
  });

  it('knows the GPUs accelerator-optimized machines come with', () => {
    expect(builtInGpu('g2-standard-24')).toEqual({ accelerator: 'NVIDIA_L4', count: 2 });
    expect(builtInGpu('a3-highgpu-8g')).toEqual({ accelerator: 'NVIDIA_H100_80GB', count: 8 });
    expect(builtInGpu('n1-standard-4')).toBeUndefined();
    const issues = gcpRules.check(targetOf<GcpSettings>(spec({ instance: { type: 'a2-highgpu-1g', accelerator: { type: 'nvidia-tesla-a100', count: 2 } }, model: { framework: 'tensorflow' } })));
    expect(issues.map((i) => i.path.join('.'))).toContain('instance.accelerator.count');
  });
});

describe('Vertex AI errors', () => {
  const http = (status: number, canonical: CanonicalCode, message: string) => new VertexHttpError(status, canonical, message);

  it.each([
    [429, 'RESOURCE_EXHAUSTED', 'Quota exceeded for aiplatform.googleapis.com/custom_model_serving_cpus', 'quota'],
    [429, 'RESOURCE_EXHAUSTED', 'Too many requests', 'throttled'],
    [503, 'UNAVAILABLE', 'The service is currently unavailable.', 'unavailable'],
    [403, 'PERMISSION_DENIED', "Permission 'aiplatform.endpoints.create' denied", 'auth'],
    [404, 'NOT_FOUND', 'Endpoint not found', 'notFound'],
    [409, 'ALREADY_EXISTS', 'Endpoint already exists', 'conflict'],
    [400, 'INVALID_ARGUMENT', 'Machine type "n1-standard-0" is not supported.', 'invalid'],
  ] as const)('%i %s → %s', (status, canonical, message, kind) => {
    const mapped = toProviderError(http(status, canonical, message), { operation: 'deployModel', subject: 'endpoint iris-prod' });
    expect(mapped.category).toBe(kind);
    expect(mapped.message).toContain(message.slice(0, 20));
  });
});
