/**
 * A bad deploy.yaml through the BUILT CLI, as a user or CI job runs it: for validate, plan, up
 * and down the exit code is 2, stderr names file:line:col, the field and a hint, --json prints
 * exactly one ConfigInvalid document listing every issue, and nothing is created anywhere
 * (MODELDEPLOY_HOME, HOME and the project folder hold only what was there before).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { CLI, filesUnder, ROOT, runCli } from '../support/cli.js';

/** The newest .ts under the compiled folders: dist is stale when it is older than this. */
function newestSourceMs(): number {
  let newest = statSync(path.join(ROOT, 'tsconfig.json')).mtimeMs;
  for (const folder of ['src', 'providers']) {
    for (const entry of readdirSync(path.join(ROOT, folder), { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
    }
  }
  return newest;
}

beforeAll(() => {
  if (existsSync(CLI) && statSync(CLI).mtimeMs >= newestSourceMs()) return;
  try {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'pipe' });
  } catch (error) {
    // Someone else's half-written file can fail the type check; tsc still emits, and a dist
    // built moments ago by another run is as good. Only a missing CLI is fatal.
    if (!existsSync(CLI)) throw error;
  }
}, 120_000);

const scratch: string[] = [];
afterAll(async () => {
  await Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

const y = (...lines: string[]) => `${lines.join('\n')}\n`;
const LOCAL = ['name: iris', 'model:', '  path: ./model', '  framework: onnx'];
const AWS = [
  'name: iris',
  'provider: aws',
  'region: us-east-1',
  'model:',
  '  path: ./model',
  '  framework: sklearn',
  'instance:',
  '  type: ml.m5.large',
  'aws:',
  '  roleArn: arn:aws:iam::123456789012:role/SageMakerRole',
  '  bucket: my-artifacts',
];

interface BadFile {
  yaml: string;
  /** Every issue, as the human output locates it: `deploy.yaml:line:col path`. */
  issues: string[];
  /** What the hint line on stderr says. */
  hint: string;
}

const FILES: Record<string, BadFile> = {
  'YAML syntax error': { yaml: y('name: iris', 'model: {path: ./model, framework: onnx'), issues: ['deploy.yaml:3:1 (root)'], hint: 'a closing } is missing' },
  'unknown field': { yaml: y(...LOCAL, '  verison: "1"'), issues: ['deploy.yaml:5:3 model.verison'], hint: 'did you mean "version"?' },
  'framework typo': { yaml: y('name: iris', 'model:', '  path: ./model', '  framework: sklern'), issues: ['deploy.yaml:4:14 model.framework'], hint: 'did you mean "sklearn"?' },
  'unset variable': { yaml: y(...LOCAL, 'env:', '  KEY: ${SECRET_KEY}'), issues: ['deploy.yaml:6:8 env.KEY'], hint: 'export SECRET_KEY=' },
  'model path missing on disk': { yaml: y('name: iris', 'model:', '  path: ./weights', '  framework: onnx'), issues: ['deploy.yaml:3:9 model.path'], hint: 'paths are relative to deploy.yaml' },
  'aws with an Azure instance type': { yaml: y(...AWS.slice(0, 7), '  type: Standard_DS3_v2', ...AWS.slice(8)), issues: ['deploy.yaml:8:9 instance.type'], hint: 'SageMaker types look like ml.m5.large' },
  'azure endpoint name too long': {
    yaml: y(
      'name: customer-churn-predictor',
      'stage: production',
      'provider: azure',
      'region: eastus',
      'model: {path: ./model, framework: sklearn}',
      'instance: {type: Standard_DS3_v2}',
      'azure: {subscriptionId: 00000000-0000-0000-0000-000000000000, resourceGroup: ml-rg, workspace: ml-ws}',
    ),
    issues: ['deploy.yaml:1:7 name'],
    hint: 'shorten name or stage by 3 characters',
  },
  'several problems at once': {
    yaml: y('name: Iris', 'modle: {}', 'model:', '  path: ./model', '  framework: onnx', 'instance:', '  count: "2"'),
    issues: ['deploy.yaml:1:7 name', 'deploy.yaml:2:1 modle', 'deploy.yaml:7:10 instance.count'],
    hint: 'Fix each problem listed; nothing was deployed.',
  },
};

const COMMANDS = ['validate', 'plan', 'up', 'down'] as const;

/** A project folder with deploy.yaml and a model, and empty homes: all fresh for each run. */
async function setUp(yaml: string) {
  const work = await tempDir('md-bad-work-');
  await mkdir(path.join(work, 'model'));
  await copyFile(path.join(ROOT, 'examples/local-onnx/model/model.onnx'), path.join(work, 'model', 'model.onnx'));
  await writeFile(path.join(work, 'deploy.yaml'), yaml);
  return { work, home: await tempDir('md-bad-home-'), userHome: await tempDir('md-bad-user-') };
}

// Each file meets every command once; half the runs use --json, so each file and each command
// is seen in both modes without running all 64 combinations.
const RUNS = Object.entries(FILES).flatMap(([what, file], i) => COMMANDS.map((command, j) => ({ what, file, command, json: (i + j) % 2 === 1 })));

describe.concurrent('a bad deploy.yaml through the built CLI', () => {
  it.for(RUNS)('$command, $what (json: $json): exit 2, located, hinted, nothing created', async ({ file, command, json }, { expect }) => {
    const { work, home, userHome } = await setUp(file.yaml);
    const run = await runCli([command, ...(json ? ['--json'] : [])], { cwd: work, env: { MODELDEPLOY_HOME: home, HOME: userHome } });

    expect(run.code, run.stderr).toBe(2);
    for (const issue of file.issues) expect(run.stderr).toContain(issue);
    expect(run.stderr).toContain(`hint: ${file.hint}`);

    if (json) {
      // Exactly one JSON document: JSON.parse rejects a second one or any stray text.
      const document = JSON.parse(run.stdout) as { ok: boolean; error: { code: string; kind: string; details: { issues: Array<{ file: string; line: number; column: number; path: string; message: string; hint?: string }> } } };
      expect(document).toMatchObject({ ok: false, error: { code: 'ConfigInvalid', kind: 'usage' } });
      const issues = document.error.details.issues;
      expect(issues.map((i) => `${i.file}:${i.line}:${i.column} ${i.path || '(root)'}`)).toEqual(file.issues);
      for (const i of issues) expect(i.message).toEqual(expect.any(String));
    } else {
      expect(run.stdout).toBe('');
    }

    expect(await filesUnder(home)).toEqual([]);
    expect(await filesUnder(userHome)).toEqual([]);
    expect((await filesUnder(work)).sort()).toEqual(['deploy.yaml', path.join('model', 'model.onnx')]);
  });

  it.for(COMMANDS)('%s without a deploy.yaml: exit 2, ConfigNotFound, pointing at init', async (command, { expect }) => {
    const work = await tempDir('md-bad-none-');
    const home = await tempDir('md-bad-home-');
    const human = await runCli([command], { cwd: work, env: { MODELDEPLOY_HOME: home } });
    expect(human.code).toBe(2);
    expect(human.stderr).toContain('deploy.yaml does not exist');
    expect(human.stderr).toContain('hint: Run `modeldeploy init`');
    const json = await runCli([command, '--json', '-f', 'missing.yaml'], { cwd: work, env: { MODELDEPLOY_HOME: home } });
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 'ConfigNotFound', kind: 'usage', hint: expect.stringContaining('modeldeploy init') } });
    expect(await filesUnder(home)).toEqual([]);
    expect(await filesUnder(work)).toEqual([]);
  });
});
