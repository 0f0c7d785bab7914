import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { VertexError, invalidArgument } from './vertex-errors.js';
import { ProtoSchema } from './vertex-schema.js';
import type { Json, JsonObject } from './vertex-schema.js';
import { VertexState } from './vertex-state.js';
import type { DeployedModelRecord, InjectedFailure, Listing, OperationKind } from './vertex-state.js';
import { fieldErrors, isObject } from './vertex-validate.js';

export type { InjectedFailure, Listing, OperationKind } from './vertex-state.js';
export { VertexError } from './vertex-errors.js';

/**
 * A strict fake of the Vertex AI v1 REST API (ModelService, EndpointService, PredictionService, Operations) as the
 * REST-fallback transport of @google-cloud/aiplatform speaks it. See README.md beside this file.
 */

export interface FakeVertexOptions {
  port?: number;
  projectId?: string;
  /** Resource names in responses carry the project NUMBER, as on the real service. */
  projectNumber?: string;
  /** Locations this fake serves; others get 400 as on a regional host that does not own them. */
  locations?: string[];
  /** When set, the bearer token must be exactly this; otherwise any non-empty bearer token passes. */
  accessToken?: string;
}

export interface PredictCall {
  endpoint: string;
  deployedModelId: string;
  /** The request body exactly as it arrived. */
  rawBody: string;
  instances: Json[];
  parameters: Json | undefined;
  /**
   * Indexes of instances that are objects keyed "0","1",… — the signature of an array that a JSON encoder turned
   * into an object (gax 5.0.8's REST fallback does this to arrays nested in arrays).
   */
  mangledInstances: number[];
  status: number;
}

export interface PredictRequestView {
  endpoint: string;
  deployedModel: { id: string; model: string; modelVersionId: string; displayName: string };
  instances: Json[];
  parameters: Json | undefined;
  rawBody: string;
}

/** What the serving container answers; a thrown PredictionError becomes the error the caller sees. */
export type PredictHandler = (req: PredictRequestView) => Json[] | Promise<Json[]>;

export interface RawPredictResult {
  status?: number;
  contentType?: string;
  body: string | Buffer;
}

export type RawPredictHandler = (req: {
  endpoint: string;
  deployedModel: PredictRequestView['deployedModel'];
  contentType: string;
  body: Buffer;
}) => RawPredictResult | Promise<RawPredictResult>;

/** An error raised by the model server: Vertex relays the container's status and body text. */
export class PredictionError extends Error {
  constructor(
    readonly httpStatus: number,
    message: string,
  ) {
    super(message);
  }
}

export interface RecordedVertexRequest {
  time: number;
  method: string;
  path: string;
  query: Record<string, string>;
  /** The RPC the request mapped to, e.g. 'EndpointService.DeployModel', or undefined for an unknown route. */
  rpc?: string;
  /** Parsed JSON body, or the raw text when it was not JSON. */
  body?: unknown;
  rawBody: string;
  hasAuthorization: boolean;
  status: number;
}

/** A predict handler for row-oriented tabular models: each instance must be a list of numbers. */
export function tabularHandler(score: (row: number[]) => Json): PredictHandler {
  return ({ instances }) =>
    instances.map((row, i) => {
      if (!Array.isArray(row) || !row.every((x) => typeof x === 'number')) {
        throw new PredictionError(400, `{"error": "Prediction failed: instance ${i} is not a list of numbers: ${JSON.stringify(row)}"}`);
      }
      return score(row as number[]);
    });
}

const echoHandler: PredictHandler = ({ instances }) => instances;

/** Objects keyed exactly "0".."n-1": what an array becomes after `Object.assign({}, array)`. */
function looksMangled(v: Json): boolean {
  if (!isObject(v)) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k, i) => k === String(i));
}

const MISSING_CREDENTIALS =
  'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';
const INVALID_CREDENTIALS =
  'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';

const BODY_LIMIT = 10 * 1024 * 1024;
/** Online prediction request size limit. */
const PREDICT_LIMIT = 1572864;

const V1 = 'google.cloud.aiplatform.v1.';

