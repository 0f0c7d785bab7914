/** provider: azure validate-time rules, serving resolution (curated images, TGI, custom images) and SKUs. */
import { describe, expect, it } from 'vitest';
import { capabilityIssues } from '../../src/core/capabilities.js';
import type { DeploymentSpec } from '../../src/core/spec.js';
import { targetOf } from '../../src/core/target.js';
import azure from '../../providers/azure/index.js';
import { condaFileFor, CURATED, resolveServing, ServingError } from '../../providers/azure/images.js';
import { findSku, isGpuSku } from '../../providers/azure/instance-types.js';
import { azureRules } from '../../providers/azure/rules.js';
import type { AzureSettings } from '../../providers/azure/settings.js';

type Overrides = Omit<Partial<DeploymentSpec>, 'model' | 'instance' | 'settings'> & {
  model?: Partial<DeploymentSpec['model']>;
  instance?: Partial<DeploymentSpec['instance']>;
  settings?: AzureSettings;
};

function spec(overrides: Overrides = {}): DeploymentSpec {
  const { model, instance, ...rest } = overrides;
  return {
    file: 'deploy.yaml',
    dir: '/p',
    name: 'churn',
    stage: 'prod',
    provider: 'azure',
    region: 'eastus',
    env: {},
    tags: {},
    timeouts: { deployMs: 1_800_000, startupMs: 600_000 },
    settings: { subscriptionId: '00000000-0000-0000-0000-000000000000', resourceGroup: 'ml-rg', workspace: 'ml-ws' },
    ...rest,
    model: { path: '/p/model', framework: 'pytorch', version: '2.2', ...model },
    instance: { type: 'Standard_DS3_v2', count: 1, ...instance },
  };
}

const target = (s: DeploymentSpec) => targetOf<AzureSettings>(s);
const show = (i: { path: (string | number)[]; message: string; hint?: string }) => `${i.path.join('.')}: ${i.message}${i.hint ? ` (${i.hint})` : ''}`;
const issues = (s: DeploymentSpec) => azureRules.check(target(s)).map(show);
/** What the core refuses for Azure ML by its declared capabilities, before the rules run. */
const refused = (s: DeploymentSpec) => capabilityIssues(s, azure).map(show);

