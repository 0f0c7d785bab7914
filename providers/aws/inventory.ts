/**
 * What exists under a target's names, each with whose it is (from its tags), and deleting one
 * thing of it. Reads start together: the endpoint, ListEndpointConfigs and ListModels (whose
 * answers carry the ARNs, so no Describe per item), then every ListTags at once. Application
 * Auto Scaling is asked only when the spec or a config of the target asks for autoscaling.
 */
import { ProviderError } from '../../src/core/errors.js';
import type { FoundResource, Owner, ProviderContext, Resource, Target } from '../../src/core/provider.js';
import { retryWhileBusy } from '../../src/core/retry.js';
import { ownerOf } from '../../src/core/target.js';
import { deleteEndpointAndWait, revisionResource, scalingResource } from './deploy.js';
import { ORDER, revisionOf, sagemakerNames, SCALING_TAG, TYPE } from './names.js';
import type { Named } from './sagemaker-api.js';
import type { AwsServices } from './services.js';
import type { AwsSettings } from './settings.js';

type AwsTarget = Target<AwsSettings>;

interface Tagged extends Named {
  revision: string;
  tags: Record<string, string>;
}

export async function inventoryOf(s: AwsServices, t: AwsTarget, ctx: ProviderContext): Promise<FoundResource[]> {
  const { signal } = ctx;
  const specScales = Boolean(t.spec.instance.autoscaling) && !t.settings.serverless;
  const tagged = async (items: Promise<Named[]>): Promise<Tagged[]> => {
    const ours = (await items).flatMap((item) => {
      const revision = revisionOf(t, item.name);
      return revision ? [{ ...item, revision }] : [];
    });
    return Promise.all(ours.map(async (item) => ({ ...item, tags: await s.sagemaker.tags(item.arn, signal) })));
  };
  const [found, configs, models, scalesNow] = await Promise.all([
    s.findEndpoint(t.base, signal),
    tagged(s.sagemaker.listEndpointConfigs(t.base, signal)),
    tagged(s.sagemaker.listModels(t.base, signal)),
    specScales ? s.scaling.exists(t.base, signal) : undefined,
  ]);

  const resources: FoundResource[] = [];
  // The scalable target is the endpoint's variant: it is whose the endpoint is (an orphan, whose endpoint is gone, is the target's).
  const endpointOwner: Owner = found ? ownerOf(found.tags) : { deployment: t.name, stage: t.stage };
  const configScales = configs.some((c) => c.tags[SCALING_TAG] !== undefined && ownerOf(c.tags).deployment === t.name);
  if (scalesNow ?? (configScales && (await s.scaling.exists(t.base, signal)))) {
    resources.push({ ...scalingResource(t.base), owner: endpointOwner });
  }
  if (found) {
    resources.push({ type: TYPE.endpoint, id: t.base, scope: 'endpoint', order: ORDER.endpoint, description: found.endpoint.status, owner: endpointOwner });
  }
  for (const c of configs) resources.push({ ...revisionResource(TYPE.config, c.name, c.revision, ORDER.config), owner: ownerOf(c.tags) });
  for (const m of models) resources.push({ ...revisionResource(TYPE.model, m.name, m.revision, ORDER.model), owner: ownerOf(m.tags) });
  return resources;
}

/** Delete one resource; one already gone is success. */
export async function removeResource(s: AwsServices, t: AwsTarget, resource: Resource, ctx: ProviderContext): Promise<void> {
  try {
    switch (resource.type) {
      case TYPE.scaling:
        return await removeScaling(s, t, resource, ctx);
      case TYPE.endpoint:
        return await deleteEndpointAndWait(s, resource.id, ctx);
      case TYPE.config:
        // Refused while an endpoint is being created or updated with it: wait for that to end.
        return await retryWhileBusy(ctx, s.polling, () => s.sagemaker.deleteEndpointConfig(resource.id));
      case TYPE.model:
        return await s.sagemaker.deleteModel(resource.id);
      default:
        throw new ProviderError('UnknownResource', `cannot remove ${resource.type} ${resource.id}`, { category: 'invalid' });
    }
  } catch (error) {
    if (error instanceof ProviderError && error.category === 'notFound') return;
    throw error;
  }
}

/**
 * The scalable target registered when `resource.revision` was promoted. If the endpoint has
 * since moved to another revision (a rollback restored it, with that revision's own scaling),
 * the target is that revision's now and stays.
 */
async function removeScaling(s: AwsServices, t: AwsTarget, resource: Resource, ctx: ProviderContext): Promise<void> {
  if (resource.revision) {
    const endpoint = await s.sagemaker.describeEndpoint(t.base, ctx.signal);
    if (endpoint && endpoint.configName !== sagemakerNames(t, resource.revision).endpointConfig) return;
  }
  await s.scaling.deregister(t.base);
}
