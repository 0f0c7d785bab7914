import { defineCommand } from './command.js';
import type { StatusResult } from '../core/queries.js';

export const statusCommand = defineCommand<StatusResult>({
  name: 'status',
  summary: 'Show what exists for this deployment and its state',
  usesDeployFile: true,
  options: [{ flags: '--check', description: 'exit 3 unless the deployment is ready (a CI gate)' }],
  async run(input, ctx) {
    const [{ statusOf }, { ProviderError }] = await Promise.all([import('../core/queries.js'), import('../core/errors.js')]);
    const result = await statusOf(await ctx.loadSpec(), await ctx.core());
    const lines = [
      `${result.name}-${result.stage} (${result.provider}): ${result.state}${result.revision ? ` at revision ${result.revision}` : ''}`,
      ...(result.url ? [`url: ${result.url}`] : []),
      ...(result.reason ? [`reason: ${result.reason}`] : []),
      ...result.resources.map((r) => `  ${r.type} ${r.id}`),
    ];
    const error =
      input.check === true && result.state !== 'ready'
        ? new ProviderError('NotReady', `${result.name}-${result.stage} is ${result.state}${result.reason ? `: ${result.reason}` : ''}`, {
            category: 'failed',
            retryable: false,
            hint: result.state === 'absent' ? 'Run `modeldeploy up` first.' : '`modeldeploy status` lists what exists; `modeldeploy up` deploys again.',
          })
        : undefined;
    return { data: result, human: lines.join('\n'), ...(error ? { error } : {}) };
  },
});
