import { randomBytes, randomUUID } from 'node:crypto';

import { ArmError, conflict, notFound, userError } from './arm-errors.js';
import type { ArmErrorDetail } from './arm-errors.js';
import {
  checkAssetName,
  checkOnlineName,
  readAssetContainerBody,
  readAssetVersionBody,
  readDeploymentBody,
  readDeploymentPatch,
  readEndpointBody,
  readEndpointPatch,
  readGetLogs,
  readRegenerateKeys,
} from './arm-validate.js';
import type {
  AssetContainerSpec,
  AssetKind,
  AuthMode,
  DeploymentProperties,
  IdentitySpec,
  SkuSpec,
} from './arm-validate.js';

export const PROVIDER = 'Microsoft.MachineLearningServices';
/** Quota doc: 20 deployments per endpoint. */
export const MAX_DEPLOYMENTS_PER_ENDPOINT = 20;

export type EndpointState = 'Creating' | 'Updating' | 'Deleting' | 'Succeeded' | 'Failed' | 'Canceled';
export type DeploymentState = 'Creating' | 'Updating' | 'Scaling' | 'Deleting' | 'Succeeded' | 'Failed' | 'Canceled';

/** Which operation `failNext` poisons. `modelVersion` fails synchronously; the others fail their LRO unless a status is given. */
export type FaultKind =
  | 'endpoint'
  | 'endpointUpdate'
  | 'endpointDelete'
  | 'regenerateKeys'
  | 'deployment'
  | 'deploymentUpdate'
  | 'deploymentDelete'
  | 'modelVersion';

export interface FaultSpec {
  code: string;
  message: string;
  /** Answer the request itself with this HTTP status instead of failing the LRO later. */
  status?: number;
  /** Only the resource with this name (endpoint, deployment or model name). */
  name?: string;
  details?: ArmErrorDetail[];
  /** For a failing deployment: what its containers printed (getLogs), as a crashed container leaves it. */
  logs?: { StorageInitializer?: string; InferenceServer?: string };
}

export interface SeedWorkspace {
  resourceGroup: string;
  workspace: string;
  /** ARM location, e.g. "eastus". */
  location: string;
  tags?: Record<string, string>;
  /** The default datastore `workspaceblobstore`; defaults to Azurite's devstoreaccount1. */
  datastore?: { accountName?: string; accountKey?: string; containerName?: string; endpoint?: string; protocol?: string };
}

export interface FakeResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface SystemData {
  createdAt: string;
  createdBy: string;
  createdByType: 'User';
  lastModifiedAt: string;
  lastModifiedBy: string;
  lastModifiedByType: 'User';
}

export interface DatastoreRecord {
  name: string;
  accountName: string;
  accountKey: string;
  containerName: string;
  endpoint: string;
  protocol: string;
  isDefault: boolean;
  systemData: SystemData;
}

export interface AssetVersionRecord {
  version: string;
  properties: Record<string, unknown>;
  systemData: SystemData;
}

export interface AssetContainerRecord {
  name: string;
  spec: AssetContainerSpec;
  versions: Map<string, AssetVersionRecord>;
  systemData: SystemData;
}

export interface WorkspaceRecord {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  workspaceId: string;
  tags: Record<string, string>;
  datastores: Map<string, DatastoreRecord>;
  endpoints: Map<string, EndpointRecord>;
  assets: Record<AssetKind, Map<string, AssetContainerRecord>>;
  systemData: SystemData;
}

export interface EndpointRecord {
  name: string;
  workspace: WorkspaceRecord;
  location: string;
  tags: Record<string, string>;
  identity: IdentitySpec & { principalId?: string; tenantId?: string };
  kind: string;
  sku?: SkuSpec;
  authMode: AuthMode;
  description?: string;
  publicNetworkAccess: 'Enabled' | 'Disabled';
  /** User-added entries of properties.properties (server entries are added on output). */
  properties: Record<string, string | null>;
  /** Traffic as last requested (what GET shows). */
  traffic: Record<string, number>;
  /** Traffic the data plane routes by: applied when the endpoint operation succeeds. */
  liveTraffic: Record<string, number>;
  state: EndpointState;
  keys: { primaryKey: string; secondaryKey: string };
  tokens: Map<string, number>;
  deployments: Map<string, DeploymentRecord>;
  lastOperationUri?: string;
  systemData: SystemData;
}

export interface DeploymentRecord {
  name: string;
  endpoint: EndpointRecord;
  location: string;
  tags: Record<string, string>;
  identity?: IdentitySpec;
  kind: string;
  sku: SkuSpec & { capacity: number };
  properties: DeploymentProperties;
  state: DeploymentState;
  /** True once a create or update has succeeded: the deployment then serves requests (also while updating). */
  serving: boolean;
  logs: { StorageInitializer?: string; InferenceServer?: string };
  lastOperationUri?: string;
  systemData: SystemData;
}

export type OpStatus = 'InProgress' | 'Succeeded' | 'Failed' | 'Canceled';

export interface Operation {
  readonly id: string;
  readonly location: string;
  readonly kind: FaultKind;
  readonly target: string;
  status: OpStatus;
  readonly startTime: number;
  /** Start order (many start within one millisecond). */
  readonly seq: number;
  endTime?: number;
  /** Set once the response of the request that started it was sent: from then on a look finishes it. */
  armed: boolean;
  error?: { code: string; message: string; details?: ArmErrorDetail[] };
  readonly finish: (ok: boolean) => void;
  /** Body served by the Location URL (mfeOperationResults) after success. */
  readonly result?: () => unknown;
}

/** Per-request context the router passes in. */
export interface RequestContext {
  apiVersion: string;
  baseUrl: string;
  /** Operations this request starts: armed by the router once its response is sent. */
  started: Operation[];
}

export interface ArmStateOptions {
  subscriptionId: string;
  tenantId: string;
  /** Optional: sends Retry-After on LRO responses (the real service does; it overrides the SDK's updateIntervalInMs). */
  lroRetryAfterSeconds?: number;
  /** Checks that a blob prefix exists; set when the fake is wired to Azurite. */
  blobPrefixExists?: (datastore: DatastoreRecord, prefix: string) => Promise<boolean>;
}

const CALLER = 'modeldeploy-tests@example.com';
const lower = (s: string): string => s.toLowerCase();
const iso = (ms: number): string => new Date(ms).toISOString();

export function normalizeLocation(location: string): string {
  return location.replace(/\s+/g, '').toLowerCase();
}

function newKey(): string {
  return randomBytes(24).toString('base64url');
}

