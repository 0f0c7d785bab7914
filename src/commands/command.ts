/**
 * A command is a declaration: name, summary, options, and `run(input, ctx)` returning a typed
 * result. `src/cli.ts` adapts every declaration to commander and renders what `run` returns.
 * Command files import only types at the top; their work is loaded when they run.
 */
import type { CoreContext } from '../core/context.js';
import type { ProviderRegistry } from '../core/provider.js';
import type { DeploymentSpec } from '../core/spec.js';
import type { Io, Output } from '../ui/output.js';

export interface OptionDeclaration {
  flags: string;
  /** `{providers}` is replaced by the registered provider ids. */
  description: string;
  default?: string | boolean;
}

export interface CommandContext {
  io: Io;
  output: Output;
  signal: AbortSignal;
  /** The providers this CLI was built with. */
  registry: ProviderRegistry;
  /** Load and fully validate -f/--file (with --stage applied). */
  loadSpec(): Promise<DeploymentSpec>;
  /** The spec loadSpec returned, once it has. */
  spec?: DeploymentSpec;
  /** The core's dependencies: registry, progress, clock, signal, env, cache folder. */
  core(): Promise<CoreContext>;
}

export interface CommandResult<T> {
  data: T;
  /** What a person reads on stdout. */
  human: string;
  /** A failure that still has a result to print (e.g. invoke got a 500). */
  error?: import('../core/errors.js').ModeldeployError;
}

export interface CommandDefinition<T = unknown> {
  name: string;
  summary: string;
  /** Positional arguments, commander syntax (e.g. `[dir]`). */
  arguments?: string;
  options: OptionDeclaration[];
  /** Whether -f/--file and --stage apply. */
  usesDeployFile: boolean;
  /**
   * Where the command's own --file means something else (invoke: the request body), deploy.yaml
   * keeps -f and takes this long name instead.
   */
  deployFileLongFlag?: string;
  /** What the first SIGINT/SIGTERM does, as the user is told (default: "stopping"). */
  onInterrupt?: string;
  run(input: Record<string, unknown>, ctx: CommandContext): Promise<CommandResult<T>>;
  /** After a failure has been reported: what the command still owes (GitHub outputs of a failed up). */
  onFailure?(error: import('../core/errors.js').ModeldeployError, ctx: CommandContext): Promise<void>;
}

export function defineCommand<T>(definition: CommandDefinition<T>): CommandDefinition<T> {
  return definition;
}

/** The deployment lock's flags, shared by the commands that take it (up, down). */
export const LOCK_OPTIONS: OptionDeclaration[] = [
  { flags: '--wait', description: 'queue behind another run of this deployment and stage instead of failing' },
  { flags: '--lock-timeout <duration>', description: 'with --wait: how long to queue (default 30m)' },
];

/** --wait and --lock-timeout as the core takes them. */
export async function lockOptions(input: Record<string, unknown>): Promise<{ wait: boolean; timeoutMs: number }> {
  const wait = input.wait === true;
  if (typeof input.lockTimeout !== 'string') return { wait, timeoutMs: 30 * 60_000 };
  const [{ parseDuration }, { UsageError }] = await Promise.all([import('../core/spec.js'), import('../core/errors.js')]);
  try {
    return { wait: true, timeoutMs: parseDuration(input.lockTimeout) };
  } catch {
    throw new UsageError('InvalidOption', `--lock-timeout ${input.lockTimeout} is not a duration`, { hint: 'e.g. --lock-timeout 20m' });
  }
}
