import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { ArmState, DeploymentRecord, EndpointRecord } from './arm-state.js';
import { parseIsoDuration } from './arm-validate.js';

/** What a deployment's container receives for one scoring request. */
export interface ScoreRequest {
  readonly endpoint: string;
  readonly deployment: string;
  readonly body: Buffer;
  readonly text: string;
  /** Request headers, lower-cased, without `authorization`. */
  readonly headers: Readonly<Record<string, string>>;
  json(): unknown;
}

/** What the container answers. A status other than 200 reaches the caller as 424 (model error). */
export interface ScoreResult {
  status?: number;
  /** Objects are sent as JSON; strings and Buffers as they are. */
  body?: unknown;
  headers?: Record<string, string>;
}

export type ScoreHandler = (req: ScoreRequest) => ScoreResult | Promise<ScoreResult>;

/** One call to a scoring URI, as recorded (the key or token is never stored). */
export interface ScoringCall {
  time: number;
  region: string;
  endpoint: string;
  /** The deployment that served it, if any. */
  deployment?: string;
  /** Value of the azureml-model-deployment header, if sent. */
  pinnedDeployment?: string;
  status: number;
  authScheme?: string;
  requestBody: string;
  requestHeaders: Record<string, string>;
}

/**
 * The data plane of managed online endpoints: `POST {scoringUri}` with `Authorization: Bearer <key|token>`,
 * optional `azureml-model-deployment` to pin a deployment, otherwise weighted routing by the live traffic.
 * Status codes follow the troubleshooting doc's table (401, 404, 408, 424, 429).
 */
export class ScoringPlane {
  readonly calls: ScoringCall[] = [];
  private readonly handlers = new Map<string, ScoreHandler>();
  private fallback: ScoreHandler | undefined;
  private readonly inFlight = new Map<DeploymentRecord, number>();
  /** Replaceable for deterministic routing tests; returns [0, 1). */
  random: () => number = Math.random;

  constructor(private readonly state: ArmState) {}

  setScoreHandler(endpoint: string, deployment: string, handler: ScoreHandler): void {
    this.handlers.set(`${endpoint.toLowerCase()}/${deployment.toLowerCase()}`, handler);
  }

  /** What every deployment without a handler of its own answers (default: an echo of the request). */
  setFallbackHandler(handler: ScoreHandler | undefined): void {
    this.fallback = handler;
  }

  clearScoreHandlers(): void {
    this.handlers.clear();
    this.fallback = undefined;
  }

  async handle(req: IncomingMessage, res: ServerResponse, region: string, endpointName: string, rest: string): Promise<void> {
    const body = await readBody(req);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (k !== 'authorization' && typeof v === 'string') headers[k] = v;
    }
    const pinned = headers['azureml-model-deployment'];
    const auth = req.headers.authorization;
    const call: ScoringCall = {
      time: Date.now(),
      region,
      endpoint: endpointName,
      ...(pinned ? { pinnedDeployment: pinned } : {}),
      status: 0,
      ...(auth ? { authScheme: auth.split(' ')[0] ?? '' } : {}),
      requestBody: body.toString('utf8'),
      requestHeaders: headers,
    };
    this.calls.push(call);
    const reply = (status: number, payload: string | Buffer, extra: Record<string, string> = {}): void => {
      call.status = status;
      res.writeHead(status, { 'x-request-id': randomUUID(), ...extra });
      res.end(payload);
    };

    const ep = this.state.findEndpoint(endpointName, region);
    if (!ep || ep.state === 'Creating' || ep.state === 'Deleting') {
      // A real scoring host does not resolve until the endpoint exists.
      return reply(404, 'Endpoint not found', { 'content-type': 'text/plain' });
    }
    if (!this.authorized(ep, auth)) {
      return reply(401, '{"message":"Unauthorized"}', { 'content-type': 'application/json', 'www-authenticate': 'Bearer' });
    }
    if (rest === 'swagger.json' && req.method === 'GET') {
      return reply(200, JSON.stringify({ swagger: '2.0', info: { title: ep.name, version: '1.0' }, paths: {} }), {
        'content-type': 'application/json',
      });
    }
    if (rest !== 'score') return reply(404, 'Not found', { 'content-type': 'text/plain' });
    if (req.method !== 'POST') return reply(405, 'Method not allowed', { allow: 'POST' });

