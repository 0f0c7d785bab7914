/** Validate-time rules for provider: gcp (Vertex AI). Pure: no SDK is loaded here. */
import type { Capabilities, ProviderRules, RuleIssue } from '../../src/core/provider.js';
import { baseName, type DeploymentSpec } from '../../src/core/spec.js';
import { closest } from '../../src/config/suggest.js';
import { otherCloudOf } from '../cloud-names.js';

export const capabilities: Capabilities = { revisionRouting: true, gpu: true, autoscaling: true, serverless: false };

const MACHINE_TYPE = /^(n1|n2|n2d|e2|c2|c2d|c3|m1|a2|a3|g2)-(standard|highmem|highcpu|highgpu|megagpu|ultragpu)-\d+g?$/;
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
};
const REGION = /^[a-z]+-[a-z]+\d+$/;
const PROJECT = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const BUCKET = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;

export const gcpRules: ProviderRules = {
  id: 'gcp',
  capabilities,
  check(spec) {
    const issues: RuleIssue[] = [];
    if (spec.region && !REGION.test(spec.region)) {
      issues.push({ path: ['region'], message: `"${spec.region}" is not a Google Cloud region`, hint: 'e.g. us-central1, europe-west4' });
    }
    const type = spec.instance.type;
    if (!type) {
      issues.push({ path: ['instance'], message: 'instance.type (a machine type) is required for Vertex AI', hint: 'add `type: n1-standard-4`' });
    } else if (!MACHINE_TYPE.test(type)) {
      const other = otherCloudOf(type);
      issues.push({
        path: ['instance', 'type'],
        message: other && !other.startsWith('gcp') ? `"${type}" is a ${other} type, not a Vertex AI machine type` : `"${type}" is not a Vertex AI machine type`,
        hint: 'Vertex machine types look like n1-standard-4, g2-standard-8, a2-highgpu-1g',
      });
    }
    const acc = spec.instance.accelerator;
    if (acc && !ACCELERATORS[acc.type.toLowerCase()]) {
      const guess = closest(acc.type.toLowerCase(), Object.keys(ACCELERATORS));
      issues.push({ path: ['instance', 'accelerator', 'type'], message: `"${acc.type}" is not a Vertex AI accelerator`, hint: guess ? `did you mean ${guess}?` : `one of ${Object.keys(ACCELERATORS).join(', ')}` });
    }
    if (spec.gcp) {
      if (!PROJECT.test(spec.gcp.project)) {
        issues.push({ path: ['gcp', 'project'], message: `"${spec.gcp.project}" is not a Google Cloud project id`, hint: '6-30 lowercase letters, digits and hyphens, starting with a letter' });
      }
      if (!BUCKET.test(spec.gcp.bucket)) {
        issues.push({ path: ['gcp', 'bucket'], message: `"${spec.gcp.bucket}" is not a valid Cloud Storage bucket name` });
      }
    }
    for (const [key, value] of Object.entries(spec.tags)) {
      const label = key.toLowerCase().replace(/[^a-z0-9_-]/g, '-');
      if (label.length > 63 || !LABEL_VALUE.test(value)) {
        issues.push({ path: ['tags', key], message: 'GCP labels take keys and values of at most 63 lowercase letters, digits, _ and -', hint: 'lowercase the value and drop other characters' });
      }
    }
    if (!spec.model.image && spec.model.framework === 'custom') {
      issues.push({ path: ['model', 'image'], message: 'framework custom on Vertex AI needs a serving image', hint: 'set model.image to your Artifact Registry image' });
    }
    return issues;
  },
  names(spec: DeploymentSpec) {
    const base = baseName(spec);
    return { endpoint: base, model: base };
  },
};
