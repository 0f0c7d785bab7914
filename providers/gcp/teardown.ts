/**
 * What a deployment has on Vertex AI, found again by name and labels, and deleting it in the
 * order Vertex demands: deployed models off their endpoints (their traffic handed to the others),
 * then endpoints, then model versions, then the model. Already gone is success; something under
 * our names that another deployment (or nobody) labelled is never deleted.
 */
import { ProviderError } from '../../src/core/errors.js';
import type { FoundResource, ProviderContext, Resource, Target } from '../../src/core/provider.js';
import { retryWhileBusy } from '../../src/core/retry.js';
import { isOwned } from '../../src/core/target.js';
import { isNotFound } from './errors.js';
import {
  LABEL,
  TYPE,
  deployedModelResource,
  endpointResource,
  isSmoke,
  modelResource,
  ownerOfLabels,
  revisionName,
  revisionOf,
  smokeEndpointResource,
  versionResource,
} from './names.js';
import { keyOf } from './operations.js';
import type { EndpointInfo } from './rest.js';
import { servingRevision, type Vertex } from './vertex.js';

/** Three independent reads, at once: the endpoint, the smoke endpoints (by label), the model's versions. */
export async function inventory(v: Vertex, t: Target, ctx: ProviderContext): Promise<FoundResource[]> {
  const [main, smokes, versions] = await Promise.all([
    v.rest.getEndpoint(t.base, ctx),
    v.rest.listEndpoints({ [LABEL.deployment]: t.name, [LABEL.stage]: t.stage, [LABEL.role]: 'smoke' }, ctx),
    v.rest.listModelVersions(t.base, ctx),
  ]);
  const found: FoundResource[] = [];
  const endpoints = [main, ...smokes.filter((s) => s.id !== t.base)].filter((e): e is EndpointInfo => e !== undefined);
  for (const endpoint of endpoints) {
    const owner = ownerOfLabels(endpoint.labels);
    const revision = endpoint.labels[LABEL.revision];
    if (isSmoke(endpoint.labels) && revision) found.push({ ...smokeEndpointResource(endpoint.id, revision), owner });
    else found.push({ ...endpointResource(endpoint.id, `${endpoint.deployedModels.length} deployed model(s)`), owner });
    for (const d of endpoint.deployedModels) {
      const served = revisionOf(d.displayName);
      if (served) found.push({ ...deployedModelResource(endpoint.id, d.id, served, `${endpoint.trafficSplit[d.id] ?? 0}% of traffic`), owner });
    }
  }
  for (const version of versions) {
    const revision = version.labels[LABEL.revision];
    // The default version goes with the model itself (Vertex refuses to delete it alone).
    if (revision && !version.versionAliases.includes('default')) found.push({ ...versionResource(t.base, version.versionId, revision), owner: ownerOfLabels(version.labels) });
  }
  const labelled = versions.find((version) => isOwned(ownerOfLabels(version.labels), t)) ?? versions[0];
  if (labelled) found.push({ ...modelResource(t.base), owner: ownerOfLabels(labelled.labels) });
  return found;
}

export async function remove(v: Vertex, t: Target, resource: Resource, ctx: ProviderContext): Promise<void> {
  await v.ops.settle(keyOf(resource), ctx);
  switch (resource.type) {
    case TYPE.deployedModel: {
      const [endpointId = '', dm = ''] = resource.id.split('/');
      return retryWhileBusy(ctx, v.polling, () => undeploy(v, t, endpointId, dm, ctx));
    }
    case TYPE.endpoint:
    case TYPE.smokeEndpoint:
      return removeEndpoint(v, t, resource, ctx);
    case TYPE.version:
      return removeVersion(v, t, resource, ctx);
    case TYPE.model:
      return deleteModel(v, t, resource.id, ctx);
  }
  throw new ProviderError('UnknownResource', `cannot remove ${resource.type} ${resource.id}`, { category: 'invalid' });
}

