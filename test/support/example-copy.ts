/**
 * One of examples/ copied to a temp folder for an e2e test: the CLI runs there as a subprocess,
 * and everything it printed or left under .modeldeploy/ is kept, so a test can prove a secret
 * never appeared in any of it.
 */
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HashCache, hashArtifact } from '../../src/artifacts/hash.js';
import { loadDeployment } from '../../src/config/load.js';
import { revisionId } from '../../src/core/revision.js';
import { registry } from '../../providers/index.js';
import { filesUnder, ROOT, runCli, type CliOptions, type CliRun } from './cli.js';

export class ExampleCopy {
  dir = '';

  /** `printed` collects every stdout and stderr of the runs and every file they left in .modeldeploy/ (copies may share one). */
  constructor(
    private readonly example: string,
    private readonly env: () => NodeJS.ProcessEnv,
    readonly printed: string[] = [],
  ) {}

  get deployFile(): string {
    return path.join(this.dir, 'deploy.yaml');
  }

  /** A fresh copy (call in beforeEach). */
  async create(): Promise<void> {
    this.dir = await mkdtemp(path.join(tmpdir(), `md-${this.example}-`));
    await cp(path.join(ROOT, 'examples', this.example), this.dir, { recursive: true });
  }

  /** Keep what the runs stored, then remove the copy (call in afterEach). */
  async dispose(): Promise<void> {
    const state = path.join(this.dir, '.modeldeploy');
    for (const file of await filesUnder(state)) this.printed.push(await readFile(path.join(state, file), 'utf8'));
    await rm(this.dir, { recursive: true, force: true });
  }

  /** The CLI on this copy's deploy.yaml, with the test's settings (extra.env replaces them). */
  async cli(args: string[], extra: CliOptions = {}): Promise<CliRun> {
    const run = await runCli([...args, '-f', this.deployFile], { cwd: this.dir, env: this.env(), ...extra });
    this.printed.push(run.stdout, run.stderr);
    return run;
  }

  /** The revision `up` will compute for the copy as it is now. */
  async revision(): Promise<string> {
    const { spec } = await loadDeployment(this.deployFile, { env: this.env(), registry });
    return revisionId(spec, await hashArtifact(spec.model.path ?? '', await HashCache.open(undefined)), await registry.module(spec.provider));
  }
}
