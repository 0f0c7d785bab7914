import type { Clock } from './clock.js';
import { ProviderError } from './errors.js';
import { backoff } from './poll.js';
import type { Polling } from './provider.js';

export interface RetryOptions {
  clock: Clock;
  signal?: AbortSignal;
  attempts?: number;
  baseMs?: number;
  maxMs?: number;
  onRetry?: (error: ProviderError, attempt: number, delayMs: number) => void;
}

/**
 * Retry what the provider marked retryable (throttling, 5xx), with jittered exponential backoff
 * and the service's own Retry-After when it gave one. Anything else is thrown at once.
 */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  const attempts = options.attempts ?? 6;
  const base = options.baseMs ?? 500;
  const max = options.maxMs ?? 20_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!(error instanceof ProviderError) || !error.retryable || attempt >= attempts) throw error;
      const backoff = Math.min(max, base * 2 ** (attempt - 1));
      const jittered = backoff / 2 + Math.random() * (backoff / 2);
      const delay = error.retryAfterSeconds !== undefined ? Math.max(error.retryAfterSeconds * 1000, jittered) : jittered;
      options.onRetry?.(error, attempt, delay);
      await options.clock.sleep(delay, options.signal);
    }
  }
}

/**
 * Repeat a change the service refused because the resource is busy (a conflict the provider
 * marked retryable: another operation still runs on it), polling at the provider's pace for up
 * to an hour. Anything else is thrown at once.
 */
export async function retryWhileBusy<T>(ctx: { clock: Clock; signal: AbortSignal }, polling: Polling, fn: () => Promise<T>): Promise<T> {
  const deadline = ctx.clock.now() + 60 * 60_000;
  const next = backoff(polling);
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (!(error instanceof ProviderError) || error.category !== 'conflict' || !error.retryable || ctx.clock.now() > deadline) throw error;
      await ctx.clock.sleep(next(), ctx.signal);
    }
  }
}
