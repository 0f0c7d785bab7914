/**
 * One deployment under test: a temp folder with a deploy.yaml built from the harness's fixture,
 * loaded through the real config loader and run through the real core, with a registry whose
 * providers the suite observes (test/contract/observe.ts).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadDeployment } from '../../src/config/load.js';
import { systemClock } from '../../src/core/clock.js';
import { openSession, providerContext, type CoreContext, type Session } from '../../src/core/context.js';
import { ModeldeployError } from '../../src/core/errors.js';
import { RecordingProgress } from '../../src/core/events.js';
import { up, type UpOptions, type UpResult } from '../../src/core/lifecycle.js';
import type { ProviderRegistry, Resource } from '../../src/core/provider.js';
import { invokeEndpoint, statusOf, type InvokeResult, type StatusResult } from '../../src/core/queries.js';
import { ownedInventory } from '../../src/core/removal.js';
import type { DeploymentSpec } from '../../src/core/spec.js';
import { down, type DownResult } from '../../src/core/teardown.js';
import type { ContractHarness, EmulatorResource } from './harness.js';

export const SMOKE_REQUEST = { instances: [[5.1, 3.5, 1.4, 0.2]] };

export interface Variant {
  /** Content of model/weights.txt: another value is another artifact. */
  weights?: string;
  /** Extra env: another value is another revision of the same artifact. */
  env?: Record<string, string>;
  /** Fields merged over the deploy.yaml (after the fixture's). */
  yaml?: Record<string, unknown>;
}

export class Deployment {
  dir = '';
  progress = new RecordingProgress();

  constructor(
    private readonly h: ContractHarness,
    private readonly registry: ProviderRegistry,
    readonly name: string,
    readonly stage: string,
  ) {}

  async write(variant: Variant = {}): Promise<void> {
    if (!this.dir) this.dir = await mkdtemp(path.join(tmpdir(), `md-contract-${this.h.id}-`));
    const fixture = this.h.fixture();
    const model = path.join(this.dir, 'model');
    await rm(model, { recursive: true, force: true });
    for (const [file, content] of Object.entries({ ...fixture.files, 'weights.txt': variant.weights ?? 'v1' })) {
      await mkdir(path.dirname(path.join(model, file)), { recursive: true });
      await writeFile(path.join(model, file), content);
    }
    const base = fixture.yaml as { model?: Record<string, unknown>; env?: Record<string, string> };
    const doc = {
      ...fixture.yaml,
      name: this.name,
      stage: this.stage,
      model: { ...base.model, path: './model' },
      env: { ...base.env, ...variant.env },
      smoke: { request: SMOKE_REQUEST, expect: { status: 200, body: { predictions: [0] } } },
      ...variant.yaml,
    };
    // JSON is YAML.
    await writeFile(path.join(this.dir, 'deploy.yaml'), JSON.stringify(doc, null, 2));
  }

  async spec(): Promise<DeploymentSpec> {
    const { spec } = await loadDeployment(path.join(this.dir, 'deploy.yaml'), { env: this.h.env(), registry: this.registry });
    return spec;
  }

  core(signal: AbortSignal = new AbortController().signal): CoreContext {
    this.progress = new RecordingProgress();
    return { registry: this.registry, progress: this.progress, clock: systemClock, signal, env: this.h.env(), cacheDir: path.join(this.dir, '.modeldeploy') };
  }

  async up(options: Partial<UpOptions> = {}, signal?: AbortSignal): Promise<UpResult> {
    return up(await this.spec(), { smoke: true, keepOnFailure: false, ...options }, this.core(signal));
  }

  async down(): Promise<DownResult> {
    return down(await this.spec(), { keepArtifacts: false }, this.core());
  }

  async status(): Promise<StatusResult> {
    return statusOf(await this.spec(), this.core());
  }

  async invoke(): Promise<InvokeResult> {
    return invokeEndpoint(await this.spec(), { body: Buffer.from(JSON.stringify(SMOKE_REQUEST)), contentType: 'application/json' }, this.core());
  }

  async session(): Promise<Session> {
    return openSession(await this.spec(), this.core());
  }

  /** What the core finds owned by this deployment (provider resources and artifacts). */
  async owned(): Promise<Resource[]> {
    const core = this.core();
    return ownedInventory(await openSession(await this.spec(), core), providerContext(core));
  }

  async dispose(): Promise<void> {
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

export async function failureOf(promise: Promise<unknown>): Promise<ModeldeployError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ModeldeployError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

/** A listing as sorted `kind id` lines: what is there, whatever its state. */
export function names(listing: readonly EmulatorResource[]): string[] {
  return listing.map((r) => `${r.kind} ${r.id}`).sort();
}
