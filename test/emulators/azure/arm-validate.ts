import { userError } from './arm-errors.js';
import { findManagedSku } from './skus.js';

/*
 * Request-body validation for the fake MFE. The real service deserialises with JSON.NET and rejects what
 * does not fit its contract with 400; the messages below imitate JSON.NET's wording (member not found,
 * required property not found, conversion error). The exact texts are the fake's, see README.md.
 */

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function joinPath(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** Reads one JSON object against a contract, throwing the first violation as a 400 UserError. */
export class BodyReader {
  private constructor(
    readonly typeName: string,
    readonly obj: Json,
    readonly path: string,
  ) {}

  static root(body: unknown, typeName: string): BodyReader {
    if (!isObject(body)) throw userError(`The request body must be a JSON object of type '${typeName}'.`);
    return new BodyReader(typeName, body, '');
  }

  /** Unknown members are an error; `ignored` are read-only members a client may echo back from a GET. */
  allowOnly(allowed: readonly string[], ignored: readonly string[] = []): this {
    for (const key of Object.keys(this.obj)) {
      if (allowed.includes(key) || ignored.includes(key)) continue;
      throw userError(
        `Could not find member '${key}' on object of type '${this.typeName}'. Path '${joinPath(this.path, key)}'.`,
      );
    }
    return this;
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }

  private present(key: string, required: boolean): unknown {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (required) throw userError(`Required property '${key}' not found in JSON. Path '${this.path}'.`);
      return undefined;
    }
    return v;
  }

  private convError(key: string, v: unknown, type: string): never {
    throw userError(`Error converting value ${JSON.stringify(v)} to type '${type}'. Path '${joinPath(this.path, key)}'.`);
  }

  string(key: string, required: true): string;
  string(key: string, required?: false): string | undefined;
  string(key: string, required = false): string | undefined {
    const v = this.present(key, required);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') this.convError(key, v, 'System.String');
    if (required && v.trim() === '') throw userError(`The value of '${joinPath(this.path, key)}' must not be empty.`);
    return v;
  }

  /** Enum members compare case-insensitively (JSON.NET StringEnumConverter); returns the canonical spelling. */
  enumOf<T extends string>(key: string, values: readonly T[], typeName: string, required: true): T;
  enumOf<T extends string>(key: string, values: readonly T[], typeName: string, required?: false): T | undefined;
  enumOf<T extends string>(key: string, values: readonly T[], typeName: string, required = false): T | undefined {
    const v = this.present(key, required);
    if (v === undefined) return undefined;
    const hit = typeof v === 'string' ? values.find((x) => x.toLowerCase() === v.toLowerCase()) : undefined;
    if (hit === undefined) this.convError(key, v, typeName);
    return hit;
  }

  int(key: string, opts: { required?: boolean; min?: number; max?: number } = {}): number | undefined {
    const v = this.present(key, opts.required ?? false);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) this.convError(key, v, 'System.Int32');
    if (opts.min !== undefined && v < opts.min) {
      throw userError(`The value of '${joinPath(this.path, key)}' must be at least ${opts.min}; got ${v}.`);
    }
    if (opts.max !== undefined && v > opts.max) {
      throw userError(`The value of '${joinPath(this.path, key)}' must be at most ${opts.max}; got ${v}.`);
    }
    return v;
  }

  bool(key: string): boolean | undefined {
    const v = this.present(key, false);
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') this.convError(key, v, 'System.Boolean');
    return v;
  }

  /** A `{string: string}` dictionary (tags, properties, environment variables). Null values are kept (ARM allows them in tags). */
  stringMap(key: string): Record<string, string | null> | undefined {
    const v = this.present(key, false);
    if (v === undefined) return undefined;
    if (!isObject(v)) this.convError(key, v, 'System.Collections.Generic.IDictionary`2[System.String,System.String]');
    for (const [k, val] of Object.entries(v)) {
      if (val !== null && typeof val !== 'string') this.convError(`${key}.${k}`, val, 'System.String');
    }
    return v as Record<string, string | null>;
  }

  object(key: string, typeName: string, required: true): BodyReader;
  object(key: string, typeName: string, required?: false): BodyReader | undefined;
  object(key: string, typeName: string, required = false): BodyReader | undefined {
    const v = this.present(key, required);
    if (v === undefined) return undefined;
    if (!isObject(v)) this.convError(key, v, typeName);
    return new BodyReader(typeName, v, joinPath(this.path, key));
  }

  duration(key: string, opts: { minSeconds?: number; maxSeconds?: number } = {}): string | undefined {
    const v = this.string(key);
    if (v === undefined) return undefined;
    const seconds = parseIsoDuration(v);
    if (seconds === undefined) this.convError(key, v, 'System.TimeSpan');
    if (opts.minSeconds !== undefined && seconds < opts.minSeconds) {
      throw userError(`The value of '${joinPath(this.path, key)}' must be at least ${opts.minSeconds} second(s); got ${v}.`);
    }
    if (opts.maxSeconds !== undefined && seconds > opts.maxSeconds) {
      throw userError(`The value of '${joinPath(this.path, key)}' must be at most ${opts.maxSeconds} second(s); got ${v}.`);
    }
    return v;
  }
}

