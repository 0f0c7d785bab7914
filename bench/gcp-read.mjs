// The read path of provider gcp against the Vertex AI and Cloud Storage fakes (test/emulators/gcp,
// in their own process, on loopback): `modeldeploy status` next to `gcloud ai endpoints describe`
// of the same endpoint (the reference, measured in the same run, when gcloud is installed), an
// unchanged `up` and an `invoke`, each with the Vertex AI requests it made. Median of N runs.
//   npm run build && node bench/gcp-read.mjs [runs=5]
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist', 'bin', 'modeldeploy.js');
const runs = Number(process.argv[2] ?? 5);
const project = 'bench-project';
const bucket = 'bench-models';
const endpoint = 'iris-xgboost-default';

const fake = spawn(process.execPath, ['--import', 'tsx', 'test/emulators/gcp/main.ts', '--project', project, '--bucket', bucket], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
const fakeExited = new Promise((resolve) => fake.once('exit', resolve));
const urls = await new Promise((resolve, reject) => {
  let out = '';
  fake.stdout.on('data', (chunk) => {
    out += chunk;
    if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]));
  });
  fake.once('exit', (code) => reject(new Error(`the GCP fakes exited (${code}): ${out}`)));
});
const control = async (method, what, body) => {
  const call = () => fetch(`${urls.controlUrl}${what}`, { method, ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) });
  // A kept-alive connection the fake closed while a command ran (5 s idle) fails once: ask again.
  const response = await call().catch(call);
  return response.json();
};
// The example's smoke test expects setosa for its row.
await control('PUT', `predict/${endpoint}`, { predictions: [[0.812689, 0.094371, 0.092939]] });

const dir = mkdtempSync(path.join(tmpdir(), 'md-bench-gcp-read-'));
cpSync(path.join(root, 'examples', 'gcp-xgboost'), dir, { recursive: true });
const tokenFile = path.join(dir, 'token');
writeFileSync(tokenFile, 'ya29.bench-token');
const env = {
  PATH: process.env.PATH,
  HOME: dir,
  CI: 'true',
  METADATA_SERVER_DETECTION: 'none',
  MODELDEPLOY_GCP_API_ENDPOINT: urls.vertexUrl,
  STORAGE_EMULATOR_HOST: urls.gcsUrl,
  MODELDEPLOY_GCP_ACCESS_TOKEN: 'ya29.bench-token',
  MODELDEPLOY_GCP_POLL_INTERVAL: '20ms',
  GOOGLE_CLOUD_PROJECT: project,
  MODELDEPLOY_BUCKET: bucket,
};
const gcloudEnv = {
  PATH: process.env.PATH,
  CLOUDSDK_CONFIG: path.join(dir, 'gcloud'),
  CLOUDSDK_CORE_PROJECT: project,
  CLOUDSDK_API_ENDPOINT_OVERRIDES_AIPLATFORM: `${urls.vertexUrl}/`,
  CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: tokenFile,
  CLOUDSDK_CORE_DISABLE_PROMPTS: '1',
};

/** Wall time of one command and the Vertex AI requests it made. */
async function measure(command, args, commandEnv) {
  const before = (await control('GET', 'requests')).length;
  const start = process.hrtime.bigint();
  const r = spawnSync(command, args, { cwd: dir, env: commandEnv, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${[command, ...args].join(' ')} exited ${r.status}: ${r.stderr}`);
  const requests = (await control('GET', 'requests')).slice(before);
  return { ms, requests: requests.map((q) => q.rpc ?? `${q.method} ${q.path}`) };
}

const md = (args) => [process.execPath, [cli, ...args, '-f', path.join(dir, 'deploy.yaml')], env];
const cases = [
  ['modeldeploy status', ...md(['status', '--json'])],
  ['modeldeploy up (unchanged)', ...md(['up', '--json'])],
  ['modeldeploy invoke', ...md(['invoke', '--data', '{"instances": [[5.1, 3.5, 1.4, 0.2]]}'])],
];
const hasGcloud = spawnSync('gcloud', ['--version'], { env: gcloudEnv, stdio: 'ignore' }).status === 0;
if (hasGcloud) cases.unshift(['gcloud ai endpoints describe', 'gcloud', ['ai', 'endpoints', 'describe', endpoint, '--region=us-central1', '--format=json'], gcloudEnv]);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
try {
  await measure(...md(['up', '--json'])); // the deployment to read
  for (const [name, command, args, commandEnv] of cases) {
    const first = await measure(command, args, commandEnv); // warm the file cache (and gcloud's)
    const samples = [];
    for (let i = 0; i < runs; i++) samples.push((await measure(command, args, commandEnv)).ms);
    rows.push({ name, median: median(samples), min: Math.min(...samples), requests: first.requests });
  }
  await measure(...md(['down']));
} finally {
  fake.kill('SIGTERM');
  await fakeExited;
  rmSync(dir, { recursive: true, force: true });
}

console.log(`provider gcp read path against the Vertex AI and GCS fakes on loopback, median of ${runs} runs`);
const reference = rows.find((r) => r.name.startsWith('gcloud'))?.median;
for (const row of rows) {
  const ratio = reference ? ` ${(row.median / reference).toFixed(2)}x` : '';
  console.log(`${row.name.padEnd(30)} ${row.median.toFixed(0).padStart(6)} ms (min ${row.min.toFixed(0)})${ratio.padStart(7)}   Vertex requests: ${row.requests.length} ${row.requests.length ? `(${[...new Set(row.requests)].join(', ')})` : ''}`);
}
