import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';

import { ArmError, armFrontDoor } from './arm-errors.js';
import { ArmState, PROVIDER } from './arm-state.js';
import type {
  DatastoreRecord,
  DeploymentRecord,
  FakeResponse,
  FaultKind,
  FaultSpec,
  Operation,
  RequestContext,
  SeedWorkspace,
  WorkspaceRecord,
} from './arm-state.js';
import type { AssetKind } from './arm-validate.js';
import { getTestCert } from './certs.js';
import { EveryOtherFirstTry } from './first-tries.js';
import { ScoringPlane, readBody } from './scoring.js';
import type { ScoreHandler, ScoringCall } from './scoring.js';

export type { FaultKind, FaultSpec, SeedWorkspace } from './arm-state.js';
export type { ScoreHandler, ScoreRequest, ScoreResult, ScoringCall } from './scoring.js';

/** api-versions the fake answers; @azure/arm-machinelearning 2.1.1 sends 2022-10-01. */
export const DEFAULT_API_VERSIONS = ['2022-10-01', '2023-04-01', '2023-10-01', '2024-04-01', '2024-10-01'];

export interface FakeAzureMlOptions {
  subscriptionId?: string;
  tenantId?: string;
  /** Send Retry-After on LRO responses (the real service does; it overrides the SDK's updateIntervalInMs). */
  lroRetryAfterSeconds?: number;
  /** Workspaces to seed; default one: resource group rg1, workspace ws1, eastus. */
  workspaces?: SeedWorkspace[];
  apiVersions?: string[];
  /**
   * Azurite behind the workspace datastores: the fake then creates each datastore container there and checks,
   * when a deployment is created, that the model's blobs exist (else the LRO fails with BadArgument).
   */
  azurite?: { blobEndpoint: string; accountName: string; accountKey: string };
  port?: number;
}

export interface RecordedRequest {
  time: number;
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  status: number;
  /** Whether an Authorization header was present (its value is never stored). */
  hasAuthorization: boolean;
}

const WS_PREFIX =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.MachineLearningServices\/workspaces(?:\/([^/]+)(\/.*)?)?$/i;
const OPERATION =
  /^\/subscriptions\/([^/]+)\/providers\/Microsoft\.MachineLearningServices\/locations\/([^/]+)\/(mfeOperationsStatus|mfeOperationResults)\/([^/]+)$/i;
const INFERENCE = /^\/inference\/([^/]+)\/([^/]+)\/(score|swagger\.json)$/;
const ENTRA = /^\/(?:common\/discovery\/instance|[^/]+\/v2\.0\/\.well-known\/openid-configuration|[^/]+\/oauth2\/v2\.0\/token)$/;

/**
 * A strict fake of Azure ML's ARM control plane (Microsoft.MachineLearningServices, api-version 2022-10-01) and
 * of managed online endpoints' scoring URIs, served over HTTPS on 127.0.0.1 with a throwaway self-signed cert.
 * See README.md beside this file for what it reproduces.
 */
export class FakeAzureMl {
  readonly state: ArmState;
  readonly scoring: ScoringPlane;
  readonly requests: RecordedRequest[] = [];
  private throttleLeft = 0;
  private throttleRetryAfter = 1;
  /** While `throttleEveryOther` is on: which requests it refuses. */
  private alternate: EveryOtherFirstTry | undefined;
  private readonly apiVersions: Set<string>;
  private server?: Server;
  private baseUrl = '';
  private readonly blob?: Promise<typeof import('@azure/storage-blob')>;

  constructor(private readonly options: FakeAzureMlOptions = {}) {
    this.apiVersions = new Set(options.apiVersions ?? DEFAULT_API_VERSIONS);
    if (options.azurite) this.blob = import('@azure/storage-blob');
    this.state = new ArmState({
      subscriptionId: options.subscriptionId ?? '00000000-0000-0000-0000-000000000000',
      tenantId: options.tenantId ?? '11111111-1111-1111-1111-111111111111',
      ...(options.lroRetryAfterSeconds !== undefined ? { lroRetryAfterSeconds: options.lroRetryAfterSeconds } : {}),
      ...(options.azurite ? { blobPrefixExists: (ds, prefix) => this.blobPrefixExists(ds, prefix) } : {}),
    });
    this.scoring = new ScoringPlane(this.state);
  }

