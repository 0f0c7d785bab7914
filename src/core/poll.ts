/**
 * The one poll/back-off loop: every wait of the core and of the providers (readiness, a cloud's
 * long-running operation, a resource leaving a busy state, a drain) polls through it, on the
 * injected clock, stopping at once when the signal aborts.
 */
import type { Clock } from './clock.js';
import type { Polling } from './provider.js';

/** Intervals from polling.initialMs, growing 1.5× a step up to polling.maxMs. */
export function backoff(polling: Polling): () => number {
  let next = polling.initialMs;
  return () => {
    const current = next;
    next = Math.min(polling.maxMs, Math.ceil(next * 1.5));
    return current;
  };
}

export interface PollOptions {
  clock: Clock;
  signal: AbortSignal;
  polling: Polling;
  /** Clock time after which to stop: `pollUntil` then returns undefined. */
  deadline?: number;
}

/**
 * Call `check` until it returns a value other than undefined, sleeping between calls; undefined
 * once the deadline has passed. The last sleep is cut to end at the deadline.
 */
export async function pollUntil<T>(check: () => Promise<T | undefined>, options: PollOptions): Promise<T | undefined> {
  const { clock, signal } = options;
  const next = backoff(options.polling);
  for (;;) {
    signal.throwIfAborted();
    const value = await check();
    if (value !== undefined) return value;
    const left = options.deadline === undefined ? Number.POSITIVE_INFINITY : options.deadline - clock.now();
    if (left <= 0) return undefined;
    await clock.sleep(Math.min(next(), left), signal);
  }
}
