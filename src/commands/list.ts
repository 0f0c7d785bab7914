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
    { flags: '--provider <id>', description: '{providers}' },
    { flags: '--region <region>', description: 'the region to list' },
  ],
  async run(input, ctx) {
    const [{ listDeployments }, { existsSync }, { UsageError }] = await Promise.all([import('../core/queries.js'), import('node:fs'), import('../core/errors.js')]);
    const { registry } = ctx;
    const fromFile = existsSync(String(input.file)) ? await ctx.loadSpec() : undefined;
    const provider = (input.provider as string | undefined) ?? fromFile?.provider ?? registry.defaultId;
    if (!registry.ids.includes(provider)) {
      throw new UsageError('InvalidOption', `--provider ${provider} is not one of ${registry.ids.join(', ')}`);
    }
    // The file's settings and region describe its own provider only.
    const same = fromFile?.provider === provider;
    const region = input.region ? String(input.region) : same ? fromFile?.region : undefined;
    const deployments = await listDeployments(provider, { ...(same && fromFile?.settings !== undefined ? { settings: fromFile.settings } : {}), ...(region ? { region } : {}) }, await ctx.core());
    const human = deployments.length
      ? deployments.map((d) => `${d.name}-${d.stage}\t${d.state}\t${d.revision ?? '-'}\t${d.url ?? ''}`).join('\n')
      : `no modeldeploy deployments on ${provider}`;
    return { data: { provider, deployments }, human };
  },
});