describe('azure rules', () => {
  it('a plain spec passes; names are <name>-<stage>, r-<revision>', () => {
    expect(issues(spec())).toEqual([]);
    expect(refused(spec())).toEqual([]);
    expect(azureRules.names(target(spec()), '0a1b2c3d')).toEqual({ endpoint: 'churn-prod', deployment: 'r-0a1b2c3d', model: 'churn-prod' });
    expect(azure.capabilities).toEqual({ reachRevision: 'direct', accelerators: 'inType', gpuInstanceExample: 'Standard_NC4as_T4_v3', autoscaling: false, maxInstances: 50, artifactSchemes: ['azureml', 'https', 'hf'], logs: false });
  });

  it('instance types: the managed-online SKU list, with a guess; other clouds named; count ≤ 50, no autoscaling or accelerators (capabilities)', () => {
    expect(issues(spec({ instance: { type: 'Standard_DS3v2' } }))).toEqual(['instance.type: "Standard_DS3v2" is not a VM size Azure ML managed online endpoints offer (did you mean Standard_DS3_v2?)']);
    expect(issues(spec({ instance: { type: 'ml.m5.large' } }))[0]).toContain('"ml.m5.large" is a SageMaker instance type (provider: aws), not an Azure ML instance type');
    expect(issues(spec({ instance: { type: undefined } }))[0]).toContain('instance.type is required');
    expect(issues(spec({ instance: { type: 'standard_ds3_v2' } }))).toEqual([]); // the service compares VM sizes case-insensitively
    expect(issues(spec({ instance: { type: 'n1-standard-4' } }))[0]).toContain('is a Vertex AI machine type (provider: gcp), not an Azure ML instance type');
    expect(refused(spec({ instance: { count: 60 } }))).toEqual(['instance.count: Azure ML runs at most 50 instances of a revision; count is 60 (set count to 50 or less)']);
    expect(refused(spec({ instance: { autoscaling: { min: 1, max: 3 } } }))).toEqual(['instance.autoscaling: Azure ML does not autoscale (remove instance.autoscaling and set instance.count)']);
    expect(refused(spec({ instance: { accelerator: { type: 'nvidia-t4', count: 1 } } }))[0]).toContain('Azure ML attaches GPUs through the instance type');
  });

  it('the azure block, tags and env names', () => {
    expect(issues(spec({ settings: { subscriptionId: 'nope', resourceGroup: 'rg.', workspace: 'w' } }))).toEqual([
      'azure.subscriptionId: "nope" is not a subscription id (a GUID) (`az account show --query id -o tsv` prints yours)',
      'azure.resourceGroup: "rg." is not a resource group name (1-90 letters, digits, - _ . ( ), not ending with a dot)',
      'azure.workspace: "w" is not an Azure ML workspace name (3-33 letters, digits, - and _, starting with a letter or digit)',
    ]);
    expect(issues(spec({ tags: { 'a/b': 'x', team: 'y'.repeat(300) } }))).toHaveLength(2);
    expect(issues(spec({ env: { 'BAD-NAME': '1', AIP_HTTP_PORT: '99999' } }))).toEqual([
      'env.BAD-NAME: "BAD-NAME" is not an environment variable name (letters, digits and _, not starting with a digit)',
      'env.AIP_HTTP_PORT: "99999" is not a port number (the port the serving image listens on, 1-65535)',
    ]);
  });

  it('models: versions by framework, uris Azure can read, custom needs an image, TGI needs a GPU', () => {
    expect(issues(spec({ model: { version: 'latest' } }))).toEqual(['model.version: "latest" is not a torch version (a release number such as 2.2 or 1.5.1)']);
    expect(issues(spec({ model: { framework: 'sklearn', version: undefined } }))).toEqual([]);
    expect(issues(spec({ model: { framework: 'custom', version: undefined } }))[0]).toContain('model.image: framework custom on Azure ML needs a serving image');
    expect(refused(spec({ model: { path: undefined, uri: 's3://bucket/model/' } }))[0]).toContain('Azure ML cannot read s3:// artifacts');
    expect(issues(spec({ model: { path: undefined, uri: 'hf://org/model' } }))[0]).toContain('set framework huggingface');
    expect(issues(spec({ model: { path: undefined, uri: 'azureml://registries/azureml/models/phi/versions/3' } }))[0]).toContain('needs a serving image or environment');
    expect(issues(spec({ model: { path: undefined, uri: 'azureml://datastores/workspaceblobstore/paths/models/churn/' } }))).toEqual([]);
    expect(issues(spec({ model: { path: undefined, uri: 'azureml://somewhere/else' } }))[0]).toContain('neither a registry model nor a datastore path');
    const llm = spec({ model: { path: undefined, uri: 'hf://mistralai/Mistral-7B-Instruct-v0.3', framework: 'huggingface', version: '3.3' }, instance: { type: 'Standard_NC24ads_A100_v4' } });
    expect(issues(llm)).toEqual([]);
    expect(issues({ ...llm, instance: { type: 'Standard_DS3_v2', count: 1 } })[0]).toContain('Hugging Face TGI needs a GPU');
    expect(issues({ ...llm, model: { ...llm.model, version: '3.x' } })[0]).toContain('is not a Hugging Face TGI version');
  });

  it('details for plan without a call: the image, instance, workspace', () => {
    const llm = spec({ model: { path: undefined, uri: 'hf://mistralai/Mistral-7B-Instruct-v0.3', framework: 'huggingface', version: '3.3.5' }, instance: { type: 'Standard_NC24ads_A100_v4' } });
    expect(azureRules.details?.(target(llm))).toEqual({
      image: 'ghcr.io/huggingface/text-generation-inference:3.3.5',
      serving: 'Hugging Face TGI (/generate on port 80)',
      instanceType: 'Standard_NC24ads_A100_v4',
      instanceCount: 1,
      region: 'eastus',
      workspace: 'ml-rg/ml-ws',
    });
    expect(azureRules.details?.(target(spec()))).toMatchObject({ image: CURATED.cpu.image, package: 'torch 2.2', artifactPrefix: 'modeldeploy/churn/' });
  });
});

