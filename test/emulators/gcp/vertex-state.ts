import { randomInt } from 'node:crypto';

import { VertexError, failedPrecondition, invalidArgument, notFound } from './vertex-errors.js';
import type { Json, JsonObject } from './vertex-schema.js';
import {
  DEPLOYED_MODEL_ID,
  ENDPOINT_ID,
  MODEL_ID,
  REQUIRED,
  VERSION_ALIAS,
  checkDedicatedResources,
  checkDisplayName,
  checkLabels,
  fieldErrors,
  intMap,
  obj,
  str,
  stringMap,
} from './vertex-validate.js';

/**
 * The resource state behind the fake Vertex AI API: models (with versions), endpoints, deployed models and
 * long-running operations. Everything is kept as proto3-JSON with enum NAMES; the HTTP layer encodes enums on the way
 * out. Resources change when their operation completes, never at request time.
 *
 * No wall-clock timer: an operation finishes on the first look after it started (a poll of the operation, or a read
 * of the resource it changes), or, while `hold()` is on, stays in progress until `settle()`. Tests decide when work
 * ends, so a busy machine cannot reorder anything.
 */

export type OperationKind =
  | 'uploadModel'
  | 'deleteModel'
  | 'deleteModelVersion'
  | 'createEndpoint'
  | 'deleteEndpoint'
  | 'deployModel'
  | 'undeployModel'
  | 'mutateDeployedModel';

export interface InjectedFailure {
  /** google.rpc.Code number or canonical name, e.g. 8 or 'RESOURCE_EXHAUSTED'. */
  code: number | string;
  message: string;
  details?: unknown[];
  /**
   * Append where the model server's logs are, as Vertex does when a deployed container fails ("Model server logs
   * can be found at https://console.cloud.google.com/logs/viewer?…"): the link names the operation's endpoint.
   */
  logsLink?: boolean;
}

interface ModelVersion {
  versionId: string;
  /** The Model message as uploaded (normalised), minus output-only fields. */
  spec: JsonObject;
  aliases: string[];
  createTime: string;
  updateTime: string;
}

interface ModelRecord {
  id: string;
  location: string;
  createTime: string;
  versions: Map<string, ModelVersion>;
  nextVersion: number;
  /** Created by an upload whose operation has not finished: invisible to get/list. */
  pending: boolean;
  /** Version ids reserved by uploads still in flight. */
  pendingVersions: Set<string>;
}

export interface DeployedModelRecord {
  id: string;
  modelId: string;
  modelVersionId: string;
  displayName: string;
  createTime: string;
  /** The rest of the DeployedModel message as requested (normalised). */
  spec: JsonObject;
}

interface EndpointRecord {
  id: string;
  location: string;
  spec: JsonObject;
  displayName: string;
  labels: Record<string, string>;
  trafficSplit: Record<string, number>;
  deployedModels: DeployedModelRecord[];
  etag: string;
  createTime: string;
  updateTime: string;
  pending: boolean;
  /** Name of the mutating operation in flight on this endpoint (deploy, undeploy, mutate, delete). */
  busyWith?: string;
  /** Deployed models whose deploy operation is still running. */
  deploying: DeployedModelRecord[];
}

interface OperationRecord {
  name: string;
  kind: OperationKind;
  metadataType: string;
  responseType: string;
  createTime: string;
  updateTime: string;
  done: boolean;
  response?: JsonObject;
  error?: { code: number; message: string; details?: unknown[] };
  /** The resource the operation is on (its name is `<resource>/operations/<id>`). */
  resource: string;
  /** CancelOperation was called while it was held: it ends cancelled when it is released. */
  cancelRequested: boolean;
  /** Applies the state change; returns the response message. Throws VertexError to end the operation with an error. */
  apply: () => JsonObject;
  /** Undoes reservations when the operation fails or is cancelled. */
  rollback: () => void;
  extraMetadata?: () => JsonObject;
}

export interface VertexStateOptions {
  projectId: string;
  projectNumber: string;
  locations: string[];
}

export interface Listing {
  models: { name: string; versionId: string; displayName: string; labels: Record<string, string> }[];
  endpoints: { name: string; displayName: string; labels: Record<string, string>; trafficSplit: Record<string, number> }[];
  deployedModels: { endpoint: string; id: string; model: string; modelVersionId: string }[];
  operationsInFlight: { name: string; kind: OperationKind }[];
}

const API = 'type.googleapis.com/google.cloud.aiplatform.v1.';
const CODE_NAMES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED',
  'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
];

/** Numeric ids like the service's: 19 digits, no leading zero. */
function numericId(): string {
  let s = String(randomInt(1, 10));
  while (s.length < 19) s += String(randomInt(0, 10));
  return s;
}

const now = (): string => new Date().toISOString();

/** Output-only fields the service computes; a client that echoes them back must not overwrite ours. */
const MODEL_OUTPUT_ONLY = [
  'name', 'versionId', 'versionCreateTime', 'versionUpdateTime', 'supportedExportFormats', 'trainingPipeline',
  'supportedDeploymentResourcesTypes', 'supportedInputStorageFormats', 'supportedOutputStorageFormats', 'createTime',
  'updateTime', 'deployedModels', 'modelSourceInfo', 'originalModelInfo', 'metadataArtifact', 'satisfiesPzs', 'satisfiesPzi',
];
const ENDPOINT_OUTPUT_ONLY = [
  'name', 'deployedModels', 'createTime', 'updateTime', 'modelDeploymentMonitoringJob', 'dedicatedEndpointDns', 'satisfiesPzs', 'satisfiesPzi',
];
const DEPLOYED_MODEL_OUTPUT_ONLY = ['modelVersionId', 'createTime', 'privateEndpoints', 'status'];

function without(o: JsonObject, keys: string[]): JsonObject {
  const out: JsonObject = { ...o };
  for (const k of keys) delete out[k];
  return out;
}

/** Filter terms Vertex list calls accept: `labels.k=v`, `labels.k:*`, `display_name="x"`, joined by AND. */
type FilterTerm = { kind: 'label'; key: string; value?: string } | { kind: 'displayName'; value: string } | { kind: 'id'; value: string };

