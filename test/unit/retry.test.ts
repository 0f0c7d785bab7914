/** The core's retry helpers and polling settings, on a clock that records sleeps instead of waiting. */
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/core/clock.js';
import { ProviderError, UsageError } from '../../src/core/errors.js';
import { retryWhileBusy } from '../../src/core/retry.js';
import { durationSetting } from '../../src/core/spec.js';

function fakeClock(): Clock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms: number) => {
      slept.push(ms);
      now += ms;
    },
  } as Clock & { slept: number[] };
}

const busy = () => new ProviderError('FailedPrecondition', 'an operation is in progress', { category: 'conflict', retryable: true });

describe('retryWhileBusy', () => {
  it('repeats a busy refusal at the polling pace, backing off to maxMs, until it goes through', async () => {
    const clock = fakeClock();
    let calls = 0;
    await retryWhileBusy({ clock, signal: new AbortController().signal }, { initialMs: 100, maxMs: 200 }, async () => {
      if (++calls < 4) throw busy();
    });
    expect(calls).toBe(4);
    expect(clock.slept).toEqual([100, 150, 200]);
  });

  it('throws anything else at once, and a busy refusal after an hour', async () => {
    const clock = fakeClock();
    const other = new ProviderError('InvalidArgument', 'bad', { category: 'invalid' });
    await expect(retryWhileBusy({ clock, signal: new AbortController().signal }, { initialMs: 100, maxMs: 200 }, async () => Promise.reject(other))).rejects.toBe(other);
    expect(clock.slept).toEqual([]);
    await expect(retryWhileBusy({ clock, signal: new AbortController().signal }, { initialMs: 60_000, maxMs: 600_000 }, async () => Promise.reject(busy()))).rejects.toThrow('in progress');
    expect(clock.now()).toBeGreaterThan(60 * 60_000);
  });
});

describe('durationSetting', () => {
  it('reads 500ms, 2s or plain milliseconds, floors at 10 ms, and falls back when unset', () => {
    expect([durationSetting('X', '500ms', 1), durationSetting('X', ' 2s ', 1), durationSetting('X', '250', 1), durationSetting('X', '1ms', 1), durationSetting('X', undefined, 7), durationSetting('X', '', 7)]).toEqual([500, 2000, 250, 10, 7, 7]);
  });

  it('refuses anything else naming the setting', () => {
    expect(() => durationSetting('MODELDEPLOY_GCP_POLL_INTERVAL', 'soon', 1)).toThrow(UsageError);
    expect(() => durationSetting('MODELDEPLOY_GCP_POLL_INTERVAL', 'soon', 1)).toThrow('MODELDEPLOY_GCP_POLL_INTERVAL=soon is not a duration');
  });
});
