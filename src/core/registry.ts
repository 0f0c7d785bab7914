/** The provider registry: id → lazy loaders of a provider's descriptor and module. */
import { UsageError } from './errors.js';
import type { ProviderDescriptor, ProviderModule, ProviderRegistry } from './provider.js';

export interface RegistryEntry {
  /** `providers/<id>/settings.ts`: the deploy.yaml block; cheap. */
  descriptor(): Promise<{ default: ProviderDescriptor }>;
  /** `providers/<id>/index.ts`: rules and `connect`. */
  module(): Promise<{ default: ProviderModule }>;
}

export function createRegistry(entries: Readonly<Record<string, RegistryEntry>>, defaultId: string): ProviderRegistry {
  const ids = Object.keys(entries);
  if (!ids.includes(defaultId)) throw new Error(`the default provider ${defaultId} is not registered`);
  let descriptors: Promise<readonly ProviderDescriptor[]> | undefined;
  const modules = new Map<string, Promise<ProviderModule>>();
  return {
    ids,
    defaultId,
    descriptors() {
      descriptors ??= Promise.all(ids.map(async (id) => checked(id, (await entryOf(id).descriptor()).default)));
      return descriptors;
    },
    module(id) {
      let loaded = modules.get(id);
      if (!loaded) {
        loaded = entryOf(id)
          .module()
          .then((m) => checked(id, m.default));
        modules.set(id, loaded);
      }
      return loaded;
    },
  };

  function entryOf(id: string): RegistryEntry {
    const entry = entries[id];
    if (!entry) throw new UsageError('NoSuchProvider', `there is no provider ${id}`, { hint: `one of: ${ids.join(', ')}` });
    return entry;
  }
}

function checked<T extends ProviderDescriptor>(id: string, value: T): T {
  if (value.id !== id) throw new Error(`the provider registered as ${id} calls itself ${value.id}`);
  return value;
}