function unquote(v: string): string {
  const m = /^"(.*)"$/.exec(v);
  return m ? (m[1] as string).replace(/\\"/g, '"') : v;
}

export function parseFilter(filter: string, idField: string): FilterTerm[] {
  const text = filter.trim();
  if (text === '') return [];
  const parts = text.split(/\s+AND\s+|\s+(?=(?:labels\.|display_name|displayName|endpoint|model)\b)/);
  return parts.map((raw) => {
    const term = raw.trim();
    let m = /^labels\.("[^"]+"|[^\s=:!<>]+)\s*:\s*\*$/.exec(term);
    if (m) return { kind: 'label', key: unquote(m[1] as string) };
    m = /^labels\.("[^"]+"|[^\s=:!<>]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s"]+)$/.exec(term);
    if (m) return { kind: 'label', key: unquote(m[1] as string), value: unquote(m[2] as string) };
    m = /^(?:display_name|displayName)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s"]+)$/.exec(term);
    if (m) return { kind: 'displayName', value: unquote(m[1] as string) };
    m = new RegExp(`^${idField}\\s*=\\s*("?)(\\w[\\w-]*)\\1$`).exec(term);
    if (m) return { kind: 'id', value: m[2] as string };
    throw invalidArgument(`Invalid filter "${filter}": unsupported term "${term}" (the fake understands labels.KEY=VALUE, labels.KEY:*, display_name="X", ${idField}=ID and AND).`, 'filter');
  });
}

function matches(terms: FilterTerm[], id: string, displayName: string, labels: Record<string, string>): boolean {
  return terms.every((t) => {
    if (t.kind === 'label') return t.value === undefined ? t.key in labels : labels[t.key] === t.value;
    if (t.kind === 'displayName') return displayName === t.value;
    return id === t.value;
  });
}

function paginate<T>(items: T[], pageSize: number | undefined, pageToken: string | undefined): { page: T[]; next?: string } {
  let start = 0;
  if (pageToken) {
    const n = Number(Buffer.from(pageToken, 'base64url').toString('utf8').replace(/^offset:/, ''));
    if (!Number.isInteger(n) || n < 0 || n > items.length) throw invalidArgument(`Invalid page token: ${pageToken}`, 'page_token');
    start = n;
  }
  if (pageSize !== undefined && pageSize < 0) throw invalidArgument('page_size must not be negative.', 'page_size');
  const size = pageSize === undefined || pageSize === 0 ? 100 : Math.min(pageSize, 1000);
  const page = items.slice(start, start + size);
  const end = start + page.length;
  return end < items.length ? { page, next: Buffer.from(`offset:${end}`).toString('base64url') } : { page };
}

export class VertexState {
  private readonly models = new Map<string, ModelRecord>();
  private readonly endpoints = new Map<string, EndpointRecord>();
  private readonly operations = new Map<string, OperationRecord>();
  private readonly failures = new Map<OperationKind, InjectedFailure[]>();
  private trafficCounter = 0;
  /** Kinds of operation held in progress; `all` for every kind. */
  private holding: Set<OperationKind> | 'all' | undefined;

  constructor(readonly options: VertexStateOptions) {}

  // ---- names ---------------------------------------------------------------------------------------------------

  private parent(location: string): string {
    return `projects/${this.options.projectNumber}/locations/${location}`;
  }

  modelName(m: { location: string; id: string }): string {
    return `${this.parent(m.location)}/models/${m.id}`;
  }

  endpointName(e: { location: string; id: string }): string {
    return `${this.parent(e.location)}/endpoints/${e.id}`;
  }

  private key(location: string, id: string): string {
    return `${location}/${id}`;
  }

  // ---- fault injection -----------------------------------------------------------------------------------------

  failNextOperation(kind: OperationKind, failure: InjectedFailure): void {
    const queue = this.failures.get(kind) ?? [];
    queue.push(failure);
    this.failures.set(kind, queue);
  }

  /** From now on, operations (of these kinds, or all) stay in progress, and a cancel is only noted, until `settle()`. */
  hold(kinds?: readonly OperationKind[]): void {
    this.holding = kinds ? new Set(kinds) : 'all';
  }

  private held(op: OperationRecord): boolean {
    return this.holding === 'all' || (this.holding?.has(op.kind) ?? false);
  }

  // ---- operations ----------------------------------------------------------------------------------------------

  private startOperation(
    resourceName: string,
    kind: OperationKind,
    metadataType: string,
    responseType: string,
    apply: () => JsonObject,
    rollback: () => void = () => {},
    extraMetadata?: () => JsonObject,
  ): OperationRecord {
    const t = now();
    const op: OperationRecord = {
      name: `${resourceName}/operations/${numericId()}`,
      resource: resourceName,
      cancelRequested: false,
      kind,
      metadataType,
      responseType,
      createTime: t,
      updateTime: t,
      done: false,
      apply,
      rollback,
      ...(extraMetadata ? { extraMetadata } : {}),
    };
    const injected = this.failures.get(kind)?.shift();
    if (injected) {
      const code = typeof injected.code === 'number' ? injected.code : CODE_NAMES.indexOf(injected.code);
      if (code <= 0) throw new Error(`fake-vertex: bad injected failure code ${String(injected.code)}`);
      const message = injected.logsLink ? `${injected.message} Model server logs can be found at ${this.logsLink(resourceName)}` : injected.message;
      op.apply = () => {
        throw new VertexError(CODE_NAMES[code] as never, message, injected.details ?? []);
      };
    }
    this.operations.set(op.name, op);
    return op;
  }

  /** The Cloud Logging link Vertex puts in a failed deploy's error, for the endpoint `resource`. */
  private logsLink(resource: string): string {
    const endpointId = /\/endpoints\/([^/]+)$/.exec(resource)?.[1] ?? '';
    const filter = `resource.type="aiplatform.googleapis.com/Endpoint"\nresource.labels.endpoint_id="${endpointId}"`;
    return `https://console.cloud.google.com/logs/viewer?project=${this.options.projectNumber}&resource=aiplatform.googleapis.com%2FEndpoint&advancedFilter=${encodeURIComponent(filter)}`;
  }

  /**
   * A look at a resource (a get or list of it, or a poll of one of its operations): what runs on it and is not held
   * finishes now. `prefix` is a resource name, or a collection ending with '/'.
   */
  look(prefix: string): void {
    for (const op of this.operations.values()) {
      if (!op.done && !this.held(op) && (op.resource === prefix || op.name === prefix || (prefix.endsWith('/') && op.resource.startsWith(prefix)))) this.finish(op);
    }
  }

