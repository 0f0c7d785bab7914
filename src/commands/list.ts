import { defineCommand } from './command.js';
import type { DeploymentSummary } from '../core/provider.js';

export interface ListResult {
  provider: string;
  deployments: DeploymentSummary[];
}

export const listCommand = defineCommand<ListResult>({
  name: 'list',
  summary: 'List every modeldeploy deployment the provider can see',
  usesDeployFile: false,
  options: [
    { flags: '-f, --file <path>', description: 'deploy.yaml to take the provider and its settings from (if it exists)', default: 'deploy.yaml' },
    { flags: '--provider <id>', description: 'local | aws | gcp | azure' },
    { flags: '--region <region>', description: 'the region to list' },
  ],
  async run(input, ctx) {
    const [{ listDeployments }, { existsSync }, { PROVIDER_IDS }, { UsageError }] = await Promise.all([
      import('../core/queries.js'),
      import('node:fs'),
      import('../config/schema.js'),
      import('../core/errors.js'),
    ]);
    const fromFile = existsSync(String(input.file)) ? await ctx.loadSpec() : undefined;
    const provider = (input.provider as string | undefined) ?? fromFile?.provider ?? 'local';
    if (!(PROVIDER_IDS as readonly string[]).includes(provider)) {
      throw new UsageError('InvalidOption', `--provider ${provider} is not one of ${PROVIDER_IDS.join(', ')}`);
    }
    const target = { ...(fromFile ?? {}), provider: provider as (typeof PROVIDER_IDS)[number], ...(input.region ? { region: String(input.region) } : {}) };
    const deployments = await listDeployments(target, await ctx.core());
    const human = deployments.length
      ? deployments.map((d) => `${d.name}-${d.stage}\t${d.state}\t${d.revision ?? '-'}\t${d.url ?? ''}`).join('\n')
      : `no modeldeploy deployments on ${provider}`;
    return { data: { provider, deployments }, human };
  },
});
