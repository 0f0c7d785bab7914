/**
 * One error type for everything modeldeploy reports. `code` is stable (never renamed: scripts
 * match on it), `message` says what happened with the bad value, `hint` says what to do.
 */
export type ErrorKind =
  | 'usage' // bad flags or deploy.yaml: nothing was done (exit 2)
  | 'provider' // the cloud refused or failed (exit 3)
  | 'smoke' // the endpoint came up but failed its smoke test (exit 4)
  | 'teardown' // resources remain after down (exit 5)
  | 'interrupted' // SIGINT/SIGTERM (exit 130)
  | 'internal'; // a bug (exit 1)

/** Why a provider call failed, in terms the core's retry and rollback logic can act on. */
export type FailureCategory =
  | 'throttled'
  | 'unavailable'
  | 'notFound'
  | 'conflict'
  | 'quota'
  | 'invalid'
  | 'auth'
  | 'failed';

export interface ErrorOptions {
  hint?: string;
  cause?: unknown;
  details?: Record<string, unknown>;
}

export class ModeldeployError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(kind: ErrorKind, code: string, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = code;
    this.kind = kind;
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }
}

/** One problem in deploy.yaml, already located in the file. */
export interface ConfigIssue {
  file: string;
  line: number;
  column: number;
  /** Dotted field path, e.g. `instance.type` or `smoke.expect.status`. */
  path: string;
  message: string;
  hint?: string;
}

export class ConfigError extends ModeldeployError {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    const first = issues[0];
    // One issue: its hint goes on the hint line, not twice.
    const summary =
      issues.length === 1 && first
        ? formatIssue({ ...first, hint: undefined })
        : `${issues.length} problems in ${first?.file ?? 'deploy.yaml'}:\n` +
          issues.map((i) => `  ${formatIssue(i)}`).join('\n');
    super('usage', 'ConfigInvalid', summary, {
      hint: issues.length === 1 ? first?.hint : 'Fix each problem listed; nothing was deployed.',
      details: { issues },
    });
    this.issues = issues;
  }
}

export function formatIssue(issue: ConfigIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}`;
  const hint = issue.hint ? ` (${issue.hint})` : '';
  return `${where} ${issue.path || '(root)'}: ${issue.message}${hint}`;
}

export class UsageError extends ModeldeployError {
  constructor(code: string, message: string, options: ErrorOptions = {}) {
    super('usage', code, message, options);
  }
}

export interface ProviderErrorOptions extends ErrorOptions {
  category: FailureCategory;
  retryable?: boolean;
  requestId?: string;
  /** Seconds the service asked us to wait (Retry-After), when it said. */
  retryAfterSeconds?: number;
}

/** A cloud call failed. Providers map their SDK's errors to this; the core never sees SDK errors. */
export class ProviderError extends ModeldeployError {
  readonly category: FailureCategory;
  readonly retryable: boolean;
  readonly requestId: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: string, message: string, options: ProviderErrorOptions) {
    super('provider', code, message, options);
    this.category = options.category;
    this.retryable = options.retryable ?? (options.category === 'throttled' || options.category === 'unavailable');
    this.requestId = options.requestId;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export class SmokeTestError extends ModeldeployError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('smoke', 'SmokeTestFailed', message, options);
  }
}

export class InterruptedError extends ModeldeployError {
  constructor(message = 'Interrupted', options: ErrorOptions = {}) {
    super('interrupted', 'Interrupted', message, options);
  }
}

export const EXIT_CODES: Readonly<Record<ErrorKind, number>> = {
  internal: 1,
  usage: 2,
  provider: 3,
  smoke: 4,
  teardown: 5,
  interrupted: 130,
};

/**
 * The same error, of the same class (a ProviderError keeps its category), with more said: a longer
 * message, another hint, more details. The original stays as the cause.
 */
export function amended<T extends ModeldeployError>(error: T, change: { message?: string; hint?: string; details?: Record<string, unknown> }): T {
  const copy = Object.create(Object.getPrototypeOf(error) as object) as T;
  Object.assign(copy, error);
  Object.defineProperties(copy, {
    message: { value: change.message ?? error.message, writable: true, configurable: true },
    stack: { value: error.stack, writable: true, configurable: true },
    cause: { value: error, writable: true, configurable: true },
  });
  Object.assign(copy, {
    ...(change.hint !== undefined ? { hint: change.hint } : {}),
    ...(change.details ? { details: { ...error.details, ...change.details } } : {}),
  });
  return copy;
}

/** Anything that is not a ModeldeployError is a bug; wrap it so it still reports cleanly. */
export function toModeldeployError(error: unknown): ModeldeployError {
  if (error instanceof ModeldeployError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ModeldeployError('internal', 'InternalError', message, {
    cause: error,
    hint: 'This is a bug in modeldeploy; run again with --verbose and report the stack trace.',
  });
}
