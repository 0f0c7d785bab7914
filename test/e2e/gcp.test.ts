/**
 * provider: gcp end to end: what only the built CLI shows (exit codes, --json, SIGINT, hints,
 * lazy loading, the access token never printed), on copies of examples/gcp-xgboost and gcp-llm,
 * pointed at the strict Vertex AI and Cloud Storage fakes only through settings a user has too
 * (MODELDEPLOY_GCP_API_ENDPOINT, STORAGE_EMULATOR_HOST, MODELDEPLOY_GCP_ACCESS_TOKEN,
 * MODELDEPLOY_GCP_POLL_INTERVAL, and the examples' own GOOGLE_CLOUD_PROJECT / MODELDEPLOY_BUCKET).
 * The lifecycle's guarantees are the contract suite's (test/contract/, harness-gcp.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ROOT, runCli, tempHome, type CliOptions, type CliRun } from '../support/cli.js';
import { ExampleCopy } from '../support/example-copy.js';
import { PredictionError, startFakeVertex, type FakeVertex, type RecordedVertexRequest } from '../emulators/gcp/fake-vertex.js';
import { startFakeGcs, type FakeGcs } from '../emulators/gcp/fake-gcs.js';

const PROJECT = 'e2e-project';
const BUCKET = 'e2e-models';
const TOKEN = 'ya29.e2e-vertex-token';
const ENDPOINT = 'iris-xgboost-default';
/** Vertex AI SDK, gax, their gRPC and protobuf stack, and the Storage SDK. */
const GOOGLE_SDKS = /node_modules\/(@google-cloud|google-gax|@grpc|protobufjs)\//;
let vertex: FakeVertex;
let gcs: FakeGcs;
let home: string;
const example = new ExampleCopy('gcp-xgboost', env);
const printed = example.printed;

beforeAll(async () => {
  vertex = await startFakeVertex({ projectId: PROJECT, accessToken: TOKEN });
  gcs = await startFakeGcs({ projectId: PROJECT, buckets: [BUCKET] });
  home = await tempHome();
}, 60_000);

afterAll(async () => {
  await vertex?.stop();
  await gcs?.stop();
  await rm(home, { recursive: true, force: true });
});

beforeEach(async () => {
  vertex.reset();
  await gcs.reset();
  await example.create();
});

afterEach(async () => {
  vertex.events.removeAllListeners();
  vertex.settle();
  await example.dispose();
});

function env(): NodeJS.ProcessEnv {
  return {
    HOME: home,
    // Nothing may fall back to Google's metadata server or real endpoints.
    METADATA_SERVER_DETECTION: 'none',
    MODELDEPLOY_GCP_API_ENDPOINT: vertex.url,
    STORAGE_EMULATOR_HOST: gcs.url,
    MODELDEPLOY_GCP_ACCESS_TOKEN: TOKEN,
    MODELDEPLOY_GCP_POLL_INTERVAL: '20ms',
    GOOGLE_CLOUD_PROJECT: PROJECT,
    MODELDEPLOY_BUCKET: BUCKET,
  };
}

const cli = (args: string[], extra: CliOptions = {}): Promise<CliRun> => example.cli(args, extra);
const revisionOf = (): Promise<string> => example.revision();

interface Tree {
  split_indices: number[];
  split_conditions: number[];
  left_children: number[];
  right_children: number[];
}

/** multi:softprob of an XGBoost JSON booster: each class's leaf sum, then softmax (what the prebuilt container answers). */
function booster(json: string): (row: number[]) => number[] {
  const model = (JSON.parse(json) as { learner: { gradient_booster: { model: { trees: Tree[]; tree_info: number[] } } } }).learner.gradient_booster.model;
  return (row) => {
    const margins = [0, 0, 0];
    model.trees.forEach((tree, t) => {
      let node = 0;
      while (tree.left_children[node] !== -1) {
        const goLeft = (row[tree.split_indices[node] ?? 0] ?? 0) < (tree.split_conditions[node] ?? 0);
        node = (goLeft ? tree.left_children[node] : tree.right_children[node]) ?? 0;
      }
      const cls = model.tree_info[t] ?? 0;
      margins[cls] = (margins[cls] ?? 0) + (tree.split_conditions[node] ?? 0);
    });
    const exp = margins.map(Math.exp);
    const sum = exp.reduce((a, b) => a + b, 0);
    return exp.map((e) => Math.round((e / sum) * 1e6) / 1e6);
  };
}

