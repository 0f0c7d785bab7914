/**
 * Reads and invocations: what the endpoint serves, how a revision's deploy stands, a prediction,
 * and every deployment in the region. All over REST (rest.ts): none of these loads the SDK.
 */
import { ProviderError } from '../../src/core/errors.js';
import type { Current, DeploymentSummary, EndpointState, InvokeRequest, InvokeResponse, InvokeTarget, ProviderContext, Target } from '../../src/core/provider.js';
import { endpointNotFound, isOwned } from '../../src/core/target.js';
import { OperationFailedError, VertexHttpError, toProviderError } from './errors.js';
import { LABEL, deployedModelIdOf, deployedModelResource, isSmoke, ownerOfLabels, revisionName, smokeEndpointId } from './names.js';
import { chainKey, keyOf } from './operations.js';
import type { EndpointInfo } from './rest.js';
import { logsHint, servingRevision, type Vertex } from './vertex.js';

/** One GET: the endpoint, whose labels say whose it is and whose traffic split says what it serves. */
export async function read(v: Vertex, t: Target, ctx: ProviderContext): Promise<Current | undefined> {
  const endpoint = await v.rest.getEndpoint(t.base, ctx);
  if (!endpoint) return undefined;
  const serving = servingRevision(endpoint);
  return {
    owner: ownerOfLabels(endpoint.labels),
    ...(serving ? { revision: serving.revision } : {}),
    state: endpointState(v, endpoint),
    details: { predictUrl: v.rest.predictUrl(endpoint), deployedModels: endpoint.deployedModels.length },
  };
}

/** The endpoint as a whole: one GET. */
export async function endpointStatus(v: Vertex, t: Target, ctx: ProviderContext): Promise<EndpointState> {
  const endpoint = await v.rest.getEndpoint(t.base, ctx);
  return endpoint ? endpointState(v, endpoint) : { state: 'absent' };
}

/**
 * Ready when one revision takes all the traffic; a split left between revisions (an interrupted
 * promote) is pending, so `up` finishes the move rather than calling it unchanged.
 */
function endpointState(v: Vertex, endpoint: EndpointInfo): EndpointState {
  const serving = servingRevision(endpoint);
  if (!serving) return { state: 'pending', detail: 'no deployed model takes traffic' };
  if (serving.share < 100) return { state: 'pending', detail: `revision ${serving.revision} takes ${serving.share}% of the traffic` };
  return { state: 'ready', url: v.rest.predictUrl(endpoint) };
}

/**
 * A revision's deploy: while this process still follows its operations (on the endpoint, and on
 * its smoke endpoint), no call at all; then one GET of the endpoint. A deploy that failed is
 * `failed` with Vertex's reason and where the logs are; a quota or credentials failure is thrown
 * as it is (its hint says what to change, not where to look).
 */
export async function revisionStatus(v: Vertex, t: Target, revision: string, ctx: ProviderContext): Promise<EndpointState> {
  const dm = deployedModelIdOf(revision);
  const mainKey = keyOf(deployedModelResource(t.base, dm, revision));
  const waits: Array<[string, string]> = [
    [chainKey(t.base, revision), `deploying ${revisionName(revision)}`],
    [chainKey(smokeEndpointId(t.base, revision), revision), 'deploying to the smoke endpoint'],
  ];
  for (const [key, detail] of waits) {
    const outcome = v.ops.outcome(key);
    if (outcome?.kind === 'running') return { state: 'pending', detail };
    if (outcome?.kind === 'failed') return failedDeploy(v, t, outcome.error);
  }
  const endpoint = await v.rest.getEndpoint(t.base, ctx);
  if (!endpoint) return { state: 'failed', reason: `endpoint ${t.base} does not exist` };
  if (!endpoint.deployedModels.some((d) => d.id === dm)) {
    return v.ops.outcome(mainKey)
      ? { state: 'failed', reason: `deployed model ${dm} is not on endpoint ${t.base}`, logsHint: logsHint(v, t.base) }
      : { state: 'pending', detail: 'deploying (started by another run)' };
  }
  return { state: 'ready', url: v.rest.predictUrl(endpoint) };
}

