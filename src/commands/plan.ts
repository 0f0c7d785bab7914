import { defineCommand } from './command.js';
import type { PlanResult } from '../core/queries.js';

export const planCommand = defineCommand<PlanResult>({
  name: 'plan',
  summary: 'Show what `up` would create or change, with resolved names and settings (no writes)',
  usesDeployFile: true,
  options: [{ flags: '--offline', description: 'do not call the provider: names and settings only, no credentials needed' }],
  async run(input, ctx) {
    const { planDeployment } = await import('../core/queries.js');
    const spec = await ctx.loadSpec();
    const result = await planDeployment(spec, input.offline === true, await ctx.core());
    const lines = [
      `${result.name}-${result.stage} on ${result.provider}: ${result.offline ? 'offline plan (current state not read)' : result.action}`,
      `revision: ${result.revision}${result.currentRevision ? ` (serving: ${result.currentRevision})` : ''}`,
      ...Object.entries(result.names).map(([k, v]) => `${k}: ${v}`),
      ...Object.entries(result.details).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`),
    ];
    return { data: result, human: lines.join('\n') };
  },
});
