/**
 * `down`: inventory → delete in dependency order → inventory again. Works from deploy.yaml
 * alone (the cloud is the source of truth), is idempotent, and fails with exit 5 listing
 * whatever is still there. Only what carries this deployment's tags is touched.
 */
import { ARTIFACT_TYPE, INCOMPLETE_TYPE } from './artifact-sync.js';
import { openSession, providerContext, type CoreContext, type Session } from './context.js';
import { ModeldeployError } from './errors.js';
import { journalKey } from './journal.js';
import type { StageFiles } from './stage-files.js';
import { takeLock } from './lifecycle.js';
import type { LockOptions } from './lock.js';
import { failedPrefix } from './markers.js';
import type { ProviderContext, Resource } from './provider.js';
import { ownedInventory, removeInOrder } from './removal.js';
import type { DeploymentSpec } from './spec.js';

export interface DownOptions {
  keepArtifacts: boolean;
  /** Queue behind another run of the deployment (default: fail at once naming it). */
  lock?: LockOptions;
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
  const session = await openSession(spec, core);
  const lock = await takeLock(session, 'down', options.lock, core);
  try {
    return await teardown(session, options, core, lock.files);
  } finally {
    await lock.release().catch(() => undefined);
  }
}

async function teardown(session: Session, options: DownOptions, core: CoreContext, files: StageFiles): Promise<DownResult> {
  const { t } = session;
  const spec = t.spec;
  const ctx = providerContext(core);
  const keep = (r: Resource) => options.keepArtifacts && (r.type === ARTIFACT_TYPE || r.type === INCOMPLETE_TYPE);

  const found = await ownedInventory(session, ctx);
  const doomed = found.filter((r) => !keep(r));
  const result: DownResult = {
    name: spec.name,
    stage: spec.stage,
    provider: spec.provider,
    deleted: [],
    kept: found.filter(keep).map(brief),
    nothingToDelete: doomed.length === 0,
  };
  if (result.nothingToDelete) {
    await forgetBookkeeping(session, files, ctx);
    core.progress.emit({ code: 'NothingToDelete', level: 'success', message: `nothing to delete for ${t.base}` });
    return result;
  }

  const { removed, failed } = await removeInOrder(session, doomed, ctx, (resource, error) => {
    if (!error) core.progress.emit({ code: 'Deleted', level: 'info', message: `deleted ${resource.type} ${resource.id}`, data: { type: resource.type, id: resource.id } });
  });
  result.deleted = removed.map(brief);

  const remaining = (await ownedInventory(session, ctx)).filter((r) => !keep(r));
  if (remaining.length > 0) {
    const errors = failed.map((f) => `${f.resource.type} ${f.resource.id}: ${f.error.message}`);
    throw new ModeldeployError(
      'teardown',
      'TeardownIncomplete',
      `${remaining.length} resource(s) of ${t.base} remain: ${remaining.map((r) => `${r.type} ${r.id}`).join(', ')}`,
      {
        hint: errors.length ? `Errors: ${errors.join('; ')}. Run \`modeldeploy down\` again.` : 'Run `modeldeploy down` again.',
        details: { remaining: remaining.map(brief), deleted: result.deleted },
      },
    );
  }
  await forgetBookkeeping(session, files, ctx);
  core.progress.emit({ code: 'TornDown', level: 'success', message: `deleted ${result.deleted.length} resource(s); nothing of ${t.base} is left` });
  return result;
}

/** With everything gone, what the core kept about the stage goes too: a dead run's journal, kept-failure marks. */
async function forgetBookkeeping(session: Session, files: StageFiles, ctx: ProviderContext): Promise<void> {
  const keys = [...(files.journal ? [journalKey(session.t)] : []), ...[...files.failed].map((revision) => `${failedPrefix(session.t)}${revision}`)];
  if (keys.length > 0) await session.provider.artifacts.delete(keys, ctx);
}

function brief(r: Resource): Pick<Resource, 'type' | 'id'> {
  return { type: r.type, id: r.id };
}
