/**
 * What serves a model on an Azure ML managed online deployment (cloud-apis.md C.4-C.6). Pure:
 * the caller says which files the model folder holds.
 *
 * - An MLflow model (an `MLmodel` file) deploys without code or environment: Azure ML builds the
 *   environment from the model's own conda/python_env file ("no-code deployment").
 * - A folder with `score.py` (init() and run(), the Azure ML inference server contract) runs on
 *   Azure's curated minimal inference image, CPU or CUDA by instance type, with a conda file:
 *   the folder's own `conda.yaml`, or one that pins the framework's pip package at model.version.
 *   Only the minimal and mlflow inference environments are curated for inference, so the
 *   framework always comes from the conda file.
 * - `framework: huggingface` runs Hugging Face TGI as a custom container (an LLM: weights from
 *   the Hub via hf://, or the uploaded folder mounted into the container).
 * - `model.image` overrides all of it: a container image served through the routes of the
 *   modeldeploy container contract (AIP_HTTP_PORT, AIP_HEALTH_ROUTE, AIP_PREDICT_ROUTE; defaults
 *   8080, /ping, /invocations), or an Azure ML environment id used as is.
 */
import type { DeploymentSpec } from '../../src/core/spec.js';
import { isGpuSku } from './instance-types.js';

export interface CuratedImage {
  /** The curated environment's name in the `azureml` registry. */
  environment: string;
  /** Its image on mcr.microsoft.com (`latest`: the environment versions are numbered at publish time). */
  image: string;
  python: string;
}

/** Azure/azureml-assets assets/inference/environments/*: the curated inference images. */
export const CURATED: Readonly<Record<'cpu' | 'gpu', CuratedImage>> = {
  cpu: { environment: 'minimal-ubuntu22.04-py311-cpu-inference', image: 'mcr.microsoft.com/azureml/curated/minimal-py311-inference:latest', python: '3.11' },
  gpu: { environment: 'minimal-py312-cuda12.4-inference', image: 'mcr.microsoft.com/azureml/curated/minimal-py312-cuda12.4-inference:latest', python: '3.12' },
};

/** The pip package a scoring script of each framework imports. */
export const FRAMEWORK_PACKAGES: Readonly<Partial<Record<DeploymentSpec['model']['framework'], string>>> = {
  sklearn: 'scikit-learn',
  xgboost: 'xgboost',
  pytorch: 'torch',
  tensorflow: 'tensorflow',
  onnx: 'onnxruntime',
};

/** Hugging Face Text Generation Inference: serves on port 80, GET /health, POST /generate. */
export const TGI = { repository: 'ghcr.io/huggingface/text-generation-inference', defaultVersion: '3.3.5', port: 80, health: '/health', generate: '/generate' } as const;

/** The modeldeploy container contract, shared with the local provider (see examples/local-custom). */
export const CONTAINER_CONTRACT = { port: 8080, health: '/ping', predict: '/invocations' } as const;

/** Where the uploaded model folder appears inside a custom container (deployment `modelMountPath`). */
export const MODEL_MOUNT_PATH = '/var/azureml-app/model';

export interface Route {
  path: string;
  port: number;
}

export type Serving =
  /** No-code MLflow deployment: no environment, no code. */
  | { kind: 'mlflow' }
  /** score.py on a curated image with a conda file. */
  | { kind: 'script'; image: string; condaFile: string; scoringScript: string; curated: string }
  /** score.py (optional) on an Azure ML environment the user named. */
  | { kind: 'environment'; environmentId: string; scoringScript?: string }
  /** A container serving its own routes (TGI or model.image). */
  | { kind: 'container'; image: string; liveness: Route; readiness: Route; scoring: Route; env: Record<string, string>; mountModel: boolean };

/** What the model folder holds, as far as serving goes. */
export interface ModelFiles {
  mlmodel: boolean;
  scoreScript?: string;
  condaFile?: string;
}

const ENVIRONMENT_ID = /^(azureml:\/\/registries\/[^/]+\/environments\/[^/]+\/versions\/[^/]+|\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.MachineLearningServices\/workspaces\/[^/]+\/environments\/[^/]+\/versions\/[^/]+)$/i;

export function isEnvironmentId(image: string): boolean {
  return ENVIRONMENT_ID.test(image);
}

