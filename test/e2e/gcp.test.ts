/**
 * provider: gcp end to end: the built CLI as a subprocess on a copy of examples/gcp-xgboost,
 * pointed at the strict Vertex AI and Cloud Storage fakes only through settings a user has too
 * (MODELDEPLOY_GCP_API_ENDPOINT, STORAGE_EMULATOR_HOST, MODELDEPLOY_GCP_ACCESS_TOKEN,
 * MODELDEPLOY_GCP_POLL_INTERVAL, and the example's own GOOGLE_CLOUD_PROJECT / MODELDEPLOY_BUCKET),
 * and checked with the fakes' record of every request and their listings. The fake's model
 * server evaluates the uploaded XGBoost booster itself, so a smoke test passes only with the
 * right model answering.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { gcpRules } from '../../providers/gcp/rules.js';
import { ROOT, runCli, tempHome, type CliOptions, type CliRun } from '../support/cli.js';
import { ExampleCopy } from '../support/example-copy.js';
import { onEveryOtherRequest } from '../support/faults.js';
import { PredictionError, startFakeVertex, type FakeVertex } from '../emulators/gcp/fake-vertex.js';
import { startFakeGcs, type FakeGcs } from '../emulators/gcp/fake-gcs.js';

const PROJECT = 'e2e-project';
const BUCKET = 'e2e-models';
const TOKEN = 'ya29.e2e-vertex-token';
const ENDPOINT = 'iris-xgboost-default';
let vertex: FakeVertex;
let gcs: FakeGcs;
let home: string;
const example = new ExampleCopy('gcp-xgboost', env);
const printed = example.printed;

beforeAll(async () => {
  vertex = await startFakeVertex({ projectId: PROJECT, delayMs: 60, deployDelayMs: 200, accessToken: TOKEN });
  gcs = await startFakeGcs({ projectId: PROJECT, buckets: [BUCKET] });
  home = await tempHome();
}, 60_000);

afterAll(async () => {
  await vertex?.stop();
  await gcs?.stop();
  await rm(home, { recursive: true, force: true });
});

beforeEach(async () => {
  vertex.requests.length = 0;
  vertex.predictCalls.length = 0;
  vertex.setDelay(60, 200);
  gcs.requests.length = 0;
  await example.create();
});

afterEach(() => example.dispose());

function env(): NodeJS.ProcessEnv {
  return {
    HOME: home,
    // Nothing may fall back to Google's metadata server or real endpoints.
    METADATA_SERVER_DETECTION: 'none',
    MODELDEPLOY_GCP_API_ENDPOINT: vertex.url,
    STORAGE_EMULATOR_HOST: gcs.url,
    MODELDEPLOY_GCP_ACCESS_TOKEN: TOKEN,
    MODELDEPLOY_GCP_POLL_INTERVAL: '40ms',
    GOOGLE_CLOUD_PROJECT: PROJECT,
    MODELDEPLOY_BUCKET: BUCKET,
  };
}

const cli = (args: string[], extra: CliOptions = {}): Promise<CliRun> => example.cli(args, extra);
const revisionOf = (): Promise<string> => example.revision(gcpRules);

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

/** Model servers by deployed model display name (r-<revision>), on the endpoint and any smoke endpoint. */
const servers = new Map<string, (row: number[]) => number[]>();

