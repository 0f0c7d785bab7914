/**
 * A recording, fault-injecting HTTP proxy in front of Azurite's blob service. Clients point at
 * `endpoint` exactly as at Azurite (path-style `http://127.0.0.1:PORT/devstoreaccount1`; SharedKey
 * signatures do not cover the host, so they pass through unchanged). It records every request
 * (method, blob path, query, status) and, while `throttleEveryOther()` is on, answers every other
 * first try the way Azure Storage throttles: 503 ServerBusy, which @azure/storage-blob retries at
 * once (its first retry waits 0 ms) with the same client request id, so the retry passes.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EveryOtherFirstTry } from './first-tries.js';

export interface BlobRequest {
  method: string;
  /** Container and blob, decoded, without the account: `azureml-blobstore-…/modeldeploy/x/…`. */
  path: string;
  query: Record<string, string>;
  status: number;
}

export interface BlobProxy {
  /** Same shape as Azurite's blobEndpoint, on the proxy's port. */
  readonly endpoint: string;
  readonly requests: BlobRequest[];
  throttleEveryOther(): void;
  stopThrottling(): void;
  stop(): Promise<void>;
}

export async function startBlobProxy(azuriteEndpoint: string): Promise<BlobProxy> {
  const target = new URL(azuriteEndpoint);
  const account = target.pathname.replace(/^\/+|\/+$/g, '');
  const requests: BlobRequest[] = [];
  let alternate: EveryOtherFirstTry | undefined;

  const forward = (req: IncomingMessage, res: ServerResponse, record: BlobRequest): void => {
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (answer) => {
        record.status = answer.statusCode ?? 0;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      record.status = 502;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`blob proxy: ${error.message}`);
    });
    req.pipe(upstream);
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const path = decodeURIComponent(url.pathname).replace(new RegExp(`^/${account}/?`), '');
    const record: BlobRequest = { method: req.method ?? 'GET', path, query: Object.fromEntries(url.searchParams.entries()), status: 0 };
    requests.push(record);
    if (alternate?.throttles(req.headers['x-ms-client-request-id'])) {
      record.status = 503;
      req.resume(); // drain the body the client sent
      req.on('end', () => {
        res.writeHead(503, { 'content-type': 'application/xml', 'x-ms-error-code': 'ServerBusy', 'retry-after': '0' });
        res.end('<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code><Message>The server is busy.</Message></Error>');
      });
      return;
    }
    forward(req, res, record);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    endpoint: `http://127.0.0.1:${port}/${account}`,
    requests,
    throttleEveryOther() {
      alternate = new EveryOtherFirstTry();
    },
    stopThrottling() {
      alternate = undefined;
    },
    stop() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