/** ISO-8601 duration (PnDTnHnMnS, fractional seconds allowed) → seconds; undefined when malformed. */
export function parseIsoDuration(s: string): number | undefined {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(s);
  if (!m || s === 'P' || s.endsWith('T')) return undefined;
  const [, d, h, min, sec] = m;
  return Number(d ?? 0) * 86_400 + Number(h ?? 0) * 3_600 + Number(min ?? 0) * 60 + Number(sec ?? 0);
}

/* ----------------------------------------------------------------------------------------------- names */

/** Online endpoint / deployment names: 3-32 chars, starts with a letter, letters/digits and single dashes, ends alphanumeric. */
const ONLINE_NAME = /^[a-zA-Z](?:[a-zA-Z0-9]|-(?!-)){1,30}[a-zA-Z0-9]$/;
/** Swagger pattern for asset names (models, codes, environments). */
const ASSET_NAME = /^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$/;
const ASSET_VERSION = /^[a-zA-Z0-9][a-zA-Z0-9.\-_]{0,254}$/;

export function checkOnlineName(kind: 'endpoint' | 'deployment', name: string): void {
  if (!ONLINE_NAME.test(name)) {
    throw userError(
      `Invalid ${kind} name '${name}'. The name must begin with a letter, be 3-32 characters long, ` +
        'and contain only letters, numbers and single dashes (-), ending with a letter or number.',
    );
  }
}

export function checkAssetName(name: string, version?: string): void {
  if (!ASSET_NAME.test(name)) {
    throw userError(`Invalid asset name '${name}'. It must match the pattern ^[a-zA-Z0-9][a-zA-Z0-9\\-_]{0,254}$.`);
  }
  if (version !== undefined && !ASSET_VERSION.test(version)) {
    throw userError(`Invalid asset version '${version}'.`);
  }
}

/* ---------------------------------------------------------------------------------------- shared parts */

const TRACKED_READONLY = ['id', 'name', 'type', 'systemData'] as const;
export const IDENTITY_TYPES = ['None', 'SystemAssigned', 'UserAssigned', 'SystemAssigned,UserAssigned'] as const;
export type IdentityType = (typeof IDENTITY_TYPES)[number];

export interface IdentitySpec {
  type: IdentityType;
  userAssignedIdentities?: Record<string, Record<string, never>>;
}

function readIdentity(r: BodyReader | undefined): IdentitySpec | undefined {
  if (!r) return undefined;
  r.allowOnly(['type', 'userAssignedIdentities'], ['principalId', 'tenantId']);
  const type = r.enumOf('type', IDENTITY_TYPES, 'ManagedServiceIdentityType', true);
  const uai = r.object('userAssignedIdentities', 'IDictionary`2[String,UserAssignedIdentity]');
  if (type.includes('UserAssigned') && (!uai || Object.keys(uai.obj).length === 0)) {
    throw userError(`Identity type '${type}' requires at least one entry in 'identity.userAssignedIdentities'.`);
  }
  const ids: Record<string, Record<string, never>> = {};
  for (const id of Object.keys(uai?.obj ?? {})) ids[id] = {};
  return { type, ...(uai ? { userAssignedIdentities: ids } : {}) };
}

