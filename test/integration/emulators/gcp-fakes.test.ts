/*
 * The real @google-cloud/storage 7.22 and @google-cloud/aiplatform 6.11 (REST fallback) against the strict GCP fakes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { helpers, v1 } from '@google-cloud/aiplatform';
import { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { gcsClientOptions, vertexClientOptions } from '../../emulators/gcp/clients.js';
import { Crc32c } from '../../emulators/gcp/crc32c.js';
import { startFakeGcs } from '../../emulators/gcp/fake-gcs.js';
import type { FakeGcs } from '../../emulators/gcp/fake-gcs.js';
import { startFakeVertex, tabularHandler } from '../../emulators/gcp/fake-vertex.js';
import type { FakeVertex } from '../../emulators/gcp/fake-vertex.js';

const MiB = 1024 * 1024;

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

describe('fake GCS with the real @google-cloud/storage', () => {
  let fake: FakeGcs;
  let storage: Storage;
  let dir: string;
  let bigFile: string;
  let bigSha: string;
  let bigCrc: string;
  const size = 20 * MiB + 12_345;

  beforeAll(async () => {
    fake = await startFakeGcs({ buckets: ['md-artifacts'] });
    storage = new Storage(gcsClientOptions(fake));
    dir = await mkdtemp(join(tmpdir(), 'gcs-fake-test-'));
    bigFile = join(dir, 'model.bin');
    const data = randomBytes(size);
    await writeFile(bigFile, data);
    bigSha = createHash('sha256').update(data).digest('hex');
    bigCrc = new Crc32c().update(data).base64();
  });

  afterAll(async () => {
    await fake?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('uploads 20 MB resumably in 8 MiB chunks (308 + Range between chunks) and passes crc32c validation', async () => {
    const before = fake.requests.length;
    const [file] = await storage.bucket('md-artifacts').upload(bigFile, { destination: 'models/churn/1/model.bin', resumable: true, chunkSize: 8 * MiB });
    expect(file.metadata.crc32c).toBe(bigCrc);
    expect(Number(file.metadata.size)).toBe(size);
    const wire = fake.requests.slice(before).map((r) => `${r.method} ${r.query.uploadType ?? ''} ${r.contentRange ?? ''} ${r.status}`);
    expect(wire).toEqual([
      'POST resumable  200',
      'PUT resumable bytes 0-8388607/* 308',
      'PUT resumable bytes 8388608-16777215/* 308',
      `PUT resumable bytes 16777216-${size - 1}/${size} 200`,
    ]);
  });

  it('uploads in one streaming PUT (bytes 0-*/*) and with multipart (resumable: false)', async () => {
    const before = fake.requests.length;
    await storage.bucket('md-artifacts').upload(bigFile, { destination: 'models/churn/2/model.bin' });
    await storage.bucket('md-artifacts').upload(bigFile, { destination: 'models/churn/3/model.bin', resumable: false });
    const wire = fake.requests.slice(before).map((r) => `${r.method} ${r.query.uploadType ?? ''} ${r.contentRange ?? ''} ${r.bytes} ${r.status}`);
    expect(wire).toEqual([
      'POST resumable  0 200',
      `PUT resumable bytes 0-*/* ${size} 200`,
      `POST multipart  ${size} 200`,
    ]);
    for (const name of ['models/churn/2/model.bin', 'models/churn/3/model.bin']) expect(fake.object('md-artifacts', name)?.crc32c).toBe(bigCrc);
  });

  it('downloads with hash validation and the bytes are identical', async () => {
    const target = join(dir, 'download.bin');
    await storage.bucket('md-artifacts').file('models/churn/1/model.bin').download({ destination: target });
    expect(await sha256File(target)).toBe(bigSha);
  });

  it('lists with prefix, delimiter and page tokens', async () => {
    const bucket = storage.bucket('md-artifacts');
    await bucket.file('models/churn/1/meta.json').save('{"v":1}', { resumable: false, contentType: 'application/json' });
    const [all] = await bucket.getFiles({ prefix: 'models/churn/' });
    expect(all.map((f) => f.name)).toEqual([
      'models/churn/1/meta.json',
      'models/churn/1/model.bin',
      'models/churn/2/model.bin',
      'models/churn/3/model.bin',
    ]);
    const names: string[] = [];
    let query: { pageToken?: string } | null = { };
    let pages = 0;
    while (query) {
      const [files, next]: [{ name: string }[], { pageToken?: string } | null] = (await bucket.getFiles({ prefix: 'models/churn/', maxResults: 3, autoPaginate: false, ...query })) as never;
      names.push(...files.map((f) => f.name));
      query = next;
      pages++;
    }
    expect(pages).toBe(2);
    expect(names).toHaveLength(4);
    const [, , listing] = (await bucket.getFiles({ prefix: 'models/churn/', delimiter: '/', autoPaginate: false })) as unknown as [unknown, unknown, { prefixes?: string[] }];
    expect(listing.prefixes).toEqual(['models/churn/1/', 'models/churn/2/', 'models/churn/3/']);
  });

  it('refuses to overwrite with ifGenerationMatch=0 (412) and deletes; missing objects and buckets are 404', async () => {
    const bucket = storage.bucket('md-artifacts');
    await expect(
      bucket.file('models/churn/1/meta.json').save('{"v":2}', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } }),
    ).rejects.toMatchObject({ code: 412 });
    for (const f of (await bucket.getFiles({ prefix: 'models/' }))[0]) await f.delete();
    expect(fake.listing()).toEqual([]);
    const [exists] = await bucket.file('models/churn/1/model.bin').exists();
    expect(exists).toBe(false);
    await expect(bucket.file('models/churn/1/model.bin').getMetadata()).rejects.toMatchObject({
      code: 404,
      message: 'No such object: md-artifacts/models/churn/1/model.bin',
    });
    await expect(bucket.file('nope').download()).rejects.toMatchObject({ code: 404 });
    const small = join(dir, 'small.json');
    await writeFile(small, '{}');
    await expect(storage.bucket('no-such-bucket').upload(small, { destination: 'x.json', resumable: false })).rejects.toMatchObject({
      code: 404,
      message: 'The specified bucket does not exist.',
    });
  });
});

