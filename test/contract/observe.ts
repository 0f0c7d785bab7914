/**
 * Watching the contract boundary: a registry whose providers are the real ones, wrapped so the
 * suite sees every call (method, arguments, result) and can act at its start or its end — abort
 * the run while a call is in flight, or hold a call until the test has looked at the emulator.
 * Nothing is faked: every call goes through to the real provider and its real SDK.
 */
import type { Provider, ProviderModule, ProviderRegistry } from '../../src/core/provider.js';

/** `read`, `deploy`…, and `artifacts.list`, `artifacts.upload`… for the store. */
export type CallName = string;

export interface ObservedCall {
  name: CallName;
  args: unknown[];
  result?: unknown;
  error?: unknown;
}

export interface Observer {
  /** Before the real call starts (may wait). */
  before?(name: CallName, args: unknown[]): void | Promise<void>;
  /** Right after the real call started, before its answer (may not wait: the call is in flight). */
  started?(name: CallName): void;
  /** After the real call answered, before the caller sees the answer (may wait). */
  after?(name: CallName, call: ObservedCall): void | Promise<void>;
}

export class CallLog {
  readonly calls: ObservedCall[] = [];
  names(): CallName[] {
    return this.calls.map((c) => c.name);
  }
}

export function observedRegistry(registry: ProviderRegistry, log: CallLog, observer: () => Observer): ProviderRegistry {
  return {
    ids: registry.ids,
    defaultId: registry.defaultId,
    descriptors: () => registry.descriptors(),
    async module(id) {
      const module = await registry.module(id);
      const wrapped: ProviderModule = { ...module, connect: async (input) => wrapProvider(await module.connect(input), log, observer) };
      return wrapped;
    },
  };
}

/** The contract's asynchronous calls; anything else (`uri`, fields) passes through as it is. */
const PROVIDER_CALLS = new Set(['read', 'deploy', 'status', 'invoke', 'promote', 'inventory', 'remove', 'list']);
const STORE_CALLS = new Set(['list', 'upload', 'write', 'create', 'read', 'delete', 'incomplete', 'abortIncomplete']);

function wrapProvider(provider: Provider, log: CallLog, observer: () => Observer): Provider {
  const artifacts = wrap(provider.artifacts, STORE_CALLS, 'artifacts.', log, observer);
  const wrapped = wrap(provider, PROVIDER_CALLS, '', log, observer);
  return new Proxy(wrapped, { get: (target, key, receiver) => (key === 'artifacts' ? artifacts : Reflect.get(target, key, receiver)) });
}

function wrap<T extends object>(object: T, calls: Set<string>, prefix: string, log: CallLog, observer: () => Observer): T {
  return new Proxy(object, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown;
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => Promise<unknown>;
      if (typeof key !== 'string' || !calls.has(key)) return method.bind(target);
      return wrapMethod(target, `${prefix}${key}`, method, log, observer);
    },
  });
}

function wrapMethod(target: object, name: string, method: (...args: unknown[]) => Promise<unknown>, log: CallLog, observer: () => Observer) {
  return async (...args: unknown[]) => {
    const o = observer();
    await o.before?.(name, args);
    const call: ObservedCall = { name, args };
    log.calls.push(call);
    const pending = method.apply(target, args);
    o.started?.(name);
    try {
      call.result = await pending;
    } catch (error) {
      call.error = error;
      await o.after?.(name, call);
      throw error;
    }
    await o.after?.(name, call);
    return call.result;
  };
}
