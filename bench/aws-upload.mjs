// Upload of a large artifact to S3 (moto on loopback): modeldeploy's uploader (lib-storage,
// 16 MiB parts, 4 in flight, streamed from disk) next to `aws s3 cp` of the same file to the
// same server, in the same run. Prints wall time, throughput and peak RSS of each.
//   npm run build && node bench/aws-upload.mjs [MiB=1024]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, writeSync, rmSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const mib = Number(process.argv[2] ?? 1024);
const dir = mkdtempSync(path.join(tmpdir(), 'md-bench-'));
const file = path.join(dir, 'weights.bin');

// Incompressible data, written in 16 MiB blocks (the bench itself stays small in memory).
const fd = openSync(file, 'w');
const block = Buffer.alloc(16 * 1024 * 1024);
for (let written = 0; written < mib * 1024 * 1024; written += block.length) {
  randomFillSync(block);
  writeSync(fd, block, 0, Math.min(block.length, mib * 1024 * 1024 - written));
}
closeSync(fd);

const port = await new Promise((resolve) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const moto = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
const url = `http://127.0.0.1:${port}`;
for (let i = 0; ; i++) {
  try {
    await fetch(`${url}/moto-api/`);
    break;
  } catch {
    if (i > 300) throw new Error('moto did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
}
const env = {
  ...process.env,
  AWS_ENDPOINT_URL: url,
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};
execFileSync('aws', ['s3', 'mb', 's3://bench'], { env, stdio: 'ignore' });

const ours = `
  const { readConnection } = await import(${JSON.stringify(path.join(root, 'dist/providers/aws/connection.js'))});
  const { S3Store } = await import(${JSON.stringify(path.join(root, 'dist/providers/aws/s3-store.js'))});
  const { statSync } = await import('node:fs');
  const store = new S3Store(readConnection({ env: process.env, region: 'us-east-1' }), 'bench');
  const file = ${JSON.stringify(file)};
  const t = performance.now();
  // The sha256 is recorded as metadata; hashing is the core's (cached) job, not the upload's.
  await store.upload('ours/weights.bin', { path: file, bytes: statSync(file).size, sha256: '0'.repeat(64) }, { signal: new AbortController().signal, onProgress: () => {} });
  console.log(JSON.stringify({ seconds: (performance.now() - t) / 1000, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
`;
function timed(cmd, args) {
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S\n%e %M', cmd, ...args], { env, encoding: 'utf8' });
  if (process.env.BENCH_CPU) console.error(cmd, 'cpu user/sys', r.stderr.trim().split('\n').slice(-2, -1)[0]);
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  const [seconds, kb] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { seconds, maxRssMiB: kb / 1024, stdout: r.stdout };
}
const mine = timed(process.execPath, ['--input-type=module', '-e', ours]);
const inner = JSON.parse(mine.stdout.trim().split('\n').pop());
const cli = timed('aws', ['s3', 'cp', file, 's3://bench/cli/weights.bin', '--only-show-errors']);

moto.kill('SIGTERM');
rmSync(dir, { recursive: true, force: true });

const row = (name, s, rss) => `${name.padEnd(34)} ${s.toFixed(2).padStart(8)} s ${(mib / s).toFixed(1).padStart(8)} MiB/s ${rss.toFixed(0).padStart(7)} MiB peak RSS`;
console.log(`upload of ${mib} MiB to moto on loopback`);
console.log(row('modeldeploy (whole process)', mine.seconds, mine.maxRssMiB));
console.log(row('modeldeploy (upload call only)', inner.seconds, inner.maxRssMiB));
console.log(row('aws s3 cp', cli.seconds, cli.maxRssMiB));