  /** https://127.0.0.1:PORT — pass as the SDK's `endpoint` option. */
  get url(): string {
    return this.baseUrl;
  }

  /** PEM file to trust (NODE_EXTRA_CA_CERTS or tlsOptions.ca). */
  get caCertPath(): string {
    return getTestCert().certPath;
  }

  get caPem(): string {
    return getTestCert().cert;
  }

  get subscriptionId(): string {
    return this.state.subscriptionId;
  }

  get tenantId(): string {
    return this.state.options.tenantId;
  }

  get scoringCalls(): ScoringCall[] {
    return this.scoring.calls;
  }

  async listen(): Promise<this> {
    const cert = getTestCert();
    const server = createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
      this.dispatch(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`fake-arm internal error: ${err instanceof Error ? err.stack : String(err)}`);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.baseUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const seed of this.options.workspaces ?? [{ resourceGroup: 'rg1', workspace: 'ws1', location: 'eastus' }]) {
      await this.seedWorkspace(seed);
    }
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // The SDK keeps connections alive; close them or close() waits for their timeout.
      server.closeAllConnections();
    });
  }

  /* --------------------------------------------------------------------------------- control (in-process) */

  /** Adds a resource group (if new), a workspace and its default datastore `workspaceblobstore`. */
  async seedWorkspace(seed: SeedWorkspace): Promise<WorkspaceRecord> {
    const az = this.options.azurite;
    const ws = this.state.seedWorkspace(
      az ? { ...seed, datastore: { accountName: az.accountName, accountKey: az.accountKey, ...seed.datastore } } : seed,
    );
    if (az) {
      const ds = ws.datastores.get('workspaceblobstore');
      if (ds) await (await this.containerClient(ds)).createIfNotExists();
    }
    return ws;
  }

  /** The next matching operation fails: its LRO ends Failed with {code, message}, or the request gets `status`. */
  failNext(kind: FaultKind, fault: FaultSpec): void {
    this.state.faults.push({ kind, ...fault });
  }

  /** The next `times` ARM requests get 429 with Retry-After (the SDK's retry policy waits and retries). */
  throttle(times: number, retryAfterSeconds = 1): void {
    this.throttleLeft = times;
    this.throttleRetryAfter = retryAfterSeconds;
  }

  /**
   * From now on until `stopThrottling()`, every other ARM request (counting first tries only,
   * starting with the next) is throttled with 429 and Retry-After; its retry passes.
   */
  throttleEveryOther(retryAfterSeconds = 0): void {
    this.alternate = new EveryOtherFirstTry();
    this.throttleRetryAfter = retryAfterSeconds;
  }

  stopThrottling(): void {
    this.alternate = undefined;
    this.throttleLeft = 0;
  }

  /**
   * Keep long-running operations of these kinds (default: all) in progress until `release()`.
   * Without a hold, an operation finishes on the first look after its request was answered.
   */
  hold(kinds?: FaultKind[]): void {
    this.state.hold(kinds);
  }

  /** Stop holding and finish every operation in progress, as the service eventually would. */
  release(): void {
    this.state.release();
  }

  /** Simulates another customer holding an endpoint name in a region (names are region-unique). */
  reserveEndpointName(location: string, name: string): void {
    this.state.reserveEndpointName(location, name);
  }

  setScoreHandler(endpoint: string, deployment: string, handler: ScoreHandler): void {
    this.scoring.setScoreHandler(endpoint, deployment, handler);
  }

  setLogs(endpoint: string, deployment: string, logs: DeploymentRecord['logs']): void {
    const dep = this.state.findEndpoint(endpoint)?.deployments.get(deployment.toLowerCase());
    if (!dep) throw new Error(`setLogs: no deployment ${endpoint}/${deployment}`);
    dep.logs = { ...dep.logs, ...logs };
  }

  /** Back to the seeded workspaces with nothing in them: no resources, operations, faults, holds or records. */
  reset(): void {
    this.state.release();
    for (const ws of this.state.workspaces.values()) {
      ws.endpoints.clear();
      for (const kind of ['models', 'codes', 'environments'] as const) ws.assets[kind].clear();
    }
    this.state.operations.clear();
    this.state.faults.length = 0;
    this.state.reservedNames.clear();
    this.stopThrottling();
    this.scoring.clearScoreHandlers();
    this.clearRecords();
  }

  clearRecords(): void {
    this.requests.length = 0;
    this.scoring.calls.length = 0;
  }

  /** Everything that exists now (after pending transitions), for "nothing leaked" assertions. */
  inventory(): {
    endpoints: Array<{ workspace: string; name: string; state: string; traffic: Record<string, number>; deployments: Array<{ name: string; state: string }> }>;
    assets: Array<{ workspace: string; kind: AssetKind; name: string; versions: string[] }>;
  } {
    this.state.settle();
    const endpoints = [];
    const assets = [];
    for (const ws of this.state.workspaces.values()) {
      for (const ep of ws.endpoints.values()) {
        endpoints.push({
          workspace: ws.name,
          name: ep.name,
          state: ep.state,
          traffic: { ...ep.traffic },
          deployments: [...ep.deployments.values()].map((d) => ({ name: d.name, state: d.state })),
        });
      }
      for (const kind of ['models', 'codes', 'environments'] as const) {
        for (const c of ws.assets[kind].values()) {
          assets.push({ workspace: ws.name, kind, name: c.name, versions: [...c.versions.keys()] });
        }
      }
    }
    return { endpoints, assets };
  }

  /* ------------------------------------------------------------------------------------------ storage */

  private async containerClient(ds: DatastoreRecord) {
    const az = this.options.azurite;
    const blob = await this.blob;
    if (!az || !blob) throw new Error('azurite not configured');
    const service = new blob.BlobServiceClient(az.blobEndpoint, new blob.StorageSharedKeyCredential(ds.accountName, ds.accountKey));
    return service.getContainerClient(ds.containerName);
  }

  private async blobPrefixExists(ds: DatastoreRecord, prefix: string): Promise<boolean> {
    const container = await this.containerClient(ds);
    const first = await container.listBlobsFlat({ prefix: prefix.replace(/^\/+/, '') }).next();
    return first.done !== true;
  }

  /* ------------------------------------------------------------------------------------------ routing */

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path.startsWith('/__fake/')) return this.control(req, res, path, url);

    if (ENTRA.test(path)) return this.entra(req, res, path);

    const inference = INFERENCE.exec(path);
    if (inference) {
      return this.scoring.handle(req, res, decodeURIComponent(inference[1] ?? ''), decodeURIComponent(inference[2] ?? ''), inference[3] ?? '');
    }

    const raw = await readBody(req);
    const query = Object.fromEntries(url.searchParams.entries());
    const record: RecordedRequest = {
      time: Date.now(),
      method: req.method ?? 'GET',
      path,
      query,
      body: undefined,
      status: 0,
      hasAuthorization: req.headers.authorization !== undefined,
    };
    this.requests.push(record);
    const started: Operation[] = [];
    let response: FakeResponse;
    try {
      const body = this.parseBody(req, raw);
      record.body = body;
      response = await this.arm(req, path, query, body, started);
    } catch (err) {
      if (!(err instanceof ArmError)) throw err;
      response = { status: err.status, body: err.toBody(), ...(err.options.headers ? { headers: err.options.headers } : {}) };
    }
    record.status = response.status;
    const requestId = randomUUID();
    res.writeHead(response.status, {
      'x-ms-request-id': requestId,
      'x-ms-correlation-request-id': requestId,
      ...(response.body !== undefined ? { 'content-type': 'application/json; charset=utf-8' } : {}),
      ...(response.headers ?? {}),
    });
    res.end(response.body !== undefined ? JSON.stringify(response.body) : undefined);
    // The client has its answer: from now on the next look finishes what this request started.
    for (const op of started) op.armed = true;
  }

  private parseBody(req: IncomingMessage, raw: Buffer): unknown {
    if (raw.length === 0) return undefined;
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
      throw armFrontDoor(
        415,
        'UnsupportedMediaType',
        `The content media type '${type}' is not supported. Only 'application/json' is supported.`,
      );
    }
    try {
      return JSON.parse(raw.toString('utf8')) as unknown;
    } catch (err) {
      throw armFrontDoor(
        400,
        'InvalidRequestContent',
        `The request content was invalid and could not be deserialized: '${err instanceof Error ? err.message : String(err)}'.`,
      );
    }
  }

  /** ARM front door (auth, api-version, throttling) then the MachineLearningServices resource provider. */
  private async arm(req: IncomingMessage, path: string, query: Record<string, string>, body: unknown, started: Operation[]): Promise<FakeResponse> {
    const method = req.method ?? 'GET';
    const auth = req.headers.authorization;
    if (!auth) {
      throw armFrontDoor(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.", {
        'WWW-Authenticate':
          'Bearer authorization_uri="https://login.windows.net/", error="invalid_token", ' +
          'error_description="The authentication failed because of missing \'Authorization\' header."',
      });
    }
    if (!/^Bearer \S+$/.test(auth)) {
      throw armFrontDoor(401, 'InvalidAuthenticationToken', "The access token is invalid: the 'Authorization' header must be 'Bearer <token>'.", {
        'WWW-Authenticate': 'Bearer authorization_uri="https://login.windows.net/", error="invalid_token"',
      });
    }
    const apiVersion = query['api-version'];
    if (!apiVersion) {
      throw armFrontDoor(400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
    }
    const alternate = this.alternate?.throttles(req.headers['x-ms-client-request-id']) === true;
    if (this.throttleLeft > 0 || alternate) {
      if (!alternate) this.throttleLeft--;
      const kind = method === 'GET' ? 'read' : method === 'DELETE' ? 'delete' : 'write';
      throw armFrontDoor(
        429,
        'SubscriptionRequestsThrottled',
        `Number of '${kind}' requests for subscription '${this.subscriptionId}' actor 'modeldeploy-tests' exceeded. ` +
          `Please try again after '${this.throttleRetryAfter}' seconds after additional '1' requests. ` +
          'Please see https://aka.ms/ARMThrottling for usage details.',
        { 'Retry-After': String(this.throttleRetryAfter) },
      );
    }
    if (!this.apiVersions.has(apiVersion)) {
      throw armFrontDoor(
        400,
        'NoRegisteredProviderFound',
        `No registered resource provider found for location '${[...this.state.workspaces.values()][0]?.location ?? 'eastus'}' ` +
          `and API version '${apiVersion}' for type 'workspaces'. The supported api-versions are '${[...this.apiVersions].join(', ')}'.`,
      );
    }
    const ctx: RequestContext = { apiVersion, baseUrl: this.baseUrl, started };

    const op = OPERATION.exec(path);
    if (op) {
      const [, sub, location, which, id] = op;
      if ((sub ?? '').toLowerCase() !== this.subscriptionId.toLowerCase()) {
        throw armFrontDoor(404, 'SubscriptionNotFound', `The subscription '${sub}' could not be found.`);
      }
      if (method !== 'GET') throw methodNotAllowed(method);
      return which?.toLowerCase() === 'mfeoperationsstatus'
        ? this.state.operationStatus(location ?? '', decodeURIComponent(id ?? ''))
        : this.state.operationResult(location ?? '', decodeURIComponent(id ?? ''), ctx);
    }

    const m = WS_PREFIX.exec(path);
    if (!m) throw armFrontDoor(404, 'InvalidResourceType', `The fake does not serve '${path}'.`);
    const [, sub = '', rg = '', wsName, rest = ''] = m;
    if (wsName === undefined) {
      this.state.resolveResourceGroup(decodeURIComponent(sub), decodeURIComponent(rg));
      if (method !== 'GET') throw methodNotAllowed(method);
      const list = [...this.state.workspaces.values()].filter((w) => w.resourceGroup.toLowerCase() === decodeURIComponent(rg).toLowerCase());
      return { status: 200, body: { value: list.map((w) => this.state.workspaceJson(w)) } };
    }
    const ws = this.state.resolveWorkspace(decodeURIComponent(sub), decodeURIComponent(rg), decodeURIComponent(wsName));
    const seg = rest.split('/').filter(Boolean).map(decodeURIComponent);
    return this.provider(method, ws, seg, query, body, ctx);
  }

  private async provider(
    method: string,
    ws: WorkspaceRecord,
    seg: string[],
    query: Record<string, string>,
    body: unknown,
    ctx: RequestContext,
  ): Promise<FakeResponse> {
    const s = this.state;
    const [type, name, sub, subName, action, extra] = seg;
    const is = (v: string | undefined, lit: string): boolean => v?.toLowerCase() === lit.toLowerCase();
    const only = (...methods: string[]): void => {
      if (!methods.includes(method)) throw methodNotAllowed(method);
    };

    if (type === undefined) {
      only('GET');
      return { status: 200, body: s.workspaceJson(ws) };
    }

    if (is(type, 'datastores')) {
      if (name === undefined) {
        only('GET');
        const all = [...ws.datastores.values()].filter((d) => query['isDefault'] === undefined || String(d.isDefault) === query['isDefault']?.toLowerCase());
        return { status: 200, body: { value: all.map((d) => s.datastoreJson(ws, d)) } };
      }
      const ds = s.getDatastore(ws, name);
      if (sub === undefined) {
        if (method === 'PUT' || method === 'DELETE') throw notModelled(`${method} datastores`);
        only('GET');
        return { status: 200, body: s.datastoreJson(ws, ds) };
      }
      if (is(sub, 'listSecrets') && seg.length === 3) {
        only('POST');
        return { status: 200, body: { secretsType: 'AccountKey', key: ds.accountKey } };
      }
      throw notModelled(`datastores/${sub}`);
    }

    const assetKind = (['models', 'codes', 'environments'] as const).find((k) => is(type, k));
    if (assetKind) return this.assets(method, ws, assetKind, seg.slice(1), body, only);

    if (is(type, 'onlineEndpoints')) {
      if (name === undefined) {
        only('GET');
        s.settle();
        return { status: 200, body: { value: [...ws.endpoints.values()].map((ep) => s.endpointJson(ep, ctx)) } };
      }
      if (sub === undefined) {
        switch (method) {
          case 'GET':
            return { status: 200, body: s.endpointJson(s.getEndpoint(ws, name), ctx) };
          case 'PUT':
            return s.putEndpoint(ws, name, body, ctx);
          case 'PATCH':
            return s.patchEndpoint(ws, name, body, ctx);
          case 'DELETE':
            return s.deleteEndpoint(ws, name, ctx);
          default:
            throw methodNotAllowed(method);
        }
      }
      if (seg.length === 3 && is(sub, 'listKeys')) {
        only('POST');
        return s.listKeys(ws, name);
      }
      if (seg.length === 3 && is(sub, 'regenerateKeys')) {
        only('POST');
        return s.regenerateKeys(ws, name, body, ctx);
      }
      if (seg.length === 3 && is(sub, 'token')) {
        only('POST');
        return s.getToken(ws, name);
      }
      if (is(sub, 'deployments')) {
        if (subName === undefined) {
          only('GET');
          const ep = s.getEndpoint(ws, name);
          return { status: 200, body: { value: [...ep.deployments.values()].map((d) => s.deploymentJson(d)) } };
        }
        if (action === undefined) {
          switch (method) {
            case 'GET':
              return { status: 200, body: s.deploymentJson(s.getDeployment(ws, name, subName)) };
            case 'PUT':
              return s.putDeployment(ws, name, subName, body, ctx);
            case 'PATCH':
              return s.patchDeployment(ws, name, subName, body, ctx);
            case 'DELETE':
              return s.deleteDeployment(ws, name, subName, ctx);
            default:
              throw methodNotAllowed(method);
          }
        }
        if (extra === undefined && is(action, 'getLogs')) {
          only('POST');
          return s.getLogs(ws, name, subName, body);
        }
        if (extra === undefined && is(action, 'skus')) {
          only('GET');
          return s.listSkus(ws, name, subName);
        }
      }
      throw notModelled(`onlineEndpoints/${seg.slice(2).join('/')}`);
    }
    throw notModelled(type);
  }

  private assets(
    method: string,
    ws: WorkspaceRecord,
    kind: AssetKind,
    seg: string[],
    body: unknown,
    only: (...methods: string[]) => void,
  ): FakeResponse {
    const s = this.state;
    const [name, versions, version, more] = seg;
    if (name === undefined) {
      only('GET');
      return { status: 200, body: { value: [...ws.assets[kind].values()].map((c) => s.assetContainerJson(ws, kind, c)) } };
    }
    if (versions === undefined) {
      switch (method) {
        case 'GET':
          return { status: 200, body: s.assetContainerJson(ws, kind, s.getAssetContainer(ws, kind, name)) };
        case 'PUT':
          return s.putAssetContainer(ws, kind, name, body);
        case 'DELETE':
          return s.deleteAssetContainer(ws, kind, name);
        default:
          throw methodNotAllowed(method);
      }
    }
    if (versions.toLowerCase() !== 'versions' || more !== undefined) throw notModelled(`${kind}/${seg.join('/')}`);
    if (version === undefined) {
      only('GET');
      const c = s.getAssetContainer(ws, kind, name);
      return { status: 200, body: { value: [...c.versions.values()].map((v) => s.assetVersionJson(ws, kind, c, v)) } };
    }
    switch (method) {
      case 'GET': {
        const c = s.getAssetContainer(ws, kind, name);
        return { status: 200, body: s.assetVersionJson(ws, kind, c, s.getAssetVersion(ws, kind, name, version)) };
      }
      case 'PUT':
        return s.putAssetVersion(ws, kind, name, version, body);
      case 'DELETE':
        return s.deleteAssetVersion(ws, kind, name, version);
      default:
        throw methodNotAllowed(method);
    }
  }

  /* ---------------------------------------------------------------------------------- Entra ID (tokens) */

  /**
   * Restricts the fake token endpoint to this client id and secret (by default any client_credentials request
   * gets a token). Lets tests run @azure/identity's ClientSecretCredential / EnvironmentCredential against
   * `authorityHost: fake.url` (or AZURE_AUTHORITY_HOST) with disableInstanceDiscovery.
   */
  registerServicePrincipal(clientId: string, clientSecret: string): void {
    this.servicePrincipals.set(clientId, clientSecret);
  }

  private readonly servicePrincipals = new Map<string, string>();

  private async entra(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    const tenant = path.split('/')[1] ?? 'common';
    const issuerBase = `${this.baseUrl}/${tenant}`;
    if (path.endsWith('/openid-configuration')) {
      return send(200, {
        token_endpoint: `${issuerBase}/oauth2/v2.0/token`,
        authorization_endpoint: `${issuerBase}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${issuerBase}/oauth2/v2.0/devicecode`,
        end_session_endpoint: `${issuerBase}/oauth2/v2.0/logout`,
        issuer: `${issuerBase}/v2.0`,
        jwks_uri: `${issuerBase}/discovery/v2.0/keys`,
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
        token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      });
    }
    if (path === '/common/discovery/instance') {
      const host = new URL(this.baseUrl).host;
      return send(200, {
        tenant_discovery_endpoint: `${this.baseUrl}/${tenant}/v2.0/.well-known/openid-configuration`,
        'api-version': '1.1',
        metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
      });
    }
    if (req.method !== 'POST') return send(405, { error: 'invalid_request', error_description: 'POST required' });
    const form = new URLSearchParams((await readBody(req)).toString('utf8'));
    const aad = (status: number, error: string, code: number, description: string): void =>
      send(status, { error, error_description: `AADSTS${code}: ${description}`, error_codes: [code], timestamp: new Date().toISOString() });
    if (form.get('grant_type') !== 'client_credentials') {
      return aad(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${form.get('grant_type') ?? ''}'.`);
    }
    const clientId = form.get('client_id') ?? '';
    if (!form.get('scope')) return aad(400, 'invalid_request', 90014, "The request body must contain the following parameter: 'scope'.");
    if (this.servicePrincipals.size > 0) {
      const secret = this.servicePrincipals.get(clientId);
      if (secret === undefined) {
        return aad(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenant}'.`);
      }
      if (form.get('client_secret') !== secret) {
        return aad(401, 'invalid_client', 7000215, 'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.');
      }
    }
    return send(200, {
      token_type: 'Bearer',
      expires_in: 3599,
      ext_expires_in: 3599,
      access_token: `fake-entra.${clientId}.${randomUUID()}`,
    });
  }

  /* -------------------------------------------------------------------------------------- HTTP control */

  private async control(req: IncomingMessage, res: ServerResponse, path: string, url: URL): Promise<void> {
    const raw = await readBody(req);
    const input = (raw.length ? JSON.parse(raw.toString('utf8')) : {}) as Record<string, unknown>;
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const str = (k: string): string => String(input[k] ?? '');
    try {
      switch (`${req.method} ${path}`) {
        case 'GET /__fake/info':
          return send(200, {
            url: this.url,
            subscriptionId: this.subscriptionId,
            tenantId: this.tenantId,
            caCertPath: this.caCertPath,
            workspaces: [...this.state.workspaces.values()].map((w) => ({ resourceGroup: w.resourceGroup, workspace: w.name, location: w.location })),
            azurite: this.options.azurite ? { blobEndpoint: this.options.azurite.blobEndpoint } : null,
          });
        case 'POST /__fake/workspaces': {
          const ws = await this.seedWorkspace(input as unknown as SeedWorkspace);
          return send(201, this.state.workspaceJson(ws));
        }
        case 'POST /__fake/fail-next':
          this.failNext(str('kind') as FaultKind, input as unknown as FaultSpec);
          return send(200, { ok: true });
        case 'POST /__fake/throttle':
          if (input['everyOther'] === true) this.throttleEveryOther(Number(input['retryAfterSeconds'] ?? 0));
          else this.throttle(Number(input['times'] ?? 1), Number(input['retryAfterSeconds'] ?? 1));
          return send(200, { ok: true });
        case 'POST /__fake/stop-throttling':
          this.stopThrottling();
          return send(200, { ok: true });
        case 'POST /__fake/hold':
          this.hold(Array.isArray(input['kinds']) ? (input['kinds'] as FaultKind[]) : undefined);
          return send(200, { ok: true });
        case 'POST /__fake/release':
          this.release();
          return send(200, { ok: true });
        case 'POST /__fake/reserve-endpoint-name':
          this.reserveEndpointName(str('location'), str('name'));
          return send(200, { ok: true });
        case 'POST /__fake/score-handler': {
          const status = input['status'] === undefined ? 200 : Number(input['status']);
          const headers = (input['headers'] ?? {}) as Record<string, string>;
          const answer = input['body'];
          this.setScoreHandler(str('endpoint'), str('deployment'), () => ({ status, body: answer, headers }));
          return send(200, { ok: true });
        }
        case 'GET /__fake/requests':
          return send(200, this.requests);
        case 'GET /__fake/scoring-calls':
          return send(200, this.scoring.calls);
        case 'POST /__fake/clear-records':
          this.clearRecords();
          return send(200, { ok: true });
        case 'GET /__fake/inventory':
          return send(200, this.inventory());
        default:
          return send(404, { error: `unknown control route ${req.method} ${path}${url.search}` });
      }
    } catch (err) {
      return send(400, { error: err instanceof Error ? err.message : String(err) });
    }
  }
}

function methodNotAllowed(method: string): ArmError {
  return armFrontDoor(405, 'MethodNotAllowed', `The requested method '${method}' is not allowed on this resource.`);
}

/** A real route the fake does not model: 501 so it is obvious (and the SDK does not retry it). */
function notModelled(what: string): ArmError {
  return new ArmError(501, 'NotImplementedInFake', `The fake Azure ML control plane does not model '${what}' (${PROVIDER}).`);
}

/** Starts the fake on 127.0.0.1:0 (HTTPS). */
export async function startFakeAzureMl(options: FakeAzureMlOptions = {}): Promise<FakeAzureMl> {
  return new FakeAzureMl(options).listen();
}

export { startFakeAzureMl as start };
