/**
 * provider: azure — Azure ML managed online endpoints. The endpoint `<name>-<stage>` holds one
 * online deployment per revision, `r-<revision>`; a new revision is created beside the serving
 * one at 0% traffic, smoke-tested through the `azureml-model-deployment` header, and only then
 * given 100% (one PUT of the endpoint's traffic); the core retires the old one after. Model, code
 * and environment assets are `<name>-<stage>`, versioned by revision. Artifacts live in the
 * workspace's default blob datastore, in the core's layout (modeldeploy/<name>/<sha256>/…).
 *
 * This module is pure: `connect` loads the adapter, which loads the Azure SDKs only when a client
 * is first needed. The settings it reads from the environment are listed in connection.ts.
 */
import type { ProviderModule } from '../../src/core/provider.js';
import { azureRules, capabilities } from './rules.js';
import descriptor, { type AzureSettings } from './settings.js';

const azure: ProviderModule<AzureSettings> = {
  ...descriptor,
  capabilities,
  rules: azureRules,
  async connect(input) {
    const { AzureMlProvider } = await import('./provider.js');
    return new AzureMlProvider(input);
  },
};

export default azure;
