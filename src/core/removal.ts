/**
 * Deleting what a deployment owns, for rollback, retirement and `down` alike: in dependency order
 * (lower `order` first), the resources of one order at once, each retried while the cloud says a
 * retry can help. Artifacts go through the core's artifact sync; everything else through the provider.
 */
import { ARTIFACT_TYPE, artifactInventory, INCOMPLETE_TYPE, removeArtifact, uploadOf } from './artifact-sync.js';
import type { Session } from './context.js';
import type { ProviderContext, Resource } from './provider.js';
import { withRetry } from './retry.js';
import { isOwned } from './target.js';

export interface RemovalOutcome {
  removed: Resource[];
  failed: Array<{ resource: Resource; error: Error }>;
}

export function removeResource(session: Session, resource: Resource, ctx: ProviderContext): Promise<void> {
  const { provider, t } = session;
  const store = provider.artifacts;
  const remove = async () => {
    if (resource.type === ARTIFACT_TYPE && resource.sha256) return removeArtifact(store, t, resource.sha256, ctx);
    if (resource.type === INCOMPLETE_TYPE) return store.abortIncomplete?.(uploadOf(resource), ctx);
    return provider.remove(t, resource, ctx);
  };
  return withRetry(remove, { clock: ctx.clock, signal: ctx.signal });
}

export async function removeInOrder(
  session: Session,
  resources: readonly Resource[],
  ctx: ProviderContext,
  onEach: (resource: Resource, error?: Error) => void = () => undefined,
): Promise<RemovalOutcome> {
  const outcome: RemovalOutcome = { removed: [], failed: [] };
  const groups = new Map<number, Resource[]>();
  for (const r of resources) groups.set(r.order, [...(groups.get(r.order) ?? []), r]);
  for (const order of [...groups.keys()].sort((a, b) => a - b)) {
    await Promise.all(
      (groups.get(order) ?? []).map(async (resource) => {
        try {
          await removeResource(session, resource, ctx);
          outcome.removed.push(resource);
          onEach(resource);
        } catch (caught) {
          const error = caught instanceof Error ? caught : new Error(String(caught));
          outcome.failed.push({ resource, error });
          onEach(resource, error);
        }
      }),
    );
  }
  return outcome;
}

/** Everything the target owns: the provider's resources whose tags name it, and its artifacts. */
export async function ownedInventory(session: Session, ctx: ProviderContext, options: { artifacts: boolean } = { artifacts: true }): Promise<Resource[]> {
  const { provider, t } = session;
  const [found, artifacts] = await Promise.all([
    withRetry(() => provider.inventory(t, ctx), { clock: ctx.clock, signal: ctx.signal }),
    options.artifacts ? artifactInventory(provider.artifacts, t, ctx) : Promise.resolve([]),
  ]);
  const owned = found.filter((r) => isOwned(r.owner, t)).map(({ owner: _owner, ...resource }) => resource);
  return [...owned, ...artifacts];
}