function sysData(now: number): SystemData {
  return {
    createdAt: iso(now),
    createdBy: CALLER,
    createdByType: 'User',
    lastModifiedAt: iso(now),
    lastModifiedBy: CALLER,
    lastModifiedByType: 'User',
  };
}

function touch(sd: SystemData, now: number): void {
  sd.lastModifiedAt = iso(now);
  sd.lastModifiedBy = CALLER;
}

function isBusy(state: EndpointState | DeploymentState): boolean {
  return state === 'Creating' || state === 'Updating' || state === 'Deleting' || state === 'Scaling';
}

const ARM_ASSET_ID =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.MachineLearningServices\/workspaces\/([^/]+)\/(models|codes|environments)\/([^/]+)\/versions\/([^/]+)$/i;
const REGISTRY_ASSET_ID = /^azureml:\/\/registries\/([^/]+)\/(models|environments|codes)\/([^/]+)\/versions\/([^/]+)$/i;

/**
 * Everything the fake ARM knows: one subscription, its resource groups and workspaces, and the LROs.
 * No clock decides when an operation ends: it finishes on the first look (a status poll, a GET or
 * LIST of endpoints or deployments, the scoring plane, `inventory()`) after the response of the
 * request that started it was sent, unless the test holds its kind; `release()` then finishes it.
 */
export class ArmState {
  readonly resourceGroups = new Map<string, { name: string; location: string }>();
  readonly workspaces = new Map<string, WorkspaceRecord>();
  readonly operations = new Map<string, Operation>();
  readonly faults: Array<FaultSpec & { kind: FaultKind }> = [];
  /** Endpoint names held by "other customers", per normalized region. */
  readonly reservedNames = new Map<string, Set<string>>();
  /** Kinds of operation kept in progress until `release()` ('all': every kind). */
  private holding: Set<FaultKind> | 'all' = new Set();

  constructor(readonly options: ArmStateOptions) {}

  get subscriptionId(): string {
    return this.options.subscriptionId;
  }

  /* ---------------------------------------------------------------------------------------- seeding */

  seedWorkspace(seed: SeedWorkspace): WorkspaceRecord {
    const now = Date.now();
    const location = normalizeLocation(seed.location);
    const rgKey = lower(seed.resourceGroup);
    if (!this.resourceGroups.has(rgKey)) this.resourceGroups.set(rgKey, { name: seed.resourceGroup, location });
    const workspaceId = randomUUID();
    const ds = seed.datastore ?? {};
    const ws: WorkspaceRecord = {
      subscriptionId: this.subscriptionId,
      resourceGroup: seed.resourceGroup,
      name: seed.workspace,
      location,
      workspaceId,
      tags: seed.tags ?? {},
      datastores: new Map(),
      endpoints: new Map(),
      assets: { models: new Map(), codes: new Map(), environments: new Map() },
      systemData: sysData(now),
    };
    ws.datastores.set('workspaceblobstore', {
      name: 'workspaceblobstore',
      accountName: ds.accountName ?? 'devstoreaccount1',
      accountKey:
        ds.accountKey ?? 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
      containerName: ds.containerName ?? `azureml-blobstore-${workspaceId}`,
      endpoint: ds.endpoint ?? 'core.windows.net',
      protocol: ds.protocol ?? 'https',
      isDefault: true,
      systemData: sysData(now),
    });
    this.workspaces.set(`${rgKey}/${lower(seed.workspace)}`, ws);
    return ws;
  }

  reserveEndpointName(location: string, name: string): void {
    const region = normalizeLocation(location);
    const set = this.reservedNames.get(region) ?? new Set<string>();
    set.add(lower(name));
    this.reservedNames.set(region, set);
  }

  /* ------------------------------------------------------------------------------------------ lookup */

  resolveResourceGroup(subscriptionId: string, resourceGroup: string): void {
    if (lower(subscriptionId) !== lower(this.subscriptionId)) {
      throw new ArmError(404, 'SubscriptionNotFound', `The subscription '${subscriptionId}' could not be found.`, {
        fromProvider: false,
      });
    }
    if (!this.resourceGroups.has(lower(resourceGroup))) {
      throw new ArmError(404, 'ResourceGroupNotFound', `Resource group '${resourceGroup}' could not be found.`, {
        fromProvider: false,
      });
    }
  }

  resolveWorkspace(subscriptionId: string, resourceGroup: string, workspace: string): WorkspaceRecord {
    this.resolveResourceGroup(subscriptionId, resourceGroup);
    const ws = this.workspaces.get(`${lower(resourceGroup)}/${lower(workspace)}`);
    if (!ws) {
      throw new ArmError(
        404,
        'ResourceNotFound',
        `The Resource '${PROVIDER}/workspaces/${workspace}' under resource group '${resourceGroup}' was not found. ` +
          'For more details please go to https://aka.ms/ARMResourceNotFoundFix',
        { fromProvider: false },
      );
    }
    return ws;
  }

  /** All endpoints of every workspace (settled), for tests that prove nothing leaked. */
  allEndpoints(): EndpointRecord[] {
    this.settle();
    return [...this.workspaces.values()].flatMap((ws) => [...ws.endpoints.values()]);
  }

  findEndpoint(name: string, location?: string): EndpointRecord | undefined {
    return this.allEndpoints().find(
      (ep) => lower(ep.name) === lower(name) && (location === undefined || ep.location === normalizeLocation(location)),
    );
  }

  /* ------------------------------------------------------------------------------------------- LROs */

  /** Keep operations of these kinds (default: every kind) in progress until `release()`. */
  hold(kinds?: readonly FaultKind[]): void {
    if (!kinds) this.holding = 'all';
    else if (this.holding !== 'all') for (const k of kinds) this.holding.add(k);
  }

  /** Stop holding and finish every operation still in progress, in the order they started. */
  release(): void {
    this.holding = new Set();
    this.finish([...this.operations.values()].filter((op) => op.status === 'InProgress'));
  }

  private held(op: Operation): boolean {
    return this.holding === 'all' || this.holding.has(op.kind);
  }

  /** A look at the state: finishes every armed operation that is not held, in the order they started. */
  settle(): void {
    this.finish([...this.operations.values()].filter((op) => op.status === 'InProgress' && op.armed && !this.held(op)));
  }

  private finish(ops: Operation[]): void {
    for (const op of ops.sort((a, b) => a.seq - b.seq)) {
      op.status = op.error ? 'Failed' : 'Succeeded';
      op.endTime = Date.now();
      op.finish(!op.error);
    }
  }

