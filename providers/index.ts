/**
 * The registry: provider id → lazy imports. `rules` is pure (validate, offline plan); `provider`
 * loads the adapter, whose SDK is itself imported only when a client is first needed.
 */
import { UsageError } from '../src/core/errors.js';
import type { Provider, ProviderRegistry, ProviderRules } from '../src/core/provider.js';
import type { ProviderId } from '../src/core/spec.js';

const rules: Record<ProviderId, () => Promise<ProviderRules>> = {
  local: async () => (await import('./local/rules.js')).localRules,
  aws: async () => (await import('./aws/rules.js')).awsRules,
  gcp: async () => (await import('./gcp/rules.js')).gcpRules,
  azure: async () => (await import('./azure/rules.js')).azureRules,
};

const providers: Partial<Record<ProviderId, () => Promise<Provider>>> = {
  local: async () => (await import('./local/index.js')).createProvider(),
  aws: async () => (await import('./aws/index.js')).createProvider(),
  gcp: async () => (await import('./gcp/index.js')).createProvider(),
  azure: async () => (await import('./azure/index.js')).createProvider(),
};

export const registry: ProviderRegistry = {
  rules: (id) => rules[id](),
  async provider(id) {
    const load = providers[id];
    if (!load) {
      throw new UsageError('ProviderUnavailable', `provider ${id} can be validated and planned offline, but this version cannot deploy to it yet`, {
        hint: 'Use `modeldeploy plan --offline` to check names and settings, or provider: local to run the model here.',
      });
    }
    return load();
  },
};
