import { invalidArgument } from './vertex-errors.js';
import type { VertexError } from './vertex-errors.js';
import type { Json, JsonObject } from './vertex-schema.js';

/**
 * Field rules Vertex AI enforces beyond proto3-JSON syntax. Rules quoted from the v1 protos (cloud-apis.md B.3);
 * message texts follow Vertex's required-field format ("List of found errors:\t1.Field: …; Message: …\t").
 */

/** Vertex's multi-error text for missing or invalid fields. */
export function fieldErrors(errors: { field: string; message: string }[]): VertexError {
  const text = `List of found errors:\t${errors.map((e, i) => `${i + 1}.Field: ${e.field}; Message: ${e.message}\t`).join('')}`;
  return invalidArgument(text, errors[0]?.field);
}

export const REQUIRED = 'Required field is not set.';

export const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

export function str(obj: JsonObject | undefined, key: string): string | undefined {
  const v = obj?.[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function int(obj: JsonObject | undefined, key: string): number | undefined {
  const v = obj?.[key];
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  return undefined;
}

export function obj(parent: JsonObject | undefined, key: string): JsonObject | undefined {
  const v = parent?.[key];
  return isObject(v) ? v : undefined;
}

export function stringMap(parent: JsonObject | undefined, key: string): Record<string, string> {
  const v = parent?.[key];
  const out: Record<string, string> = {};
  if (isObject(v)) for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}

export function intMap(parent: JsonObject | undefined, key: string): Record<string, number> {
  const v = parent?.[key];
  const out: Record<string, number> = {};
  if (isObject(v)) for (const [k, x] of Object.entries(v)) if (typeof x === 'number') out[k] = x;
  return out;
}

const codepoints = (s: string): number => [...s].length;

/** "can be up to 128 characters long and can consist of any UTF-8 characters" (display_name). */
export function checkDisplayName(value: string | undefined, field: string, required: boolean): { field: string; message: string }[] {
  if (value === undefined) return required ? [{ field, message: REQUIRED }] : [];
  if (codepoints(value) > 128) return [{ field, message: `The display name is too long: ${codepoints(value)} characters, the maximum is 128.` }];
  return [];
}

const LABEL_KEY = /^\p{Ll}[\p{Ll}\p{Lo}\p{Nd}_-]*$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{Nd}_-]*$/u;

/**
 * "Label keys and values can be no longer than 64 characters (Unicode codepoints), can only contain lowercase letters,
 * numeric characters, underscores and dashes. International characters are allowed." Keys must also start with a
 * lowercase letter and a resource carries at most 64 labels (general Google Cloud label rules).
 */
export function checkLabels(labels: Record<string, string>, field: string): { field: string; message: string }[] {
  const errors: { field: string; message: string }[] = [];
  const keys = Object.keys(labels);
  if (keys.length > 64) errors.push({ field, message: `A resource can have at most 64 labels; got ${keys.length}.` });
  for (const key of keys) {
    const value = labels[key] as string;
    if (codepoints(key) > 64 || !LABEL_KEY.test(key)) {
      errors.push({
        field: `${field}[${key}]`,
        message: `Label key '${key}' violates format constraints. The key must start with a lowercase character, can only contain lowercase letters, numeric characters, underscores and dashes, and can be at most 64 characters long. International characters are allowed.`,
      });
    }
    if (codepoints(value) > 64 || !LABEL_VALUE.test(value)) {
      errors.push({
        field: `${field}[${key}]`,
        message: `Label value '${value}' violates format constraints. The value can only contain lowercase letters, numeric characters, underscores and dashes, and can be at most 64 characters long. International characters are allowed.`,
      });
    }
  }
  return errors;
}

/** UploadModelRequest.model_id: "up to 63 characters, valid characters are [a-z0-9_-]. The first character cannot be a number or hyphen." */
export const MODEL_ID = /^[a-z_][a-z0-9_-]{0,62}$/;

/**
 * CreateEndpointRequest.endpoint_id: letter first → up to 63 of [a-z0-9-], last a letter or number;
 * digit first → up to 9 digits without leading zeros.
 */
export const ENDPOINT_ID = /^(?:[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?|[1-9][0-9]{0,8})$/;

/** DeployedModel.id: "1-10 characters, and valid characters are /[0-9]/". */
export const DEPLOYED_MODEL_ID = /^[0-9]{1,10}$/;

/** Model.version_aliases: "[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]". */
export const VERSION_ALIAS = /^[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]$/;

/** Accelerators a machine type can carry, with the counts allowed. Fixed-GPU families allow exactly one count. */
interface MachineFamily {
  cpus: number;
  accelerators: Partial<Record<string, number[]>>;
  /** Machine types whose GPUs are built in: acceleratorType/count are required and must match. */
  fixed?: boolean;
}

const N1_GPUS: Partial<Record<string, number[]>> = {
  NVIDIA_TESLA_T4: [1, 2, 4],
  NVIDIA_TESLA_P4: [1, 2, 4],
  NVIDIA_TESLA_P100: [1, 2, 4],
  NVIDIA_TESLA_V100: [1, 2, 4, 8],
};

function buildMachineTypes(): Map<string, MachineFamily> {
  const m = new Map<string, MachineFamily>();
  const add = (prefix: string, sizes: number[], accelerators: Partial<Record<string, number[]>> = {}): void => {
    for (const n of sizes) m.set(`${prefix}-${n}`, { cpus: n, accelerators });
  };
  add('n1-standard', [2, 4, 8, 16, 32, 64, 96], N1_GPUS);
  add('n1-highmem', [2, 4, 8, 16, 32, 64, 96], N1_GPUS);
  add('n1-highcpu', [2, 4, 8, 16, 32, 64, 96], N1_GPUS);
  add('e2-standard', [2, 4, 8, 16, 32]);
  add('e2-highmem', [2, 4, 8, 16]);
  add('e2-highcpu', [2, 4, 8, 16, 32]);
  add('n2-standard', [2, 4, 8, 16, 32, 48, 64, 80]);
  add('n2-highmem', [2, 4, 8, 16, 32, 48, 64, 80]);
  add('n2-highcpu', [2, 4, 8, 16, 32, 48, 64, 80]);
  add('n2d-standard', [2, 4, 8, 16, 32, 48, 64, 80, 96, 128, 224]);
  add('n2d-highmem', [2, 4, 8, 16, 32, 48, 64, 80, 96]);
  add('n2d-highcpu', [2, 4, 8, 16, 32, 48, 64, 80, 96, 128, 224]);
  add('c2-standard', [4, 8, 16, 30, 60]);
  add('c2d-standard', [2, 4, 8, 16, 32, 56, 112]);
  add('c2d-highmem', [2, 4, 8, 16, 32, 56, 112]);
  add('c2d-highcpu', [2, 4, 8, 16, 32, 56, 112]);
  add('c3-standard', [4, 8, 22, 44, 88, 176]);
  add('c3-highmem', [4, 8, 22, 44, 88, 176]);
  add('c3-highcpu', [4, 8, 22, 44, 88, 176]);
  const fixed = (name: string, cpus: number, accelerator: string, count: number): void => {
    m.set(name, { cpus, accelerators: { [accelerator]: [count] }, fixed: true });
  };
  for (const [g, cpus] of [[1, 12], [2, 24], [4, 48], [8, 96]] as const) fixed(`a2-highgpu-${g}g`, cpus, 'NVIDIA_TESLA_A100', g);
  fixed('a2-megagpu-16g', 96, 'NVIDIA_TESLA_A100', 16);
  for (const [g, cpus] of [[1, 12], [2, 24], [4, 48], [8, 96]] as const) fixed(`a2-ultragpu-${g}g`, cpus, 'NVIDIA_A100_80GB', g);
  for (const [g, cpus] of [[1, 26], [2, 52], [4, 104], [8, 208]] as const) fixed(`a3-highgpu-${g}g`, cpus, 'NVIDIA_H100_80GB', g);
  fixed('a3-megagpu-8g', 208, 'NVIDIA_H100_MEGA_80GB', 8);
  fixed('a3-ultragpu-8g', 224, 'NVIDIA_H200_141GB', 8);
  for (const [cpus, g] of [[4, 1], [8, 1], [12, 1], [16, 1], [32, 1], [24, 2], [48, 4], [96, 8]] as const) fixed(`g2-standard-${cpus}`, cpus, 'NVIDIA_L4', g);
  for (const [t, cpus] of [[1, 24], [4, 112], [8, 224]] as const) fixed(`ct5lp-hightpu-${t}t`, cpus, 'TPU_V5_LITEPOD', t);
  return m;
}

export const MACHINE_TYPES: ReadonlyMap<string, MachineFamily> = buildMachineTypes();

export const AUTOSCALING_METRICS = new Set([
  'aiplatform.googleapis.com/prediction/online/cpu/utilization',
  'aiplatform.googleapis.com/prediction/online/accelerator/duty_cycle',
  'aiplatform.googleapis.com/prediction/online/request_count',
]);

/** Checks DedicatedResources; fills the defaults Vertex fills (machineType n1-standard-2, max = min, CPU target 60). */
export function checkDedicatedResources(dr: JsonObject, field: string): { errors: { field: string; message: string }[]; normalised: JsonObject } {
  const errors: { field: string; message: string }[] = [];
  const spec = obj(dr, 'machineSpec');
  const out: JsonObject = { ...dr };
  if (!spec) errors.push({ field: `${field}.machine_spec`, message: REQUIRED });
  const machineType = str(spec, 'machineType') ?? 'n1-standard-2';
  const accelerator = typeof spec?.acceleratorType === 'string' ? spec.acceleratorType : typeof spec?.acceleratorType === 'number' ? `#${spec.acceleratorType}` : undefined;
  const count = int(spec, 'acceleratorCount') ?? 0;
  if (spec) {
    const family = MACHINE_TYPES.get(machineType);
    const specField = `${field}.machine_spec`;
    if (!family) {
      errors.push({ field: `${specField}.machine_type`, message: `Machine type "${machineType}" is not supported.` });
    } else {
      const hasAccelerator = accelerator !== undefined && accelerator !== 'ACCELERATOR_TYPE_UNSPECIFIED';
      if (accelerator === 'NVIDIA_TESLA_K80') {
        errors.push({ field: `${specField}.accelerator_type`, message: 'Accelerator type NVIDIA_TESLA_K80 is deprecated and no longer supported.' });
      } else if (accelerator?.startsWith('#')) {
        errors.push({ field: `${specField}.accelerator_type`, message: `Accelerator type ${accelerator.slice(1)} is not a valid AcceleratorType.` });
      } else if (hasAccelerator) {
        const counts = family.accelerators[accelerator];
        if (!counts) {
          errors.push({ field: `${specField}.accelerator_type`, message: `Accelerator "${accelerator}" is not supported for machine type "${machineType}".` });
        } else if (!counts.includes(count)) {
          errors.push({
            field: `${specField}.accelerator_count`,
            message: `Accelerator count ${count} is not valid for ${accelerator} on machine type "${machineType}"; valid counts: ${counts.join(', ')}.`,
          });
        }
      } else if (family.fixed) {
        errors.push({ field: `${specField}.accelerator_type`, message: `Machine type "${machineType}" requires accelerator_type and accelerator_count to be set.` });
      } else if (count > 0) {
        errors.push({ field: `${specField}.accelerator_type`, message: `accelerator_count is ${count} but accelerator_type is not set.` });
      }
    }
    out.machineSpec = { ...spec, machineType };
  }
  const min = int(dr, 'minReplicaCount');
  const max = int(dr, 'maxReplicaCount');
  if (min === undefined || min === 0) errors.push({ field: `${field}.min_replica_count`, message: min === 0 ? 'min_replica_count must be at least 1.' : REQUIRED });
  else if (min < 1) errors.push({ field: `${field}.min_replica_count`, message: 'min_replica_count must be at least 1.' });
  if (max !== undefined && max !== 0 && min !== undefined && max < min) {
    errors.push({ field: `${field}.max_replica_count`, message: `max_replica_count (${max}) must be greater than or equal to min_replica_count (${min}).` });
  }
  if (max !== undefined && max < 0) errors.push({ field: `${field}.max_replica_count`, message: 'max_replica_count must not be negative.' });
  if (min !== undefined) {
    out.minReplicaCount = min;
    out.maxReplicaCount = max === undefined || max === 0 ? min : max;
  }
  const specs = Array.isArray(dr.autoscalingMetricSpecs) ? dr.autoscalingMetricSpecs : [];
  specs.forEach((s: Json, i) => {
    const name = isObject(s) ? str(s, 'metricName') : undefined;
    const f = `${field}.autoscaling_metric_specs[${i}]`;
    if (!name) errors.push({ field: `${f}.metric_name`, message: REQUIRED });
    else if (!AUTOSCALING_METRICS.has(name)) errors.push({ field: `${f}.metric_name`, message: `Metric "${name}" is not supported for autoscaling.` });
    else if (name.includes('/accelerator/') && (accelerator === undefined || accelerator === 'ACCELERATOR_TYPE_UNSPECIFIED')) {
      errors.push({ field: `${f}.metric_name`, message: `Metric "${name}" requires a machine with accelerators.` });
    }
    const target = isObject(s) ? int(s, 'target') : undefined;
    if (target !== undefined && target !== 0 && (target < 1 || target > 100) && name !== 'aiplatform.googleapis.com/prediction/online/request_count') {
      errors.push({ field: `${f}.target`, message: `target must be between 1 and 100, got ${target}.` });
    }
  });
  out.autoscalingMetricSpecs =
    specs.length > 0
      ? specs.map((s) => (isObject(s) ? { ...s, target: int(s, 'target') || 60 } : s))
      : [{ metricName: 'aiplatform.googleapis.com/prediction/online/cpu/utilization', target: 60 }];
  return { errors, normalised: out };
}
