/**
 * The data plane: POST to an online endpoint's scoring URI (not part of the ARM SDK), over
 * node:https with the system's CAs (plus `ca` when the caller read NODE_EXTRA_CA_CERTS). The
 * Authorization header carries the endpoint key: it is sent and never echoed into an error.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { ProviderError } from '../../src/core/errors.js';

export interface ScoringResponse {
  status: number;
  contentType?: string;
  body: Uint8Array;
}

export function scoringPost(url: string, headers: Record<string, string>, body: Uint8Array, signal: AbortSignal, ca?: readonly string[]): Promise<ScoringResponse> {
  const target = new URL(url);
  const agent = ca && target.protocol === 'https:' ? new Agent({ ca: [...ca] }) : undefined;
  const send = target.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const fail = (error: Error & { code?: string }) => {
      // The message names the URL and the socket error only: never a header.
      const aborted = signal.aborted || error.name === 'AbortError';
      reject(
        new ProviderError('ScoringRequestFailed', `POST ${target.origin}${target.pathname} failed: ${error.code ?? error.name}${aborted ? '' : `: ${error.message}`}`, {
          category: aborted ? 'failed' : 'unavailable',
          retryable: !aborted && /ECONNRESET|ETIMEDOUT|EAI_AGAIN|ECONNREFUSED/.test(error.code ?? ''),
          hint: aborted ? undefined : 'The scoring host did not answer. Check the network (private endpoints need a route to the workspace network).',
        }),
      );
    };
    const req = send(target, { method: 'POST', headers: { ...headers, 'content-length': String(body.byteLength) }, signal, ...(agent ? { agent } : {}) }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', fail);
      res.on('end', () => {
        const contentType = res.headers['content-type'];
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), ...(contentType ? { contentType } : {}) });
      });
    });
    req.on('error', fail);
    req.end(body);
  });
}