/** The XGBoost container of every endpoint, evaluating the example's booster (a wrong model answers [0, 0, 1]). */
async function serve(wrong = false): Promise<void> {
  const score = wrong ? () => [0, 0, 1] : booster(await readFile(path.join(example.dir, 'model', 'model.bst'), 'utf8'));
  vertex.setDefaultPredictHandler(({ instances }) =>
    instances.map((row, i) => {
      // What the container does with a row that is not a list of numbers (the SDK's REST transport turns [[…]] into [{"0":…}]).
      if (!Array.isArray(row) || !row.every((x) => typeof x === 'number')) throw new PredictionError(400, `{"error": "Prediction failed: could not convert instance ${i} to a numeric row"}`);
      return score(row as number[]);
    }),
  );
}

/** A retrained model: same trees, one leaf moved a little (a new sha256, a new revision). */
async function retrain(step: number): Promise<void> {
  const file = path.join(example.dir, 'model', 'model.bst');
  const doc = JSON.parse(await readFile(file, 'utf8')) as { learner: { gradient_booster: { model: { trees: Tree[] } } } };
  const tree = doc.learner.gradient_booster.model.trees[1] as Tree;
  const leaf = tree.left_children.findIndex((c) => c === -1);
  tree.split_conditions[leaf] = (tree.split_conditions[leaf] ?? 0) + 0.00001 * step;
  await writeFile(file, JSON.stringify(doc));
}

const objects = () => gcs.listing().filter((o) => o.bucket === BUCKET);
const rpcs = (...names: string[]) => vertex.requests.filter((r) => r.rpc && names.some((n) => r.rpc?.endsWith(n))).map((r) => r.rpc);

function expectNothingLeft(): void {
  const listing = vertex.listing();
  expect({ models: listing.models, endpoints: listing.endpoints, deployedModels: listing.deployedModels }).toEqual({ models: [], endpoints: [], deployedModels: [] });
  expect(objects()).toEqual([]);
}

