/*
 * Strictness of the GCP fakes, driven over plain HTTP (fetch) so each rule is checked on the wire, including requests
 * the SDKs would never build. The SDK-level flows live in gcp-fakes.test.ts.
 */
import { createHash, randomBytes } from 'node:crypto';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { Crc32c } from '../../emulators/gcp/crc32c.js';
import { startFakeGcs } from '../../emulators/gcp/fake-gcs.js';
import type { FakeGcs } from '../../emulators/gcp/fake-gcs.js';
import { startFakeVertex } from '../../emulators/gcp/fake-vertex.js';
import type { FakeVertex } from '../../emulators/gcp/fake-vertex.js';

const ALT = '$alt=json%3Benum-encoding=int';
const PARENT = 'projects/test-project/locations/us-central1';
const IMAGE = 'us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-5:latest';

// Wire JSON of many shapes, probed field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = (r: Response): Promise<any> => r.json();

interface Reply {
  status: number;
  // Wire JSON of many shapes, probed field by field below.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  headers: Headers;
}

describe('fake Vertex AI strictness', () => {
  let fake: FakeVertex;

  async function call(method: string, path: string, body?: unknown, opts: { token?: string | null; query?: string; raw?: string; contentType?: string } = {}): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? 'fake-token'}`;
    if (body !== undefined || opts.raw !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
    const sep = path.includes('?') ? '&' : '?';
    const res = await fetch(`${fake.url}${path}${sep}${opts.query ?? ALT}`, {
      method,
      headers,
      ...(opts.raw !== undefined ? { body: opts.raw } : body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // HTML or raw bodies stay text.
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }

  /** An operation is finished by its first poll (nothing is held here): one GET, no waiting. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async function waitOp(name: string, via: 'ui' | 'v1' = 'ui'): Promise<any> {
    const r = await call('GET', `/${via}/${name}`);
    expect(r.status).toBe(200);
    expect(r.body.done, `${name} done on its first poll`).toBe(true);
    return r.body;
  }

  async function model(displayName = 'm'): Promise<string> {
    const up = await call('POST', `/v1/${PARENT}/models:upload`, { model: { displayName, containerSpec: { imageUri: IMAGE } } });
    expect(up.status).toBe(200);
    return (await waitOp(up.body.name)).response.model;
  }

  async function endpoint(displayName = 'ep', endpointId?: string): Promise<string> {
    const r = await call('POST', `/v1/${PARENT}/endpoints`, { displayName }, endpointId ? { query: `endpointId=${endpointId}&${ALT}` } : {});
    expect(r.status).toBe(200);
    return (await waitOp(r.body.name)).response.name;
  }

  const dedicated = (machineSpec: object, extra: object = {}): object => ({ machineSpec, minReplicaCount: 1, ...extra });

  async function deploy(ep: string, m: string, trafficSplit: Record<string, number> = { '0': 100 }): Promise<string> {
    const r = await call('POST', `/v1/${ep}:deployModel`, { deployedModel: { model: m, dedicatedResources: dedicated({ machineType: 'n1-standard-2' }) }, trafficSplit });
    expect(r.status).toBe(200);
    return (await waitOp(r.body.name)).response.deployedModel.id;
  }

  beforeAll(async () => {
    fake = await startFakeVertex({ projectId: 'test-project' });
  });

  afterAll(async () => {
    await fake?.stop();
  });

  it('requires a bearer token (401 UNAUTHENTICATED with the real text)', async () => {
    const r = await call('GET', `/v1/${PARENT}/endpoints`, undefined, { token: null });
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe('Bearer realm="https://accounts.google.com/"');
    expect(r.body.error).toMatchObject({ code: 401, status: 'UNAUTHENTICATED', message: expect.stringMatching(/^Request is missing required authentication credential\./) });
    expect(fake.requests.at(-1)).toMatchObject({ hasAuthorization: false, status: 401 });
  });

  it('answers 403 for another project, 400 for a location it does not serve, HTML 404 for unknown paths, 501 for unserved RPCs', async () => {
    const other = await call('GET', '/v1/projects/other-project/locations/us-central1/endpoints');
    expect(other.status).toBe(403);
    expect(other.body.error).toMatchObject({
      status: 'PERMISSION_DENIED',
      message: "Permission 'aiplatform.endpoints.list' denied on resource '//aiplatform.googleapis.com/projects/other-project/locations/us-central1' (or it may not exist).",
    });
    // The project number works as well as the id.
    expect((await call('GET', '/v1/projects/123456789012/locations/us-central1/endpoints')).status).toBe(200);
    const region = await call('GET', '/v1/projects/test-project/locations/europe-west4/endpoints');
    expect(region.status).toBe(400);
    expect(region.body.error.status).toBe('INVALID_ARGUMENT');
    const unknown = await call('GET', `/v1/${PARENT}/widgets`);
    expect(unknown.status).toBe(404);
    expect(String(unknown.body)).toContain('Error 404 (Not Found)');
    const explain = await call('POST', `/v1/${PARENT}/endpoints/1:explain`, { instances: [] });
    expect(explain).toMatchObject({ status: 501, body: { error: { status: 'UNIMPLEMENTED' } } });
  });

  it('rejects unknown fields, unknown query parameters and values of the wrong type, as ESF does', async () => {
    const nested = await call('POST', `/v1/${PARENT}/models:upload`, { model: { displayName: 'm', containerSpec: { imageUri: IMAGE, imageUrl: 'x' } } });
    expect(nested.body.error).toMatchObject({
      code: 400,
      status: 'INVALID_ARGUMENT',
      message: `Invalid JSON payload received. Unknown name "imageUrl" at 'model.container_spec': Cannot find field.`,
    });
    const top = await call('POST', `/v1/${PARENT}/models:upload`, { modle: {} });
    expect(top.body.error.message).toBe('Invalid JSON payload received. Unknown name "modle": Cannot find field.');
    const query = await call('GET', `/v1/${PARENT}/endpoints`, undefined, { query: `pageSise=2&${ALT}` });
    expect(query.body.error.message).toBe(
      `Invalid JSON payload received. Unknown name "pageSise": Cannot bind query parameter. Field 'pageSise' could not be found in request message.`,
    );
    const type = await call('POST', `/v1/${PARENT}/endpoints`, { displayName: 5 });
    expect(type.body.error.message).toBe(`Invalid value at 'endpoint.display_name' (TYPE_STRING), 5`);
    const list = await call('POST', `/v1/${PARENT}/endpoints`, { displayName: ['x'] });
    expect(list.body.error.message).toBe(`Invalid JSON payload received. Unknown name "displayName" at 'endpoint': Proto field is not repeating, cannot start list.`);
    const badEnum = await call('POST', `/v1/${PARENT}/endpoints/1:deployModel`, { deployedModel: { dedicatedResources: { machineSpec: { acceleratorType: 'NVIDIA_T4' } } } });
    expect(badEnum.body.error.message).toBe(
      `Invalid value at 'deployed_model.dedicated_resources.machine_spec.accelerator_type' (type.googleapis.com/google.cloud.aiplatform.v1.AcceleratorType), "NVIDIA_T4"`,
    );
    const oneof = await call('POST', `/v1/${PARENT}/endpoints/1:deployModel`, {
      deployedModel: { dedicatedResources: { minReplicaCount: 1 }, automaticResources: { minReplicaCount: 1 } },
    });
    expect(oneof.body.error.message).toContain("Oneof field 'prediction_resources' is already set");
    // snake_case names are accepted too, as on the real API.
    const snake = await call('POST', `/v1/${PARENT}/endpoints`, { display_name: 'snake' });
    expect(snake.status).toBe(200);
    await waitOp(snake.body.name);
  });

  it('checks required fields, display-name length, label rules and resource ids', async () => {
    const missing = await call('POST', `/v1/${PARENT}/models:upload`, { model: { labels: {} } });
    expect(missing.body.error.message).toBe(
      'List of found errors:\t1.Field: model.display_name; Message: Required field is not set.\t2.Field: model.container_spec.image_uri; Message: Required field is not set.\t',
    );
    const long = await call('POST', `/v1/${PARENT}/endpoints`, { displayName: 'x'.repeat(129) });
    expect(long.body.error.message).toContain('endpoint.display_name');
    expect((await call('POST', `/v1/${PARENT}/endpoints`, { displayName: 'é'.repeat(128) })).status).toBe(200);
    for (const labels of [{ Team: 'x' }, { '1team': 'x' }, { team: 'Upper' }, { team: 'a b' }, { ['k'.repeat(65)]: 'x' }]) {
      const r = await call('POST', `/v1/${PARENT}/endpoints`, { displayName: 'l', labels });
      expect(r.status, JSON.stringify(labels)).toBe(400);
      expect(r.body.error.message).toContain('violates format constraints');
    }
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']));
    expect((await call('POST', `/v1/${PARENT}/endpoints`, { displayName: 'l', labels: many })).status).toBe(400);
    expect((await call('POST', `/v1/${PARENT}/endpoints`, { displayName: 'l', labels: { 'managed-by': 'modeldeploy', équipe: 'données_1' } })).status).toBe(200);
    for (const id of ['Upper', '0123', '1234567890', 'ends-with-', 'a'.repeat(64)]) {
      const r = await call('POST', `/v1/${PARENT}/endpoints`, { displayName: 'id' }, { query: `endpointId=${id}&${ALT}` });
      expect(r.status, id).toBe(400);
    }
    await endpoint('named', 'churn-prod');
    const dup = await call('POST', `/v1/${PARENT}/endpoints`, { displayName: 'dup' }, { query: `endpointId=churn-prod&${ALT}` });
    expect(dup.body.error).toMatchObject({ code: 409, status: 'ALREADY_EXISTS' });
    const badModelId = await call('POST', `/v1/${PARENT}/models:upload`, { modelId: '9lives', model: { displayName: 'm', containerSpec: { imageUri: IMAGE } } });
    expect(badModelId.body.error.message).toContain('1.Field: model_id');
  });

  it('validates deployments: resources, machine types, accelerators, replicas, traffic', async () => {
    const m = await model();
    const ep = await endpoint();
    const attempt = (deployedModel: object, trafficSplit: object = { '0': 100 }): Promise<Reply> =>
      call('POST', `/v1/${ep}:deployModel`, { deployedModel: { model: m, ...deployedModel }, trafficSplit });
    const automatic = await attempt({ automaticResources: { minReplicaCount: 1 } });
    expect(automatic.body.error.message).toBe(`'automatic_resources' is not supported for Model ${m}.`);
    expect((await attempt({})).body.error.message).toBe(`'automatic_resources' is not supported for Model ${m}.`);
    const cases: [object, string][] = [
      [{ dedicatedResources: { minReplicaCount: 1 } }, 'deployed_model.dedicated_resources.machine_spec; Message: Required field is not set.'],
      [{ dedicatedResources: dedicated({ machineType: 'n1-standard-3' }) }, 'Machine type "n1-standard-3" is not supported.'],
      [{ dedicatedResources: dedicated({ machineType: 'e2-standard-4', acceleratorType: 'NVIDIA_TESLA_T4', acceleratorCount: 1 }) }, 'is not supported for machine type "e2-standard-4"'],
      [{ dedicatedResources: dedicated({ machineType: 'n1-standard-4', acceleratorType: 5, acceleratorCount: 3 }) }, 'Accelerator count 3 is not valid for NVIDIA_TESLA_T4'],
      [{ dedicatedResources: dedicated({ machineType: 'g2-standard-8' }) }, 'requires accelerator_type'],
      [{ dedicatedResources: dedicated({ machineType: 'n1-standard-4', acceleratorCount: 1 }) }, 'accelerator_type is not set'],
      [{ dedicatedResources: dedicated({ machineType: 'n1-standard-4', acceleratorType: 'NVIDIA_TESLA_K80', acceleratorCount: 1 }) }, 'deprecated'],
      [{ dedicatedResources: { machineSpec: { machineType: 'n1-standard-2' } } }, 'min_replica_count; Message: Required field is not set.'],
      [{ dedicatedResources: dedicated({ machineType: 'n1-standard-2' }, { minReplicaCount: 3, maxReplicaCount: 2 }) }, 'max_replica_count (2) must be greater than or equal to min_replica_count (3)'],
      [
        { dedicatedResources: dedicated({ machineType: 'n1-standard-2' }, { autoscalingMetricSpecs: [{ metricName: 'aiplatform.googleapis.com/prediction/online/accelerator/duty_cycle', target: 60 }] }) },
        'requires a machine with accelerators',
      ],
      [{ dedicatedResources: dedicated({ machineType: 'n1-standard-2' }), id: 'abc' }, 'DeployedModel id "abc" is invalid'],
      [{ dedicatedResources: dedicated({ machineType: 'n1-standard-2' }), displayName: 'd'.repeat(129) }, 'deployed_model.display_name'],
    ];
    for (const [deployedModel, message] of cases) {
      const r = await attempt(deployedModel);
      expect(r.status, message).toBe(400);
      expect(r.body.error.message).toContain(message);
    }
    const sum = await attempt({ dedicatedResources: dedicated({ machineType: 'n1-standard-2' }) }, { '0': 90 });
    expect(sum.body.error.message).toContain('must be 100');
    const stranger = await attempt({ dedicatedResources: dedicated({ machineType: 'n1-standard-2' }) }, { '0': 50, '777': 50 });
    expect(stranger.body.error.message).toContain('"777", which is not deployed');
    const gpu = await attempt({ dedicatedResources: dedicated({ machineType: 'g2-standard-24', acceleratorType: 'NVIDIA_L4', acceleratorCount: 2 }) });
    expect(gpu.status).toBe(200);
    const busy = await attempt({ dedicatedResources: dedicated({ machineType: 'n1-standard-2' }) });
    expect(busy.body.error).toMatchObject({ status: 'FAILED_PRECONDITION', message: expect.stringContaining('has an operation in progress') });
    const done = await waitOp(gpu.body.name);
    expect(done.response['@type']).toBe('type.googleapis.com/google.cloud.aiplatform.v1.DeployModelResponse');
    // Enums go out as numbers under enum-encoding=int and as names otherwise.
    expect(done.response.deployedModel.dedicatedResources.machineSpec.acceleratorType).toBe(11);
    const named = await call('GET', `/v1/${ep}`, undefined, { query: '$alt=json' });
    expect(named.body.deployedModels[0].dedicatedResources.machineSpec.acceleratorType).toBe('NVIDIA_L4');
    expect(named.body.deployedModels[0].dedicatedResources.autoscalingMetricSpecs).toEqual([
      { metricName: 'aiplatform.googleapis.com/prediction/online/cpu/utilization', target: 60 },
    ]);
  });

  it('serves operations under /ui/ and /v1/: held, they omit done until settled (a cancel noted then ends them cancelled)', async () => {
    fake.hold();
    try {
      const r = await call('POST', `/v1/${PARENT}/endpoints`, { displayName: 'ops' });
      expect(r.body).toEqual({
        name: expect.stringMatching(/^projects\/123456789012\/locations\/us-central1\/endpoints\/\d+\/operations\/\d+$/),
        metadata: { '@type': 'type.googleapis.com/google.cloud.aiplatform.v1.CreateEndpointOperationMetadata', genericMetadata: { createTime: expect.any(String), updateTime: expect.any(String) } },
      });
      const running = await call('GET', `/v1/${r.body.name}`);
      expect(running.body.done).toBeUndefined();
      // A poll by project id finds the operation named with the project number.
      expect((await call('GET', `/ui/${r.body.name.replace('123456789012', 'test-project')}`)).body.done).toBeUndefined();
      expect(fake.listing().operationsInFlight).toContainEqual({ name: r.body.name, kind: 'createEndpoint' });
      // Held, the endpoint is not there yet, whoever looks.
      const names = ((await call('GET', `/v1/${PARENT}/endpoints`)).body.endpoints ?? []).map((e: { displayName: string }) => e.displayName);
      expect(names).not.toContain('ops');
      const second = await call('POST', `/v1/${PARENT}/endpoints`, { displayName: 'cancelled' });
      expect((await call('POST', `/ui/${second.body.name}:cancel`, {})).status).toBe(200);
      expect((await call('GET', `/ui/${second.body.name}`)).body.done).toBeUndefined();
      fake.settle();
      const finished = await waitOp(r.body.name, 'v1');
      expect(finished.response['@type']).toBe('type.googleapis.com/google.cloud.aiplatform.v1.Endpoint');
      expect((await call('GET', `/ui/${second.body.name}`)).body).toMatchObject({ done: true, error: { code: 1, message: 'Operation was cancelled.' } });
      expect(fake.listing().endpoints.map((e) => e.displayName)).toContain('ops');
      expect(fake.listing().endpoints.map((e) => e.displayName)).not.toContain('cancelled');
    } finally {
      fake.settle();
    }
  });

  it('without holding, finishes an operation on its first look: a poll of it, or a read of its resource; a cancel before that ends it cancelled', async () => {
    const polled = await call('POST', `/v1/${PARENT}/endpoints`, { displayName: 'polled' });
    expect((await call('GET', `/ui/${polled.body.name}`)).body).toMatchObject({ done: true, response: { displayName: 'polled' } });
    const listed = await call('POST', `/v1/${PARENT}/endpoints`, { displayName: 'listed' });
    const inFlight = () => fake.listing().operationsInFlight.map((o) => o.name);
    expect(inFlight()).toContain(listed.body.name);
    const endpoints = await call('GET', `/v1/${PARENT}/endpoints`, undefined, { query: `filter=${encodeURIComponent('display_name="listed"')}` });
    expect(endpoints.body.endpoints.map((e: { displayName: string }) => e.displayName)).toEqual(['listed']);
    expect(inFlight()).not.toContain(listed.body.name);
    const cancelled = await call('POST', `/v1/${PARENT}/endpoints`, { displayName: 'cancelled-at-once' });
    expect((await call('POST', `/ui/${cancelled.body.name}:cancel`, {})).status).toBe(200);
    expect((await call('GET', `/ui/${cancelled.body.name}`)).body).toMatchObject({ done: true, error: { code: 1 } });
    expect(fake.listing().endpoints.map((e) => e.displayName)).not.toContain('cancelled-at-once');
    expect((await call('GET', `/ui/${PARENT}/operations/42`)).body.error.status).toBe('NOT_FOUND');
  });

  it('splits traffic, refuses to undeploy a model that still takes traffic, and keeps splits summing to 100', async () => {
    const m = await model('blue-green');
    const ep = await endpoint('blue-green');
    const blue = await deploy(ep, m);
    const green = await deploy(ep, m, { '0': 10, [blue]: 90 });
    expect((await call('GET', `/v1/${ep}`)).body.trafficSplit).toEqual({ [blue]: 90, [green]: 10 });
    const patchBad = await call('PATCH', `/v1/${ep}`, { trafficSplit: { [blue]: 50, [green]: 40 } }, { query: `updateMask=traffic_split&${ALT}` });
    expect(patchBad.body.error.message).toContain('must be 100');
    expect((await call('PATCH', `/v1/${ep}`, { trafficSplit: { [green]: 100 } })).body.error.message).toContain('update_mask; Message: Required field is not set.');
    const patched = await call('PATCH', `/v1/${ep}`, { trafficSplit: { [blue]: 0, [green]: 100 } }, { query: `updateMask=traffic_split&${ALT}` });
    expect(patched.body.trafficSplit).toEqual({ [blue]: 0, [green]: 100 });
    const stale = await call('PATCH', `/v1/${ep}`, { displayName: 'x', etag: 'stale' }, { query: `updateMask=display_name&${ALT}` });
    expect(stale.body.error.status).toBe('ABORTED');
    const greenBusy = await call('POST', `/v1/${ep}:undeployModel`, { deployedModelId: green });
    expect(greenBusy.body.error).toMatchObject({ status: 'FAILED_PRECONDITION', message: expect.stringContaining('has 100% of the traffic') });
    const toSelf = await call('POST', `/v1/${ep}:undeployModel`, { deployedModelId: green, trafficSplit: { [green]: 100 } });
    expect(toSelf.body.error.status).toBe('FAILED_PRECONDITION');
    const moved = await call('POST', `/v1/${ep}:undeployModel`, { deployedModelId: green, trafficSplit: { [blue]: 100 } });
    await waitOp(moved.body.name);
    expect((await call('GET', `/v1/${ep}`)).body.trafficSplit).toEqual({ [blue]: 100 });
    // The last model may go even with all the traffic; the split ends empty.
    await waitOp((await call('POST', `/v1/${ep}:undeployModel`, { deployedModelId: blue })).body.name);
    expect((await call('GET', `/v1/${ep}`)).body.trafficSplit).toBeUndefined();
  });

  it('merges version aliases: default moves, an alias held elsewhere is ALREADY_EXISTS, -default is refused', async () => {
    const m = await model('aliases');
    const id = m.split('/').at(-1);
    const v2 = await call('POST', `/v1/${PARENT}/models:upload`, { parentModel: m, model: { displayName: 'aliases', versionAliases: ['r-two'], containerSpec: { imageUri: IMAGE } } });
    await waitOp(v2.body.name);
    const bare = await call('POST', `/v1/${m}:mergeVersionAliases`, { versionAliases: ['default'] });
    expect(bare.body.error.status).toBe('INVALID_ARGUMENT');
    expect((await call('POST', `/v1/${m}@2:mergeVersionAliases`, {})).body.error.message).toContain('version_aliases; Message: Required field is not set.');
    const moved = await call('POST', `/v1/${m}@r-two:mergeVersionAliases`, { versionAliases: ['default'] });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ versionId: '2', versionAliases: expect.arrayContaining(['r-two', 'default']) });
    expect((await call('GET', `/v1/${m}@1`)).body.versionAliases ?? []).not.toContain('default');
    expect((await call('GET', `/v1/${PARENT}/models/${id}`)).body.versionId).toBe('2');
    expect((await call('POST', `/v1/${m}@1:mergeVersionAliases`, { versionAliases: ['r-two'] })).body.error.status).toBe('ALREADY_EXISTS');
    expect((await call('POST', `/v1/${m}@2:mergeVersionAliases`, { versionAliases: ['-default'] })).body.error.status).toBe('FAILED_PRECONDITION');
    expect((await call('POST', `/v1/${m}@2:mergeVersionAliases`, { versionAliases: ['Bad_Alias'] })).body.error.status).toBe('INVALID_ARGUMENT');
    const dropped = await call('POST', `/v1/${m}@2:mergeVersionAliases`, { versionAliases: ['-r-two'] });
    expect(dropped.body.versionAliases).toEqual(['default']);
  });

  it('routes predictions by traffic, checks the body, and passes rawPredict bodies through untouched', async () => {
    const m = await model('predict');
    const ep = await endpoint('predict');
    const noTraffic = await call('POST', `/v1/${ep}:predict`, { instances: [[1]] });
    expect(noTraffic.body.error).toMatchObject({ code: 400, status: 'FAILED_PRECONDITION', message: `Endpoint ${ep} doesn't have traffic_split.` });
    const a = await deploy(ep, m);
    const b = await deploy(ep, m, { '0': 25, [a]: 75 });
    const seen: Record<string, number> = {};
    for (let i = 0; i < 100; i++) {
      const r = await call('POST', `/v1/${ep}:predict`, { instances: [[i]] });
      seen[r.body.deployedModelId] = (seen[r.body.deployedModelId] ?? 0) + 1;
    }
    expect(seen).toEqual({ [a]: 75, [b]: 25 });
    expect((await call('POST', `/v1/${ep}:predict`, { instances: [] })).body.error.message).toContain('1.Field: instances');
    expect((await call('POST', `/v1/${ep}:predict`, { instances: { x: 1 } })).status).toBe(400);
    const tooBig = await call('POST', `/v1/${ep}:predict`, { instances: ['x'.repeat(1_600_000)] });
    expect(tooBig.body.error.message).toBe('Request payload size exceeds the limit: 1572864 bytes.');
    expect((await call('POST', '/v1/projects/test-project/locations/us-central1/endpoints/404:predict', { instances: [1] })).body.error).toMatchObject({
      code: 404,
      message: 'Endpoint `projects/test-project/locations/us-central1/endpoints/404` not found.',
    });

    let got: { contentType: string; body: string } | undefined;
    fake.setRawPredictHandler(ep, ({ contentType, body }) => {
      got = { contentType, body: body.toString('utf8') };
      return { contentType: 'text/csv', body: '1\n0\n' };
    });
    const raw = await call('POST', `/v1/${ep}:rawPredict`, undefined, { raw: '5.1,3.5\n4.9,3.0\n', contentType: 'text/csv' });
    expect(got).toEqual({ contentType: 'text/csv', body: '5.1,3.5\n4.9,3.0\n' });
    expect(raw.status).toBe(200);
    expect(raw.body).toBe('1\n0\n');
    expect(raw.headers.get('x-vertex-ai-endpoint-id')).toBe(ep.split('/').at(-1));
    expect([a, b]).toContain(raw.headers.get('x-vertex-ai-deployed-model-id'));
  });

  it('injects 429 RESOURCE_EXHAUSTED and 503 UNAVAILABLE, optionally for chosen RPCs only', async () => {
    fake.rateLimit(1);
    const limited = await call('GET', `/v1/${PARENT}/endpoints`);
    expect(limited.body.error).toMatchObject({ code: 429, status: 'RESOURCE_EXHAUSTED' });
    expect((await call('GET', `/v1/${PARENT}/endpoints`)).status).toBe(200);
    fake.unavailable(2, ['PredictionService.Predict']);
    expect((await call('GET', `/v1/${PARENT}/endpoints`)).status).toBe(200);
    const down = await call('POST', `/v1/${PARENT}/endpoints/1:predict`, { instances: [1] });
    expect(down.body.error).toMatchObject({ code: 503, status: 'UNAVAILABLE', message: 'The service is currently unavailable.' });
  });

  it('lists with filters and page tokens', async () => {
    for (const name of ['p1', 'p2', 'p3']) {
      const r = await call('POST', `/v1/${PARENT}/endpoints`, { displayName: name, labels: { suite: 'paging' } });
      await waitOp(r.body.name);
    }
    const names: string[] = [];
    let token = '';
    do {
      const r = await call('GET', `/v1/${PARENT}/endpoints`, undefined, { query: `filter=${encodeURIComponent('labels.suite=paging')}&pageSize=2${token ? `&pageToken=${token}` : ''}&${ALT}` });
      names.push(...r.body.endpoints.map((e: { displayName: string }) => e.displayName));
      token = r.body.nextPageToken ?? '';
    } while (token);
    expect(names).toEqual(['p1', 'p2', 'p3']);
    const quoted = await call('GET', `/v1/${PARENT}/endpoints`, undefined, { query: `filter=${encodeURIComponent('display_name="p2" AND labels.suite:*')}&${ALT}` });
    expect(quoted.body.endpoints.map((e: { displayName: string }) => e.displayName)).toEqual(['p2']);
    const bad = await call('GET', `/v1/${PARENT}/endpoints`, undefined, { query: `filter=${encodeURIComponent('labels.suite=paging OR x')}&${ALT}` });
    expect(bad.body.error.status).toBe('INVALID_ARGUMENT');
  });
});

