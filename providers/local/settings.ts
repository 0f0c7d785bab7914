/** provider: local — this machine. No deploy.yaml block and no region. */
import type { ProviderDescriptor } from '../../src/core/provider.js';

const descriptor: ProviderDescriptor = {
  id: 'local',
  title: 'the local provider',
  init: { framework: 'onnx', maxBaseName: 57 },
};

export default descriptor;