  /** The location's collection prefix, for looks by list calls. */
  collection(location: string, collection: 'endpoints' | 'models'): string {
    return `${this.parent(location)}/${collection}/`;
  }

  private finish(op: OperationRecord): void {
    if (op.cancelRequested) this.cancelNow(op);
    else this.complete(op);
  }

  private cancelNow(op: OperationRecord): void {
    if (op.done) return;
    op.done = true;
    op.updateTime = now();
    op.rollback();
    op.error = { code: 1, message: 'Operation was cancelled.' };
  }

  private complete(op: OperationRecord): void {
    if (op.done) return;
    op.done = true;
    op.updateTime = now();
    try {
      op.response = op.apply();
    } catch (err) {
      op.rollback();
      if (!(err instanceof VertexError)) throw err;
      op.error = err.rpcStatus();
    }
  }

  operationJson(op: OperationRecord): JsonObject {
    const metadata: JsonObject = {
      '@type': `${API}${op.metadataType}`,
      genericMetadata: { createTime: op.createTime, updateTime: op.updateTime },
      ...(op.extraMetadata ? op.extraMetadata() : {}),
    };
    const out: JsonObject = { name: op.name, metadata };
    if (!op.done) return out;
    out.done = true;
    if (op.error) out.error = op.error as unknown as Json;
    else out.response = { '@type': op.responseType, ...(op.response ?? {}) };
    return out;
  }

  getOperation(name: string): JsonObject {
    const op = this.operations.get(name);
    if (!op) throw notFound(`Operation \`${name}\` not found.`);
    this.look(op.name);
    return this.operationJson(op);
  }

  /**
   * CancelOperation: best effort, as on the service; a cancelled operation ends with CANCELLED and no change. A held
   * operation only takes note, and ends cancelled when it is released.
   */
  cancelOperation(name: string): JsonObject {
    const op = this.operations.get(name);
    if (!op) throw notFound(`Operation \`${name}\` not found.`);
    if (this.held(op)) op.cancelRequested = !op.done;
    else this.cancelNow(op);
    return {};
  }

  // ---- models --------------------------------------------------------------------------------------------------

  /** Resolves `models/{id}`, `models/{id}@{version}` or `models/{id}@{alias}`; default version when none is given. */
  private resolveModel(location: string, ref: string, includePending = false): { model: ModelRecord; version: ModelVersion } {
    const [id, versionRef] = ref.split('@', 2) as [string, string | undefined];
    const model = this.models.get(this.key(location, id));
    const fullName = `${this.parent(location)}/models/${ref}`;
    if (!model || (model.pending && !includePending)) throw notFound(`Model \`${fullName}\` not found.`);
    let version: ModelVersion | undefined;
    if (versionRef === undefined || versionRef === '') version = [...model.versions.values()].find((v) => v.aliases.includes('default'));
    else if (/^\d+$/.test(versionRef)) version = model.versions.get(versionRef);
    else version = [...model.versions.values()].find((v) => v.aliases.includes(versionRef));
    if (!version) throw notFound(`Model \`${fullName}\` not found.`);
    return { model, version };
  }

  private deploymentsOf(model: ModelRecord, versionId?: string): { endpoint: EndpointRecord; dm: DeployedModelRecord }[] {
    const out: { endpoint: EndpointRecord; dm: DeployedModelRecord }[] = [];
    for (const endpoint of this.endpoints.values()) {
      for (const dm of [...endpoint.deployedModels, ...endpoint.deploying]) {
        if (dm.modelId === model.id && endpoint.location === model.location && (versionId === undefined || dm.modelVersionId === versionId)) {
          out.push({ endpoint, dm });
        }
      }
    }
    return out;
  }

  modelJson(model: ModelRecord, version: ModelVersion): JsonObject {
    const deployments = this.deploymentsOf(model, version.versionId).filter(({ endpoint, dm }) => endpoint.deployedModels.includes(dm));
    const spec = version.spec;
    return {
      ...spec,
      name: this.modelName(model),
      versionId: version.versionId,
      ...(version.aliases.length ? { versionAliases: version.aliases } : {}),
      versionCreateTime: version.createTime,
      versionUpdateTime: version.updateTime,
      supportedDeploymentResourcesTypes: ['DEDICATED_RESOURCES'],
      supportedInputStorageFormats: ['jsonl', 'bigquery', 'csv', 'tf-record', 'tf-record-gzip', 'file-list'],
      supportedOutputStorageFormats: ['jsonl', 'bigquery'],
      ...(str(spec, 'artifactUri') ? { supportedExportFormats: [{ id: 'custom-trained', exportableContents: ['ARTIFACT'] }] } : {}),
      createTime: model.createTime,
      updateTime: version.updateTime,
      ...(deployments.length
        ? { deployedModels: deployments.map(({ endpoint, dm }) => ({ endpoint: this.endpointName(endpoint), deployedModelId: dm.id })) }
        : {}),
      etag: Buffer.from(`${model.id}@${version.versionId}:${version.updateTime}`).toString('base64'),
    };
  }

