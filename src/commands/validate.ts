import { defineCommand } from './command.js';

export interface ValidateResult {
  file: string;
  name: string;
  stage: string;
  provider: string;
  names: Record<string, string>;
}

export const validateCommand = defineCommand<ValidateResult>({
  name: 'validate',
  summary: 'Check deploy.yaml (schema, cross-field and provider rules); no credentials, no network',
  usesDeployFile: true,
  options: [],
  async run(_input, ctx) {
    const [spec, { targetOf }] = await Promise.all([ctx.loadSpec(), import('../core/target.js')]);
    const names = (await ctx.registry.module(spec.provider)).rules.names(targetOf(spec));
    return {
      data: { file: spec.file, name: spec.name, stage: spec.stage, provider: spec.provider, names },
      human: `${spec.file} is valid: ${spec.name}-${spec.stage} on ${spec.provider}`,
    };
  },
});
