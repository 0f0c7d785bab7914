/**
 * The registry: provider id → lazy imports of its folder. `descriptor` is the cheap half (its
 * deploy.yaml block, loaded for every deploy.yaml); `module` holds its rules and `connect`, whose
 * SDK is itself imported only when a client is first needed. A new provider is a folder and a line.
 */
import { createRegistry } from '../src/core/registry.js';

export const registry = createRegistry(
  {
    local: { descriptor: () => import('./local/settings.js'), module: () => import('./local/index.js') },
    aws: { descriptor: () => import('./aws/settings.js'), module: () => import('./aws/index.js') },
    gcp: { descriptor: () => import('./gcp/settings.js'), module: () => import('./gcp/index.js') },
    azure: { descriptor: () => import('./azure/settings.js'), module: () => import('./azure/index.js') },
  },
  'local',
);