  uploadModel(location: string, body: JsonObject): JsonObject {
    const model = obj(body, 'model');
    const errors: { field: string; message: string }[] = [];
    if (!model) errors.push({ field: 'model', message: REQUIRED });
    errors.push(...checkDisplayName(str(model, 'displayName'), 'model.display_name', true));
    if (model && !str(obj(model, 'containerSpec'), 'imageUri')) errors.push({ field: 'model.container_spec.image_uri', message: REQUIRED });
    if (model) errors.push(...checkLabels(stringMap(model, 'labels'), 'model.labels'));
    const artifactUri = str(model, 'artifactUri');
    if (artifactUri !== undefined && !artifactUri.startsWith('gs://')) {
      errors.push({ field: 'model.artifact_uri', message: `artifact_uri must be a Cloud Storage URI (gs://…), got "${artifactUri}".` });
    }
    const aliases = Array.isArray(model?.versionAliases) ? (model.versionAliases as string[]) : [];
    aliases.forEach((a, i) => {
      if (!VERSION_ALIAS.test(a) && a !== 'default') errors.push({ field: `model.version_aliases[${i}]`, message: `Version alias "${a}" does not match [a-z][a-zA-Z0-9-]{0,126}[a-z0-9].` });
    });
    if (new Set(aliases).size !== aliases.length) errors.push({ field: 'model.version_aliases', message: 'Version aliases must be unique.' });
    const modelId = str(body, 'modelId');
    if (modelId !== undefined && !MODEL_ID.test(modelId)) {
      errors.push({ field: 'model_id', message: `Model id "${modelId}" is invalid: up to 63 characters of [a-z0-9_-], not starting with a number or hyphen.` });
    }
    const parentModel = str(body, 'parentModel');
    if (parentModel !== undefined && modelId !== undefined) errors.push({ field: 'model_id', message: 'model_id must not be set together with parent_model.' });
    if (errors.length) throw fieldErrors(errors);
    const spec = without(model as JsonObject, [...MODEL_OUTPUT_ONLY, 'versionAliases']);
    const t = now();

    if (parentModel !== undefined) {
      const m = /^projects\/([^/]+)\/locations\/([^/]+)\/models\/([^/@]+)$/.exec(parentModel);
      if (!m || (m[1] !== this.options.projectId && m[1] !== this.options.projectNumber) || m[2] !== location) {
        throw fieldErrors([{ field: 'parent_model', message: `Invalid parent model "${parentModel}": expected projects/{project}/locations/${location}/models/{model}.` }]);
      }
      const record = this.models.get(this.key(location, m[3] as string));
      if (!record || record.pending) throw notFound(`Model \`${parentModel}\` not found.`);
      for (const a of aliases) {
        if (a === 'default') continue;
        if ([...record.versions.values()].some((v) => v.aliases.includes(a))) {
          throw new VertexError('ALREADY_EXISTS', `Version alias "${a}" is already used by another version of model ${this.modelName(record)}.`);
        }
      }
      const versionId = String(record.nextVersion++);
      record.pendingVersions.add(versionId);
      const op = this.startOperation(
        this.modelName(record),
        'uploadModel',
        'UploadModelOperationMetadata',
        `${API}UploadModelResponse`,
        () => {
          record.pendingVersions.delete(versionId);
          if (!this.models.has(this.key(location, record.id))) throw notFound(`Model \`${this.modelName(record)}\` not found.`);
          if (aliases.includes('default')) for (const v of record.versions.values()) v.aliases = v.aliases.filter((a) => a !== 'default');
          record.versions.set(versionId, { versionId, spec, aliases, createTime: t, updateTime: now() });
          return { model: this.modelName(record), modelVersionId: versionId };
        },
        () => record.pendingVersions.delete(versionId),
      );
      return this.operationJson(op);
    }

    const id = modelId ?? numericId();
    if (this.models.has(this.key(location, id))) {
      throw new VertexError('ALREADY_EXISTS', `Model \`${this.parent(location)}/models/${id}\` already exists. Use parent_model to upload a new version.`);
    }
    const record: ModelRecord = { id, location, createTime: t, versions: new Map(), nextVersion: 2, pending: true, pendingVersions: new Set(['1']) };
    this.models.set(this.key(location, id), record);
    const op = this.startOperation(
      this.modelName(record),
      'uploadModel',
      'UploadModelOperationMetadata',
      `${API}UploadModelResponse`,
      () => {
        record.pending = false;
        record.pendingVersions.clear();
        // "A default version alias will be created for the first version of the model."
        record.versions.set('1', { versionId: '1', spec, aliases: ['default', ...aliases.filter((a) => a !== 'default')], createTime: t, updateTime: now() });
        return { model: this.modelName(record), modelVersionId: '1' };
      },
      () => this.models.delete(this.key(location, id)),
    );
    return this.operationJson(op);
  }

  getModel(location: string, ref: string): JsonObject {
    const { model, version } = this.resolveModel(location, ref);
    return this.modelJson(model, version);
  }

  listModels(location: string, query: Record<string, Json>): JsonObject {
    const terms = parseFilter(typeof query.filter === 'string' ? query.filter : '', 'model');
    const all = [...this.models.values()]
      .filter((m) => m.location === location && !m.pending)
      .map((m) => ({ model: m, version: this.resolveModel(location, m.id).version }))
      .filter(({ model, version }) => matches(terms, model.id, str(version.spec, 'displayName') ?? '', stringMap(version.spec, 'labels')))
      .sort((a, b) => a.model.createTime.localeCompare(b.model.createTime));
    const { page, next } = paginate(all, typeof query.pageSize === 'number' ? query.pageSize : undefined, typeof query.pageToken === 'string' ? query.pageToken : undefined);
    return { models: page.map(({ model, version }) => this.modelJson(model, version)), ...(next ? { nextPageToken: next } : {}) };
  }

  listModelVersions(location: string, id: string, query: Record<string, Json>): JsonObject {
    if (id.includes('@')) throw invalidArgument('The model name for listVersions must not carry a version.', 'name');
    const { model } = this.resolveModel(location, id);
    const terms = parseFilter(typeof query.filter === 'string' ? query.filter : '', 'version_id');
    const all = [...model.versions.values()]
      .filter((v) => matches(terms, v.versionId, str(v.spec, 'displayName') ?? '', stringMap(v.spec, 'labels')))
      .sort((a, b) => Number(a.versionId) - Number(b.versionId));
    const { page, next } = paginate(all, typeof query.pageSize === 'number' ? query.pageSize : undefined, typeof query.pageToken === 'string' ? query.pageToken : undefined);
    return { models: page.map((v) => this.modelJson(model, v)), ...(next ? { nextPageToken: next } : {}) };
  }

  deleteModel(location: string, ref: string): JsonObject {
    if (ref.includes('@')) throw invalidArgument('Use deleteVersion to delete a single model version.', 'name');
    const { model } = this.resolveModel(location, ref);
    const deployments = this.deploymentsOf(model);
    if (deployments.length) {
      throw failedPrecondition(
        `Model \`${this.modelName(model)}\` cannot be deleted because it is deployed to endpoint(s): ${[...new Set(deployments.map(({ endpoint }) => this.endpointName(endpoint)))].join(', ')}. Undeploy it first.`,
      );
    }
    if (model.pendingVersions.size) throw failedPrecondition(`Model \`${this.modelName(model)}\` has an upload in progress.`);
    const op = this.startOperation(this.modelName(model), 'deleteModel', 'DeleteOperationMetadata', 'type.googleapis.com/google.protobuf.Empty', () => {
      if (this.deploymentsOf(model).length) throw failedPrecondition(`Model \`${this.modelName(model)}\` is deployed.`);
      this.models.delete(this.key(location, model.id));
      return {};
    });
    return this.operationJson(op);
  }

