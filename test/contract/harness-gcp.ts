/**
 * provider: gcp for the contract suite: the strict Vertex AI and Cloud Storage fakes
 * (test/emulators/gcp/) on free ports, reached by the real SDKs only through the settings a user
 * has too (MODELDEPLOY_GCP_API_ENDPOINT, STORAGE_EMULATOR_HOST, MODELDEPLOY_GCP_ACCESS_TOKEN).
 */
import { onEveryOtherRequest } from '../support/faults.js';
import { startFakeGcs, type FakeGcs } from '../emulators/gcp/fake-gcs.js';
import { PredictionError, startFakeVertex, type FakeVertex } from '../emulators/gcp/fake-vertex.js';
import type { Json } from '../emulators/gcp/vertex-schema.js';
import type { ContractHarness, DeployFixture, EmulatorCall, EmulatorResource, Invocation } from './harness.js';

const PROJECT = 'contract-project';
const BUCKET = 'contract-models';
const REGION = 'us-central1';
const TOKEN = 'ya29.contract-token';

/** The labels modeldeploy writes, read back as an owner the way the provider does. */
function ownerOf(labels: Record<string, string>): EmulatorResource['owner'] {
  const deployment = labels['modeldeploy-deployment'];
  const stage = labels['modeldeploy-stage'];
  return { ...(deployment ? { deployment } : {}), ...(stage ? { stage } : {}) };
}

class GcpHarness implements ContractHarness {
  readonly id = 'gcp';
  private vertex?: FakeVertex;
  private gcs?: FakeGcs;
  private served: Invocation[] = [];
  private answerWith: (revision: string) => { status: number; body: unknown } = () => ({ status: 200, body: { predictions: [0] } });
  private planted = new Set<string>();
  private stopThrottling: Array<() => void> = [];
  /** Where each fake's call log starts since clearCalls. */
  private marks = { vertex: 0, gcs: 0 };

  private get fakes(): { vertex: FakeVertex; gcs: FakeGcs } {
    if (!this.vertex || !this.gcs) throw new Error('harness-gcp: start() first');
    return { vertex: this.vertex, gcs: this.gcs };
  }

  async start(): Promise<void> {
    this.vertex = await startFakeVertex({ projectId: PROJECT, locations: [REGION], accessToken: TOKEN });
    this.gcs = await startFakeGcs({ projectId: PROJECT, buckets: [BUCKET] });
    this.install();
  }

  async stop(): Promise<void> {
    this.unthrottle();
    await this.vertex?.stop();
    await this.gcs?.stop();
  }

  async reset(): Promise<void> {
    const { vertex, gcs } = this.fakes;
    this.unthrottle();
    vertex.reset();
    await gcs.reset();
    this.served = [];
    this.planted.clear();
    this.marks = { vertex: 0, gcs: 0 };
    this.answerWith = () => ({ status: 200, body: { predictions: [0] } });
    this.install();
  }

  env(): NodeJS.ProcessEnv {
    const { vertex, gcs } = this.fakes;
    return {
      MODELDEPLOY_GCP_API_ENDPOINT: vertex.url,
      STORAGE_EMULATOR_HOST: gcs.url,
      MODELDEPLOY_GCP_ACCESS_TOKEN: TOKEN,
      MODELDEPLOY_GCP_POLL_INTERVAL: '20ms',
    };
  }

  fixture(): DeployFixture {
    return {
      yaml: {
        provider: 'gcp',
        region: REGION,
        model: { framework: 'sklearn', version: '1.5' },
        instance: { type: 'n1-standard-2', count: 1 },
        gcp: { project: PROJECT, bucket: BUCKET },
      },
      // The prebuilt sklearn container loads model.joblib; the fake model server never reads it.
      files: { 'model.joblib': 'a scikit-learn model, as joblib.dump wrote it\n' },
    };
  }

  answer(fn: (revision: string) => { status: number; body: unknown }): void {
    this.answerWith = fn;
  }

  invocations(): Invocation[] {
    return [...this.served];
  }

  async calls(): Promise<EmulatorCall[]> {
    const { vertex, gcs } = this.fakes;
    const vertexCalls = vertex.requests.slice(this.marks.vertex).map((r): EmulatorCall => {
      const reads = r.method === 'GET' || r.rpc === 'PredictionService.Predict' || r.rpc === 'PredictionService.RawPredict';
      return { kind: reads ? 'read' : 'write', what: `vertex ${r.rpc ?? `${r.method} ${r.path}`}` };
    });
    const gcsCalls = gcs.requests.slice(this.marks.gcs).map((r): EmulatorCall => {
      const what = `gcs ${r.method} ${r.path}${r.query.name ? ` ${r.query.name}` : ''}`;
      if (r.method === 'GET') return { kind: 'read', what };
      // Model bytes go up through /upload/; a stage's reference marker is a small write.
      const upload = r.path.startsWith('/upload/') && !(r.query.name ?? '').includes('/refs/');
      return { kind: upload ? 'upload' : 'write', what };
    });
    return [...vertexCalls, ...gcsCalls];
  }

