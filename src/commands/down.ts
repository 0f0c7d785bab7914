import { defineCommand, LOCK_OPTIONS, lockOptions } from './command.js';
import type { DownResult } from '../core/teardown.js';

export const downCommand = defineCommand<DownResult>({
  name: 'down',
  summary: 'Delete everything modeldeploy made for this deployment and stage',
  usesDeployFile: true,
  onInterrupt: 'stopping the teardown; what is deleted stays deleted, `modeldeploy down` again finishes it',
  options: [{ flags: '--keep-artifacts', description: 'leave the uploaded model artifacts in place' }, ...LOCK_OPTIONS],
  async run(input, ctx) {
    const { down } = await import('../core/teardown.js');
    const spec = await ctx.loadSpec();
    const result = await down(spec, { keepArtifacts: input.keepArtifacts === true, lock: await lockOptions(input) }, await ctx.core());
    const human = result.nothingToDelete
      ? `nothing to delete: ${result.name}-${result.stage} has no resources`
      : `deleted ${result.deleted.length} resource(s) of ${result.name}-${result.stage}${result.kept.length ? `; kept ${result.kept.length} artifact(s)` : ''}`;
    return { data: result, human };
  },
});
