/** Validate-time rules for provider: aws (SageMaker). Pure: no SDK is loaded here. */
import type { Capabilities, ProviderRules, RuleIssue } from '../../src/core/provider.js';
import { baseName, type DeploymentSpec } from '../../src/core/spec.js';
import { closest } from '../../src/config/suggest.js';
import { otherCloudOf } from '../cloud-names.js';
import { ImageResolutionError, resolveImage } from './images.js';
import { SAGEMAKER_INSTANCE_TYPES } from './instance-types.js';

export const capabilities: Capabilities = { revisionRouting: false, gpu: true, autoscaling: true, serverless: true };

/** botocore patterns, anchored (the service evaluates them as full matches). */
const ENDPOINT_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;

export function sagemakerNames(spec: DeploymentSpec, revision = '00000000'): Record<string, string> {
  const base = baseName(spec);
  return { endpoint: base, endpointConfig: `${base}-${revision}`, model: `${base}-${revision}`, variant: 'AllTraffic' };
}

export const awsRules: ProviderRules = {
  id: 'aws',
  capabilities,
  check(spec) {
    const issues: RuleIssue[] = [];
    for (const [what, name] of Object.entries(sagemakerNames(spec))) {
      if (name.length > 63 || !ENDPOINT_NAME.test(name)) {
        issues.push({ path: ['name'], message: `the SageMaker ${what} name "${name}" is longer than 63 characters`, hint: `shorten name or stage by ${name.length - 63} characters` });
        break;
      }
    }
    if (spec.region && !REGION.test(spec.region)) {
      issues.push({ path: ['region'], message: `"${spec.region}" is not an AWS region name`, hint: 'e.g. us-east-1, eu-west-1' });
    }
    const type = spec.instance.type;
    if (!spec.aws?.serverless) {
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
    if (spec.instance.accelerator) {
      issues.push({ path: ['instance', 'accelerator'], message: 'SageMaker attaches GPUs through the instance type, not separately', hint: 'remove accelerator and pick a GPU type such as ml.g5.xlarge' });
    }
    if (spec.aws) {
      if (!ROLE_ARN.test(spec.aws.roleArn)) {
        issues.push({ path: ['aws', 'roleArn'], message: `"${spec.aws.roleArn}" is not an IAM role ARN`, hint: 'arn:aws:iam::123456789012:role/SageMakerExecutionRole' });
      }
      if (!BUCKET.test(spec.aws.bucket)) {
        issues.push({ path: ['aws', 'bucket'], message: `"${spec.aws.bucket}" is not a valid S3 bucket name`, hint: '3-63 lowercase letters, digits, dots and hyphens' });
      }
      const sl = spec.aws.serverless;
      if (sl && (sl.memorySizeInMB < 1024 || sl.memorySizeInMB > 6144 || sl.memorySizeInMB % 1024 !== 0)) {
        issues.push({ path: ['aws', 'serverless', 'memorySizeInMB'], message: `${sl.memorySizeInMB} is not a serverless memory size`, hint: 'one of 1024, 2048, 3072, 4096, 5120, 6144' });
      }
    }
    if (!spec.model.image && spec.region && REGION.test(spec.region) && spec.model.framework !== 'custom' && spec.model.framework !== 'onnx') {
      try {
        resolveImage(spec.model.framework, spec.model.version, spec.region, spec.aws?.serverless ? undefined : type);
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
        issues.push({ path: ['env', key], message: `SageMaker takes environment keys matching [a-zA-Z_][a-zA-Z0-9_]* and values up to 1024 characters` });
      }
    }
    return issues;
  },
  names: (spec, revision) => sagemakerNames(spec, revision),
  details(spec) {
    const region = spec.region ?? '';
    const instanceType = spec.aws?.serverless ? undefined : spec.instance.type;
    let image = spec.model.image;
    if (!image) {
      try {
        image = resolveImage(spec.model.framework, spec.model.version, region, instanceType);
      } catch {
        image = undefined;
      }
    }
    return {
      ...(image ? { image } : {}),
      ...(instanceType ? { instanceType, instanceCount: spec.instance.count } : { serverless: spec.aws?.serverless }),
      region,
      artifactPrefix: spec.aws ? `s3://${spec.aws.bucket}/modeldeploy/${spec.name}/` : undefined,
    };
  },
};
