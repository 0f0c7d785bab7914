/**
 * Reads: what the endpoint is (`read`, `status`, `list`). The endpoint and its deployments are
 * read at once; a revision's own operation, while this process follows one, says why it failed.
 */
import { ProviderError } from '../../src/core/errors.js';
import type { Current, DeploymentSummary, EndpointState, ProviderContext, Target } from '../../src/core/provider.js';
import { ownerOf } from '../../src/core/target.js';
import { BUSY } from './arm-call.js';
import type { ArmApi, DeploymentInfo, EndpointInfo } from './arm.js';
import { deploymentName, logsCommand, revisionOfDeployment } from './names.js';
import type { AzureRuntime } from './runtime.js';

export async function read(az: AzureRuntime, t: Target, ctx: ProviderContext): Promise<Current | undefined> {
  const arm = await az.conn.arm();
  const [endpoint, deployments] = await Promise.all([arm.getEndpoint(t.base, ctx.signal), arm.listDeployments(t.base, ctx.signal)]);
  if (!endpoint) return undefined;
  const revision = revisionOfDeployment(servingDeployment(endpoint) ?? '');
  return {
    owner: ownerOf(endpoint.tags),
    ...(revision ? { revision } : {}),
    state: await endpointState(az, arm, endpoint, deployments, ctx),
    details: { endpointState: endpoint.state, ...(endpoint.scoringUri ? { scoringUri: endpoint.scoringUri } : {}) },
  };
}

/** A revision's readiness (its deployment), or without one the endpoint's. */
export async function status(az: AzureRuntime, t: Target, revision: string | undefined, ctx: ProviderContext): Promise<EndpointState> {
  const arm = await az.conn.arm();
  if (!revision) {
    const [endpoint, deployments] = await Promise.all([arm.getEndpoint(t.base, ctx.signal), arm.listDeployments(t.base, ctx.signal)]);
    return endpoint ? endpointState(az, arm, endpoint, deployments, ctx) : { state: 'absent' };
  }
  const dep = deploymentName(revision);
  const key = `${t.base}/${dep}`;
  const lro = az.pending.get(key);
  if (lro) {
    try {
      if (!(await lro.poll(ctx.signal))) return { state: 'pending', detail: 'Creating' };
    } catch (error) {
      if (ctx.signal.aborted || !(error instanceof ProviderError)) throw error;
      if (!lro.failure && error.retryable) return { state: 'pending', detail: `status check failed (${error.code}); asking again` };
      az.pending.delete(key);
      return failed(az, arm, t.base, dep, error, ctx);
    }
    az.pending.delete(key);
  }
  const [deployment, endpoint] = await Promise.all([arm.getDeployment(t.base, dep, ctx.signal), arm.getEndpoint(t.base, ctx.signal)]);
  if (!deployment) return { state: 'absent' };
  return deploymentState(az, arm, t.base, deployment, endpoint, ctx);
}

export async function list(az: AzureRuntime, ctx: ProviderContext): Promise<DeploymentSummary[]> {
  const arm = await az.conn.arm();
  const ours = (await arm.listEndpoints(ctx.signal)).map((endpoint) => ({ endpoint, owner: ownerOf(endpoint.tags) })).filter(({ owner }) => owner.deployment && owner.stage);
  return Promise.all(
    ours.map(async ({ endpoint, owner }) => {
      const state = await endpointState(az, arm, endpoint, await arm.listDeployments(endpoint.name, ctx.signal), ctx);
      const revision = revisionOfDeployment(servingDeployment(endpoint) ?? '');
      return {
        name: owner.deployment ?? '',
        stage: owner.stage ?? '',
        state: state.state,
        ...(revision ? { revision } : {}),
        ...(state.state === 'ready' && state.url ? { url: state.url } : {}),
      };
    }),
  );
}

/** The deployment with the largest traffic share, if any has traffic. */
export function servingDeployment(endpoint: EndpointInfo): string | undefined {
  const [top] = Object.entries(endpoint.traffic)
    .filter(([, weight]) => weight > 0)
    .sort((a, b) => b[1] - a[1]);
  return top?.[0];
}

async function endpointState(az: AzureRuntime, arm: ArmApi, endpoint: EndpointInfo, deployments: readonly DeploymentInfo[], ctx: ProviderContext): Promise<EndpointState> {
  if (BUSY.has(endpoint.state)) return { state: 'pending', detail: `endpoint ${endpoint.state}` };
  if (endpoint.state !== 'Succeeded') return { state: 'failed', reason: `online endpoint ${endpoint.name} is ${endpoint.state}` };
  const serving = servingDeployment(endpoint);
  if (!serving) return { state: 'pending', detail: 'no deployment takes traffic' };
  const deployment = deployments.find((d) => d.name.toLowerCase() === serving.toLowerCase());
  if (!deployment) return { state: 'failed', reason: `deployment ${serving} takes traffic but does not exist` };
  return deploymentState(az, arm, endpoint.name, deployment, endpoint, ctx);
}

async function deploymentState(az: AzureRuntime, arm: ArmApi, endpointName: string, deployment: DeploymentInfo, endpoint: EndpointInfo | undefined, ctx: ProviderContext): Promise<EndpointState> {
  if (BUSY.has(deployment.state)) return { state: 'pending', detail: deployment.state };
  if (deployment.state === 'Succeeded') return { state: 'ready', ...(endpoint?.scoringUri ? { url: endpoint.scoringUri } : {}) };
  const tail = await arm.logs(endpointName, deployment.name, 'InferenceServer', 5, ctx.signal);
  return {
    state: 'failed',
    reason: `deployment ${deployment.name} is ${deployment.state}${tail ? `; last log lines: ${oneLine(tail)}` : ''}`,
    logsHint: `Read the deployment logs: ${logsCommand(az.conn.workspace, endpointName, deployment.name)}`,
  };
}

/**
 * A deployment operation that failed: its error and the end of the container logs. Quota and
 * permission failures are not the revision's fault: they are thrown, with what to do about them.
 */
async function failed(az: AzureRuntime, arm: ArmApi, endpoint: string, dep: string, error: ProviderError, ctx: ProviderContext): Promise<EndpointState> {
  if (error.category === 'quota' || error.category === 'auth') throw error;
  const tails = (await Promise.all([arm.logs(endpoint, dep, 'StorageInitializer', 3, ctx.signal), arm.logs(endpoint, dep, 'InferenceServer', 5, ctx.signal)])).filter(Boolean);
  return {
    state: 'failed',
    reason: `${error.message}${tails.length ? `; last log lines: ${oneLine(tails.join('\n'))}` : ''}`,
    logsHint: error.hint ?? `Read the deployment logs: ${logsCommand(az.conn.workspace, endpoint, dep)}`,
  };
}

function oneLine(text: string): string {
  const line = text
    .trim()
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' | ');
  return line.length > 400 ? `…${line.slice(-400)}` : line;
}
