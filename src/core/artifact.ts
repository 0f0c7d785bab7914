/** A model on disk (or already uploaded), hashed once, addressed by its content. */
export interface ArtifactFile {
  /** Path relative to the artifact root, with '/' separators. */
  path: string;
  bytes: number;
  sha256: string;
}

export interface Artifact {
  kind: 'file' | 'directory' | 'remote';
  /** Absolute local path (file or directory); absent for remote artifacts. */
  path?: string;
  /** The already-uploaded location, for remote artifacts. */
  uri?: string;
  /** Content address: over every file's path, size and hash (or over the URI when remote). */
  sha256: string;
  bytes: number;
  files: ArtifactFile[];
}
