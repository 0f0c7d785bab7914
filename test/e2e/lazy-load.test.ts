/**
 * `--help`, `validate` and a local `up` must not load any cloud SDK (each costs 150 ms to 2 s
 * of start-up). A preload hook records every module the CLI process resolves.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, tempHome } from '../support/cli.js';

const SDK = /node_modules\/(@aws-sdk|@smithy|@google-cloud|google-gax|@azure)\//;
let dir: string;
let home: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'md-imports-'));
  home = await tempHome();
});
afterAll(async () => {
  await runCli(['down', '-f', 'examples/local-onnx/deploy.yaml', '-q'], { env: { MODELDEPLOY_HOME: home } });
  await rm(dir, { recursive: true, force: true });
  await rm(home, { recursive: true, force: true });
});

async function loaded(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; modules: string[] }> {
  const log = path.join(dir, `${args.join('_').replace(/[^a-z0-9_-]/gi, '')}.log`);
  const run = await runCli(args, {
    nodeArgs: ['--import', path.join(ROOT, 'test', 'support', 'record-imports.mjs')],
    env: { MODELDEPLOY_IMPORT_LOG: log, MODELDEPLOY_HOME: home, ...env },
  });
  const modules = (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  return { code: run.code, modules };
}

describe('lazy loading', () => {
  it('the hook sees what the CLI loads (so an empty SDK list means something)', async () => {
    const { modules } = await loaded(['--help']);
    expect(modules.some((m) => m.includes('node_modules/commander/'))).toBe(true);
  });

  it.each([
    ['--help', ['--help']],
    ['validate (local)', ['validate', '-f', 'examples/local-onnx/deploy.yaml']],
    ['validate (aws template)', ['validate', '-f', 'test/fixtures/aws-deploy.yaml']],
    ['validate (gcp example)', ['validate', '-f', 'examples/gcp-xgboost/deploy.yaml']],
    ['up (local)', ['up', '-f', 'examples/local-onnx/deploy.yaml']],
  ])('%s loads no cloud SDK', async (_name, args) => {
    const { code, modules } = await loaded(args);
    expect(code).toBe(0);
    expect(modules.length).toBeGreaterThan(5);
    expect(modules.filter((m) => SDK.test(m))).toEqual([]);
  });

  it('plan on gcp reads state over REST: neither the Vertex AI SDK, gax nor the Storage SDK is loaded', async () => {
    // No credentials: google-auth-library looks for Application Default Credentials and finds none.
    const { code, modules } = await loaded(['plan', '--json', '-f', 'examples/gcp-xgboost/deploy.yaml'], { HOME: home, METADATA_SERVER_DETECTION: 'none', MODELDEPLOY_GCP_API_ENDPOINT: 'http://127.0.0.1:9' });
    expect(code).toBe(0);
    expect(modules.some((m) => m.includes('node_modules/google-auth-library/'))).toBe(true);
    expect(modules.filter((m) => /node_modules\/(@google-cloud|google-gax|@grpc|protobufjs)\//.test(m))).toEqual([]);
  });

  it('--help loads neither ora nor zod and yaml (bundled into dist/src/config/deps.js by the build); validate loads the bundle, not the packages', async () => {
    const help = await loaded(['--help']);
    expect(help.modules.filter((m) => /node_modules\/(ora|zod|yaml)\/|\/config\/deps\.js$/.test(m))).toEqual([]);
    const validate = await loaded(['validate', '-f', 'examples/local-onnx/deploy.yaml']);
    expect(new Set(validate.modules.filter((m) => m.endsWith('/dist/src/config/deps.js'))).size).toBe(1);
    expect(validate.modules.filter((m) => /node_modules\/(zod|yaml)\//.test(m))).toEqual([]);
  });
});