  /**
   * ModelService.MergeVersionAliases (synchronous, returns the Model): adds the aliases to the named version and
   * removes `-alias` ones. `default` moves from the version that held it; another alias held by another version
   * → ALREADY_EXISTS, and `-default` → FAILED_PRECONDITION (a model always has a default version) [modeled texts].
   */
  mergeVersionAliases(location: string, ref: string, body: JsonObject): JsonObject {
    if (!ref.includes('@')) throw invalidArgument('The name must carry a version id or alias: projects/{project}/locations/{location}/models/{model}@{version}.', 'name');
    const aliases = body.versionAliases;
    if (!Array.isArray(aliases) || aliases.length === 0) throw fieldErrors([{ field: 'version_aliases', message: 'Required field is not set.' }]);
    const { model, version } = this.resolveModel(location, ref);
    const errors: { field: string; message: string }[] = [];
    aliases.forEach((raw, i) => {
      const a = String(raw).replace(/^-/, '');
      if (!VERSION_ALIAS.test(a) && a !== 'default') errors.push({ field: `version_aliases[${i}]`, message: `Version alias "${a}" does not match [a-z][a-zA-Z0-9-]{0,126}[a-z0-9].` });
    });
    if (errors.length) throw fieldErrors(errors);
    for (const raw of aliases.map(String)) {
      if (raw === '-default') throw failedPrecondition(`The default alias cannot be removed from model \`${this.modelName(model)}\`; add it to another version instead.`);
      if (raw.startsWith('-')) {
        version.aliases = version.aliases.filter((a) => a !== raw.slice(1));
        continue;
      }
      const holder = [...model.versions.values()].find((v) => v !== version && v.aliases.includes(raw));
      if (holder && raw !== 'default') throw new VertexError('ALREADY_EXISTS', `Version alias "${raw}" is already used by version ${holder.versionId} of model ${this.modelName(model)}.`);
      if (holder) holder.aliases = holder.aliases.filter((a) => a !== raw);
      if (!version.aliases.includes(raw)) version.aliases.push(raw);
    }
    version.updateTime = now();
    return this.modelJson(model, version);
  }

  deleteModelVersion(location: string, ref: string): JsonObject {
    if (!ref.includes('@')) throw invalidArgument('The name must carry a version id: projects/{project}/locations/{location}/models/{model}@{version}.', 'name');
    const { model, version } = this.resolveModel(location, ref);
    if (this.deploymentsOf(model, version.versionId).length) {
      throw failedPrecondition(`Model version \`${this.modelName(model)}@${version.versionId}\` cannot be deleted because it has DeployedModels.`);
    }
    if (model.versions.size === 1) throw failedPrecondition(`Model \`${this.modelName(model)}\` has only one version; use DeleteModel to delete it.`);
    if (version.aliases.includes('default')) {
      throw failedPrecondition(`Model version \`${this.modelName(model)}@${version.versionId}\` is the default version and cannot be deleted. Move the default alias first.`);
    }
    const op = this.startOperation(this.modelName(model), 'deleteModelVersion', 'DeleteOperationMetadata', 'type.googleapis.com/google.protobuf.Empty', () => {
      model.versions.delete(version.versionId);
      return {};
    });
    return this.operationJson(op);
  }

  // ---- endpoints -----------------------------------------------------------------------------------------------

  private endpoint(location: string, id: string, includePending = false): EndpointRecord {
    const e = this.endpoints.get(this.key(location, id));
    if (!e || (e.pending && !includePending)) throw notFound(`Endpoint \`${this.parent(location)}/endpoints/${id}\` not found.`);
    return e;
  }

  deployedModelJson(dm: DeployedModelRecord, location: string): JsonObject {
    const min = typeof obj(dm.spec, 'dedicatedResources')?.minReplicaCount === 'number' ? (obj(dm.spec, 'dedicatedResources')?.minReplicaCount as number) : 1;
    return {
      ...dm.spec,
      id: dm.id,
      model: `${this.parent(location)}/models/${dm.modelId}`,
      modelVersionId: dm.modelVersionId,
      displayName: dm.displayName,
      createTime: dm.createTime,
      status: { lastUpdateTime: dm.createTime, availableReplicaCount: min },
    };
  }

  endpointJson(e: EndpointRecord): JsonObject {
    return {
      ...e.spec,
      name: this.endpointName(e),
      displayName: e.displayName,
      ...(e.deployedModels.length ? { deployedModels: e.deployedModels.map((dm) => this.deployedModelJson(dm, e.location)) } : {}),
      ...(Object.keys(e.trafficSplit).length ? { trafficSplit: e.trafficSplit } : {}),
      ...(Object.keys(e.labels).length ? { labels: e.labels } : {}),
      etag: e.etag,
      createTime: e.createTime,
      updateTime: e.updateTime,
      ...(e.spec.dedicatedEndpointEnabled === true ? { dedicatedEndpointDns: `${e.id}.${e.location}-${this.options.projectNumber}.prediction.vertexai.goog` } : {}),
    };
  }

  private touch(e: EndpointRecord): void {
    e.updateTime = now();
    e.etag = Buffer.from(`${e.id}:${e.updateTime}:${numericId()}`).toString('base64');
  }

