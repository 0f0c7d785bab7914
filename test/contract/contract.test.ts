/**
 * The shared contract suite: every guarantee of the core, proven once for every provider, each
 * against its own emulator through the real provider module and its real SDK over HTTP.
 * `CONTRACT_PROVIDERS=aws,gcp npx vitest run test/contract` runs a subset.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { providerContext } from '../../src/core/context.js';
import type { ProviderModule } from '../../src/core/provider.js';
import { planDeployment, statusOf } from '../../src/core/queries.js';
import { removeInOrder } from '../../src/core/removal.js';
import { down } from '../../src/core/teardown.js';
import { targetOf } from '../../src/core/target.js';
import { registry } from '../../providers/index.js';
import { ROOT } from '../support/cli.js';
import { Deployment, failureOf, names } from './deployment.js';
import type { ContractHarness } from './harness.js';
import { CallLog, observedRegistry, type Observer } from './observe.js';

const HARNESSES: Record<string, () => Promise<{ createHarness(): ContractHarness }>> = {
  local: () => import('./harness-local.js'),
  aws: () => import('./harness-aws.js'),
  gcp: () => import('./harness-gcp.js'),
  azure: () => import('./harness-azure.js'),
};
const SELECTED = process.env.CONTRACT_PROVIDERS ? process.env.CONTRACT_PROVIDERS.split(',') : [...registry.ids];
const SDK = /node_modules\/(@aws-sdk|@smithy|@google-cloud|google-gax|google-auth-library|@azure)\//;

/** Calls of `up` before the new revision takes traffic: an abort at any of them leaves nothing. */
const ABORT_AT = ['read', 'artifacts.list', 'artifacts.write', 'artifacts.upload', 'deploy', 'status', 'invoke', 'promote'] as const;
/** Before readiness the emulator keeps its long-running work in progress, so the abort lands while it runs. */
const BEFORE_READY = new Set<string>(['read', 'artifacts.list', 'artifacts.write', 'artifacts.upload', 'deploy', 'status']);

it('every registered provider has a contract harness', () => {
  expect(Object.keys(HARNESSES).sort()).toEqual([...registry.ids].sort());
});

