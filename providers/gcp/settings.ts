/** provider: gcp — Vertex AI. Its `gcp:` block of deploy.yaml: where the deployment lives and where its artifacts go. */
import type { ProviderDescriptor } from '../../src/core/provider.js';
import { z } from '../../src/config/deps.js';

export interface GcpSettings {
  project: string;
  bucket: string;
}

const schema = z.strictObject({
  project: z.string().min(1),
  bucket: z.string().min(1).describe('GCS bucket for model artifacts.'),
});

const descriptor: ProviderDescriptor<GcpSettings> = {
  id: 'gcp',
  title: 'Vertex AI',
  settings: {
    schema,
    required: true,
    example: 'gcp: {project: my-project, bucket: my-artifacts}',
    serving: [],
    // Which project and bucket hold the deployment say where it lives, not how it serves.
    notServing: ['project', 'bucket'],
  },
  region: { example: 'us-central1' },
  // The endpoint id and the model id are `<name>-<stage>`: at most 63 characters (cloud-apis.md B.3).
  // The smoke endpoint `<base>-<revision>` is cut to fit by smokeEndpointId.
  init: { framework: 'sklearn', maxBaseName: 63 },
};

export default descriptor;