  private takeFault(kind: FaultKind, name: string): (FaultSpec & { kind: FaultKind }) | undefined {
    const i = this.faults.findIndex((f) => f.kind === kind && (f.name === undefined || lower(f.name) === lower(name)));
    if (i < 0) return undefined;
    const [fault] = this.faults.splice(i, 1);
    if (fault?.status !== undefined) {
      throw new ArmError(fault.status, fault.code, fault.message, fault.details ? { details: fault.details } : {});
    }
    return fault;
  }

  private startOp(args: {
    ctx: RequestContext;
    kind: FaultKind;
    prefix: 'oe' | 'od';
    location: string;
    target: string;
    fault?: FaultSpec;
    error?: { code: string; message: string };
    finish: (ok: boolean) => void;
    result?: () => unknown;
  }): Operation {
    const now = Date.now();
    const err = args.fault ? { code: args.fault.code, message: args.fault.message, ...(args.fault.details ? { details: args.fault.details } : {}) } : args.error;
    const op: Operation = {
      id: `${args.prefix}:${randomUUID()}:${randomUUID()}`,
      location: args.location,
      kind: args.kind,
      target: args.target,
      status: 'InProgress',
      startTime: now,
      seq: this.operations.size,
      armed: false,
      ...(err ? { error: err } : {}),
      finish: args.finish,
      ...(args.result ? { result: args.result } : {}),
    };
    this.operations.set(op.id, op);
    args.ctx.started.push(op);
    return op;
  }

  operationStatusUrl(op: Operation, ctx: RequestContext): string {
    return (
      `${ctx.baseUrl}/subscriptions/${this.subscriptionId}/providers/${PROVIDER}/locations/${op.location}` +
      `/mfeOperationsStatus/${op.id}?api-version=${ctx.apiVersion}`
    );
  }

  operationResultUrl(op: Operation, ctx: RequestContext): string {
    return (
      `${ctx.baseUrl}/subscriptions/${this.subscriptionId}/providers/${PROVIDER}/locations/${op.location}` +
      `/mfeOperationResults/${op.id}?api-version=${ctx.apiVersion}&type=async`
    );
  }

  private lroHeaders(op: Operation, ctx: RequestContext, which: { async: boolean; location: boolean }): Record<string, string> {
    const h: Record<string, string> = { 'x-ms-async-operation-timeout': 'PT1H' };
    if (which.async) h['Azure-AsyncOperation'] = this.operationStatusUrl(op, ctx);
    if (which.location) h['Location'] = this.operationResultUrl(op, ctx);
    if (this.options.lroRetryAfterSeconds !== undefined) h['Retry-After'] = String(this.options.lroRetryAfterSeconds);
    return h;
  }

  private findOperation(location: string, id: string): Operation {
    this.settle();
    const op = this.operations.get(id);
    if (!op || op.location !== normalizeLocation(location)) throw notFound(`Operation '${id}'`);
    return op;
  }

  /** GET …/locations/{loc}/mfeOperationsStatus/{id} (the Azure-AsyncOperation URL). */
  operationStatus(location: string, id: string): FakeResponse {
    const op = this.findOperation(location, id);
    return {
      status: 200,
      body: {
        id: `/subscriptions/${this.subscriptionId}/providers/${PROVIDER}/locations/${op.location}/mfeOperationsStatus/${op.id}`,
        name: op.id,
        status: op.status,
        startTime: iso(op.startTime),
        ...(op.endTime !== undefined ? { endTime: iso(op.endTime) } : {}),
        ...(op.status === 'Failed' && op.error ? { error: { details: [], additionalInfo: [], ...op.error } } : {}),
      },
    };
  }

  /** GET …/locations/{loc}/mfeOperationResults/{id} (the Location URL): 202 while running, then the result. */
  operationResult(location: string, id: string, ctx: RequestContext): FakeResponse {
    const op = this.findOperation(location, id);
    if (op.status === 'InProgress') {
      return { status: 202, headers: this.lroHeaders(op, ctx, { async: false, location: true }) };
    }
    if (op.status === 'Failed') {
      const e = op.error ?? { code: 'InternalServerError', message: 'The operation failed.' };
      // 400, not 5xx: the SDK's retry policy would re-send a 5xx poll three times before giving up.
      return { status: 400, body: { error: { details: [], additionalInfo: [], ...e } } };
    }
    const body = op.result?.();
    return body === undefined ? { status: 200 } : { status: 200, body };
  }

  /* ------------------------------------------------------------------------------------ serializers */

  workspaceId(ws: WorkspaceRecord): string {
    return `/subscriptions/${ws.subscriptionId}/resourceGroups/${ws.resourceGroup}/providers/${PROVIDER}/workspaces/${ws.name}`;
  }

  workspaceJson(ws: WorkspaceRecord): unknown {
    const rgPrefix = `/subscriptions/${ws.subscriptionId}/resourceGroups/${ws.resourceGroup}/providers`;
    const ds = ws.datastores.get('workspaceblobstore');
    return {
      id: this.workspaceId(ws),
      name: ws.name,
      type: `${PROVIDER}/workspaces`,
      location: ws.location,
      tags: ws.tags,
      identity: { type: 'SystemAssigned', principalId: randomUUIDFrom(ws.workspaceId, 'p'), tenantId: this.options.tenantId },
      sku: { name: 'Basic', tier: 'Basic' },
      systemData: ws.systemData,
      properties: {
        friendlyName: ws.name,
        workspaceId: ws.workspaceId,
        storageAccount: `${rgPrefix}/Microsoft.Storage/storageAccounts/${ds?.accountName ?? 'storage'}`,
        keyVault: `${rgPrefix}/Microsoft.KeyVault/vaults/kv-${ws.workspaceId.slice(0, 8)}`,
        applicationInsights: `${rgPrefix}/Microsoft.insights/components/ai-${ws.workspaceId.slice(0, 8)}`,
        containerRegistry: `${rgPrefix}/Microsoft.ContainerRegistry/registries/cr${ws.workspaceId.slice(0, 8)}`,
        discoveryUrl: `https://${ws.location}.api.azureml.ms/discovery`,
        mlFlowTrackingUri: `azureml://${ws.location}.api.azureml.ms/mlflow/v1.0${this.workspaceId(ws)}`,
        provisioningState: 'Succeeded',
        hbiWorkspace: false,
        publicNetworkAccess: 'Enabled',
        v1LegacyMode: false,
        storageHnsEnabled: false,
        tenantId: this.options.tenantId,
        privateLinkCount: 0,
      },
    };
  }

