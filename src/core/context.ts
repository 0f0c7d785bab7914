import type { Clock } from './clock.js';
import type { ProgressSink } from './events.js';
import type { ProviderContext, ProviderRegistry, Resource } from './provider.js';

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
  return { signal, clock: core.clock, progress: core.progress, env: core.env, track };
}