async function serve(revision: string, wrong = false): Promise<void> {
  const score = booster(await readFile(path.join(example.dir, 'model', 'model.bst'), 'utf8'));
  servers.set(`r-${revision}`, wrong ? () => [0, 0, 1] : score);
  const handler = ({ deployedModel, instances }: { deployedModel: { displayName: string }; instances: unknown[] }) => {
    const server = servers.get(deployedModel.displayName);
    if (!server) throw new PredictionError(500, `{"error": "no model server for ${deployedModel.displayName}"}`);
    return instances.map((row, i) => {
      // What the XGBoost container does with a row that is not a list of numbers (the SDK's REST transport turns [[…]] into [{"0":…}]).
      if (!Array.isArray(row) || !row.every((x) => typeof x === 'number')) throw new PredictionError(400, `{"error": "Prediction failed: could not convert instance ${i} to a numeric row"}`);
      return server(row);
    });
  };
  vertex.setPredictHandler(ENDPOINT, handler);
  vertex.setPredictHandler(`${ENDPOINT}-${revision}`, handler);
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
const endpointOf = (id: string) => vertex.listing().endpoints.find((e) => e.name.endsWith(`/endpoints/${id}`));

function expectNothingLeft(): void {
  const listing = vertex.listing();
  expect({ models: listing.models, endpoints: listing.endpoints, deployedModels: listing.deployedModels }).toEqual({ models: [], endpoints: [], deployedModels: [] });
  expect(objects()).toEqual([]);
}

describe('provider gcp against the strict Vertex AI and Cloud Storage fakes', () => {
  it('up → invoke (row instances intact) → status → unchanged up (0 uploads, 0 creates or deploys) → down: exit 0 each, nothing left', async () => {
    const revision = await revisionOf();
    await serve(revision);
    const up = await cli(['up', '--json']);
    expect(up.code, up.stderr).toBe(0);
    const doc = JSON.parse(up.stdout);
    expect(doc).toMatchObject({ ok: true, action: 'created', revision, smoke: { passed: true }, artifact: { uploaded: true } });
    expect(doc.url).toBe(`${vertex.url}/v1/projects/${vertex.projectNumber}/locations/us-central1/endpoints/${ENDPOINT}:predict`);

    const listing = vertex.listing();
    expect(listing.endpoints).toEqual([expect.objectContaining({ displayName: ENDPOINT, labels: { 'modeldeploy-deployment': 'iris-xgboost', 'modeldeploy-stage': 'default' } })]);
    expect(Object.values(listing.endpoints[0]?.trafficSplit ?? {})).toEqual([100]);
    expect(listing.models).toEqual([expect.objectContaining({ versionId: '1', labels: expect.objectContaining({ 'modeldeploy-revision': revision }) })]);
    const upload = vertex.requests.find((r) => r.rpc === 'ModelService.UploadModel')?.body as { modelId: string; model: { artifactUri: string; containerSpec: { imageUri: string }; versionAliases: string[] } };
    expect(upload).toMatchObject({ modelId: ENDPOINT, model: { artifactUri: `gs://${BUCKET}/modeldeploy/iris-xgboost/${doc.artifact.sha256}/`, containerSpec: { imageUri: 'us-docker.pkg.dev/vertex-ai/prediction/xgboost-cpu.2-1:latest' }, versionAliases: [`r-${revision}`] } });
    expect(objects().map((o) => o.name)).toEqual([`modeldeploy/iris-xgboost/${doc.artifact.sha256}/model.bst`]);
    expect(gcs.object(BUCKET, `modeldeploy/iris-xgboost/${doc.artifact.sha256}/model.bst`)?.metadata).toMatchObject({ sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });

    const importLog = path.join(example.dir, 'imports.log');
    const invoke = await cli(['invoke', '--data', '{"instances": [[6.7, 3.0, 5.2, 2.3], [5.1, 3.5, 1.4, 0.2]]}'], {
      nodeArgs: ['--import', path.join(ROOT, 'test', 'support', 'record-imports.mjs')],
      env: { ...env(), MODELDEPLOY_IMPORT_LOG: importLog },
    });
    expect(invoke.code, invoke.stderr).toBe(0);
    // invoke is one REST call: it pays for neither the Vertex AI SDK nor gax nor the Storage SDK.
    const modules = (await readFile(importLog, 'utf8')).split('\n').filter(Boolean);
    expect(modules.length).toBeGreaterThan(5);
    expect(modules.filter((m) => /node_modules\/(@google-cloud|google-gax|@grpc|protobufjs)\//.test(m))).toEqual([]);
    expect(JSON.parse(invoke.stdout).predictions).toEqual([
      [0.099542, 0.106238, 0.79422],
      [0.812689, 0.094371, 0.092939],
    ]);
    // What arrived at Vertex: the rows as arrays, not objects keyed "0".."3".
    const call = vertex.predictCalls.at(-1);
    expect(call).toMatchObject({ instances: [[6.7, 3.0, 5.2, 2.3], [5.1, 3.5, 1.4, 0.2]], mangledInstances: [], status: 200 });
    expect(JSON.parse(call?.rawBody ?? '')).toEqual({ instances: [[6.7, 3.0, 5.2, 2.3], [5.1, 3.5, 1.4, 0.2]] });

    const status = await cli(['status', '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ state: 'ready', revision, url: doc.url });
    const list = await cli(['list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toMatchObject({ provider: 'gcp', deployments: [{ name: 'iris-xgboost', stage: 'default', state: 'ready', revision, url: doc.url }] });

    vertex.requests.length = 0;
    gcs.requests.length = 0;
    const again = await cli(['up', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ action: 'unchanged', artifact: { uploaded: false } });
    expect(rpcs('UploadModel', 'CreateEndpoint', 'DeployModel', 'UndeployModel', 'UpdateEndpoint', 'DeleteEndpoint', 'DeleteModel')).toEqual([]);
    expect(gcs.requests.filter((r) => r.method !== 'GET')).toEqual([]);

    const down = await cli(['down', '--json']);
    expect(down.code, down.stderr).toBe(0);
    expect(JSON.parse(down.stdout).deleted.map((r: { type: string }) => r.type).sort()).toEqual(['gcs:artifact', 'vertex:deployed-model', 'vertex:endpoint', 'vertex:model']);
    expectNothingLeft();
    // Vertex refuses to delete an endpoint with models on it: the undeploy came first.
    expect(rpcs('UndeployModel', 'DeleteEndpoint', 'DeleteModel')).toEqual(['EndpointService.UndeployModel', 'EndpointService.DeleteEndpoint', 'ModelService.DeleteModel']);
    const twice = await cli(['down', '--json']);
    expect(twice.code, twice.stderr).toBe(0);
    expect(JSON.parse(twice.stdout)).toMatchObject({ ok: true, nothingToDelete: true });
  });

  it('a changed model: a failing smoke test exits 4 with traffic unchanged and the new model gone; a passing one takes 100% only after its smoke test', async () => {
    const first = await revisionOf();
    await serve(first);
    expect((await cli(['up'])).code).toBe(0);
    const before = endpointOf(ENDPOINT)?.trafficSplit;
    const firstObjects = objects();

    await retrain(1);
    const bad = await revisionOf();
    await serve(bad, true);
    vertex.requests.length = 0;
    vertex.predictCalls.length = 0;
    const failed = await cli(['up', '--json']);
    expect(failed.code, failed.stderr).toBe(4);
    expect(JSON.parse(failed.stdout)).toMatchObject({ ok: false, error: { code: 'SmokeTestFailed' } });
    // The new model answered on its own smoke endpoint; the main endpoint's traffic was never written.
    expect(vertex.predictCalls.map((c) => c.endpoint.split('/').at(-1))).toEqual([`${ENDPOINT}-${bad}`]);
    expect(rpcs('UpdateEndpoint', 'MutateDeployedModel')).toEqual([]);
    expect(endpointOf(ENDPOINT)?.trafficSplit).toEqual(before);
    const after = vertex.listing();
    expect(after.endpoints.map((e) => e.displayName)).toEqual([ENDPOINT]);
    expect(after.deployedModels).toHaveLength(1);
    expect(after.models.map((m) => m.labels['modeldeploy-revision'])).toEqual([first]);
    expect(objects()).toEqual(firstObjects);
    expect(JSON.parse((await cli(['status', '--json'])).stdout)).toMatchObject({ state: 'ready', revision: first });

    await retrain(2);
    const next = await revisionOf();
    await serve(next);
    vertex.requests.length = 0;
    vertex.predictCalls.length = 0;
    const updated = await cli(['up', '--json']);
    expect(updated.code, updated.stderr).toBe(0);
    expect(JSON.parse(updated.stdout)).toMatchObject({ action: 'updated', previousRevision: first, revision: next, smoke: { passed: true } });
    // Deployed beside the old one at 0% (no traffic given), smoke-tested, and only then one traffic PATCH.
    const deploys = vertex.requests.filter((r) => r.rpc === 'EndpointService.DeployModel');
    const mainDeploy = deploys.find((r) => r.path.includes(`/endpoints/${ENDPOINT}:`));
    expect((mainDeploy?.body as { trafficSplit?: object }).trafficSplit ?? {}).toEqual({});
    const patch = vertex.requests.find((r) => r.rpc === 'EndpointService.UpdateEndpoint');
    const smoke = vertex.predictCalls.find((c) => c.endpoint.endsWith(`/${ENDPOINT}-${next}`));
    expect(smoke?.status).toBe(200);
    expect(patch?.query.updateMask).toBe('traffic_split');
    expect(Object.values((patch?.body as { trafficSplit: Record<string, number> }).trafficSplit)).toEqual([100]);
    const smokeAt = vertex.requests.findIndex((r) => r.rpc === 'PredictionService.Predict' && r.path.includes(`/endpoints/${ENDPOINT}-${next}:`) && r.status === 200);
    expect(smokeAt).toBeGreaterThanOrEqual(0);
    expect(smokeAt).toBeLessThan(vertex.requests.indexOf(patch as (typeof vertex.requests)[number]));
    const final = vertex.listing();
    expect(final.endpoints.map((e) => e.displayName)).toEqual([ENDPOINT]);
    expect(final.deployedModels).toHaveLength(1);
    expect(Object.values(final.endpoints[0]?.trafficSplit ?? {})).toEqual([100]);
    expect(final.models.map((m) => m.labels['modeldeploy-revision'])).toEqual([next]);
    expect(new Set(objects().map((o) => o.name.split('/')[2])).size).toBe(1);
    const invoke = await cli(['invoke', '--data', '{"instances": [[5.1, 3.5, 1.4, 0.2]]}']);
    expect(vertex.predictCalls.at(-1)?.endpoint.endsWith(`/${ENDPOINT}`)).toBe(true);
    expect(invoke.code, invoke.stderr).toBe(0);

    expect((await cli(['down'])).code).toBe(0);
    expectNothingLeft();
  });

  it('an update with --no-smoke makes no smoke endpoint: the new model is deployed once, then takes the traffic', async () => {
    await serve(await revisionOf());
    expect((await cli(['up'])).code).toBe(0);
    await retrain(3);
    const next = await revisionOf();
    await serve(next);
    vertex.requests.length = 0;
    const up = await cli(['up', '--no-smoke', '--json']);
    expect(up.code, up.stderr).toBe(0);
    expect(JSON.parse(up.stdout)).toMatchObject({ action: 'updated', revision: next });
    expect(rpcs('CreateEndpoint')).toEqual([]);
    expect(vertex.requests.filter((r) => r.rpc === 'EndpointService.DeployModel').map((r) => r.path.split('/').at(-1))).toEqual([`${ENDPOINT}:deployModel`]);
    expect(vertex.listing().deployedModels).toEqual([expect.objectContaining({ endpoint: expect.stringMatching(new RegExp(`/endpoints/${ENDPOINT}$`)) })]);
    expect((await cli(['down'])).code).toBe(0);
    expectNothingLeft();
  });

  it('--keep-on-failure keeps the failed revision and its smoke endpoint for inspection; down from deploy.yaml alone removes all of it', async () => {
    const first = await revisionOf();
    await serve(first);
    expect((await cli(['up'])).code).toBe(0);
    await retrain(4);
    const bad = await revisionOf();
    await serve(bad, true);
    const failed = await cli(['up', '--keep-on-failure']);
    expect(failed.code, failed.stderr).toBe(4);
    const kept = vertex.listing();
    expect(kept.endpoints.map((e) => e.displayName).sort()).toEqual([ENDPOINT, `${ENDPOINT}-${bad}`]);
    expect(kept.endpoints.find((e) => e.displayName === `${ENDPOINT}-${bad}`)?.labels).toMatchObject({ 'modeldeploy-role': 'smoke', 'modeldeploy-revision': bad });
    expect(kept.deployedModels).toHaveLength(3); // the old one, the new one at 0%, the new one on the smoke endpoint
    // The old revision keeps all the traffic (the new model came in with no share at all).
    const oldId = kept.deployedModels.find((d) => d.endpoint.endsWith(`/${ENDPOINT}`) && d.modelVersionId === '1')?.id ?? '';
    expect(endpointOf(ENDPOINT)?.trafficSplit).toEqual({ [oldId]: 100 });

    const down = await cli(['down', '--json']);
    expect(down.code, down.stderr).toBe(0);
    expect(JSON.parse(down.stdout).deleted.map((r: { type: string }) => r.type).sort()).toEqual([
      'gcs:artifact',
      'gcs:artifact',
      'vertex:deployed-model',
      'vertex:deployed-model',
      'vertex:deployed-model',
      'vertex:endpoint',
      'vertex:model',
      'vertex:model-version',
      'vertex:smoke-endpoint',
    ]);
    expectNothingLeft();
  });

  it('a bucket that does not exist: exit 3 with the command that creates it in the region, before any Vertex AI change', async () => {
    const run = await cli(['up'], { env: { ...env(), MODELDEPLOY_BUCKET: 'no-such-bucket' } });
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain('hint: Bucket no-such-bucket does not exist. Create it in the region you deploy to: `gcloud storage buckets create gs://no-such-bucket --location=us-central1`');
    expect(vertex.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    expectNothingLeft();
  });

  it('RESOURCE_EXHAUSTED on deployModel: exit 3 with which quota and how to raise it, and nothing of the run is left', async () => {
    vertex.failNextOperation('deployModel', {
      code: 8,
      message: "The following quota metrics exceed quota limits: aiplatform.googleapis.com/custom_model_serving_cpus_per_machine_type/n1 in us-central1",
    });
    const run = await cli(['up']);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain('failed: RESOURCE_EXHAUSTED: The following quota metrics exceed quota limits');
    expect(run.stderr).toMatch(/hint: Your project's quota aiplatform\.googleapis\.com\/custom_model_serving_cpus_per_machine_type\/n1 in us-central1 is too small\. The deployment asks for 1 × n1-standard-2/);
    expect(run.stderr).toContain('rollback complete');
    expectNothingLeft();
  });

  it('a failed deploy operation (the model server never started): exit 3 with where the logs are, and nothing of the run is left', async () => {
    vertex.failNextOperation('deployModel', { code: 9, message: 'Model server never became ready. Please validate that your model file or container configuration are valid.' });
    const run = await cli(['up']);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain('Model server never became ready');
    expect(run.stderr).toContain('gcloud logging read');
    expect(run.stderr).toContain('rollback complete');
    expectNothingLeft();
  });

  it('503 UNAVAILABLE on the first try of every Vertex AI and Cloud Storage call, predictions included: up ends ready and down removes everything', async () => {
    const revision = await revisionOf();
    await serve(revision);
    // Every other request (each first try; its retry is the next one) answers 503, on both fakes.
    const stops = [onEveryOtherRequest(vertex.requests, () => vertex.unavailable(1)), onEveryOtherRequest(gcs.requests, () => gcs.unavailable(1))];
    try {
      const up = await cli(['up', '--json']);
      expect(up.code, up.stderr).toBe(0);
      expect(JSON.parse(up.stdout)).toMatchObject({ action: 'created', smoke: { passed: true } });
      const down = await cli(['down']);
      expect(down.code, down.stderr).toBe(0);
    } finally {
      for (const stop of stops) stop();
      vertex.clearFaults();
    }
    const unavailable = vertex.requests.filter((r) => r.status === 503);
    expect(unavailable.length).toBeGreaterThanOrEqual(Math.floor(vertex.requests.length / 2) - 1);
    expect(unavailable.some((r) => r.rpc === 'PredictionService.Predict')).toBe(true);
    expect(unavailable.some((r) => r.rpc === 'EndpointService.DeployModel')).toBe(true);
    expect(gcs.requests.filter((r) => r.status === 503).length).toBeGreaterThanOrEqual(2);
    expectNothingLeft();
  });

  it('the answer to deployModel is lost and its retry finds the model already deploying: up waits for it and ends ready', async () => {
    const revision = await revisionOf();
    await serve(revision);
    vertex.dropNextResponse('EndpointService.DeployModel');
    const up = await cli(['up', '--json']);
    expect(up.code, up.stderr).toBe(0);
    expect(JSON.parse(up.stdout)).toMatchObject({ action: 'created', revision, smoke: { passed: true } });
    const deploys = vertex.requests.filter((r) => r.rpc === 'EndpointService.DeployModel');
    expect(deploys.map((r) => r.status)).toEqual([0, 409]);
    expect(vertex.listing().deployedModels).toHaveLength(1);
    expect((await cli(['down'])).code).toBe(0);
    expectNothingLeft();
  });

  it('SIGINT during deployModel: exit 130, the operation cancelled, and nothing of that run is left', async () => {
    vertex.setDelay(60, 5000);
    let sent = false;
    const run = await cli(['up'], {
      onStderr: (_text, child) => {
        if (!sent && vertex.listing().operationsInFlight.some((o) => o.kind === 'deployModel')) {
          sent = true;
          child.kill('SIGINT');
        }
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
    const handler = ({ instances }: { instances: unknown[] }) => instances.map(() => 'Hello');
    vertex.setPredictHandler('chat-llm-default', handler);
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
    expect(printed.length).toBeGreaterThan(20);
    for (const text of printed) expect(text.includes(TOKEN), 'the access token was printed or stored').toBe(false);
  });
});
