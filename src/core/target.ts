/** The one place a deployment's identity is derived: its base name, its tags, and whose a resource is. */
import { ModeldeployError, ProviderError } from './errors.js';
import type { Owner, Target } from './provider.js';
import type { DeploymentSpec } from './spec.js';

/** modeldeploy's own tags. A cloud that spells keys another way (lowercase, no ':') maps them. */
export const OWNER_TAGS = {
  deployment: 'modeldeploy:deployment',
  stage: 'modeldeploy:stage',
  revision: 'modeldeploy:revision',
} as const;

/** Built once per command by the core; every provider call gets the same target. */
export function targetOf<S = unknown>(spec: DeploymentSpec): Target<S> {
  return {
    name: spec.name,
    stage: spec.stage,
    base: `${spec.name}-${spec.stage}`,
    region: spec.region,
    spec,
    settings: spec.settings as S,
    tags: { ...spec.tags, [OWNER_TAGS.deployment]: spec.name, [OWNER_TAGS.stage]: spec.stage },
  };
}

/** The target's tags plus the revision a resource belongs to. */
export function revisionTags(t: Pick<Target, 'tags'>, revision: string): Record<string, string> {
  return { ...t.tags, [OWNER_TAGS.revision]: revision };
}

/** Whose a resource is, from tags keyed as modeldeploy writes them (after the provider's own mapping back). */
export function ownerOf(tags: Readonly<Record<string, string | undefined>>): Owner {
  const deployment = tags[OWNER_TAGS.deployment];
  const stage = tags[OWNER_TAGS.stage];
  return { ...(deployment ? { deployment } : {}), ...(stage ? { stage } : {}) };
}

export function isOwned(owner: Owner, t: Pick<Target, 'name' | 'stage'>): boolean {
  return owner.deployment === t.name && owner.stage === t.stage;
}

/**
 * The guard of every provider: something under the target's names that modeldeploy did not make
 * for this deployment and stage is never updated or deleted. Exit 3, nothing touched.
 */
export function notOwnedError(what: string, t: Pick<Target, 'name' | 'stage'>, owner: Owner, hint?: string): ModeldeployError {
  const whose = owner.deployment ? `it belongs to ${owner.deployment} (${owner.stage ?? 'no stage'})` : 'modeldeploy did not create it';
  return new ProviderError('EndpointNotOwned', `${what} exists but ${whose}, not to ${t.name} (${t.stage}); modeldeploy leaves it untouched`, {
    category: 'conflict',
    retryable: false,
    hint: hint ?? 'Pick another name or stage, or delete it yourself if it is no longer used.',
  });
}

/** The error every provider's `invoke` raises when the target has no endpoint. */
export function endpointNotFound(t: Pick<Target, 'base'>, where: string): ProviderError {
  return new ProviderError('EndpointNotFound', `${t.base} is not deployed (no endpoint ${t.base} in ${where})`, {
    category: 'notFound',
    hint: 'Run `modeldeploy up` first (same -f and --stage).',
  });
}