  datastoreJson(ws: WorkspaceRecord, ds: DatastoreRecord): unknown {
    return {
      id: `${this.workspaceId(ws)}/datastores/${ds.name}`,
      name: ds.name,
      type: `${PROVIDER}/workspaces/datastores`,
      systemData: ds.systemData,
      properties: {
        description: null,
        tags: {},
        properties: {},
        isDefault: ds.isDefault,
        // GET never returns the secret; listSecrets does.
        credentials: { credentialsType: 'AccountKey' },
        datastoreType: 'AzureBlob',
        accountName: ds.accountName,
        containerName: ds.containerName,
        endpoint: ds.endpoint,
        protocol: ds.protocol,
        serviceDataAccessAuthIdentity: 'WorkspaceSystemAssignedIdentity',
      },
    };
  }

  endpointArmId(ep: EndpointRecord): string {
    return `${this.workspaceId(ep.workspace)}/onlineEndpoints/${ep.name}`;
  }

  scoringBase(ep: EndpointRecord, baseUrl: string): string {
    return `${baseUrl}/inference/${ep.location}/${encodeURIComponent(ep.name)}`;
  }

  endpointJson(ep: EndpointRecord, ctx: RequestContext): unknown {
    const serverProps: Record<string, string> = {
      'azureml.onlineendpointid': lower(this.endpointArmId(ep)),
      ...(ep.lastOperationUri ? { AzureAsyncOperationUri: ep.lastOperationUri } : {}),
    };
    return {
      id: this.endpointArmId(ep),
      name: ep.name,
      type: `${PROVIDER}/workspaces/onlineEndpoints`,
      location: ep.location,
      tags: ep.tags,
      kind: ep.kind,
      identity: ep.identity,
      ...(ep.sku ? { sku: ep.sku } : {}),
      systemData: ep.systemData,
      properties: {
        authMode: ep.authMode,
        ...(ep.description !== undefined ? { description: ep.description } : {}),
        properties: { ...ep.properties, ...serverProps },
        keys: null,
        scoringUri: `${this.scoringBase(ep, ctx.baseUrl)}/score`,
        swaggerUri: `${this.scoringBase(ep, ctx.baseUrl)}/swagger.json`,
        provisioningState: ep.state,
        publicNetworkAccess: ep.publicNetworkAccess,
        traffic: ep.traffic,
      },
    };
  }

  deploymentJson(dep: DeploymentRecord): unknown {
    const p = dep.properties;
    return {
      id: `${this.endpointArmId(dep.endpoint)}/deployments/${dep.name}`,
      name: dep.name,
      type: `${PROVIDER}/workspaces/onlineEndpoints/deployments`,
      location: dep.location,
      tags: dep.tags,
      kind: dep.kind,
      ...(dep.identity ? { identity: dep.identity } : {}),
      sku: { tier: 'Standard', ...dep.sku },
      systemData: dep.systemData,
      properties: {
        ...p,
        properties: { ...p.properties, ...(dep.lastOperationUri ? { AzureAsyncOperationUri: dep.lastOperationUri } : {}) },
        provisioningState: dep.state,
      },
    };
  }

  assetContainerJson(ws: WorkspaceRecord, kind: AssetKind, c: AssetContainerRecord): unknown {
    const versions = [...c.versions.keys()];
    const numeric = versions.filter((v) => /^\d+$/.test(v)).map(Number);
    const latest = numeric.length ? String(Math.max(...numeric)) : versions.at(-1);
    return {
      id: `${this.workspaceId(ws)}/${kind}/${c.name}`,
      name: c.name,
      type: `${PROVIDER}/workspaces/${kind}`,
      systemData: c.systemData,
      properties: {
        ...c.spec,
        ...(latest !== undefined ? { latestVersion: latest } : {}),
        nextVersion: numeric.length ? String(Math.max(...numeric) + 1) : '1',
      },
    };
  }

  assetVersionJson(ws: WorkspaceRecord, kind: AssetKind, c: AssetContainerRecord, v: AssetVersionRecord): unknown {
    return {
      id: `${this.workspaceId(ws)}/${kind}/${c.name}/versions/${v.version}`,
      name: v.version,
      type: `${PROVIDER}/workspaces/${kind}/versions`,
      systemData: v.systemData,
      properties: v.properties,
    };
  }

  /* -------------------------------------------------------------------------------------- datastores */

  getDatastore(ws: WorkspaceRecord, name: string): DatastoreRecord {
    const ds = ws.datastores.get(lower(name));
    if (!ds) throw notFound(`Datastore '${name}'`);
    return ds;
  }

  /* ------------------------------------------------------------------------------------------ assets */

  getAssetContainer(ws: WorkspaceRecord, kind: AssetKind, name: string): AssetContainerRecord {
    const c = ws.assets[kind].get(lower(name));
    if (!c) throw notFound(`${kind.slice(0, -1)} container '${name}'`);
    return c;
  }

  getAssetVersion(ws: WorkspaceRecord, kind: AssetKind, name: string, version: string): AssetVersionRecord {
    const v = this.getAssetContainer(ws, kind, name).versions.get(version);
    if (!v) throw notFound(`${kind.slice(0, -1)} version '${name}:${version}'`);
    return v;
  }

  putAssetContainer(ws: WorkspaceRecord, kind: AssetKind, name: string, body: unknown): FakeResponse {
    checkAssetName(name);
    const spec = readAssetContainerBody(kind, body);
    const now = Date.now();
    const existing = ws.assets[kind].get(lower(name));
    if (existing) {
      existing.spec = spec;
      touch(existing.systemData, now);
      return { status: 200, body: this.assetContainerJson(ws, kind, existing) };
    }
    const c: AssetContainerRecord = { name, spec, versions: new Map(), systemData: sysData(now) };
    ws.assets[kind].set(lower(name), c);
    return { status: 201, body: this.assetContainerJson(ws, kind, c) };
  }

  deleteAssetContainer(ws: WorkspaceRecord, kind: AssetKind, name: string): FakeResponse {
    return ws.assets[kind].delete(lower(name)) ? { status: 200 } : { status: 204 };
  }

