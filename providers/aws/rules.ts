/** Validate-time rules for provider: aws (SageMaker). Pure: no SDK is loaded here. */
import { closest } from '../../src/config/suggest.js';
import type { Capabilities, ProviderRules, RuleIssue, Target } from '../../src/core/provider.js';
import { otherCloudOf } from '../cloud-names.js';
import { ImageResolutionError, resolveImage } from './images.js';
import { SAGEMAKER_INSTANCE_TYPES } from './instance-types.js';
import { MAX_NAME, NAME_PATTERN, sagemakerNames } from './names.js';
import type { AwsSettings } from './settings.js';

export const capabilities: Capabilities = {
  // UpdateEndpoint moves all traffic to the new config; a failed smoke test promotes the previous one again.
  reachRevision: 'none',
  accelerators: 'inType',
  gpuInstanceExample: 'ml.g5.xlarge',
  autoscaling: true,
  // deploy.yaml caps instance.count at 100; SageMaker's own limit is the account's quota.
  maxInstances: 100,
  artifactSchemes: ['s3', 'hf'],
  logs: false,
};

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const MEMORY_SIZES = [1024, 2048, 3072, 4096, 5120, 6144];

type AwsTarget = Target<AwsSettings>;

/** Serverless endpoints cannot read an uncompressed S3 prefix (ModelDataSource): they take one model.tar.gz. */
export function packagingOf(t: AwsTarget): 'files' | 'tar.gz' {
  return t.settings.serverless ? 'tar.gz' : 'files';
}

/** The serving image: model.image, or AWS's prebuilt one for the framework, version, region and processor. */
export function imageOf(t: AwsTarget): string {
  const { model, instance } = t.spec;
  return model.image ?? resolveImage(model.framework, model.version, t.region ?? '', t.settings.serverless ? undefined : instance.type);
}

export const awsRules: ProviderRules<AwsSettings> = {
  check(t) {
    const issues: RuleIssue[] = [];
    const { spec } = t;
    const settings = t.settings;
    const longest = sagemakerNames(t).model;
    if (longest.length > MAX_NAME || !NAME_PATTERN.test(longest)) {
      issues.push({ path: ['name'], message: `the SageMaker model name "${longest}" is longer than ${MAX_NAME} characters`, hint: `shorten name or stage by ${longest.length - MAX_NAME} characters` });
    }
    if (t.region && !REGION.test(t.region)) {
      issues.push({ path: ['region'], message: `"${t.region}" is not an AWS region name`, hint: 'e.g. us-east-1, eu-west-1' });
    }
    const type = spec.instance.type;
    if (!settings.serverless) {
      if (!type) {
        issues.push({ path: ['instance'], message: 'instance.type is required for a SageMaker real-time endpoint', hint: 'add `type: ml.m5.large` (or set aws.serverless)' });
      } else if (!SAGEMAKER_INSTANCE_TYPES.includes(type)) {
        const other = otherCloudOf(type);
        const guess = closest(type, SAGEMAKER_INSTANCE_TYPES);
        issues.push({
          path: ['instance', 'type'],
          message: other ? `"${type}" is ${other}, not a SageMaker instance type` : `"${type}" is not a SageMaker instance type`,
          hint: guess ? `did you mean ${guess}?` : 'SageMaker types look like ml.m5.large, ml.g5.xlarge',
        });
      }
    }
    if (!ROLE_ARN.test(settings.roleArn)) {
      issues.push({ path: ['aws', 'roleArn'], message: `"${settings.roleArn}" is not an IAM role ARN`, hint: 'arn:aws:iam::123456789012:role/SageMakerExecutionRole' });
    }
    if (!BUCKET.test(settings.bucket)) {
      issues.push({ path: ['aws', 'bucket'], message: `"${settings.bucket}" is not a valid S3 bucket name`, hint: '3-63 lowercase letters, digits, dots and hyphens' });
    }
    const serverless = settings.serverless;
    if (serverless) {
      if (!MEMORY_SIZES.includes(serverless.memorySizeInMB)) {
        issues.push({ path: ['aws', 'serverless', 'memorySizeInMB'], message: `${serverless.memorySizeInMB} is not a serverless memory size`, hint: `one of ${MEMORY_SIZES.join(', ')}` });
      }
      if (serverless.provisionedConcurrency !== undefined && serverless.provisionedConcurrency > serverless.maxConcurrency) {
        issues.push({ path: ['aws', 'serverless', 'provisionedConcurrency'], message: `provisionedConcurrency (${serverless.provisionedConcurrency}) is above maxConcurrency (${serverless.maxConcurrency})` });
      }
      if (spec.instance.autoscaling) {
        issues.push({ path: ['instance', 'autoscaling'], message: 'a serverless endpoint scales by itself; autoscaling is for instance-backed endpoints', hint: 'remove instance.autoscaling, or aws.serverless' });
      }
      if (spec.model.uri?.startsWith('s3://') && !spec.model.uri.endsWith('.tar.gz')) {
        issues.push({ path: ['model', 'uri'], message: 'a serverless endpoint reads one model.tar.gz, not an S3 prefix', hint: 'point uri at a .tar.gz, or set model.path and let modeldeploy pack it' });
      }
    }
    if (spec.model.uri?.startsWith('hf://') && spec.model.framework !== 'huggingface' && spec.model.framework !== 'custom') {
      issues.push({ path: ['model', 'uri'], message: `an hf:// model is served by the Hugging Face containers; framework is ${spec.model.framework}`, hint: 'set framework: huggingface, or upload the model (model.path)' });
    }
    if (!spec.model.image && t.region && REGION.test(t.region) && spec.model.framework !== 'custom' && spec.model.framework !== 'onnx') {
      try {
        imageOf(t);
      } catch (error) {
        if (!(error instanceof ImageResolutionError)) throw error;
        const path = { version: ['model', 'version'], region: ['region'], framework: ['model', 'framework'], type: ['instance', 'type'] }[error.field];
        issues.push({ path, message: error.message, hint: error.hint });
      }
    }
    if (!spec.model.image && spec.model.framework === 'custom') {
      issues.push({ path: ['model', 'image'], message: 'framework custom on SageMaker needs a serving image', hint: 'set model.image to your ECR image URI' });
    }
    if (!spec.model.image && spec.model.framework === 'onnx') {
      issues.push({ path: ['model', 'framework'], message: 'SageMaker has no prebuilt ONNX serving image', hint: 'set model.image, or deploy the framework the model was trained in' });
    }
    for (const [key, value] of Object.entries(spec.env)) {
      if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(key) || key.length > 1024 || value.length > 1024) {
        issues.push({ path: ['env', key], message: 'SageMaker takes environment keys matching [a-zA-Z_][a-zA-Z0-9_]* and values up to 1024 characters' });
      }
    }
    return issues;
  },
  names: (t, revision) => ({ ...sagemakerNames(t, revision) }),
  details(t) {
    const serverless = t.settings.serverless;
    let image: string | undefined;
    try {
      image = imageOf(t);
    } catch {
      image = undefined;
    }
    return {
      ...(image ? { image } : {}),
      ...(serverless ? { serverless } : { instanceType: t.spec.instance.type, instanceCount: t.spec.instance.count }),
      region: t.region,
      artifactPrefix: `s3://${t.settings.bucket}/modeldeploy/${t.name}/`,
      packaging: packagingOf(t),
    };
  },
  packaging: packagingOf,
};
