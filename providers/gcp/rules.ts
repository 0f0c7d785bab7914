/**
 * Validate-time rules for provider: gcp (Vertex AI). Pure: no SDK, no network; the only I/O is a
 * synchronous look at a local model folder, for the file names a prebuilt container loads.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Capabilities, ProviderRules, RuleIssue, Target } from '../../src/core/provider.js';
import type { DeploymentSpec } from '../../src/core/spec.js';
import { closest } from '../../src/config/suggest.js';
import { otherCloudOf } from '../cloud-names.js';
import { GcpServingError, REGION_PREFIXES, resolveServing, type VertexServing } from './images.js';
import { LABEL, gcpNames } from './names.js';
import type { GcpSettings } from './settings.js';

export const capabilities: Capabilities = {
  // Vertex routes predictions by traffic split only: a new revision is reached on a smoke endpoint (deploy.ts).
  reachRevision: 'shadowEndpoint',
  accelerators: 'separate',
  autoscaling: true,
  // Vertex sets no maximum of its own (quota does); beyond this a count is a typo, not a plan.
  maxInstances: 1000,
  artifactSchemes: ['gs', 'hf'],
  logs: false,
};

/** accelerator.type as users write it (nvidia-l4) → Vertex's enum (NVIDIA_L4). */
export const ACCELERATORS: Readonly<Record<string, string>> = {
  'nvidia-tesla-t4': 'NVIDIA_TESLA_T4',
  'nvidia-tesla-v100': 'NVIDIA_TESLA_V100',
  'nvidia-tesla-p100': 'NVIDIA_TESLA_P100',
  'nvidia-tesla-p4': 'NVIDIA_TESLA_P4',
  'nvidia-tesla-a100': 'NVIDIA_TESLA_A100',
  'nvidia-a100-80gb': 'NVIDIA_A100_80GB',
  'nvidia-l4': 'NVIDIA_L4',
  'nvidia-h100-80gb': 'NVIDIA_H100_80GB',
  'nvidia-h100-mega-80gb': 'NVIDIA_H100_MEGA_80GB',
  'nvidia-h200-141gb': 'NVIDIA_H200_141GB',
  'nvidia-b200': 'NVIDIA_B200',
};

