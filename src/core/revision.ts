import { createHash } from 'node:crypto';
import type { Artifact } from './artifact.js';
import type { DeploymentSpec } from './spec.js';

/**
 * A revision id: the first 8 hex of the hash of the artifact and everything that changes how it
 * is served. Same model and serving config → same id → `up` has nothing to do.
 */
export function revisionId(spec: DeploymentSpec, artifact: Artifact): string {
  const serving = {
    artifact: artifact.sha256,
    framework: spec.model.framework,
    version: spec.model.version ?? null,
    image: spec.model.image ?? null,
    command: spec.model.command ?? null,
    instance: spec.instance,
    env: Object.entries(spec.env).sort(([a], [b]) => a.localeCompare(b)),
    startupMs: spec.timeouts.startupMs,
    serverless: spec.aws?.serverless ?? null,
  };
  return createHash('sha256').update(JSON.stringify(serving)).digest('hex').slice(0, 8);
}
