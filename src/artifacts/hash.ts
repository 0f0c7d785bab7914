/**
 * Content addressing. Each file is hashed once (sha256, streamed) and the hash is cached by
 * path, size, mtime and inode; the artifact's address is the hash of its sorted file list.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Artifact, ArtifactFile } from '../core/artifact.js';
import { UsageError } from '../core/errors.js';
import { scanModelFolder } from './scan.js';

const CACHE_VERSION = 1;

interface CacheEntry {
  size: number;
  mtimeMs: number;
  ino: number;
  sha256: string;
}

/** Hashes in a JSON file; a corrupt or missing file is just an empty cache. */
export class HashCache {
  private entries = new Map<string, CacheEntry>();
  private dirty = false;
  hits = 0;
  misses = 0;

  private constructor(private readonly file: string | undefined) {}

  static async open(file: string | undefined): Promise<HashCache> {
    const cache = new HashCache(file);
    if (!file) return cache;
    try {
      const data = JSON.parse(await readFile(file, 'utf8')) as { version?: number; entries?: Record<string, CacheEntry> };
      if (data.version === CACHE_VERSION && data.entries) cache.entries = new Map(Object.entries(data.entries));
    } catch {
      // No cache yet, or unreadable: start empty.
    }
    return cache;
  }

  async hashFile(file: string, onBytes: (n: number) => void = () => undefined): Promise<{ sha256: string; bytes: number }> {
    const info = await stat(file);
    const cached = this.entries.get(file);
    if (cached && cached.size === info.size && cached.mtimeMs === info.mtimeMs && cached.ino === info.ino) {
      this.hits++;
      onBytes(info.size);
      return { sha256: cached.sha256, bytes: info.size };
    }
    this.misses++;
    const sha256 = await sha256File(file, onBytes);
    // If the file changed while we read it, do not cache a hash of a mix of both versions.
    const after = await stat(file);
    if (after.size === info.size && after.mtimeMs === info.mtimeMs) {
      this.entries.set(file, { size: info.size, mtimeMs: info.mtimeMs, ino: info.ino, sha256 });
      this.dirty = true;
    }
    return { sha256, bytes: info.size };
  }

  async save(): Promise<void> {
    if (!this.file || !this.dirty) return;
    await mkdir(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ version: CACHE_VERSION, entries: Object.fromEntries(this.entries) }));
    await rename(tmp, this.file);
    this.dirty = false;
  }
}

export async function sha256File(file: string, onBytes: (n: number) => void = () => undefined): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    onBytes((chunk as Buffer).length);
  }
  return hash.digest('hex');
}

/** Hash a model file or directory into an Artifact; `onBytes` hears of every chunk hashed (or found in the cache). */
export async function hashArtifact(modelPath: string, cache: HashCache, onBytes?: (n: number) => void): Promise<Artifact> {
  const info = await stat(modelPath);
  const root = info.isDirectory() ? modelPath : path.dirname(modelPath);
  let relPaths = [path.basename(modelPath)];
  if (info.isDirectory()) {
    const scan = await scanModelFolder(modelPath);
    if (scan.problems.length > 0) {
      throw new UsageError('ModelFolderInvalid', `${modelPath}: ${scan.problems.join('; ')}`, { hint: 'remove or replace those files: only regular files inside the model folder are uploaded' });
    }
    relPaths = scan.files;
  }
  const files: ArtifactFile[] = [];
  // Two at a time: enough to overlap I/O with hashing on a 2-core machine.
  let next = 0;
  const worker = async () => {
    while (next < relPaths.length) {
      const index = next++;
      const rel = relPaths[index] as string;
      const { sha256, bytes } = await cache.hashFile(path.join(root, rel), onBytes);
      files[index] = { path: rel, bytes, sha256 };
    }
  };
  await Promise.all([worker(), worker()]);
  const address = createHash('sha256');
  for (const f of files) address.update(`${f.path}\0${f.bytes}\0${f.sha256}\n`);
  return {
    kind: info.isDirectory() ? 'directory' : 'file',
    path: modelPath,
    sha256: address.digest('hex'),
    bytes: files.reduce((sum, f) => sum + f.bytes, 0),
    files,
  };
}

export function remoteArtifact(uri: string): Artifact {
  return { kind: 'remote', uri, sha256: createHash('sha256').update(uri).digest('hex'), bytes: 0, files: [] };
}
