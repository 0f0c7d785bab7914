// The read path on provider aws, against moto + the strict SageMaker layer on loopback, in one run:
// `modeldeploy status` next to `aws sagemaker describe-endpoint` of the same endpoint (the AWS CLI
// as the reference a user would reach for), and `modeldeploy up` with nothing changed.
// Targets (issue 12, item 7): status ≤ 0.6× the AWS CLI; unchanged up ≤ 1 s.
// Prints the median wall time of N interleaved runs of each and the requests each made (from the layer's record).
//   npm run build && node bench/aws-read.mjs [runs=7]
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist', 'bin', 'modeldeploy.js');
const runs = Number(process.argv[2] ?? 7);
const work = mkdtempSync(path.join(tmpdir(), 'md-bench-read-'));
cpSync(path.join(root, 'examples', 'aws-sklearn'), work, { recursive: true });
const deployFile = path.join(work, 'deploy.yaml');

const port = await new Promise((resolve) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const moto = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
const motoUrl = `http://127.0.0.1:${port}`;
for (let i = 0; ; i++) {
  try {
    await fetch(`${motoUrl}/moto-api/`);
    break;
  } catch {
    if (i > 300) throw new Error('moto did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
}
// The layer runs in this process (so every CLI run below is spawned, never run synchronously).
register();
const { startSageMakerLayer } = await import('../test/emulators/sagemaker/layer.ts');
const layer = await startSageMakerLayer(motoUrl);
layer.answerAll(() => ({ status: 200, body: JSON.stringify({ predictions: [0] }), contentType: 'application/json' }));

const env = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  CI: 'true',
  AWS_ENDPOINT_URL: layer.url,
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  MODELDEPLOY_AWS_POLL_INTERVAL: '100ms',
  MODELDEPLOY_BUCKET: 'bench-read',
  SAGEMAKER_ROLE_ARN: 'arn:aws:iam::123456789012:role/SageMakerExecutionRole',
};

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`));
      else resolve({ ms, out });
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Each command once per round, rounds interleaved: a busy machine slows every command alike
 * instead of whichever happened to run during a burst. One warm-up round first (page cache).
 */
async function measure(cases) {
  const times = cases.map(() => []);
  const ops = cases.map(() => []);
  for (let round = -1; round < runs; round++) {
    for (const [i, [cmd, args]] of cases.entries()) {
      const before = layer.calls.length;
      const { ms } = await run(cmd, args);
      if (round < 0) continue;
      times[i].push(ms);
      ops[i] = layer.calls.slice(before).map((c) => c.operation);
    }
  }
  return cases.map((_, i) => ({ ms: median(times[i]), requests: ops[i].length, ops: ops[i] }));
}

try {
  await run('aws', ['s3', 'mb', 's3://bench-read', '--endpoint-url', layer.url]);
  await run(process.execPath, [cli, 'up', '-q', '-f', deployFile]);

  const [node, status, awsCli, unchanged] = await measure([
    [process.execPath, ['-e', '0']],
    [process.execPath, [cli, 'status', '--json', '-f', deployFile]],
    ['aws', ['sagemaker', 'describe-endpoint', '--endpoint-name', 'iris-sklearn-default', '--endpoint-url', layer.url]],
    [process.execPath, [cli, 'up', '--json', '-f', deployFile]],
  ]);

  const row = (name, r, note = '') => `${name.padEnd(44)} ${r.ms.toFixed(0).padStart(6)} ms ${String(r.requests).padStart(3)} requests ${note}`;
  console.log(`read path on moto + the SageMaker layer (median of ${runs} interleaved rounds after a warm-up round; load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores)`);
  console.log(row('node -e 0', node));
  console.log(row('aws sagemaker describe-endpoint', awsCli));
  console.log(row('modeldeploy status --json', status, `${(status.ms / awsCli.ms).toFixed(2)}× the AWS CLI (target ≤ 0.60×)`));
  console.log(row('modeldeploy up (nothing changed)', unchanged, `target ≤ 1000 ms`));
  console.log(`  status requests: ${status.ops.join(', ')}`);
  console.log(`  unchanged up requests: ${unchanged.ops.join(', ')}`);
} finally {
  await run(process.execPath, [cli, 'down', '-q', '-f', deployFile]).catch((e) => console.error(e.message));
  await layer.stop();
  moto.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}
