/**
 * The local provider's "cloud": everything under MODELDEPLOY_HOME.
 *
 *   store/<sha256>/                          content-addressed artifacts, shared between deployments
 *   deployments/<name>/<stage>/endpoint.json the router: pid, port, token, active revision
 *   deployments/<name>/<stage>/revisions/<revision>.json   one serving process each
 *   deployments/<name>/<stage>/artifacts/<sha256>           a reference that keeps store/<sha256> alive
 *   deployments/<name>/<stage>/logs/                        router.log, <revision>.log
 */
import { mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface EndpointRecord {
  name: string;
  stage: string;
  pid: number;
  port: number;
  token: string;
  active?: { revision: string; port: number };
  tags: Record<string, string>;
  createdAt: string;
}

export interface RevisionRecord {
  revision: string;
  pid: number;
  port: number;
  sha256: string;
  command: string[];
  logFile: string;
  startedAt: number;
  startupMs: number;
}

export class LocalStore {
  constructor(readonly home: string) {}

  artifactDir(sha256: string): string {
    return path.join(this.home, 'store', sha256);
  }
  deploymentDir(name: string, stage: string): string {
    return path.join(this.home, 'deployments', name, stage);
  }
  endpointFile(name: string, stage: string): string {
    return path.join(this.deploymentDir(name, stage), 'endpoint.json');
  }
  revisionFile(name: string, stage: string, revision: string): string {
    return path.join(this.deploymentDir(name, stage), 'revisions', `${revision}.json`);
  }
  refFile(name: string, stage: string, sha256: string): string {
    return path.join(this.deploymentDir(name, stage), 'artifacts', sha256);
  }
  logFile(name: string, stage: string, what: string): string {
    return path.join(this.deploymentDir(name, stage), 'logs', `${what}.log`);
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
  async refs(name: string, stage: string): Promise<string[]> {
    return readdir(path.join(this.deploymentDir(name, stage), 'artifacts')).catch(() => [] as string[]);
  }
  /** Every deployment that holds a reference to this artifact. */
  async referencedAnywhere(sha256: string): Promise<boolean> {
    const root = path.join(this.home, 'deployments');
    for (const name of await readdir(root).catch(() => [] as string[])) {
      for (const stage of await readdir(path.join(root, name)).catch(() => [] as string[])) {
        if ((await this.refs(name, stage)).includes(sha256)) return true;
      }
    }
    return false;
  }
  async deployments(): Promise<Array<{ name: string; stage: string }>> {
    const root = path.join(this.home, 'deployments');
    const out: Array<{ name: string; stage: string }> = [];
    for (const name of await readdir(root).catch(() => [] as string[])) {
      for (const stage of await readdir(path.join(root, name)).catch(() => [] as string[])) out.push({ name, stage });
    }
    return out;
  }

  /** Remove empty folders of a deployment, so a torn-down deployment leaves no trace. */
  async prune(name: string, stage: string): Promise<void> {
    const dir = this.deploymentDir(name, stage);
    for (const sub of ['revisions', 'artifacts']) await rmdir(path.join(dir, sub)).catch(() => undefined);
    const left = await readdir(dir).catch(() => undefined);
    if (left && left.every((f) => f === 'logs')) {
      const logs = await readdir(path.join(dir, 'logs')).catch(() => [] as string[]);
      if (logs.length === 0 || left.length === 1) {
        // Logs go with the last resource: nothing of the deployment is left to explain.
        await rm(dir, { recursive: true, force: true });
      }
    }
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
