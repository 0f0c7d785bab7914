/** provider: azure — Azure ML managed online endpoints. Its `azure:` block of deploy.yaml: the workspace. */
import { z } from '../../src/config/deps.js';
import type { ProviderDescriptor } from '../../src/core/provider.js';

export interface AzureSettings {
  subscriptionId: string;
  resourceGroup: string;
  workspace: string;
}

const schema = z.strictObject({
  subscriptionId: z.string().min(1),
  resourceGroup: z.string().min(1),
  workspace: z.string().min(1),
});

const descriptor: ProviderDescriptor<AzureSettings> = {
  id: 'azure',
  title: 'Azure ML',
  settings: {
    schema,
    required: true,
    example: 'azure: {subscriptionId: …, resourceGroup: …, workspace: …}',
    serving: [],
    // The workspace says where the deployment lives (another one is another deployment), not how it serves.
    notServing: ['subscriptionId', 'resourceGroup', 'workspace'],
  },
  region: { example: 'eastus' },
  // sklearn: the template is an MLflow model folder, which Azure ML serves with no code at all.
  // The endpoint `<name>-<stage>` is at most 32 characters (cloud-apis.md C.3).
  init: { framework: 'sklearn', maxBaseName: 32 },
};

export default descriptor;
