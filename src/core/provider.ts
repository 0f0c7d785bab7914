/**
 * The provider contract (v2). The core owns the lifecycle and every guarantee — the create /
 * update / unchanged decision, the ownership guard, capability checks, content-addressed artifact
 * sync, polling, rollback and teardown. A provider owns one cloud's API and nothing that could be
 * written once. Inputs and outputs are plain data (they survive a JSON round trip): no SDK type
 * and no class instance crosses this boundary.
 *
 * A provider is a folder under providers/ whose `settings.ts` default-exports a
 * {@link ProviderDescriptor} (cheap: its deploy.yaml block, loaded for every deploy.yaml) and whose
 * `index.ts` default-exports a {@link ProviderModule} (pure rules; `connect` loads the adapter).
 * One registry line names both; src/ never names a provider.
 */
import type { ZodType } from 'zod';
import type { Clock } from './clock.js';
import type { ProgressSink } from './events.js';
import type { DeploymentSpec, Framework } from './spec.js';

/** What a provider can do. The core reads every field: at validate time, or to drive `up`. */
export interface Capabilities {
  /**
   * How the core reaches a new revision before it takes traffic:
   * - `direct`: the endpoint routes a request to a named revision (a router port, a header);
   * - `shadowEndpoint`: only through something the provider builds for it when `DeployRequest.reach`
   *   asks (a short-lived endpoint where the revision takes all traffic);
   * - `none`: `deploy` moves the traffic itself; the core smoke-tests the endpoint, and undoes a
   *   failed smoke test by promoting the previous revision again.
   */
  reachRevision: 'direct' | 'shadowEndpoint' | 'none';
  /** `separate`: `instance.accelerator` is taken; `inType`: GPUs come with the instance type; `none`: no GPUs. */
  accelerators: 'separate' | 'inType' | 'none';
  /** With `inType`: a GPU instance type of this provider, for the hint (`ml.g5.xlarge`). */
  gpuInstanceExample?: string;
  /** Whether `instance.autoscaling` is honoured. */
  autoscaling: boolean;
  /** The most instances one revision may run (`instance.count`, `autoscaling.max`). */
  maxInstances: number;
  /** URI schemes `model.uri` may use (an artifact that is already uploaded); empty: model.path only. */
  artifactSchemes: readonly string[];
  /** Whether the serving logs of a revision can be read. */
  logs: boolean;
}