/** An endpoint and whatever is deployed on it; what this process still deploys there is cancelled first. */
export async function removeEndpoint(v: Vertex, t: Target, resource: Resource, ctx: ProviderContext): Promise<void> {
  // Stop following what this process still changes there, then cancel (and wait for) each operation.
  await v.ops.settleUnder(`chain:${resource.id}/`, ctx);
  await v.ops.settleUnder(`${TYPE.deployedModel}:${resource.id}/`, ctx);
  await v.ops.settle(keyOf(resource), ctx);
  const endpoint = await v.rest.getEndpoint(resource.id, ctx);
  if (!endpoint || !isOwned(ownerOfLabels(endpoint.labels), t)) return;
  for (const d of endpoint.deployedModels) await retryWhileBusy(ctx, v.polling, () => undeploy(v, t, resource.id, d.id, ctx));
  await retryWhileBusy(ctx, v.polling, async () => {
    const op = await v.changes.deleteEndpoint(resource.id, ctx);
    if (op) await v.ops.wait(op, { operation: 'delete endpoint', subject: resource.id }, ctx);
  });
}

async function removeVersion(v: Vertex, t: Target, resource: Resource, ctx: ProviderContext): Promise<void> {
  const [modelId = '', ref = ''] = resource.id.split('@');
  const versions = await v.rest.listModelVersions(modelId, ctx);
  const version = versions.find((candidate) => candidate.versionId === ref || candidate.versionAliases.includes(ref));
  if (!version || !isOwned(ownerOfLabels(version.labels), t)) return;
  if (versions.length === 1) return deleteModel(v, t, modelId, ctx);
  if (version.versionAliases.includes('default')) {
    // Promoted, then rolled back: the default alias goes back to the version the endpoint serves.
    const endpoint = await v.rest.getEndpoint(modelId, ctx);
    const serving = endpoint ? servingRevision(endpoint) : undefined;
    const heir = serving && versions.find((candidate) => candidate !== version && candidate.versionAliases.includes(revisionName(serving.revision)));
    if (!heir) return; // removed with the model
    await v.changes.mergeVersionAliases(modelId, heir.versionId, ['default'], ctx);
  }
  await retryWhileBusy(ctx, v.polling, async () => {
    const op = await v.changes.deleteModelVersion(modelId, version.versionId, ctx);
    if (op) await v.ops.wait(op, { operation: 'delete model version', subject: resource.id }, ctx);
  });
}

async function deleteModel(v: Vertex, t: Target, modelId: string, ctx: ProviderContext): Promise<void> {
  const versions = await v.rest.listModelVersions(modelId, ctx);
  if (!versions.some((version) => isOwned(ownerOfLabels(version.labels), t))) return;
  await retryWhileBusy(ctx, v.polling, async () => {
    const op = await v.changes.deleteModel(modelId, ctx);
    if (op) await v.ops.wait(op, { operation: 'delete model', subject: modelId }, ctx);
  });
}

/** Undeploy one model; its traffic share, if any, goes to the others in proportion. */
async function undeploy(v: Vertex, t: Target, endpointId: string, dm: string, ctx: ProviderContext): Promise<void> {
  const endpoint = await v.rest.getEndpoint(endpointId, ctx);
  if (!endpoint?.deployedModels.some((d) => d.id === dm) || !isOwned(ownerOfLabels(endpoint.labels), t)) return;
  const others = endpoint.deployedModels.filter((d) => d.id !== dm).map((d) => d.id);
  const split = (endpoint.trafficSplit[dm] ?? 0) > 0 && others.length > 0 ? redistribute(endpoint.trafficSplit, others) : undefined;
  try {
    const op = await v.changes.undeployModel(endpointId, dm, split, ctx);
    if (op) await v.ops.wait(op, { operation: 'undeploy model', subject: `${dm} from ${endpointId}` }, ctx);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** Shares of `others`, scaled to sum to 100 (equal when none had traffic). */
function redistribute(split: Record<string, number>, others: string[]): Record<string, number> {
  const total = others.reduce((a, id) => a + (split[id] ?? 0), 0);
  const out: Record<string, number> = {};
  let given = 0;
  others.forEach((id, i) => {
    const share = i === others.length - 1 ? 100 - given : total > 0 ? Math.floor(((split[id] ?? 0) * 100) / total) : Math.floor(100 / others.length);
    out[id] = share;
    given += share;
  });
  return out;
}
