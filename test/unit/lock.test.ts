/** The deployment lock on an in-memory store: exclusion, the holder named, stale takeover, loss. */
import { describe, expect, it } from 'vitest';
import { RecordingProgress } from '../../src/core/events.js';
import { breakLock, DeploymentLock, STALE_MS } from '../../src/core/lock.js';
import { FakeClock, MemoryStore } from '../support/fake-provider.js';

const t = { name: 'iris', stage: 'dev', base: 'iris-dev' };
const ctx = (clock = new FakeClock()) => ({ clock, signal: new AbortController().signal, progress: new RecordingProgress() });

describe('deployment lock', () => {
  it('one holder at a time; the second is refused naming the first; released, it can be taken again', async () => {
    const store = new MemoryStore();
    const first = await DeploymentLock.acquire(store, t, 'modeldeploy up', { wait: false, timeoutMs: 0 }, ctx());
    const refused = await DeploymentLock.acquire(store, t, 'modeldeploy down', { wait: false, timeoutMs: 0 }, ctx()).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'DeploymentLocked', details: { holder: { command: 'modeldeploy up', pid: process.pid } } });
    await first.release();
    expect([...store.objects.keys()]).toEqual([]);
    const again = await DeploymentLock.acquire(store, t, 'modeldeploy down', { wait: false, timeoutMs: 0 }, ctx());
    await again.release();
  });

  it('a lock whose heartbeat is older than STALE_MS is taken over with the next epoch; the old holder has lost it', async () => {
    const store = new MemoryStore();
    const clock = new FakeClock();
    const dead = await DeploymentLock.acquire(store, t, 'modeldeploy up', { wait: false, timeoutMs: 0 }, ctx(clock));
    clock.time += STALE_MS + 1;
    const progress = new RecordingProgress();
    const taker = await DeploymentLock.acquire(store, t, 'modeldeploy up', { wait: false, timeoutMs: 0 }, { clock, signal: new AbortController().signal, progress });
    expect(progress.codes()).toContain('LockTakenOver');
    expect([...store.objects.keys()].sort()).toEqual(['modeldeploy/iris/stages/dev/lock/0000000001', 'modeldeploy/iris/stages/dev/lock/0000000002']);
    await taker.release();
    expect([...store.objects.keys()]).toEqual([]); // the dead holder's epoch went with it
    await dead.release(); // nothing to do: its epoch is gone
  });

  it('unlock breaks a lock and reports whose it was', async () => {
    const store = new MemoryStore();
    const held = await DeploymentLock.acquire(store, t, 'modeldeploy up', { wait: false, timeoutMs: 0 }, ctx());
    const holders = await breakLock(store, t, new AbortController().signal);
    expect(holders.map((h) => h.command)).toEqual(['modeldeploy up']);
    expect([...store.objects.keys()]).toEqual([]);
    await held.release();
  });

  it('with wait, queues until the holder lets go, within the lock timeout', async () => {
    const store = new MemoryStore();
    const clock = new FakeClock();
    const held = await DeploymentLock.acquire(store, t, 'modeldeploy up', { wait: false, timeoutMs: 0 }, ctx(clock));
    const timedOut = await DeploymentLock.acquire(store, t, 'modeldeploy up', { wait: true, timeoutMs: 5_000 }, ctx(clock)).catch((e: unknown) => e);
    expect(timedOut).toMatchObject({ code: 'DeploymentLocked', hint: expect.stringContaining('--lock-timeout') });
    await held.release();
    const queued = await DeploymentLock.acquire(store, t, 'modeldeploy up', { wait: true, timeoutMs: 5_000 }, ctx(clock));
    await queued.release();
  });
});
