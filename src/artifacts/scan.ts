/**
 * What a model folder holds, as modeldeploy will read it: every regular file under it, sorted,
 * with '/'-separated relative paths. A symbolic link is followed only while it stays inside the
 * folder; one that dangles, loops or points outside is a problem, never followed out (a link to
 * /etc/shadow must not be uploaded). Used by validate (to report) and by hashing (to refuse).
 */
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

export interface ModelScan {
  files: string[];
  /** One line per file that cannot be part of the artifact, naming it and why. */
  problems: string[];
}

export async function scanModelFolder(root: string): Promise<ModelScan> {
  const realRoot = await realpath(root);
  const files: string[] = [];
  const problems: string[] = [];
  const inside = (p: string) => p === realRoot || p.startsWith(realRoot + path.sep);

  async function walk(rel: string, real: string, seen: ReadonlySet<string>): Promise<void> {
    const entries = await readdir(path.join(root, rel), { withFileTypes: true });
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      const abs = path.join(root, child);
      if (entry.isDirectory()) {
        await walk(child, path.join(real, entry.name), new Set([...seen, path.join(real, entry.name)]));
      } else if (entry.isFile()) {
        files.push(child);
      } else if (entry.isSymbolicLink()) {
        let target: string;
        try {
          target = await realpath(abs);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          problems.push(code === 'ELOOP' ? `${child} is a symbolic link that loops` : `${child} is a symbolic link to nothing (dangling)`);
          continue;
        }
        if (!inside(target)) {
          problems.push(`${child} is a symbolic link that points outside the model folder`);
          continue;
        }
        const info = await stat(target);
        if (info.isFile()) files.push(child);
        else if (info.isDirectory()) {
          if (seen.has(target)) problems.push(`${child} is a symbolic link that loops (back to ${path.relative(realRoot, target) || '.'})`);
          else await walk(child, target, new Set([...seen, target]));
        } else problems.push(`${child} is a symbolic link to something that is not a regular file`);
      } else {
        problems.push(`${child} is not a regular file (${kindOf(await lstat(abs))})`);
      }
    }
  }
  await walk('', realRoot, new Set([realRoot]));
  return { files: files.sort(), problems };
}

function kindOf(info: import('node:fs').Stats): string {
  if (info.isFIFO()) return 'a named pipe';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  return 'not a file';
}
