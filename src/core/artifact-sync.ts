/**
 * Content-addressed artifacts, once for every provider, over its ArtifactStore:
 *
 *   modeldeploy/<name>/<sha256>/<files>            the model, as its files or one model.tar.gz
 *   modeldeploy/<name>/refs/<stage>/<sha256>       "this stage uses it", written before the upload
 *
 * Stages of a deployment share an artifact (same content, same address); one is deleted when the
 * last stage that refers to it lets go. An unchanged model is never uploaded twice.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createHash } from 'node:crypto';
import type { Artifact } from './artifact.js';
import type { ArtifactRef, ArtifactStore, IncompleteUpload, LocalFile, ProviderContext, Resource, StoredObject, Target } from './provider.js';
import { withRetry } from './retry.js';
import { artifactRoot, tarStream } from '../artifacts/package.js';
import { uploadEach, uploadProgress } from '../artifacts/transfer.js';

export const ARTIFACT_TYPE = 'artifact';
/** An upload a killed run left unfinished (its parts are billed until aborted). */
export const INCOMPLETE_TYPE = 'incomplete-upload';
const SHA = /^[0-9a-f]{64}$/;
/** Artifacts go after everything that uses them. */
const ARTIFACT_ORDER = 1000;

export function artifactPrefix(name: string, sha256: string): string {
  return `modeldeploy/${name}/${sha256}/`;
}

function refsPrefix(name: string): string {
  return `modeldeploy/${name}/refs/`;
}

function refKey(name: string, stage: string, sha256: string): string {
  return `${refsPrefix(name)}${stage}/${sha256}`;
}

export function artifactResource(store: ArtifactStore, name: string, sha256: string): Resource {
  return { type: ARTIFACT_TYPE, id: store.uri(artifactPrefix(name, sha256)), scope: 'artifact', sha256, order: ARTIFACT_ORDER };
}

/**
 * Put the artifact at its content address, uploading only what is missing or different. The
 * stage's reference is written first (and tracked when this run made it), so a `down` of another
 * stage racing this upload sees the artifact in use.
 */
export async function syncArtifact(
  store: ArtifactStore,
  t: Target,
  artifact: Artifact,
  packaging: 'files' | 'tar.gz',
  ctx: ProviderContext,
): Promise<ArtifactRef> {
  if (artifact.kind === 'remote') return { uri: artifact.uri ?? '', sha256: artifact.sha256, uploaded: false, bytes: 0 };
  const retry = <T>(fn: () => Promise<T>) => withRetry(fn, { clock: ctx.clock, signal: ctx.signal });
  const prefix = artifactPrefix(t.name, artifact.sha256);
  const ref = refKey(t.name, t.stage, artifact.sha256);
  const [existing, refs] = await Promise.all([retry(() => store.list(prefix, ctx)), retry(() => store.list(ref, ctx))]);
  if (!refs.some((o) => o.key === ref)) {
    ctx.track(artifactResource(store, t.name, artifact.sha256));
    await retry(() => store.write(ref, `${JSON.stringify({ stage: t.stage, sha256: artifact.sha256 })}\n`, ctx));
  }
  const have = new Map(existing.map((o) => [o.key, o]));
  if (packaging === 'tar.gz') {
    const key = `${prefix}model.tar.gz`;
    const found = have.get(key);
    if (found) return { uri: store.uri(key), sha256: artifact.sha256, uploaded: false, bytes: found.bytes };
    const packed = await packToTemp(artifact);
    try {
      await uploadAll(store, [{ key, file: packed }], ctx);
    } finally {
      await rm(path.dirname(packed.path), { recursive: true, force: true });
    }
    return { uri: store.uri(key), sha256: artifact.sha256, uploaded: true, bytes: packed.bytes };
  }
  const root = artifactRoot(artifact);
  const missing = artifact.files.filter((f) => !matches(have.get(prefix + f.path), f.bytes, f.sha256));
  await uploadAll(
    store,
    missing.map((f) => ({ key: prefix + f.path, file: { path: path.join(root, f.path), bytes: f.bytes, sha256: f.sha256 } })),
    ctx,
  );
  return { uri: store.uri(prefix), sha256: artifact.sha256, uploaded: missing.length > 0, bytes: artifact.bytes };
}

function matches(found: StoredObject | undefined, bytes: number, sha256: string): boolean {
  return found !== undefined && found.bytes === bytes && (found.sha256 === undefined || found.sha256 === sha256);
}

async function uploadAll(store: ArtifactStore, items: Array<{ key: string; file: LocalFile }>, ctx: ProviderContext): Promise<void> {
  if (items.length === 0) return;
  const progress = uploadProgress(ctx, items.reduce((a, i) => a + i.file.bytes, 0));
  await uploadEach(items, store.concurrency, ctx.signal, ({ key, file }) =>
    withRetry(() => store.upload(key, file, { signal: ctx.signal, onProgress: (n) => progress(key, n) }), { clock: ctx.clock, signal: ctx.signal }),
  );
}