describe('azure serving', () => {
  it('an MLflow folder is a no-code deployment; a remote datastore model is taken as MLflow', () => {
    expect(resolveServing(spec(), { mlmodel: true, scoreScript: 'score.py' })).toEqual({ kind: 'mlflow' });
    expect(resolveServing(spec({ model: { path: undefined, uri: 'azureml://datastores/d/paths/p/' } }), undefined)).toEqual({ kind: 'mlflow' });
  });

  it('score.py runs on the curated minimal image for the processor, with the framework pinned in a conda file (or the folder\'s own)', () => {
    expect(resolveServing(spec(), { mlmodel: false, scoreScript: 'score.py' })).toEqual({
      kind: 'script',
      image: 'mcr.microsoft.com/azureml/curated/minimal-py311-inference:latest',
      curated: 'minimal-ubuntu22.04-py311-cpu-inference',
      scoringScript: 'score.py',
      condaFile: condaFileFor('pytorch', '2.2', '3.11'),
    });
    const gpu = resolveServing(spec({ instance: { type: 'Standard_NC6s_v3' } }), { mlmodel: false, scoreScript: 'score.py' });
    expect(gpu).toMatchObject({ kind: 'script', image: 'mcr.microsoft.com/azureml/curated/minimal-py312-cuda12.4-inference:latest' });
    expect(resolveServing(spec(), { mlmodel: false, scoreScript: 'score.py', condaFile: 'name: mine\n' })).toMatchObject({ condaFile: 'name: mine\n' });
    expect(condaFileFor('pytorch', '2.2', '3.11')).toContain('      - torch==2.2.*\n');
    expect(condaFileFor('sklearn', '1.5.1', '3.11')).toContain('      - scikit-learn==1.5.1\n');
    expect(condaFileFor('xgboost', undefined, '3.11')).toContain('      - xgboost\n');
    expect(condaFileFor('tensorflow', '2', '3.12')).toMatch(/python=3\.12[\s\S]*azureml-inference-server-http[\s\S]*tensorflow==2\.\*/);
  });

  it('a folder with neither MLmodel nor score.py cannot be served', () => {
    expect(() => resolveServing(spec(), { mlmodel: false })).toThrow(ServingError);
    try {
      resolveServing(spec(), { mlmodel: false });
    } catch (error) {
      expect(error).toMatchObject({ path: ['model', 'path'], hint: expect.stringContaining('score.py') });
    }
  });

  it('model.image: a custom container on the modeldeploy contract (AIP_* overrides), or an Azure ML environment id', () => {
    expect(resolveServing(spec({ model: { framework: 'custom', image: 'myacr.azurecr.io/server:1' } }), { mlmodel: false })).toEqual({
      kind: 'container',
      image: 'myacr.azurecr.io/server:1',
      liveness: { path: '/ping', port: 8080 },
      readiness: { path: '/ping', port: 8080 },
      scoring: { path: '/invocations', port: 8080 },
      env: { AIP_HTTP_PORT: '8080', AIP_HEALTH_ROUTE: '/ping', AIP_PREDICT_ROUTE: '/invocations', AIP_STORAGE_URI: '/var/azureml-app/model' },
      mountModel: true,
    });
    expect(resolveServing(spec({ model: { image: 'tfserving:2' }, env: { AIP_HTTP_PORT: '8501', AIP_HEALTH_ROUTE: '/v1/models/m', AIP_PREDICT_ROUTE: '/v1/models/m:predict' } }), undefined)).toMatchObject({
      liveness: { path: '/v1/models/m', port: 8501 },
      scoring: { path: '/v1/models/m:predict', port: 8501 },
    });
    const envId = 'azureml://registries/azureml/environments/sklearn-1.5/versions/12';
    expect(resolveServing(spec({ model: { image: envId } }), { mlmodel: false, scoreScript: 'score.py' })).toEqual({ kind: 'environment', environmentId: envId, scoringScript: 'score.py' });
  });

  it('huggingface: TGI, weights from the Hub (hf://) or the uploaded folder mounted into the container', () => {
    expect(resolveServing(spec({ model: { path: undefined, uri: 'hf://org/llm', framework: 'huggingface', version: '3.3.5' } }), undefined)).toEqual({
      kind: 'container',
      image: 'ghcr.io/huggingface/text-generation-inference:3.3.5',
      liveness: { path: '/health', port: 80 },
      readiness: { path: '/health', port: 80 },
      scoring: { path: '/generate', port: 80 },
      env: { MODEL_ID: 'org/llm' },
      mountModel: false,
    });
    expect(resolveServing(spec({ model: { framework: 'huggingface', version: undefined } }), { mlmodel: false })).toMatchObject({ env: { MODEL_ID: '/var/azureml-app/model' }, mountModel: true });
  });

  it('SKUs: case-insensitive lookup with the quota family; N-series is GPU', () => {
    expect(findSku('standard_ds3_v2')).toEqual({ name: 'Standard_DS3_v2', family: 'standardDSv2Family', cores: 4, gpus: 0 });
    expect(isGpuSku('Standard_NV6ads_A10_v5')).toBe(true);
    expect(isGpuSku('Standard_F4s_v2')).toBe(false);
  });
});
