/**
 * provider: gcp behaviour the shared contract suite cannot express, through the real core and the
 * real SDKs against the strict Vertex AI and Cloud Storage fakes: how an update is shaped on
 * Vertex (0% beside the old model, a smoke endpoint, one traffic PATCH), a deployModel whose answer
 * was lost, and predictions the front end refuses.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadDeployment } from '../../src/config/load.js';
import { systemClock } from '../../src/core/clock.js';
import { openSession, providerContext, type CoreContext } from '../../src/core/context.js';
import { RecordingProgress } from '../../src/core/events.js';
import { up, type UpResult } from '../../src/core/lifecycle.js';
import { down } from '../../src/core/teardown.js';
import type { DeploymentSpec } from '../../src/core/spec.js';
import { registry } from '../../providers/index.js';
import { startFakeGcs, type FakeGcs } from '../emulators/gcp/fake-gcs.js';
import { PredictionError, startFakeVertex, type FakeVertex } from '../emulators/gcp/fake-vertex.js';

const PROJECT = 'it-project';
const BUCKET = 'it-models';
const TOKEN = 'ya29.it-token';
let vertex: FakeVertex;
let gcs: FakeGcs;
let dir: string;

const env = (): NodeJS.ProcessEnv => ({
  MODELDEPLOY_GCP_API_ENDPOINT: vertex.url,
  STORAGE_EMULATOR_HOST: gcs.url,
  MODELDEPLOY_GCP_ACCESS_TOKEN: TOKEN,
  MODELDEPLOY_GCP_POLL_INTERVAL: '20ms',
});

function core(): CoreContext {
  return { registry, progress: new RecordingProgress(), clock: systemClock, signal: new AbortController().signal, env: env(), cacheDir: path.join(dir, '.modeldeploy') };
}

/** deploy.yaml and a model folder whose weights.txt makes the revision. */
async function write(weights: string, smoke = true): Promise<DeploymentSpec> {
  await mkdir(path.join(dir, 'model'), { recursive: true });
  await writeFile(path.join(dir, 'model', 'model.joblib'), 'a scikit-learn model\n');
  await writeFile(path.join(dir, 'model', 'weights.txt'), weights);
  const doc = {
    name: 'iris',
    provider: 'gcp',
    region: 'us-central1',
    model: { path: './model', framework: 'sklearn', version: '1.5' },
    instance: { type: 'n1-standard-2', count: 1 },
    ...(smoke ? { smoke: { request: { instances: [[5.1, 3.5, 1.4, 0.2]] }, expect: { status: 200, body: { predictions: [0] } } } } : {}),
    gcp: { project: PROJECT, bucket: BUCKET },
  };
  await writeFile(path.join(dir, 'deploy.yaml'), JSON.stringify(doc));
  return (await loadDeployment(path.join(dir, 'deploy.yaml'), { env: env(), registry })).spec;
}

const run = async (weights: string): Promise<UpResult> => up(await write(weights), { smoke: true, keepOnFailure: false }, core());
const endpointOf = (id: string) => vertex.listing().endpoints.find((e) => e.name.endsWith(`/endpoints/${id}`));

beforeAll(async () => {
  vertex = await startFakeVertex({ projectId: PROJECT, accessToken: TOKEN });
  gcs = await startFakeGcs({ projectId: PROJECT, buckets: [BUCKET] });
});

afterAll(async () => {
  await vertex?.stop();
  await gcs?.stop();
});

beforeEach(async () => {
  vertex.reset();
  await gcs.reset();
  vertex.setDefaultPredictHandler(({ instances }) => instances.map(() => 0));
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = await mkdtemp(path.join(tmpdir(), 'md-gcp-provider-'));
});

