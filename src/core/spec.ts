/** The validated, normalised deployment the core and providers work from (never the raw YAML). */
import type { Framework } from '../config/schema.js';
import { UsageError } from './errors.js';

export type { Framework };
/** A registered provider's id (the registry knows which exist; src/ names none). */
export type ProviderId = string;

export interface ModelSpec {
  /** Absolute path of the model file or directory, when the model is local. */
  path?: string;
  /** An artifact that is already uploaded, when the model is remote. */
  uri?: string;
  framework: Framework;
  version?: string;
  image?: string;
  command?: string[];
}

export interface InstanceSpec {
  type?: string;
  count: number;
  accelerator?: { type: string; count: number };
  autoscaling?: { min: number; max: number; targetInvocationsPerInstance?: number };
}

export type SmokeRequest =
  | { kind: 'json'; body: unknown; contentType: 'application/json' }
  | { kind: 'file'; file: string; contentType: string };

export interface SmokeSpec {
  request?: SmokeRequest;
  expect: { status: number; body?: unknown; maxLatencyMs?: number; tolerance: number };
  onFailure: 'rollback' | 'keep';
}

export interface DeploymentSpec {
  /** deploy.yaml as given (for messages) and its folder (relative paths resolve against it). */
  file: string;
  dir: string;
  name: string;
  stage: string;
  provider: ProviderId;
  region?: string;
  model: ModelSpec;
  instance: InstanceSpec;
  env: Record<string, string>;
  tags: Record<string, string>;
  timeouts: { deployMs: number; startupMs: number };
  smoke?: SmokeSpec;
  /** The chosen provider's own block of deploy.yaml (`<provider>:`), as its schema parsed it. */
  settings?: unknown;
}

/** `<name>-<stage>`: every provider derives its resource names from this. */
export function baseName(spec: Pick<DeploymentSpec, 'name' | 'stage'>): string {
  return `${spec.name}-${spec.stage}`;
}

export function parseDuration(value: string | number): number {
  if (typeof value === 'number') return value * 1000;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value);
  if (!match) throw new Error(`not a duration: ${value}`);
  const amount = Number(match[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  return amount * unit;
}

/** A polling interval from an environment setting (`500ms`, `2s`, or plain milliseconds), at least 10 ms. */
export function durationSetting(name: string, raw: string | undefined, fallbackMs: number): number {
  if (!raw) return fallbackMs;
  const trimmed = raw.trim();
  let ms: number;
  try {
    ms = /^\d+$/.test(trimmed) ? Number(trimmed) : parseDuration(trimmed);
  } catch {
    throw new UsageError('InvalidSetting', `${name}=${raw} is not a duration`, { hint: 'e.g. 500ms, 2s, 10s' });
  }
  return Math.max(10, ms);
}
