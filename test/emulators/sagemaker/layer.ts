/**
 * A strict layer in front of moto: one HTTP endpoint (for AWS_ENDPOINT_URL) that forwards what
 * moto does right (S3, models, configs, tags, Application Auto Scaling) and owns what moto gets
 * wrong — endpoint state (Creating/Updating/Deleting, Failed with a FailureReason), UpdateEndpoint,
 * duplicate names, invocations of missing endpoints — plus service-model validation of every
 * SageMaker and Application Auto Scaling request, fault injection and a record of every call.
 *
 * Deterministic: no timer. A change SageMaker takes minutes for (create, update, delete) is
 * finished by the next request the layer receives, or, after `holdOperations()`, held in
 * progress until `settle()`. Spec: README.md beside this file.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ServiceModelValidator, validationMessage, type Violation } from './service-model.js';

export interface RecordedCall {
  service: 'sagemaker' | 'autoscaling' | 'runtime' | 's3';
  /** The operation name, or `METHOD /path` for S3. */
  operation: string;
  /** S3 only: the query string (`uploads`, `partNumber=1&uploadId=…`, `delete`…). */
  query?: string;
  input?: unknown;
  violations?: Violation[];
  status: number;
}

export interface InvokeAnswer {
  status: number;
  body: string;
  contentType?: string;
}

/** Which provisioning `failNext` breaks: a CreateEndpoint, an UpdateEndpoint, or whichever comes first. */
export type Phase = 'create' | 'update' | 'either';

export type EndpointStatus = 'Creating' | 'Updating' | 'InService' | 'Deleting' | 'Failed';

interface EndpointState {
  name: string;
  status: EndpointStatus;
  configName: string;
  pendingConfig?: string;
  failureReason?: string;
  /** A create, update or delete is under way: it ends at the next request (or at settle when held). */
  inProgress: boolean;
  created: number;
  modified: number;
}

/** An endpoint as the layer holds it (for listings: reading it is no request and finishes nothing). */
export interface EndpointView {
  name: string;
  status: EndpointStatus;
  configName: string;
  failureReason?: string;
}

/** How the model behind an endpoint answers; `configName` is the config serving the request. */
export type InvokeHandler = (request: { endpoint: string; configName: string; body: string; contentType: string }) => InvokeAnswer;

export interface SageMakerLayer {
  url: string;
  calls: RecordedCall[];
  violations(): Array<{ operation: string; violations: Violation[] }>;
  /** The next provisioning of that phase ends Failed (create) or rolled back (update), with the ping health-check reason. */
  failNext(phase: Phase, reason?: string): void;
  throttle(times: number, operation?: string): void;
  serverError(times: number, operation?: string): void;
  /** Every other request fails this way (S3 included, as 503 SlowDown): each call's first try. */
  flaky(kind: 'throttle' | '5xx' | undefined): void;
  /** Keep creates, updates and deletes in progress until `settle`. */
  holdOperations(): void;
  /** Finish everything in progress and stop holding. */
  settle(): Promise<void>;
  onInvoke(endpoint: string, answer: (body: string, contentType: string) => InvokeAnswer): void;
  /** How every endpoint without its own `onInvoke` answers. */
  answerAll(handler: InvokeHandler | undefined): void;
  endpoints(): EndpointView[];
  /** Back to no faults, no failures queued, no holding, no handlers, no endpoints (moto is reset apart). */
  reset(): void;
  stop(): Promise<void>;
}

const PING_FAILURE = 'The primary container for production variant AllTraffic did not pass the ping health check. Please check CloudWatch logs for this endpoint.';

const ACCOUNT = '123456789012';

