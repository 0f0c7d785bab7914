/**
 * The CLI: commander wiring, signals, rendering and exit codes, given a provider registry (the
 * composition root, bin/modeldeploy.ts, hands it in: src/ names no provider). Only `run` sets
 * process.exitCode; `main` returns the code so tests run the CLI in-process.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import type { CommandContext, CommandDefinition } from './commands/command.js';
import { downCommand } from './commands/down.js';
import { initCommand } from './commands/init.js';
import { invokeCommand } from './commands/invoke.js';
import { listCommand } from './commands/list.js';
import { planCommand } from './commands/plan.js';
import { statusCommand } from './commands/status.js';
import { unlockCommand } from './commands/unlock.js';
import { upCommand } from './commands/up.js';
import { validateCommand } from './commands/validate.js';
import type { CoreContext } from './core/context.js';
import { EXIT_CODES, type ModeldeployError } from './core/errors.js';
import type { ProgressEvent } from './core/events.js';
import type { ProviderRegistry } from './core/provider.js';
import type { DeploymentSpec } from './core/spec.js';
import { Output, type Io } from './ui/output.js';

const COMMANDS: CommandDefinition[] = [upCommand, invokeCommand, downCommand, statusCommand, listCommand, planCommand, validateCommand, initCommand, unlockCommand] as CommandDefinition[];

export interface MainOptions {
  registry: ProviderRegistry;
  signal?: AbortSignal;
  /** Hears every progress event (the bin keeps what a run created, for a second signal). */
  onProgress?: (event: ProgressEvent) => void;
}

export async function main(argv: string[], io: Io, options: MainOptions): Promise<number> {
  const { registry } = options;
  const signal = options.signal ?? new AbortController().signal;
  let exitCode = 0;
  const program = new Command('modeldeploy')
    .description('From deploy.yaml to a live, smoke-tested inference endpoint (SageMaker, Vertex AI, Azure ML, or this machine) and back.')
    .version(version(), '-v, --version')
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  for (const definition of COMMANDS) {
    const command = program.command(definition.name).description(definition.summary).exitOverride();
    if (definition.arguments) command.arguments(definition.arguments);
    if (definition.usesDeployFile) {
      command.option(`-f, --${definition.deployFileLongFlag ?? 'file'} <path>`, 'the deploy.yaml', 'deploy.yaml');
      command.option('--stage <stage>', 'override the stage in deploy.yaml');
    }
    for (const o of definition.options) {
      const description = o.description.replace('{providers}', registry.ids.join(' | '));
      command.addOption(new Option(o.flags, description).default(o.default));
    }
    command.option('--json', 'print one JSON document on stdout (success or failure)');
    command.option('-q, --quiet', 'no progress output');
    command.option('--verbose', 'stack traces for internal errors');
    command.action(async (opts: Record<string, unknown>) => {
      exitCode = await runCommand(definition, opts, io, signal, registry, options.onProgress);
    });
  }

  if (argv.length === 0) {
    // No command is a usage error: a CI step that forgot its command must not pass.
    io.stderr.write(program.helpInformation());
    io.stderr.write('error: no command given\n  hint: modeldeploy up | invoke | down | status | …; modeldeploy <command> --help for its options\n');
    return EXIT_CODES.usage;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
      const hint = error.code === 'commander.excessArguments' ? 'name deploy.yaml with -f: modeldeploy <command> -f path/to/deploy.yaml' : undefined;
      if (hint) io.stderr.write(`  hint: ${hint}\n`);
      if (argv.includes('--json')) {
        io.stdout.write(`${JSON.stringify({ ok: false, error: { code: 'UsageError', kind: 'usage', message: error.message.replace(/^error: /, ''), ...(hint ? { hint } : {}) } }, null, 2)}\n`);
      }
      return EXIT_CODES.usage;
    }
    throw error;
  }
  return exitCode;
}