  createEndpoint(location: string, endpoint: JsonObject, endpointId: string | undefined): JsonObject {
    const errors = [
      ...checkDisplayName(str(endpoint, 'displayName'), 'endpoint.display_name', true),
      ...checkLabels(stringMap(endpoint, 'labels'), 'endpoint.labels'),
    ];
    if (endpointId !== undefined && !ENDPOINT_ID.test(endpointId)) {
      errors.push({
        field: 'endpoint_id',
        message: `Endpoint id "${endpointId}" is invalid: a letter then up to 62 of [a-z0-9-] ending in a letter or digit, or up to 9 digits without a leading zero.`,
      });
    }
    if (Object.keys(intMap(endpoint, 'trafficSplit')).length) {
      errors.push({ field: 'endpoint.traffic_split', message: 'traffic_split must be empty when creating an Endpoint: it has no DeployedModels yet.' });
    }
    if (errors.length) throw fieldErrors(errors);
    const id = endpointId ?? numericId();
    if (this.endpoints.has(this.key(location, id))) throw new VertexError('ALREADY_EXISTS', `Endpoint \`${this.parent(location)}/endpoints/${id}\` already exists.`);
    const t = now();
    const record: EndpointRecord = {
      id,
      location,
      spec: without(endpoint, [...ENDPOINT_OUTPUT_ONLY, 'displayName', 'labels', 'trafficSplit', 'etag']),
      displayName: str(endpoint, 'displayName') as string,
      labels: stringMap(endpoint, 'labels'),
      trafficSplit: {},
      deployedModels: [],
      deploying: [],
      etag: '',
      createTime: t,
      updateTime: t,
      pending: true,
    };
    this.touch(record);
    this.endpoints.set(this.key(location, id), record);
    const op = this.startOperation(
      this.endpointName(record),
      'createEndpoint',
      'CreateEndpointOperationMetadata',
      `${API}Endpoint`,
      () => {
        record.pending = false;
        this.touch(record);
        return without(this.endpointJson(record), []);
      },
      () => this.endpoints.delete(this.key(location, id)),
    );
    return this.operationJson(op);
  }

  getEndpoint(location: string, id: string): JsonObject {
    return this.endpointJson(this.endpoint(location, id));
  }

  listEndpoints(location: string, query: Record<string, Json>): JsonObject {
    const terms = parseFilter(typeof query.filter === 'string' ? query.filter : '', 'endpoint');
    const all = [...this.endpoints.values()]
      .filter((e) => e.location === location && !e.pending && matches(terms, e.id, e.displayName, e.labels))
      .sort((a, b) => a.createTime.localeCompare(b.createTime));
    const { page, next } = paginate(all, typeof query.pageSize === 'number' ? query.pageSize : undefined, typeof query.pageToken === 'string' ? query.pageToken : undefined);
    return { endpoints: page.map((e) => this.endpointJson(e)), ...(next ? { nextPageToken: next } : {}) };
  }