describe('provider gcp on Vertex AI', () => {
  it('an update comes in at 0% beside the old model and takes all traffic on its smoke endpoint; one PATCH after the smoke request moves the traffic, then the smoke endpoint goes', async () => {
    const first = await run('v1');
    const oldSplit = endpointOf('iris-default')?.trafficSplit;
    vertex.requests.length = 0;
    vertex.predictCalls.length = 0;
    const second = await run('v2');
    expect(second).toMatchObject({ action: 'updated', previousRevision: first.revision, smoke: { passed: true } });
    const smokeId = `iris-default-${second.revision}`;

    const deploys = vertex.requests.filter((r) => r.rpc === 'EndpointService.DeployModel' && r.status === 200);
    const onEndpoint = deploys.find((r) => r.path.endsWith('/endpoints/iris-default:deployModel'))?.body as { trafficSplit?: object };
    const onSmoke = deploys.find((r) => r.path.endsWith(`/endpoints/${smokeId}:deployModel`))?.body as { trafficSplit?: object };
    expect(onEndpoint.trafficSplit ?? {}).toEqual({});
    expect(onSmoke.trafficSplit).toEqual({ '0': 100 });
    const created = vertex.requests.find((r) => r.rpc === 'EndpointService.CreateEndpoint')?.body as { labels: Record<string, string> };
    expect(created.labels).toMatchObject({ 'modeldeploy-role': 'smoke', 'modeldeploy-revision': second.revision, 'modeldeploy-deployment': 'iris' });

    // The smoke request went to the smoke endpoint, before the one traffic PATCH of the endpoint.
    expect(vertex.predictCalls.map((c) => c.endpoint.split('/').at(-1))).toEqual([smokeId]);
    const smokeAt = vertex.requests.findIndex((r) => r.rpc === 'PredictionService.Predict');
    const patches = vertex.requests.filter((r) => r.rpc === 'EndpointService.UpdateEndpoint');
    expect(patches).toHaveLength(1);
    expect(patches[0]?.query.updateMask).toBe('traffic_split');
    expect(smokeAt).toBeLessThan(vertex.requests.indexOf(patches[0] as (typeof vertex.requests)[number]));
    expect(Object.values(endpointOf('iris-default')?.trafficSplit ?? {})).toEqual([100]);
    expect(endpointOf('iris-default')?.trafficSplit).not.toEqual(oldSplit);

    // What is left: the endpoint with the new model alone, its version the default, no smoke endpoint.
    const listing = vertex.listing();
    expect(listing.endpoints.map((e) => e.displayName)).toEqual(['iris-default']);
    expect(listing.deployedModels).toHaveLength(1);
    expect(listing.models.map((m) => m.labels['modeldeploy-revision'])).toEqual([second.revision]);
    await down(await write('v2'), { keepArtifacts: false }, core());
    expect(vertex.listing().models).toEqual([]);
  });

  it('the answer to deployModel is lost and its retry finds the model already deploying: up waits for it and ends ready', async () => {
    vertex.dropNextResponse('EndpointService.DeployModel');
    const result = await run('v1');
    expect(result).toMatchObject({ action: 'created', smoke: { passed: true } });
    expect(vertex.requests.filter((r) => r.rpc === 'EndpointService.DeployModel').map((r) => r.status)).toEqual([0, 409]);
    expect(vertex.listing().deployedModels).toHaveLength(1);
    await down(await write('v1'), { keepArtifacts: false }, core());
    expect(vertex.listing().endpoints).toEqual([]);
  });

  it('a prediction the front end turns away (429, 503: no deployed model named) is sent again; what the model answers is the answer', async () => {
    const spec = await write('v1');
    await up(spec, { smoke: true, keepOnFailure: false }, core());
    const { provider, t } = await openSession(spec, core());
    const ctx = providerContext(core());
    const request = { body: Buffer.from('{"instances": [[1, 2]]}'), contentType: 'application/json' };
    vertex.requests.length = 0;
    vertex.rateLimit(1, ['PredictionService.Predict']);
    vertex.unavailable(1, ['PredictionService.Predict']);
    const answered = await provider.invoke(t, { kind: 'endpoint' }, request, ctx);
    expect(answered.status).toBe(200);
    expect(vertex.requests.filter((r) => r.rpc === 'PredictionService.Predict').map((r) => r.status)).toEqual([429, 503, 200]);
    // The model's own refusal is not repeated: the model saw the request once.
    vertex.setDefaultPredictHandler(() => {
      throw new PredictionError(400, '{"error": "bad row"}');
    });
    vertex.predictCalls.length = 0;
    const refused = await provider.invoke(t, { kind: 'endpoint' }, request, ctx);
    expect(refused.status).toBe(400);
    expect(vertex.predictCalls).toHaveLength(1);
    await down(spec, { keepArtifacts: false }, core());
  });
});
