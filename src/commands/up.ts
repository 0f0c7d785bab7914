import { defineCommand, LOCK_OPTIONS, lockOptions, type CommandContext } from './command.js';
import type { ModeldeployError } from '../core/errors.js';
import type { UpResult } from '../core/lifecycle.js';

export const upCommand = defineCommand<UpResult>({
  name: 'up',
  summary: 'Upload the model, create or update the endpoint, wait until ready, smoke-test it',
  usesDeployFile: true,
  onInterrupt: 'stopping and rolling back what this run created',
  options: [
    { flags: '--no-smoke', description: 'skip the smoke test' },
    { flags: '--keep-on-failure', description: 'keep what a failed run created, for inspection (default: roll back)' },
    { flags: '--timeout <duration>', description: 'override timeouts.deploy (e.g. 20m)' },
    ...LOCK_OPTIONS,
  ],
  onFailure: githubFailure,
  async run(input, ctx) {
    const [{ up }, { parseDuration }, { writeGithubOutputs }] = await Promise.all([
      import('../core/lifecycle.js'),
      import('../core/spec.js'),
      import('../ui/github.js'),
    ]);
    let spec = await ctx.loadSpec();
    if (typeof input.timeout === 'string') {
      const { UsageError } = await import('../core/errors.js');
      let deployMs: number;
      try {
        deployMs = parseDuration(input.timeout);
      } catch {
        throw new UsageError('InvalidOption', `--timeout ${input.timeout} is not a duration`, { hint: 'e.g. --timeout 20m, 90s, 1h' });
      }
      spec = { ...spec, timeouts: { ...spec.timeouts, deployMs } };
    }
    const result = await up(spec, { smoke: input.smoke !== false, keepOnFailure: input.keepOnFailure === true, lock: await lockOptions(input) }, await ctx.core());
    const summary = [
      `### modeldeploy up: ${result.name}-${result.stage}`,
      '',
      '| | |',
      '|---|---|',
      `| action | ${result.action} |`,
      `| revision | ${result.revision} |`,
      `| provider | ${result.provider} |`,
      ...(result.url ? [`| url | ${result.url} |`] : []),
      ...(result.smoke ? [`| smoke test | passed in ${Math.round(result.smoke.latencyMs)} ms |`] : []),
    ].join('\n');
    const problems = await writeGithubOutputs(ctx.io.env, { endpoint: `${result.name}-${result.stage}`, url: result.url, revision: result.revision, action: result.action }, summary, (t) => ctx.output.mask(t));
    for (const problem of problems) ctx.output.emit({ code: 'GithubOutputFailed', level: 'warn', message: problem });
    await rememberLastResult(ctx.io.cwd, result, (t) => ctx.output.mask(t));
    const verb = { created: 'created', updated: 'updated', unchanged: 'unchanged' }[result.action];
    return {
      data: result,
      human: [`${result.name}-${result.stage} ${verb} at revision ${result.revision}`, ...(result.url ? [`url: ${result.url}`] : [])].join('\n'),
    };
  },
});

/** A failed up still tells the workflow: outputs `action=failed` and `error-code`, and a summary of what failed and what was undone. */
async function githubFailure(error: ModeldeployError, ctx: CommandContext): Promise<void> {
  const { writeGithubOutputs, onGithubActions } = await import('../ui/github.js');
  if (!onGithubActions(ctx.io.env) && !ctx.io.env.GITHUB_OUTPUT && !ctx.io.env.GITHUB_STEP_SUMMARY) return;
  const spec = ctx.spec;
  const endpoint = spec ? `${spec.name}-${spec.stage}` : undefined;
  const list = (key: string) => ((error.details?.[key] as Array<{ type: string; id: string }> | undefined) ?? []).map((r) => `\`${r.type} ${r.id}\``);
  const logs = error.details?.logs;
  const summary = [
    `### modeldeploy up${endpoint ? `: ${endpoint}` : ''} failed`,
    '',
    '| | |',
    '|---|---|',
    `| error | \`${error.code}\` |`,
    `| message | ${cell(error.message)} |`,
    ...(error.hint ? [`| what to do | ${cell(error.hint)} |`] : []),
    ...(list('rolledBack').length ? [`| rolled back | ${list('rolledBack').join(', ')} |`] : []),
    ...(list('remaining').length ? [`| left behind | ${list('remaining').join(', ')} |`] : []),
    ...(typeof logs === 'string' && logs ? ['', '<details><summary>last log lines</summary>', '', '```', logs, '```', '</details>'] : []),
  ].join('\n');
  const problems = await writeGithubOutputs(ctx.io.env, { ...(endpoint ? { endpoint } : {}), action: 'failed', 'error-code': error.code }, summary, (t) => ctx.output.mask(t));
  for (const problem of problems) ctx.output.emit({ code: 'GithubOutputFailed', level: 'warn', message: problem });
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, '<br>');
}

/** `.modeldeploy/<name>-<stage>.json`: the last result, for people and scripts; `down` never reads it. */
async function rememberLastResult(cwd: string, result: UpResult, mask: (text: string) => string): Promise<void> {
  const [{ mkdir, writeFile }, path] = await Promise.all([import('node:fs/promises'), import('node:path')]);
  const dir = path.join(cwd, '.modeldeploy');
  const { name, stage, provider, revision, url, action, timings } = result;
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, `${name}-${stage}.json`), mask(`${JSON.stringify({ name, stage, provider, revision, url, action, timings, at: new Date().toISOString() }, null, 2)}\n`));
  } catch {
    // A read-only working directory loses a cache, not a deploy.
  }
}
