/**
 * Knowing a serving process for ours before signalling it. A recorded pid alone is not enough:
 * once the process exits, the kernel may give its pid to anything. Every process modeldeploy starts
 * carries a random nonce and its deployment in its environment, and its record holds the nonce and
 * the process's start time (/proc/<pid>/stat, field 22): a pid whose start time or nonce differs is
 * someone else's, and is left alone. The same environment lets `down` find a process whose record
 * was never written (a kill right after the spawn).
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';

export const NONCE_VAR = 'MODELDEPLOY_PROCESS';
export const OWNER_VAR = 'MODELDEPLOY_DEPLOYMENT';

export interface ProcessIdentity {
  pid: number;
  nonce: string;
  /** Start time in clock ticks since boot, when it could be read. */
  startTime?: string;
}

export function newNonce(): string {
  return randomBytes(12).toString('hex');
}

/** The environment that marks a process as this deployment's own. */
export function identityEnv(nonce: string, home: string, name: string, stage: string): Record<string, string> {
  return { [NONCE_VAR]: nonce, [OWNER_VAR]: ownerValue(home, name, stage) };
}

function ownerValue(home: string, name: string, stage: string): string {
  return `${home}|${name}|${stage}`;
}

export async function startTimeOf(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  // Fields after the command (which may hold spaces) start after the last ')'; starttime is field 22.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z') return undefined; // exited, awaiting its reaper
  return fields[19];
}

async function environOf(pid: number): Promise<string[]> {
  const text = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
  return text.split('\0');
}

/** Running, and the very process that was started under this identity. */
export async function isOurs(id: ProcessIdentity): Promise<boolean> {
  if (!Number.isInteger(id.pid) || id.pid <= 0) return false;
  const start = await startTimeOf(id.pid);
  if (start === undefined) return false;
  if (id.startTime !== undefined && id.startTime !== start) return false;
  return (await environOf(id.pid)).includes(`${NONCE_VAR}=${id.nonce}`);
}

/** Every live process started for this deployment, whatever the records say. */
export async function processesOf(home: string, name: string, stage: string): Promise<ProcessIdentity[]> {
  const marker = `${OWNER_VAR}=${ownerValue(home, name, stage)}`;
  const found: ProcessIdentity[] = [];
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const environ = await environOf(pid);
    if (!environ.includes(marker)) continue;
    const nonce = environ.find((e) => e.startsWith(`${NONCE_VAR}=`))?.slice(NONCE_VAR.length + 1);
    const startTime = await startTimeOf(pid);
    if (nonce && startTime !== undefined) found.push({ pid, nonce, startTime });
  }
  return found;
}
