/**
 * The endpoint's traffic: requests to it (`invoke`, through the scoring URI with the endpoint key,
 * or to one revision with the `azureml-model-deployment` header whatever the traffic says), and
 * moving all of it to one revision (`promote`: one PUT of the whole endpoint, as ARM requires).
 */
import { ProviderError } from '../../src/core/errors.js';
import type { InvokeRequest, InvokeResponse, InvokeTarget, ProviderContext, Target } from '../../src/core/provider.js';
import { retryWhileBusy } from '../../src/core/retry.js';
import { endpointNotFound } from '../../src/core/target.js';
import { untilIdle, waitFor } from './arm-call.js';
import { deploymentName } from './names.js';
import { describeTarget, type AzureRuntime } from './runtime.js';
import { scoringPost } from './scoring.js';

export async function invoke(az: AzureRuntime, t: Target, to: InvokeTarget, request: InvokeRequest, ctx: ProviderContext): Promise<InvokeResponse> {
  const headers: Record<string, string> = {
    'content-type': request.contentType,
    ...(request.accept ? { accept: request.accept } : {}),
    ...(to.kind === 'revision' ? { 'azureml-model-deployment': deploymentName(to.revision) } : {}),
  };
  for (let attempt = 0; ; attempt++) {
    const scoring = await scoringTarget(az, t, ctx);
    const started = performance.now();
    const response = await scoringPost(scoring.url, { ...headers, authorization: `Bearer ${scoring.key}` }, request.body, ctx.signal, az.conn.env.ca);
    const latencyMs = performance.now() - started;
    // A 401 after a key rotation: fetch the key again, once.
    if (response.status === 401 && attempt === 0) {
      az.scoring.delete(t.base);
      continue;
    }
    return { status: response.status, body: response.body, latencyMs, ...(response.contentType ? { contentType: response.contentType } : {}) };
  }
}

/** The scoring URI and key, read once per process (at once: both are needed). */
async function scoringTarget(az: AzureRuntime, t: Target, ctx: ProviderContext): Promise<{ url: string; key: string }> {
  const known = az.scoring.get(t.base);
  if (known) return known;
  const arm = await az.conn.arm();
  const [endpoint, key] = await Promise.all([arm.getEndpoint(t.base, ctx.signal), arm.primaryKey(t.base, ctx.signal).catch((error: unknown) => ({ error }))]);
  const { resourceGroup, workspace } = az.conn.workspace;
  if (!endpoint?.scoringUri) throw endpointNotFound(t, `workspace ${resourceGroup}/${workspace}`);
  if (endpoint.authMode !== 'Key') {
    throw new ProviderError('EndpointAuthModeUnsupported', `online endpoint ${t.base} uses auth mode ${endpoint.authMode}; modeldeploy invokes Key endpoints`, { category: 'invalid' });
  }
  if (typeof key !== 'string') throw key.error;
  const found = { url: endpoint.scoringUri, key };
  az.scoring.set(t.base, found);
  return found;
}

export async function promote(az: AzureRuntime, t: Target, revision: string, ctx: ProviderContext): Promise<void> {
  const arm = await az.conn.arm();
  const dep = deploymentName(revision);
  // One operation at a time per endpoint: a 409 while another finishes is waited out.
  await retryWhileBusy(ctx, az.polling, async () => {
    const endpoint = await untilIdle(() => arm.getEndpoint(t.base, ctx.signal), ctx, az.polling);
    if (!endpoint) throw new ProviderError('EndpointNotFound', `online endpoint ${t.base} does not exist`, { category: 'notFound' });
    const others = Object.entries(endpoint.traffic).filter(([name, weight]) => name !== dep && weight > 0);
    if (endpoint.traffic[dep] === 100 && others.length === 0 && endpoint.state === 'Succeeded') return;
    const traffic = Object.fromEntries(Object.keys(endpoint.traffic).map((name) => [name, 0]));
    traffic[dep] = 100;
    const lro = await arm.putEndpoint(
      t.base,
      { location: endpoint.location, tags: { ...t.tags }, authMode: endpoint.authMode, identityType: endpoint.identityType ?? 'SystemAssigned', description: endpoint.description ?? describeTarget(t), traffic },
      ctx.signal,
    );
    await waitFor(lro, ctx, az.polling);
  });
}