export interface SkuSpec {
  name: string;
  tier?: string;
  size?: string;
  family?: string;
  capacity?: number;
}

const SKU_TIERS = ['Free', 'Basic', 'Standard', 'Premium'] as const;

function readSku(r: BodyReader | undefined, partial: boolean): SkuSpec | Partial<SkuSpec> | undefined {
  if (!r) return undefined;
  r.allowOnly(['name', 'tier', 'size', 'family', 'capacity']);
  const name = partial ? r.string('name') : r.string('name', true);
  const tier = r.enumOf('tier', SKU_TIERS, 'SkuTier');
  const size = r.string('size');
  const family = r.string('family');
  const capacity = r.int('capacity');
  return {
    ...(name !== undefined ? { name } : {}),
    ...(tier !== undefined ? { tier } : {}),
    ...(size !== undefined ? { size } : {}),
    ...(family !== undefined ? { family } : {}),
    ...(capacity !== undefined ? { capacity } : {}),
  };
}

/** ARM tags: ≤ 50 per resource, keys ≤ 512 chars, values ≤ 256 chars, no <>%&\?/ in keys. */
function readTags(r: BodyReader): Record<string, string> | undefined {
  const tags = r.stringMap('tags');
  if (!tags) return undefined;
  const entries = Object.entries(tags);
  if (entries.length > 50) throw userError(`A resource can have at most 50 tags; got ${entries.length}.`);
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (k.length > 512 || /[<>%&\\?/]/.test(k)) throw userError(`The tag name '${k}' is invalid.`);
    if ((v ?? '').length > 256) throw userError(`The value of tag '${k}' is longer than 256 characters.`);
    out[k] = v ?? '';
  }
  return out;
}

/* -------------------------------------------------------------------------------------------- endpoint */