  /** Checks a traffic split against the deployed model ids it may name; "0" stands for `newId` when given. */
  private checkTraffic(split: Record<string, number>, ids: string[], field: string, newId?: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(split)) {
      const id = k === '0' && newId !== undefined ? newId : k;
      if (!ids.includes(id)) throw invalidArgument(`${field} contains DeployedModel id "${k}", which is not deployed to this Endpoint.`, field);
      if (!Number.isInteger(v) || v < 0 || v > 100) throw invalidArgument(`${field} value for "${k}" must be between 0 and 100, got ${v}.`, field);
      out[id] = v;
    }
    const sum = Object.values(out).reduce((a, b) => a + b, 0);
    if (Object.keys(out).length && sum !== 100) {
      throw invalidArgument(`The sum of all traffic_split values must be 100, got ${sum}: ${JSON.stringify(split)}.`, field);
    }
    return out;
  }

  private busy(e: EndpointRecord): void {
    const op = e.busyWith ? this.operations.get(e.busyWith) : undefined;
    if (op && !op.done) {
      throw failedPrecondition(`Endpoint \`${this.endpointName(e)}\` has an operation in progress (${op.name}); wait for it to finish.`);
    }
  }

  updateEndpoint(location: string, id: string, patch: JsonObject, updateMask: string | undefined): JsonObject {
    const e = this.endpoint(location, id);
    if (!updateMask) throw fieldErrors([{ field: 'update_mask', message: REQUIRED }]);
    const paths = updateMask.split(',').map((p) => p.trim()).filter(Boolean);
    const allowed = new Map([
      ['display_name', 'displayName'],
      ['displayName', 'displayName'],
      ['description', 'description'],
      ['labels', 'labels'],
      ['traffic_split', 'trafficSplit'],
      ['trafficSplit', 'trafficSplit'],
      ['predict_request_response_logging_config', 'predictRequestResponseLoggingConfig'],
      ['predictRequestResponseLoggingConfig', 'predictRequestResponseLoggingConfig'],
      ['client_connection_config', 'clientConnectionConfig'],
      ['clientConnectionConfig', 'clientConnectionConfig'],
    ]);
    const fields: string[] = [];
    for (const p of paths) {
      const f = allowed.get(p);
      if (!f) throw invalidArgument(`update_mask path "${p}" is not supported for UpdateEndpoint.`, 'update_mask');
      fields.push(f);
    }
    const etag = str(patch, 'etag');
    if (etag !== undefined && etag !== e.etag) throw new VertexError('ABORTED', `The etag "${etag}" does not match the current etag of Endpoint \`${this.endpointName(e)}\`.`);
    this.busy(e);
    const errors: { field: string; message: string }[] = [];
    if (fields.includes('displayName')) errors.push(...checkDisplayName(str(patch, 'displayName'), 'endpoint.display_name', true));
    if (fields.includes('labels')) errors.push(...checkLabels(stringMap(patch, 'labels'), 'endpoint.labels'));
    if (errors.length) throw fieldErrors(errors);
    let traffic: Record<string, number> | undefined;
    if (fields.includes('trafficSplit')) {
      traffic = this.checkTraffic(intMap(patch, 'trafficSplit'), e.deployedModels.map((d) => d.id), 'endpoint.traffic_split');
      if (!Object.keys(traffic).length && e.deployedModels.length) {
        throw invalidArgument('endpoint.traffic_split must sum to 100 while the Endpoint has DeployedModels.', 'endpoint.traffic_split');
      }
    }
    for (const f of fields) {
      if (f === 'displayName') e.displayName = str(patch, 'displayName') as string;
      else if (f === 'labels') e.labels = stringMap(patch, 'labels');
      else if (f === 'trafficSplit') e.trafficSplit = traffic ?? {};
      else if (patch[f] === undefined) delete e.spec[f];
      else e.spec[f] = patch[f] as Json;
    }
    this.touch(e);
    return this.endpointJson(e);
  }

  deleteEndpoint(location: string, id: string): JsonObject {
    const e = this.endpoint(location, id);
    this.busy(e);
    if (e.deployedModels.length || e.deploying.length) {
      throw failedPrecondition(
        `Endpoint \`${this.endpointName(e)}\` has deployed models (${[...e.deployedModels, ...e.deploying].map((d) => d.id).join(', ')}); undeploy them before deleting the Endpoint.`,
      );
    }
    const op = this.startOperation(
      this.endpointName(e),
      'deleteEndpoint',
      'DeleteOperationMetadata',
      'type.googleapis.com/google.protobuf.Empty',
      () => {
        this.endpoints.delete(this.key(location, id));
        return {};
      },
      () => {
        e.busyWith = undefined;
      },
    );
    e.busyWith = op.name;
    return this.operationJson(op);
  }

  deployModel(location: string, id: string, body: JsonObject): JsonObject {
    const e = this.endpoint(location, id);
    const dm = obj(body, 'deployedModel');
    if (!dm) throw fieldErrors([{ field: 'deployed_model', message: REQUIRED }]);
    const modelRef = str(dm, 'model');
    if (!modelRef) throw fieldErrors([{ field: 'deployed_model.model', message: REQUIRED }]);
    const m = /^projects\/([^/]+)\/locations\/([^/]+)\/models\/([^/]+)$/.exec(modelRef);
    if (!m || (m[1] !== this.options.projectId && m[1] !== this.options.projectNumber)) {
      throw fieldErrors([{ field: 'deployed_model.model', message: `Invalid Model resource name "${modelRef}".` }]);
    }
    if (m[2] !== location) throw invalidArgument(`Model \`${modelRef}\` must be in the same location as the Endpoint (${location}).`, 'deployed_model.model');
    const { model, version } = this.resolveModel(location, m[3] as string);
    if (dm.automaticResources !== undefined || dm.sharedResources !== undefined || dm.dedicatedResources === undefined) {
      const kind = dm.sharedResources !== undefined ? 'shared_resources' : 'automatic_resources';
      throw invalidArgument(`'${kind}' is not supported for Model ${this.modelName(model)}.`, `deployed_model.${kind}`);
    }
    const { errors, normalised } = checkDedicatedResources(obj(dm, 'dedicatedResources') as JsonObject, 'deployed_model.dedicated_resources');
    errors.push(...checkDisplayName(str(dm, 'displayName'), 'deployed_model.display_name', false));
    const requestedId = str(dm, 'id');
    if (requestedId !== undefined && !DEPLOYED_MODEL_ID.test(requestedId)) {
      errors.push({ field: 'deployed_model.id', message: `DeployedModel id "${requestedId}" is invalid: 1-10 digits.` });
    }
    if (errors.length) throw fieldErrors(errors);
    const newId = requestedId ?? numericId();
    if ([...e.deployedModels, ...e.deploying].some((d) => d.id === newId)) {
      throw new VertexError('ALREADY_EXISTS', `DeployedModel with id "${newId}" already exists in Endpoint \`${this.endpointName(e)}\`.`);
    }
    this.busy(e);
    const requested = intMap(body, 'trafficSplit');
    const traffic = Object.keys(requested).length
      ? this.checkTraffic(requested, [...e.deployedModels.map((d) => d.id), newId], 'traffic_split', newId)
      : undefined;
    const record: DeployedModelRecord = {
      id: newId,
      modelId: model.id,
      modelVersionId: version.versionId,
      displayName: str(dm, 'displayName') ?? (str(version.spec, 'displayName') as string),
      createTime: now(),
      spec: { ...without(dm, [...DEPLOYED_MODEL_OUTPUT_ONLY, 'id', 'model', 'displayName']), dedicatedResources: normalised },
    };
    e.deploying.push(record);
    let stage = 'STARTING_DEPLOYMENT';
    const op = this.startOperation(
      this.endpointName(e),
      'deployModel',
      'DeployModelOperationMetadata',
      `${API}DeployModelResponse`,
      () => {
        e.deploying = e.deploying.filter((d) => d !== record);
        e.busyWith = undefined;
        if (!this.models.has(this.key(location, model.id))) throw notFound(`Model \`${this.modelName(model)}\` not found.`);
        record.createTime = now();
        e.deployedModels.push(record);
        if (traffic) e.trafficSplit = traffic;
        this.touch(e);
        stage = 'SUCCESSFULLY_DEPLOYED';
        return { deployedModel: this.deployedModelJson(record, location) };
      },
      () => {
        e.deploying = e.deploying.filter((d) => d !== record);
        e.busyWith = undefined;
        stage = 'FAILED_TO_DEPLOY';
      },
      () => ({ deploymentStage: stage }),
    );
    e.busyWith = op.name;
    return this.operationJson(op);
  }

  undeployModel(location: string, id: string, body: JsonObject): JsonObject {
    const e = this.endpoint(location, id);
    const dmId = str(body, 'deployedModelId');
    if (!dmId) throw fieldErrors([{ field: 'deployed_model_id', message: REQUIRED }]);
    const dm = e.deployedModels.find((d) => d.id === dmId);
    if (!dm) throw notFound(`DeployedModel with id "${dmId}" not found in Endpoint \`${this.endpointName(e)}\`.`);
    this.busy(e);
    const remaining = e.deployedModels.filter((d) => d !== dm).map((d) => d.id);
    const requested = intMap(body, 'trafficSplit');
    let traffic: Record<string, number>;
    if (remaining.length === 0) {
      // "If last DeployedModel is being undeployed from the Endpoint, the traffic_split will always end up empty."
      traffic = {};
    } else if (Object.keys(requested).length) {
      if ((requested[dmId] ?? 0) > 0) {
        throw failedPrecondition(`traffic_split assigns ${requested[dmId]}% to DeployedModel ${dmId}, which is being undeployed.`);
      }
      const rest = { ...requested };
      delete rest[dmId];
      traffic = this.checkTraffic(rest, remaining, 'traffic_split');
      if (!Object.keys(traffic).length) throw invalidArgument('traffic_split must sum to 100 over the DeployedModels that remain.', 'traffic_split');
    } else {
      const share = e.trafficSplit[dmId] ?? 0;
      if (share > 0) {
        throw failedPrecondition(
          `DeployedModel ${dmId} has ${share}% of the traffic of Endpoint \`${this.endpointName(e)}\`; pass a traffic_split that moves it to the remaining DeployedModels.`,
        );
      }
      traffic = { ...e.trafficSplit };
      delete traffic[dmId];
    }
    const op = this.startOperation(
      this.endpointName(e),
      'undeployModel',
      'UndeployModelOperationMetadata',
      `${API}UndeployModelResponse`,
      () => {
        e.busyWith = undefined;
        e.deployedModels = e.deployedModels.filter((d) => d !== dm);
        e.trafficSplit = traffic;
        this.touch(e);
        return {};
      },
      () => {
        e.busyWith = undefined;
      },
    );
    e.busyWith = op.name;
    return this.operationJson(op);
  }

  mutateDeployedModel(location: string, id: string, body: JsonObject, updateMask: string | undefined): JsonObject {
    const e = this.endpoint(location, id);
    const dm = obj(body, 'deployedModel');
    if (!dm) throw fieldErrors([{ field: 'deployed_model', message: REQUIRED }]);
    if (!updateMask) throw fieldErrors([{ field: 'update_mask', message: REQUIRED }]);
    const target = e.deployedModels.find((d) => d.id === str(dm, 'id'));
    if (!target) throw notFound(`DeployedModel with id "${str(dm, 'id') ?? ''}" not found in Endpoint \`${this.endpointName(e)}\`.`);
    const mutable = new Map([
      ['dedicated_resources.min_replica_count', 'minReplicaCount'],
      ['dedicated_resources.max_replica_count', 'maxReplicaCount'],
      ['dedicated_resources.required_replica_count', 'requiredReplicaCount'],
      ['dedicated_resources.autoscaling_metric_specs', 'autoscalingMetricSpecs'],
      ['dedicatedResources.minReplicaCount', 'minReplicaCount'],
      ['dedicatedResources.maxReplicaCount', 'maxReplicaCount'],
      ['dedicatedResources.requiredReplicaCount', 'requiredReplicaCount'],
      ['dedicatedResources.autoscalingMetricSpecs', 'autoscalingMetricSpecs'],
      ['disable_container_logging', 'disableContainerLogging'],
      ['disableContainerLogging', 'disableContainerLogging'],
    ]);
    const current = obj(target.spec, 'dedicatedResources') ?? {};
    const merged: JsonObject = { ...current };
    let disableLogging: Json | undefined;
    for (const p of updateMask.split(',').map((s) => s.trim()).filter(Boolean)) {
      const f = mutable.get(p);
      if (!f) throw invalidArgument(`update_mask path "${p}" is not mutable; only replica counts, autoscaling_metric_specs and disable_container_logging can change.`, 'update_mask');
      if (f === 'disableContainerLogging') disableLogging = dm.disableContainerLogging ?? false;
      else {
        const v = obj(dm, 'dedicatedResources')?.[f];
        if (v === undefined) delete merged[f];
        else merged[f] = v;
      }
    }
    const { errors, normalised } = checkDedicatedResources(merged, 'deployed_model.dedicated_resources');
    if (errors.length) throw fieldErrors(errors);
    this.busy(e);
    const op = this.startOperation(
      this.endpointName(e),
      'mutateDeployedModel',
      'MutateDeployedModelOperationMetadata',
      `${API}MutateDeployedModelResponse`,
      () => {
        e.busyWith = undefined;
        target.spec = { ...target.spec, dedicatedResources: normalised, ...(disableLogging !== undefined ? { disableContainerLogging: disableLogging } : {}) };
        this.touch(e);
        return { deployedModel: this.deployedModelJson(target, location) };
      },
      () => {
        e.busyWith = undefined;
      },
    );
    e.busyWith = op.name;
    return this.operationJson(op);
  }

  // ---- prediction ----------------------------------------------------------------------------------------------

  /** Picks the DeployedModel a request goes to: a deterministic weighted round robin over the traffic split. */
  route(location: string, id: string, requestedName: string): { endpoint: EndpointRecord; deployedModel: DeployedModelRecord } {
    const e = this.endpoints.get(this.key(location, id));
    if (!e || e.pending) throw notFound(`Endpoint \`${requestedName}\` not found.`);
    const weighted = Object.entries(e.trafficSplit).filter(([, v]) => v > 0);
    if (!weighted.length || !e.deployedModels.length) throw failedPrecondition(`Endpoint ${requestedName} doesn't have traffic_split.`);
    const slot = this.trafficCounter++ % 100;
    let acc = 0;
    for (const [dmId, share] of weighted) {
      acc += share;
      if (slot < acc) {
        const dm = e.deployedModels.find((d) => d.id === dmId);
        if (dm) return { endpoint: e, deployedModel: dm };
      }
    }
    return { endpoint: e, deployedModel: e.deployedModels.find((d) => d.id === weighted[0]?.[0]) as DeployedModelRecord };
  }

  modelDisplayName(location: string, dm: DeployedModelRecord): string {
    const model = this.models.get(this.key(location, dm.modelId));
    return str(model?.versions.get(dm.modelVersionId)?.spec, 'displayName') ?? '';
  }

  // ---- inspection ----------------------------------------------------------------------------------------------

  listing(): Listing {
    const models: Listing['models'] = [];
    for (const m of this.models.values()) {
      for (const v of m.versions.values()) {
        models.push({ name: this.modelName(m), versionId: v.versionId, displayName: str(v.spec, 'displayName') ?? '', labels: stringMap(v.spec, 'labels') });
      }
    }
    const endpoints: Listing['endpoints'] = [];
    const deployedModels: Listing['deployedModels'] = [];
    for (const e of this.endpoints.values()) {
      if (e.pending) continue;
      endpoints.push({ name: this.endpointName(e), displayName: e.displayName, labels: e.labels, trafficSplit: e.trafficSplit });
      for (const d of e.deployedModels) {
        deployedModels.push({ endpoint: this.endpointName(e), id: d.id, model: `${this.parent(e.location)}/models/${d.modelId}`, modelVersionId: d.modelVersionId });
      }
    }
    const operationsInFlight = [...this.operations.values()].filter((o) => !o.done).map((o) => ({ name: o.name, kind: o.kind }));
    return { models, endpoints, deployedModels, operationsInFlight };
  }

  /** Finishes every operation in flight now (one whose cancel was asked for ends cancelled) and stops holding. */
  settle(): void {
    this.holding = undefined;
    for (const op of this.operations.values()) if (!op.done) this.finish(op);
  }

  /** Back to empty: no resources, operations, injected failures or holding. */
  reset(): void {
    this.models.clear();
    this.endpoints.clear();
    this.operations.clear();
    this.failures.clear();
    this.trafficCounter = 0;
    this.holding = undefined;
  }
}
