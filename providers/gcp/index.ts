/**
 * provider: gcp — Vertex AI online prediction (see provider.ts and deploy.ts). This module is
 * pure: `connect` reads the settings once and loads the adapter; the SDKs load on first use.
 */
import type { ProviderModule } from '../../src/core/provider.js';
import { capabilities, gcpRules } from './rules.js';
import descriptor, { type GcpSettings } from './settings.js';

const gcp: ProviderModule<GcpSettings> = {
  ...descriptor,
  capabilities,
  rules: gcpRules,
  async connect(input) {
    const [{ readConnection }, { VertexProvider }] = await Promise.all([import('./connection.js'), import('./provider.js')]);
    return new VertexProvider(readConnection(input));
  },
};

export default gcp;
