/** provider aws's pure half: packaging, names, the checks only SageMaker has, and the descriptor's promises. */
import { describe, expect, it } from 'vitest';
import type { Target } from '../../src/core/provider.js';
import type { DeploymentSpec } from '../../src/core/spec.js';
import aws from '../../providers/aws/index.js';
import { revisionOf, sagemakerNames } from '../../providers/aws/names.js';
import type { AwsSettings } from '../../providers/aws/settings.js';

const ROLE = 'arn:aws:iam::123456789012:role/SageMakerExecutionRole';

function target(settings: Partial<AwsSettings> = {}, spec: Partial<DeploymentSpec> = {}): Target<AwsSettings> {
  const full: DeploymentSpec = {
    file: 'deploy.yaml',
    dir: '/tmp',
    name: 'iris',
    stage: 'dev',
    provider: 'aws',
    region: 'us-east-1',
    model: { framework: 'sklearn', version: '1.2-1', path: '/tmp/model' },
    instance: { type: 'ml.m5.large', count: 1 },
    env: {},
    tags: {},
    timeouts: { deployMs: 60_000, startupMs: 60_000 },
    ...spec,
  };
  const s: AwsSettings = { roleArn: ROLE, bucket: 'my-artifacts', ...settings };
  return { name: full.name, stage: full.stage, base: `${full.name}-${full.stage}`, region: full.region, spec: full, settings: s, tags: {} };
}

describe('provider aws rules', () => {
  it('packs one model.tar.gz for a serverless endpoint (it cannot read a prefix), the files as they are otherwise', () => {
    expect(aws.rules.packaging?.(target())).toBe('files');
    expect(aws.rules.packaging?.(target({ serverless: { memorySizeInMB: 2048, maxConcurrency: 5 } }))).toBe('tar.gz');
  });

  it('names a revision <base>-<revision> and reads the revision back only from names of that form', () => {
    const t = target();
    expect(sagemakerNames(t, 'abcdef12')).toEqual({ endpoint: 'iris-dev', endpointConfig: 'iris-dev-abcdef12', model: 'iris-dev-abcdef12', variant: 'AllTraffic' });
    expect(revisionOf(t, 'iris-dev-abcdef12')).toBe('abcdef12');
    expect(revisionOf(t, 'iris-dev-byhand')).toBeUndefined();
    expect(revisionOf(t, 'iris-dev-x-abcdef12')).toBeUndefined();
  });

  it('the longest base init allows still fits SageMaker’s 63 characters with a revision', () => {
    const base = 'a'.repeat(aws.init.maxBaseName);
    expect(sagemakerNames({ base }, 'abcdef12').model).toHaveLength(63);
  });

  it('refuses autoscaling on a serverless endpoint, an S3 prefix for one, and provisioned above max concurrency', () => {
    const serverless = { memorySizeInMB: 2048, maxConcurrency: 2, provisionedConcurrency: 3 };
    const issues = aws.rules.check(
      target({ serverless }, { instance: { count: 1, autoscaling: { min: 1, max: 2 } }, model: { framework: 'sklearn', version: '1.2-1', uri: 's3://b/prefix/' } }),
    );
    expect(issues.map((i) => i.path.join('.'))).toEqual(['aws.serverless.provisionedConcurrency', 'instance.autoscaling', 'model.uri']);
  });

  it('declares the execution role and serverless sizing as serving, the bucket as not', () => {
    expect(aws.settings?.serving).toEqual(['roleArn', 'serverless']);
    expect(aws.settings?.notServing).toEqual(['bucket']);
    expect(aws.capabilities).toMatchObject({ reachRevision: 'none', accelerators: 'inType', autoscaling: true, artifactSchemes: ['s3', 'hf'], logs: false });
  });
});
