import { defineCommand } from './command.js';
import type { StatusResult } from '../core/queries.js';

export const statusCommand = defineCommand<StatusResult>({
  name: 'status',
  summary: 'Show what exists for this deployment and its state',
  usesDeployFile: true,
  options: [],
  async run(_input, ctx) {
    const { statusOf } = await import('../core/queries.js');
    const result = await statusOf(await ctx.loadSpec(), await ctx.core());
    const lines = [
      `${result.name}-${result.stage} (${result.provider}): ${result.state}${result.revision ? ` at revision ${result.revision}` : ''}`,
      ...(result.url ? [`url: ${result.url}`] : []),
      ...(result.reason ? [`reason: ${result.reason}`] : []),
      ...result.resources.map((r) => `  ${r.type} ${r.id}`),
    ];
    return { data: result, human: lines.join('\n') };
  },
});
