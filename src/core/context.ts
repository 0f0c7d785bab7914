import type { Clock } from './clock.js';
import type { ProgressSink } from './events.js';
import type { Current, Provider, ProviderContext, ProviderModule, ProviderRegistry, Resource, Target } from './provider.js';
import type { DeploymentSpec } from './spec.js';
import { isOwned, notOwnedError, targetOf } from './target.js';

/** What the lifecycle needs from its caller (the CLI, or a test): nothing global. */
export interface CoreContext {
  registry: ProviderRegistry;
  progress: ProgressSink;
  clock: Clock;
  /** Aborted on SIGINT/SIGTERM: the lifecycle stops, rolls back, and reports Interrupted. */
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
  /** `.modeldeploy/` in the working directory: hash cache and last results, nothing `down` needs. */
  cacheDir?: string;
}

export function providerContext(
  core: CoreContext,
  signal: AbortSignal = core.signal,
  track: (resource: Resource) => void = () => undefined,
): ProviderContext {
  return { signal, clock: core.clock, progress: core.progress, track };
}

/** One command's view of one deployment: the provider module, its connected adapter, the target. */
export interface Session {
  module: ProviderModule;
  provider: Provider;
  t: Target;
}

/** Load the deployment's provider and connect it (settings read once; no call made). */
export async function openSession(spec: DeploymentSpec, core: CoreContext): Promise<Session> {
  const module = await core.registry.module(spec.provider);
  const t = targetOf(spec);
  const provider = await module.connect({ settings: t.settings, region: t.region, env: core.env });
  return { module, provider, t };
}

export type Action = 'create' | 'update' | 'unchanged';

export interface Decision {
  action: Action;
  /** The revision serving now, when the endpoint has one. */
  current?: string;
  /** The revision to put back if this run fails: one that serves (not one that failed). */
  restorable?: string;
}

/**
 * The create / update / unchanged decision and the ownership guard, once for every provider: an
 * endpoint under the target's name that is not this deployment's is refused (exit 3), untouched.
 */
export function decide(current: Current | undefined, revision: string, session: Pick<Session, 't' | 'module'>): Decision {
  if (!current) return { action: 'create' };
  const { t, module } = session;
  if (!isOwned(current.owner, t)) throw notOwnedError(`the ${module.title} endpoint ${t.base}`, t, current.owner);
  if (!current.revision) return { action: 'create' };
  const restorable = current.state.state === 'failed' ? {} : { restorable: current.revision };
  if (current.revision === revision && current.state.state === 'ready') return { action: 'unchanged', current: current.revision, ...restorable };
  return { action: 'update', current: current.revision, ...restorable };
}
