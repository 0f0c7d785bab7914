/**
 * One run at a time per deployment and stage, across machines: a lock object beside the
 * artifacts, in the provider's own store, taken with a create-if-absent (the one primitive every
 * store has: S3 If-None-Match, GCS ifGenerationMatch=0, a blob's If-None-Match, an exclusive file).
 *
 *   modeldeploy/<name>/stages/<stage>/lock/<epoch>     {host, pid, command, since, heartbeat}
 *
 * The holder rewrites its own object every HEARTBEAT_MS. A lock whose heartbeat is older than
 * STALE_MS (its machine died) is taken over by creating the next epoch — again create-if-absent,
 * so of two machines taking over at once exactly one wins. A holder that finds a newer epoch than
 * its own has lost the lock (it was paused past STALE_MS) and stops its run.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { systemClock, type Clock } from './clock.js';
import { ProviderError } from './errors.js';
import type { ProgressSink } from './events.js';
import type { ArtifactStore, Target } from './provider.js';
import { withRetry } from './retry.js';
import { lockPrefix, stageFiles, stagePrefix, type StageFiles } from './stage-files.js';

export const HEARTBEAT_MS = 15_000;
export const STALE_MS = 90_000;

export interface LockHolder {
  id: string;
  host: string;
  pid: number;
  command: string;
  /** ISO time the lock was taken. */
  since: string;
  /** Clock time (ms) of the last heartbeat. */
  heartbeat: number;
}

export interface LockOptions {
  /** Queue behind a running job instead of failing at once. */
  wait: boolean;
  /** With wait: how long to queue before failing. */
  timeoutMs: number;
}

export interface LockContext {
  clock: Clock;
  signal: AbortSignal;
  progress: ProgressSink;
}

const EPOCH = /\/(\d{10})$/;

function lockKey(t: Pick<Target, 'name' | 'stage'>, epoch: number): string {
  return `${lockPrefix(t)}${String(epoch).padStart(10, '0')}`;
}

export class DeploymentLock {
  private readonly stopped = new AbortController();
  private readonly lostController = new AbortController();
  private beating: Promise<void> = Promise.resolve();

  private constructor(
    private readonly store: ArtifactStore,
    private readonly t: Pick<Target, 'name' | 'stage' | 'base'>,
    private readonly epoch: number,
    private holder: LockHolder,
    private readonly ctx: LockContext,
    /** The stage's files as the listing that won the lock saw them (no other run could change them since). */
    readonly files: StageFiles,
  ) {}

  /** Aborted (with a ProviderError LockLost) when another run took the lock over. */
  get lost(): AbortSignal {
    return this.lostController.signal;
  }

  static async acquire(store: ArtifactStore, t: Pick<Target, 'name' | 'stage' | 'base'>, command: string, options: LockOptions, ctx: LockContext): Promise<DeploymentLock> {
    const { clock, signal } = ctx;
    const retry = <T>(fn: () => Promise<T>) => withRetry(fn, { clock, signal });
    const me: LockHolder = { id: randomBytes(8).toString('hex'), host: hostname(), pid: process.pid, command, since: new Date(clock.now()).toISOString(), heartbeat: clock.now() };
    const deadline = clock.now() + (options.wait ? options.timeoutMs : 0);
    let told = false;
    for (;;) {
      signal.throwIfAborted();
      // One listing of the stage's files: the lock, and whether a journal or failed marks are there.
      const files = stageFiles(t, await retry(() => store.list(stagePrefix(t), { signal })));
      const top = files.epochs[0];
      const body = () => JSON.stringify({ ...me, heartbeat: clock.now() });
      if (top === undefined) {
        if (await retry(() => store.create(lockKey(t, 1), body(), { signal }))) return new DeploymentLock(store, t, 1, me, ctx, files).start();
        continue; // someone else was faster: look again
      }
      const holder = parse(await retry(() => store.read(lockKey(t, top), { signal })));
      if (!holder) continue; // released while we looked
      const age = clock.now() - holder.heartbeat;
      if (age > STALE_MS) {
        if (await retry(() => store.create(lockKey(t, top + 1), body(), { signal }))) {
          ctx.progress.emit({ code: 'LockTakenOver', level: 'warn', message: `took over the lock of ${t.base} from ${describe(holder)}: no heartbeat for ${Math.round(age / 1000)} s` });
          return new DeploymentLock(store, t, top + 1, me, ctx, files).start();
        }
        continue;
      }
      if (clock.now() >= deadline) throw lockedError(t, holder, options.wait);
      if (!told) {
        ctx.progress.emit({ code: 'WaitingForLock', level: 'info', message: `waiting for ${describe(holder)} to finish with ${t.base}` });
        told = true;
      }
      await clock.sleep(Math.min(2000, deadline - clock.now()), signal);
    }
  }

