import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import { extract } from 'tar';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HashCache, hashArtifact, remoteArtifact, sha256File } from '../../src/artifacts/hash.js';
import { tarStream } from '../../src/artifacts/package.js';
import { uploadEach } from '../../src/artifacts/transfer.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'md-artifacts-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

async function modelDir(): Promise<string> {
  const root = path.join(dir, 'model');
  await mkdir(path.join(root, 'sub'), { recursive: true });
  await writeFile(path.join(root, 'model.onnx'), 'onnx bytes');
  await writeFile(path.join(root, 'sub', 'vocab.txt'), 'a\nb\n');
  return root;
}

describe('hashing', () => {
  it('addresses a directory by its sorted files, sizes and hashes', async () => {
    const root = await modelDir();
    const cache = await HashCache.open(undefined);
    const artifact = await hashArtifact(root, cache);
    expect(artifact.kind).toBe('directory');
    expect(artifact.files.map((f) => f.path)).toEqual(['model.onnx', 'sub/vocab.txt']);
    expect(artifact.files[0]?.sha256).toBe(createHash('sha256').update('onnx bytes').digest('hex'));
    expect(artifact.bytes).toBe(10 + 4);
    // A rename changes the address even though no byte changed.
    await writeFile(path.join(root, 'sub', 'vocab2.txt'), await readFile(path.join(root, 'sub', 'vocab.txt')));
    await rm(path.join(root, 'sub', 'vocab.txt'));
    expect((await hashArtifact(root, cache)).sha256).not.toBe(artifact.sha256);
  });

  it('reads each file once: the cache answers by path, size and mtime, and is saved to disk', async () => {
    const root = await modelDir();
    const cacheFile = path.join(dir, '.modeldeploy', 'hash-cache.json');
    const first = await HashCache.open(cacheFile);
    const a = await hashArtifact(root, first);
    await first.save();
    expect(first.misses).toBe(2);
    const second = await HashCache.open(cacheFile);
    const b = await hashArtifact(root, second);
    expect(second.hits).toBe(2);
    expect(second.misses).toBe(0);
    expect(b.sha256).toBe(a.sha256);
    // Same size, new content, new mtime: hashed again.
    await writeFile(path.join(root, 'model.onnx'), 'ONNX BYTES');
    await utimes(path.join(root, 'model.onnx'), new Date(), new Date(Date.now() + 5000));
    const c = await hashArtifact(root, second);
    expect(second.misses).toBe(1);
    expect(c.sha256).not.toBe(a.sha256);
  });

  it('survives a corrupt cache file', async () => {
    const cacheFile = path.join(dir, 'cache.json');
    await writeFile(cacheFile, '{not json');
    const cache = await HashCache.open(cacheFile);
    await expect(hashArtifact(await modelDir(), cache)).resolves.toMatchObject({ kind: 'directory' });
  });

  it('streams: hashing a 256 MiB file keeps memory flat', async () => {
    const big = path.join(dir, 'big.bin');
    const handle = await open(big, 'w');
    await handle.truncate(256 * 1024 * 1024); // sparse: fast to make, read like any other file
    await handle.close();
    const before = process.memoryUsage().rss;
    const sha = await sha256File(big);
    const grew = process.memoryUsage().rss - before;
    expect(sha).toMatch(/^[0-9a-f]{64}$/);
    expect(grew).toBeLessThan(64 * 1024 * 1024);
  });

  it('addresses a remote artifact by its URI', () => {
    expect(remoteArtifact('s3://b/k').sha256).toBe(createHash('sha256').update('s3://b/k').digest('hex'));
  });
});

describe('packaging', () => {
  it('produces a deterministic tar.gz that unpacks to the same files', async () => {
    const root = await modelDir();
    const artifact = await hashArtifact(root, await HashCache.open(undefined));
    const out1 = path.join(dir, 'a.tar.gz');
    const out2 = path.join(dir, 'b.tar.gz');
    await pipeline(tarStream(artifact, 'tar.gz'), createWriteStream(out1));
    await new Promise((r) => setTimeout(r, 20));
    await pipeline(tarStream(artifact, 'tar.gz'), createWriteStream(out2));
    expect(await sha256File(out1)).toBe(await sha256File(out2));
    const unpacked = path.join(dir, 'unpacked');
    await mkdir(unpacked);
    await extract({ file: out1, cwd: unpacked });
    expect(await readFile(path.join(unpacked, 'sub', 'vocab.txt'), 'utf8')).toBe('a\nb\n');
    const again = await hashArtifact(unpacked, await HashCache.open(undefined));
    expect(again.sha256).toBe(artifact.sha256);
  });
});

describe('uploadEach', () => {
  it('runs at most `lanes` uploads at once, largest first, and stops taking files once aborted', async () => {
    const files = [1, 50, 7, 30, 2].map((bytes) => ({ key: `f${bytes}`, file: { bytes } }));
    const started: string[] = [];
    let running = 0;
    let peak = 0;
    await uploadEach(files, 2, new AbortController().signal, async ({ key, file }) => {
      started.push(key);
      peak = Math.max(peak, ++running);
      for (let tick = 0; tick < file.bytes; tick++) await Promise.resolve(); // a transfer as long as the file, on no clock
      running--;
    });
    expect(started.slice(0, 2)).toEqual(['f50', 'f30']);
    expect([...started].sort()).toEqual(['f1', 'f2', 'f30', 'f50', 'f7']);
    expect(peak).toBe(2);

    const abort = new AbortController();
    const seen: string[] = [];
    const run = uploadEach(files, 1, abort.signal, async ({ key }) => {
      seen.push(key);
      abort.abort();
    });
    await expect(run).rejects.toThrow();
    expect(seen).toEqual(['f50']);
  });
});

describe('uploadEach after a failure', () => {
  it('rejects only once every lane has stopped: nothing is still uploading when the caller rolls back', async () => {
    const files = [5, 4, 3, 2, 1].map((bytes) => ({ key: `f${bytes}`, file: { bytes } }));
    let running = 0;
    let runningAtReject = -1;
    const run = uploadEach(files, 3, new AbortController().signal, async ({ key, file }) => {
      running++;
      try {
        if (key === 'f3') throw new Error('boom');
        for (let tick = 0; tick < file.bytes * 3; tick++) await Promise.resolve();
      } finally {
        running--;
      }
    });
    await run.catch(() => (runningAtReject = running));
    expect(runningAtReject).toBe(0);
    await expect(run).rejects.toThrow('boom');
  });
});