  putAssetVersion(ws: WorkspaceRecord, kind: AssetKind, name: string, version: string, body: unknown): FakeResponse {
    checkAssetName(name, version);
    const props = readAssetVersionBody(kind, body);
    if (kind === 'models') {
      this.takeFault('modelVersion', name);
      this.checkAssetUri(ws, String(props['modelUri']), 'modelUri');
    }
    if (kind === 'codes') this.checkAssetUri(ws, String(props['codeUri']), 'codeUri');
    const now = Date.now();
    let c = ws.assets[kind].get(lower(name));
    if (!c) {
      // Registering a version creates its container, as azure-ai-ml relies on (it never PUTs containers).
      c = { name, spec: { tags: {}, properties: {}, isArchived: false }, versions: new Map(), systemData: sysData(now) };
      ws.assets[kind].set(lower(name), c);
    }
    const existing = c.versions.get(version);
    if (existing) {
      for (const immutable of ['modelUri', 'codeUri']) {
        if (existing.properties[immutable] !== undefined && existing.properties[immutable] !== props[immutable]) {
          throw userError('Asset paths cannot be updated.');
        }
      }
      for (const immutable of ['image', 'build', 'condaFile', 'inferenceConfig']) {
        if (JSON.stringify(existing.properties[immutable]) !== JSON.stringify(props[immutable])) {
          throw userError(`Environment version '${name}:${version}' is immutable; '${immutable}' cannot be changed. Create a new version.`);
        }
      }
      existing.properties = props;
      touch(existing.systemData, now);
      return { status: 200, body: this.assetVersionJson(ws, kind, c, existing) };
    }
    const v: AssetVersionRecord = { version, properties: props, systemData: sysData(now) };
    c.versions.set(version, v);
    return { status: 201, body: this.assetVersionJson(ws, kind, c, v) };
  }

  deleteAssetVersion(ws: WorkspaceRecord, kind: AssetKind, name: string, version: string): FakeResponse {
    const c = ws.assets[kind].get(lower(name));
    return c?.versions.delete(version) ? { status: 200 } : { status: 204 };
  }

  /** Accepted asset URIs: azureml:// datastore paths (long and short form) and https blob URLs of a workspace datastore. */
  resolveAssetUri(ws: WorkspaceRecord, uri: string): { datastore: DatastoreRecord; path: string } | undefined {
    const long = /^azureml:\/\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/workspaces\/([^/]+)\/datastores\/([^/]+)\/paths\/(.+)$/i.exec(uri);
    const short = /^azureml:\/\/datastores\/([^/]+)\/paths\/(.+)$/i.exec(uri);
    if (long) {
      const [, sub, rg, wsName, dsName, path] = long;
      if (lower(sub ?? '') !== lower(ws.subscriptionId) || lower(rg ?? '') !== lower(ws.resourceGroup) || lower(wsName ?? '') !== lower(ws.name)) {
        return undefined;
      }
      const ds = ws.datastores.get(lower(dsName ?? ''));
      return ds && path ? { datastore: ds, path } : undefined;
    }
    if (short) {
      const ds = ws.datastores.get(lower(short[1] ?? ''));
      return ds && short[2] ? { datastore: ds, path: short[2] } : undefined;
    }
    const https = /^https:\/\/([^./]+)\.blob\.([^/]+)\/([^/]+)\/(.+)$/i.exec(uri);
    if (https) {
      const [, account, suffix, container, path] = https;
      const ds = [...ws.datastores.values()].find(
        (d) => lower(d.accountName) === lower(account ?? '') && lower(d.endpoint) === lower(suffix ?? '') && d.containerName === container,
      );
      return ds && path ? { datastore: ds, path: decodeURIComponent(path) } : undefined;
    }
    return undefined;
  }

  private checkAssetUri(ws: WorkspaceRecord, uri: string, field: string): void {
    if (!this.resolveAssetUri(ws, uri)) {
      throw userError(
        `Invalid ${field} '${uri}'. Expected azureml://subscriptions/{sub}/resourcegroups/{rg}/workspaces/{ws}/datastores/{datastore}/paths/{path} ` +
          `(or azureml://datastores/{datastore}/paths/{path}, or https://{account}.blob.core.windows.net/{container}/{path}) ` +
          `naming a datastore of workspace '${ws.name}'.`,
      );
    }
  }

  /** Resolves an asset reference from a deployment; returns the referenced version when it is in this workspace. */
  private resolveAssetRef(
    ws: WorkspaceRecord,
    kind: AssetKind,
    field: string,
    ref: string,
  ): AssetVersionRecord | 'registry' {
    const reg = REGISTRY_ASSET_ID.exec(ref);
    if (reg && lower(reg[2] ?? '') === kind) return 'registry';
    const m = ARM_ASSET_ID.exec(ref);
    if (!m || lower(m[4] ?? '') !== kind) {
      throw userError(
        `Invalid ${field} '${ref}'. Expected an ARM ID /subscriptions/{sub}/resourceGroups/{rg}/providers/${PROVIDER}/workspaces/{ws}/${kind}/{name}/versions/{version}` +
          (kind === 'codes' ? '.' : ` or a registry asset ID azureml://registries/{registry}/${kind}/{name}/versions/{version}.`),
      );
    }
    const [, sub, rg, wsName, , name, version] = m;
    if (lower(sub ?? '') !== lower(ws.subscriptionId) || lower(rg ?? '') !== lower(ws.resourceGroup) || lower(wsName ?? '') !== lower(ws.name)) {
      throw userError(`${field} '${ref}' must reference an asset in workspace '${ws.name}' of the deployment.`);
    }
    const v = ws.assets[kind].get(lower(name ?? ''))?.versions.get(version ?? '');
    if (!v) throw userError(`${field} '${ref}' does not exist: no ${kind.slice(0, -1)} '${name}' version '${version}' in workspace '${ws.name}'.`);
    return v;
  }

  /* --------------------------------------------------------------------------------------- endpoints */

  getEndpoint(ws: WorkspaceRecord, name: string): EndpointRecord {
    this.settle();
    const ep = ws.endpoints.get(lower(name));
    if (!ep) throw notFound(`Online endpoint '${name}'`);
    return ep;
  }

  private busyDeployment(ep: EndpointRecord): DeploymentRecord | undefined {
    return [...ep.deployments.values()].find((d) => isBusy(d.state));
  }

  private assertEndpointIdle(ep: EndpointRecord): void {
    if (isBusy(ep.state)) {
      throw conflict(
        `Conflict: an operation is already in progress on online endpoint '${ep.name}' (provisioning state ${ep.state}). ` +
          'Wait for it to finish, then retry.',
      );
    }
    const busy = this.busyDeployment(ep);
    if (busy) {
      throw conflict(
        `Conflict: an operation is already in progress on deployment '${busy.name}' of online endpoint '${ep.name}' ` +
          `(provisioning state ${busy.state}). Wait for it to finish, then retry.`,
      );
    }
  }

  private nameTakenInRegion(region: string, name: string, ws: WorkspaceRecord): boolean {
    if (this.reservedNames.get(region)?.has(lower(name))) return true;
    return [...this.workspaces.values()].some(
      (other) => other !== ws && other.location === region && other.endpoints.has(lower(name)),
    );
  }

