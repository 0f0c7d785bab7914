/**
 * Detached serving processes that outlive the CLI: spawned in their own process group (so a
 * user's command and its children stop together), logging to a file, found again by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isOurs, type ProcessIdentity } from './identity.js';

/** `node <entry>.js` from dist; under the TypeScript sources (tests), `node --import tsx <entry>.ts`. */
export function nodeEntry(name: string): string[] {
  const here = fileURLToPath(import.meta.url);
  const ext = path.extname(here);
  const file = path.join(path.dirname(here), `${name}${ext}`);
  if (ext !== '.ts') return [process.execPath, file];
  const tsxDir = path.dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  return [process.execPath, '--import', pathToFileURL(path.join(tsxDir, 'dist', 'loader.mjs')).href, file];
}

export interface SpawnOptions {
  command: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
  /** Open an IPC channel and wait for the child's first message (the router reports its port). */
  ipc?: boolean;
  ipcTimeoutMs?: number;
}

export async function spawnDetached(options: SpawnOptions): Promise<{ pid: number; message?: unknown }> {
  const [file, ...args] = options.command;
  if (!file) throw new Error('empty command');
  // 0600: a serving process may log what it was sent.
  const log = openSync(options.logFile, 'a', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', log, log, ...(options.ipc ? (['ipc'] as const) : [])],
    });
  } finally {
    closeSync(log);
  }
  const pid = await new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid ?? -1));
    child.once('error', (error) => reject(new Error(`cannot start ${file}: ${error.message}`)));
  });
  let message: unknown;
  if (options.ipc) {
    try {
      message = await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${file} did not report within ${options.ipcTimeoutMs ?? 10_000} ms`)), options.ipcTimeoutMs ?? 10_000);
        child.once('message', (m) => {
          clearTimeout(timer);
          resolve(m);
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`${file} exited with code ${code} before it was ready`));
        });
      });
    } catch (error) {
      killGroup(pid, 'SIGKILL');
      throw error;
    }
    child.disconnect();
  }
  child.unref();
  return { pid, ...(message !== undefined ? { message } : {}) };
}

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (exited, not yet reaped by its parent) still answers kill 0.
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/**
 * SIGTERM the process group, wait for a graceful exit, then SIGKILL — only if the process is the
 * one this identity started (a reused pid is someone else's). Gone already is fine.
 */
export async function stopProcess(id: ProcessIdentity, graceMs = 10_000): Promise<void> {
  if (!(await isOurs(id))) return;
  const { pid } = id;
  killGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  killGroup(pid, 'SIGKILL');
  for (let i = 0; i < 40 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export async function tailLog(file: string, lines = 20): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