export async function startSageMakerLayer(motoUrl: string, options: { region?: string } = {}): Promise<SageMakerLayer> {
  const sagemaker = new ServiceModelValidator('sagemaker', '2017-07-24');
  const autoscaling = new ServiceModelValidator('application-autoscaling', '2016-02-06');
  const region = options.region ?? 'us-east-1';
  const endpoints = new Map<string, EndpointState>();
  const failures: Array<{ phase: Phase; reason: string }> = [];
  const faults: Array<{ kind: 'throttle' | '5xx'; operation?: string }> = [];
  const handlers = new Map<string, (body: string, contentType: string) => InvokeAnswer>();
  let fallback: InvokeHandler | undefined;
  const calls: RecordedCall[] = [];
  let flaky: 'throttle' | '5xx' | undefined;
  let flakyToggle = false;
  let hold = false;

  /** Forward a buffered awsJson call to moto and return its status and parsed answer. */
  async function moto(target: string, input: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const r = await fetch(motoUrl, {
      method: 'POST',
      headers: { 'x-amz-target': target, 'content-type': 'application/x-amz-json-1.1', authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${region}/sagemaker/aws4_request, SignedHeaders=host, Signature=x` },
      body: JSON.stringify(input),
    });
    const text = await r.text();
    return { status: r.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  const jsonReply = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `layer-${calls.length}` });
    res.end(text);
  };
  const error = (res: ServerResponse, status: number, type: string, message: string) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type, 'x-amzn-requestid': `layer-${calls.length}` });
    res.end(JSON.stringify({ __type: type, message }));
  };
  const arn = (kind: string, name: string) => `arn:aws:sagemaker:${region}:${ACCOUNT}:${kind}/${name.toLowerCase()}`;

  /** What SageMaker does when the work it started has finished. */
  async function finish(state: EndpointState): Promise<void> {
    if (!state.inProgress) return;
    state.inProgress = false;
    state.modified = Date.now() / 1000;
    if (state.status === 'Creating') {
      state.status = state.failureReason ? 'Failed' : 'InService';
    } else if (state.status === 'Updating') {
      // A failed update leaves the old fleet serving, with the reason.
      if (!state.failureReason) state.configName = state.pendingConfig ?? state.configName;
      state.status = 'InService';
      delete state.pendingConfig;
    } else if (state.status === 'Deleting') {
      endpoints.delete(state.name);
      await moto('SageMaker.DeleteEndpoint', { EndpointName: state.name });
    }
  }

  /** Every request after the one that started some work finds it done, unless held. */
  async function catchUp(): Promise<void> {
    if (hold) return;
    for (const state of [...endpoints.values()]) await finish(state);
  }

  const failureFor = (phase: 'create' | 'update'): string | undefined => {
    const index = failures.findIndex((f) => f.phase === phase || f.phase === 'either');
    return index < 0 ? undefined : failures.splice(index, 1)[0]?.reason;
  };

  async function sagemakerCall(operation: string, input: Record<string, unknown>, res: ServerResponse): Promise<number> {
    const name = String(input.EndpointName ?? '');
    const state = endpoints.get(name);
    switch (operation) {
      case 'CreateModel':
      case 'CreateEndpointConfig': {
        const kind = operation === 'CreateModel' ? 'model' : 'endpoint-config';
        const key = operation === 'CreateModel' ? 'ModelName' : 'EndpointConfigName';
        const describe = operation === 'CreateModel' ? 'SageMaker.DescribeModel' : 'SageMaker.DescribeEndpointConfig';
        if ((await moto(describe, { [key]: input[key] })).status === 200) {
          error(res, 400, 'ValidationException', `Cannot create already existing ${kind === 'model' ? 'model' : 'endpoint configuration'} "${arn(kind, String(input[key]))}".`);
          return 400;
        }
        break;
      }
      case 'CreateEndpoint': {
        if (state || (await moto('SageMaker.DescribeEndpoint', { EndpointName: name })).status === 200) {
          error(res, 400, 'ValidationException', `Cannot create already existing endpoint "${arn('endpoint', name)}".`);
          return 400;
        }
        const answer = await moto('SageMaker.CreateEndpoint', input);
        if (answer.status !== 200) {
          jsonReply(res, answer.status, answer.body);
          return answer.status;
        }
        const failure = failureFor('create');
        const now = Date.now() / 1000;
        const created: EndpointState = { name, status: 'Creating', configName: String(input.EndpointConfigName), inProgress: true, created: now, modified: now };
        if (failure) created.failureReason = failure;
        endpoints.set(name, created);
        jsonReply(res, 200, { EndpointArn: arn('endpoint', name) });
        return 200;
      }
      case 'UpdateEndpoint': {
        if (!state || state.status === 'Deleting') {
          error(res, 400, 'ValidationException', `Could not find endpoint "${arn('endpoint', name)}".`);
          return 400;
        }
        if (state.status !== 'InService') {
          error(res, 400, 'ValidationException', `Cannot update in-progress endpoint "${arn('endpoint', name)}".`);
          return 400;
        }
        if ((await moto('SageMaker.DescribeEndpointConfig', { EndpointConfigName: input.EndpointConfigName })).status !== 200) {
          error(res, 400, 'ValidationException', `Could not find endpoint configuration "${arn('endpoint-config', String(input.EndpointConfigName))}".`);
          return 400;
        }
        const failure = failureFor('update');
        state.status = 'Updating';
        state.pendingConfig = String(input.EndpointConfigName);
        state.inProgress = true;
        delete state.failureReason;
        if (failure) state.failureReason = failure;
        state.modified = Date.now() / 1000;
        jsonReply(res, 200, { EndpointArn: arn('endpoint', name) });
        return 200;
      }
      case 'DescribeEndpoint': {
        if (!state) {
          error(res, 400, 'ValidationException', `Could not find endpoint "${arn('endpoint', name)}".`);
          return 400;
        }
        const answer = await moto('SageMaker.DescribeEndpoint', input);
        jsonReply(res, 200, {
          ...answer.body,
          EndpointName: name,
          EndpointArn: arn('endpoint', name),
          EndpointConfigName: state.configName,
          EndpointStatus: state.status,
          CreationTime: state.created,
          LastModifiedTime: state.modified,
          ...(state.failureReason && state.status !== 'Creating' && state.status !== 'Updating' ? { FailureReason: state.failureReason } : {}),
        });
        return 200;
      }
      case 'DeleteEndpoint': {
        if (!state || state.status === 'Deleting') {
          error(res, 400, 'ValidationException', `Could not find endpoint "${arn('endpoint', name)}".`);
          return 400;
        }
        if (state.status === 'Creating' || state.status === 'Updating') {
          error(res, 400, 'ValidationException', `Cannot delete in-progress endpoint "${arn('endpoint', name)}".`);
          return 400;
        }
        state.status = 'Deleting';
        state.inProgress = true;
        jsonReply(res, 200, {});
        return 200;
      }
      case 'DeleteEndpointConfig': {
        const inUse = [...endpoints.values()].find((e) => (e.status === 'Creating' || e.status === 'Updating') && (e.configName === input.EndpointConfigName || e.pendingConfig === input.EndpointConfigName));
        if (inUse) {
          error(res, 400, 'ValidationException', `Cannot delete endpoint configuration "${String(input.EndpointConfigName)}" while endpoint "${inUse.name}" is ${inUse.status}.`);
          return 400;
        }
        break;
      }
      case 'ListEndpoints': {
        const answer = await moto('SageMaker.ListEndpoints', input);
        const listed = ((answer.body.Endpoints as Array<Record<string, unknown>>) ?? [])
          .filter((e) => endpoints.has(String(e.EndpointName)))
          .map((e) => ({ ...e, EndpointStatus: endpoints.get(String(e.EndpointName))?.status }));
        jsonReply(res, 200, { ...answer.body, Endpoints: listed });
        return 200;
      }
      default:
        break;
    }
    const answer = await moto(`SageMaker.${operation}`, input);
    jsonReply(res, answer.status, answer.body);
    return answer.status;
  }

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  /** The SDK's own retry of a call (`amz-sdk-request: attempt=2…`) is never the one a flaky layer fails. */
  const isRetry = (req: IncomingMessage) => /attempt=([2-9]|\d\d)/.test(String(req.headers['amz-sdk-request'] ?? ''));

  function injectFault(operation: string, req: IncomingMessage, res: ServerResponse): boolean {
    if (flaky && !isRetry(req)) {
      flakyToggle = !flakyToggle;
      if (flakyToggle) {
        if (flaky === 'throttle') error(res, 400, 'ThrottlingException', 'Rate exceeded');
        else error(res, 503, 'ServiceUnavailable', 'Service is unavailable. Please try again.');
        return true;
      }
    }
    const index = faults.findIndex((f) => !f.operation || f.operation === operation);
    if (index < 0) return false;
    const [fault] = faults.splice(index, 1);
    if (fault?.kind === 'throttle') error(res, 400, 'ThrottlingException', 'Rate exceeded');
    else error(res, 500, 'InternalFailure', 'We encountered an internal error. Please try again.');
    return true;
  }

  /** Stream a request (S3 bodies can be GBs) to moto unchanged. */
  function pipeToMoto(req: IncomingMessage, res: ServerResponse, call: RecordedCall, body?: Buffer): void {
    const target = new URL(motoUrl);
    const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      call.status = answer.statusCode ?? 502;
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (e) => {
      if (!res.headersSent) error(res, 502, 'BadGateway', e.message);
    });
    if (body) upstream.end(body);
    else req.pipe(upstream);
  }

  const server: Server = createServer((req, res) => {
    void (async () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const invocation = /^\/endpoints\/([^/]+)\/invocations$/.exec(req.url ?? '');
      if (target.startsWith('SageMaker.') || target.startsWith('AnyScaleFrontendService.')) {
        const service = target.startsWith('SageMaker.') ? 'sagemaker' : 'autoscaling';
        const operation = target.slice(target.indexOf('.') + 1);
        const text = await readBody(req);
        const input = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
        const validator = service === 'sagemaker' ? sagemaker : autoscaling;
        const violations = validator.validate(operation, input);
        const call: RecordedCall = { service, operation, input, status: 0, ...(violations.length ? { violations } : {}) };
        calls.push(call);
        if (violations.length) {
          error(res, 400, 'ValidationException', validationMessage(violations, input));
          call.status = 400;
          return;
        }
        if (injectFault(operation, req, res)) {
          call.status = 0;
          return;
        }
        await catchUp();
        if (service === 'sagemaker') {
          call.status = await sagemakerCall(operation, input, res);
        } else {
          const r = await fetch(motoUrl, { method: 'POST', headers: { 'x-amz-target': target, 'content-type': 'application/x-amz-json-1.1', authorization: String(req.headers.authorization ?? '') }, body: text });
          call.status = r.status;
          res.writeHead(r.status, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(await r.text());
        }
        return;
      }
      if (invocation && req.method === 'POST') {
        const name = decodeURIComponent(invocation[1] ?? '');
        const body = await readBody(req);
        const contentType = String(req.headers['content-type'] ?? 'application/octet-stream');
        const call: RecordedCall = { service: 'runtime', operation: 'InvokeEndpoint', input: { EndpointName: name, ContentType: contentType, Body: body }, status: 0 };
        calls.push(call);
        if (injectFault('InvokeEndpoint', req, res)) return;
        await catchUp();
        const state = endpoints.get(name);
        if (!state || state.status !== 'InService') {
          call.status = 400;
          res.writeHead(400, { 'content-type': 'application/json', 'x-amzn-errortype': 'ValidationError' });
          res.end(JSON.stringify({ message: `Endpoint ${name} of account ${ACCOUNT} not found.` }));
          return;
        }
        const handler = handlers.get(name);
        const answer = handler
          ? handler(body, contentType)
          : fallback
            ? fallback({ endpoint: name, configName: state.configName, body, contentType })
            : { status: 200, body: '{}', contentType: 'application/json' };
        call.status = answer.status;
        if (answer.status >= 400) {
          res.writeHead(424, { 'content-type': 'application/json', 'x-amzn-errortype': 'ModelError' });
          res.end(JSON.stringify({ message: `Received client error (${answer.status}) from primary with message "${answer.body}".`, OriginalStatusCode: answer.status, OriginalMessage: answer.body, LogStreamArn: `arn:aws:logs:${region}:${ACCOUNT}:log-group:/aws/sagemaker/Endpoints/${name}` }));
          return;
        }
        res.writeHead(200, { 'content-type': answer.contentType ?? 'application/json', 'x-amzn-invoked-production-variant': 'AllTraffic' });
        res.end(answer.body);
        return;
      }
      const [pathname = '', query] = (req.url ?? '').split('?');
      const call: RecordedCall = { service: 's3', operation: `${req.method} ${pathname}`, ...(query ? { query } : {}), status: 0 };
      calls.push(call);
      if (flaky && !isRetry(req) && (flakyToggle = !flakyToggle)) {
        // S3 throttles with 503 SlowDown, after reading what was sent.
        await readBody(req);
        call.status = 503;
        res.writeHead(503, { 'content-type': 'application/xml', 'x-amz-request-id': `layer-${calls.length}` });
        res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
        return;
      }
      await catchUp();
      if (req.method === 'POST' && /(^|&)delete(=|&|$)/.test(query ?? '')) {
        // DeleteObjects names its keys in the body: recorded, so a test can tell what was deleted.
        const body = Buffer.from(await readBody(req));
        call.input = { keys: [...body.toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]) };
        pipeToMoto(req, res, call, body);
        return;
      }
      pipeToMoto(req, res, call);
    })().catch((e: unknown) => {
      if (!res.headersSent) error(res, 500, 'InternalFailure', `layer: ${(e as Error).message}`);
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    url,
    calls,
    violations: () => calls.filter((c) => c.violations).map((c) => ({ operation: c.operation, violations: c.violations ?? [] })),
    failNext: (phase, reason = PING_FAILURE) => void failures.push({ phase, reason }),
    throttle: (times, operation) => {
      for (let i = 0; i < times; i++) faults.push({ kind: 'throttle', ...(operation ? { operation } : {}) });
    },
    serverError: (times, operation) => {
      for (let i = 0; i < times; i++) faults.push({ kind: '5xx', ...(operation ? { operation } : {}) });
    },
    flaky: (kind) => {
      flaky = kind;
      flakyToggle = false;
    },
    holdOperations: () => void (hold = true),
    settle: async () => {
      hold = false;
      await catchUp();
    },
    onInvoke: (endpoint, answer) => void handlers.set(endpoint, answer),
    answerAll: (handler) => void (fallback = handler),
    endpoints: () =>
      [...endpoints.values()].map((e) => ({ name: e.name, status: e.status, configName: e.configName, ...(e.failureReason ? { failureReason: e.failureReason } : {}) })),
    reset: () => {
      endpoints.clear();
      failures.length = 0;
      faults.length = 0;
      handlers.clear();
      fallback = undefined;
      calls.length = 0;
      flaky = undefined;
      flakyToggle = false;
      hold = false;
    },
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