  putEndpoint(ws: WorkspaceRecord, name: string, body: unknown, ctx: RequestContext): FakeResponse {
    this.settle();
    checkOnlineName('endpoint', name);
    const spec = readEndpointBody(body);
    const location = normalizeLocation(spec.location);
    if (location !== ws.location) {
      throw userError(
        `The location '${spec.location}' of online endpoint '${name}' does not match the location '${ws.location}' of workspace '${ws.name}'.`,
      );
    }
    const existing = ws.endpoints.get(lower(name));
    if (existing) {
      this.assertEndpointIdle(existing);
    } else if (this.nameTakenInRegion(location, name, ws)) {
      throw userError('There is already an endpoint with this name, Endpoint name needs to be unique within a region. Try some other name.');
    }

    for (const dep of Object.keys(spec.traffic)) {
      const d = existing?.deployments.get(lower(dep));
      if (!d || d.state === 'Deleting') {
        throw userError(
          `Traffic rules reference deployment '${dep}', which does not exist under online endpoint '${name}'. ` +
            'Create the deployment before routing traffic to it.',
        );
      }
    }
    const total = Object.values(spec.traffic).reduce((a, b) => a + b, 0);
    if (total !== 0 && total !== 100) {
      throw userError(`Total traffic has to either be 0 or sum up to 100; got ${total}.`);
    }
    if (existing) {
      for (const [k, v] of Object.entries(existing.properties)) {
        if (k in spec.properties && spec.properties[k] !== v) {
          throw userError(`Property '${k}' of online endpoint '${name}' cannot be altered: properties can be added, but not removed or altered.`);
        }
      }
    }
    const fault = this.takeFault('endpoint', name);
    const now = Date.now();
    const serverKeys = ['azureml.onlineendpointid', 'AzureAsyncOperationUri'];
    const userProps = Object.fromEntries(Object.entries(spec.properties).filter(([k]) => !serverKeys.includes(k)));
    const identity = spec.identity ?? existing?.identity ?? { type: 'SystemAssigned' as const };
    const ep: EndpointRecord = existing ?? {
      name,
      workspace: ws,
      location,
      tags: {},
      identity,
      kind: 'Managed',
      authMode: spec.authMode,
      publicNetworkAccess: spec.publicNetworkAccess,
      properties: {},
      traffic: {},
      liveTraffic: {},
      state: 'Creating',
      keys: { primaryKey: spec.keys?.primaryKey ?? newKey(), secondaryKey: spec.keys?.secondaryKey ?? newKey() },
      tokens: new Map(),
      deployments: new Map(),
      systemData: sysData(now),
    };
    const previousTraffic = { ...ep.traffic };
    ep.tags = spec.tags;
    ep.identity = identity.type.includes('SystemAssigned')
      ? { ...identity, principalId: randomUUIDFrom(name, 'p'), tenantId: this.options.tenantId }
      : identity;
    if (spec.kind !== undefined) ep.kind = spec.kind;
    if (spec.sku) ep.sku = spec.sku;
    ep.authMode = spec.authMode;
    if (spec.description !== undefined) ep.description = spec.description;
    else delete ep.description;
    ep.publicNetworkAccess = spec.publicNetworkAccess;
    ep.properties = { ...ep.properties, ...userProps };
    // Keys may be set explicitly on create or update; otherwise they are kept.
    if (spec.keys?.primaryKey) ep.keys.primaryKey = spec.keys.primaryKey;
    if (spec.keys?.secondaryKey) ep.keys.secondaryKey = spec.keys.secondaryKey;
    ep.traffic = Object.fromEntries(
      Object.entries(spec.traffic).map(([k, v]) => [ep.deployments.get(lower(k))?.name ?? k, v]),
    );
    ep.state = existing ? 'Updating' : 'Creating';
    touch(ep.systemData, now);
    if (!existing) ws.endpoints.set(lower(name), ep);

    const op = this.startOp({
      ctx,
      kind: 'endpoint',
      prefix: 'oe',
      location,
      target: this.endpointArmId(ep),
      ...(fault ? { fault } : {}),
      finish: (ok) => {
        if (ok) {
          ep.state = 'Succeeded';
          ep.liveTraffic = { ...ep.traffic };
        } else {
          ep.state = 'Failed';
          // The traffic change did not take effect.
          ep.traffic = previousTraffic;
        }
      },
    });
    ep.lastOperationUri = this.operationStatusUrl(op, ctx);
    return {
      status: existing ? 200 : 201,
      body: this.endpointJson(ep, ctx),
      headers: this.lroHeaders(op, ctx, { async: true, location: true }),
    };
  }

  patchEndpoint(ws: WorkspaceRecord, name: string, body: unknown, ctx: RequestContext): FakeResponse {
    const ep = this.getEndpoint(ws, name);
    const patch = readEndpointPatch(body);
    this.assertEndpointIdle(ep);
    const fault = this.takeFault('endpointUpdate', name);
    const before = ep.state;
    ep.state = 'Updating';
    if (patch.tags) ep.tags = patch.tags;
    if (patch.identity) ep.identity = patch.identity;
    touch(ep.systemData, Date.now());
    const op = this.startOp({
      ctx,
      kind: 'endpointUpdate',
      prefix: 'oe',
      location: ep.location,
      target: this.endpointArmId(ep),
      ...(fault ? { fault } : {}),
      finish: (ok) => {
        ep.state = ok ? (before === 'Failed' ? 'Failed' : 'Succeeded') : 'Failed';
      },
      result: () => this.endpointJson(ep, ctx),
    });
    return { status: 202, headers: this.lroHeaders(op, ctx, { async: false, location: true }) };
  }

  deleteEndpoint(ws: WorkspaceRecord, name: string, ctx: RequestContext): FakeResponse {
    this.settle();
    const ep = ws.endpoints.get(lower(name));
    if (!ep) return { status: 204 };
    if (ep.state === 'Deleting') {
      const running = [...this.operations.values()].find(
        (o) => o.status === 'InProgress' && o.kind === 'endpointDelete' && o.target === this.endpointArmId(ep),
      );
      if (running) return { status: 202, headers: this.lroHeaders(running, ctx, { async: true, location: true }) };
    }
    this.assertEndpointIdle(ep);
    const fault = this.takeFault('endpointDelete', name);
    const before = new Map([...ep.deployments.values()].map((d) => [d, d.state]));
    ep.state = 'Deleting';
    for (const d of ep.deployments.values()) d.state = 'Deleting';
    const op = this.startOp({
      ctx,
      kind: 'endpointDelete',
      prefix: 'oe',
      location: ep.location,
      target: this.endpointArmId(ep),
      ...(fault ? { fault } : {}),
      finish: (ok) => {
        if (ok) {
          // Deleting an endpoint deletes all its deployments (docs: "By deleting the endpoint, you'll also delete all its underlying deployments").
          ws.endpoints.delete(lower(name));
          return;
        }
        ep.state = 'Failed';
        for (const [d, s] of before) d.state = s;
      },
    });
    return { status: 202, headers: this.lroHeaders(op, ctx, { async: true, location: true }) };
  }