    let dep: DeploymentRecord | undefined;
    if (pinned) {
      dep = ep.deployments.get(pinned.toLowerCase());
      if (!dep || !dep.serving || dep.state === 'Deleting') {
        return reply(404, `Deployment '${pinned}' not found or not ready.`, { 'content-type': 'text/plain' });
      }
    } else {
      dep = this.route(ep);
      if (!dep) {
        return reply(404, "The endpoint doesn't have any valid deployment with positive weight.", {
          'content-type': 'text/plain',
        });
      }
    }
    call.deployment = dep.name;

    const limit = 2 * dep.properties.requestSettings.maxConcurrentRequestsPerInstance * dep.sku.capacity;
    const running = this.inFlight.get(dep) ?? 0;
    if (running >= limit) return reply(429, 'Too many pending requests', { 'content-type': 'text/plain' });
    this.inFlight.set(dep, running + 1);
    try {
      const handler = this.handlers.get(`${ep.name.toLowerCase()}/${dep.name.toLowerCase()}`) ?? this.fallback ?? defaultHandler;
      const timeoutMs = (parseIsoDuration(dep.properties.requestSettings.requestTimeout) ?? 5) * 1000;
      const text = body.toString('utf8');
      const sreq: ScoreRequest = {
        endpoint: ep.name,
        deployment: dep.name,
        body,
        text,
        headers,
        json: () => JSON.parse(text) as unknown,
      };
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      let result: ScoreResult | 'timeout';
      try {
        result = await Promise.race([Promise.resolve().then(() => handler(sreq)), timedOut]);
      } catch (err) {
        result = { status: 500, body: { error: err instanceof Error ? err.message : String(err) } };
      } finally {
        clearTimeout(timer);
      }
      const base = { 'azureml-model-deployment': dep.name };
      if (result === 'timeout') return reply(408, 'upstream request timeout', { ...base, 'content-type': 'text/plain' });
      const { payload, contentType } = encode(result.body);
      const status = result.status ?? 200;
      const headersOut = { ...base, 'content-type': contentType, ...(result.headers ?? {}) };
      if (status !== 200) {
        return reply(424, payload, {
          ...headersOut,
          'ms-azureml-model-error-statuscode': String(status),
          'ms-azureml-model-error-reason': 'model_error',
        });
      }
      return reply(200, payload, headersOut);
    } finally {
      this.inFlight.set(dep, (this.inFlight.get(dep) ?? 1) - 1);
    }
  }

  private authorized(ep: EndpointRecord, header: string | undefined): boolean {
    const m = /^Bearer (.+)$/.exec(header ?? '');
    const token = m?.[1];
    if (!token) return false;
    if (ep.authMode === 'Key') return token === ep.keys.primaryKey || token === ep.keys.secondaryKey;
    if (ep.authMode === 'AMLToken') {
      const exp = ep.tokens.get(token);
      return exp !== undefined && exp * 1000 > Date.now();
    }
    // AADToken: an Entra token for https://ml.azure.com; the fake cannot verify one, so any bearer passes.
    return true;
  }

  private route(ep: EndpointRecord): DeploymentRecord | undefined {
    const candidates: Array<[DeploymentRecord, number]> = [];
    for (const [name, weight] of Object.entries(ep.liveTraffic)) {
      const d = ep.deployments.get(name.toLowerCase());
      if (weight > 0 && d?.serving && d.state !== 'Deleting') candidates.push([d, weight]);
    }
    const total = candidates.reduce((a, [, w]) => a + w, 0);
    if (total === 0) return undefined;
    let pick = this.random() * total;
    for (const [d, w] of candidates) {
      if (pick < w) return d;
      pick -= w;
    }
    return candidates.at(-1)?.[0];
  }
}

const defaultHandler: ScoreHandler = (req) => {
  let input: unknown = req.text;
  try {
    input = req.json();
  } catch {
    // Not JSON: echo the text.
  }
  return { status: 200, body: { deployment: req.deployment, input } };
};

function encode(body: unknown): { payload: string | Buffer; contentType: string } {
  if (Buffer.isBuffer(body)) return { payload: body, contentType: 'application/octet-stream' };
  if (typeof body === 'string') return { payload: body, contentType: 'text/plain; charset=utf-8' };
  return { payload: JSON.stringify(body ?? null), contentType: 'application/json' };
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
