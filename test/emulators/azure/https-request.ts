import { request } from 'node:https';

export interface HttpsResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
  json(): unknown;
}

/**
 * A minimal HTTPS client trusting one extra CA, for in-process tests: Node 20's global fetch cannot be told
 * about a CA after start-up (NODE_EXTRA_CA_CERTS is read once), and undici's Agent is not a dependency here.
 */
export function httpsRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; ca: string },
): Promise<HttpsResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers ?? {}, ca: options.ca, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
        resolve({ status: res.statusCode ?? 0, headers, text, json: () => JSON.parse(text) as unknown });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