  listKeys(ws: WorkspaceRecord, name: string): FakeResponse {
    const ep = this.getEndpoint(ws, name);
    if (ep.authMode !== 'Key') {
      throw userError(`Online endpoint '${name}' uses auth mode '${ep.authMode}'; keys exist only for auth mode 'Key'.`);
    }
    return { status: 200, body: { ...ep.keys } };
  }

  regenerateKeys(ws: WorkspaceRecord, name: string, body: unknown, ctx: RequestContext): FakeResponse {
    const ep = this.getEndpoint(ws, name);
    const req = readRegenerateKeys(body);
    if (ep.authMode !== 'Key') {
      throw userError(`Online endpoint '${name}' uses auth mode '${ep.authMode}'; keys can be regenerated only for auth mode 'Key'.`);
    }
    this.assertEndpointIdle(ep);
    const fault = this.takeFault('regenerateKeys', name);
    const before = ep.state;
    ep.state = 'Updating';
    const op = this.startOp({
      ctx,
      kind: 'regenerateKeys',
      prefix: 'oe',
      location: ep.location,
      target: this.endpointArmId(ep),
      ...(fault ? { fault } : {}),
      finish: (ok) => {
        ep.state = ok ? before : 'Failed';
        if (!ok) return;
        const value = req.keyValue ?? newKey();
        if (req.keyType === 'Primary') ep.keys.primaryKey = value;
        else ep.keys.secondaryKey = value;
      },
    });
    return { status: 202, headers: this.lroHeaders(op, ctx, { async: false, location: true }) };
  }

  getToken(ws: WorkspaceRecord, name: string): FakeResponse {
    const ep = this.getEndpoint(ws, name);
    if (ep.authMode !== 'AMLToken') {
      throw userError(`Online endpoint '${name}' uses auth mode '${ep.authMode}'; tokens are issued only for auth mode 'AMLToken'.`);
    }
    const now = Math.floor(Date.now() / 1000);
    const token = `amltoken.${randomBytes(24).toString('base64url')}`;
    ep.tokens.set(token, now + 3600);
    return {
      status: 200,
      body: { accessToken: token, expiryTimeUtc: now + 3600, refreshAfterTimeUtc: now + 1800, tokenType: 'Bearer' },
    };
  }

  /* ------------------------------------------------------------------------------------- deployments */

  getDeployment(ws: WorkspaceRecord, endpoint: string, name: string): DeploymentRecord {
    const ep = this.getEndpoint(ws, endpoint);
    const dep = ep.deployments.get(lower(name));
    if (!dep) throw notFound(`Deployment '${name}' of online endpoint '${endpoint}'`);
    return dep;
  }

  async putDeployment(
    ws: WorkspaceRecord,
    endpoint: string,
    name: string,
    body: unknown,
    ctx: RequestContext,
  ): Promise<FakeResponse> {
    this.settle();
    checkOnlineName('deployment', name);
    const spec = readDeploymentBody(body);
    const ep = ws.endpoints.get(lower(endpoint));
    if (!ep) throw notFound(`Online endpoint '${endpoint}'`);
    if (normalizeLocation(spec.location) !== ep.location) {
      throw userError(
        `The location '${spec.location}' of deployment '${name}' does not match the location '${ep.location}' of online endpoint '${ep.name}'.`,
      );
    }
    if (ep.state !== 'Succeeded') {
      throw conflict(`Cannot create a deployment in endpoint ${ep.name} because it is in ${ep.state} provisioning state.`);
    }
    const existing = ep.deployments.get(lower(name));
    if (existing && isBusy(existing.state)) {
      throw conflict(
        `Conflict: an operation is already in progress on deployment '${existing.name}' (provisioning state ${existing.state}). Wait for it to finish, then retry.`,
      );
    }
    if (!existing && ep.deployments.size >= MAX_DEPLOYMENTS_PER_ENDPOINT) {
      throw userError(`Online endpoint '${ep.name}' already has ${MAX_DEPLOYMENTS_PER_ENDPOINT} deployments, the maximum per endpoint.`);
    }

    const p = spec.properties;
    const model = p.model !== undefined ? this.resolveAssetRef(ws, 'models', 'properties.model', p.model) : undefined;
    const env = p.environmentId !== undefined ? this.resolveAssetRef(ws, 'environments', 'properties.environmentId', p.environmentId) : undefined;
    if (p.codeConfiguration?.codeId !== undefined) this.resolveAssetRef(ws, 'codes', 'properties.codeConfiguration.codeId', p.codeConfiguration.codeId);
    const isMlflow = model !== undefined && model !== 'registry' && model.properties['modelType'] === 'mlflow_model';
    if (env === undefined && !isMlflow) {
      throw userError(
        "Required property 'environmentId' not found: an environment is required unless the model is an MLflow model (no-code deployment).",
      );
    }
    if (isMlflow && env === undefined && p.codeConfiguration) {
      throw userError('A no-code MLflow deployment takes neither codeConfiguration nor a missing environment; give both or neither.');
    }

    const fault = this.takeFault('deployment', name);
    let error: { code: string; message: string } | undefined;
    if (!fault && model !== undefined && model !== 'registry' && this.options.blobPrefixExists) {
      const uri = String(model.properties['modelUri']);
      const loc = this.resolveAssetUri(ws, uri);
      if (loc && !(await this.options.blobPrefixExists(loc.datastore, loc.path))) {
        error = {
          code: 'BadArgument',
          message: `Unable to download user model: nothing found at ${uri}. See https://aka.ms/oe-tsg#error-badargument`,
        };
      }
    }

    const now = Date.now();
    const dep: DeploymentRecord = existing ?? {
      name,
      endpoint: ep,
      location: ep.location,
      tags: {},
      kind: 'Managed',
      sku: spec.sku,
      properties: p,
      state: 'Creating',
      serving: false,
      logs: {},
      systemData: sysData(now),
    };
    dep.tags = spec.tags;
    if (fault?.logs) dep.logs = { ...dep.logs, ...fault.logs };
    if (spec.identity) dep.identity = spec.identity;
    if (spec.kind !== undefined) dep.kind = spec.kind;
    dep.sku = spec.sku;
    dep.properties = { ...p, properties: { ...(existing?.properties.properties ?? {}), ...p.properties } };
    dep.state = existing ? 'Updating' : 'Creating';
    touch(dep.systemData, now);
    if (!existing) ep.deployments.set(lower(name), dep);

    const op = this.startOp({
      ctx,
      kind: 'deployment',
      prefix: 'od',
      location: ep.location,
      target: `${this.endpointArmId(ep)}/deployments/${dep.name}`,
      ...(fault ? { fault } : {}),
      ...(error ? { error } : {}),
      finish: (ok) => {
        dep.state = ok ? 'Succeeded' : 'Failed';
        if (ok) dep.serving = true;
      },
    });
    dep.lastOperationUri = this.operationStatusUrl(op, ctx);
    return {
      status: existing ? 200 : 201,
      body: this.deploymentJson(dep),
      headers: this.lroHeaders(op, ctx, { async: true, location: true }),
    };
  }

