/** What the parts of a connected Azure provider share: the connection, the store, and in-memory state of this process. */
import type { Polling } from '../../src/core/provider.js';
import type { Lro } from './arm-call.js';
import type { AzureConnection } from './connection.js';
import type { DatastoreArtifactStore } from './store.js';

export interface AzureRuntime {
  readonly conn: AzureConnection;
  readonly store: DatastoreArtifactStore;
  readonly polling: Polling;
  /**
   * Deployment operations this process started, by `<endpoint>/<deployment>`: `status` polls
   * them, since a failed operation carries the reason that the deployment's GET does not.
   */
  readonly pending: Map<string, Lro<unknown>>;
  /** Scoring URI and key per endpoint. In memory only: the key is never printed or stored. */
  readonly scoring: Map<string, { url: string; key: string }>;
}

/** `<description>`: what the Azure ML studio shows beside each resource. */
export function describeTarget(t: { name: string; stage: string }, revision?: string): string {
  return `modeldeploy ${t.name} (${t.stage})${revision ? `, revision ${revision}` : ''}`;
}