async function runCommand(
  definition: CommandDefinition,
  opts: Record<string, unknown>,
  io: Io,
  signal: AbortSignal,
  registry: ProviderRegistry,
  onProgress: ((event: ProgressEvent) => void) | undefined,
): Promise<number> {
  const outputOptions = { json: opts.json === true, quiet: opts.quiet === true, verbose: opts.verbose === true };
  const { spinnerAllowed, createSpinner } = await import('./ui/output.js');
  const spinner = definition.name !== 'validate' && definition.name !== 'init' && spinnerAllowed(io, outputOptions) ? await createSpinner(io) : undefined;
  const output = new Output(io, outputOptions, spinner, onProgress);
  const file = path.resolve(io.cwd, String(opts[definition.deployFileLongFlag ?? 'file'] ?? 'deploy.yaml'));
  const displayFile = path.relative(io.cwd, file) || file;
  let core: CoreContext | undefined;
  const ctx: CommandContext = {
    io,
    output,
    signal,
    registry,
    async loadSpec(): Promise<DeploymentSpec> {
      const { loadDeployment } = await import('./config/load.js');
      const loaded = await loadDeployment(file, {
        env: io.env,
        ...(typeof opts.stage === 'string' ? { stage: opts.stage } : {}),
        registry,
        displayPath: displayFile,
      });
      output.addSecrets(loaded.secrets);
      ctx.spec = loaded.spec;
      return loaded.spec;
    },
    async core(): Promise<CoreContext> {
      if (core) return core;
      const { systemClock } = await import('./core/clock.js');
      core = { registry, progress: output, clock: systemClock, signal, env: io.env, cacheDir: path.join(io.cwd, '.modeldeploy') };
      return core;
    },
  };
  try {
    const result = await definition.run(opts, ctx);
    if (result.error) {
      await report(result.error, output, outputOptions, result.data);
      return EXIT_CODES[result.error.kind];
    }
    if (outputOptions.json) output.json({ ok: true, command: definition.name, ...(result.data as object) });
    else output.result(result.human);
    return 0;
  } catch (caught) {
    const { toModeldeployError } = await import('./core/errors.js');
    const error = toModeldeployError(caught);
    await report(error, output, outputOptions);
    await definition.onFailure?.(error, ctx).catch(() => undefined);
    return EXIT_CODES[error.kind];
  } finally {
    output.close();
  }
}

async function report(error: ModeldeployError, output: Output, options: { json: boolean; verbose: boolean }, data?: unknown): Promise<void> {
  if (options.json) {
    output.json({
      ok: false,
      error: { code: error.code, kind: error.kind, message: error.message, ...(error.hint ? { hint: error.hint } : {}), ...(error.details ? { details: error.details } : {}) },
      ...(data !== undefined ? { result: data } : {}),
    });
  }
  output.error(error.message);
  if (error.hint) output.note(`  hint: ${error.hint}`);
  const github = await import('./ui/github.js');
  if (github.onGithubActions(output.io.env)) for (const line of github.errorAnnotations(error)) output.note(line);
  if (error.kind === 'internal' && options.verbose) {
    output.note((error.cause instanceof Error ? error.cause.stack : error.stack) ?? '');
  }
}

function version(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const candidate of [path.join(here, '..', 'package.json'), path.join(here, '..', '..', 'package.json')]) {
    try {
      return (JSON.parse(readFileSync(candidate, 'utf8')) as { version: string }).version;
    } catch {
      // try the next layout (source vs dist)
    }
  }
  return '0.0.0';
}

/**
 * The bin entry: real process streams; the first SIGINT/SIGTERM stops the run (which rolls back);
 * a second one (CI runners send SIGINT, then SIGTERM 7.5 s later) exits at once, after printing
 * what the run created that may still be there and the command that removes it. The journal in
 * the provider's store lets the next `up` or `down` finish the rollback.
 */
export async function run(registry: ProviderRegistry): Promise<void> {
  const controller = new AbortController();
  const args = process.argv.slice(2);
  const command = COMMANDS.find((c) => c.name === args.find((a) => !a.startsWith('-')));
  const left = new Map<string, string>();
  const onProgress = (event: ProgressEvent) => {
    const id = typeof event.data?.id === 'string' ? event.data.id : undefined;
    if (event.code === 'Created' && id) left.set(id, `${String(event.data?.type)} ${id}`);
    if ((event.code === 'RolledBack' || event.code === 'Deleted') && id) left.delete(id);
    if (event.code === 'RollbackDone' && event.level !== 'warn') left.clear();
  };
  let signals = 0;
  const onSignal = (name: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      if (left.size > 0) {
        const file = args[args.findIndex((a) => a === '-f' || a === '--file') + 1];
        const stage = args[args.indexOf('--stage') + 1];
        process.stderr.write(
          `\n${name}: exiting now; what this run created may still be there:\n${[...left.values()].map((l) => `  ${l}`).join('\n')}\n` +
            `the next \`modeldeploy up\` or \`modeldeploy down\` of this deployment finishes the rollback; to remove everything now:\n` +
            `  modeldeploy down${args.includes('-f') || args.includes('--file') ? ` -f ${file ?? 'deploy.yaml'}` : ''}${args.includes('--stage') ? ` --stage ${stage ?? ''}` : ''}\n`,
        );
      }
      process.exit(130);
    }
    process.stderr.write(`\n${name}: ${command?.onInterrupt ?? 'stopping'} (again to exit at once)\n`);
    controller.abort(new Error(name));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const code = await main(args, { stdout: process.stdout, stderr: process.stderr, env: process.env, stdin: process.stdin, cwd: process.cwd() }, { registry, signal: controller.signal, onProgress });
  process.exitCode = controller.signal.aborted && code !== 0 ? 130 : code;
}
