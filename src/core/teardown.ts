/**
 * `down`: inventory → delete in dependency order → inventory again. Works from deploy.yaml
 * alone (the cloud is the source of truth), is idempotent, and fails with exit 5 listing
 * whatever is still there.
 */
import type { CoreContext } from './context.js';
import { providerContext } from './context.js';
import { ModeldeployError } from './errors.js';
import type { Resource } from './provider.js';
import { withRetry } from './retry.js';
import type { DeploymentSpec } from './spec.js';

export interface DownOptions {
  keepArtifacts: boolean;
}

export interface DownResult {
  name: string;
  stage: string;
  provider: string;
  deleted: Array<Pick<Resource, 'type' | 'id'>>;
  kept: Array<Pick<Resource, 'type' | 'id'>>;
  nothingToDelete: boolean;
}

export async function down(spec: DeploymentSpec, options: DownOptions, core: CoreContext): Promise<DownResult> {
  const provider = await core.registry.provider(spec.provider);
  const ctx = providerContext(core);
  const retry = <T>(fn: () => Promise<T>) => withRetry(fn, { clock: core.clock, signal: core.signal });
  const keep = (r: Resource) => options.keepArtifacts && r.scope === 'artifact';

  const found = await retry(() => provider.inventory(spec, ctx));
  const result: DownResult = {
    name: spec.name,
    stage: spec.stage,
    provider: spec.provider,
    deleted: [],
    kept: found.filter(keep).map(brief),
    nothingToDelete: found.filter((r) => !keep(r)).length === 0,
  };
  if (result.nothingToDelete) {
    core.progress.emit({ code: 'NothingToDelete', level: 'success', message: `nothing to delete for ${spec.name}-${spec.stage}` });
    return result;
  }

  const failures: string[] = [];
  // Same order value: independent of each other, so delete them together.
  const groups = new Map<number, Resource[]>();
  for (const r of found.filter((r) => !keep(r))) groups.set(r.order, [...(groups.get(r.order) ?? []), r]);
  for (const order of [...groups.keys()].sort((a, b) => a - b)) {
    await Promise.all(
      (groups.get(order) ?? []).map(async (resource) => {
        try {
          await retry(() => provider.remove(spec, resource, ctx));
          result.deleted.push(brief(resource));
          core.progress.emit({ code: 'Deleted', level: 'info', message: `deleted ${resource.type} ${resource.id}` });
        } catch (error) {
          failures.push(`${resource.type} ${resource.id}: ${(error as Error).message}`);
        }
      }),
    );
  }

  const remaining = (await retry(() => provider.inventory(spec, ctx))).filter((r) => !keep(r));
  if (remaining.length > 0) {
    throw new ModeldeployError(
      'teardown',
      'TeardownIncomplete',
      `${remaining.length} resource(s) of ${spec.name}-${spec.stage} remain: ${remaining.map((r) => `${r.type} ${r.id}`).join(', ')}`,
      {
        hint: failures.length ? `Errors: ${failures.join('; ')}. Run \`modeldeploy down\` again.` : 'Run `modeldeploy down` again.',
        details: { remaining: remaining.map(brief), deleted: result.deleted },
      },
    );
  }
  core.progress.emit({ code: 'TornDown', level: 'success', message: `deleted ${result.deleted.length} resource(s); nothing of ${spec.name}-${spec.stage} is left` });
  return result;
}

function brief(r: Resource): Pick<Resource, 'type' | 'id'> {
  return { type: r.type, id: r.id };
}
