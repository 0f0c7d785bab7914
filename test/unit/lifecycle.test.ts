import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CoreContext } from '../../src/core/context.js';
import { ModeldeployError } from '../../src/core/errors.js';
import { RecordingProgress } from '../../src/core/events.js';
import { up } from '../../src/core/lifecycle.js';
import type { DeploymentSpec } from '../../src/core/spec.js';
import { down } from '../../src/core/teardown.js';
import { FakeClock, FakeProvider, fakeCapabilities, fakeRegistry } from '../support/fake-provider.js';

let dir: string;
let spec: DeploymentSpec;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'md-lifecycle-'));
  await writeFile(path.join(dir, 'model.bin'), 'weights v1');
  spec = {
    file: 'deploy.yaml',
    dir,
    name: 'iris',
    stage: 'dev',
    provider: 'fake',
    model: { path: path.join(dir, 'model.bin'), framework: 'onnx' },
    instance: { count: 1 },
    env: {},
    tags: {},
    timeouts: { deployMs: 60_000, startupMs: 30_000 },
    smoke: {
      request: { kind: 'json', body: { instances: [[1, 2, 3, 4]] }, contentType: 'application/json' },
      expect: { status: 200, body: { predictions: [0] }, tolerance: 1e-6 },
      onFailure: 'rollback',
    },
  };
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

function harness(provider: FakeProvider, signal = new AbortController().signal) {
  const clock = new FakeClock();
  const progress = new RecordingProgress();
  const core: CoreContext = {
    registry: fakeRegistry(provider),
    progress,
    clock,
    signal,
    env: {},
  };
  return { core, clock, progress };
}

const opts = { smoke: true, keepOnFailure: false };

async function failure(promise: Promise<unknown>): Promise<ModeldeployError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ModeldeployError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('up', () => {
  it('creates, waits through pending states, smoke-tests the revision, then promotes it', async () => {
    const provider = new FakeProvider();
    const { core, progress } = harness(provider);
    const result = await up(spec, opts, core);
    expect(result.action).toBe('created');
    expect(result.smoke?.passed).toBe(true);
    expect(provider.endpoint?.active).toBe(result.revision);
    // The smoke test went to the new revision directly, before promote.
    const smokeIndex = provider.calls.indexOf(`invoke:revision:${result.revision}`);
    expect(smokeIndex).toBeGreaterThan(-1);
    expect(smokeIndex).toBeLessThan(provider.calls.indexOf(`promote:${result.revision}`));
    expect(progress.codes()).toEqual(expect.arrayContaining(['ArtifactHashed', 'Planned', 'Uploaded', 'StateChanged', 'Ready', 'SmokePassed', 'Promoted']));
    // Each state change reported once: pending (poll 1), pending (poll 2), ready.
    expect(progress.events.filter((e) => e.code === 'StateChanged').map((e) => e.data?.state)).toEqual(['pending', 'pending', 'ready']);
  });

  it('does nothing on a second run with nothing changed', async () => {
    const provider = new FakeProvider();
    const { core } = harness(provider);
    const first = await up(spec, opts, core);
    provider.calls.length = 0;
    const second = await up(spec, opts, core);
    expect(second.action).toBe('unchanged');
    expect(second.revision).toBe(first.revision);
    // One read, and one smoke request to the live endpoint: unchanged is not good until it answers.
    expect(provider.calls).toEqual(['read', 'invoke:endpoint']);
    expect(second.smoke?.passed).toBe(true);
    expect(provider.artifacts.uploads).toHaveLength(1);
  });

  it('treats a changed env as a new revision even with the same model bytes', async () => {
    const provider = new FakeProvider();
    const { core } = harness(provider);
    const first = await up(spec, opts, core);
    const second = await up({ ...spec, env: { LOG_LEVEL: 'debug' } }, opts, core);
    expect(second.action).toBe('updated');
    expect(second.revision).not.toBe(first.revision);
    expect(second.artifact.uploaded).toBe(false);
  });

  it('updates blue/green: the old revision and artifact are retired only after promote', async () => {
    const provider = new FakeProvider();
    const { core } = harness(provider);
    const first = await up(spec, opts, core);
    await writeFile(path.join(dir, 'model.bin'), 'weights v2');
    provider.calls.length = 0;
    const second = await up(spec, opts, core);
    expect(second.action).toBe('updated');
    expect(second.previousRevision).toBe(first.revision);
    expect(provider.endpoint?.active).toBe(second.revision);
    expect([...provider.revisions.keys()]).toEqual([second.revision]);
    expect(provider.artifacts.artifacts()).toEqual([second.artifact.sha256]);
    expect(provider.calls.indexOf(`promote:${second.revision}`)).toBeLessThan(provider.calls.indexOf(`remove:fake:revision:${first.revision}`));
    expect(second.retired).toEqual(expect.arrayContaining([first.revision]));
  });

  it('leaves the previous revision serving when the new one fails its smoke test (routing provider)', async () => {
    const provider = new FakeProvider();
    const { core, progress } = harness(provider);
    const first = await up(spec, opts, core);
    await writeFile(path.join(dir, 'model.bin'), 'weights v2');
    provider.behaviour.respond = (revision) => (revision === first.revision ? { status: 200, body: { predictions: [0] } } : { status: 200, body: { predictions: [1] } });
    const error = await failure(up(spec, opts, core));
    expect(error.code).toBe('SmokeTestFailed');
    expect(error.kind).toBe('smoke');
    expect(provider.endpoint?.active).toBe(first.revision);
    expect([...provider.revisions.keys()]).toEqual([first.revision]);
    expect(provider.artifacts.artifacts()).toEqual([first.artifact.sha256]);
    expect(provider.calls.filter((c) => c.startsWith('promote'))).toEqual([`promote:${first.revision}`]);
    expect(progress.codes()).toContain('RollbackDone');
  });

  it('restores the previous revision when a provider without routing fails the smoke test', async () => {
    const provider = new FakeProvider(fakeCapabilities('none'));
    const { core, progress } = harness(provider);
    const first = await up(spec, opts, core);
    await writeFile(path.join(dir, 'model.bin'), 'weights v2');
    provider.behaviour.respond = (revision) => ({ status: revision === first.revision ? 200 : 500, body: { predictions: [0] } });
    const error = await failure(up(spec, opts, core));
    expect(error.code).toBe('SmokeTestFailed');
    // The smoke test went through the endpoint (no revision routing), then traffic was restored.
    expect(provider.calls).toContain('invoke:endpoint');
    expect(provider.endpoint?.active).toBe(first.revision);
    expect([...provider.revisions.keys()]).toEqual([first.revision]);
    expect(progress.codes()).toContain('Restored');
  });

  it('rolls back everything on a first deploy whose revision never becomes ready', async () => {
    const provider = new FakeProvider();
    const { core } = harness(provider);
    provider.behaviour.failRevisions = { has: () => true } as unknown as Set<string>;
    const error = await failure(up(spec, opts, core));
    expect(error.code).toBe('EndpointNotReady');
    expect(error.kind).toBe('provider');
    expect(error.message).toContain('container exited');
    expect(await provider.inventory()).toEqual([]);
    expect(provider.artifacts.objects.size).toBe(0);
  });

  it('keeps what it created with keepOnFailure', async () => {
    const provider = new FakeProvider();
    const { core, progress } = harness(provider);
    provider.behaviour.respond = () => ({ status: 500, body: {} });
    await failure(up(spec, { smoke: true, keepOnFailure: true }, core));
    expect((await provider.inventory()).map((r) => r.type).sort()).toEqual(['fake:endpoint', 'fake:revision']);
    expect(provider.artifacts.artifacts()).toHaveLength(1);
    expect(progress.codes()).toContain('KeptOnFailure');
  });

  it('gives up waiting at the deploy timeout and rolls back', async () => {
    const provider = new FakeProvider();
    const { core, clock } = harness(provider);
    provider.behaviour.pendingPolls = Number.POSITIVE_INFINITY;
    const error = await failure(up({ ...spec, timeouts: { deployMs: 10_000, startupMs: 10_000 } }, opts, core));
    expect(error.code).toBe('DeployTimeout');
    expect(error.message).toContain('deploy timeout (10 s)');
    // Adaptive polling: starts at the provider's initial interval and backs off to its cap.
    expect(clock.sleeps[0]).toBe(100);
    expect(clock.sleeps.slice(0, 4)).toEqual([100, 150, 225, 338]);
    expect(Math.max(...clock.sleeps)).toBe(1000);
    expect(await provider.inventory()).toEqual([]);
    expect(provider.artifacts.objects.size).toBe(0);
  });

  it('on interrupt, stops, rolls back this run and reports Interrupted', async () => {
    const controller = new AbortController();
    const provider = new FakeProvider();
    const { core } = harness(provider, controller.signal);
    provider.behaviour.pendingPolls = Number.POSITIVE_INFINITY;
    provider.behaviour.onDeploy = () => controller.abort(new Error('SIGINT'));
    const error = await failure(up(spec, opts, core));
    expect(error.code).toBe('Interrupted');
    expect(error.kind).toBe('interrupted');
    expect(await provider.inventory()).toEqual([]);
    expect(provider.artifacts.objects.size).toBe(0);
  });

  it('retries throttled calls and succeeds', async () => {
    const provider = new FakeProvider();
    const { core, progress } = harness(provider);
    provider.behaviour.throttle = { read: 2, promote: 1 };
    const result = await up(spec, opts, core);
    expect(result.action).toBe('created');
    expect(progress.events.filter((e) => e.code === 'Retrying')).toHaveLength(3);
  });
});