/** An operation that ended in failure is the revision's failure; anything else (quota, credentials, a refused request) is thrown as it is. */
function failedDeploy(v: Vertex, t: Target, error: unknown): EndpointState {
  if (!(error instanceof ProviderError) || !(error.cause instanceof OperationFailedError) || error.category === 'quota' || error.category === 'auth') throw error;
  return { state: 'failed', reason: error.message, logsHint: error.hint ?? logsHint(v, t.base) };
}

/**
 * A prediction: the endpoint as its traffic split routes it, in one call; or one revision, on its
 * smoke endpoint when it has one (an update), else on the endpoint where it takes all traffic (a
 * first deploy). Never another revision than the one asked for.
 */
export async function invoke(v: Vertex, t: Target, to: InvokeTarget, request: InvokeRequest, ctx: ProviderContext): Promise<InvokeResponse> {
  const endpointId = to.kind === 'revision' ? await revisionEndpoint(v, t, to.revision, ctx) : t.base;
  const started = performance.now();
  const response = await v.rest.predict(endpointId, request.body, request.contentType, request.accept, ctx);
  const body = new Uint8Array(await response.arrayBuffer());
  const latencyMs = performance.now() - started;
  // The caller's own problems (credentials, a missing endpoint) are errors; the model's answers are results.
  if (response.status === 401 || response.status === 403 || (response.status === 404 && !response.headers.has('x-vertex-ai-deployed-model-id'))) {
    const error = toProviderError(await VertexHttpError.from(new Response(body, { status: response.status, headers: response.headers })), { operation: 'predict', subject: endpointId });
    if (response.status !== 404) throw error;
    if (endpointId === t.base) throw endpointNotFound(t, `Vertex AI ${v.rest.parent}`);
    throw new ProviderError('EndpointNotFound', `Vertex AI endpoint ${endpointId} does not exist in ${v.rest.parent}`, { category: 'notFound', cause: error });
  }
  const contentType = response.headers.get('content-type') ?? undefined;
  return { status: response.status, ...(contentType ? { contentType } : {}), body, latencyMs };
}

/** Both candidates read at once. */
async function revisionEndpoint(v: Vertex, t: Target, revision: string, ctx: ProviderContext): Promise<string> {
  const dm = deployedModelIdOf(revision);
  const smokeId = smokeEndpointId(t.base, revision);
  const [smoke, main] = await Promise.all([v.rest.getEndpoint(smokeId, ctx), v.rest.getEndpoint(t.base, ctx)]);
  if (smoke && isOwned(ownerOfLabels(smoke.labels), t) && smoke.deployedModels.some((d) => d.id === dm)) return smokeId;
  if (main && main.trafficSplit[dm] === 100) return t.base;
  throw new ProviderError('RevisionNotReachable', `revision ${revision} of ${t.base} takes no traffic on any endpoint, so no request can reach it`, {
    category: 'failed',
    hint: 'Vertex AI routes by traffic split only; run `modeldeploy up` again to deploy it to a smoke endpoint.',
  });
}

/** Every deployment in the region: one listing by label. */
export async function list(v: Vertex, ctx: ProviderContext): Promise<DeploymentSummary[]> {
  const out: DeploymentSummary[] = [];
  for (const endpoint of await v.rest.listEndpoints({ [LABEL.deployment]: '*' }, ctx)) {
    const { deployment: name, stage } = ownerOfLabels(endpoint.labels);
    if (!name || !stage || isSmoke(endpoint.labels)) continue;
    const state = endpointState(v, endpoint);
    const serving = servingRevision(endpoint);
    out.push({ name, stage, state: state.state, ...(serving ? { revision: serving.revision } : {}), ...(state.state === 'ready' && state.url ? { url: state.url } : {}) });
  }
  return out;
}
