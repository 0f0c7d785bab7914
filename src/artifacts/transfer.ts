/** What every provider's artifact upload shares: progress lines and a bounded pool of file uploads. */
import type { ProviderContext } from '../core/provider.js';

const MiB = 1048576;

/**
 * A progress callback for concurrent transfers: each key reports its own bytes so far; at most
 * one `UploadProgress` event a second gives the sum, the total and the rate.
 */
export function uploadProgress(ctx: Pick<ProviderContext, 'clock' | 'progress'>, total: number): (key: string, loaded: number) => void {
  const loadedByKey = new Map<string, number>();
  const started = ctx.clock.now();
  let last = started;
  return (key, loaded) => {
    loadedByKey.set(key, loaded);
    const now = ctx.clock.now();
    if (now - last < 1000) return;
    last = now;
    const sum = [...loadedByKey.values()].reduce((a, b) => a + b, 0);
    const rate = sum / MiB / ((now - started) / 1000);
    ctx.progress.emit({ code: 'UploadProgress', level: 'info', message: `uploading: ${(sum / MiB).toFixed(0)} of ${(total / MiB).toFixed(0)} MiB (${rate.toFixed(1)} MiB/s)`, data: { loaded: sum, total } });
  };
}

/**
 * Upload files `lanes` at a time, largest first, so the longest transfer starts at once and the
 * small files fill the other lanes. Stops taking new files once the signal is aborted or a lane
 * fails, and rejects only once every lane has stopped: a rollback that starts after this returns
 * never races a transfer still placing a file.
 */
export async function uploadEach<T extends { file: { bytes: number } }>(items: readonly T[], lanes: number, signal: AbortSignal, upload: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items].sort((a, b) => b.file.bytes - a.file.bytes);
  let failed = false;
  const lane = async () => {
    for (let file = queue.shift(); file && !failed; file = queue.shift()) {
      signal.throwIfAborted();
      try {
        await upload(file);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(lanes, queue.length) }, lane));
  const rejected = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}
