/**
 * The long-running operations this process started, by the resource they create or change. An
 * interrupt aborts our waiting, not the operation: the entry stays until the operation is seen to
 * end, so `remove` can cancel it and wait for it to end (cancelled, failed or done) before the
 * delete that follows, which Vertex would otherwise refuse or race. Every wait polls through the
 * core's pollUntil at the connection's polling pace.
 */
import { pollUntil } from '../../src/core/poll.js';
import type { Polling, ProviderContext, Resource } from '../../src/core/provider.js';
import { OperationFailedError, isNotFound, toProviderError, type ErrorContext } from './errors.js';
import type { CallContext, VertexRest } from './rest.js';

/** How a tracked operation stands, as far as this process saw it. */
export type Outcome = { kind: 'running' } | { kind: 'done' } | { kind: 'failed'; error: unknown };

interface Pending {
  /** The operation's name once the call that starts it has answered (undefined: none of ours to follow). */
  started: Promise<string | undefined>;
  /** Resolves when it is done; rejects with the mapped failure, or with the abort of our waiting. */
  done: Promise<void>;
  outcome: Outcome;
  /** Seen to end (done or failed), as opposed to our waiting being stopped. */
  ended: boolean;
  /** For a chain: stop following it. */
  stop?: () => void;
}

type WaitContext = Pick<ProviderContext, 'clock' | 'signal'>;

/** A change started: its operation's name once the call answers, and its response once it is done. */
export interface Tracked {
  started: Promise<string | undefined>;
  done: Promise<Record<string, unknown> | undefined>;
}

export class Operations {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly rest: VertexRest,
    private readonly polling: Polling,
  ) {}

  /**
   * Start a change on `key` and follow its operation in the background, waiting with ctx's signal.
   * Registered before the call answers, so a `remove` meanwhile waits for it. `start` resolves to
   * the operation's name, or undefined when there is none of ours to follow (the entry is then
   * dropped). `done` resolves with the operation's response.
   */
  track(key: string, start: () => Promise<string | undefined>, where: ErrorContext, ctx: WaitContext): Tracked {
    const started = start();
    const entry: Pending = { started, done: Promise.resolve(), outcome: { kind: 'running' }, ended: false };
    const done = started.then(async (name) => {
      if (name) return this.wait(name, where, ctx);
      if (this.pending.get(key) === entry) this.pending.delete(key);
      return undefined;
    });
    entry.done = done.then(() => undefined);
    entry.done.then(
      () => {
        entry.outcome = { kind: 'done' };
        entry.ended = true;
      },
      (error: unknown) => {
        entry.outcome = { kind: 'failed', error };
        // An aborted wait has not seen the end: the operation may still run.
        entry.ended = !ctx.signal.aborted;
      },
    );
    this.pending.set(key, entry);
    return { started, done };
  }

  /**
   * Run a chain of changes (create an endpoint, wait for the version, deploy…) in the background as
   * one entry, with a signal of its own: ctx's, or `settle`'s, which stops it before a removal (what
   * it started is then cancelled through its own entries).
   */
  chain(key: string, ctx: ProviderContext, run: (ctx: ProviderContext) => Promise<void>): Promise<void> {
    const stop = new AbortController();
    const done = run({ ...ctx, signal: AbortSignal.any([ctx.signal, stop.signal]) });
    const entry: Pending = { started: Promise.resolve(undefined), done, outcome: { kind: 'running' }, ended: false, stop: () => stop.abort(new Error('stopped: its resources are being removed')) };
    done.then(
      () => {
        entry.outcome = { kind: 'done' };
        entry.ended = true;
      },
      (error: unknown) => {
        entry.outcome = { kind: 'failed', error };
        entry.ended = true;
      },
    );
    this.pending.set(key, entry);
    return done;
  }

  /** What this process knows of `key`: undefined when it started nothing there. */
  outcome(key: string): Outcome | undefined {
    return this.pending.get(key)?.outcome;
  }

  /** Poll an operation until it is done; throws the mapped failure (OperationFailedError inside). */
  async wait(name: string, where: ErrorContext, ctx: WaitContext): Promise<Record<string, unknown> | undefined> {
    const finished = await pollUntil(
      async () => {
        const op = await this.rest.getOperation(name, ctx);
        if (!op.done) return undefined;
        if (op.error) throw toProviderError(new OperationFailedError(name, op.error.code, op.error.message), where);
        return { response: op.response };
      },
      { clock: ctx.clock, signal: ctx.signal, polling: this.polling },
    );
    return finished?.response;
  }

  /**
   * Before `remove` touches `key`: what this process started there is cancelled if it still runs,
   * and waited for until it ends; a chain is stopped and waited for.
   */
  async settle(key: string, ctx: WaitContext): Promise<void> {
    const entry = this.pending.get(key);
    if (!entry) return;
    entry.stop?.();
    const name = await entry.started.catch(() => undefined);
    if (!name) await entry.done.catch(() => undefined);
    else if (!entry.ended) await this.cancelAndWait(name, ctx);
    if (this.pending.get(key) === entry) this.pending.delete(key);
  }

  /** settle every key under a prefix (the deploys on one endpoint: `<endpoint>/…`). */
  async settleUnder(prefix: string, ctx: WaitContext): Promise<void> {
    await Promise.all([...this.pending.keys()].filter((k) => k.startsWith(prefix)).map((k) => this.settle(k, ctx)));
  }

  private async cancelAndWait(name: string, ctx: WaitContext): Promise<void> {
    const call: CallContext = ctx;
    let cancelled = false;
    await pollUntil(
      async () => {
        const op = await this.rest.getOperation(name, call).catch((error: unknown) => (isNotFound(error) ? { done: true } : Promise.reject(error)));
        if (op.done) return true;
        if (!cancelled) {
          cancelled = true;
          await this.rest.cancelOperation(name, call);
        }
        return undefined;
      },
      { clock: ctx.clock, signal: ctx.signal, polling: this.polling },
    );
  }
}

/** The key a resource's operations are tracked under (endpoint and model may share an id). */
export function keyOf(resource: Pick<Resource, 'type' | 'id'>): string {
  return `${resource.type}:${resource.id}`;
}

/** The key of a revision's chain of changes on one endpoint (create it, wait for the version, deploy). */
export function chainKey(endpointId: string, revision: string): string {
  return `chain:${endpointId}/${revision}`;
}
