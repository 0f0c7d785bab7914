/**
 * Packaging for clouds whose containers want an archive (SageMaker's model.tar.gz): a stream
 * from the tar library, so memory stays flat whatever the model's size. Deterministic (sorted
 * entries, fixed mtime, no owner) so the same model always gives the same bytes.
 */
import type { Readable } from 'node:stream';
import path from 'node:path';
import { create } from 'tar';
import type { Artifact } from '../core/artifact.js';

export type PackageFormat = 'directory' | 'tar' | 'tar.gz';

export function artifactRoot(artifact: Artifact): string {
  if (!artifact.path) throw new Error('a remote artifact has no local files to package');
  return artifact.kind === 'directory' ? artifact.path : path.dirname(artifact.path);
}

export function tarStream(artifact: Artifact, format: 'tar' | 'tar.gz'): Readable {
  return create(
    {
      cwd: artifactRoot(artifact),
      gzip: format === 'tar.gz' ? { level: 6 } : false,
      portable: true,
      mtime: new Date(0),
    },
    artifact.files.map((f) => f.path),
  ) as unknown as Readable;
}
