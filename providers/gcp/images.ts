/**
 * What serves a model on Vertex AI (cloud-apis.md B.4-B.6). Pure: no SDK, no network, no disk.
 *
 * - sklearn, xgboost, tensorflow and pytorch run on Vertex's prebuilt prediction containers,
 *   `{us|europe|asia}-docker.pkg.dev/vertex-ai/prediction/{sklearn|xgboost|tf2|pytorch}-{cpu|gpu}.{major}-{minor}:latest`
 *   (only the `latest` tag is supported). They read the model from the artifact directory by
 *   fixed file names and bring their own routes and port, so none are set here.
 * - `framework: huggingface` runs Hugging Face TGI from the Hugging Face Deep Learning Container
 *   for Google Cloud (built with TGI's `google` feature: it listens on AIP_HTTP_PORT, serves
 *   Vertex's `{"instances": [{"inputs", "parameters"}]}` → `{"predictions": [text]}` on
 *   AIP_PREDICT_ROUTE and health on AIP_HEALTH_ROUTE). Weights come from the Hub (MODEL_ID, no
 *   artifact) or from the uploaded folder (the image's entrypoint copies AIP_STORAGE_URI).
 * - `model.image` overrides all of it: a container on the modeldeploy contract (AIP_HTTP_PORT,
 *   AIP_HEALTH_ROUTE, AIP_PREDICT_ROUTE in deploy.yaml's env; defaults 8080, GET /ping,
 *   POST /invocations, as providers/azure/images.ts and examples/local-custom), unless it names
 *   a prebuilt prediction container or a TGI DLC, which are then served as such: the way to pin
 *   a version this table does not list.
 */
import type { DeploymentSpec } from '../../src/core/spec.js';

export interface VertexServing {
  kind: 'prebuilt' | 'llm' | 'custom';
  imageUri: string;
  /** Container routes/port; undefined where the image's own Vertex defaults apply. */
  predictRoute?: string;
  healthRoute?: string;
  port?: number;
  /** Extra env for the container spec, as Vertex's EnvVar list. */
  env: { name: string; value: string }[];
  command?: string[];
  args?: string[];
  /** File names the artifact directory must hold for a prebuilt container (any one of them); empty for llm/custom. */
  artifactFiles: string[];
  /** Whether an artifactUri (the uploaded model folder or a gs:// one) is passed to Vertex; false for an LLM pulled from the Hub. */
  needsArtifact: boolean;
  /** One line for `plan`. */
  description: string;
}

export class GcpServingError extends Error {
  constructor(
    message: string,
    readonly path: (string | number)[],
    readonly hint: string,
  ) {
    super(message);
  }
}

export type Multiregion = 'us' | 'europe' | 'asia';
type PrebuiltFramework = 'sklearn' | 'xgboost' | 'tensorflow' | 'pytorch';
type PrebuiltContainer = 'sklearn' | 'xgboost' | 'tf2' | 'pytorch';

export interface PrebuiltTable {
  /** The container's name in the image path. */
  container: PrebuiltContainer;
  /** Versions offered, oldest first; the last is the default. */
  versions: readonly string[];
  /** Whether a `-gpu` build exists. */
  gpu: boolean;
  /** The artifact file names the container loads (B.4). */
  artifactFiles: readonly string[];
  /** Versions the SDK still lists whose containers are past their support window: named in errors. */
  older: readonly string[];
}

/**
 * Vendored from googleapis/python-aiplatform `google/cloud/aiplatform/constants/prediction.py`
 * (snapshot of 2026-08-21, the SDK's own list of first-party prediction images; the three
 * multi-regions publish identical sets) and the "Prebuilt containers for inference" docs page
 * (support and availability dates). Offered: the versions Google added from January 2025 on
 * (TF 2.14-2.15, PyTorch 2.2-2.4, scikit-learn 1.4-1.6, XGBoost 2.0-2.1), whose containers the
 * docs list as available into 2027 (TF 2.14/2.15: end of availability Jan 14, 2027). The docs
 * give TF 2.13 (added with scikit-learn 1.3 in Nov 2023) an end of availability of Nov 28, 2025
 * and TF 2.12 (added with XGBoost 1.7) June 30, 2025; the dates of the older scikit-learn,
 * XGBoost and PyTorch images were not confirmed, so they are treated the same way: not picked,
 * named in the error, reachable with model.image. Conservative by design: a version missing
 * here costs a validate error with a way out; a retired one would cost a failed deploy.
 * XGBoost and scikit-learn are CPU only (the SDK lists no -gpu build for either).
 */
