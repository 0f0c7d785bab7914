/**
 * What the adapter's parts share: the connection (clients on first use), the API wrappers, the
 * polling pace fixed at connect, and the one lookup every read path starts from — the endpoint
 * and its tags — coalesced while in flight, so `status` (read ∥ inventory) asks SageMaker once.
 */
import type { Polling, Target } from '../../src/core/provider.js';
import type { AwsConnection } from './connection.js';
import { SageMakerApi, type EndpointInfo } from './sagemaker-api.js';
import { ScalingApi } from './scaling-api.js';

export interface FoundEndpoint {
  endpoint: EndpointInfo;
  tags: Record<string, string>;
}

/** Endpoint states in which SageMaker is still working (nothing may change it meanwhile). */
export const IN_PROGRESS = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'Deleting']);

export class AwsServices {
  readonly sagemaker: SageMakerApi;
  readonly scaling: ScalingApi;
  readonly polling: Polling;
  private readonly inflight = new Map<string, { signal: AbortSignal; found: Promise<FoundEndpoint | undefined> }>();

  constructor(readonly connection: AwsConnection) {
    this.sagemaker = new SageMakerApi(connection);
    this.scaling = new ScalingApi(connection);
    this.polling = connection.polling;
  }

  get region(): string {
    return this.connection.settings.region;
  }

  /** The endpoint named `name` and its tags; undefined when there is none. Shared by concurrent callers with the same signal. */
  findEndpoint(name: string, signal: AbortSignal): Promise<FoundEndpoint | undefined> {
    const pending = this.inflight.get(name);
    if (pending && pending.signal === signal) return pending.found;
    const found = (async () => {
      const endpoint = await this.sagemaker.describeEndpoint(name, signal);
      if (!endpoint) return undefined;
      return { endpoint, tags: await this.sagemaker.tags(endpoint.arn, signal) };
    })();
    const entry = { signal, found };
    this.inflight.set(name, entry);
    const forget = () => {
      if (this.inflight.get(name) === entry) this.inflight.delete(name);
    };
    found.then(forget, forget);
    return found;
  }

  /** Where the target's region lives, for messages. */
  where(t: Pick<Target, 'region'>): string {
    return `SageMaker (${t.region ?? this.region})`;
  }
}
