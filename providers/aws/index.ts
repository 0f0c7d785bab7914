/**
 * provider: aws — SageMaker real-time (or serverless) endpoints. A revision is a model and an
 * endpoint config named `<name>-<stage>-<revision>`; the endpoint `<name>-<stage>` moves between
 * configs with UpdateEndpoint (SageMaker swaps fleets without downtime). Artifacts live in the
 * core's content-addressed layout in `s3://<aws.bucket>/modeldeploy/<name>/…`.
 *
 * This module is pure: `connect` loads the adapter, which loads each AWS SDK client only when
 * it is first used. Settings read once, at connect:
 *   AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_{SAGEMAKER,SAGEMAKER_RUNTIME,S3,APPLICATION_AUTO_SCALING}
 *                                   where the SDK's calls go (LocalStack, moto…)
 *   AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, AWS_PROFILE
 *                                   credentials; otherwise the SDK's usual chain (SSO, roles…)
 *   AWS_REGION / AWS_DEFAULT_REGION where `list` looks when deploy.yaml gives no region
 *   MODELDEPLOY_AWS_POLL_INTERVAL   how often endpoint state is polled (default 1s, backing off to 15s)
 */
import type { ProviderModule } from '../../src/core/provider.js';
import { awsRules, capabilities } from './rules.js';
import descriptor, { type AwsSettings } from './settings.js';

const aws: ProviderModule<AwsSettings> = {
  ...descriptor,
  capabilities,
  rules: awsRules,
  async connect(input) {
    const [{ SageMakerProvider }, { readConnection }] = await Promise.all([import('./provider.js'), import('./connection.js')]);
    return new SageMakerProvider(readConnection(input), input.settings);
  },
};

export default aws;