  async clearCalls(): Promise<void> {
    const { vertex, gcs } = this.fakes;
    this.marks = { vertex: vertex.requests.length, gcs: gcs.requests.length };
  }

  async listing(): Promise<EmulatorResource[]> {
    const { vertex, gcs } = this.fakes;
    const listing = vertex.listing();
    const out: EmulatorResource[] = [];
    const endpointLabels = new Map(listing.endpoints.map((e) => [e.name, e.labels]));
    for (const e of listing.endpoints) {
      if (this.planted.has(idOf(e.name))) continue;
      out.push({ kind: 'vertex:endpoint', id: idOf(e.name), owner: ownerOf(e.labels) });
    }
    for (const d of listing.deployedModels) {
      if (this.planted.has(idOf(d.endpoint))) continue;
      out.push({ kind: 'vertex:deployed-model', id: `${idOf(d.endpoint)}/${d.id}`, owner: ownerOf(endpointLabels.get(d.endpoint) ?? {}) });
    }
    for (const m of listing.models) out.push({ kind: 'vertex:model-version', id: `${idOf(m.name)}@${m.versionId}`, owner: ownerOf(m.labels) });
    // Work still in progress is something in the emulator too (operations carry no labels).
    for (const op of listing.operationsInFlight) out.push({ kind: `vertex:operation:${op.kind}`, id: op.name });
    for (const o of gcs.listing()) out.push({ kind: 'gcs:object', id: `${o.bucket}/${o.name}` });
    return out;
  }

  async plantForeignEndpoint(base: string): Promise<() => Promise<unknown>> {
    const { vertex } = this.fakes;
    this.planted.add(base);
    const op = vertex.state.createEndpoint(REGION, { displayName: base, labels: { team: 'someone-else' } }, base);
    vertex.state.getOperation(String(op.name)); // finishes it (unless held: settle() does)
    return async () => vertex.state.getEndpoint(REGION, base);
  }

  throttle(): void {
    const { vertex, gcs } = this.fakes;
    // Each first try: 429 (RESOURCE_EXHAUSTED / rateLimitExceeded) and 503 in turn, as both services answer.
    let n = 0;
    const next = (limit: () => void, unavailable: () => void) => () => (n++ % 2 === 0 ? limit() : unavailable());
    this.stopThrottling.push(
      onEveryOtherRequest(vertex.requests, next(() => vertex.rateLimit(1), () => vertex.unavailable(1))),
      onEveryOtherRequest(gcs.requests, next(() => gcs.rateLimit(1), () => gcs.unavailable(1))),
    );
  }

  failNextDeploy(): void {
    // What Vertex answers when the serving container never becomes healthy (cloud-apis.md B.8), with its logs link.
    this.fakes.vertex.failNextOperation('deployModel', { code: 'FAILED_PRECONDITION', message: 'Model server exited unexpectedly.', logsLink: true });
  }

  holdOperations(): void {
    this.fakes.vertex.hold();
  }

  async settle(): Promise<void> {
    this.fakes.vertex.settle();
  }

  /** The model server of every endpoint: the revision is the deployed model's display name, r-<revision>. */
  private install(): void {
    const { vertex } = this.fakes;
    vertex.setDefaultPredictHandler(({ endpoint, deployedModel }) => {
      const revision = /^r-([0-9a-f]{8})$/.exec(deployedModel.displayName)?.[1] ?? deployedModel.displayName;
      const labels = vertex.listing().endpoints.find((e) => e.name === endpoint)?.labels ?? {};
      this.served.push({ revision, via: labels['modeldeploy-role'] === 'smoke' ? 'revision' : 'endpoint' });
      const { status, body } = this.answerWith(revision);
      if (status !== 200) throw new PredictionError(status, JSON.stringify(body));
      const predictions = (body as { predictions?: unknown } | null)?.predictions;
      return (Array.isArray(predictions) ? predictions : []) as Json[];
    });
  }

  private unthrottle(): void {
    for (const stop of this.stopThrottling) stop();
    this.stopThrottling = [];
    this.vertex?.clearFaults();
  }
}

function idOf(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

export function createHarness(): ContractHarness {
  return new GcpHarness();
}
