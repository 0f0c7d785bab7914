/**
 * SageMaker names and tags of a deployment, derived from the target and a revision id (never
 * stored): the endpoint is `<base>`; a revision is a model and an endpoint config both named
 * `<base>-<revision>`; the one production variant is `AllTraffic`.
 */
import type { Target } from '../../src/core/provider.js';
import { OWNER_TAGS, revisionTags } from '../../src/core/target.js';

export const VARIANT = 'AllTraffic';
/** botocore's EndpointName / EndpointConfigName pattern, anchored (the service checks full matches). */
export const NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
export const MAX_NAME = 63;

export const TYPE = {
  scaling: 'application-autoscaling:scalable-target',
  endpoint: 'sagemaker:endpoint',
  config: 'sagemaker:endpoint-config',
  model: 'sagemaker:model',
} as const;

/** Deletion order: scaling before the endpoint, the endpoint before the configs it uses, configs before models. */
export const ORDER = { scaling: 0, endpoint: 1, config: 2, model: 3 } as const;

/**
 * A tag on an endpoint config whose revision asks for autoscaling (`min:max:target`): lets a
 * rollback restore the previous revision's scaling, and tells inventory when to ask
 * Application Auto Scaling at all.
 */
export const SCALING_TAG = 'modeldeploy:autoscaling';

export interface SageMakerNames {
  endpoint: string;
  endpointConfig: string;
  model: string;
  variant: string;
}

export function sagemakerNames(t: Pick<Target, 'base'>, revision = '00000000'): SageMakerNames {
  const revisionName = revisionResourceName(t, revision);
  return { endpoint: t.base, endpointConfig: revisionName, model: revisionName, variant: VARIANT };
}

export function revisionResourceName(t: Pick<Target, 'base'>, revision: string): string {
  return `${t.base}-${revision}`;
}

/** The revision a model or endpoint config of this target is named after; undefined for any other name. */
export function revisionOf(t: Pick<Target, 'base'>, name: string): string | undefined {
  const prefix = `${t.base}-`;
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  return /^[0-9a-f]{8}$/.test(rest) ? rest : undefined;
}

/** Application Auto Scaling's id of the endpoint's variant. */
export function scalingResourceId(endpoint: string): string {
  return `endpoint/${endpoint}/variant/${VARIANT}`;
}

export function scalingPolicyName(endpoint: string): string {
  return `${endpoint}-invocations`;
}

export interface Tag {
  Key: string;
  Value: string;
}

/** SageMaker takes modeldeploy's keys as they are (`modeldeploy:deployment`…): no mapping needed. */
export function endpointTags(t: Pick<Target, 'tags'>): Tag[] {
  return toTags(t.tags);
}

export function revisionResourceTags(t: Pick<Target, 'tags'>, revision: string, extra: Record<string, string> = {}): Tag[] {
  return toTags({ ...revisionTags(t, revision), ...extra });
}

export function toTags(tags: Readonly<Record<string, string>>): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

export function revisionTagOf(tags: Readonly<Record<string, string>>): string | undefined {
  return tags[OWNER_TAGS.revision];
}

/** The CloudWatch log group SageMaker writes the endpoint's container logs to. */
export function logsHint(t: Pick<Target, 'base' | 'region'>): string {
  return `CloudWatch log group /aws/sagemaker/Endpoints/${t.base} in ${t.region ?? 'the region'}`;
}