/** How often to poll a wait: from initialMs, backing off to maxMs. Fixed at connect. */
export interface Polling {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** Everything a provider may use besides the target: passed in per call, never global. */
export interface ProviderContext {
  signal: AbortSignal;
  clock: Clock;
  progress: ProgressSink;
  /**
   * Call as soon as a resource exists — before waiting for it, and where the cloud allows before
   * the call that creates it returns — so a failed or interrupted run can roll it back.
   */
  track(resource: Resource): void;
}

/** Whose a resource is, read from its tags or labels. */
export interface Owner {
  deployment?: string;
  stage?: string;
}

/**
 * One deployment and stage, as every provider call sees it. Built once by the core
 * (`targetOf`); providers derive their resource names from `base` and revision ids.
 */
export interface Target<S = unknown> {
  readonly name: string;
  readonly stage: string;
  /** `<name>-<stage>`. */
  readonly base: string;
  readonly region: string | undefined;
  readonly spec: DeploymentSpec;
  /** The provider's own deploy.yaml block, as its descriptor's schema parsed it. */
  readonly settings: S;
  /**
   * The tags every resource carries: the user's, then modeldeploy's ownership tags
   * (`modeldeploy:deployment`, `modeldeploy:stage`). A provider whose cloud spells keys another way
   * translates them; `revisionTags` adds `modeldeploy:revision`.
   */
  readonly tags: Readonly<Record<string, string>>;
}

/** What `read` finds: the endpoint of the target, if one exists under its name. */
export interface Current {
  /** From the endpoint's tags; the core refuses to change an endpoint that is not this target's. */
  owner: Owner;
  /** The revision taking (most of) the traffic; absent when the endpoint serves none. */
  revision?: string;
  /** The endpoint as a whole (`ready` means it answers requests). */
  state: EndpointState;
  /** Display-only facts for `plan` (an ARN, the predict URL…). */
  details?: Record<string, unknown>;
}

export type EndpointState =
  | { state: 'pending'; detail?: string }
  | { state: 'ready'; url?: string }
  | { state: 'failed'; reason: string; logsHint?: string }
  | { state: 'absent' };

/** Where the model bytes live once synced, in the provider's own addressing. */
export interface ArtifactRef {
  uri: string;
  sha256: string;
  /** False when the content address already held the artifact (or it is a remote `model.uri`). */
  uploaded: boolean;
  bytes: number;
}

export interface DeployRequest {
  revision: string;
  artifact: ArtifactRef;
  /**
   * The core will invoke this revision directly before promoting it (a smoke test will run). A
   * `shadowEndpoint` provider builds what reaching it takes only then.
   */
  reach: boolean;
  /** The revision serving now, on an update. */
  previous?: string;
}

export interface InvokeRequest {
  body: Uint8Array;
  contentType: string;
  accept?: string;
}

export interface InvokeResponse {
  status: number;
  contentType?: string;
  body: Uint8Array;
  /** Round-trip time measured by the provider around the call only. */
  latencyMs: number;
}

/** The endpoint (traffic split as the cloud routes it) or one revision directly. */
export type InvokeTarget = { kind: 'endpoint' } | { kind: 'revision'; revision: string };

export type ResourceScope = 'endpoint' | 'revision' | 'artifact' | 'scaling';

/** Something modeldeploy created, found again by name and tags without any local state. */
export interface Resource {
  /** Provider-specific type, e.g. `sagemaker:endpoint-config`, `local:revision`. */
  type: string;
  /** The provider's own id: a name, an ARN, a path. */
  id: string;
  scope: ResourceScope;
  /** The revision it belongs to, for revision-scoped resources. */
  revision?: string;
  /** The content address it holds, for artifacts (which the core manages). */
  sha256?: string;
  /** Deletion order: lower goes first (endpoint before configs before models). */
  order: number;
  description?: string;
}

/** A resource `inventory` found, with whose it is; the core keeps the target's own. */
export interface FoundResource extends Resource {
  owner: Owner;
}

export interface DeploymentSummary {
  name: string;
  stage: string;
  revision?: string;
  state: EndpointState['state'];
  url?: string;
}

/** An object in an artifact store. */
export interface StoredObject {
  key: string;
  bytes: number;
  /** The sha256 recorded when it was uploaded, where the store keeps metadata. */
  sha256?: string;
}

/** A file on disk to upload. */
export interface LocalFile {
  path: string;
  bytes: number;
  sha256: string;
}

export interface StoreContext {
  signal: AbortSignal;
}

/**
 * A provider's object store (S3, Cloud Storage, a blob container, a folder). The core lays out
 * and syncs artifacts in it — `modeldeploy/<name>/<sha256>/…`, and a reference per stage that
 * uses one — so every provider gets the same content addressing, sharing and retirement.
 * Failures are ProviderErrors (retryable where a retry can help).
 */
export interface ArtifactStore {
  /** Files uploaded at once. */
  readonly concurrency: number;
  /** The address the provider's resources use for a key or a key prefix. */
  uri(key: string): string;
  /** Every object whose key starts with prefix, however deep. */
  list(prefix: string, ctx: StoreContext): Promise<StoredObject[]>;
  /** Stream a file to key (multipart where large; memory bounded), recording its sha256. */
  upload(key: string, file: LocalFile, ctx: StoreContext & { onProgress(loaded: number): void }): Promise<void>;
  /** A small object: a reference marker, a manifest, a lock's heartbeat. */
  write(key: string, body: string, ctx: StoreContext): Promise<void>;
  /**
   * Write a small object only if no object has that key: true when this call created it, false
   * when one was there (S3 `If-None-Match: *`, GCS `ifGenerationMatch=0`, a blob's `If-None-Match`,
   * an exclusive file). Two machines racing for a key: exactly one gets true.
   */
  create(key: string, body: string, ctx: StoreContext): Promise<boolean>;
  /** A small object's content, or undefined when there is none. */
  read(key: string, ctx: StoreContext): Promise<string | undefined>;
  /** Delete these keys; one already gone is success. */
  delete(keys: readonly string[], ctx: StoreContext): Promise<void>;
  /**
   * Uploads under prefix that were started and never finished, where the store keeps (and bills)
   * their parts until told otherwise (S3 multipart uploads). Stores whose unfinished uploads expire
   * on their own leave this out.
   */
  incomplete?(prefix: string, ctx: StoreContext): Promise<IncompleteUpload[]>;
  abortIncomplete?(upload: IncompleteUpload, ctx: StoreContext): Promise<void>;
}

/** An upload a killed run left unfinished. */
export interface IncompleteUpload {
  key: string;
  id: string;
}

/** A connected provider: one cloud account, region and settings, read once at connect. */
export interface Provider {
  readonly polling: Polling;
  readonly artifacts: ArtifactStore;
  /** The target's endpoint as it is now, or undefined when none exists under its name. Reads only. */
  read(t: Target, ctx: ProviderContext): Promise<Current | undefined>;
  /**
   * Bring up a revision. With `reachRevision` other than `none` it takes no traffic yet (the
   * endpoint is created if missing); with `none`, it replaces the serving revision. Returns once
   * the change is started; the core polls `status`.
   */
  deploy(t: Target, request: DeployRequest, ctx: ProviderContext): Promise<void>;
  /** Readiness of one revision, or without one of the endpoint as a whole. */
  status(t: Target, revision: string | undefined, ctx: ProviderContext): Promise<EndpointState>;
  invoke(t: Target, to: InvokeTarget, request: InvokeRequest, ctx: ProviderContext): Promise<InvokeResponse>;
  /**
   * Make this revision the one serving all traffic; idempotent. Called after a passed smoke test,
   * and on rollback (reachRevision `none`) to put the previous revision back.
   */
  promote(t: Target, revision: string, ctx: ProviderContext): Promise<void>;
  /** Everything under the target's names, each with its owner (artifacts excepted: the core lists those). */
  inventory(t: Target, ctx: ProviderContext): Promise<FoundResource[]>;
  /** Delete one resource; already gone is success. */
  remove(t: Target, resource: Resource, ctx: ProviderContext): Promise<void>;
  /** Every modeldeploy deployment this provider can see. */
  list(ctx: ProviderContext): Promise<DeploymentSummary[]>;
}

/** A problem the provider finds in a spec at validate time, located by the config loader. */
export interface RuleIssue {
  path: (string | number)[];
  message: string;
  hint?: string;
}

/** The pure half of a provider: `validate` and `plan --offline` use only this (no SDK, no network). */
export interface ProviderRules<S = unknown> {
  check(t: Target<S>): RuleIssue[];
  /** The resource names this deployment uses, for `plan`. */
  names(t: Target<S>, revision?: string): Record<string, string>;
  /** Settings resolved without a call (image URI, instance type…), for `plan`. */
  details?(t: Target<S>): Record<string, unknown>;
  /** How the artifact is stored: its files as they are (default), or one deterministic model.tar.gz. */
  packaging?(t: Target<S>): 'files' | 'tar.gz';
}

export interface ConnectInput<S> {
  /** The provider's block of deploy.yaml, when there is one (`list` may have none). */
  settings: S | undefined;
  region: string | undefined;
  /** The environment to read settings from, once: credentials, endpoints, poll intervals. */
  env: NodeJS.ProcessEnv;
}

/**
 * The cheap half of a provider, `providers/<id>/settings.ts`: what deploy.yaml needs to know of
 * it. Every descriptor is loaded to build the deploy.yaml schema, so it holds no rules and no SDK.
 */
export interface ProviderDescriptor<S = unknown> {
  /** = the yaml value, the folder, the registry key. */
  id: string;
  /** How messages name it: "SageMaker", "Vertex AI", "Azure ML", "this machine". */
  title: string;
  /** Its `<id>:` block of deploy.yaml, when it takes one. */
  settings?: {
    schema: ZodType<S>;
    /** Required when the provider is chosen. */
    required: boolean;
    /** e.g. `aws: {roleArn: …, bucket: my-artifacts}`, for the "needs a block" hint. */
    example: string;
    /** Fields that change how a revision is served: part of the revision id. */
    serving: readonly string[];
    /** Fields that do not (where resources live, who may call them): declared, so none is forgotten. */
    notServing: readonly string[];
  };
  /** An example region, when the provider needs one. */
  region?: { example: string };
  /** For `init`: the framework of its default template, and the longest `<name>-<stage>` it takes. */
  init: { framework: Framework; maxBaseName: number };
}

/** `providers/<id>/index.ts`: the descriptor, plus capabilities, pure rules and the adapter. */
export interface ProviderModule<S = unknown> extends ProviderDescriptor<S> {
  capabilities: Capabilities;
  rules: ProviderRules<S>;
  /** Reads the environment once and builds no client and makes no call: clients come on first use. */
  connect(input: ConnectInput<S>): Promise<Provider>;
}

/** How the CLI hands providers to the core: id → lazy loaders, so only the chosen adapter loads. */
export interface ProviderRegistry {
  readonly ids: readonly string[];
  /** `provider:` when deploy.yaml does not say. */
  readonly defaultId: string;
  descriptors(): Promise<readonly ProviderDescriptor[]>;
  module(id: string): Promise<ProviderModule>;
}
