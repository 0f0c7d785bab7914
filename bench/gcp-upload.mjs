// Upload of a large artifact to the strict GCS fake (test/emulators/gcp, in its own process, objects
// in temp files) on loopback: modeldeploy's uploader (providers/gcp/gcs-store.ts: a resumable session,
// one streaming PUT read from disk, the SDK's CRC32C check with a faster CRC32C) next to plain
// uploads of the same file with the same SDK (@google-cloud/storage 7.22): `bucket.upload()` with its
// defaults, and the SDK's chunked resumable mode at two chunk sizes. Each variant runs in its own
// process; prints upload time, throughput, process time and peak RSS, then the fake's peak RSS.
//   npm run build && node bench/gcp-upload.mjs [MiB=1024]
import { spawn, spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Storage } from '@google-cloud/storage';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const mib = Number(process.argv[2] ?? 1024);
const bytes = mib * 1024 * 1024;
const dir = mkdtempSync(path.join(tmpdir(), 'md-bench-gcp-'));
const file = path.join(dir, 'weights.bin');

// Incompressible data, written in 16 MiB blocks (the bench itself stays small in memory).
const fd = openSync(file, 'w');
const block = Buffer.alloc(16 * 1024 * 1024);
for (let written = 0; written < bytes; written += block.length) {
  randomFillSync(block);
  writeSync(fd, block, 0, Math.min(block.length, bytes - written));
}
closeSync(fd);

// The fake in its own process; it keeps objects in temp files and removes them on SIGTERM.
const fake = spawn(process.execPath, ['--import', 'tsx', 'test/emulators/gcp/main.ts', '--bucket', 'bench'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
const fakeExited = new Promise((resolve) => fake.once('exit', resolve));
const { gcsUrl } = await new Promise((resolve, reject) => {
  let out = '';
  fake.stdout.on('data', (chunk) => {
    out += chunk;
    const line = out.split('\n')[0];
    if (out.includes('\n')) resolve(JSON.parse(line));
  });
  fake.once('exit', (code) => reject(new Error(`the GCS fake exited (${code}): ${out}`)));
});
const bucket = new Storage({ apiEndpoint: gcsUrl, projectId: 'bench' }).bucket('bench');

const setup = `
  const { Storage } = await import('@google-cloud/storage');
  const file = ${JSON.stringify(file)};
  const bucket = new Storage({ apiEndpoint: ${JSON.stringify(gcsUrl)}, projectId: 'bench' }).bucket('bench');
  const report = (t) => console.log(JSON.stringify({ seconds: (performance.now() - t) / 1000 }));
`;
// The alternative to one PUT, with everything else as in GcsStore (same CRC32C code, same reads),
// so only the upload mode differs.
const chunked = (chunkMiB) => ({
  name: `SDK chunked, chunkSize ${chunkMiB} MiB (+ fast CRC32C)`,
  code: `
    const { createReadStream } = await import('node:fs');
    const { pipeline } = await import('node:stream/promises');
    const { FastCrc32c } = await import(${JSON.stringify(path.join(root, 'dist/providers/gcp/crc32c.js'))});
    const fast = new Storage({ apiEndpoint: ${JSON.stringify(gcsUrl)}, projectId: 'bench', crc32cGenerator: () => new FastCrc32c() }).bucket('bench');
    const t = performance.now();
    await pipeline(createReadStream(file, { highWaterMark: 1024 * 1024 }), fast.file('c${chunkMiB}/weights.bin').createWriteStream({ resumable: true, chunkSize: ${chunkMiB} * 1024 * 1024 }));
    report(t);`,
  object: `c${chunkMiB}/weights.bin`,
});
const variants = [
  {
    name: 'modeldeploy GcsStore (one streaming PUT)',
    code: `
      const { GcsStore } = await import(${JSON.stringify(path.join(root, 'dist/providers/gcp/gcs-store.js'))});
      const store = await GcsStore.connect({ bucket: 'bench', projectId: 'bench', apiEndpoint: ${JSON.stringify(gcsUrl)} });
      let last = 0;
      const t = performance.now();
      await store.uploadFile('ours/weights.bin', file, { onProgress: (n) => (last = n) });
      if (last !== ${bytes}) throw new Error('progress ended at ' + last);
      report(t);`,
    object: 'ours/weights.bin',
  },
  {
    name: 'SDK bucket.upload() defaults (one PUT)',
    code: `
      const t = performance.now();
      await bucket.upload(file, { destination: 'sdk/weights.bin', resumable: true });
      report(t);`,
    object: 'sdk/weights.bin',
  },
  chunked(16),
  chunked(64),
];

const rows = [];
const crcs = new Set();
try {
  for (const v of variants) {
    const r = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, '--input-type=module', '-e', setup + v.code], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 20 });
    const last = r.stderr.trim().split('\n').pop() ?? '';
    if (r.status !== 0) {
      rows.push({ name: v.name, error: (r.stderr.match(/(\w*Error): [^\n]*/)?.[0] ?? `exit ${r.status}`).slice(0, 160) });
      continue;
    }
    const [wall, kb] = last.split(' ').map(Number);
    const inner = JSON.parse(r.stdout.trim().split('\n').pop());
    const [metadata] = await bucket.file(v.object).getMetadata();
    if (Number(metadata.size) !== bytes) throw new Error(`${v.name}: stored ${metadata.size} bytes, expected ${bytes}`);
    crcs.add(metadata.crc32c);
    rows.push({ name: v.name, wall, upload: inner.seconds, rssMiB: kb / 1024 });
    await bucket.file(v.object).delete();
  }
} finally {
  // Peak RSS of the fake (VmHWM), to show it streams to disk rather than holding objects.
  const fakeHwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${fake.pid}/status`, 'utf8'))?.[1];
  fake.kill('SIGTERM');
  await fakeExited;
  rmSync(dir, { recursive: true, force: true });
  if (crcs.size > 1) throw new Error(`the variants stored different bytes: crc32c ${[...crcs].join(', ')}`);

  console.log(`upload of ${mib} MiB to the GCS fake (own process, temp files) on loopback, @google-cloud/storage 7.22, one process per variant`);
  console.log(`${'variant'.padEnd(46)} ${'upload'.padStart(9)} ${'MiB/s'.padStart(8)} ${'process'.padStart(9)} ${'peak RSS'.padStart(10)}`);
  for (const row of rows) {
    if (row.error) {
      console.log(`${row.name.padEnd(46)} failed: ${row.error}`);
      continue;
    }
    console.log(`${row.name.padEnd(46)} ${row.upload.toFixed(2).padStart(7)} s ${(mib / row.upload).toFixed(1).padStart(8)} ${row.wall.toFixed(2).padStart(7)} s ${row.rssMiB.toFixed(0).padStart(6)} MiB`);
  }
  if (fakeHwm) console.log(`fake GCS peak RSS ${(Number(fakeHwm) / 1024).toFixed(0)} MiB`);
}