  patchDeployment(ws: WorkspaceRecord, endpoint: string, name: string, body: unknown, ctx: RequestContext): FakeResponse {
    const dep = this.getDeployment(ws, endpoint, name);
    const patch = readDeploymentPatch(body);
    const ep = dep.endpoint;
    if (isBusy(ep.state) || isBusy(dep.state)) this.assertEndpointIdle(ep);
    const fault = this.takeFault('deploymentUpdate', name);
    const scaling = patch.sku?.capacity !== undefined && patch.sku.capacity !== dep.sku.capacity;
    const before = dep.state;
    dep.state = scaling ? 'Scaling' : 'Updating';
    if (patch.tags) dep.tags = patch.tags;
    if (patch.sku) dep.sku = { ...dep.sku, ...patch.sku } as SkuSpec & { capacity: number };
    touch(dep.systemData, Date.now());
    const op = this.startOp({
      ctx,
      kind: 'deploymentUpdate',
      prefix: 'od',
      location: ep.location,
      target: `${this.endpointArmId(ep)}/deployments/${dep.name}`,
      ...(fault ? { fault } : {}),
      finish: (ok) => {
        dep.state = ok ? (before === 'Failed' ? 'Failed' : 'Succeeded') : 'Failed';
      },
      result: () => this.deploymentJson(dep),
    });
    return { status: 202, headers: this.lroHeaders(op, ctx, { async: false, location: true }) };
  }

  deleteDeployment(ws: WorkspaceRecord, endpoint: string, name: string, ctx: RequestContext): FakeResponse {
    const ep = this.getEndpoint(ws, endpoint);
    const dep = ep.deployments.get(lower(name));
    if (!dep) return { status: 204 };
    const target = `${this.endpointArmId(ep)}/deployments/${dep.name}`;
    if (dep.state === 'Deleting') {
      const running = [...this.operations.values()].find(
        (o) => o.status === 'InProgress' && (o.target === target || o.target === this.endpointArmId(ep)),
      );
      if (running) return { status: 202, headers: this.lroHeaders(running, ctx, { async: true, location: true }) };
    }
    const traffic = Object.entries(ep.traffic).find(([k]) => lower(k) === lower(dep.name))?.[1] ?? 0;
    if (traffic > 0) {
      throw userError(
        `Deployment '${dep.name}' has ${traffic}% of the traffic of online endpoint '${ep.name}' and cannot be deleted. ` +
          'Set its traffic to 0 before deleting it.',
      );
    }
    if (isBusy(ep.state)) this.assertEndpointIdle(ep);
    if (isBusy(dep.state)) {
      throw conflict(`Conflict: an operation is already in progress on deployment '${dep.name}' (provisioning state ${dep.state}).`);
    }
    const fault = this.takeFault('deploymentDelete', name);
    const before = dep.state;
    dep.state = 'Deleting';
    const op = this.startOp({
      ctx,
      kind: 'deploymentDelete',
      prefix: 'od',
      location: ep.location,
      target,
      ...(fault ? { fault } : {}),
      finish: (ok) => {
        if (!ok) {
          dep.state = before === 'Succeeded' ? 'Failed' : before;
          return;
        }
        ep.deployments.delete(lower(dep.name));
        for (const map of [ep.traffic, ep.liveTraffic]) {
          for (const k of Object.keys(map)) if (lower(k) === lower(dep.name)) delete map[k];
        }
      },
    });
    return { status: 202, headers: this.lroHeaders(op, ctx, { async: true, location: true }) };
  }

  getLogs(ws: WorkspaceRecord, endpoint: string, name: string, body: unknown): FakeResponse {
    const dep = this.getDeployment(ws, endpoint, name);
    const req = readGetLogs(body);
    const content = dep.logs[req.containerType] ?? defaultLogs(dep, req.containerType);
    const lines = content.split('\n');
    const tail = req.tail ?? lines.length;
    return { status: 200, body: { content: lines.slice(Math.max(0, lines.length - tail)).join('\n') } };
  }

  listSkus(ws: WorkspaceRecord, endpoint: string, name: string): FakeResponse {
    this.getDeployment(ws, endpoint, name);
    return {
      status: 200,
      body: {
        value: [
          {
            resourceType: `${PROVIDER}/workspaces/onlineEndpoints/deployments`,
            sku: { name: 'Default', tier: 'Standard' },
            capacity: { minimum: 1, maximum: 50, default: 1, scaleType: 'Automatic' },
          },
        ],
      },
    };
  }
}

function defaultLogs(dep: DeploymentRecord, container: 'StorageInitializer' | 'InferenceServer'): string {
  if (container === 'StorageInitializer') {
    return [
      'Downloading model and code artifacts',
      `model: ${dep.properties.model ?? '(none)'}`,
      dep.state === 'Failed' ? 'Download failed' : 'Download complete',
    ].join('\n');
  }
  if (!dep.serving) return 'The container is not running yet. Try again later.';
  return [
    'Azure ML Inferencing HTTP server (fake)',
    `Deployment: ${dep.name}`,
    'Initializing logger',
    'Scoring script initialized',
    'Listening at: http://0.0.0.0:5001',
  ].join('\n');
}

/** Stable pseudo-GUID derived from a seed (principal ids that do not change between GETs). */
function randomUUIDFrom(seed: string, salt: string): string {
  let h = 2166136261;
  for (const ch of `${salt}:${seed}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  const hex = (h.toString(16).padStart(8, '0') + 'a1b2c3d4e5f60718293a4b5c').slice(0, 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