export class ServingError extends Error {
  constructor(
    message: string,
    readonly path: (string | number)[],
    readonly hint: string,
  ) {
    super(message);
  }
}

/** How this spec is served, given what its model folder holds (undefined files: a remote model). */
export function resolveServing(spec: DeploymentSpec, files: ModelFiles | undefined): Serving {
  const { model } = spec;
  if (model.image && isEnvironmentId(model.image)) {
    return { kind: 'environment', environmentId: model.image, ...(files?.scoreScript ? { scoringScript: files.scoreScript } : {}) };
  }
  if (model.image) {
    const port = Number(spec.env.AIP_HTTP_PORT ?? CONTAINER_CONTRACT.port);
    const health = spec.env.AIP_HEALTH_ROUTE ?? CONTAINER_CONTRACT.health;
    const predict = spec.env.AIP_PREDICT_ROUTE ?? CONTAINER_CONTRACT.predict;
    return {
      kind: 'container',
      image: model.image,
      liveness: { path: health, port },
      readiness: { path: health, port },
      scoring: { path: predict, port },
      env: { AIP_HTTP_PORT: String(port), AIP_HEALTH_ROUTE: health, AIP_PREDICT_ROUTE: predict, ...(model.path ? { AIP_STORAGE_URI: MODEL_MOUNT_PATH } : {}) },
      mountModel: model.path !== undefined,
    };
  }
  if (model.framework === 'huggingface') {
    const hub = model.uri?.startsWith('hf://') ? model.uri.slice('hf://'.length) : undefined;
    return {
      kind: 'container',
      image: tgiImage(model.version),
      liveness: { path: TGI.health, port: TGI.port },
      readiness: { path: TGI.health, port: TGI.port },
      scoring: { path: TGI.generate, port: TGI.port },
      env: { MODEL_ID: hub ?? MODEL_MOUNT_PATH },
      mountModel: hub === undefined,
    };
  }
  if (model.framework === 'custom') {
    throw new ServingError('framework custom on Azure ML needs a serving image', ['model', 'image'], 'set model.image to your container image (or an Azure ML environment id)');
  }
  if (!files || files.mlmodel) return { kind: 'mlflow' };
  if (files.scoreScript) {
    const curated = CURATED[isGpuSku(spec.instance.type) ? 'gpu' : 'cpu'];
    return {
      kind: 'script',
      image: curated.image,
      curated: curated.environment,
      scoringScript: files.scoreScript,
      condaFile: files.condaFile ?? condaFileFor(model.framework, model.version, curated.python),
    };
  }
  throw new ServingError(
    `the model folder has neither an MLmodel file (an MLflow model) nor a score.py scoring script`,
    ['model', 'path'],
    'add score.py with init() and run(raw_data) beside the model files, save the model with mlflow, or set model.image',
  );
}

export function tgiImage(version: string | undefined): string {
  return `${TGI.repository}:${version ?? TGI.defaultVersion}`;
}

/** A conda file with the inference server and the framework at the version deploy.yaml names. */
export function condaFileFor(framework: DeploymentSpec['model']['framework'], version: string | undefined, python: string): string {
  const pkg = FRAMEWORK_PACKAGES[framework];
  const pin = pkg ? `${pkg}${version ? `==${version}${/^\d+\.\d+$/.test(version) || /^\d+$/.test(version) ? '.*' : ''}` : ''}` : undefined;
  return [
    'name: modeldeploy',
    'channels:',
    '  - conda-forge',
    'dependencies:',
    `  - python=${python}`,
    '  - pip',
    '  - pip:',
    '      - azureml-inference-server-http',
    ...(pin ? [`      - ${pin}`] : []),
    '',
  ].join('\n');
}

/** A short description of the serving setup, for `plan`. */
export function describeServing(serving: Serving): Record<string, unknown> {
  switch (serving.kind) {
    case 'mlflow':
      return { serving: 'MLflow model (no-code deployment: Azure ML builds the environment from the model)' };
    case 'script':
      return { serving: `scoring script ${serving.scoringScript}`, image: serving.image, curatedEnvironment: serving.curated };
    case 'environment':
      return { serving: serving.scoringScript ? `scoring script ${serving.scoringScript}` : 'environment', environment: serving.environmentId };
    case 'container':
      return { serving: 'custom container', image: serving.image, scoringRoute: `${serving.scoring.path} (port ${serving.scoring.port})` };
  }
}
