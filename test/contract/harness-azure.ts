/**
 * Provider azure's emulators: the strict fake of Azure ML's ARM control plane and scoring URIs
 * (HTTPS with a throwaway CA, which the provider trusts through NODE_EXTRA_CA_CERTS in its connect
 * env, as a user's process would) and Azurite behind a recording, throttling proxy for the
 * workspace's blob datastore. Operations of the fake finish on the first look after they started,
 * or when released; the model's answers come from the test (`answer`) through the fake's scoring plane.
 */
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { ownerOf } from '../../src/core/target.js';
import { startAzurite, type AzuriteBlob } from '../emulators/azure/azurite.js';
import { startBlobProxy, type BlobProxy } from '../emulators/azure/blob-proxy.js';
import { startFakeAzureMl, type FakeAzureMl, type FaultKind, type ScoreHandler } from '../emulators/azure/fake-arm.js';
import { httpsRequest } from '../emulators/azure/https-request.js';
import type { ContractHarness, DeployFixture, EmulatorCall, EmulatorResource, Invocation } from './harness.js';

type Answer = (revision: string) => { status: number; body: unknown };
const DEFAULT_ANSWER: Answer = () => ({ status: 200, body: { predictions: [0] } });
const RG = 'rg1';
const WS = 'ws1';
/** ARM POSTs that change nothing. */
const READ_ACTIONS = /\/(listKeys|listSecrets|getLogs|token)$/i;
/** What `holdOperations` keeps in progress: the revision's work and every deletion. */
const HELD: FaultKind[] = ['deployment', 'deploymentUpdate', 'deploymentDelete', 'endpointUpdate', 'endpointDelete', 'regenerateKeys'];
/** Model bytes: a blob under an artifact's content address (refs are small writes). */
const ARTIFACT_BLOB = /^[^/]+\/modeldeploy\/[^/]+\/[0-9a-f]{64}\//;

const SCORE_PY = `"""The Azure ML inference server contract: init() once, run() per request."""
import json


def init():
    pass


def run(raw_data):
    return {"predictions": [0 for _ in json.loads(raw_data)["instances"]]}
`;