export const AUTH_MODES = ['Key', 'AMLToken', 'AADToken'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

export interface EndpointSpec {
  location: string;
  tags: Record<string, string>;
  identity?: IdentitySpec;
  kind?: string;
  sku?: SkuSpec;
  authMode: AuthMode;
  description?: string;
  publicNetworkAccess: 'Enabled' | 'Disabled';
  properties: Record<string, string | null>;
  traffic: Record<string, number>;
  keys?: { primaryKey?: string; secondaryKey?: string };
}

/** OnlineEndpoint (TrackedResource) body of a PUT. */
export function readEndpointBody(body: unknown): EndpointSpec {
  const r = BodyReader.root(body, 'OnlineEndpoint');
  r.allowOnly(['location', 'tags', 'identity', 'kind', 'properties', 'sku'], TRACKED_READONLY);
  const location = r.string('location', true);
  const tags = readTags(r) ?? {};
  const identity = readIdentity(r.object('identity', 'ManagedServiceIdentity'));
  const kind = r.string('kind');
  const sku = readSku(r.object('sku', 'Sku'), false) as SkuSpec | undefined;
  const p = r.object('properties', 'OnlineEndpointProperties', true);
  p.allowOnly(
    ['authMode', 'description', 'keys', 'properties', 'compute', 'publicNetworkAccess', 'traffic'],
    ['provisioningState', 'scoringUri', 'swaggerUri'],
  );
  const authMode = p.enumOf('authMode', AUTH_MODES, 'EndpointAuthMode', true);
  const description = p.string('description');
  if (p.has('compute')) {
    throw userError(
      "Property 'properties.compute' is only valid for Kubernetes online endpoints; managed online endpoints take no compute.",
    );
  }
  const publicNetworkAccess = p.enumOf('publicNetworkAccess', ['Enabled', 'Disabled'] as const, 'PublicNetworkAccessType');
  const properties = p.stringMap('properties') ?? {};
  const keysR = p.object('keys', 'EndpointAuthKeys');
  let keys: EndpointSpec['keys'];
  if (keysR) {
    keysR.allowOnly(['primaryKey', 'secondaryKey']);
    const primaryKey = keysR.string('primaryKey');
    const secondaryKey = keysR.string('secondaryKey');
    keys = { ...(primaryKey ? { primaryKey } : {}), ...(secondaryKey ? { secondaryKey } : {}) };
  }
  const trafficR = p.object('traffic', 'IDictionary`2[String,Int32]');
  const traffic: Record<string, number> = {};
  for (const dep of Object.keys(trafficR?.obj ?? {})) {
    const v = trafficR?.int(dep, { required: true });
    if (v === undefined) continue;
    if (v < 0 || v > 100) {
      throw userError(`Traffic value for deployment '${dep}' must be between 0 and 100; got ${v}.`);
    }
    traffic[dep] = v;
  }
  return {
    location,
    tags,
    ...(identity ? { identity } : {}),
    ...(kind !== undefined ? { kind } : {}),
    ...(sku ? { sku } : {}),
    authMode,
    ...(description !== undefined ? { description } : {}),
    publicNetworkAccess: publicNetworkAccess ?? 'Enabled',
    properties,
    traffic,
    ...(keys ? { keys } : {}),
  };
}

/** PartialMinimalTrackedResourceWithIdentity: PATCH body for an endpoint (tags and identity only). */
export function readEndpointPatch(body: unknown): { tags?: Record<string, string>; identity?: IdentitySpec } {
  const r = BodyReader.root(body, 'PartialMinimalTrackedResourceWithIdentity');
  r.allowOnly(['tags', 'identity']);
  const tags = readTags(r);
  const identity = readIdentity(r.object('identity', 'PartialManagedServiceIdentity'));
  return { ...(tags ? { tags } : {}), ...(identity ? { identity } : {}) };
}

/* ------------------------------------------------------------------------------------------ deployment */

export interface ProbeSpec {
  failureThreshold: number;
  successThreshold: number;
  timeout: string;
  period: string;
  initialDelay: string;
}

const PROBE_DEFAULTS: ProbeSpec = {
  failureThreshold: 30,
  successThreshold: 1,
  timeout: 'PT2S',
  period: 'PT10S',
  initialDelay: 'PT10S',
};

function readProbe(r: BodyReader | undefined, liveness: boolean): ProbeSpec {
  if (!r) return { ...PROBE_DEFAULTS };
  r.allowOnly(['failureThreshold', 'successThreshold', 'timeout', 'period', 'initialDelay']);
  const failureThreshold = r.int('failureThreshold', { min: 1 }) ?? PROBE_DEFAULTS.failureThreshold;
  const successThreshold = r.int('successThreshold', { min: 1 }) ?? PROBE_DEFAULTS.successThreshold;
  if (liveness && successThreshold !== 1) {
    throw userError(`'${r.path}.successThreshold' must be 1 for a liveness probe; got ${successThreshold}.`);
  }
  return {
    failureThreshold,
    successThreshold,
    timeout: r.duration('timeout', { minSeconds: 1 }) ?? PROBE_DEFAULTS.timeout,
    period: r.duration('period', { minSeconds: 1 }) ?? PROBE_DEFAULTS.period,
    initialDelay: r.duration('initialDelay', { minSeconds: 1 }) ?? PROBE_DEFAULTS.initialDelay,
  };
}

export interface RequestSettingsSpec {
  maxConcurrentRequestsPerInstance: number;
  maxQueueWait: string;
  requestTimeout: string;
}

export interface DeploymentProperties {
  endpointComputeType: 'Managed';
  description?: string;
  properties: Record<string, string | null>;
  environmentId?: string;
  environmentVariables: Record<string, string | null>;
  codeConfiguration?: { codeId?: string; scoringScript: string };
  model?: string;
  modelMountPath?: string;
  instanceType: string;
  appInsightsEnabled: boolean;
  egressPublicNetworkAccess: 'Enabled' | 'Disabled';
  livenessProbe: ProbeSpec;
  readinessProbe: ProbeSpec;
  requestSettings: RequestSettingsSpec;
  scaleSettings: { scaleType: 'Default' };
}

export interface DeploymentSpec {
  location: string;
  tags: Record<string, string>;
  identity?: IdentitySpec;
  kind?: string;
  sku: SkuSpec & { capacity: number };
  properties: DeploymentProperties;
}

/** Quota doc: 50 instances per deployment. */
export const MAX_INSTANCES_PER_DEPLOYMENT = 50;

/** OnlineDeployment body of a PUT, managed compute only. Cross-resource checks (model, code, environment) live in the state. */
export function readDeploymentBody(body: unknown): DeploymentSpec {
  const r = BodyReader.root(body, 'OnlineDeployment');
  r.allowOnly(['location', 'tags', 'identity', 'kind', 'properties', 'sku'], TRACKED_READONLY);
  const location = r.string('location', true);
  const tags = readTags(r) ?? {};
  const identity = readIdentity(r.object('identity', 'ManagedServiceIdentity'));
  const kind = r.string('kind');
  const p = r.object('properties', 'OnlineDeploymentProperties', true);
  const computeType = p.enumOf('endpointComputeType', ['Managed', 'Kubernetes', 'AzureMLCompute'] as const, 'EndpointComputeType', true);
  if (computeType !== 'Managed') {
    throw userError(
      `endpointComputeType '${computeType}' cannot be deployed to a managed online endpoint; use 'Managed'.`,
    );
  }
  p.allowOnly(
    [
      'endpointComputeType', 'codeConfiguration', 'description', 'environmentId', 'environmentVariables', 'properties',
      'appInsightsEnabled', 'egressPublicNetworkAccess', 'instanceType', 'livenessProbe', 'model', 'modelMountPath',
      'readinessProbe', 'requestSettings', 'scaleSettings',
    ],
    ['provisioningState'],
  );
  const instanceType = p.string('instanceType', true);
  if (!findManagedSku(instanceType)) {
    throw userError(
      `The instance type '${instanceType}' is not supported for managed online deployments. ` +
        'See https://learn.microsoft.com/azure/machine-learning/reference-managed-online-endpoints-vm-sku-list',
    );
  }

  const skuR = r.object('sku', 'Sku', true);
  const sku = readSku(skuR, false) as SkuSpec;
  if (sku.capacity === undefined) throw userError(`Required property 'capacity' not found in JSON. Path 'sku'.`);
  if (sku.capacity < 1 || sku.capacity > MAX_INSTANCES_PER_DEPLOYMENT) {
    throw userError(
      `sku.capacity (instance count) must be between 1 and ${MAX_INSTANCES_PER_DEPLOYMENT} for a managed online deployment; got ${sku.capacity}.`,
    );
  }

  const codeR = p.object('codeConfiguration', 'CodeConfiguration');
  let codeConfiguration: DeploymentProperties['codeConfiguration'];
  if (codeR) {
    codeR.allowOnly(['codeId', 'scoringScript']);
    const codeId = codeR.string('codeId');
    const scoringScript = codeR.string('scoringScript', true);
    if (!/[a-zA-Z0-9_]/.test(scoringScript)) {
      throw userError(`'properties.codeConfiguration.scoringScript' must match the pattern [a-zA-Z0-9_].`);
    }
    codeConfiguration = { ...(codeId !== undefined ? { codeId } : {}), scoringScript };
  }

  const rsR = p.object('requestSettings', 'OnlineRequestSettings');
  rsR?.allowOnly(['maxConcurrentRequestsPerInstance', 'maxQueueWait', 'requestTimeout']);
  const requestSettings: RequestSettingsSpec = {
    maxConcurrentRequestsPerInstance: rsR?.int('maxConcurrentRequestsPerInstance', { min: 1 }) ?? 1,
    maxQueueWait: rsR?.duration('maxQueueWait', { minSeconds: 0 }) ?? 'PT0.5S',
    // Quota doc: request_timeout_ms max 180000.
    requestTimeout: rsR?.duration('requestTimeout', { minSeconds: 0.001, maxSeconds: 180 }) ?? 'PT5S',
  };

  const scaleR = p.object('scaleSettings', 'OnlineScaleSettings');
  if (scaleR) {
    const scaleType = scaleR.enumOf('scaleType', ['Default', 'TargetUtilization'] as const, 'ScaleType', true);
    if (scaleType !== 'Default') {
      throw userError(`Scale type '${scaleType}' is not supported for managed online deployments; only 'Default' is.`);
    }
    scaleR.allowOnly(['scaleType']);
  }

  const description = p.string('description');
  const environmentId = p.string('environmentId');
  const model = p.string('model');
  const modelMountPath = p.string('modelMountPath');
  const properties: DeploymentProperties = {
    endpointComputeType: 'Managed',
    ...(description !== undefined ? { description } : {}),
    properties: p.stringMap('properties') ?? {},
    ...(environmentId !== undefined ? { environmentId } : {}),
    environmentVariables: p.stringMap('environmentVariables') ?? {},
    ...(codeConfiguration ? { codeConfiguration } : {}),
    ...(model !== undefined ? { model } : {}),
    ...(modelMountPath !== undefined ? { modelMountPath } : {}),
    instanceType,
    appInsightsEnabled: p.bool('appInsightsEnabled') ?? false,
    egressPublicNetworkAccess:
      p.enumOf('egressPublicNetworkAccess', ['Enabled', 'Disabled'] as const, 'EgressPublicNetworkAccessType') ?? 'Enabled',
    livenessProbe: readProbe(p.object('livenessProbe', 'ProbeSettings'), true),
    readinessProbe: readProbe(p.object('readinessProbe', 'ProbeSettings'), false),
    requestSettings,
    scaleSettings: { scaleType: 'Default' },
  };
  return {
    location,
    tags,
    ...(identity ? { identity } : {}),
    ...(kind !== undefined ? { kind } : {}),
    sku: { ...sku, capacity: sku.capacity },
    properties,
  };
}

/** PartialMinimalTrackedResourceWithSku: PATCH body for a deployment (tags and sku only). */
export function readDeploymentPatch(body: unknown): { tags?: Record<string, string>; sku?: Partial<SkuSpec> } {
  const r = BodyReader.root(body, 'PartialMinimalTrackedResourceWithSku');
  r.allowOnly(['tags', 'sku']);
  const tags = readTags(r);
  const sku = readSku(r.object('sku', 'PartialSku'), true);
  if (sku?.capacity !== undefined && (sku.capacity < 1 || sku.capacity > MAX_INSTANCES_PER_DEPLOYMENT)) {
    throw userError(
      `sku.capacity (instance count) must be between 1 and ${MAX_INSTANCES_PER_DEPLOYMENT} for a managed online deployment; got ${sku.capacity}.`,
    );
  }
  return { ...(tags ? { tags } : {}), ...(sku ? { sku } : {}) };
}

/* ---------------------------------------------------------------------------------------------- assets */

export type AssetKind = 'models' | 'codes' | 'environments';

export interface AssetContainerSpec {
  description?: string;
  tags: Record<string, string | null>;
  properties: Record<string, string | null>;
  isArchived: boolean;
}

/** {properties: AssetContainer} (ModelContainer, CodeContainer, EnvironmentContainer). */
export function readAssetContainerBody(kind: AssetKind, body: unknown): AssetContainerSpec {
  const typeName = `${kindTypeName(kind)}Container`;
  const r = BodyReader.root(body, typeName);
  r.allowOnly(['properties'], ['id', 'name', 'type', 'systemData']);
  const p = r.object('properties', `${typeName}Properties`, true);
  p.allowOnly(['description', 'tags', 'properties', 'isArchived'], ['latestVersion', 'nextVersion']);
  const description = p.string('description');
  return {
    ...(description !== undefined ? { description } : {}),
    tags: p.stringMap('tags') ?? {},
    properties: p.stringMap('properties') ?? {},
    isArchived: p.bool('isArchived') ?? false,
  };
}

export const MODEL_TYPES = ['custom_model', 'mlflow_model', 'triton_model'] as const;

/** {properties: ModelVersionProperties | CodeVersionProperties | EnvironmentVersionProperties}; returns the stored properties. */
export function readAssetVersionBody(kind: AssetKind, body: unknown): Record<string, unknown> {
  const typeName = `${kindTypeName(kind)}Version`;
  const r = BodyReader.root(body, typeName);
  r.allowOnly(['properties'], ['id', 'name', 'type', 'systemData']);
  const p = r.object('properties', `${typeName}Properties`, true);
  const common = ['description', 'tags', 'properties', 'isAnonymous', 'isArchived'];
  const description = p.string('description');
  const base: Record<string, unknown> = {
    ...(description !== undefined ? { description } : {}),
    tags: p.stringMap('tags') ?? {},
    properties: p.stringMap('properties') ?? {},
    isAnonymous: p.bool('isAnonymous') ?? false,
    isArchived: p.bool('isArchived') ?? false,
  };
  if (kind === 'models') {
    p.allowOnly([...common, 'flavors', 'jobName', 'modelType', 'modelUri']);
    const modelUri = p.string('modelUri', true);
    const modelType = p.enumOf('modelType', MODEL_TYPES, 'ModelType') ?? 'custom_model';
    const flavors = p.object('flavors', 'IDictionary`2[String,FlavorData]');
    const jobName = p.string('jobName');
    return { ...base, modelUri, modelType, ...(flavors ? { flavors: flavors.obj } : {}), ...(jobName ? { jobName } : {}) };
  }
  if (kind === 'codes') {
    p.allowOnly([...common, 'codeUri']);
    return { ...base, codeUri: p.string('codeUri', true) };
  }
  p.allowOnly([...common, 'autoRebuild', 'build', 'condaFile', 'image', 'inferenceConfig', 'osType'], ['environmentType']);
  const image = p.string('image');
  const buildR = p.object('build', 'BuildContext');
  if (image === undefined && !buildR) {
    throw userError("An environment version needs either 'properties.image' or 'properties.build'.");
  }
  if (image !== undefined && buildR) {
    throw userError("'properties.image' and 'properties.build' cannot both be set on an environment version.");
  }
  let build: Record<string, unknown> | undefined;
  if (buildR) {
    buildR.allowOnly(['contextUri', 'dockerfilePath']);
    build = { contextUri: buildR.string('contextUri', true), dockerfilePath: buildR.string('dockerfilePath') ?? 'Dockerfile' };
  }
  const infR = p.object('inferenceConfig', 'InferenceContainerProperties');
  let inferenceConfig: Record<string, unknown> | undefined;
  if (infR) {
    infR.allowOnly(['livenessRoute', 'readinessRoute', 'scoringRoute']);
    inferenceConfig = {};
    for (const route of ['livenessRoute', 'readinessRoute', 'scoringRoute']) {
      const rr = infR.object(route, 'Route');
      if (!rr) continue;
      rr.allowOnly(['path', 'port']);
      inferenceConfig[route] = { path: rr.string('path', true), port: rr.int('port', { required: true, min: 1, max: 65_535 }) };
    }
  }
  const condaFile = p.string('condaFile');
  return {
    ...base,
    ...(image !== undefined ? { image } : {}),
    ...(build ? { build } : {}),
    ...(condaFile !== undefined ? { condaFile } : {}),
    ...(inferenceConfig ? { inferenceConfig } : {}),
    osType: p.enumOf('osType', ['Linux', 'Windows'] as const, 'OperatingSystemType') ?? 'Linux',
    autoRebuild: p.enumOf('autoRebuild', ['Disabled', 'OnBaseImageUpdate'] as const, 'AutoRebuildSetting') ?? 'Disabled',
    environmentType: 'UserCreated',
  };
}

function kindTypeName(kind: AssetKind): string {
  return kind === 'models' ? 'Model' : kind === 'codes' ? 'Code' : 'Environment';
}

/* ------------------------------------------------------------------------------------------ POST bodies */

export function readRegenerateKeys(body: unknown): { keyType: 'Primary' | 'Secondary'; keyValue?: string } {
  const r = BodyReader.root(body, 'RegenerateEndpointKeysRequest');
  r.allowOnly(['keyType', 'keyValue']);
  const keyType = r.enumOf('keyType', ['Primary', 'Secondary'] as const, 'KeyType', true);
  const keyValue = r.string('keyValue');
  return { keyType, ...(keyValue !== undefined ? { keyValue } : {}) };
}

export function readGetLogs(body: unknown): { containerType: 'StorageInitializer' | 'InferenceServer'; tail?: number } {
  const r = BodyReader.root(body, 'DeploymentLogsRequest');
  r.allowOnly(['containerType', 'tail']);
  const containerType =
    r.enumOf('containerType', ['StorageInitializer', 'InferenceServer'] as const, 'ContainerType') ?? 'InferenceServer';
  const tail = r.int('tail', { min: 0, max: 10_000 });
  return { containerType, ...(tail !== undefined ? { tail } : {}) };
}