describe.each(SELECTED)('provider %s', (id) => {
  let h: ContractHarness;
  let module: ProviderModule;
  let observer: Observer = {};
  const log = new CallLog();
  const observed = observedRegistry(registry, log, () => observer);
  const made: Deployment[] = [];
  let serial = 0;

  const deployment = async (stage = 'ct', variant = {}): Promise<Deployment> => {
    const d = new Deployment(h, observed, `ct${id.replace(/[^a-z0-9]/g, '')}${(serial++).toString(36)}`, stage);
    made.push(d);
    await d.write(variant);
    return d;
  };
  const sibling = async (of: Deployment, stage: string): Promise<Deployment> => {
    const d = new Deployment(h, observed, of.name, stage);
    made.push(d);
    await d.write();
    return d;
  };

  beforeAll(async () => {
    const load = HARNESSES[id];
    if (!load) throw new Error(`no contract harness for provider ${id}`);
    h = (await load()).createHarness();
    await h.start();
    module = await registry.module(id);
  }, 180_000);
  afterAll(async () => {
    await h?.stop();
  }, 60_000);
  beforeEach(async () => {
    observer = {};
    log.calls.length = 0;
    await h.reset();
  }, 60_000);
  afterEach(async () => {
    observer = {};
    await h.settle();
    for (const d of made.splice(0)) await d.dispose();
  }, 60_000);

  it('importing the provider loads no SDK, and connect makes no call', async () => {
    const d = await deployment();
    const spec = await d.spec();
    await h.clearCalls();
    const dir = await mkdtemp(path.join(tmpdir(), 'md-contract-imports-'));
    try {
      const importLog = path.join(dir, 'imports.log');
      const script = `const { registry } = await import(${JSON.stringify(path.join(ROOT, 'dist/providers/index.js'))});
        const m = await registry.module(${JSON.stringify(id)});
        await m.connect({ settings: ${JSON.stringify(spec.settings ?? null)} ?? undefined, region: ${JSON.stringify(spec.region ?? null)} ?? undefined, env: process.env });`;
      const run = spawnSync(process.execPath, ['--import', path.join(ROOT, 'test/support/record-imports.mjs'), '--input-type=module', '-e', script], {
        env: { ...h.env(), PATH: process.env.PATH, MODELDEPLOY_IMPORT_LOG: importLog },
        encoding: 'utf8',
      });
      expect(run.status, run.stderr).toBe(0);
      const modules = (await readFile(importLog, 'utf8')).split('\n').filter(Boolean);
      expect(modules.some((m) => m.includes(`/dist/providers/${id}/`)), 'the hook saw the module load').toBe(true);
      expect(modules.filter((m) => SDK.test(m))).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(await h.calls()).toEqual([]);
  });

  it('what the provider declares it cannot do is refused at validate, before any call', async () => {
    const d = await deployment('ct', { yaml: { instance: { ...(h.fixture().yaml.instance as object), count: module.capabilities.maxInstances + 1 } } });
    await h.clearCalls();
    const error = await failureOf(d.spec());
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.path)).toContain('instance.count');
    expect(await h.calls()).toEqual([]);
  });

  it('with nothing deployed: read finds nothing, the inventory is empty, down has nothing to delete', async () => {
    const d = await deployment();
    const { provider, t } = await d.session();
    expect(await provider.read(t, providerContext(d.core()))).toBeUndefined();
    expect(await d.owned()).toEqual([]);
    expect((await d.down()).nothingToDelete).toBe(true);
    expect((await d.status()).state).toBe('absent');
    expect(await h.listing()).toEqual([]);
  });

  it('up creates an endpoint that is ready and answers, and every resource it made carries modeldeploy\'s tags', async () => {
    const d = await deployment();
    const result = await d.up();
    expect(result).toMatchObject({ action: 'created', smoke: { passed: true }, artifact: { uploaded: true } });
    const status = await d.status();
    expect(status).toMatchObject({ state: 'ready', revision: result.revision });
    const answer = await d.invoke();
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ predictions: [0] });
    expect(h.invocations().map((i) => i.revision)).toContain(result.revision);
    const listing = await h.listing();
    expect(listing.length).toBeGreaterThan(0);
    const tagged = listing.filter((r) => r.owner !== undefined);
    expect(tagged.length, 'some resources carry tags').toBeGreaterThan(0);
    for (const r of tagged) expect(r.owner, `${r.kind} ${r.id}`).toEqual({ deployment: d.name, stage: d.stage });
    expect(status.resources.map((r) => r.scope)).toEqual(expect.arrayContaining(['endpoint', 'revision', 'artifact']));
  });

  it('an unchanged re-run uploads nothing and changes nothing but its own lock', async () => {
    const d = await deployment();
    const first = await d.up();
    await h.clearCalls();
    log.calls.length = 0;
    const again = await d.up();
    expect(again).toMatchObject({ action: 'unchanged', revision: first.revision, artifact: { uploaded: false } });
    const lock = log.calls.filter((c) => WRITES.has(c.name) && c.name.startsWith('artifacts.') && keysOf(c).every((k) => /\/stages\/[^/]+\/lock\//.test(k)));
    expect(lock.map((c) => c.name)).toEqual(['artifacts.create', 'artifacts.delete']);
    expect(log.calls.filter((c) => WRITES.has(c.name) && !lock.includes(c)).map((c) => c.name)).toEqual([]);
    // And the emulator saw no change but the lock's: one request to take it, one to release it.
    expect((await h.calls()).filter((c) => c.kind !== 'read').length).toBeLessThanOrEqual(lock.length);
  });

  it('status, plan and invoke change nothing', async () => {
    const d = await deployment();
    await d.up();
    await h.clearCalls();
    await d.status();
    await planDeployment(await d.spec(), false, d.core());
    await d.invoke();
    expect((await h.calls()).filter((c) => c.kind !== 'read')).toEqual([]);
  });

  it('an update reaches the new revision before promote, while the endpoint still serves the old one', async () => {
    const d = await deployment();
    const first = await d.up();
    await d.write({ weights: 'v2' });
    let beforePromote: ReturnType<ContractHarness['invocations']> | undefined;
    let servedDuringPromote: string | undefined;
    observer = {
      before: async (name) => {
        if (name !== 'promote' || beforePromote) return;
        beforePromote = h.invocations();
        // Which revision answered, as the emulator saw it (a cloud fixes the shape of the answer).
        await d.invoke();
        servedDuringPromote = h.invocations().at(-1)?.revision;
      },
    };
    const second = await d.up();
    expect(second).toMatchObject({ action: 'updated', previousRevision: first.revision, smoke: { passed: true } });
    expect(second.revision).not.toBe(first.revision);
    if (module.capabilities.reachRevision === 'none') {
      // deploy moved the traffic: the smoke test went through the endpoint, to the new revision.
      expect(beforePromote).toContainEqual({ revision: second.revision, via: 'endpoint' });
    } else {
      expect(beforePromote).toContainEqual({ revision: second.revision, via: 'revision' });
      expect(servedDuringPromote).toBe(first.revision);
    }
    const status = await d.status();
    expect(status).toMatchObject({ state: 'ready', revision: second.revision });
    const owned = await d.owned();
    expect(owned.filter((r) => r.scope === 'revision').every((r) => r.revision === second.revision)).toBe(true);
    expect(owned.filter((r) => r.scope === 'artifact').map((r) => r.sha256)).toEqual([second.artifact.sha256]);
  });

  it('a failed smoke test leaves the old revision serving, and nothing of the new one', async () => {
    const d = await deployment();
    const first = await d.up();
    const before = names(await h.listing());
    h.answer((revision) => (revision === first.revision ? { status: 200, body: { predictions: [0] } } : { status: 200, body: { predictions: [1] } }));
    await d.write({ weights: 'v2' });
    const error = await failureOf(d.up());
    expect(error).toMatchObject({ code: 'SmokeTestFailed', kind: 'smoke' });
    expect(await d.status()).toMatchObject({ state: 'ready', revision: first.revision });
    expect(JSON.parse((await d.invoke()).body)).toMatchObject({ predictions: [0] });
    expect(names(await h.listing())).toEqual(before);
    const owned = await d.owned();
    expect(owned.filter((r) => r.scope === 'revision').every((r) => r.revision === first.revision)).toBe(true);
    expect(owned.filter((r) => r.scope === 'artifact').map((r) => r.sha256)).toEqual([first.artifact.sha256]);
  });

  it('a deploy that fails is reported failed with a reason and where its logs are, and leaves nothing', async () => {
    const d = await deployment();
    h.failNextDeploy();
    const error = await failureOf(d.up());
    expect(error).toMatchObject({ kind: 'provider', code: 'EndpointNotReady' });
    expect(error.hint, 'a logs hint').toBeTruthy();
    const failed = log.calls.filter((c) => c.name === 'status' && (c.result as { state?: string } | undefined)?.state === 'failed');
    expect(failed.length, 'status reported the revision failed').toBeGreaterThan(0);
    expect(failed[0]?.result).toMatchObject({ reason: expect.any(String), logsHint: expect.any(String) });
    expect(await d.owned()).toEqual([]);
    expect(await h.listing()).toEqual([]);
  });

  describe.each(ABORT_AT.flatMap((name) => [[`while ${name} is in flight`, name, 'started'] as const, [`just after ${name} answered`, name, 'after'] as const]))(
    'an abort %s',
    (_label, name, phase) => {
      it('stops up and leaves nothing once the emulator settles', async () => {
        const d = await deployment();
        if (BEFORE_READY.has(name)) h.holdOperations();
        const controller = new AbortController();
        let fired = false;
        const fire = (at: string) => {
          if (fired || at !== name) return;
          fired = true;
          controller.abort(new Error('SIGINT'));
          void h.settle(); // what was in flight finishes (or is cancelled) while the rollback runs
        };
        observer = phase === 'started' ? { started: fire } : { after: (at) => fire(at) };
        const error = await failureOf(d.up({}, controller.signal));
        expect(fired, `up called ${name}`).toBe(true);
        expect(error).toMatchObject({ code: 'Interrupted', kind: 'interrupted' });
        observer = {};
        await h.settle();
        expect(await d.owned()).toEqual([]);
        expect(await h.listing()).toEqual([]);
        expect((await d.down()).nothingToDelete).toBe(true);
      });
    },
  );

  it('an abort just after promote answered, on an update, puts the previous revision back', async () => {
    const d = await deployment();
    const first = await d.up();
    await d.write({ weights: 'v2' });
    const controller = new AbortController();
    observer = { after: (name) => (name === 'promote' ? controller.abort(new Error('SIGINT')) : undefined) };
    const error = await failureOf(d.up({}, controller.signal));
    expect(error.code).toBe('Interrupted');
    observer = {};
    await h.settle();
    expect(await d.status()).toMatchObject({ state: 'ready', revision: first.revision });
    const owned = await d.owned();
    expect(owned.filter((r) => r.scope === 'revision').every((r) => r.revision === first.revision)).toBe(true);
    expect(owned.filter((r) => r.scope === 'artifact').map((r) => r.sha256)).toEqual([first.artifact.sha256]);
  });

  it('an endpoint of the same name that modeldeploy did not make is refused and left untouched', async () => {
    const d = await deployment();
    const t = targetOf(await d.spec());
    const describeIt = await h.plantForeignEndpoint(t.base);
    const before = await describeIt();
    const error = await failureOf(d.up());
    expect(error).toMatchObject({ code: 'EndpointNotOwned', kind: 'provider' });
    expect((await d.down()).nothingToDelete).toBe(true);
    expect(await d.owned()).toEqual([]);
    expect(await describeIt()).toEqual(before);
    expect(await h.listing()).toEqual([]);
  });

  it('remove is idempotent, also on a resource that is already gone', async () => {
    const d = await deployment();
    await d.up();
    const session = await d.session();
    const ctx = providerContext(d.core());
    const owned = await d.owned();
    const first = await removeInOrder(session, owned, ctx);
    expect(first.failed).toEqual([]);
    const again = await removeInOrder(session, owned, ctx);
    expect(again.failed).toEqual([]);
    expect(await d.owned()).toEqual([]);
    expect(await h.listing()).toEqual([]);
  });

  it('two stages share an artifact, and down of one keeps it for the other', async () => {
    const a = await deployment('ct');
    const b = await sibling(a, 'other');
    const upA = await a.up();
    const upB = await b.up();
    expect(upB.artifact).toMatchObject({ sha256: upA.artifact.sha256, uploaded: false });
    await a.down();
    expect(await b.status()).toMatchObject({ state: 'ready', revision: upB.revision });
    expect((await b.invoke()).status).toBe(200);
    expect((await b.owned()).filter((r) => r.scope === 'artifact').map((r) => r.sha256)).toEqual([upB.artifact.sha256]);
    await b.down();
    expect(await h.listing()).toEqual([]);
  });

  it('with every other request throttled, up still ends ready and down still leaves nothing', async () => {
    const d = await deployment();
    h.throttle();
    const result = await d.up();
    expect(result).toMatchObject({ action: 'created', smoke: { passed: true } });
    await d.down();
    expect(await h.listing()).toEqual([]);
  });

  it('after down of an updated deployment, the inventory and the emulator are empty, and a second down has nothing to delete', async () => {
    const d = await deployment();
    await d.up();
    await d.write({ weights: 'v2', env: { VARIANT: 'b' } });
    await d.up();
    const result = await d.down();
    expect(result.nothingToDelete).toBe(false);
    expect(await d.owned()).toEqual([]);
    expect(await h.listing()).toEqual([]);
    expect((await d.down()).nothingToDelete).toBe(true);
  });

  it('what a kept failure leaves is found and removed by down', async () => {
    const d = await deployment();
    h.answer(() => ({ status: 500, body: { error: 'boom' } }));
    const error = await failureOf(d.up({ keepOnFailure: true }));
    expect(error.code).toBe('SmokeTestFailed');
    expect((await d.owned()).length).toBeGreaterThan(0);
    await d.down();
    expect(await h.listing()).toEqual([]);
  });

  it('two runs of one deployment at once: the second is refused naming the first, or waits for it with --wait', async () => {
    const d = await deployment();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let reached: () => void = () => undefined;
    const atDeploy = new Promise<void>((resolve) => (reached = resolve));
    observer = {
      before: async (name) => {
        if (name !== 'deploy') return;
        reached();
        await held;
      },
    };
    const first = d.up();
    await atDeploy;
    observer = {};
    const refused = await failureOf(d.up());
    expect(refused).toMatchObject({ code: 'DeploymentLocked', kind: 'provider' });
    expect(refused.message).toContain('modeldeploy up');
    expect(refused.details?.holder).toMatchObject({ pid: process.pid, command: 'modeldeploy up' });
    const queued = d.up({ lock: { wait: true, timeoutMs: 120_000 } });
    release();
    const [done, after] = await Promise.all([first, queued]);
    expect(done.action).toBe('created');
    expect(after).toMatchObject({ action: 'unchanged', revision: done.revision });
    expect(d.progress.codes()).toContain('WaitingForLock');
  });

  it('up racing down: the deployment ends either intact or gone, never half', async () => {
    const outcomes: string[] = [];
    for (const deployedBefore of [false, true]) {
      const d = await deployment();
      if (deployedBefore) await d.up();
      const wait = { lock: { wait: true, timeoutMs: 120_000 } };
      const spec = await d.spec();
      await Promise.all([d.up(wait), down(spec, { keepArtifacts: false, ...wait }, d.core())]);
      const status = await d.status();
      const owned = await d.owned();
      if (status.state === 'ready') {
        // Intact: an endpoint serving its revision, that revision, its artifact, and it answers.
        expect(owned.map((r) => r.scope)).toEqual(expect.arrayContaining(['artifact', 'endpoint', 'revision']));
        expect((await d.invoke()).status).toBe(200);
        outcomes.push('intact');
      } else {
        expect(status.state).toBe('absent');
        expect(owned).toEqual([]);
        expect(await h.listing()).toEqual([]);
        outcomes.push('gone');
      }
      await d.down();
    }
    expect(outcomes).toHaveLength(2);
  });

  it('a revision kept after a failed smoke test is never reported good: the same up fails again, status says failed', async () => {
    const d = await deployment();
    h.answer(() => ({ status: 500, body: { error: 'boom' } }));
    const kept = await failureOf(d.up({ keepOnFailure: true }));
    expect(kept.code).toBe('SmokeTestFailed');
    const again = await failureOf(d.up());
    expect(again).toMatchObject({ code: 'SmokeTestFailed', kind: 'smoke' });
    expect((await d.status()).state).not.toBe('ready');
    h.answer(() => ({ status: 200, body: { predictions: [0] } }));
    const fixed = await d.up();
    expect(fixed.smoke?.passed).toBe(true);
    expect(await d.status()).toMatchObject({ state: 'ready', revision: fixed.revision });
    await d.down();
    expect(await h.listing()).toEqual([]);
  });

  it('a run that dies before it can roll back is finished by the next down, from its journal', async () => {
    const d = await deployment();
    // The run "dies" once everything is created: its journal is written, its lock left behind.
    const controller = new AbortController();
    let died: () => void = () => undefined;
    const dead = new Promise<void>((resolve) => (died = resolve));
    observer = {
      before: async (name) => {
        if (name !== 'invoke') return;
        died();
        await new Promise(() => undefined); // never returns: the process is gone
      },
    };
    void d.up({}, controller.signal).catch(() => undefined);
    await dead;
    observer = {};
    expect((await d.owned()).length).toBeGreaterThan(0);
    // Its lock stays until it goes stale; `unlock` breaks it, as a user would for a dead machine.
    const session = await d.session();
    const { breakLock } = await import('../../src/core/lock.js');
    expect((await breakLock(session.provider.artifacts, session.t, new AbortController().signal)).length).toBe(1);
    await d.down();
    expect(d.progress.codes()).not.toContain('TeardownIncomplete');
    expect(await d.owned()).toEqual([]);
    expect(await h.listing()).toEqual([]);
  });

  it('status is partial while something of the deployment exists without an endpoint, absent only when nothing does', async () => {
    const d = await deployment();
    const spec = await d.spec();
    expect((await d.status()).state).toBe('absent');
    // Only the artifact is there: an upload that ran, a deploy that never started.
    observer = {
      before: (name) => {
        if (name === 'deploy') throw new Error('stopped before deploy');
      },
    };
    await failureOf(d.up({ keepOnFailure: true })).catch(() => undefined);
    observer = {};
    const status = await statusOf(spec, d.core());
    expect(status.state).toBe('partial');
    expect(status.reason).toContain('modeldeploy down');
    await d.down();
    expect((await d.status()).state).toBe('absent');
  });

  it('list finds the deployment with its revision', async () => {
    const d = await deployment();
    const result = await d.up();
    const session = await d.session();
    const found = await session.provider.list(providerContext(d.core()));
    expect(found).toContainEqual(expect.objectContaining({ name: d.name, stage: d.stage, revision: result.revision, state: 'ready' }));
  });

  it('every value crossing the contract survives a JSON round trip', async () => {
    const d = await deployment();
    await d.up();
    await statusOf(await d.spec(), d.core());
    await d.down();
    expect(log.calls.length).toBeGreaterThan(0);
    for (const call of log.calls) {
      // The last argument is the context (signal, clock, callbacks); byte bodies travel as Uint8Array.
      for (const value of [...call.args.slice(0, -1), call.result].filter((v) => v !== undefined).map(withoutBytes)) {
        expect(JSON.parse(JSON.stringify(value)), call.name).toEqual(value);
      }
    }
  });
});

/** Calls that change something. */
const WRITES = new Set(['deploy', 'promote', 'remove', 'artifacts.upload', 'artifacts.write', 'artifacts.create', 'artifacts.delete', 'artifacts.abortIncomplete']);

/** The store keys a call names (its first argument: a key, or a list of keys). */
function keysOf(call: { args: unknown[] }): string[] {
  const first = call.args[0];
  return Array.isArray(first) ? first.map(String) : typeof first === 'string' ? [first] : [];
}

function withoutBytes(value: unknown): unknown {
  if (value instanceof Uint8Array) return '<bytes>';
  if (Array.isArray(value)) return value.map(withoutBytes);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutBytes(v)]));
  return value;
}

