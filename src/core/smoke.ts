import { readFile } from 'node:fs/promises';
import { SmokeTestError } from './errors.js';
import { partialMatch } from './match.js';
import type { InvokeRequest, InvokeResponse } from './provider.js';
import type { SmokeRequest, SmokeSpec } from './spec.js';

export interface SmokeResult {
  passed: boolean;
  status: number;
  latencyMs: number;
  mismatches: string[];
}

export async function smokeRequest(request: SmokeRequest): Promise<InvokeRequest> {
  if (request.kind === 'file') {
    return { body: await readFile(request.file), contentType: request.contentType };
  }
  return { body: Buffer.from(JSON.stringify(request.body)), contentType: request.contentType };
}

/** Check one response against the spec's expectations; every mismatch is listed. */
export function judgeSmoke(spec: SmokeSpec, response: InvokeResponse): SmokeResult {
  const mismatches: string[] = [];
  const { expect } = spec;
  if (response.status !== expect.status) {
    mismatches.push(`status: expected ${expect.status}, got ${response.status} ${preview(response.body)}`);
  }
  if (expect.body !== undefined) {
    let body: unknown;
    try {
      body = JSON.parse(Buffer.from(response.body).toString('utf8'));
    } catch {
      mismatches.push(`body: expected JSON, got ${preview(response.body)}`);
    }
    if (body !== undefined) mismatches.push(...partialMatch(expect.body, body, expect.tolerance));
  }
  if (expect.maxLatencyMs !== undefined && response.latencyMs > expect.maxLatencyMs) {
    mismatches.push(`latency: ${Math.round(response.latencyMs)} ms is above maxLatencyMs ${expect.maxLatencyMs}`);
  }
  return { passed: mismatches.length === 0, status: response.status, latencyMs: response.latencyMs, mismatches };
}

export function smokeError(result: SmokeResult, target: string): SmokeTestError {
  return new SmokeTestError(`smoke test of ${target} failed: ${result.mismatches.join('; ')}`, {
    hint: 'Check smoke.request and smoke.expect in deploy.yaml, and the serving logs; `modeldeploy invoke` sends a request by hand.',
    details: { mismatches: result.mismatches, status: result.status, latencyMs: result.latencyMs },
  });
}

function preview(body: Uint8Array): string {
  const text = Buffer.from(body).toString('utf8');
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}