interface Rpc {
  name: string;
  requestType: string;
  /** Request fields bound by the URL path (camelCase). */
  bound: string[];
  /** '*' = the whole body is the request; a field name = the body is that field; undefined = no body. */
  body?: string;
  /** Message type of the body when `body` names a field. */
  bodyType?: string;
  permission: string;
  responseType: string;
  /** Real RPCs the fake does not serve: answered 501 UNIMPLEMENTED before any parsing. */
  unimplemented?: boolean;
}

const OPERATION = 'google.longrunning.Operation';

const rpc = (name: string, requestType: string, permission: string, responseType: string, bound: string[], body?: string, bodyType?: string): Rpc => ({
  name,
  requestType: requestType.includes('.') ? requestType : V1 + requestType,
  permission,
  responseType,
  bound,
  ...(body !== undefined ? { body } : {}),
  ...(bodyType !== undefined ? { bodyType } : {}),
});

const unimplemented = (route: Route): Route => ({ ...route, rpc: { ...route.rpc, unimplemented: true } });

interface Route {
  rpc: Rpc;
  location: string;
  project: string;
  id?: string;
  /** For operations: the operation's full name as requested. */
  opName?: string;
}

export class FakeVertex {
  readonly state: VertexState;
  /** Emits `response` with each recorded request once its answer is sent (its status set). */
  readonly events = new EventEmitter<{ response: [RecordedVertexRequest] }>();
  readonly requests: RecordedVertexRequest[] = [];
  readonly predictCalls: PredictCall[] = [];
  readonly projectId: string;
  readonly projectNumber: string;
  readonly locations: string[];
  url = '';
  port = 0;
  private server?: Server;
  private readonly schema = ProtoSchema.get();
  private readonly predictHandlers = new Map<string, PredictHandler>();
  private defaultPredictHandler: PredictHandler = echoHandler;
  private readonly rawHandlers = new Map<string, RawPredictHandler>();
  private faults: { status: 'RESOURCE_EXHAUSTED' | 'UNAVAILABLE'; times: number; rpcs?: string[] }[] = [];
  private dropped: string[] = [];