describe('provider gcp through the CLI, against the strict Vertex AI and Cloud Storage fakes', () => {
  it('up, invoke (rows intact, over REST alone), status, list, an unchanged up, down twice: exit 0 and one JSON document each', async () => {
    const revision = await revisionOf();
    await serve();
    const up = await cli(['up', '--json']);
    expect(up.code, up.stderr).toBe(0);
    const doc = JSON.parse(up.stdout);
    expect(doc).toMatchObject({ ok: true, action: 'created', revision, smoke: { passed: true }, artifact: { uploaded: true } });
    expect(doc.url).toBe(`${vertex.url}/v1/projects/${vertex.projectNumber}/locations/us-central1/endpoints/${ENDPOINT}:predict`);

    const importLog = path.join(example.dir, 'imports.log');
    vertex.predictCalls.length = 0;
    const invoke = await cli(['invoke', '--data', '{"instances": [[6.7, 3.0, 5.2, 2.3], [5.1, 3.5, 1.4, 0.2]]}'], {
      nodeArgs: ['--import', path.join(ROOT, 'test', 'support', 'record-imports.mjs')],
      env: { ...env(), MODELDEPLOY_IMPORT_LOG: importLog },
    });
    expect(invoke.code, invoke.stderr).toBe(0);
    // invoke is one REST call: it pays for neither the Vertex AI SDK nor gax nor the Storage SDK.
    const modules = (await readFile(importLog, 'utf8')).split('\n').filter(Boolean);
    expect(modules.length).toBeGreaterThan(5);
    expect(modules.filter((m) => GOOGLE_SDKS.test(m))).toEqual([]);
    expect(JSON.parse(invoke.stdout).predictions).toEqual([
      [0.099542, 0.106238, 0.79422],
      [0.812689, 0.094371, 0.092939],
    ]);
    // The body reached Vertex byte for byte: rows as arrays, not objects keyed "0".."3".
    expect(vertex.predictCalls.map((c) => c.rawBody)).toEqual(['{"instances": [[6.7, 3.0, 5.2, 2.3], [5.1, 3.5, 1.4, 0.2]]}']);

    const status = await cli(['status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ ok: true, state: 'ready', revision, url: doc.url });
    const list = await cli(['list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toMatchObject({ ok: true, provider: 'gcp', deployments: [{ name: 'iris-xgboost', stage: 'default', state: 'ready', revision, url: doc.url }] });

    const again = await cli(['up', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, action: 'unchanged', artifact: { uploaded: false } });

    const down = await cli(['down', '--json']);
    expect(down.code, down.stderr).toBe(0);
    expect(JSON.parse(down.stdout).deleted.map((r: { type: string }) => r.type).sort()).toEqual(['artifact', 'vertex:deployed-model', 'vertex:endpoint', 'vertex:model']);
    expectNothingLeft();
    const twice = await cli(['down', '--json']);
    expect(twice.code, twice.stderr).toBe(0);
    expect(JSON.parse(twice.stdout)).toMatchObject({ ok: true, nothingToDelete: true });
  });

  it('an update: a failing smoke test exits 4 with the old model serving; with --no-smoke the new one is deployed once, on the endpoint only', async () => {
    const first = await revisionOf();
    await serve();
    expect((await cli(['up'])).code).toBe(0);

    await retrain(1);
    await serve(true);
    const failed = await cli(['up', '--json']);
    expect(failed.code, failed.stderr).toBe(4);
    expect(JSON.parse(failed.stdout)).toMatchObject({ ok: false, error: { code: 'SmokeTestFailed' } });
    expect(JSON.parse((await cli(['status', '--json'])).stdout)).toMatchObject({ state: 'ready', revision: first });

    await retrain(2);
    const next = await revisionOf();
    vertex.requests.length = 0;
    const updated = await cli(['up', '--no-smoke', '--json']);
    expect(updated.code, updated.stderr).toBe(0);
    expect(JSON.parse(updated.stdout)).toMatchObject({ action: 'updated', previousRevision: first, revision: next });
    // Not reached before promote: no smoke endpoint, one deploy.
    expect(rpcs('CreateEndpoint')).toEqual([]);
    expect(vertex.requests.filter((r) => r.rpc === 'EndpointService.DeployModel').map((r) => r.path.split('/').at(-1))).toEqual([`${ENDPOINT}:deployModel`]);
    expect((await cli(['down'])).code).toBe(0);
    expectNothingLeft();
  });

  it('a bucket that does not exist: exit 3 with the command that creates it in the region, before any Vertex AI change', async () => {
    // Written into deploy.yaml: a value read from the environment is masked in what modeldeploy prints.
    const yaml = await readFile(example.deployFile, 'utf8');
    await writeFile(example.deployFile, yaml.replace(/bucket: .*/, 'bucket: no-such-bucket'));
    const run = await cli(['up']);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain('hint: Bucket no-such-bucket does not exist. Create it in the region you deploy to: `gcloud storage buckets create gs://no-such-bucket --location=us-central1`');
    expect(vertex.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    expectNothingLeft();
  });

  it('RESOURCE_EXHAUSTED on deployModel: exit 3 with which quota and how to raise it, and nothing of the run is left', async () => {
    await serve();
    vertex.failNextOperation('deployModel', {
      code: 8,
      message: 'The following quota metrics exceed quota limits: aiplatform.googleapis.com/custom_model_serving_cpus_per_machine_type/n1 in us-central1',
    });
    const run = await cli(['up', '--json']);
    expect(run.code, run.stderr).toBe(3);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, error: { code: 'ResourceExhausted' } });
    expect(run.stderr).toContain('failed: RESOURCE_EXHAUSTED: The following quota metrics exceed quota limits');
    expect(run.stderr).toMatch(/hint: Your project's quota aiplatform\.googleapis\.com\/custom_model_serving_cpus_per_machine_type\/n1 in us-central1 is too small\. The deployment asks for 1 × n1-standard-2/);
    expect(run.stderr).toContain('rollback complete');
    expectNothingLeft();
  });

  it('SIGINT while deployModel runs: exit 130, the operation cancelled, and nothing of that run is left', async () => {
    await serve();
    vertex.hold(['deployModel']);
    let child: ChildProcess | undefined;
    let deploying = false;
    let sent = false;
    const interrupt = () => {
      if (sent || !child || !deploying) return;
      sent = true;
      child.kill('SIGINT');
    };
    vertex.events.on('response', (r: RecordedVertexRequest) => {
      if (r.rpc === 'EndpointService.DeployModel' && r.status === 200) {
        deploying = true;
        interrupt();
      }
      // Vertex ends a cancelled deploy some time later: here, as soon as the cancel is answered.
      if (r.path.endsWith(':cancel')) vertex.settle();
    });
    const run = await cli(['up'], {
      onStderr: (_text, process) => {
        child = process;
        interrupt();
      },
    });
    expect(sent).toBe(true);
    expect(run.code, run.stderr).toBe(130);
    expect(run.stderr).toContain('rollback complete: nothing of this run is left');
    expect(vertex.requests.some((r) => r.path.endsWith(':cancel'))).toBe(true);
    expectNothingLeft();
  });

  it('examples/gcp-llm: TGI from the Hub on a GPU machine, nothing uploaded; up → invoke → down', async () => {
    const llm = new ExampleCopy('gcp-llm', env, printed);
    await llm.create();
    vertex.setDefaultPredictHandler(({ instances }) => instances.map(() => 'Hello'));
    const run = (args: string[]) => llm.cli(args);
    try {
      const up = await run(['up', '--json']);
      expect(up.code, up.stderr).toBe(0);
      expect(JSON.parse(up.stdout)).toMatchObject({ action: 'created', smoke: { passed: true }, artifact: { uploaded: false } });
      const upload = vertex.requests.find((r) => r.rpc === 'ModelService.UploadModel')?.body as { model: Record<string, unknown> };
      expect(upload.model.artifactUri).toBeUndefined();
      expect(upload.model.containerSpec).toEqual({
        imageUri: 'us-docker.pkg.dev/deeplearning-platform-release/gcr.io/huggingface-text-generation-inference-cu124.2-4.ubuntu2204.py311',
        env: [
          { name: 'MODEL_ID', value: 'Qwen/Qwen2.5-1.5B-Instruct' },
          { name: 'NUM_SHARD', value: '1' },
          { name: 'MAX_INPUT_TOKENS', value: '2048' },
          { name: 'MAX_TOTAL_TOKENS', value: '4096' },
          { name: 'HF_TOKEN', value: '' },
        ],
        ports: [{ containerPort: 8080 }],
      });
      const deploy = vertex.requests.find((r) => r.rpc === 'EndpointService.DeployModel')?.body as { deployedModel: { dedicatedResources: unknown } };
      // The SDK's REST transport sends enums as numbers ($alt=json;enum-encoding=int): 11 is AcceleratorType.NVIDIA_L4.
      expect(deploy.deployedModel.dedicatedResources).toEqual({ machineSpec: { machineType: 'g2-standard-12', acceleratorType: 11, acceleratorCount: 1 }, minReplicaCount: 1, maxReplicaCount: 1 });
      // Nothing went to the bucket: the weights come from the Hub.
      expect(objects()).toEqual([]);

      const invoke = await run(['invoke', '--data', '{"instances": [{"inputs": "Hi", "parameters": {"max_new_tokens": 4}}]}']);
      expect(invoke.code, invoke.stderr).toBe(0);
      expect(JSON.parse(invoke.stdout).predictions).toEqual(['Hello']);
      expect(vertex.predictCalls.at(-1)?.instances).toEqual([{ inputs: 'Hi', parameters: { max_new_tokens: 4 } }]);

      const down = await run(['down']);
      expect(down.code, down.stderr).toBe(0);
      expectNothingLeft();
    } finally {
      await llm.dispose();
    }
  });

  it('plan --json on examples/gcp-llm with no credentials and no network', async () => {
    const run = await runCli(['plan', '--json', '-f', path.join(ROOT, 'examples', 'gcp-llm', 'deploy.yaml')], {
      env: { HOME: home, METADATA_SERVER_DETECTION: 'none', MODELDEPLOY_GCP_API_ENDPOINT: 'http://127.0.0.1:9' },
    });
    printed.push(run.stdout, run.stderr);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      ok: true,
      action: 'unknown',
      names: { endpoint: 'chat-llm-default', model: 'chat-llm-default', deployedModel: expect.stringMatching(/^r-[0-9a-f]{8}$/) },
      details: {
        imageUri: 'us-docker.pkg.dev/deeplearning-platform-release/gcr.io/huggingface-text-generation-inference-cu124.2-4.ubuntu2204.py311',
        machineType: 'g2-standard-12',
        accelerator: { type: 'NVIDIA_L4', count: 1 },
        region: 'us-central1',
        stateUnavailable: expect.stringContaining('CredentialsMissing'),
      },
    });
  });

  it('the access token appears nowhere: not in any stdout or stderr above, nor in .modeldeploy/', () => {
    expect(printed.length).toBeGreaterThan(15);
    for (const text of printed) expect(text.includes(TOKEN), 'the access token was printed or stored').toBe(false);
  });
});
