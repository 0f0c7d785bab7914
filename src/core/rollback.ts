/**
 * Undoing a run: this run's own (from its journal in memory), or one a dead run left (from the
 * journal in the store). First the previous revision is put back if the new one may have taken
 * traffic, then what the run created is deleted in dependency order, in parallel within an order.
 */
import { type CoreContext, providerContext, type Session } from './context.js';
import { leftJournal, journalKey } from './journal.js';
import type { Resource } from './provider.js';
import type { StageFiles } from './stage-files.js';
import { removeInOrder } from './removal.js';
import { withRetry } from './retry.js';
import { waitUntilSettled } from './wait.js';

/** Time a rollback may take once the run has failed or been stopped (stated in the README). */
export function rollbackBudgetMs(deployMs: number): number {
  return Math.min(10 * 60_000, Math.max(30_000, Math.round(deployMs / 4)));
}

export async function rollback(session: Session, previous: string | undefined, created: readonly Resource[], core: CoreContext): Promise<{ removed: Resource[]; remaining: Resource[] }> {
  const { provider, t } = session;
  // Its own signal: the interrupt that stopped the run must not stop the cleanup it asked for.
  const signal = AbortSignal.timeout(rollbackBudgetMs(t.spec.timeouts.deployMs));
  const ctx = providerContext(core, signal);
  core.progress.emit({ code: 'RollbackStarted', level: 'warn', message: `rolling back: ${created.length} resource(s) created by this run` });
  if (previous) {
    try {
      await withRetry(() => provider.promote(t, previous, ctx), { clock: core.clock, signal });
      await waitUntilSettled(() => provider.status(t, previous, ctx), {
        clock: core.clock,
        signal,
        progress: core.progress,
        deadline: core.clock.now() + t.spec.timeouts.deployMs,
        polling: provider.polling,
        what: `previous revision ${previous}`,
      });
      core.progress.emit({ code: 'Restored', level: 'info', message: `traffic restored to revision ${previous}` });
    } catch (error) {
      core.progress.emit({ code: 'RestoreFailed', level: 'warn', message: `could not restore revision ${previous}: ${(error as Error).message}` });
    }
  }
  const { removed, failed } = await removeInOrder(session, created, ctx, (resource, error) =>
    core.progress.emit(
      error
        ? { code: 'RollbackFailed', level: 'warn', message: `could not remove ${resource.type} ${resource.id}: ${error.message}` }
        : { code: 'RolledBack', level: 'info', message: `removed ${resource.type} ${resource.id}`, data: { type: resource.type, id: resource.id } },
    ),
  );
  const remaining = failed.map((f) => f.resource);
  core.progress.emit({ code: 'RollbackDone', level: remaining.length ? 'warn' : 'info', message: remaining.length ? `rollback left ${remaining.length} resource(s)` : 'rollback complete: nothing of this run is left' });
  return { removed, remaining };
}

/**
 * A run that died before it could roll back (a second signal, SIGKILL, a lost runner) left its
 * journal: finish its rollback now. Called holding the lock, so its writer is gone.
 */
export async function finishLeftRun(session: Session, core: CoreContext, files: Pick<StageFiles, 'journal'>): Promise<void> {
  if (!files.journal) return;
  const store = session.provider.artifacts;
  const left = await leftJournal(store, session.t, core.signal);
  if (!left) return;
  core.progress.emit({
    code: 'RecoveringRun',
    level: 'warn',
    message: `an earlier run of ${session.t.base} (revision ${left.revision}) stopped before it finished; undoing what it left: ${left.resources.map((r) => r.id).join(', ') || 'nothing'}`,
  });
  const { remaining } = await rollback(session, left.trafficMoved ? left.previous : undefined, left.resources, core);
  const signal = AbortSignal.timeout(30_000);
  if (remaining.length === 0) await store.delete([journalKey(session.t)], { signal });
  else await store.write(journalKey(session.t), JSON.stringify({ ...left, resources: remaining, updated: new Date().toISOString() }), { signal });
}