describe('fake GCS strictness', () => {
  let fake: FakeGcs;
  const Q = 256 * 1024;

  beforeAll(async () => {
    fake = await startFakeGcs({ buckets: ['strict'] });
  });

  afterAll(async () => {
    await fake?.stop();
  });

  beforeEach(async () => {
    for (const o of fake.listing()) await fetch(`${fake.url}/storage/v1/b/${o.bucket}/o/${encodeURIComponent(o.name)}`, { method: 'DELETE' });
  });

  async function session(name: string, query = ''): Promise<string> {
    const r = await fetch(`${fake.url}/upload/storage/v1/b/strict/o?uploadType=resumable&name=${encodeURIComponent(name)}${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(r.status).toBe(200);
    return r.headers.get('location') as string;
  }

  const put = (uri: string, range: string, body?: Buffer, extra: Record<string, string> = {}): Promise<Response> =>
    fetch(uri, { method: 'PUT', headers: { 'content-range': range, ...extra }, ...(body ? { body } : {}) });

  it('enforces the resumable protocol: 256 KiB units, offsets, status queries, final size', async () => {
    const data = randomBytes(3 * Q + 100);
    const uri = await session('proto.bin');
    const small = await put(uri, 'bytes 0-99/*', data.subarray(0, 100));
    expect(small.status).toBe(400);
    expect((await json(small)).error.message).toContain('The number of bytes uploaded is required to be equal or greater than 262144');
    const ahead = await put(uri, `bytes ${Q}-${2 * Q - 1}/*`, data.subarray(Q, 2 * Q));
    expect((await json(ahead)).error.message).toBe(
      'Invalid request. According to the Content-Range header, the upload offset is 262144 byte(s), which exceeds already uploaded size of 0 byte(s).',
    );
    // 1.5 units sent: only one whole unit is persisted, and Range says so.
    const partial = await put(uri, `bytes 0-${Q + Q / 2 - 1}/*`, data.subarray(0, Q + Q / 2));
    expect(partial.status).toBe(308);
    expect(partial.headers.get('range')).toBe(`bytes=0-${Q - 1}`);
    const status = await put(uri, 'bytes */*');
    expect(status.status).toBe(308);
    expect(status.headers.get('range')).toBe(`bytes=0-${Q - 1}`);
    // Resending from an earlier offset is allowed; the overlap is dropped.
    const rest = await put(uri, `bytes ${Q / 2}-${data.length - 1}/${data.length}`, data.subarray(Q / 2), {
      'x-goog-hash': `crc32c=${new Crc32c().update(data).base64()}`,
    });
    expect(rest.status).toBe(200);
    const object = await json(rest);
    expect(object).toMatchObject({ name: 'proto.bin', size: String(data.length), md5Hash: createHash('md5').update(data).digest('base64') });
    const again = await put(uri, 'bytes */*');
    expect(again.status).toBe(200);
    const download = await fetch(`${fake.url}/storage/v1/b/strict/o/proto.bin?alt=media`, { headers: { range: 'bytes=100-199' } });
    expect(download.status).toBe(206);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(data.subarray(100, 200));
  });

  it('rejects a final request whose X-Goog-Hash does not match, and keeps no object', async () => {
    const uri = await session('bad-hash.bin');
    const r = await put(uri, 'bytes 0-9/10', Buffer.from('0123456789'), { 'x-goog-hash': 'crc32c=AAAAAA==' });
    expect(r.status).toBe(400);
    expect((await json(r)).error.message).toMatch(/^Provided CRC32C "AAAAAA==" doesn't match calculated CRC32C "[^"]+"\.$/);
    expect(fake.listing()).toEqual([]);
  });

  it('honours ifGenerationMatch for media, multipart and resumable uploads', async () => {
    const media = await fetch(`${fake.url}/upload/storage/v1/b/strict/o?uploadType=media&name=g.txt&ifGenerationMatch=0`, { method: 'POST', body: 'one', headers: { 'content-type': 'text/plain' } });
    expect(media.status).toBe(200);
    const { generation } = await json(media);
    const again = await fetch(`${fake.url}/upload/storage/v1/b/strict/o?uploadType=media&name=g.txt&ifGenerationMatch=0`, { method: 'POST', body: 'two' });
    expect(again.status).toBe(412);
    expect((await json(again)).error.errors[0].reason).toBe('conditionNotMet');
    const start = await fetch(`${fake.url}/upload/storage/v1/b/strict/o?uploadType=resumable&name=g.txt&ifGenerationMatch=0`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(start.status).toBe(412);
    const match = await fetch(`${fake.url}/upload/storage/v1/b/strict/o?uploadType=media&name=g.txt&ifGenerationMatch=${generation}`, { method: 'POST', body: 'three' });
    expect(match.status).toBe(200);
    expect(await (await fetch(`${fake.url}/storage/v1/b/strict/o/g.txt?alt=media`)).text()).toBe('three');
    expect((await fetch(`${fake.url}/storage/v1/b/strict/o/g.txt?ifGenerationMatch=${generation}`, { method: 'DELETE' })).status).toBe(412);
  });

  it('lists with delimiter and pages that count prefixes and items together', async () => {
    for (const name of ['a/1', 'a/2', 'b/1', 'c.txt', 'd.txt']) {
      await fetch(`${fake.url}/upload/storage/v1/b/strict/o?uploadType=media&name=${encodeURIComponent(name)}`, { method: 'POST', body: name });
    }
    const seen: unknown[] = [];
    let token = '';
    do {
      const r = await json(await fetch(`${fake.url}/storage/v1/b/strict/o?delimiter=/&maxResults=2${token ? `&pageToken=${token}` : ''}`));
      seen.push({ prefixes: r.prefixes ?? [], items: (r.items ?? []).map((i: { name: string }) => i.name) });
      token = r.nextPageToken ?? '';
    } while (token);
    expect(seen).toEqual([
      { prefixes: ['a/', 'b/'], items: [] },
      { prefixes: [], items: ['c.txt', 'd.txt'] },
    ]);
  });

  it('answers bucket calls like GCS: bad names, duplicates, non-empty deletes, missing buckets', async () => {
    const create = (name: string): Promise<Response> =>
      fetch(`${fake.url}/storage/v1/b?project=test-project`, { method: 'POST', body: JSON.stringify({ name }), headers: { 'content-type': 'application/json' } });
    expect((await json(await create('Bad_Name'))).error).toMatchObject({ code: 400, message: "Invalid bucket name: 'Bad_Name'" });
    expect((await create('fresh-bucket')).status).toBe(200);
    expect((await create('fresh-bucket')).status).toBe(409);
    await fetch(`${fake.url}/upload/storage/v1/b/fresh-bucket/o?uploadType=media&name=x`, { method: 'POST', body: 'x' });
    expect((await fetch(`${fake.url}/storage/v1/b/fresh-bucket`, { method: 'DELETE' })).status).toBe(409);
    const missing = await fetch(`${fake.url}/storage/v1/b/nope/o`);
    expect(await json(missing)).toEqual({
      error: { code: 404, message: 'The specified bucket does not exist.', errors: [{ message: 'The specified bucket does not exist.', domain: 'global', reason: 'notFound' }] },
    });
  });
});
