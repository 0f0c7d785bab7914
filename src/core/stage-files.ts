/**
 * What the core keeps about one stage in the provider's store, under one prefix so that the one
 * listing taking the lock needs also says whether a dead run's journal or a kept failure is there:
 *
 *   modeldeploy/<name>/stages/<stage>/lock/<epoch>      the deployment lock (lock.ts)
 *   modeldeploy/<name>/stages/<stage>/journal.json      what a run created so far (journal.ts)
 *   modeldeploy/<name>/stages/<stage>/failed/<revision> a revision kept after its smoke test failed (markers.ts)
 */
import type { StoredObject, Target } from './provider.js';

export function stagePrefix(t: Pick<Target, 'name' | 'stage'>): string {
  return `modeldeploy/${t.name}/stages/${t.stage}/`;
}

export function lockPrefix(t: Pick<Target, 'name' | 'stage'>): string {
  return `${stagePrefix(t)}lock/`;
}

export function journalKey(t: Pick<Target, 'name' | 'stage'>): string {
  return `${stagePrefix(t)}journal.json`;
}

export function failedPrefix(t: Pick<Target, 'name' | 'stage'>): string {
  return `${stagePrefix(t)}failed/`;
}

/** The stage's files as one listing found them. */
export interface StageFiles {
  /** Lock epochs present, highest first. */
  epochs: number[];
  journal: boolean;
  /** Revisions marked failed. */
  failed: Set<string>;
}

const EPOCH = /^lock\/(\d{10})$/;

export function stageFiles(t: Pick<Target, 'name' | 'stage'>, objects: readonly StoredObject[]): StageFiles {
  const prefix = stagePrefix(t);
  const files: StageFiles = { epochs: [], journal: false, failed: new Set() };
  for (const { key } of objects) {
    if (!key.startsWith(prefix)) continue;
    const rest = key.slice(prefix.length);
    const epoch = EPOCH.exec(rest)?.[1];
    if (epoch) files.epochs.push(Number(epoch));
    else if (rest === 'journal.json') files.journal = true;
    else if (rest.startsWith('failed/')) files.failed.add(rest.slice('failed/'.length));
  }
  files.epochs.sort((a, b) => b - a);
  return files;
}