/** A deterministic model.tar.gz in a private temporary folder (removed by the caller). */
async function packToTemp(artifact: Artifact): Promise<LocalFile> {
  const dir = await mkdtemp(path.join(tmpdir(), 'modeldeploy-pack-'));
  const file = path.join(dir, 'model.tar.gz');
  const hash = createHash('sha256');
  const tar = tarStream(artifact, 'tar.gz');
  tar.on('data', (chunk: Buffer) => hash.update(chunk));
  await pipeline(tar, createWriteStream(file));
  return { path: file, bytes: (await stat(file)).size, sha256: hash.digest('hex') };
}

/**
 * The artifacts the target's stage refers to, plus any of the deployment's that no stage refers
 * to (left by an interrupted run): `down` removes both, `status` lists them.
 */
export async function artifactInventory(store: ArtifactStore, t: Target, ctx: ProviderContext): Promise<Resource[]> {
  const retry = <T>(fn: () => Promise<T>) => withRetry(fn, { clock: ctx.clock, signal: ctx.signal });
  const root = `modeldeploy/${t.name}/`;
  const [objects, unfinished] = await Promise.all([retry(() => store.list(root, ctx)), store.incomplete ? retry(() => store.incomplete?.(root, ctx) ?? Promise.resolve([])) : Promise.resolve([])]);
  const { present, refs } = layout(objects, t.name);
  const mine = new Set(refs.get(t.stage) ?? []);
  const referenced = new Set([...refs.values()].flat());
  const others = new Set([...refs.entries()].filter(([stage]) => stage !== t.stage).flatMap(([, shas]) => shas));
  const shas = [...new Set([...mine, ...[...present].filter((sha) => !referenced.has(sha))])].sort();
  // An unfinished upload of an artifact another stage still uses may be that stage's upload in progress.
  const incomplete = unfinished.filter((u) => !others.has(u.key.slice(root.length).split('/')[0] ?? ''));
  return [...shas.map((sha) => artifactResource(store, t.name, sha)), ...incomplete.map(incompleteResource)];
}

export function incompleteResource(upload: IncompleteUpload): Resource {
  return { type: INCOMPLETE_TYPE, id: `${upload.key}#${upload.id}`, scope: 'artifact', order: ARTIFACT_ORDER - 1, description: 'an upload a stopped run left unfinished' };
}

export function uploadOf(resource: Resource): IncompleteUpload {
  const at = resource.id.lastIndexOf('#');
  return { key: resource.id.slice(0, at), id: resource.id.slice(at + 1) };
}

/** Let go of one artifact: drop the stage's reference; delete the files once no stage refers to them. */
export async function removeArtifact(store: ArtifactStore, t: Target, sha256: string, ctx: ProviderContext): Promise<void> {
  await store.delete([refKey(t.name, t.stage, sha256)], ctx);
  const { refs } = layout(await store.list(refsPrefix(t.name), ctx), t.name);
  if ([...refs.values()].some((shas) => shas.includes(sha256))) return; // another stage still serves it
  const prefix = artifactPrefix(t.name, sha256);
  for (const upload of (await store.incomplete?.(prefix, ctx)) ?? []) await store.abortIncomplete?.(upload, ctx);
  const objects = await store.list(prefix, ctx);
  if (objects.length > 0) await store.delete(objects.map((o) => o.key), ctx);
}

/** The stage's references other than `keep`: what `up` retires after a promote. */
export async function staleArtifacts(store: ArtifactStore, t: Target, keep: string, ctx: ProviderContext): Promise<string[]> {
  const { refs } = layout(await store.list(refsPrefix(t.name), ctx), t.name);
  return (refs.get(t.stage) ?? []).filter((sha) => sha !== keep);
}

function layout(objects: readonly StoredObject[], name: string): { present: Set<string>; refs: Map<string, string[]> } {
  const present = new Set<string>();
  const refs = new Map<string, string[]>();
  const root = `modeldeploy/${name}/`;
  for (const { key } of objects) {
    if (!key.startsWith(root)) continue;
    const parts = key.slice(root.length).split('/');
    if (parts[0] === 'refs' && parts.length === 3 && SHA.test(parts[2] ?? '')) {
      const stage = parts[1] ?? '';
      refs.set(stage, [...(refs.get(stage) ?? []), parts[2] ?? '']);
    } else if (SHA.test(parts[0] ?? '') && parts.length > 1) {
      present.add(parts[0] ?? '');
    }
  }
  return { present, refs };
}
