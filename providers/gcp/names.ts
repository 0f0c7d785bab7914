/**
 * Every Vertex AI name and label modeldeploy uses, derived from the target's base name
 * (`<name>-<stage>`) and a revision id, so a resource is found again without any local state:
 *
 *   endpoint         <base>                   (endpoint id; one deployed model per revision)
 *   model            <base>                   (model id; one version per revision, alias r-<revision>)
 *   deployed model   r-<revision>             (display name; id deployedModelIdOf(revision))
 *   smoke endpoint   <base>-<revision>        (cut by smokeEndpointId; label modeldeploy-role=smoke)
 */
import type { Owner, Resource, Target } from '../../src/core/provider.js';
import { OWNER_TAGS, ownerOf } from '../../src/core/target.js';

/** GCP labels take no ':' (cloud-apis.md B.3): modeldeploy's own tags, spelled as labels. */
export const LABEL = {
  deployment: 'modeldeploy-deployment',
  stage: 'modeldeploy-stage',
  revision: 'modeldeploy-revision',
  role: 'modeldeploy-role',
} as const;

/** Resource types as `status` and `down` show them, and their deletion order (lower first). */
export const TYPE = {
  deployedModel: 'vertex:deployed-model',
  endpoint: 'vertex:endpoint',
  smokeEndpoint: 'vertex:smoke-endpoint',
  version: 'vertex:model-version',
  model: 'vertex:model',
} as const;
const ORDER = { deployedModel: 1, endpoint: 2, version: 3, model: 4 } as const;

const DEPLOYED_NAME = /^r-([0-9a-f]{8})$/;

/** The version alias and deployed-model display name of a revision. */
export function revisionName(revision: string): string {
  return `r-${revision}`;
}

/** The revision a deployed model or version serves, from its display name or alias `r-<revision>`. */
export function revisionOf(name: string | undefined): string | undefined {
  return DEPLOYED_NAME.exec(name ?? '')?.[1];
}

/** `<name>-<stage>` trimmed so that `-<revision>` fits an endpoint id's 63 characters. */
export function smokeEndpointId(base: string, revision: string): string {
  return `${base.slice(0, 54).replace(/-+$/, '')}-${revision}`;
}

/** A DeployedModel id (1–10 digits) derived from the revision, so it is known before the deploy ends. */
export function deployedModelIdOf(revision: string): string {
  return String(1_000_000_000 + (Number.parseInt(revision, 16) % 1_000_000_000 || 0));
}

export function gcpNames(t: Pick<Target, 'base'>, revision = '00000000'): Record<string, string> {
  return {
    endpoint: t.base,
    model: t.base,
    modelVersionAlias: revisionName(revision),
    deployedModel: revisionName(revision),
    smokeEndpoint: smokeEndpointId(t.base, revision),
  };
}

const TAG_TO_LABEL: Readonly<Record<string, string>> = {
  [OWNER_TAGS.deployment]: LABEL.deployment,
  [OWNER_TAGS.stage]: LABEL.stage,
  [OWNER_TAGS.revision]: LABEL.revision,
};

/**
 * Labels for every Vertex resource: the target's tags, lowercased as GCP labels must be (`check`
 * has refused anything else), with modeldeploy's own keys spelled as labels; they win over a
 * user tag of the same key.
 */
export function gcpLabels(t: Pick<Target, 'tags'>, extra: Record<string, string> = {}): Record<string, string> {
  const user: Record<string, string> = {};
  const own: Record<string, string> = {};
  for (const [key, value] of Object.entries(t.tags)) {
    const label = TAG_TO_LABEL[key];
    if (label) own[label] = value;
    else user[labelPart(key)] = labelPart(value);
  }
  return { ...user, ...own, ...extra };
}

/** Whose a labelled resource is (the labels mapped back to modeldeploy's tag keys). */
export function ownerOfLabels(labels: Readonly<Record<string, string>>): Owner {
  return ownerOf({ [OWNER_TAGS.deployment]: labels[LABEL.deployment], [OWNER_TAGS.stage]: labels[LABEL.stage] });
}

export function isSmoke(labels: Readonly<Record<string, string>>): boolean {
  return labels[LABEL.role] === 'smoke';
}

/** Lowercase; anything still invalid becomes `-` and the result is cut to 63 (a fallback: check reports these first). */
function labelPart(text: string): string {
  return text.toLowerCase().replace(/[^\p{Ll}\p{Lo}\p{N}_-]/gu, '-').slice(0, 63);
}

// --- resources ----------------------------------------------------------------------------------

export function endpointResource(id: string, description?: string): Resource {
  return { type: TYPE.endpoint, id, scope: 'endpoint', order: ORDER.endpoint, ...(description ? { description } : {}) };
}

export function smokeEndpointResource(id: string, revision: string): Resource {
  return { type: TYPE.smokeEndpoint, id, scope: 'revision', revision, order: ORDER.endpoint, description: 'smoke endpoint' };
}

/** `<endpoint id>/<deployed model id>`. */
export function deployedModelResource(endpointId: string, deployedModelId: string, revision: string, description?: string): Resource {
  return { type: TYPE.deployedModel, id: `${endpointId}/${deployedModelId}`, scope: 'revision', revision, order: ORDER.deployedModel, ...(description ? { description } : {}) };
}

/** `<model id>@<version id or alias>`. */
export function versionResource(modelId: string, ref: string, revision: string): Resource {
  return { type: TYPE.version, id: `${modelId}@${ref}`, scope: 'revision', revision, order: ORDER.version };
}

export function modelResource(modelId: string): Resource {
  return { type: TYPE.model, id: modelId, scope: 'endpoint', order: ORDER.model };
}
