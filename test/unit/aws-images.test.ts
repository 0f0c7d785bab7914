import { describe, expect, it } from 'vitest';
import { ImageResolutionError, processorFor, resolveImage } from '../../providers/aws/images.js';
import { toProviderError } from '../../providers/aws/errors.js';

describe('SageMaker prebuilt images', () => {
  it.each([
    ['sklearn', '1.2-1', 'us-east-1', 'ml.m5.large', '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3'],
    ['sklearn', '1.2-1', 'eu-west-1', 'ml.m5.large', '141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3'],
    ['sklearn', '1.2', 'ap-southeast-2', 'ml.c5.xlarge', '783357654285.dkr.ecr.ap-southeast-2.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3'],
    ['xgboost', '1.7-1', 'us-east-1', 'ml.m5.large', '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1'],
    ['pytorch', '2.6', 'us-east-1', 'ml.g5.xlarge', '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.6.0-gpu-py312'],
    ['pytorch', '2.6.0', 'us-east-1', 'ml.m5.large', '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.6.0-cpu-py312'],
    ['pytorch', '2.6.0', 'cn-north-1', 'ml.g4dn.xlarge', '727897471807.dkr.ecr.cn-north-1.amazonaws.com.cn/pytorch-inference:2.6.0-gpu-py312'],
    ['pytorch', '2.6.0', 'af-south-1', 'ml.m5.large', '626614931356.dkr.ecr.af-south-1.amazonaws.com/pytorch-inference:2.6.0-cpu-py312'],
    ['tensorflow', '2.19.0', 'us-east-1', 'ml.p3.2xlarge', '763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-inference:2.19.0-gpu'],
    ['huggingface', '3.3.6', 'us-east-1', 'ml.g5.2xlarge', '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.7.0-tgi3.3.6-gpu-py311-cu124-ubuntu22.04'],
    ['huggingface', '3.0', 'me-south-1', 'ml.g5.2xlarge', '217643126080.dkr.ecr.me-south-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.4.0-tgi3.0.1-gpu-py311-cu124-ubuntu22.04-v2.1'],
  ])('%s %s in %s on %s', (framework, version, region, type, uri) => {
    expect(resolveImage(framework, version, region, type)).toBe(uri);
  });

  it('uses the CPU build for serverless (no instance type)', () => {
    expect(resolveImage('sklearn', undefined, 'us-east-1', undefined)).toContain('-cpu-py3');
  });

  it('refuses what AWS does not publish, saying which field to change', () => {
    const cases: Array<[string, string | undefined, string, string | undefined, string]> = [
      ['sklearn', '9.9', 'us-east-1', 'ml.m5.large', 'version'],
      ['sklearn', '1.2-1', 'ap-southeast-5', 'ml.m5.large', 'region'],
      ['sklearn', '1.2-1', 'us-east-1', 'ml.g5.xlarge', 'type'],
      ['huggingface', '3.3.6', 'us-east-1', 'ml.m5.large', 'type'],
      ['onnx', undefined, 'us-east-1', 'ml.m5.large', 'framework'],
    ];
    for (const [framework, version, region, type, field] of cases) {
      let caught: unknown;
      try {
        resolveImage(framework, version, region, type);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ImageResolutionError);
      expect((caught as ImageResolutionError).field).toBe(field);
    }
  });

  it('picks the processor by instance family', () => {
    expect(processorFor('ml.g5.xlarge')).toBe('gpu');
    expect(processorFor('ml.p4d.24xlarge')).toBe('gpu');
    expect(processorFor('ml.m5.large')).toBe('cpu');
    expect(processorFor('ml.inf2.xlarge')).toBe('inf');
  });
});

describe('AWS error mapping', () => {
  const sdkError = (name: string, message: string, status = 400, fault: 'client' | 'server' = 'client') =>
    Object.assign(new Error(message), { name, $fault: fault, $metadata: { httpStatusCode: status, requestId: 'req-1' } });

  it.each([
    ['ThrottlingException', 'Rate exceeded', 400, 'throttled', true],
    ['ValidationException', 'Could not find endpoint "x".', 400, 'notFound', false],
    ['ValidationException', 'Cannot create already existing endpoint "arn:…".', 400, 'conflict', false],
    ['ValidationException', "Value 'x_y' at 'modelName' failed to satisfy constraint", 400, 'invalid', false],
    ['ResourceLimitExceeded', "The account-level service limit 'ml.g5.2xlarge for endpoint usage' is 0 Instances", 400, 'quota', false],
    ['ResourceInUse', 'in use', 400, 'conflict', false],
    ['ValidationException', 'Cannot update in-progress endpoint "arn:…".', 400, 'conflict', true],
    ['ValidationException', 'Cannot delete endpoint configuration "c" while endpoint "e" is Creating.', 400, 'conflict', true],
    ['ConcurrentUpdateException', 'busy', 400, 'conflict', true],
    ['AccessDeniedException', 'not authorized', 400, 'auth', false],
    ['InternalFailure', 'boom', 500, 'unavailable', true],
  ])('%s (%s) → %s', (name, message, status, category, retryable) => {
    const mapped = toProviderError(sdkError(name, message, status, status >= 500 ? 'server' : 'client'), 'CreateEndpoint', 'ep');
    expect(mapped.category).toBe(category);
    expect(mapped.retryable).toBe(retryable);
    expect(mapped.requestId).toBe('req-1');
    expect(mapped.message).toContain('CreateEndpoint ep failed');
  });

  it('names the quota and the permission in hints', () => {
    expect(toProviderError(sdkError('ResourceLimitExceeded', "The account-level service limit 'ml.g5.2xlarge for endpoint usage' is 0 Instances"), 'CreateEndpoint').hint).toContain("'ml.g5.2xlarge for endpoint usage'");
    expect(toProviderError(sdkError('AccessDeniedException', 'denied'), 'CreateModel').hint).toContain('sagemaker:CreateModel');
  });
});