export const PREBUILT: Readonly<Record<PrebuiltFramework, PrebuiltTable>> = {
  sklearn: {
    container: 'sklearn',
    versions: ['1.4', '1.5', '1.6'],
    gpu: false,
    artifactFiles: ['model.joblib', 'model.pkl'],
    older: ['0.20', '0.22', '0.23', '0.24', '1.0', '1.2', '1.3'],
  },
  xgboost: {
    container: 'xgboost',
    versions: ['2.0', '2.1'],
    gpu: false,
    artifactFiles: ['model.bst', 'model.joblib', 'model.pkl'],
    older: ['0.82', '0.90', '1.1', '1.2', '1.3', '1.4', '1.5', '1.6', '1.7'],
  },
  tensorflow: {
    container: 'tf2',
    versions: ['2.14', '2.15'],
    gpu: true,
    artifactFiles: ['saved_model.pb'],
    older: ['1.15', ...Array.from({ length: 13 }, (_, i) => `2.${i + 1}`)],
  },
  pytorch: {
    container: 'pytorch',
    versions: ['2.2', '2.3', '2.4'],
    gpu: true,
    artifactFiles: ['model.mar'],
    older: ['1.11', '1.12', '1.13', '2.0', '2.1'],
  },
};

const BY_CONTAINER: Readonly<Record<PrebuiltContainer, PrebuiltFramework>> = { sklearn: 'sklearn', xgboost: 'xgboost', tf2: 'tensorflow', pytorch: 'pytorch' };

/**
 * Hugging Face TGI, from the Hugging Face DLCs for Google Cloud (huggingface/Google-Cloud-Containers,
 * huggingface.co/docs/google-cloud/containers/available; 2.4 is the newest that listing names, 2.3
 * is the one Hugging Face's Vertex AI notebooks deploy). The DLCs are published in the `us`
 * repository only (the docs give no europe/asia copy), which Vertex pulls from in any region.
 * A 3.0.1 Dockerfile exists in the repository but its published image name was not confirmed:
 * pin it (or any other DLC) with model.image. TGI itself is in maintenance mode since Dec 2025.
 */
export const TGI_DLC = {
  repository: 'us-docker.pkg.dev/deeplearning-platform-release/gcr.io',
  images: {
    '2.3': 'huggingface-text-generation-inference-cu124.2-3.ubuntu2204.py311',
    '2.4': 'huggingface-text-generation-inference-cu124.2-4.ubuntu2204.py311',
  } as Readonly<Record<string, string>>,
  default: '2.4',
  /** The DLC sets PORT=8080; with the google feature TGI listens on AIP_HTTP_PORT, which Vertex sets from this. */
  port: 8080,
} as const;

/** The modeldeploy container contract, shared with the local and azure providers (examples/local-custom). */
export const CONTAINER_CONTRACT = { port: 8080, health: '/ping', predict: '/invocations' } as const;

/**
 * Vertex region → the multi-region repository to pull prebuilt images from. Any of the three
 * serves the same image; the nearest saves pull time. The Python SDK maps only the `us`, `europe`
 * and `asia` prefixes (it takes the text before the first `-`); the others are our choice by
 * geography: the Americas → us; the Middle East (me-central1 Doha, me-central2 Dammam, me-west1
 * Tel Aviv) and Africa (africa-south1) → europe; Australia → asia.
 */
const MULTIREGION: Readonly<Record<string, Multiregion>> = {
  us: 'us',
  northamerica: 'us',
  southamerica: 'us',
  europe: 'europe',
  me: 'europe',
  africa: 'europe',
  asia: 'asia',
  australia: 'asia',
};

export const REGION_PREFIXES: readonly string[] = Object.keys(MULTIREGION);

/** The multi-region for a Vertex region; us-central1 (Vertex's default) when none is given. */
export function multiregionOf(region: string | undefined): Multiregion {
  const prefix = (region ?? 'us-central1').split('-')[0] ?? '';
  const found = MULTIREGION[prefix];
  if (!found) {
    throw new GcpServingError(`"${region}" is not a Vertex AI region`, ['region'], 'e.g. us-central1, europe-west4, asia-southeast1');
  }
  return found;
}

export function prebuiltImageUri(container: PrebuiltContainer, version: string, processor: 'cpu' | 'gpu', multiregion: Multiregion): string {
  return `${multiregion}-docker.pkg.dev/vertex-ai/prediction/${container}-${processor}.${version.replace('.', '-')}:latest`;
}

export function tgiImageUri(version: string): string | undefined {
  const image = TGI_DLC.images[version];
  return image ? `${TGI_DLC.repository}/${image}` : undefined;
}

/**
 * model.version as `major.minor`: "1.5", "1-5" (the image tag's spelling) and "1.5.2" (a
 * release; the patch is dropped, as the containers are per minor version) all give "1.5".
 * Note an unquoted YAML `2.10` is the number 2.1: the templates quote versions.
 */
