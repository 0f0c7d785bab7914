/**
 * Azure ML names of a deployment, derived from the target and a revision id, never stored: the
 * online endpoint and the model, code and environment assets are all `<name>-<stage>`; a revision
 * is the online deployment `r-<revision>` and version `<revision>` of each asset. ARM takes
 * modeldeploy's tag keys as they are (`modeldeploy:deployment`…), so ownership reads straight back.
 */
import type { Resource, Target } from '../../src/core/provider.js';
import type { AzureSettings } from './settings.js';

export type AssetKind = 'models' | 'codes' | 'environments';
export const ASSET_KINDS: readonly AssetKind[] = ['models', 'codes', 'environments'];

export const TYPE = {
  endpoint: 'azureml:online-endpoint',
  deployment: 'azureml:online-deployment',
  container: { models: 'azureml:model', codes: 'azureml:code', environments: 'azureml:environment' },
  version: { models: 'azureml:model-version', codes: 'azureml:code-version', environments: 'azureml:environment-version' },
} as const;

/** Deletion order: the endpoint (its deployments go with it), deployments, asset versions, then their containers. */
export const ORDER = { endpoint: 1, deployment: 2, version: 3, container: 4 } as const;

/** Endpoint and deployment names: 3-32 characters, a letter first, letters, digits and single dashes (cloud-apis.md C.3). */
export const ONLINE_NAME = /^[a-zA-Z](?:[a-zA-Z0-9]|-(?!-)){1,30}[a-zA-Z0-9]$/;
export const MAX_ONLINE_NAME = 32;

const DEPLOYMENT = /^r-([0-9a-f]{8})$/;
const REVISION = /^[0-9a-f]{8}$/;

export function deploymentName(revision: string): string {
  return `r-${revision}`;
}

/** The revision a deployment serves, for names modeldeploy gave; undefined for any other. */
export function revisionOfDeployment(name: string): string | undefined {
  return DEPLOYMENT.exec(name)?.[1];
}

export function isRevision(version: string): boolean {
  return REVISION.test(version);
}

export function endpointResource(t: Pick<Target, 'base'>): Resource {
  return { type: TYPE.endpoint, id: t.base, scope: 'endpoint', order: ORDER.endpoint };
}

export function deploymentResource(t: Pick<Target, 'base'>, revision: string): Resource {
  return { type: TYPE.deployment, id: `${t.base}/${deploymentName(revision)}`, scope: 'revision', revision, order: ORDER.deployment };
}

export function versionResource(kind: AssetKind, t: Pick<Target, 'base'>, revision: string): Resource {
  return { type: TYPE.version[kind], id: `${kind}/${t.base}/versions/${revision}`, scope: 'revision', revision, order: ORDER.version };
}

export function containerResource(kind: AssetKind, t: Pick<Target, 'base'>): Resource {
  return { type: TYPE.container[kind], id: `${kind}/${t.base}`, scope: 'endpoint', order: ORDER.container };
}

/** An asset resource's kind, name and (for a version) version, from its id. */
export function parseAssetId(id: string): { kind: AssetKind; name: string; version?: string } | undefined {
  const m = /^(models|codes|environments)\/([^/]+)(?:\/versions\/([^/]+))?$/.exec(id);
  const kind = ASSET_KINDS.find((k) => k === m?.[1]);
  if (!m || !kind) return undefined;
  return { kind, name: m[2] ?? '', ...(m[3] ? { version: m[3] } : {}) };
}

/** Where a deployment's container logs are: the az CLI command that prints them. */
export function logsCommand(settings: Pick<AzureSettings, 'resourceGroup' | 'workspace'>, endpoint: string, deployment: string): string {
  return `az ml online-deployment get-logs --endpoint-name ${endpoint} --name ${deployment} --resource-group ${settings.resourceGroup} --workspace-name ${settings.workspace} (add --container storage-initializer for model download errors)`;
}

export function names(t: Pick<Target, 'base'>, revision = '00000000'): Record<string, string> {
  return { endpoint: t.base, deployment: deploymentName(revision), model: t.base };
}
