/**
 * Finding and deleting what a deployment made in the workspace: the endpoint, its deployments,
 * and the asset containers and versions named `<name>-<stage>` — each with the owner its tags
 * name (the core keeps the target's own). All of it is read at once. Deleting something already
 * gone is success; a 409 while another operation runs on the endpoint is waited out.
 */
import { ProviderError } from '../../src/core/errors.js';
import type { FoundResource, ProviderContext, Resource, Target } from '../../src/core/provider.js';
import { retryWhileBusy } from '../../src/core/retry.js';
import { ownerOf } from '../../src/core/target.js';
import { waitFor } from './arm-call.js';
import {
  ASSET_KINDS,
  containerResource,
  deploymentResource,
  endpointResource,
  isRevision,
  parseAssetId,
  revisionOfDeployment,
  TYPE,
  versionResource,
} from './names.js';
import type { AzureRuntime } from './runtime.js';

export async function inventory(az: AzureRuntime, t: Target, ctx: ProviderContext): Promise<FoundResource[]> {
  const arm = await az.conn.arm();
  const { signal } = ctx;
  const [endpoint, deployments, assets] = await Promise.all([
    arm.getEndpoint(t.base, signal),
    arm.listDeployments(t.base, signal),
    Promise.all(ASSET_KINDS.map(async (kind) => ({ kind, found: await Promise.all([arm.assets.getContainer(kind, t.base, signal), arm.assets.listVersions(kind, t.base, signal)]) }))),
  ]);
  const found: FoundResource[] = [];
  if (endpoint) found.push({ ...endpointResource(t), owner: ownerOf(endpoint.tags), description: endpoint.state });
  for (const d of deployments) {
    const revision = revisionOfDeployment(d.name);
    if (revision) found.push({ ...deploymentResource(t, revision), owner: ownerOf(d.tags), description: d.state });
  }
  for (const { kind, found: [container, versions] } of assets) {
    for (const v of versions) if (isRevision(v.version)) found.push({ ...versionResource(kind, t, v.version), owner: ownerOf(v.tags) });
    if (container) found.push({ ...containerResource(kind, t), owner: ownerOf(container.tags) });
  }
  return found;
}

export async function remove(az: AzureRuntime, resource: Resource, ctx: ProviderContext): Promise<void> {
  const arm = await az.conn.arm();
  const { signal } = ctx;
  if (resource.type === TYPE.endpoint) {
    az.scoring.delete(resource.id);
    return retryWhileBusy(ctx, az.polling, async () => {
      const lro = await arm.deleteEndpoint(resource.id, signal);
      if (lro) await waitFor(lro, ctx, az.polling);
    });
  }
  if (resource.type === TYPE.deployment) {
    const [endpoint = '', dep = ''] = resource.id.split('/');
    az.pending.delete(resource.id);
    return retryWhileBusy(ctx, az.polling, async () => {
      const lro = await arm.deleteDeployment(endpoint, dep, signal);
      if (lro) await waitFor(lro, ctx, az.polling);
    });
  }
  const asset = parseAssetId(resource.id);
  if (!asset) throw new ProviderError('UnknownResource', `cannot remove ${resource.type} ${resource.id}`, { category: 'invalid' });
  if (asset.version !== undefined) return arm.assets.deleteVersion(asset.kind, asset.name, asset.version, signal);
  // The container goes last; versions still under it (none, after the core's order) go first.
  for (const v of await arm.assets.listVersions(asset.kind, asset.name, signal)) await arm.assets.deleteVersion(asset.kind, asset.name, v.version, signal);
  return arm.assets.deleteContainer(asset.kind, asset.name, signal);
}
