import type { Clock } from './clock.js';
import { ProviderError } from './errors.js';
import type { ProgressSink } from './events.js';
import { pollUntil } from './poll.js';
import type { EndpointState, Polling } from './provider.js';

export interface WaitOptions {
  clock: Clock;
  signal: AbortSignal;
  progress: ProgressSink;
  deadline: number;
  polling: Polling;
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
  const { clock, progress } = options;
  const started = clock.now();
  let last = '';
  const settled = await pollUntil(
    async () => {
      let state: EndpointState;
      try {
        state = await poll();
      } catch (error) {
        if (!(error instanceof ProviderError) || !error.retryable) throw error;
        state = { state: 'pending', detail: `status check throttled (${error.code})` };
      }
      const label = state.state === 'pending' ? `pending${state.detail ? `: ${state.detail}` : ''}` : state.state;
      if (label !== last) {
        progress.emit({ code: 'StateChanged', level: 'info', message: `${options.what} is ${label}`, data: { state: state.state, elapsedMs: clock.now() - started } });
        last = label;
      }
      return state.state === 'pending' ? undefined : state;
    },
    { clock, signal: options.signal, polling: options.polling, deadline: options.deadline },
  );
  const waitedMs = clock.now() - started;
  if (settled) return { ...settled, waitedMs };
  return { state: 'failed', reason: `${options.what} was not ready within the deploy timeout (${Math.round(waitedMs / 1000)} s of waiting)`, waitedMs };
}
