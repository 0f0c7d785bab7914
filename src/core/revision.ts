/**
 * The one place that says which deploy.yaml fields make a new revision. A revision id is the
 * first 8 hex of the hash of everything that changes how the model is served; same id → `up`
 * has nothing to do. Every field of the schema is listed here or in the provider's descriptor,
 * as serving or not (a test fails when one is in neither list).
 */
import { createHash } from 'node:crypto';
import type { Artifact } from './artifact.js';
import type { ProviderDescriptor } from './provider.js';
import type { DeploymentSpec } from './spec.js';

/** Fields that change what serves: each is read into the revision id, under its own name. */
export const SERVING_FIELDS: Readonly<Record<string, (spec: DeploymentSpec, artifact: Artifact) => unknown>> = {
  /** The model's content (its path only finds it), or the already-uploaded artifact's address. */
  'model.path': (_spec, artifact) => (artifact.kind === 'remote' ? null : artifact.sha256),
  'model.uri': (spec) => spec.model.uri ?? null,
  'model.framework': (spec) => spec.model.framework,
  'model.version': (spec) => spec.model.version ?? null,
  'model.image': (spec) => spec.model.image ?? null,
  'model.command': (spec) => spec.model.command ?? null,
  instance: (spec) => spec.instance,
  env: (spec) => Object.entries(spec.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  'timeouts.startup': (spec) => spec.timeouts.startupMs,
};

/**
 * Fields that do not: who the deployment is and where (a change there is another deployment),
 * how `up` checks and waits, and tags (metadata on the resources, not a way of serving).
 */
export const NOT_SERVING_FIELDS: readonly string[] = ['name', 'stage', 'provider', 'region', 'tags', 'timeouts.deploy', 'smoke'];

export function revisionId(spec: DeploymentSpec, artifact: Artifact, descriptor: Pick<ProviderDescriptor, 'settings'>): string {
  const inputs: Record<string, unknown> = {};
  for (const [field, read] of Object.entries(SERVING_FIELDS)) inputs[field] = read(spec, artifact);
  const settings = (spec.settings ?? {}) as Record<string, unknown>;
  for (const field of descriptor.settings?.serving ?? []) inputs[`settings.${field}`] = settings[field] ?? null;
  return createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 8);
}