describe('down', () => {
  it('deletes in dependency order, then finds nothing; a second down has nothing to delete', async () => {
    const provider = new FakeProvider();
    const { core } = harness(provider);
    await up(spec, opts, core);
    provider.calls.length = 0;
    const result = await down(spec, { keepArtifacts: false }, core);
    expect(result.deleted.map((r) => r.type)).toEqual(['fake:endpoint', 'fake:revision', 'artifact']);
    expect(provider.calls.at(-1)).toBe('inventory');
    expect(provider.artifacts.objects.size).toBe(0);
    const again = await down(spec, { keepArtifacts: false }, core);
    expect(again.nothingToDelete).toBe(true);
  });

  it('keeps artifacts when asked', async () => {
    const provider = new FakeProvider();
    const { core } = harness(provider);
    await up(spec, opts, core);
    const result = await down(spec, { keepArtifacts: true }, core);
    expect(result.kept.map((r) => r.type)).toEqual(['artifact']);
    expect(provider.artifacts.artifacts()).toHaveLength(1);
  });

  it('fails with TeardownIncomplete listing what remains', async () => {
    const provider = new FakeProvider();
    const { core } = harness(provider);
    await up(spec, opts, core);
    provider.remove = async () => undefined; // a delete the cloud accepted but did not carry out
    const error = await failure(down(spec, { keepArtifacts: false }, core));
    expect(error.code).toBe('TeardownIncomplete');
    expect(error.kind).toBe('teardown');
    // The artifact went (the core deletes those); the provider's two resources are listed.
    expect((error.details?.remaining as Array<{ type: string }>).map((r) => r.type).sort()).toEqual(['fake:endpoint', 'fake:revision']);
    expect(provider.artifacts.objects.size).toBe(0);
  });
});