export function majorMinor(version: string): string | undefined {
  const match = /^(\d+)[.-](\d+)(?:\.\d+)?$/.exec(version.trim());
  return match ? `${match[1]}.${match[2]}` : undefined;
}

const PREBUILT_URI = /^(us|europe|asia)-docker\.pkg\.dev\/vertex-ai\/prediction\/(sklearn|xgboost|tf2|pytorch)-(cpu|gpu)\.(\d+)-(\d+):latest$/;
const TGI_URI = /^[a-z]+-docker\.pkg\.dev\/deeplearning-platform-release\/gcr\.io\/huggingface-text-generation-inference-/;
/** Hub ids: `org/name` (or a legacy bare `name`), as TGI's MODEL_ID takes them. */
const HUB_ID = /^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/;
const GCS_URI = /^gs:\/\/[a-z0-9][a-z0-9._-]{1,220}[a-z0-9](\/.*)?$/;
const ROUTE = /^\/\S*$/;

/** How this spec is served on Vertex AI; throws GcpServingError naming the field to change. */
export function resolveServing(spec: DeploymentSpec): VertexServing {
  const { model } = spec;
  const hubId = hubModel(spec);
  if (model.image) {
    const prebuilt = PREBUILT_URI.exec(model.image);
    if (prebuilt) {
      const table = PREBUILT[BY_CONTAINER[prebuilt[2] as PrebuiltContainer]];
      return {
        kind: 'prebuilt',
        imageUri: model.image,
        env: [],
        artifactFiles: [...table.artifactFiles],
        needsArtifact: true,
        description: `Vertex prebuilt ${prebuilt[2]} ${prebuilt[4]}.${prebuilt[5]} (${prebuilt[3]?.toUpperCase()}), named by model.image`,
      };
    }
    if (TGI_URI.test(model.image)) return llm(spec, model.image, 'Hugging Face TGI (the DLC named by model.image, GPU)', hubId);
    return custom(spec, model.image, hubId);
  }
  switch (model.framework) {
    case 'huggingface': {
      const version = model.version === undefined ? TGI_DLC.default : majorMinor(model.version);
      const image = version ? tgiImageUri(version) : undefined;
      if (!version || !image) {
        throw new GcpServingError(
          `no Hugging Face TGI container for Vertex AI at version ${model.version}`,
          ['model', 'version'],
          `TGI versions with a Google Cloud DLC: ${Object.keys(TGI_DLC.images).join(', ')}; or set model.image to another ${TGI_DLC.repository}/huggingface-text-generation-inference-… image`,
        );
      }
      return llm(spec, image, `Hugging Face TGI ${version} (Google Cloud DLC, GPU)`, hubId);
    }
    case 'custom':
      throw new GcpServingError('framework custom on Vertex AI needs a serving image', ['model', 'image'], 'set model.image to your image in Artifact Registry (it serves AIP_HTTP_PORT, AIP_HEALTH_ROUTE, AIP_PREDICT_ROUTE)');
    case 'onnx':
      throw new GcpServingError(
        'Vertex AI has no prebuilt ONNX serving container',
        ['model', 'framework'],
        'set model.image to a serving image in Artifact Registry (e.g. one running onnxruntime), or deploy the model in the framework it was trained in',
      );
    default:
      return prebuilt(spec, model.framework);
  }
}

function prebuilt(spec: DeploymentSpec, framework: PrebuiltFramework): VertexServing {
  const table = PREBUILT[framework];
  const newest = table.versions[table.versions.length - 1] ?? '';
  const wanted = spec.model.version;
  const version = wanted === undefined ? newest : majorMinor(wanted);
  if (version === undefined) {
    throw new GcpServingError(`"${wanted}" is not a ${framework} version`, ['model', 'version'], `a major.minor version: ${table.versions.join(', ')}`);
  }
  const multiregion = multiregionOf(spec.region);
  if (!table.versions.includes(version)) {
    const older = table.older.includes(version);
    throw new GcpServingError(
      older
        ? `the Vertex prebuilt ${framework} ${version} container is past its support window; modeldeploy offers ${table.versions.join(', ')}`
        : `Vertex AI has no prebuilt ${framework} container for version ${version}`,
      ['model', 'version'],
      older
        ? `use ${newest} (re-save the model with it), or name the image yourself: model.image: ${prebuiltImageUri(table.container, version, 'cpu', multiregion)}`
        : `supported: ${table.versions.join(', ')} (newest ${newest}); or set model.image to your own serving image`,
    );
  }
  const gpu = spec.instance.accelerator !== undefined;
  if (gpu && !table.gpu) {
    throw new GcpServingError(
      `the Vertex prebuilt ${framework} container runs on CPU only, and instance.accelerator asks for a GPU`,
      ['instance', 'accelerator'],
      `remove accelerator (an n1-standard or n2-standard machine serves ${framework} well), or serve from your own GPU image with model.image`,
    );
  }
  const processor = gpu ? 'gpu' : 'cpu';
  return {
    kind: 'prebuilt',
    imageUri: prebuiltImageUri(table.container, version, processor, multiregion),
    env: [],
    artifactFiles: [...table.artifactFiles],
    needsArtifact: true,
    description: `Vertex prebuilt ${framework} ${version} (${processor.toUpperCase()})`,
  };
}

