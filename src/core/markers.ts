/**
 * A revision that failed its smoke test and was kept (`--keep-on-failure`, `smoke.onFailure:
 * keep`) is marked in the store, so no later `up` calls it unchanged and `status` never reports
 * it ready: `modeldeploy/<name>/stages/<stage>/failed/<revision>`.
 */
import type { ArtifactStore, StoreContext, Target } from './provider.js';
import { failedPrefix } from './stage-files.js';

export { failedPrefix };

function markerKey(t: Pick<Target, 'name' | 'stage'>, revision: string): string {
  return `${failedPrefix(t)}${revision}`;
}

export async function markFailed(store: ArtifactStore, t: Pick<Target, 'name' | 'stage'>, revision: string, reason: string, ctx: StoreContext): Promise<void> {
  await store.write(markerKey(t, revision), JSON.stringify({ revision, reason, at: new Date().toISOString() }), ctx);
}

/** Why the revision was marked failed, or undefined when it was not. */
export async function failedReason(store: ArtifactStore, t: Pick<Target, 'name' | 'stage'>, revision: string, ctx: StoreContext): Promise<string | undefined> {
  const text = await store.read(markerKey(t, revision), ctx);
  if (!text) return undefined;
  try {
    return (JSON.parse(text) as { reason?: string }).reason ?? 'failed its smoke test';
  } catch {
    return 'failed its smoke test';
  }
}

export async function clearFailed(store: ArtifactStore, t: Pick<Target, 'name' | 'stage'>, revision: string, ctx: StoreContext): Promise<void> {
  await store.delete([markerKey(t, revision)], ctx);
}
