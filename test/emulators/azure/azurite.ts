import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Azurite's well-known development account (public, documented by Microsoft). */
export const DEV_ACCOUNT_NAME = 'devstoreaccount1';
export const DEV_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteBlob {
  /** Path-style account URL, e.g. http://127.0.0.1:40123/devstoreaccount1 */
  readonly blobEndpoint: string;
  readonly port: number;
  readonly pid: number;
  readonly accountName: string;
  readonly accountKey: string;
  /** Connection string for BlobServiceClient.fromConnectionString. */
  readonly connectionString: string;
  stop(): Promise<void>;
}

export interface AzuriteOptions {
  /** Fixed port; default 0 (Azurite picks one and prints it). */
  port?: number;
  /** Cap on in-memory blob data, MB (Azurite defaults to half the machine's RAM). */
  memoryLimitMb?: number;
  startTimeoutMs?: number;
}

function azuriteBlobMain(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'blob', 'main.js');
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    // Negative pid: the whole process group (the child was started detached, so it leads one).
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Starts Azurite's blob service on 127.0.0.1 with in-memory persistence.
 * --skipApiVersionCheck is required: storage-blob 12.32 sends x-ms-version 2026-04-06, newer than Azurite 3.35 knows.
 * --location is not passed: Azurite 3.35 refuses it together with --inMemoryPersistence; the working directory
 * is a temp dir instead, removed on stop.
 */
export async function startAzurite(options: AzuriteOptions = {}): Promise<AzuriteBlob> {
  const workDir = mkdtempSync(join(tmpdir(), 'modeldeploy-azurite-'));
  const args = [
    azuriteBlobMain(),
    '--blobHost', '127.0.0.1',
    '--blobPort', String(options.port ?? 0),
    '--inMemoryPersistence',
    '--extentMemoryLimit', String(options.memoryLimitMb ?? 512),
    '--skipApiVersionCheck',
    '--disableTelemetry',
  ];
  const child = spawn(process.execPath, args, { cwd: workDir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const onExit = (): void => killGroup(child, 'SIGKILL');
  process.once('exit', onExit);

  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      killGroup(child, 'SIGKILL');
      reject(new Error(`Azurite did not start within ${options.startTimeoutMs ?? 20_000} ms:\n${output}`));
    }, options.startTimeoutMs ?? 20_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const m = /successfully listens on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited early (code ${code}, signal ${signal}):\n${output}`));
    });
  });
  // Keep draining the pipes so Azurite never blocks on a full buffer.
  child.stdout?.resume();
  child.stderr?.resume();

  const blobEndpoint = `http://127.0.0.1:${port}/${DEV_ACCOUNT_NAME}`;
  await waitUntilAnswering(blobEndpoint);

  let stopped: Promise<void> | undefined;
  return {
    blobEndpoint,
    port,
    pid: child.pid ?? -1,
    accountName: DEV_ACCOUNT_NAME,
    accountKey: DEV_ACCOUNT_KEY,
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT_NAME};AccountKey=${DEV_ACCOUNT_KEY};` +
      `BlobEndpoint=${blobEndpoint};`,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        process.removeListener('exit', onExit);
        const done = (): void => {
          clearTimeout(hardKill);
          rmSync(workDir, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null || child.signalCode !== null) return done();
        const hardKill = setTimeout(() => killGroup(child, 'SIGKILL'), 3_000);
        child.once('exit', done);
        killGroup(child, 'SIGTERM');
      });
      return stopped;
    },
  };
}

async function waitUntilAnswering(blobEndpoint: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      // Any HTTP answer (403 without a signature) proves the listener serves requests.
      await fetch(`${blobEndpoint}?comp=list`);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