function llm(spec: DeploymentSpec, imageUri: string, label: string, hubId: string | undefined): VertexServing {
  const accelerator = spec.instance.accelerator;
  if (!accelerator) {
    throw new GcpServingError(
      'the Hugging Face TGI container needs a GPU: instance.accelerator is not set',
      ['instance', 'accelerator'],
      'e.g. type: g2-standard-8 with accelerator: {type: nvidia-l4, count: 1} (or an a2/a3 machine with its A100/H100)',
    );
  }
  const env = [
    ...(hubId ? [{ name: 'MODEL_ID', value: hubId }] : []),
    // One shard per GPU, as Hugging Face's Vertex examples set it (TGI's own count of visible devices has varied by release).
    { name: 'NUM_SHARD', value: String(accelerator.count) },
  ];
  const source = hubId ? `${hubId} from the Hugging Face Hub` : spec.model.uri ? spec.model.uri : 'the uploaded model folder';
  return {
    kind: 'llm',
    imageUri,
    // Routes stay Vertex's defaults: TGI registers AIP_PREDICT_ROUTE and AIP_HEALTH_ROUTE beside its
    // own routes, so naming one it already serves (/generate, /health) would clash at startup.
    port: TGI_DLC.port,
    env,
    artifactFiles: [],
    needsArtifact: hubId === undefined,
    description: `${label} serving ${source}`,
  };
}

function custom(spec: DeploymentSpec, imageUri: string, hubId: string | undefined): VertexServing {
  const rawPort = spec.env.AIP_HTTP_PORT;
  const port = rawPort === undefined ? CONTAINER_CONTRACT.port : Number(rawPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new GcpServingError(`"${rawPort}" is not a port number`, ['env', 'AIP_HTTP_PORT'], 'the port the serving image listens on, 1-65535');
  }
  const healthRoute = spec.env.AIP_HEALTH_ROUTE ?? CONTAINER_CONTRACT.health;
  const predictRoute = spec.env.AIP_PREDICT_ROUTE ?? CONTAINER_CONTRACT.predict;
  for (const [name, route] of [['AIP_HEALTH_ROUTE', healthRoute], ['AIP_PREDICT_ROUTE', predictRoute]] as const) {
    if (!ROUTE.test(route)) throw new GcpServingError(`"${route}" is not an HTTP path`, ['env', name], 'a path starting with /, e.g. /health or /predict');
  }
  return {
    kind: 'custom',
    imageUri,
    predictRoute,
    healthRoute,
    port,
    env: hubId ? [{ name: 'MODEL_ID', value: hubId }] : [],
    ...(spec.model.command ? { command: [...spec.model.command] } : {}),
    artifactFiles: [],
    needsArtifact: hubId === undefined,
    description: `custom container ${imageUri} (POST ${predictRoute}, GET ${healthRoute}, port ${port})`,
  };
}

/**
 * The Hub id of an hf:// model. Other schemes than gs:// and hf:// never get here: the core
 * refuses them at validate (capabilities.artifactSchemes).
 */
function hubModel(spec: DeploymentSpec): string | undefined {
  const uri = spec.model.uri;
  if (uri === undefined) return undefined;
  const scheme = uri.split(':')[0] ?? '';
  if (scheme === 'gs') {
    if (!GCS_URI.test(uri)) throw new GcpServingError(`"${uri}" is not a Cloud Storage folder`, ['model', 'uri'], 'gs://<bucket>/<folder>/ (the folder holding the model files)');
    return undefined;
  }
  if (scheme !== 'hf') return undefined;
  const id = uri.slice('hf://'.length);
  if (spec.model.framework !== 'huggingface') {
    throw new GcpServingError(`hf:// models are served by Hugging Face TGI: this is framework ${spec.model.framework}`, ['model', 'uri'], 'set framework: huggingface');
  }
  if (!HUB_ID.test(id)) throw new GcpServingError(`"${uri}" is not a Hugging Face model id`, ['model', 'uri'], 'hf://<org>/<model>, e.g. hf://Qwen/Qwen2.5-1.5B-Instruct');
  return id;
}