  constructor(private readonly options: FakeVertexOptions = {}) {
    this.projectId = options.projectId ?? 'test-project';
    this.projectNumber = options.projectNumber ?? '123456789012';
    this.locations = options.locations ?? ['us-central1'];
    this.state = new VertexState({
      projectId: this.projectId,
      projectNumber: this.projectNumber,
      locations: this.locations,
    });
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(this.options.port ?? 0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}`;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // ---- control API -----------------------------------------------------------------------------------------------

  /** The model server behind an endpoint (id or full name). Without one the fake echoes the instances back. */
  setPredictHandler(endpoint: string, handler: PredictHandler): void {
    this.predictHandlers.set(endpoint.slice(endpoint.lastIndexOf('/') + 1), handler);
  }

  /** The model server behind every endpoint that has none of its own (default: echo the instances). */
  setDefaultPredictHandler(handler: PredictHandler = echoHandler): void {
    this.defaultPredictHandler = handler;
  }

  setRawPredictHandler(endpoint: string, handler: RawPredictHandler): void {
    this.rawHandlers.set(endpoint.slice(endpoint.lastIndexOf('/') + 1), handler);
  }

  /** The next operation of this kind ends `done: true` with `error: {code, message}` and changes nothing. */
  failNextOperation(kind: OperationKind, failure: InjectedFailure): void {
    this.state.failNextOperation(kind, failure);
  }

  /** The next `times` API calls (optionally only these RPCs, e.g. 'PredictionService.Predict') get 429 RESOURCE_EXHAUSTED. */
  rateLimit(times = 1, rpcs?: string[]): void {
    this.faults.push({ status: 'RESOURCE_EXHAUSTED', times, ...(rpcs ? { rpcs } : {}) });
  }

  /** The next `times` API calls (optionally only these RPCs) get 503 UNAVAILABLE. */
  unavailable(times = 1, rpcs?: string[]): void {
    this.faults.push({ status: 'UNAVAILABLE', times, ...(rpcs ? { rpcs } : {}) });
  }

  /** Drops injected 429/503 answers and lost responses not yet given. */
  clearFaults(): void {
    this.faults = [];
    this.dropped = [];
  }

  /** The next call of this RPC (e.g. 'EndpointService.DeployModel') takes effect, but its connection is cut before the answer. */
  dropNextResponse(rpcName: string): void {
    this.dropped.push(rpcName);
  }

  /** Long-running operations (of these kinds, or all) stay in progress until `settle()` (a cancel is noted, and ends them cancelled then). */
  hold(kinds?: readonly OperationKind[]): void {
    this.state.hold(kinds);
  }

  /** Finish every operation in progress and stop holding: without holding, an operation finishes on its first look. */
  settle(): void {
    this.state.settle();
  }

  /** Back to empty: state, recorded requests and predictions, handlers, faults. */
  reset(): void {
    this.state.reset();
    this.requests.length = 0;
    this.predictCalls.length = 0;
    this.predictHandlers.clear();
    this.rawHandlers.clear();
    this.defaultPredictHandler = echoHandler;
    this.clearFaults();
  }

  listing(): Listing {
    return this.state.listing();
  }

  // ---- HTTP ------------------------------------------------------------------------------------------------------

  private send(res: ServerResponse, status: number, body: unknown): void {
    // Google front ends pretty-print JSON unless $prettyPrint=0.
    const text = JSON.stringify(body, null, 2);
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private sendError(res: ServerResponse, err: VertexError): void {
    const headers: Record<string, string> = {};
    if (err.status === 'UNAUTHENTICATED') headers['www-authenticate'] = 'Bearer realm="https://accounts.google.com/"';
    const text = JSON.stringify(err.body(), null, 2);
    res.writeHead(err.httpStatus, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  private async readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let n = 0;
    let over = false;
    for await (const chunk of req) {
      n += (chunk as Buffer).length;
      if (n > limit) over = true;
      else chunks.push(chunk as Buffer);
    }
    if (over) throw invalidArgument(`Request payload size exceeds the limit: ${limit} bytes.`);
    return Buffer.concat(chunks);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const record: RecordedVertexRequest = {
      time: Date.now(),
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      rawBody: '',
      hasAuthorization: typeof req.headers.authorization === 'string',
      status: 0,
    };
    res.once('finish', () => {
      record.status = res.statusCode;
      if (!url.pathname.startsWith('/__fake/')) this.events.emit('response', record);
    });
    try {
      if (url.pathname.startsWith('/__fake/')) {
        await this.control(req, res, url);
        return;
      }
      this.requests.push(record);
      const route = this.match(req.method ?? 'GET', url.pathname);
      const isPredict = route?.rpc.name === 'PredictionService.Predict' || route?.rpc.name === 'PredictionService.RawPredict';
      const raw = await this.readBody(req, isPredict ? PREDICT_LIMIT : BODY_LIMIT);
      record.rawBody = raw.toString('utf8');
      if (route) record.rpc = route.rpc.name;
      this.checkAuth(req);
      if (!route) {
        // Unknown paths get Google's HTML 404 page, not a JSON error.
        res.writeHead(404, { 'content-type': 'text/html; charset=UTF-8' });
        res.end(`<!DOCTYPE html>\n<html lang=en><title>Error 404 (Not Found)!!1</title><p><b>404.</b> <ins>That’s an error.</ins><p>The requested URL <code>${url.pathname}</code> was not found on this server.  <ins>That’s all we know.</ins>\n`);
        return;
      }
      this.checkFaults(route);
      this.checkProject(route);
      if (route.rpc.unimplemented) throw new VertexError('UNIMPLEMENTED', `fake-vertex does not implement ${route.rpc.name}.`);
      const alt = url.searchParams.get('$alt') ?? url.searchParams.get('alt') ?? 'json';
      if (alt !== 'json' && alt !== 'json;enum-encoding=int') throw invalidArgument(`Invalid value for $alt: "${alt}". The fake speaks JSON only.`);
      const numeric = alt === 'json;enum-encoding=int';
      if (route.rpc.name === 'PredictionService.RawPredict') {
        await this.rawPredict(req, res, route, raw);
        return;
      }
      const query = this.schema.query(route.rpc.requestType, url.searchParams, new Set([...route.rpc.bound, ...(route.rpc.body === '*' ? [] : route.rpc.body ? [route.rpc.body] : [])]));
      let body: JsonObject = {};
      if (route.rpc.body !== undefined) {
        const parsed = this.parseJson(raw, req.headers['content-type']);
        record.body = parsed;
        body =
          route.rpc.body === '*'
            ? this.schema.message(route.rpc.requestType, parsed)
            : this.schema.message(route.rpc.bodyType as string, parsed, route.rpc.body);
      } else if (raw.length > 0 && !['""', '{}'].includes(raw.toString('utf8').trim())) {
        // gax sends `""` for a POST whose http rule has no body (operations :cancel); anything more is a client bug.
        throw invalidArgument('Invalid JSON payload received. The request body must be empty for this method.');
      }
      const result = await this.dispatch(route, query, body, raw);
      const drop = this.dropped.indexOf(route.rpc.name);
      if (drop >= 0) {
        // Done, but the answer never arrives: the connection is cut, as by a network failure.
        this.dropped.splice(drop, 1);
        res.destroy();
        return;
      }
      this.send(res, 200, this.schema.output(route.rpc.responseType, result as Json, numeric));
    } catch (err) {
      if (res.headersSent) {
        res.destroy(err as Error);
        return;
      }
      if (!req.readableEnded) req.resume();
      if (err instanceof VertexError) this.sendError(res, err);
      else if (err instanceof PredictionError) this.sendError(res, new VertexError(err.httpStatus >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT', err.message));
      else this.sendError(res, new VertexError('INTERNAL', `fake-vertex internal error: ${(err as Error).stack ?? String(err)}`));
    }
  }

  private parseJson(raw: Buffer, contentType: string | undefined): JsonObject {
    if (raw.length === 0) return {};
    if (contentType && !/^application\/json\b/i.test(contentType)) {
      throw invalidArgument(`Invalid JSON payload received. Content-Type "${contentType}" is not application/json.`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch (e) {
      throw invalidArgument(`Invalid JSON payload received. ${(e as Error).message}`);
    }
    if (!isObject(parsed)) throw invalidArgument('Invalid JSON payload received. Expected an object at the top level.');
    return parsed;
  }

  private checkAuth(req: IncomingMessage): void {
    const header = req.headers.authorization;
    if (!header) {
      throw new VertexError('UNAUTHENTICATED', MISSING_CREDENTIALS, [
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'CREDENTIALS_MISSING', domain: 'googleapis.com', metadata: { service: 'aiplatform.googleapis.com' } },
      ]);
    }
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m || (this.options.accessToken !== undefined && m[1] !== this.options.accessToken)) {
      throw new VertexError('UNAUTHENTICATED', INVALID_CREDENTIALS, [
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'ACCESS_TOKEN_TYPE_UNSUPPORTED', domain: 'googleapis.com', metadata: { service: 'aiplatform.googleapis.com' } },
      ]);
    }
  }

  private checkFaults(route: Route): void {
    const i = this.faults.findIndex((f) => !f.rpcs || f.rpcs.includes(route.rpc.name));
    if (i < 0) return;
    const fault = this.faults[i] as (typeof this.faults)[number];
    if (--fault.times <= 0) this.faults.splice(i, 1);
    if (fault.status === 'UNAVAILABLE') throw new VertexError('UNAVAILABLE', 'The service is currently unavailable.');
    throw new VertexError(
      'RESOURCE_EXHAUSTED',
      `Quota exceeded for quota metric '${route.rpc.name === 'PredictionService.Predict' || route.rpc.name === 'PredictionService.RawPredict' ? 'Online prediction requests' : 'Resource management (CRUD) requests'}' and limit 'per minute per region' of service 'aiplatform.googleapis.com' for consumer 'project_number:${this.projectNumber}'.`,
      [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'RATE_LIMIT_EXCEEDED', domain: 'googleapis.com', metadata: { service: 'aiplatform.googleapis.com', consumer: `projects/${this.projectNumber}` } }],
    );
  }

  private checkProject(route: Route): void {
    if (route.project !== this.projectId && route.project !== this.projectNumber) {
      // Google answers 403 for a project the caller cannot see, whether or not it exists.
      throw new VertexError(
        'PERMISSION_DENIED',
        `Permission '${route.rpc.permission}' denied on resource '//aiplatform.googleapis.com/projects/${route.project}/locations/${route.location}' (or it may not exist).`,
        [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'IAM_PERMISSION_DENIED', domain: 'aiplatform.googleapis.com', metadata: { permission: route.rpc.permission } }],
      );
    }
    if (!this.locations.includes(route.location)) {
      // A regional host answers only for its own location.
      throw invalidArgument(`Request contains an invalid argument. Location "${route.location}" is not served by this endpoint (serves ${this.locations.join(', ')}).`, 'name');
    }
  }

  /** Maps method + path to an RPC, as the http rules in the v1 protos do. */
  private match(method: string, pathname: string): Route | undefined {
    const segments = pathname.split('/').slice(1);
    let decoded: string[];
    try {
      decoded = segments.map((s) => decodeURIComponent(s));
    } catch {
      return undefined;
    }
    const [version, p, project, l, location, collection, ...rest] = decoded;
    if ((version !== 'v1' && version !== 'ui') || p !== 'projects' || l !== 'locations' || !project || !location) return undefined;
    // Operations: …/operations/{id} under the location or under a resource, polled via /ui/ (the SDK) or /v1/.
    const opIndex = decoded.lastIndexOf('operations');
    if (opIndex >= 5 && opIndex === decoded.length - 2) {
      const last = decoded[decoded.length - 1] as string;
      const [opId, verb] = last.split(':', 2) as [string, string | undefined];
      const opName = [...decoded.slice(1, -1), opId].join('/');
      if (method === 'GET' && verb === undefined) {
        return { rpc: rpc('Operations.GetOperation', 'google.longrunning.GetOperationRequest', 'aiplatform.operations.get', OPERATION, ['name']), project, location, opName };
      }
      if (method === 'POST' && verb === 'cancel') {
        return { rpc: rpc('Operations.CancelOperation', 'google.longrunning.CancelOperationRequest', 'aiplatform.operations.cancel', 'google.protobuf.Empty', ['name']), project, location, opName };
      }
      return undefined;
    }
    if (version !== 'v1' || !collection) return undefined;
    const [collectionName, collectionVerb] = collection.split(':', 2) as [string, string | undefined];
    if (collectionName === 'models' && rest.length === 0) {
      if (collectionVerb === 'upload' && method === 'POST') {
        return { rpc: rpc('ModelService.UploadModel', 'UploadModelRequest', 'aiplatform.models.upload', OPERATION, ['parent'], '*'), project, location };
      }
      if (collectionVerb === undefined && method === 'GET') {
        return { rpc: rpc('ModelService.ListModels', 'ListModelsRequest', 'aiplatform.models.list', `${V1}ListModelsResponse`, ['parent']), project, location };
      }
      return undefined;
    }
    if (collectionName === 'endpoints' && collectionVerb === undefined && rest.length === 0) {
      if (method === 'POST') {
        return { rpc: rpc('EndpointService.CreateEndpoint', 'CreateEndpointRequest', 'aiplatform.endpoints.create', OPERATION, ['parent'], 'endpoint', `${V1}Endpoint`), project, location };
      }
      if (method === 'GET') {
        return { rpc: rpc('EndpointService.ListEndpoints', 'ListEndpointsRequest', 'aiplatform.endpoints.list', `${V1}ListEndpointsResponse`, ['parent']), project, location };
      }
      return undefined;
    }
    if (rest.length !== 1 || collectionVerb !== undefined) return undefined;
    const [id, verb] = (rest[0] as string).split(':', 2) as [string, string | undefined];
    if (!id) return undefined;
    if (collectionName === 'models') {
      const r = (name: string, req: string, perm: string, resp: string): Route => ({ rpc: rpc(name, req, perm, resp, ['name']), project, location, id });
      if (verb === undefined && method === 'GET') return r('ModelService.GetModel', 'GetModelRequest', 'aiplatform.models.get', `${V1}Model`);
      if (verb === undefined && method === 'DELETE') return r('ModelService.DeleteModel', 'DeleteModelRequest', 'aiplatform.models.delete', OPERATION);
      if (verb === 'listVersions' && method === 'GET') return r('ModelService.ListModelVersions', 'ListModelVersionsRequest', 'aiplatform.models.list', `${V1}ListModelVersionsResponse`);
      if (verb === 'mergeVersionAliases' && method === 'POST') {
        return { rpc: rpc('ModelService.MergeVersionAliases', 'MergeVersionAliasesRequest', 'aiplatform.models.update', `${V1}Model`, ['name'], '*'), project, location, id };
      }
      if (verb === 'deleteVersion' && method === 'DELETE') return r('ModelService.DeleteModelVersion', 'DeleteModelVersionRequest', 'aiplatform.models.delete', OPERATION);
      if (verb === undefined && method === 'PATCH') return unimplemented(r('ModelService.UpdateModel', 'UpdateModelRequest', 'aiplatform.models.update', `${V1}Model`));
      return undefined;
    }
    if (collectionName === 'endpoints') {
      const r = (name: string, req: string, perm: string, resp: string, bound: string, body?: string, bodyType?: string): Route => ({
        rpc: rpc(name, req, perm, resp, [bound], body, bodyType),
        project,
        location,
        id,
      });
      if (verb === undefined && method === 'GET') return r('EndpointService.GetEndpoint', 'GetEndpointRequest', 'aiplatform.endpoints.get', `${V1}Endpoint`, 'name');
      if (verb === undefined && method === 'DELETE') return r('EndpointService.DeleteEndpoint', 'DeleteEndpointRequest', 'aiplatform.endpoints.delete', OPERATION, 'name');
      if (verb === undefined && method === 'PATCH') {
        return r('EndpointService.UpdateEndpoint', 'UpdateEndpointRequest', 'aiplatform.endpoints.update', `${V1}Endpoint`, 'endpoint.name', 'endpoint', `${V1}Endpoint`);
      }
      if (method !== 'POST') return undefined;
      switch (verb) {
        case 'deployModel':
          return r('EndpointService.DeployModel', 'DeployModelRequest', 'aiplatform.endpoints.deploy', OPERATION, 'endpoint', '*');
        case 'undeployModel':
          return r('EndpointService.UndeployModel', 'UndeployModelRequest', 'aiplatform.endpoints.undeploy', OPERATION, 'endpoint', '*');
        case 'mutateDeployedModel':
          return r('EndpointService.MutateDeployedModel', 'MutateDeployedModelRequest', 'aiplatform.endpoints.deploy', OPERATION, 'endpoint', '*');
        case 'update':
          return unimplemented(r('EndpointService.UpdateEndpointLongRunning', 'UpdateEndpointLongRunningRequest', 'aiplatform.endpoints.update', OPERATION, 'endpoint.name', '*'));
        case 'predict':
          return r('PredictionService.Predict', 'PredictRequest', 'aiplatform.endpoints.predict', `${V1}PredictResponse`, 'endpoint', '*');
        case 'rawPredict':
          return r('PredictionService.RawPredict', 'RawPredictRequest', 'aiplatform.endpoints.predict', 'google.api.HttpBody', 'endpoint', '*');
        case 'explain':
        case 'streamRawPredict':
        case 'directPredict':
        case 'directRawPredict':
        case 'serverStreamingPredict':
          return unimplemented(r(`PredictionService.${verb.charAt(0).toUpperCase()}${verb.slice(1)}`, 'PredictRequest', 'aiplatform.endpoints.predict', `${V1}PredictResponse`, 'endpoint', '*'));
      }
    }
    return undefined;
  }

  private async dispatch(route: Route, query: Record<string, Json>, body: JsonObject, raw: Buffer): Promise<JsonObject> {
    const { location } = route;
    const id = route.id as string;
    const s = this.state;
    this.look(route);
    switch (route.rpc.name) {
      case 'Operations.GetOperation':
        return s.getOperation(this.canonicalOpName(route.opName as string));
      case 'Operations.CancelOperation':
        return s.cancelOperation(this.canonicalOpName(route.opName as string));
      case 'ModelService.UploadModel':
        return s.uploadModel(location, body);
      case 'ModelService.ListModels':
        return s.listModels(location, query);
      case 'ModelService.GetModel':
        return s.getModel(location, id);
      case 'ModelService.DeleteModel':
        return s.deleteModel(location, id);
      case 'ModelService.ListModelVersions':
        return s.listModelVersions(location, id, query);
      case 'ModelService.MergeVersionAliases':
        return s.mergeVersionAliases(location, id, body);
      case 'ModelService.DeleteModelVersion':
        return s.deleteModelVersion(location, id);
      case 'EndpointService.CreateEndpoint':
        return s.createEndpoint(location, body, typeof query.endpointId === 'string' && query.endpointId !== '' ? query.endpointId : undefined);
      case 'EndpointService.ListEndpoints':
        return s.listEndpoints(location, query);
      case 'EndpointService.GetEndpoint':
        return s.getEndpoint(location, id);
      case 'EndpointService.UpdateEndpoint':
        return s.updateEndpoint(location, id, body, typeof query.updateMask === 'string' ? query.updateMask : undefined);
      case 'EndpointService.DeleteEndpoint':
        return s.deleteEndpoint(location, id);
      case 'EndpointService.DeployModel':
        return s.deployModel(location, id, body);
      case 'EndpointService.UndeployModel':
        return s.undeployModel(location, id, body);
      case 'EndpointService.MutateDeployedModel':
        return s.mutateDeployedModel(location, id, body, typeof body.updateMask === 'string' ? body.updateMask : undefined);
      case 'PredictionService.Predict':
        return this.predict(route, body, raw);
    }
    throw new VertexError('UNIMPLEMENTED', `fake-vertex does not implement ${route.rpc.name}.`);
  }

  /** A read of a resource is a look at it: what runs on it finishes then, unless held (see vertex-state.ts). */
  private look(route: Route): void {
    const { location } = route;
    const id = (route.id ?? '').split('@')[0] ?? '';
    const s = this.state;
    switch (route.rpc.name) {
      case 'EndpointService.GetEndpoint':
        return s.look(s.endpointName({ location, id }));
      case 'EndpointService.ListEndpoints':
        return s.look(s.collection(location, 'endpoints'));
      case 'ModelService.GetModel':
      case 'ModelService.ListModelVersions':
        return s.look(s.modelName({ location, id }));
      case 'ModelService.ListModels':
        return s.look(s.collection(location, 'models'));
    }
  }

  /** Operation names are stored with the project number; a client may poll with the id it used. */
  private canonicalOpName(name: string): string {
    return name.replace(/^projects\/[^/]+\//, `projects/${this.projectNumber}/`);
  }

  private view(location: string, dm: DeployedModelRecord): PredictRequestView['deployedModel'] {
    return {
      id: dm.id,
      model: `projects/${this.projectNumber}/locations/${location}/models/${dm.modelId}`,
      modelVersionId: dm.modelVersionId,
      displayName: dm.displayName,
    };
  }

  private requestedEndpointName(route: Route): string {
    return `projects/${route.project}/locations/${route.location}/endpoints/${route.id as string}`;
  }

  private async predict(route: Route, body: JsonObject, raw: Buffer): Promise<JsonObject> {
    const call: PredictCall = {
      endpoint: this.requestedEndpointName(route),
      deployedModelId: '',
      rawBody: raw.toString('utf8'),
      instances: [],
      parameters: undefined,
      mangledInstances: [],
      status: 0,
    };
    this.predictCalls.push(call);
    try {
      const instances = Array.isArray(body.instances) ? body.instances : [];
      call.instances = instances;
      call.parameters = body.parameters;
      call.mangledInstances = instances.flatMap((v, i) => (looksMangled(v) ? [i] : []));
      if (instances.length === 0) throw fieldErrors([{ field: 'instances', message: 'Required field is not set.' }]);
      const { endpoint, deployedModel } = this.state.route(route.location, route.id as string, call.endpoint);
      call.deployedModelId = deployedModel.id;
      const handler = this.predictHandlers.get(endpoint.id) ?? this.defaultPredictHandler;
      const view = this.view(route.location, deployedModel);
      const predictions = await handler({ endpoint: this.state.endpointName(endpoint), deployedModel: view, instances, parameters: body.parameters, rawBody: call.rawBody });
      call.status = 200;
      return {
        predictions,
        deployedModelId: deployedModel.id,
        model: view.model,
        modelDisplayName: this.state.modelDisplayName(route.location, deployedModel),
        modelVersionId: deployedModel.modelVersionId,
      };
    } catch (err) {
      call.status = err instanceof VertexError ? err.httpStatus : err instanceof PredictionError ? err.httpStatus : 500;
      throw err;
    }
  }

  /**
   * rawPredict over REST takes the HTTP body as is (google.api.HttpBody binding): whatever bytes arrive go to the model
   * server, and its reply is returned as is, with the ids in X-Vertex-AI-* headers.
   */
  private async rawPredict(req: IncomingMessage, res: ServerResponse, route: Route, raw: Buffer): Promise<void> {
    const requested = this.requestedEndpointName(route);
    const { endpoint, deployedModel } = this.state.route(route.location, route.id as string, requested);
    const contentType = req.headers['content-type'] ?? 'application/octet-stream';
    const view = this.view(route.location, deployedModel);
    let result: RawPredictResult;
    const rawHandler = this.rawHandlers.get(endpoint.id);
    if (rawHandler) {
      result = await rawHandler({ endpoint: this.state.endpointName(endpoint), deployedModel: view, contentType, body: raw });
    } else {
      // Default model server: JSON {"instances": [...]} in, {"predictions": [...]} out, through the predict handler.
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new PredictionError(400, '{"error": "The model server expected a JSON body."}');
      }
      const instances = isObject(parsed) && Array.isArray(parsed.instances) ? (parsed.instances as Json[]) : undefined;
      if (!instances) throw new PredictionError(400, `{"error": "The model server expected {\\"instances\\": [...]}, got keys ${JSON.stringify(isObject(parsed) ? Object.keys(parsed) : typeof parsed)}."}`);
      const handler = this.predictHandlers.get(endpoint.id) ?? this.defaultPredictHandler;
      const predictions = await handler({ endpoint: this.state.endpointName(endpoint), deployedModel: view, instances, parameters: isObject(parsed) ? (parsed.parameters as Json) : undefined, rawBody: raw.toString('utf8') });
      result = { contentType: 'application/json', body: JSON.stringify({ predictions }) };
    }
    const out = typeof result.body === 'string' ? Buffer.from(result.body) : result.body;
    res.writeHead(result.status ?? 200, {
      'content-type': result.contentType ?? 'application/octet-stream',
      'content-length': out.length,
      'x-vertex-ai-endpoint-id': endpoint.id,
      'x-vertex-ai-deployed-model-id': deployedModel.id,
    });
    res.end(out);
  }

  /**
   * HTTP control plane for a fake run as its own process (main.ts): GET /__fake/listing, GET /__fake/requests,
   * GET /__fake/predict-calls, POST /__fake/fail-next-operation {kind, code, message, logsLink}, POST /__fake/rate-limit {times},
   * POST /__fake/unavailable {times}, POST /__fake/hold, POST /__fake/settle, PUT /__fake/predict/{endpointId}
   * {predictions} (a fixed answer) or {echo: true}.
   */
  private async control(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname.slice('/__fake/'.length);
    const raw = await this.readBody(req, BODY_LIMIT);
    const body = raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
    const method = req.method ?? 'GET';
    const times = typeof body.times === 'number' ? body.times : 1;
    if (method === 'GET' && path === 'listing') return this.send(res, 200, this.listing());
    if (method === 'GET' && path === 'requests') return this.send(res, 200, this.requests);
    if (method === 'GET' && path === 'predict-calls') return this.send(res, 200, this.predictCalls);
    if (method === 'POST' && path === 'fail-next-operation') {
      this.failNextOperation(body.kind as OperationKind, { code: body.code as number | string, message: String(body.message ?? 'injected failure'), ...(body.logsLink === true ? { logsLink: true } : {}) });
      return this.send(res, 200, {});
    }
    if (method === 'POST' && path === 'rate-limit') {
      this.rateLimit(times, body.rpcs as string[] | undefined);
      return this.send(res, 200, {});
    }
    if (method === 'POST' && path === 'unavailable') {
      this.unavailable(times, body.rpcs as string[] | undefined);
      return this.send(res, 200, {});
    }
    if (method === 'POST' && path === 'hold') {
      this.hold(Array.isArray(body.kinds) ? (body.kinds as OperationKind[]) : undefined);
      return this.send(res, 200, {});
    }
    if (method === 'POST' && path === 'settle') {
      this.settle();
      return this.send(res, 200, {});
    }
    const m = /^predict\/([^/]+)$/.exec(path);
    if (method === 'PUT' && m) {
      const fixed = body.predictions;
      this.setPredictHandler(m[1] as string, Array.isArray(fixed) ? () => fixed as Json[] : echoHandler);
      return this.send(res, 200, {});
    }
    this.send(res, 404, { error: `unknown control call ${method} /__fake/${path}` });
  }
}

export async function startFakeVertex(options: FakeVertexOptions = {}): Promise<FakeVertex> {
  return new FakeVertex(options).start();
}
