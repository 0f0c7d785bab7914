/** provider: aws — the `aws:` block of deploy.yaml. Loaded for every deploy.yaml: zod and types only. */
import { z } from '../../src/config/deps.js';
import type { ProviderDescriptor } from '../../src/core/provider.js';

const schema = z.strictObject({
  roleArn: z.string().min(1).describe('The SageMaker execution role.'),
  bucket: z.string().min(1).describe('S3 bucket for model artifacts.'),
  serverless: z
    .strictObject({
      memorySizeInMB: z.number().int(),
      maxConcurrency: z.number().int().min(1).max(200),
      provisionedConcurrency: z.number().int().min(1).max(200).optional(),
    })
    .nullable()
    .optional(),
});

export interface ServerlessSettings {
  memorySizeInMB: number;
  maxConcurrency: number;
  provisionedConcurrency?: number | undefined;
}

export interface AwsSettings {
  roleArn: string;
  bucket: string;
  serverless?: ServerlessSettings | null | undefined;
}

const descriptor: ProviderDescriptor<AwsSettings> = {
  id: 'aws',
  title: 'SageMaker',
  settings: {
    schema,
    required: true,
    example: 'aws: {roleArn: arn:aws:iam::123456789012:role/SageMakerRole, bucket: my-artifacts}',
    // The execution role is part of the SageMaker model (a new role needs a new model), and
    // serverless sizing is part of the endpoint config: both are what serves.
    serving: ['roleArn', 'serverless'],
    // Where artifacts live: the content address keeps the model the same wherever it is.
    notServing: ['bucket'],
  },
  region: { example: 'us-east-1' },
  // `<base>-<8 hex>` (the model and endpoint config of a revision) must fit SageMaker's 63.
  init: { framework: 'sklearn', maxBaseName: 54 },
};

export default descriptor;
