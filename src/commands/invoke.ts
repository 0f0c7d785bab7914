import { defineCommand } from './command.js';
import type { BenchGate, BenchResult, InvokeResult } from '../core/queries.js';

export type InvokeCommandResult = ({ mode: 'single' } & InvokeResult) | ({ mode: 'bench'; gate: BenchGate } & BenchResult);

type UsageErrorClass = typeof import('../core/errors.js').UsageError;

function fraction(raw: string, flag: string, UsageError: UsageErrorClass): number {
  const value = Number(raw.endsWith('%') ? Number(raw.slice(0, -1)) / 100 : raw);
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new UsageError('InvalidOption', `${flag} ${raw} is not a fraction between 0 and 1`, { hint: 'e.g. 0, 0.01 or 1%' });
  return value;
}

function positive(raw: string, flag: string, UsageError: UsageErrorClass): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError('InvalidOption', `${flag} ${raw} is not a positive number`, { hint: 'e.g. 250' });
  return value;
}

export const invokeCommand = defineCommand<InvokeCommandResult>({
  name: 'invoke',
  summary: 'Send a request to the deployed endpoint and print the response',
  usesDeployFile: true,
  deployFileLongFlag: 'config',
  options: [
    { flags: '--data <json>', description: 'the request body' },
    { flags: '--file <path>', description: 'read the request body from a file (- for stdin); deploy.yaml is -f/--config here' },
    { flags: '--content-type <type>', description: 'request content type', default: 'application/json' },
    { flags: '--bench <n>', description: 'send n requests and print latency percentiles' },
    { flags: '--concurrency <c>', description: 'requests in flight with --bench', default: '1' },
    { flags: '--max-error-rate <fraction>', description: 'with --bench: exit 4 when more than this share of requests fail (0 = none may fail)' },
    { flags: '--max-p95-ms <ms>', description: 'with --bench: exit 4 when the p95 latency is above this' },
  ],
  async run(input, ctx) {
    const [{ readFile }, { UsageError, ProviderError, SmokeTestError }, queries] = await Promise.all([
      import('node:fs/promises'),
      import('../core/errors.js'),
      import('../core/queries.js'),
    ]);
    let body: Buffer;
    if (typeof input.data === 'string') body = Buffer.from(input.data);
    else if (typeof input.file === 'string' && input.file !== '-') {
      body = await readFile(input.file).catch((error: Error) => {
        throw new UsageError('InvalidOption', `cannot read --file ${String(input.file)}: ${error.message}`);
      });
    } else if (input.file === '-' || (ctx.io.stdin && !ctx.io.stdin.isTTY && input.data === undefined)) {
      const chunks: Buffer[] = [];
      for await (const chunk of ctx.io.stdin ?? []) chunks.push(Buffer.from(chunk as Buffer));
      body = Buffer.concat(chunks);
      if (body.length === 0) {
        throw new UsageError('MissingRequest', 'no request body: standard input was empty', { hint: `pass --data '{"instances": [[1, 2, 3, 4]]}', --file request.json, or pipe the body in` });
      }
    } else {
      throw new UsageError('MissingRequest', 'no request body', { hint: `pass --data '{"instances": [[1, 2, 3, 4]]}', --file request.json, or pipe it on stdin` });
    }
    const contentType = String(input.contentType ?? 'application/json');
    if (contentType.includes('json')) {
      try {
        JSON.parse(body.toString('utf8'));
      } catch (error) {
        throw new UsageError('InvalidRequestBody', `the request body is not valid JSON: ${(error as Error).message}`, { hint: 'fix the JSON, or pass --content-type for another format' });
      }
    }
    const spec = await ctx.loadSpec();
    const request = { body, contentType };
    if (input.bench !== undefined) {
      const count = Number(input.bench);
      const concurrency = Number(input.concurrency ?? 1);
      if (!Number.isInteger(count) || count < 1 || !Number.isInteger(concurrency) || concurrency < 1) {
        throw new UsageError('InvalidOption', '--bench and --concurrency take whole numbers of at least 1');
      }
      const limits = {
        ...(input.maxErrorRate !== undefined ? { maxErrorRate: fraction(String(input.maxErrorRate), '--max-error-rate', UsageError) } : {}),
        ...(input.maxP95Ms !== undefined ? { maxP95Ms: positive(String(input.maxP95Ms), '--max-p95-ms', UsageError) } : {}),
      };
      const result = await queries.benchEndpoint(spec, request, count, concurrency, await ctx.core());
      const gate = queries.judgeBench(result, limits);
      const l = result.latencyMs;
      const error = gate.passed
        ? undefined
        : new SmokeTestError(`the load test breached its limits: ${gate.breaches.join('; ')}`, {
            hint: 'The endpoint answers, but not well enough: check its logs, its instance type and --concurrency.',
            details: { breaches: gate.breaches },
          });
      return {
        data: { mode: 'bench', ...result, gate },
        human: `${result.requests} requests, concurrency ${result.concurrency}, ${result.errors} errors, ${result.requestsPerSecond} req/s\nlatency ms: p50 ${l.p50}  p95 ${l.p95}  p99 ${l.p99}  (min ${l.min}, max ${l.max})${gate.breaches.length ? `\nbreached: ${gate.breaches.join('; ')}` : ''}`,
        ...(error ? { error } : {}),
      };
    }
    const result = await queries.invokeEndpoint(spec, request, await ctx.core());
    const error =
      result.status >= 400
        ? new ProviderError('InvokeFailed', `the endpoint answered ${result.status}: ${result.body.slice(0, 500)}`, {
            category: 'failed',
            hint: 'Check the request against what the model expects; `modeldeploy status` shows the endpoint state.',
          })
        : undefined;
    return { data: { mode: 'single', ...result }, human: result.body, ...(error ? { error } : {}) };
  },
});
