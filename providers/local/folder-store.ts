/**
 * The local provider's artifact store: a folder ($MODELDEPLOY_HOME/artifacts) whose file paths
 * are the keys. Files are copied in (copy_file_range: no bytes through JS) to a private name,
 * then renamed, so a reader never sees half a file.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ProviderError } from '../../src/core/errors.js';
import type { ArtifactStore, LocalFile, StoreContext, StoredObject } from '../../src/core/provider.js';

export class FolderStore implements ArtifactStore {
  readonly concurrency = 4;

  constructor(readonly root: string) {}

  uri(key: string): string {
    const href = pathToFileURL(this.path(key)).href;
    return key.endsWith('/') && !href.endsWith('/') ? `${href}/` : href;
  }

  /** The file (or folder, for a prefix) behind a key. */
  path(key: string): string {
    const file = path.resolve(this.root, key);
    if (file !== this.root && !file.startsWith(this.root + path.sep)) throw new Error(`key ${key} leaves the store`);
    return file;
  }

  async list(prefix: string, ctx: StoreContext): Promise<StoredObject[]> {
    ctx.signal.throwIfAborted();
    const dir = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    const entries = await readdir(this.path(dir), { recursive: true, withFileTypes: true }).catch(() => []);
    const out: StoredObject[] = [];
    for (const e of entries) {
      if (!e.isFile() || e.name.includes('.tmp-')) continue;
      const key = path.relative(this.root, path.join(e.parentPath, e.name)).split(path.sep).join('/');
      if (!key.startsWith(prefix)) continue;
      const info = await stat(path.join(e.parentPath, e.name)).catch(() => undefined);
      if (info) out.push({ key, bytes: info.size });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  async upload(key: string, file: LocalFile, ctx: StoreContext & { onProgress(loaded: number): void }): Promise<void> {
    ctx.signal.throwIfAborted();
    await this.place(key, (tmp) => copyFile(file.path, tmp));
    ctx.onProgress(file.bytes);
  }

  async write(key: string, body: string, ctx: StoreContext): Promise<void> {
    ctx.signal.throwIfAborted();
    await this.place(key, (tmp) => writeFile(tmp, body));
  }

  async create(key: string, body: string, ctx: StoreContext): Promise<boolean> {
    ctx.signal.throwIfAborted();
    const target = this.path(key);
    await mkdir(path.dirname(target), { recursive: true });
    try {
      // O_EXCL: of two processes creating the same file, exactly one succeeds.
      await writeFile(target, body, { flag: 'wx', mode: 0o600 });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw storeError('create', key, error as NodeJS.ErrnoException);
    }
  }

  async read(key: string, ctx: StoreContext): Promise<string | undefined> {
    ctx.signal.throwIfAborted();
    try {
      return await readFile(this.path(key), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw storeError('read', key, error as NodeJS.ErrnoException);
    }
  }

  async delete(keys: readonly string[], _ctx: StoreContext): Promise<void> {
    for (const key of keys) {
      await unlink(this.path(key)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw storeError('delete', key, error);
      });
      // Empty folders go with their last file, so a removed artifact leaves no trace.
      for (let dir = path.dirname(this.path(key)); dir.startsWith(this.root + path.sep); dir = path.dirname(dir)) {
        if (!(await rmdir(dir).then(() => true, () => false))) break;
      }
    }
  }

  private async place(key: string, fill: (tmp: string) => Promise<void>): Promise<void> {
    const target = this.path(key);
    const tmp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await mkdir(path.dirname(target), { recursive: true });
      await fill(tmp);
      await rename(tmp, target);
    } catch (error) {
      await rm(tmp, { force: true });
      throw storeError('write', key, error as NodeJS.ErrnoException);
    }
  }
}

function storeError(operation: string, key: string, error: NodeJS.ErrnoException): ProviderError {
  return new ProviderError('ArtifactStoreFailed', `cannot ${operation} ${key} in the local store: ${error.message}`, {
    category: error.code === 'EACCES' || error.code === 'EPERM' ? 'auth' : error.code === 'ENOSPC' ? 'quota' : 'failed',
    cause: error,
    hint: 'check that MODELDEPLOY_HOME (default ~/.modeldeploy) is writable and has space',
  });
}