const MACHINE_TYPE = /^(n1|n2|n2d|e2|c2|c2d|c3|m1|a2|a3|a4|g2)-(standard|highmem|highcpu|highgpu|megagpu|ultragpu)-\d+g?$/;
/** B.3: a letter first, then [a-z0-9-], a letter or digit last, ≤ 63 (the numeric form is server-generated). */
const ENDPOINT_ID = /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** B.3: ≤ 63 of [a-z0-9_-], the first not a digit or hyphen. */
const MODEL_ID = /^[a-z_][a-z0-9_-]{0,62}$/;
const VERSION_ALIAS = /^[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]$/;
const REGION = /^[a-z]+-[a-z]+\d+$/;
/** 6-30 lowercase letters, digits and hyphens, a letter first, not ending with a hyphen; optionally domain-scoped (example.com:my-project). */
const PROJECT = /^(?:[a-z0-9][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
/** Cloud Storage: lowercase letters, digits, -, _ and ., a letter or digit at both ends; dotted names up to 222 with ≤ 63 per part. */
const BUCKET = /^[a-z0-9][a-z0-9._-]*[a-z0-9]$/;
/** GCP labels: ≤ 63 lowercase letters (international too), digits, _ and -; keys start with a lowercase letter. */
const LABEL_KEY = /^\p{Ll}[\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;
const MAX_LABELS = 64;
const OWN_LABELS = Object.keys(LABEL).length;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Vertex regions as of the python-aiplatform snapshot of 2026-08 (only for "did you mean"; new regions pass the format check). */
const KNOWN_REGIONS = [
  'africa-south1', 'asia-east1', 'asia-east2', 'asia-northeast1', 'asia-northeast2', 'asia-northeast3', 'asia-south1', 'asia-south2',
  'asia-southeast1', 'asia-southeast2', 'australia-southeast1', 'australia-southeast2', 'europe-central2', 'europe-north1',
  'europe-north2', 'europe-southwest1', 'europe-west1', 'europe-west2', 'europe-west3', 'europe-west4', 'europe-west6',
  'europe-west8', 'europe-west9', 'europe-west12', 'me-central1', 'me-central2', 'me-west1', 'northamerica-northeast1',
  'northamerica-northeast2', 'southamerica-east1', 'southamerica-west1', 'us-central1', 'us-east1', 'us-east4', 'us-east5',
  'us-east7', 'us-south1', 'us-west1', 'us-west2', 'us-west3', 'us-west4', 'us-west8',
];

/**
 * Which GPUs attach to which machine types (Compute Engine's GPU machine table, as the Vertex
 * compute-resources page repeats it; the API itself only answers INVALID_ARGUMENT). N1 takes
 * T4/P4/P100/V100 in the counts listed; the accelerator-optimized families come with a fixed GPU
 * and count. N1's per-count vCPU limits are not checked here (the service reports them).
 */
const N1_GPUS: Readonly<Record<string, readonly number[]>> = {
  NVIDIA_TESLA_T4: [1, 2, 4],
  NVIDIA_TESLA_P4: [1, 2, 4],
  NVIDIA_TESLA_P100: [1, 2, 4],
  NVIDIA_TESLA_V100: [1, 2, 4, 8],
};
const G2_L4S: Readonly<Record<string, number>> = { '4': 1, '8': 1, '12': 1, '16': 1, '32': 1, '24': 2, '48': 4, '96': 8 };

interface BuiltInGpu {
  accelerator: string;
  count: number;
}

/** The GPU an accelerator-optimized machine type comes with; undefined for others. */
export function builtInGpu(machineType: string): BuiltInGpu | undefined {
  let m: RegExpExecArray | null;
  if ((m = /^g2-standard-(\d+)$/.exec(machineType))) {
    const count = G2_L4S[m[1] ?? ''];
    return count ? { accelerator: 'NVIDIA_L4', count } : undefined;
  }
  if ((m = /^a2-highgpu-([1248])g$/.exec(machineType))) return { accelerator: 'NVIDIA_TESLA_A100', count: Number(m[1]) };
  if (machineType === 'a2-megagpu-16g') return { accelerator: 'NVIDIA_TESLA_A100', count: 16 };
  if ((m = /^a2-ultragpu-([1248])g$/.exec(machineType))) return { accelerator: 'NVIDIA_A100_80GB', count: Number(m[1]) };
  if ((m = /^a3-highgpu-([1248])g$/.exec(machineType))) return { accelerator: 'NVIDIA_H100_80GB', count: Number(m[1]) };
  if (machineType === 'a3-megagpu-8g') return { accelerator: 'NVIDIA_H100_MEGA_80GB', count: 8 };
  if (machineType === 'a3-ultragpu-8g') return { accelerator: 'NVIDIA_H200_141GB', count: 8 };
  if (machineType === 'a4-highgpu-8g') return { accelerator: 'NVIDIA_B200', count: 8 };
  return undefined;
}

/** The id users write for a Vertex accelerator enum (NVIDIA_L4 → nvidia-l4). */
function acceleratorName(enumValue: string): string {
  return Object.entries(ACCELERATORS).find(([, v]) => v === enumValue)?.[0] ?? enumValue.toLowerCase();
}

export const gcpRules: ProviderRules<GcpSettings> = {
  check(t) {
    const { spec } = t;
    // The loader reports a missing gcp block itself; the rest is still checked.
    const settings = t.settings as GcpSettings | undefined;
    const issues: RuleIssue[] = [];
    issues.push(...nameIssues(t));
    if (spec.region && !REGION.test(spec.region)) {
      const guess = closest(spec.region, KNOWN_REGIONS);
      issues.push({ path: ['region'], message: `"${spec.region}" is not a Google Cloud region`, hint: guess ? `did you mean ${guess}?` : 'e.g. us-central1, europe-west4' });
    } else if (spec.region && !REGION_PREFIXES.includes(spec.region.split('-')[0] ?? '')) {
      issues.push({ path: ['region'], message: `"${spec.region}" is not a Vertex AI region`, hint: `Vertex regions start with ${REGION_PREFIXES.join('-, ')}- (e.g. us-central1)` });
    }
    issues.push(...machineIssues(spec));
    if (settings) {
      if (!PROJECT.test(settings.project)) {
        issues.push({ path: ['gcp', 'project'], message: `"${settings.project}" is not a Google Cloud project id`, hint: '6-30 lowercase letters, digits and hyphens, starting with a letter (`gcloud config get project` prints yours)' });
      }
      const bucket = bucketIssue(settings.bucket);
      if (bucket) issues.push({ path: ['gcp', 'bucket'], ...bucket });
    }
    issues.push(...labelIssues(spec));
    for (const key of Object.keys(spec.env)) {
      if (!ENV_NAME.test(key)) issues.push({ path: ['env', key], message: `"${key}" is not an environment variable name`, hint: 'letters, digits and _, not starting with a digit' });
    }

    let serving: VertexServing | undefined;
    try {
      serving = resolveServing(spec);
    } catch (error) {
      if (!(error instanceof GcpServingError)) throw error;
      // One problem per field: an issue already found there (or under it) says enough.
      const related = issues.some((i) => startsWith(i.path, error.path) || startsWith(error.path, i.path));
      if (!related) issues.push({ path: error.path, message: error.message, hint: error.hint });
    }
    if (serving?.kind === 'prebuilt' && spec.model.path) {
      const artifact = artifactIssue(spec, spec.model.path, serving);
      if (artifact) issues.push(artifact);
    }
    return issues;
  },
  names: (t, revision) => gcpNames(t, revision),
  /**
   * What `plan --offline` shows. The resource names are not repeated here: plan prints
   * names(t, revision) beside these, with the real revision.
   */
  details(t) {
    const { spec } = t;
    const settings = t.settings as GcpSettings | undefined;
    let serving: VertexServing | undefined;
    try {
      serving = resolveServing(spec);
    } catch {
      serving = undefined;
    }
    const accelerator = spec.instance.accelerator;
    const scaling = spec.instance.autoscaling;
    const uploads = spec.model.path !== undefined && serving?.needsArtifact !== false;
    return {
      ...(serving ? { imageUri: serving.imageUri, serving: serving.description } : {}),
      machineType: spec.instance.type ?? 'n1-standard-2',
      ...(accelerator ? { accelerator: { type: ACCELERATORS[accelerator.type.toLowerCase()] ?? accelerator.type, count: accelerator.count } } : {}),
      replicas: { min: scaling?.min ?? spec.instance.count, max: scaling?.max ?? spec.instance.count },
      ...(settings ? { project: settings.project } : {}),
      ...(spec.region ? { region: spec.region } : {}),
      ...(settings ? { bucket: settings.bucket } : {}),
      ...(settings && uploads ? { artifactPrefix: `gs://${settings.bucket}/modeldeploy/${spec.name}/` } : {}),
      ...(spec.model.uri?.startsWith('gs://') ? { artifactUri: spec.model.uri } : {}),
    };
  },
};

function nameIssues(t: Target): RuleIssue[] {
  const { spec } = t;
  const issues: RuleIssue[] = [];
  const names = gcpNames(t);
  const base = names.endpoint ?? '';
  const shorten = base.length > 63 ? `shorten name or stage by ${base.length - 63} characters` : 'lowercase letters, digits and -, starting with a letter';
  if (!ENDPOINT_ID.test(base)) {
    issues.push({ path: ['name'], message: `the Vertex AI endpoint id "${base}" must be 1-63 lowercase letters, digits and -, a letter first and a letter or digit last`, hint: shorten });
  } else if (!MODEL_ID.test(base)) {
    issues.push({ path: ['name'], message: `the Vertex AI model id "${base}" must be 1-63 lowercase letters, digits, _ and -, not starting with a digit or -`, hint: shorten });
  } else if (!VERSION_ALIAS.test(names.modelVersionAlias ?? '')) {
    issues.push({ path: ['name'], message: `"${names.modelVersionAlias}" is not a Vertex AI model version alias` });
  }
  for (const [field, value] of [['name', spec.name], ['stage', spec.stage]] as const) {
    if (!LABEL_VALUE.test(value)) {
      issues.push({ path: [field], message: `${field} "${value}" must also be a GCP label value: at most 63 lowercase letters, digits, _ and -` });
    }
  }
  return issues;
}

function machineIssues(spec: DeploymentSpec): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const { type, accelerator, autoscaling } = spec.instance;
  let machineOk = false;
  if (!type) {
    issues.push({ path: ['instance'], message: 'instance.type (a machine type) is required for Vertex AI', hint: 'add `type: n1-standard-4`' });
  } else if (!MACHINE_TYPE.test(type)) {
    const other = otherCloudOf(type);
    issues.push({
      path: ['instance', 'type'],
      message: other && !other.includes('provider: gcp') ? `"${type}" is ${other}, not a Vertex AI machine type` : `"${type}" is not a Vertex AI machine type`,
      hint: 'Vertex machine types look like n1-standard-4, g2-standard-8, a2-highgpu-1g',
    });
  } else {
    machineOk = true;
  }

  const wanted = accelerator ? ACCELERATORS[accelerator.type.toLowerCase()] : undefined;
  if (accelerator && !wanted) {
    const guess = closest(accelerator.type.toLowerCase(), Object.keys(ACCELERATORS));
    issues.push({ path: ['instance', 'accelerator', 'type'], message: `"${accelerator.type}" is not a Vertex AI accelerator`, hint: guess ? `did you mean ${guess}?` : `one of ${Object.keys(ACCELERATORS).join(', ')}` });
  }
  if (type && machineOk) {
    const builtIn = builtInGpu(type);
    const family = type.split('-')[0] ?? '';
    if (builtIn) {
      const gpus = `${builtIn.count} ${builtIn.accelerator.replace(/_/g, ' ')} GPU${builtIn.count > 1 ? 's' : ''}`;
      const fix = `accelerator: {type: ${acceleratorName(builtIn.accelerator)}, count: ${builtIn.count}}`;
      if (!accelerator) {
        issues.push({ path: ['instance', 'accelerator'], message: `${type} comes with ${gpus}, which Vertex AI needs named in instance.accelerator`, hint: `add ${fix}` });
      } else if (wanted && wanted !== builtIn.accelerator) {
        issues.push({ path: ['instance', 'accelerator', 'type'], message: `${accelerator.type} does not attach to ${type}: it comes with ${gpus}`, hint: fix });
      } else if (wanted && accelerator.count !== builtIn.count) {
        issues.push({ path: ['instance', 'accelerator', 'count'], message: `${type} comes with ${gpus}, not ${accelerator.count}`, hint: `count: ${builtIn.count}` });
      }
    } else if (['a2', 'a3', 'a4', 'g2'].includes(family)) {
      issues.push({ path: ['instance', 'type'], message: `"${type}" is not a ${family} machine type Vertex AI serves on`, hint: family === 'g2' ? 'g2-standard-4, -8, -12, -16, -24, -32, -48 or -96' : `e.g. ${family === 'a2' ? 'a2-highgpu-1g' : family === 'a3' ? 'a3-highgpu-8g' : 'a4-highgpu-8g'}` });
    } else if (accelerator && wanted) {
      const counts = N1_GPUS[wanted];
      if (family !== 'n1') {
        issues.push({
          path: ['instance', 'accelerator'],
          message: `${type} takes no GPU: GPUs attach to n1 machine types, or come with g2, a2 and a3 ones`,
          hint: 'e.g. n1-standard-4 with nvidia-tesla-t4, or g2-standard-8 with nvidia-l4',
        });
      } else if (!counts) {
        const machine = wanted === 'NVIDIA_L4' ? 'g2-standard-8' : wanted.startsWith('NVIDIA_H') ? 'a3-highgpu-1g' : 'a2-highgpu-1g';
        issues.push({ path: ['instance', 'accelerator', 'type'], message: `${accelerator.type} does not attach to ${type}: n1 machines take T4, P4, P100 or V100 GPUs`, hint: `use a machine type that comes with it, e.g. ${machine}` });
      } else if (!counts.includes(accelerator.count)) {
        issues.push({ path: ['instance', 'accelerator', 'count'], message: `${accelerator.count} × ${accelerator.type} cannot attach to an n1 machine`, hint: `count: ${counts.join(', ')}` });
      }
    }
  }

  if (autoscaling) {
    if (autoscaling.min < 1) {
      issues.push({
        path: ['instance', 'autoscaling', 'min'],
        message: `min ${autoscaling.min}: Vertex AI keeps at least one replica of a deployed model (it does not scale to zero)`,
        hint: 'min: 1 (undeploy with `modeldeploy down` to stop paying)',
      });
    } else if (autoscaling.max < autoscaling.min) {
      issues.push({ path: ['instance', 'autoscaling', 'max'], message: `max (${autoscaling.max}) is below min (${autoscaling.min})`, hint: `max: ${autoscaling.min} or more` });
    }
  }
  return issues;
}

/** Cloud Storage bucket naming rules (cloud.google.com/storage/docs/buckets#naming). */
function bucketIssue(bucket: string): { message: string; hint: string } | undefined {
  if (bucket.startsWith('gs://')) return { message: `"${bucket}" is a URL; gcp.bucket takes the bucket name`, hint: `bucket: ${bucket.slice(5).split('/')[0]}` };
  const parts = bucket.split('.');
  const ok =
    BUCKET.test(bucket) &&
    bucket.length >= 3 &&
    bucket.length <= (parts.length > 1 ? 222 : 63) &&
    parts.every((p) => p.length > 0 && p.length <= 63) &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(bucket) &&
    !bucket.startsWith('goog') &&
    !/g[o0][o0]g[l1]e/.test(bucket);
  return ok ? undefined : { message: `"${bucket}" is not a valid Cloud Storage bucket name`, hint: '3-63 lowercase letters, digits, - and _ (dots allowed), a letter or digit at both ends, no "goog" prefix' };
}

function labelIssues(spec: DeploymentSpec): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const seen = new Map<string, string>();
  const tags = Object.entries(spec.tags);
  for (const [key, value] of tags) {
    const label = key.toLowerCase();
    if (!LABEL_KEY.test(label)) {
      issues.push({ path: ['tags', key], message: `tag ${key}: GCP labels take keys of at most 63 lowercase letters, digits, _ and -, starting with a letter`, hint: 'rename the tag, e.g. cost-center' });
    } else if (label.startsWith('modeldeploy-')) {
      issues.push({ path: ['tags', key], message: `tag ${key}: labels starting with modeldeploy- are modeldeploy's own`, hint: 'rename the tag' });
    } else if (!LABEL_VALUE.test(value.toLowerCase())) {
      issues.push({ path: ['tags', key], message: `tag ${key}: "${value}" is not a GCP label value; GCP labels take at most 63 lowercase letters, digits, _ and -`, hint: 'lowercase the value and replace other characters with - or _' });
    } else if (seen.has(label)) {
      issues.push({ path: ['tags', key], message: `tags ${seen.get(label)} and ${key} are the same GCP label (${label}): labels are lowercase`, hint: 'keep one of them' });
    }
    seen.set(label, key);
  }
  if (tags.length > MAX_LABELS - OWN_LABELS) {
    issues.push({ path: ['tags'], message: `${tags.length} tags: a Vertex AI resource takes ${MAX_LABELS} labels and modeldeploy adds up to ${OWN_LABELS}`, hint: `keep at most ${MAX_LABELS - OWN_LABELS}` });
  }
  return issues;
}

/**
 * A prebuilt container loads its model by file name from the top of the artifact folder (B.4);
 * scikit-learn and XGBoost want exactly one of their names (with two, which one loads is the
 * container's choice, so both are refused). A single file model.path is uploaded under its own
 * name, so it must carry one of the names itself.
 */
function artifactIssue(spec: DeploymentSpec, modelPath: string, serving: VertexServing): RuleIssue | undefined {
  let entries: string[];
  let isDirectory: boolean;
  try {
    isDirectory = statSync(modelPath).isDirectory();
    entries = isDirectory ? readdirSync(modelPath).filter((name) => !name.startsWith('.')).sort() : [path.basename(modelPath)];
  } catch {
    return undefined; // the loader has already reported a missing path
  }
  const expected = serving.artifactFiles;
  const present = entries.filter((name) => expected.includes(name));
  if (present.length === 1) return undefined;
  const shown = displayPath(spec, modelPath);
  const container = /\/prediction\/([a-z0-9]+)-/.exec(serving.imageUri)?.[1] ?? spec.model.framework;
  const loads = `the Vertex ${container} container loads ${expected.length > 1 ? `${expected.slice(0, -1).join(', ')} or ${expected[expected.length - 1]}` : expected[0]}`;
  if (present.length > 1) {
    return { path: ['model', 'path'], message: `${shown} has ${present.join(' and ')}; ${loads}, exactly one of them`, hint: `keep one: remove ${present.slice(1).join(', ')}` };
  }
  const found = entries.length === 0 ? 'is empty' : `has ${entries.slice(0, 5).join(', ')}${entries.length > 5 ? ` and ${entries.length - 5} more` : ''}`;
  return {
    path: ['model', 'path'],
    message: `${shown} ${isDirectory ? found : 'is not named as the container expects'}; ${loads}`,
    hint: saveHint(expected[0] ?? ''),
  };
}

function saveHint(file: string): string {
  switch (file) {
    case 'model.joblib':
      return "save the model as model.joblib: joblib.dump(model, 'model.joblib')";
    case 'model.bst':
      return "save the model as model.bst: booster.save_model('model.bst')";
    case 'saved_model.pb':
      return 'export a SavedModel: tf.saved_model.save(model, dir) writes saved_model.pb and variables/';
    case 'model.mar':
      return 'archive the model for TorchServe: torch-model-archiver --model-name model … writes model.mar';
    default:
      return `name the model file ${file}`;
  }
}

/** The model path as the user would write it: relative to the folder deploy.yaml was named from. */
function displayPath(spec: DeploymentSpec, modelPath: string): string {
  const rel = path.relative(spec.dir, modelPath) || '.';
  return path.join(path.dirname(spec.file), rel);
}

function startsWith(a: readonly (string | number)[], prefix: readonly (string | number)[]): boolean {
  return prefix.length <= a.length && prefix.every((p, i) => a[i] === p);
}
