/**
 * The local provider's "cloud": everything under MODELDEPLOY_HOME.
 *
 *   artifacts/modeldeploy/<name>/…                         the core's artifact layout (FolderStore)
 *   deployments/<name>/<stage>/owner.json                   whose deployment this folder is (written first)
 *   deployments/<name>/<stage>/endpoint.json                the router: pid, nonce, port, token, active revision
 *   deployments/<name>/<stage>/revisions/<revision>.json    one serving process each (pid, nonce, start time)
 *   deployments/<name>/<stage>/logs/                        router.log, <revision>.log
 */
import { mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Owner } from '../../src/core/provider.js';
import { ownerOf } from '../../src/core/target.js';

export interface EndpointRecord {
  name: string;
  stage: string;
  /** 0 until the router has started (the record is written first, so no process escapes it). */
  pid: number;
  nonce: string;
  startTime?: string;
  port: number;
  token: string;
  active?: { revision: string; port: number };
  tags: Record<string, string>;
  createdAt: string;
}

export interface RevisionRecord {
  revision: string;
  /** 0 until the process has started (the record is written first, so no process escapes it). */
  pid: number;
  nonce: string;
  startTime?: string;
  port: number;
  sha256: string;
  logFile: string;
  startedAt: number;
  startupMs: number;
}

export class LocalStore {
  constructor(readonly home: string) {}

  deploymentDir(name: string, stage: string): string {
    return path.join(this.home, 'deployments', name, stage);
  }
  endpointFile(name: string, stage: string): string {
    return path.join(this.deploymentDir(name, stage), 'endpoint.json');
  }
  revisionFile(name: string, stage: string, revision: string): string {
    return path.join(this.deploymentDir(name, stage), 'revisions', `${revision}.json`);
  }
  logFile(name: string, stage: string, what: string): string {
    return path.join(this.deploymentDir(name, stage), 'logs', `${what}.log`);
  }
  private ownerFile(name: string, stage: string): string {
    return path.join(this.deploymentDir(name, stage), 'owner.json');
  }

  /**
   * Whose the deployment folder is: undefined when there is none; `{}` when something not made by
   * modeldeploy occupies it. A folder from before owner.json is known by its endpoint's tags.
   */
  async owner(name: string, stage: string): Promise<Owner | undefined> {
    const entries = await readdir(this.deploymentDir(name, stage)).catch(() => undefined);
    if (!entries) return undefined;
    const marker = await readJson<Record<string, string>>(this.ownerFile(name, stage));
    if (marker) return ownerOf(marker);
    const endpoint = await this.readEndpoint(name, stage);
    return endpoint ? ownerOf(endpoint.tags ?? {}) : {};
  }
  /** Claim the folder for this deployment; the first write of every deploy. */
  async claim(name: string, stage: string, tags: Record<string, string>): Promise<void> {
    await writeJson(this.ownerFile(name, stage), tags);
  }

  async readEndpoint(name: string, stage: string): Promise<EndpointRecord | undefined> {
    return readJson<EndpointRecord>(this.endpointFile(name, stage));
  }
  async writeEndpoint(record: EndpointRecord): Promise<void> {
    await writeJson(this.endpointFile(record.name, record.stage), record);
  }
  async readRevision(name: string, stage: string, revision: string): Promise<RevisionRecord | undefined> {
    return readJson<RevisionRecord>(this.revisionFile(name, stage, revision));
  }
  async writeRevision(name: string, stage: string, record: RevisionRecord): Promise<void> {
    await writeJson(this.revisionFile(name, stage, record.revision), record);
  }
  async revisions(name: string, stage: string): Promise<RevisionRecord[]> {
    const dir = path.join(this.deploymentDir(name, stage), 'revisions');
    const files = await readdir(dir).catch(() => [] as string[]);
    const records = await Promise.all(files.filter((f) => f.endsWith('.json')).map((f) => readJson<RevisionRecord>(path.join(dir, f))));
    return records.filter((r): r is RevisionRecord => r !== undefined);
  }
  async deployments(): Promise<Array<{ name: string; stage: string }>> {
    const root = path.join(this.home, 'deployments');
    const out: Array<{ name: string; stage: string }> = [];
    for (const name of await readdir(root).catch(() => [] as string[])) {
      for (const stage of await readdir(path.join(root, name)).catch(() => [] as string[])) out.push({ name, stage });
    }
    return out;
  }

  /** Once neither a router nor a revision is left, the folder (owner mark and logs) goes too. */
  async prune(name: string, stage: string): Promise<void> {
    const dir = this.deploymentDir(name, stage);
    if ((await this.readEndpoint(name, stage)) || (await this.revisions(name, stage)).length > 0) return;
    const owner = await this.owner(name, stage);
    if (owner && !owner.deployment) return; // not ours: leave it as it is
    await rm(dir, { recursive: true, force: true });
    await rmdir(path.join(this.home, 'deployments', name)).catch(() => undefined);
  }
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Write-then-rename: a reader never sees half a record. 0600: the router token is in it. */
async function writeJson(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(value, null, 2), { mode: 0o600 });
  await rename(tmp, file);
}
