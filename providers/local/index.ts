/**
 * provider: local — the same lifecycle as the clouds, on this machine (see provider.ts). This
 * module is pure: `connect` loads the adapter.
 */
import type { ProviderModule } from '../../src/core/provider.js';
import { capabilities, localRules } from './rules.js';
import descriptor from './settings.js';

const local: ProviderModule = {
  ...descriptor,
  capabilities,
  rules: localRules,
  async connect({ env }) {
    const { LocalProvider } = await import('./provider.js');
    return new LocalProvider(env);
  },
};

export default local;