describe('fake Vertex AI with the real @google-cloud/aiplatform v1 clients (REST fallback)', () => {
  const PROJECT = 'test-project';
  const PARENT = `projects/${PROJECT}/locations/us-central1`;
  const IMAGE = 'us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-5:latest';
  let fake: FakeVertex;
  let models: v1.ModelServiceClient;
  let endpoints: v1.EndpointServiceClient;
  let prediction: v1.PredictionServiceClient;

  beforeAll(async () => {
    fake = await startFakeVertex({ projectId: PROJECT });
    const options = vertexClientOptions(fake);
    models = new v1.ModelServiceClient(options);
    endpoints = new v1.EndpointServiceClient(options);
    prediction = new v1.PredictionServiceClient(options);
  });

  afterAll(async () => {
    await Promise.all([models?.close(), endpoints?.close(), prediction?.close()]);
    await fake?.stop();
  });

  async function uploadModel(displayName: string, labels: Record<string, string> = {}): Promise<string> {
    const [op] = await models.uploadModel({ parent: PARENT, model: { displayName, labels, artifactUri: 'gs://md-artifacts/models/churn/1/', containerSpec: { imageUri: IMAGE } } });
    const [response] = await op.promise();
    return response.model as string;
  }

  async function createEndpoint(displayName: string, labels: Record<string, string> = {}): Promise<string> {
    const [op] = await endpoints.createEndpoint({ parent: PARENT, endpoint: { displayName, labels } });
    const [endpoint] = await op.promise();
    return endpoint.name as string;
  }

  async function deploy(endpoint: string, model: string): Promise<string> {
    const [op] = await endpoints.deployModel({
      endpoint,
      deployedModel: { model, displayName: 'churn-v1', dedicatedResources: { machineSpec: { machineType: 'n1-standard-2' }, minReplicaCount: 1, maxReplicaCount: 2 } },
      trafficSplit: { '0': 100 },
    });
    const [response] = await op.promise();
    return response.deployedModel?.id as string;
  }

  it('runs upload → create endpoint → deploy → predict → undeploy → delete, and leaves nothing behind', async () => {
    const model = await uploadModel('churn', { 'managed-by': 'modeldeploy' });
    expect(model).toMatch(/^projects\/123456789012\/locations\/us-central1\/models\/\d{19}$/);
    const [got] = await models.getModel({ name: model });
    expect(got).toMatchObject({ displayName: 'churn', versionId: '1', versionAliases: ['default'], labels: { 'managed-by': 'modeldeploy' } });
    const [listed] = await models.listModels({ parent: PARENT, filter: 'labels.managed-by=modeldeploy' });
    expect(listed.map((m) => m.name)).toEqual([model]);
    expect((await models.listModels({ parent: PARENT, filter: 'labels.managed-by=someone-else' }))[0]).toEqual([]);

    const endpoint = await createEndpoint('churn-prod', { 'managed-by': 'modeldeploy' });
    const [byLabel] = await endpoints.listEndpoints({ parent: PARENT, filter: 'labels.managed-by=modeldeploy' });
    expect(byLabel.map((e) => e.name)).toEqual([endpoint]);

    fake.hold();
    const [deployOp] = await endpoints.deployModel({
      endpoint,
      deployedModel: {
        model,
        displayName: 'churn-v1',
        dedicatedResources: { machineSpec: { machineType: 'n1-standard-4', acceleratorType: 'NVIDIA_TESLA_T4', acceleratorCount: 1 }, minReplicaCount: 1, maxReplicaCount: 2 },
      },
      trafficSplit: { '0': 100 },
    });
    expect(fake.listing().operationsInFlight).toEqual([{ name: deployOp.name, kind: 'deployModel' }]);
    // Held, the deployed model is not there (nor its traffic) until the operation is released.
    expect((await endpoints.getEndpoint({ name: endpoint }))[0].deployedModels).toEqual([]);
    fake.settle();
    const [deployed] = await deployOp.promise();
    const deployedId = deployed.deployedModel?.id as string;
    expect(deployedId).toMatch(/^\d+$/);
    // The SDK sent the accelerator enum as an integer (enum-encoding=int) and the fake read it back as NVIDIA_TESLA_T4.
    expect(JSON.parse(fake.requests.find((r) => r.rpc === 'EndpointService.DeployModel')?.rawBody ?? '{}').deployedModel.dedicatedResources.machineSpec.acceleratorType).toBe(5);
    // op.promise() decodes the Any-packed response with enums as NUMBERS; plain responses carry enum NAMES.
    expect(deployed.deployedModel?.dedicatedResources?.machineSpec?.acceleratorType).toBe(5);
    const [live] = await endpoints.getEndpoint({ name: endpoint });
    expect(live.trafficSplit).toEqual({ [deployedId]: 100 });
    expect(live.deployedModels?.[0]?.dedicatedResources?.machineSpec?.acceleratorType).toBe('NVIDIA_TESLA_T4');

    fake.setPredictHandler(endpoint, tabularHandler((row) => (row[0] as number) > 5 ? 1 : 0));
    // Rows built as protobuf Values, as the SDK expects: gax 5.0.8's fallback turns a list nested in the instances
    // list into an object keyed "0","1",…, so a row-oriented model server rejects them.
    const rows = [[5.1, 3.5, 1.4, 0.2], [4.9, 3.0, 1.4, 0.2]];
    await expect(prediction.predict({ endpoint, instances: rows.map((r) => helpers.toValue(r) as never) })).rejects.toMatchObject({ code: 3 });
    const mangled = fake.predictCalls.at(-1);
    expect(mangled?.rawBody).toBe('{"instances":[{"0":5.1,"1":3.5,"2":1.4,"3":0.2},{"0":4.9,"1":3,"2":1.4,"3":0.2}],"labels":{}}');
    expect(mangled?.mangledInstances).toEqual([0, 1]);

    // The same request straight over REST (fetch + bearer token) arrives intact.
    const direct = await fetch(`${fake.url}/v1/${endpoint}:predict`, {
      method: 'POST',
      headers: { authorization: 'Bearer fake-token', 'content-type': 'application/json' },
      body: JSON.stringify({ instances: rows }),
    });
    expect(direct.status).toBe(200);
    expect(await direct.json()).toMatchObject({ predictions: [1, 0], deployedModelId: deployedId, model, modelVersionId: '1', modelDisplayName: 'churn' });
    expect(fake.predictCalls.at(-1)?.instances).toEqual(rows);

    // Object-shaped instances survive the SDK; predictions come back as protobuf Values.
    fake.setPredictHandler(endpoint, ({ instances }) => instances.map(() => [0.9, 0.1]));
    const [answer] = await prediction.predict({ endpoint, instances: [helpers.toValue({ features: [5.1, 3.5, 1.4, 0.2] }) as never] });
    expect(fake.predictCalls.at(-1)?.rawBody).toBe('{"instances":[{"features":[5.1,3.5,1.4,0.2]}],"labels":{}}');
    expect(answer.deployedModelId).toBe(deployedId);
    expect(answer.predictions?.[0]?.listValue?.values?.map((v) => v.numberValue)).toEqual([0.9, 0.1]);

    const [undeployOp] = await endpoints.undeployModel({ endpoint, deployedModelId: deployedId });
    await undeployOp.promise();
    await expect(prediction.predict({ endpoint, instances: [helpers.toValue({ a: 1 }) as never] })).rejects.toMatchObject({
      code: 9,
      message: expect.stringContaining("doesn't have traffic_split"),
    });
    const [deleteEndpointOp] = await endpoints.deleteEndpoint({ name: endpoint });
    await deleteEndpointOp.promise();
    const [deleteModelOp] = await models.deleteModel({ name: model });
    await deleteModelOp.promise();
    await expect(endpoints.getEndpoint({ name: endpoint })).rejects.toMatchObject({ code: 5, message: `Endpoint \`${endpoint}\` not found.` });
    expect(fake.listing()).toEqual({ models: [], endpoints: [], deployedModels: [], operationsInFlight: [] });
  });

  it('rejects deleting an endpoint or a model that still has a deployed model (FAILED_PRECONDITION)', async () => {
    const model = await uploadModel('churn-busy');
    const endpoint = await createEndpoint('churn-busy');
    const deployedModelId = await deploy(endpoint, model);
    await expect(endpoints.deleteEndpoint({ name: endpoint })).rejects.toMatchObject({ code: 9, message: expect.stringContaining('has deployed models') });
    await expect(models.deleteModel({ name: model })).rejects.toMatchObject({ code: 9 });
    const [op] = await endpoints.undeployModel({ endpoint, deployedModelId });
    await op.promise();
    await (await endpoints.deleteEndpoint({ name: endpoint }))[0].promise();
    await (await models.deleteModel({ name: model }))[0].promise();
    expect(fake.listing().endpoints).toEqual([]);
  });

  it('ends an injected failed operation with done:true + error, which rejects op.promise() and changes nothing', async () => {
    const model = await uploadModel('churn-quota');
    const endpoint = await createEndpoint('churn-quota');
    fake.failNextOperation('deployModel', {
      code: 'RESOURCE_EXHAUSTED',
      message: 'The following quota metrics exceed quota limits: aiplatform.googleapis.com/custom_model_serving_cpus',
    });
    const [op] = await endpoints.deployModel({
      endpoint,
      deployedModel: { model, dedicatedResources: { machineSpec: { machineType: 'n1-standard-2' }, minReplicaCount: 1 } },
      trafficSplit: { '0': 100 },
    });
    await expect(op.promise()).rejects.toMatchObject({ code: 8, message: expect.stringContaining('custom_model_serving_cpus') });
    const [after] = await endpoints.getEndpoint({ name: endpoint });
    expect(after.deployedModels).toEqual([]);
    await (await endpoints.deleteEndpoint({ name: endpoint }))[0].promise();
    await (await models.deleteModel({ name: model }))[0].promise();
  });

  it('uploads a new version with parentModel and deploys it by version', async () => {
    const model = await uploadModel('churn-versions');
    const [op] = await models.uploadModel({ parent: PARENT, parentModel: model, model: { displayName: 'churn-versions', containerSpec: { imageUri: IMAGE } } });
    const [v2] = await op.promise();
    expect(v2).toMatchObject({ model, modelVersionId: '2' });
    const [versions] = await models.listModelVersions({ name: model });
    expect(versions.map((v) => [v.versionId, v.versionAliases])).toEqual([['1', ['default']], ['2', []]]);
    const endpoint = await createEndpoint('churn-versions');
    const id = await deploy(endpoint, `${model}@2`);
    const [ep] = await endpoints.getEndpoint({ name: endpoint });
    expect(ep.deployedModels?.map((d) => [d.id, d.modelVersionId])).toEqual([[id, '2']]);
    await (await endpoints.undeployModel({ endpoint, deployedModelId: id }))[0].promise();
    await (await endpoints.deleteEndpoint({ name: endpoint }))[0].promise();
    await (await models.deleteModel({ name: model }))[0].promise();
  });

  it('rejects an unknown JSON field with INVALID_ARGUMENT (sent with fetch: the SDK drops unknown fields itself)', async () => {
    const res = await fetch(`${fake.url}/v1/${PARENT}/endpoints?$alt=json%3Benum-encoding=int`, {
      method: 'POST',
      headers: { authorization: 'Bearer fake-token', 'content-type': 'application/json' },
      body: JSON.stringify({ displayName: 'x', trafficSplitt: {} }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { code: 400, status: 'INVALID_ARGUMENT', message: `Invalid JSON payload received. Unknown name "trafficSplitt" at 'endpoint': Cannot find field.` },
    });
  });

  it('has nothing left at the end', () => {
    expect(fake.listing()).toEqual({ models: [], endpoints: [], deployedModels: [], operationsInFlight: [] });
  });
});
