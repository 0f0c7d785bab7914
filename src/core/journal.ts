/**
 * What an `up` has created so far, kept in the provider's store as it grows (beside the lock, so
 * any machine sees it): if the run dies before it can roll back — a second signal, SIGKILL, a lost
 * runner — the next `up` or `down` of the deployment finishes the rollback from it.
 *
 *   modeldeploy/<name>/stages/<stage>/journal.json   {revision, previous?, trafficMoved, resources[]}
 */
import type { ArtifactStore, Resource, Target } from './provider.js';
import { journalKey } from './stage-files.js';

export interface JournalRecord {
  revision: string;
  /** The revision that served before this run, to put back if this run moved traffic. */
  previous?: string;
  trafficMoved: boolean;
  resources: Resource[];
  updated: string;
}

export { journalKey };

export class Journal {
  readonly resources: Resource[] = [];
  private trafficMoved = false;
  /** Writes go one after another, each with everything so far. */
  private writing: Promise<void> = Promise.resolve();
  private failure: Error | undefined;

  constructor(
    private readonly store: ArtifactStore,
    private readonly t: Pick<Target, 'name' | 'stage'>,
    private readonly revision: string,
    private readonly previous: string | undefined,
  ) {}

  track(resource: Resource): void {
    this.resources.push(resource);
    this.persist();
  }

  /** The new revision may take traffic from here on (deploy moved it, or promote was called). */
  movesTraffic(): void {
    if (this.trafficMoved) return;
    this.trafficMoved = true;
    this.persist();
  }

  get movedTraffic(): boolean {
    return this.trafficMoved;
  }

  /** Wait until what is known is written (a run that dies after this leaves a complete journal). */
  async flush(): Promise<void> {
    await this.writing;
    if (this.failure) throw this.failure;
  }

  /** The run finished (or rolled back): nothing is left to undo. */
  async clear(signal: AbortSignal): Promise<void> {
    await this.writing;
    await this.store.delete([journalKey(this.t)], { signal });
  }

  private persist(): void {
    const record: JournalRecord = {
      revision: this.revision,
      ...(this.previous ? { previous: this.previous } : {}),
      trafficMoved: this.trafficMoved,
      resources: [...this.resources],
      updated: new Date().toISOString(),
    };
    // Not under the run's signal: an interrupted run must still get its journal written.
    this.writing = this.writing.then(() =>
      this.store.write(journalKey(this.t), JSON.stringify(record), { signal: AbortSignal.timeout(30_000) }).catch((error: unknown) => {
        this.failure = error instanceof Error ? error : new Error(String(error));
      }),
    );
  }
}

/** A journal a dead run left, if any. */
export async function leftJournal(store: ArtifactStore, t: Pick<Target, 'name' | 'stage'>, signal: AbortSignal): Promise<JournalRecord | undefined> {
  const text = await store.read(journalKey(t), { signal });
  if (!text) return undefined;
  try {
    const record = JSON.parse(text) as JournalRecord;
    return Array.isArray(record.resources) ? record : undefined;
  } catch {
    return undefined;
  }
}
