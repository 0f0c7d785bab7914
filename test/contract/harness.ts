/**
 * What the shared contract suite needs of each provider's emulator. One harness per provider
 * (harness-<id>.ts): the suite runs every scenario against each, through the real provider module
 * and the real SDK over HTTP — the harness only sets the emulator up, watches it and breaks it.
 */
import type { Owner } from '../../src/core/provider.js';

/** The provider-specific part of a deploy.yaml; the suite adds name, stage, smoke and the model folder. */
export interface DeployFixture {
  /** Top-level fields: provider, region, model (framework, version, command…; not path), instance, the settings block. */
  yaml: Record<string, unknown>;
  /** The model folder's files (path → content). The suite may add a `weights.txt` to make a new artifact. */
  files: Record<string, string>;
}

/** A request the model answered: which revision served it, and whether the endpoint routed it there. */
export interface Invocation {
  revision: string;
  /** `revision`: addressed to that revision (a header, its own port, a smoke endpoint); `endpoint`: as the endpoint routes traffic. */
  via: 'endpoint' | 'revision';
}

/** One thing in the emulator. `owner` is read from its tags or labels; absent for kinds that take none (objects, files). */
export interface EmulatorResource {
  kind: string;
  id: string;
  owner?: Owner;
}

/** One request the emulator received: `write` changes something; `upload` writes model bytes. */
export interface EmulatorCall {
  kind: 'read' | 'write' | 'upload';
  what: string;
}

export interface ContractHarness {
  readonly id: string;
  /** Start the emulators (once per provider). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Back to empty between scenarios: state, call log, faults, held operations, answers. */
  reset(): Promise<void>;
  /** The environment a user would set to reach the emulators (documented settings only), with fast polling. */
  env(): NodeJS.ProcessEnv;
  fixture(): DeployFixture;
  /** How the deployed model answers; the default answers every revision `{status: 200, body: {predictions: [0]}}`. */
  answer(fn: (revision: string) => { status: number; body: unknown }): void;
  /** Invocations the model served since reset, in order. */
  invocations(): Invocation[];
  /** Requests since the last clearCalls (or reset). */
  calls(): Promise<EmulatorCall[]>;
  clearCalls(): Promise<void>;
  /** Everything in the emulator, bucket contents included (the bucket itself and planted foreign things excluded). */
  listing(): Promise<EmulatorResource[]>;
  /** An endpoint named `base` that modeldeploy did not make; returns a function that describes it, to prove it untouched. */
  plantForeignEndpoint(base: string): Promise<() => Promise<unknown>>;
  /** Throttle (or answer 503 to) every other request from now on, until reset: each first try fails. */
  throttle(): void;
  /** The next revision to be provisioned fails (container never healthy / provisioning Failed). */
  failNextDeploy(): void;
  /** Keep long-running work (provisioning, deletion) in progress until `settle`; without it, it finishes on the first look. */
  holdOperations(): void;
  /** Finish everything still in progress (and stop holding), as the cloud eventually would. */
  settle(): Promise<void>;
}
