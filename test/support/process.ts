/** A serving process started by a test, with its output captured. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export interface Captured {
  proc: ChildProcess;
  output: { stdout: string; stderr: string };
}

export function startCaptured(args: string[], cwd: string, env: Record<string, string>): Captured {
  const output = { stdout: '', stderr: '' };
  const proc = spawn(process.execPath, args, { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => (output.stdout += d));
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => (output.stderr += d));
  return { proc, output };
}

export async function exitOf(proc: ChildProcess): Promise<number | null> {
  if (proc.exitCode !== null) return proc.exitCode;
  const [code] = (await once(proc, 'exit')) as [number | null];
  return code;
}