export function createHarness(): ContractHarness {
  let azurite: AzuriteBlob | undefined;
  let proxy: BlobProxy | undefined;
  let fake: FakeAzureMl | undefined;
  let answer = DEFAULT_ANSWER;
  let invocations: Invocation[] = [];
  const planted = new Set<string>();

  const need = () => {
    if (!fake || !proxy || !azurite) throw new Error('the azure harness is not started');
    return { fake, proxy, azurite };
  };

  /** Every deployment answers through the test's `answer`, and says which revision served and how it was reached. */
  const score: ScoreHandler = (req) => {
    const revision = /^r-([0-9a-f]{8})$/.exec(req.deployment)?.[1] ?? req.deployment;
    invocations.push({ revision, via: req.headers['azureml-model-deployment'] ? 'revision' : 'endpoint' });
    const { status, body } = answer(revision);
    return { status, body };
  };

  /** The workspace's datastore container, straight at Azurite (not through the proxy: the harness's own look is no call). */
  const container = (): ContainerClient => {
    const { fake: f, azurite: a } = need();
    const ds = f.state.workspaces.get(`${RG}/${WS}`)?.datastores.get('workspaceblobstore');
    if (!ds) throw new Error('the fake has no workspace rg1/ws1');
    return new BlobServiceClient(a.blobEndpoint, new StorageSharedKeyCredential(a.accountName, a.accountKey)).getContainerClient(ds.containerName);
  };

  const blobNames = async (): Promise<string[]> => {
    const names: string[] = [];
    for await (const b of container().listBlobsFlat()) names.push(b.name);
    return names;
  };

  return {
    id: 'azure',
    async start() {
      azurite = await startAzurite();
      proxy = await startBlobProxy(azurite.blobEndpoint);
      fake = await startFakeAzureMl({ azurite: { blobEndpoint: azurite.blobEndpoint, accountName: azurite.accountName, accountKey: azurite.accountKey } });
      fake.scoring.setFallbackHandler(score);
    },
    async stop() {
      await fake?.stop();
      await proxy?.stop();
      await azurite?.stop();
    },
    async reset() {
      const { fake: f, proxy: p } = need();
      f.reset();
      f.scoring.setFallbackHandler(score);
      const blobs = container();
      for (const name of await blobNames()) await blobs.deleteBlob(name);
      p.stopThrottling();
      p.requests.length = 0;
      answer = DEFAULT_ANSWER;
      invocations = [];
      planted.clear();
    },
    env() {
      const { fake: f, proxy: p } = need();
      return {
        MODELDEPLOY_AZURE_ACCESS_TOKEN: 'contract-arm-token',
        MODELDEPLOY_AZURE_ARM_ENDPOINT: f.url,
        MODELDEPLOY_AZURE_BLOB_ENDPOINT: p.endpoint,
        MODELDEPLOY_AZURE_POLL_INTERVAL: '20ms',
        NODE_EXTRA_CA_CERTS: f.caCertPath,
      };
    },
    fixture(): DeployFixture {
      return {
        yaml: {
          provider: 'azure',
          region: 'eastus',
          model: { framework: 'sklearn' },
          instance: { type: 'Standard_DS3_v2', count: 1 },
          azure: { subscriptionId: need().fake.subscriptionId, resourceGroup: RG, workspace: WS },
        },
        files: { 'score.py': SCORE_PY },
      };
    },
    answer(fn) {
      answer = fn;
    },
    invocations: () => [...invocations],
    async calls(): Promise<EmulatorCall[]> {
      const { fake: f, proxy: p } = need();
      const arm = f.requests.map((r): EmulatorCall => ({
        kind: r.method === 'GET' || (r.method === 'POST' && READ_ACTIONS.test(r.path)) ? 'read' : 'write',
        what: `${r.method} ${r.path} → ${r.status}`,
      }));
      const scoring = f.scoringCalls.map((c): EmulatorCall => ({ kind: 'read', what: `POST score ${c.endpoint} → ${c.status}` }));
      const blob = p.requests.map((r): EmulatorCall => ({
        kind: r.method === 'GET' || r.method === 'HEAD' ? 'read' : r.method === 'PUT' && ARTIFACT_BLOB.test(r.path) ? 'upload' : 'write',
        what: `${r.method} blob ${r.path}${r.query.comp ? `?comp=${r.query.comp}` : ''} → ${r.status}`,
      }));
      return [...arm, ...scoring, ...blob];
    },
    async clearCalls() {
      const { fake: f, proxy: p } = need();
      f.clearRecords();
      p.requests.length = 0;
    },
    async listing(): Promise<EmulatorResource[]> {
      const { fake: f } = need();
      f.state.settle(); // a look, as a describe would be
      const out: EmulatorResource[] = [];
      for (const ws of f.state.workspaces.values()) {
        for (const ep of ws.endpoints.values()) {
          if (planted.has(ep.name.toLowerCase())) continue;
          out.push({ kind: 'online endpoint', id: ep.name, owner: ownerOf(ep.tags) });
          for (const d of ep.deployments.values()) out.push({ kind: 'online deployment', id: `${ep.name}/${d.name}`, owner: ownerOf(d.tags) });
        }
        for (const kind of ['models', 'codes', 'environments'] as const) {
          for (const c of ws.assets[kind].values()) {
            out.push({ kind: `${kind} container`, id: c.name, owner: ownerOf(strings(c.spec.tags)) });
            for (const v of c.versions.values()) {
              out.push({ kind: `${kind} version`, id: `${c.name}:${v.version}`, owner: ownerOf(strings(v.properties.tags)) });
            }
          }
        }
      }
      for (const name of await blobNames()) out.push({ kind: 'blob', id: name });
      return out;
    },
    async plantForeignEndpoint(base) {
      const { fake: f } = need();
      const before = f.requests.length;
      const url = `${f.url}/subscriptions/${f.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.MachineLearningServices/workspaces/${WS}/onlineEndpoints/${base}?api-version=2022-10-01`;
      const put = await httpsRequest(url, {
        method: 'PUT',
        ca: f.caPem,
        headers: { authorization: 'Bearer someone-else', 'content-type': 'application/json' },
        body: JSON.stringify({ location: 'eastus', tags: { team: 'someone else' }, properties: { authMode: 'Key', description: 'made by hand' } }),
      });
      if (put.status !== 201) throw new Error(`planting ${base} failed: ${put.status} ${put.text}`);
      f.state.settle();
      f.requests.splice(before); // the planting is not the provider's doing
      planted.add(base.toLowerCase());
      return async () => {
        const ep = f.state.findEndpoint(base);
        return ep && { name: ep.name, tags: ep.tags, state: ep.state, traffic: ep.traffic, description: ep.description, deployments: [...ep.deployments.keys()], modified: ep.systemData.lastModifiedAt };
      };
    },
    throttle() {
      const { fake: f, proxy: p } = need();
      f.throttleEveryOther(0);
      p.throttleEveryOther();
    },
    failNextDeploy() {
      // What a crashing container looks like: the deployment's operation ends Failed, ResourceNotReady.
      need().fake.failNext('deployment', {
        code: 'ResourceNotReady',
        message: 'User container has crashed or terminated. Please see troubleshooting guide, available here: https://aka.ms/oe-tsg#error-resourcenotready',
        logs: { InferenceServer: 'Initializing scoring script\nTraceback (most recent call last):\nValueError: weights.txt is not a model (injected by the test)' },
      });
    },
    holdOperations() {
      // Everything but the endpoint's own PUT: Azure ML takes no deployment on an endpoint that is
      // still Creating, so `deploy` waits for it, and holding it would leave no revision in progress.
      need().fake.hold(HELD);
    },
    async settle() {
      need().fake.release();
    },
  };
}

/** Tags as ARM stores them (a value may be null), as strings. */
function strings(tags: unknown): Record<string, string> {
  if (!tags || typeof tags !== 'object') return {};
  return Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, typeof v === 'string' ? v : '']));
}
