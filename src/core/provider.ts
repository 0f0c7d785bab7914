/**
 * The provider contract. The core owns the lifecycle (plan → upload → deploy → wait → smoke →
 * promote → retire, and rollback/teardown); a provider owns one cloud. Inputs and outputs are
 * plain core types: no SDK type crosses this boundary.
 */
import type { DeploymentSpec, ProviderId } from './spec.js';
import type { Artifact } from './artifact.js';
import type { Clock } from './clock.js';
import type { ProgressSink } from './events.js';

export interface Capabilities {
  /**
   * A new revision can be invoked directly before it takes traffic (Azure deployment header,
   * SageMaker TargetVariant, a Vertex model at 0%, the local router). When true the core smoke-
   * tests the new revision first and only then calls `promote`; when false, `deploy` moves
   * traffic itself and a failed smoke test is undone by promoting the previous revision again.
   */
  revisionRouting: boolean;
  gpu: boolean;
  autoscaling: boolean;
  serverless: boolean;
}

/** Everything a provider may use besides the spec: passed in, never global. */
export interface ProviderContext {
  signal: AbortSignal;
  clock: Clock;
  progress: ProgressSink;
  env: NodeJS.ProcessEnv;
  /** Call as soon as a resource exists, so an interrupted or failed run can roll it back. */
  track(resource: Resource): void;
  /**
   * Set by `up`: whether the new revision will be smoke-tested before `promote`. A provider that
   * needs extra resources to reach a revision before it takes traffic creates them only then.
   */
  smokeTest?: boolean;
}

/** A problem the provider finds in a spec at validate time, located by the config loader. */
export interface RuleIssue {
  path: (string | number)[];
  message: string;
  hint?: string;
}

/**
 * The cheap half of a provider: pure checks and derived names, no SDK, no network. `validate`
 * and `plan --offline` use only this.
 */
export interface ProviderRules {
  readonly id: ProviderId;
  readonly capabilities: Capabilities;
  check(spec: DeploymentSpec): RuleIssue[];
  /** The resource names this deployment will use, for `plan` output. */
  names(spec: DeploymentSpec, revision?: string): Record<string, string>;
  /** Settings resolved without a call (image URI, instance type…), for `plan` output. */
  details?(spec: DeploymentSpec): Record<string, unknown>;
}

export type PlanAction = 'create' | 'update' | 'unchanged';

/** What exists now and what `up` must do. */
export interface Plan {
  spec: DeploymentSpec;
  action: PlanAction;
  /** The revision id the spec asks for. */
  revision: string;
  /** The revision serving traffic now, if the endpoint exists. */
  current?: { revision: string; state: EndpointState };
  names: Record<string, string>;
  /** Provider-specific, display-only facts: resolved image, instance type, URLs. */
  details: Record<string, unknown>;
}

/** Where the model bytes live once uploaded, in the provider's own addressing. */
export interface ArtifactRef {
  uri: string;
  sha256: string;
  /** False when the content address already held the artifact. */
  uploaded: boolean;
  bytes: number;
}

export interface Revision {
  id: string;
  /** Provider-specific identifiers the later steps need (variant name, deployment id, port…). */
  handle: Record<string, string | number>;
}

export type EndpointState =
  | { state: 'pending'; detail?: string }
  | { state: 'ready'; url?: string }
  | { state: 'failed'; reason: string; logsHint?: string }
  | { state: 'absent' };

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

/** Invoke the endpoint (traffic split as the cloud routes it) or one revision directly. */
export type InvokeTarget = { kind: 'endpoint' } | { kind: 'revision'; revision: Revision };

export type ResourceScope = 'endpoint' | 'revision' | 'artifact' | 'scaling';

/** Something modeldeploy created, found again by name and tags without any local state. */
export interface Resource {
  /** Provider-specific type, e.g. `sagemaker:endpoint-config`, `local:process`. */
  type: string;
  /** The provider's own id: a name, an ARN, a path. */
  id: string;
  scope: ResourceScope;
  /** The revision it belongs to, for revision-scoped resources. */
  revision?: string;
  /** The content address it holds, for artifact-scoped resources. */
  sha256?: string;
  /** Deletion order: lower goes first (endpoint before configs before models before artifacts). */
  order: number;
  description?: string;
}

export interface Provider {
  readonly id: ProviderId;
  readonly rules: ProviderRules;
  /** How often to poll readiness: from initialMs, backing off to maxMs. */
  readonly polling: { initialMs: number; maxMs: number };
  /** Current state and the create / update / unchanged decision. Reads only. */
  plan(spec: DeploymentSpec, revision: string, ctx: ProviderContext): Promise<Plan>;
  /** Put the artifact at its content address; skip when it is already there. */
  upload(plan: Plan, artifact: Artifact, ctx: ProviderContext): Promise<ArtifactRef>;
  /**
   * Bring up the plan's revision. With revisionRouting it takes no traffic yet (but the endpoint
   * is created if missing); without, it replaces the serving revision.
   */
  deploy(plan: Plan, artifact: ArtifactRef, ctx: ProviderContext): Promise<Revision>;
  /** Readiness of one revision (or, without one, of the endpoint as a whole). */
  status(plan: Plan, revision: Revision | undefined, ctx: ProviderContext): Promise<EndpointState>;
  invoke(plan: Plan, target: InvokeTarget, request: InvokeRequest, ctx: ProviderContext): Promise<InvokeResponse>;
  /**
   * Make this revision the one serving all traffic; idempotent. Called after a passed smoke
   * test (where a provider without routing finishes, e.g. attaches autoscaling) and on
   * rollback to put the previous revision back (the core then waits for it).
   */
  promote(plan: Plan, revision: Revision, ctx: ProviderContext): Promise<void>;
  /** The handle of an existing revision, found again from the cloud (for rollback to it). */
  revision(plan: Plan, id: string, ctx: ProviderContext): Promise<Revision | undefined>;
  /** Everything modeldeploy owns for this deployment and stage, found by name and tags. */
  inventory(spec: DeploymentSpec, ctx: ProviderContext): Promise<Resource[]>;
  /** Delete one resource; already gone is success. */
  remove(spec: DeploymentSpec, resource: Resource, ctx: ProviderContext): Promise<void>;
  /** Every modeldeploy deployment this provider can see (for `list`). */
  list(spec: Pick<DeploymentSpec, 'region' | 'aws' | 'gcp' | 'azure'>, ctx: ProviderContext): Promise<DeploymentSummary[]>;
}

export interface DeploymentSummary {
  name: string;
  stage: string;
  revision?: string;
  state: EndpointState['state'];
  url?: string;
}

/** How the CLI hands providers to the core: id → lazy loaders, so only the chosen SDK loads. */
export interface ProviderRegistry {
  rules(id: ProviderId): Promise<ProviderRules>;
  provider(id: ProviderId): Promise<Provider>;
}
