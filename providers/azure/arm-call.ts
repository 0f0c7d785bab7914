/**
 * How every ARM call is made: SDK errors become ProviderErrors (errors.ts), a 404 can mean
 * "absent", and a long-running operation is a handle the caller polls through the core's
 * pollUntil, on its own clock and signal, so an interrupt stops the wait at once.
 */
import type { Clock } from '../../src/core/clock.js';
import { ProviderError } from '../../src/core/errors.js';
import { pollUntil } from '../../src/core/poll.js';
import type { Polling } from '../../src/core/provider.js';
import { isNotFound, parseLroFailure, toProviderError, type ErrorContext } from './errors.js';

export async function call<T>(where: ErrorContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toProviderError(error, where);
  }
}

/** The call's answer, or undefined when what it names does not exist. */
export async function orUndefined<T>(where: ErrorContext, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw toProviderError(error, where);
  }
}

/** Every item of a paged list. */
export async function all<T>(where: ErrorContext, iterator: () => AsyncIterable<T>): Promise<T[]> {
  return call(where, async () => {
    const out: T[] = [];
    for await (const item of iterator()) out.push(item);
    return out;
  });
}

/** Every item of a paged list under a parent that may not exist (then none). */
export async function allUnder<T>(where: ErrorContext, iterator: () => AsyncIterable<T>): Promise<T[]> {
  return (await orUndefined(where, () => all(where, iterator))) ?? [];
}

/** A long-running ARM operation in flight. */
export interface Lro<T> {
  /**
   * One status check; true once done. Throws the operation's failure (mapped) when it failed,
   * and a request's failure (throttling, a 5xx) when the check itself could not be made.
   */
  poll(signal: AbortSignal): Promise<boolean>;
  /** Set once the operation itself has failed: polling again changes nothing. */
  readonly failure: ProviderError | undefined;
  result(): T | undefined;
}

interface PollerLike<R> {
  poll(options?: { abortSignal?: AbortSignal }): Promise<void>;
  isDone(): boolean;
  getResult(): R | undefined;
}

/**
 * Start an operation. The SDK's `begin…` polls once before it returns, so an operation that
 * failed at once throws there; it comes back as a handle whose first poll throws that failure,
 * so the caller meets every outcome of an operation in one place.
 */
export async function begin<R, T>(where: ErrorContext, start: () => Promise<PollerLike<R>>, map: (r: R) => T): Promise<Lro<T>> {
  let poller: PollerLike<R>;
  try {
    poller = await start();
  } catch (error) {
    if (!parseLroFailure(error)) throw toProviderError(error, where);
    const failure = toProviderError(error, where);
    return { failure, poll: () => Promise.reject(failure), result: () => undefined };
  }
  let failure: ProviderError | undefined;
  return {
    get failure() {
      return failure;
    },
    async poll(signal) {
      if (failure) throw failure;
      if (!poller.isDone()) {
        try {
          await poller.poll({ abortSignal: signal });
        } catch (error) {
          const mapped = toProviderError(error, where);
          if (parseLroFailure(error) || poller.isDone()) failure = mapped;
          throw mapped;
        }
      }
      return poller.isDone();
    },
    result() {
      const r = poller.getResult();
      return r === undefined ? undefined : map(r);
    },
  };
}

export interface WaitContext {
  clock: Clock;
  signal: AbortSignal;
}

/** Poll an operation until it is done, at the provider's pace; a check that could not be made (throttled) is made again. */
export async function waitFor<T>(lro: Lro<T>, ctx: WaitContext, polling: Polling): Promise<T | undefined> {
  await pollUntil(
    async () => {
      try {
        return (await lro.poll(ctx.signal)) ? true : undefined;
      } catch (error) {
        if (lro.failure || !passing(error, ctx)) throw error;
        return undefined;
      }
    },
    { ...ctx, polling },
  );
  return lro.result();
}

/** Provisioning states in which Azure ML refuses another operation on the resource (409). */
export const BUSY = new Set(['Creating', 'Updating', 'Deleting', 'Scaling']);

/** Read a resource until it is not busy (or gone): the state another operation must wait for. */
export async function untilIdle<T extends { state: string }>(get: () => Promise<T | undefined>, ctx: WaitContext, polling: Polling): Promise<T | undefined> {
  const found = await pollUntil(
    async () => {
      let r: T | undefined;
      try {
        r = await get();
      } catch (error) {
        if (!passing(error, ctx)) throw error;
        return undefined;
      }
      return !r || !BUSY.has(r.state) ? { r } : undefined;
    },
    { ...ctx, polling },
  );
  return found?.r;
}

/** A failure to look (throttled, a 5xx) while nothing was interrupted: look again. */
function passing(error: unknown, ctx: WaitContext): boolean {
  return error instanceof ProviderError && error.retryable && !ctx.signal.aborted;
}

/** A ProviderError for something the SDK answered without the field modeldeploy needs. */
export function missing(code: string, message: string, where: ErrorContext): ProviderError {
  return toProviderError(Object.assign(new Error(message), { code }), where);
}