  private start(): this {
    this.beating = (async () => {
      for (;;) {
        // A heartbeat is real time whatever clock the run uses (another machine reads it).
        try {
          await systemClock.sleep(HEARTBEAT_MS, this.stopped.signal);
        } catch {
          return; // released
        }
        try {
          await this.beat();
        } catch (error) {
          if (this.stopped.signal.aborted) return;
          this.ctx.progress.emit({ code: 'LockHeartbeatFailed', level: 'warn', message: `could not renew the lock of ${this.t.base}: ${(error as Error).message}` });
        }
      }
    })();
    return this;
  }

  private async beat(): Promise<void> {
    const signal = this.stopped.signal;
    const keys = (await this.store.list(lockPrefix(this.t), { signal })).map((o) => o.key);
    const newer = keys.some((k) => Number(EPOCH.exec(k)?.[1]) > this.epoch);
    // Taken over (a newer epoch), or broken by `modeldeploy unlock` (ours is gone): lost either way,
    // and never written again.
    if (newer || !keys.includes(lockKey(this.t, this.epoch))) {
      this.lostController.abort(
        new ProviderError('LockLost', newer ? `another run took over the lock of ${this.t.base}: this run was silent for over ${STALE_MS / 1000} s` : `the lock of ${this.t.base} was broken (modeldeploy unlock) while this run held it`, {
          category: 'conflict',
          retryable: false,
        }),
      );
      this.stopped.abort();
      return;
    }
    this.holder = { ...this.holder, heartbeat: this.ctx.clock.now() };
    await this.store.write(lockKey(this.t, this.epoch), JSON.stringify(this.holder), { signal });
  }

  /** Stop the heartbeat and delete this lock (and what earlier, dead holders left). */
  async release(): Promise<void> {
    this.stopped.abort();
    await this.beating;
    if (this.lost.aborted) return;
    // Its own epoch and the dead holders' it took over from: known from the winning listing.
    const epochs = [this.epoch, ...this.files.epochs.filter((e) => e < this.epoch)];
    await this.store.delete(
      epochs.map((e) => lockKey(this.t, e)),
      { signal: AbortSignal.timeout(30_000) },
    );
  }
}

/** `modeldeploy unlock`: delete the lock whoever holds it; returns who did. */
export async function breakLock(store: ArtifactStore, t: Pick<Target, 'name' | 'stage'>, signal: AbortSignal): Promise<LockHolder[]> {
  const objects = await store.list(lockPrefix(t), { signal });
  const holders: LockHolder[] = [];
  for (const o of objects) {
    const holder = parse(await store.read(o.key, { signal }));
    if (holder) holders.push(holder);
  }
  await store.delete(
    objects.map((o) => o.key),
    { signal },
  );
  return holders;
}

function parse(text: string | undefined): LockHolder | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    return typeof value.heartbeat === 'number' && typeof value.host === 'string' ? (value as LockHolder) : undefined;
  } catch {
    return undefined;
  }
}

function describe(holder: LockHolder): string {
  return `\`${holder.command}\` on ${holder.host} (pid ${holder.pid}, since ${holder.since})`;
}

function lockedError(t: Pick<Target, 'base'>, holder: LockHolder, waited: boolean): ProviderError {
  return new ProviderError('DeploymentLocked', `${t.base} is being changed by ${describe(holder)}`, {
    category: 'conflict',
    retryable: false,
    hint: waited
      ? 'It did not finish within --lock-timeout; wait longer, or if that machine is gone run `modeldeploy unlock` (a lock with no heartbeat for 90 s is taken over anyway).'
      : 'Queue behind it with --wait, or if that machine is gone run `modeldeploy unlock` (a lock with no heartbeat for 90 s is taken over anyway).',
    details: { holder },
  });
}
