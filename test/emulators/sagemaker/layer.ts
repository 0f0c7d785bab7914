/**
 * A strict layer in front of moto: one HTTP endpoint (for AWS_ENDPOINT_URL) that forwards what
 * moto does right (S3, models, configs, tags, Application Auto Scaling) and owns what moto gets
 * wrong — endpoint state (Creating/Updating/Deleting with a delay, Failed with a FailureReason),
 * UpdateEndpoint, duplicate names, invocations of missing endpoints — plus service-model
 * validation of every SageMaker and Application Auto Scaling request, fault injection and a
 * record of every call. Spec: README.md beside this file.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ServiceModelValidator, validationMessage, type Violation } from './service-model.js';

export interface RecordedCall {
  service: 'sagemaker' | 'autoscaling' | 'runtime' | 's3';
  operation: string;
  input?: unknown;
  violations?: Violation[];
  status: number;
}

export interface InvokeAnswer {
  status: number;
  body: string;
  contentType?: string;
}

type Phase = 'create' | 'update';

interface EndpointState {
  name: string;
  status: 'Creating' | 'Updating' | 'InService' | 'Deleting' | 'Failed';
  configName: string;
  pendingConfig?: string;
  failureReason?: string;
  timer?: NodeJS.Timeout;
  created: number;
  modified: number;
}

export interface SageMakerLayer {
  url: string;
  calls: RecordedCall[];
  violations(): Array<{ operation: string; violations: Violation[] }>;
  setDelay(ms: number): void;
  failNext(phase: Phase, reason?: string): void;
  throttle(times: number, operation?: string): void;
  serverError(times: number, operation?: string): void;
  /** Every other SageMaker / autoscaling / runtime call fails this way: each call's first try. */
  flaky(kind: 'throttle' | '5xx' | undefined): void;
  onInvoke(endpoint: string, answer: (body: string, contentType: string) => InvokeAnswer): void;
  stop(): Promise<void>;
}

const ACCOUNT = '123456789012';

export async function startSageMakerLayer(motoUrl: string, options: { delayMs?: number; region?: string } = {}): Promise<SageMakerLayer> {
  const sagemaker = new ServiceModelValidator('sagemaker', '2017-07-24');
  const autoscaling = new ServiceModelValidator('application-autoscaling', '2016-02-06');
  const region = options.region ?? 'us-east-1';
  let delayMs = options.delayMs ?? 200;
  const endpoints = new Map<string, EndpointState>();
  const failures: Phase[] = [];
  const faults: Array<{ kind: 'throttle' | '5xx'; operation?: string }> = [];
  const handlers = new Map<string, (body: string, contentType: string) => InvokeAnswer>();
  const calls: RecordedCall[] = [];
  let flaky: 'throttle' | '5xx' | undefined;
  let flakyToggle = false;

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

  const settle = (state: EndpointState) => {
    clearTimeout(state.timer);
    state.timer = setTimeout(() => {
      state.modified = Date.now() / 1000;
      if (state.status === 'Creating') {
        const failure = state.failureReason;
        state.status = failure ? 'Failed' : 'InService';
      } else if (state.status === 'Updating') {
        if (state.failureReason) {
          state.status = 'InService'; // a failed update leaves the old fleet serving
        } else {
          state.configName = state.pendingConfig ?? state.configName;
          state.status = 'InService';
        }
        delete state.pendingConfig;
      } else if (state.status === 'Deleting') {
        endpoints.delete(state.name);
        void moto('SageMaker.DeleteEndpoint', { EndpointName: state.name });
      }
    }, delayMs);
    state.timer.unref();
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
        const failure = failures[0] === 'create' ? failures.shift() : undefined;
        const now = Date.now() / 1000;
        const created: EndpointState = { name, status: 'Creating', configName: String(input.EndpointConfigName), created: now, modified: now };
        if (failure) created.failureReason = 'The primary container for production variant AllTraffic did not pass the ping health check. Please check CloudWatch logs for this endpoint.';
        endpoints.set(name, created);
        settle(created);
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
        const failure = failures[0] === 'update' ? failures.shift() : undefined;
        state.status = 'Updating';
        state.pendingConfig = String(input.EndpointConfigName);
        delete state.failureReason;
        if (failure) state.failureReason = 'The primary container for production variant AllTraffic did not pass the ping health check. Please check CloudWatch logs for this endpoint.';
        state.modified = Date.now() / 1000;
        settle(state);
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
        settle(state);
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

  function injectFault(operation: string, res: ServerResponse): boolean {
    if (flaky) {
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
  function pipeToMoto(req: IncomingMessage, res: ServerResponse): void {
    const target = new URL(motoUrl);
    const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (e) => {
      if (!res.headersSent) error(res, 502, 'BadGateway', e.message);
    });
    req.pipe(upstream);
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
        if (injectFault(operation, res)) {
          call.status = 0;
          return;
        }
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
        if (injectFault('InvokeEndpoint', res)) return;
        const state = endpoints.get(name);
        if (!state || state.status !== 'InService') {
          call.status = 400;
          res.writeHead(400, { 'content-type': 'application/json', 'x-amzn-errortype': 'ValidationError' });
          res.end(JSON.stringify({ message: `Endpoint ${name} of account ${ACCOUNT} not found.` }));
          return;
        }
        const handler = handlers.get(name);
        const answer = handler ? handler(body, contentType) : { status: 200, body: '{}', contentType: 'application/json' };
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
      calls.push({ service: 's3', operation: `${req.method} ${(req.url ?? '').split('?')[0]}`, status: 0 });
      pipeToMoto(req, res);
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
    setDelay: (ms) => void (delayMs = ms),
    failNext: (phase) => void failures.push(phase),
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
    onInvoke: (endpoint, answer) => void handlers.set(endpoint, answer),
    stop: () =>
      new Promise((resolve) => {
        for (const e of endpoints.values()) clearTimeout(e.timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
