import type { Clock } from './clock.js';
import { ProviderError } from './errors.js';
import type { ProgressSink } from './events.js';
import type { EndpointState } from './provider.js';

export interface WaitOptions {
  clock: Clock;
  signal: AbortSignal;
  progress: ProgressSink;
  deadline: number;
  initialMs: number;
  maxMs: number;
  what: string;
}

/**
 * Poll until ready or failed. The interval starts short (readiness is noticed within about a
 * second) and backs off to a cap; each change of state is reported once. A retryable error
 * while polling counts as "still pending", not as failure.
 */
export async function waitUntilSettled(
  poll: () => Promise<EndpointState>,
  options: WaitOptions,
): Promise<EndpointState & { waitedMs: number }> {
  const { clock, signal, progress } = options;
  const started = clock.now();
  let interval = options.initialMs;
  let last = '';
  for (;;) {
    signal.throwIfAborted();
    let state: EndpointState;
    try {
      state = await poll();
    } catch (error) {
      if (!(error instanceof ProviderError) || !error.retryable) throw error;
      state = { state: 'pending', detail: `status check throttled (${error.code})` };
    }
    const label = state.state === 'pending' ? `pending${state.detail ? `: ${state.detail}` : ''}` : state.state;
    if (label !== last) {
      progress.emit({
        code: 'StateChanged',
        level: 'info',
        message: `${options.what} is ${label}`,
        data: { state: state.state, elapsedMs: clock.now() - started },
      });
      last = label;
    }
    if (state.state !== 'pending') return { ...state, waitedMs: clock.now() - started };
    const remaining = options.deadline - clock.now();
    if (remaining <= 0) {
      return {
        state: 'failed',
        reason: `${options.what} was not ready within the deploy timeout (${Math.round((clock.now() - started) / 1000)} s of waiting)`,
        waitedMs: clock.now() - started,
      };
    }
    await clock.sleep(Math.min(interval, remaining), signal);
    interval = Math.min(options.maxMs, Math.ceil(interval * 1.5));
  }
}
