// Upload of a large artifact to Azurite (blob service on loopback): modeldeploy's uploader
// (providers/azure/blob.ts: block blob, 8 MiB blocks, 4 in flight, each block streamed from disk)
// next to single-stream uploads with the same SDK (@azure/storage-blob), in the same run, each in
// its own process. Prints wall time, throughput and peak RSS of each.
//   npm run build && node bench/azure-upload.mjs [MiB=1024]
import { spawn, spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const mib = Number(process.argv[2] ?? 1024);
const bytes = mib * 1024 * 1024;
const dir = mkdtempSync(path.join(tmpdir(), 'md-bench-azure-'));
const file = path.join(dir, 'weights.bin');
const ACCOUNT = 'devstoreaccount1';
// Azurite's well-known development key (public, documented by Microsoft).
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

// Incompressible data, written in 16 MiB blocks (the bench itself stays small in memory).
const fd = openSync(file, 'w');
const block = Buffer.alloc(16 * 1024 * 1024);
for (let written = 0; written < bytes; written += block.length) {
  randomFillSync(block);
  writeSync(fd, block, 0, Math.min(block.length, bytes - written));
}
closeSync(fd);

// Azurite in memory (no disk in the measurement), with room for every variant (deleted blobs free
// their memory only later).
const azuriteMain = path.join(path.dirname(createRequire(import.meta.url).resolve('azurite/package.json')), 'dist', 'src', 'blob', 'main.js');
const azurite = spawn(
  process.execPath,
  [azuriteMain, '--blobHost', '127.0.0.1', '--blobPort', '0', '--inMemoryPersistence', '--extentMemoryLimit', String(3 * mib + 512), '--skipApiVersionCheck', '--disableTelemetry'],
  { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
);
const port = await new Promise((resolve, reject) => {
  let out = '';
  const onData = (chunk) => {
    out += chunk;
    const m = /successfully listens on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
    if (m) resolve(Number(m[1]));
  };
  azurite.stdout.on('data', onData);
  azurite.stderr.on('data', onData);
  azurite.once('exit', (code) => reject(new Error(`azurite exited (${code}): ${out}`)));
});
azurite.stdout.resume();
azurite.stderr.resume();
const endpoint = `http://127.0.0.1:${port}/${ACCOUNT}`;
const service = new BlobServiceClient(endpoint, new StorageSharedKeyCredential(ACCOUNT, KEY));
const container = service.getContainerClient('bench');
await container.createIfNotExists();

const setup = `
  const { BlobServiceClient, StorageSharedKeyCredential } = await import('@azure/storage-blob');
  const { createReadStream } = await import('node:fs');
  const file = ${JSON.stringify(file)};
  const container = new BlobServiceClient(${JSON.stringify(endpoint)}, new StorageSharedKeyCredential(${JSON.stringify(ACCOUNT)}, ${JSON.stringify(KEY)})).getContainerClient('bench');
  const report = (t) => console.log(JSON.stringify({ seconds: (performance.now() - t) / 1000 }));
`;
const variants = [
  {
    name: 'modeldeploy (8 MiB blocks, 4 in flight)',
    code: `
      const { BlobStore } = await import(${JSON.stringify(path.join(root, 'dist/providers/azure/blob.js'))});
      const store = await BlobStore.connect(${JSON.stringify(endpoint)}, 'bench', { kind: 'key', accountName: ${JSON.stringify(ACCOUNT)}, key: ${JSON.stringify(KEY)} });
      const t = performance.now();
      await store.uploadFile('ours/weights.bin', file, { sha256: 'bench', signal: new AbortController().signal, onProgress: () => {} });
      report(t);`,
    blob: 'ours/weights.bin',
  },
  {
    name: 'single stream (uploadStream, 1 in flight)',
    code: `
      const t = performance.now();
      await container.getBlockBlobClient('stream/weights.bin').uploadStream(createReadStream(file, { highWaterMark: 8 * 1024 * 1024 }), 8 * 1024 * 1024, 1);
      report(t);`,
    blob: 'stream/weights.bin',
  },
  {
    name: 'single PUT (upload of one stream)',
    code: `
      const { statSync } = await import('node:fs');
      const t = performance.now();
      await container.getBlockBlobClient('put/weights.bin').upload(() => createReadStream(file), statSync(file).size);
      report(t);`,
    blob: 'put/weights.bin',
  },
];

const rows = [];
for (const v of variants) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, '--input-type=module', '-e', setup + v.code], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 20 });
  const last = r.stderr.trim().split('\n').pop() ?? '';
  if (r.status !== 0) {
    rows.push({ name: v.name, error: (r.stderr.match(/(RestError|Error): [^\n]*/)?.[0] ?? `exit ${r.status}`).slice(0, 160) });
    continue;
  }
  const [wall, kb] = last.split(' ').map(Number);
  const inner = JSON.parse(r.stdout.trim().split('\n').pop());
  const props = await container.getBlockBlobClient(v.blob).getProperties();
  if (props.contentLength !== bytes) throw new Error(`${v.name}: uploaded ${props.contentLength} bytes, expected ${bytes}`);
  rows.push({ name: v.name, wall, upload: inner.seconds, rssMiB: kb / 1024 });
  await container.getBlockBlobClient(v.blob).deleteIfExists();
}

azurite.kill('SIGTERM');
rmSync(dir, { recursive: true, force: true });

console.log(`upload of ${mib} MiB to Azurite 3.35 (in memory) on loopback, @azure/storage-blob 12.32, one process per variant`);
console.log(`${'variant'.padEnd(44)} ${'upload'.padStart(9)} ${'MiB/s'.padStart(8)} ${'process'.padStart(9)} ${'peak RSS'.padStart(10)}`);
for (const row of rows) {
  if (row.error) {
    console.log(`${row.name.padEnd(44)} failed: ${row.error}`);
    continue;
  }
  console.log(`${row.name.padEnd(44)} ${row.upload.toFixed(2).padStart(7)} s ${(mib / row.upload).toFixed(1).padStart(8)} ${row.wall.toFixed(2).padStart(7)} s ${row.rssMiB.toFixed(0).padStart(6)} MiB`);
}
