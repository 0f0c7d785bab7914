/**
 * One connected Vertex AI project and region: the REST reads, the SDK changes (loaded on first
 * use), the operations this process follows; plus what several concerns read off an endpoint.
 */
import type { Polling, Target } from '../../src/core/provider.js';
import { isOwned, notOwnedError } from '../../src/core/target.js';
import type { GcpConnection, TokenSource } from './connection.js';
import { Operations } from './operations.js';
import { VertexRest, type EndpointInfo } from './rest.js';
import { VertexChanges } from './sdk.js';
import { ownerOfLabels, revisionOf } from './names.js';

export interface Vertex {
  rest: VertexRest;
  changes: VertexChanges;
  ops: Operations;
  polling: Polling;
}

/** Builds no client and makes no call. */
export function vertexOf(conn: GcpConnection, token: TokenSource): Vertex {
  const rest = new VertexRest({ project: conn.project, location: conn.region, baseUrl: conn.apiBase }, token);
  return { rest, changes: new VertexChanges(rest), ops: new Operations(rest, conn.polling), polling: conn.polling };
}

/** The guard on anything found under the target's names: an endpoint id is unique in a region. */
export function assertOwned(v: Vertex, t: Target, endpoint: EndpointInfo): void {
  const owner = ownerOfLabels(endpoint.labels);
  if (isOwned(owner, t)) return;
  throw notOwnedError(
    `Vertex AI endpoint ${endpoint.id} in ${v.rest.parent}`,
    t,
    owner,
    `Pick another name or stage, or delete the endpoint (\`gcloud ai endpoints delete ${endpoint.id} --region=${v.rest.target.location}\`) if it is no longer used.`,
  );
}

/** The revision taking the largest share of traffic, if any takes some. */
export function servingRevision(endpoint: EndpointInfo): { revision: string; share: number } | undefined {
  const [top] = Object.entries(endpoint.trafficSplit)
    .filter(([, share]) => share > 0)
    .sort((a, b) => b[1] - a[1]);
  if (!top) return undefined;
  const revision = revisionOf(endpoint.deployedModels.find((d) => d.id === top[0])?.displayName);
  return revision ? { revision, share: top[1] } : undefined;
}

/** Where a deployed model's serving logs are. */
export function logsHint(v: Vertex, endpointId: string): string {
  const { project, location } = v.rest.target;
  return `gcloud logging read 'resource.type="aiplatform.googleapis.com/Endpoint" AND resource.labels.endpoint_id="${endpointId}"' --project=${project} --limit=50 (region ${location})`;
}
