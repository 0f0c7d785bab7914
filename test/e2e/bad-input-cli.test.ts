/**
 * Bad input through the built CLI: exit 2, file:line:col, the field and a hint on stderr, and
 * nothing created (MODELDEPLOY_HOME stays empty, no .modeldeploy cache of a result).
 */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesUnder, ROOT, runCli, tempHome } from '../support/cli.js';

let work: string;
let home: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'md-bad-'));
  home = await tempHome();
  await mkdir(path.join(work, 'model'));
  await copyFile(path.join(ROOT, 'examples/local-onnx/model/model.onnx'), path.join(work, 'model', 'model.onnx'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
  await rm(home, { recursive: true, force: true });
});

const FILES: Array<[string, string, string]> = [
  ['unknown key', 'name: iris\nmodel:\n  path: ./model\n  framework: onnx\n  verison: "1"\n', 'deploy.yaml:5:3 model.verison'],
  ['wrong cloud instance type', 'name: iris\nprovider: aws\nregion: us-east-1\nmodel: {path: ./model, framework: sklearn}\ninstance: {type: Standard_DS3_v2}\naws: {roleArn: "arn:aws:iam::123456789012:role/R", bucket: my-bucket}\n', 'deploy.yaml:5:18 instance.type'],
  ['unset variable', 'name: iris\nmodel: {path: ./model, framework: onnx}\nenv:\n  KEY: ${SECRET_KEY}\n', 'deploy.yaml:4:8 env.KEY'],
  ['missing model path', 'name: iris\nmodel: {path: ./weights, framework: onnx}\n', 'deploy.yaml:2:15 model.path'],
  ['YAML syntax', 'name: iris\nmodel: [path: ./model\n', 'deploy.yaml:3:1'],
];

describe.each(['validate', 'plan', 'up', 'down'])('%s with a bad deploy.yaml', (command) => {
  it.each(FILES)('%s: exit 2, located, with a hint, nothing created', async (_what, yaml, where) => {
    await writeFile(path.join(work, 'deploy.yaml'), yaml);
    const run = await runCli([command], { cwd: work, env: { MODELDEPLOY_HOME: home } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(where);
    expect(run.stderr).toMatch(/\(.+\)|hint: /); // every issue carries its fix
    expect(run.stdout).toBe('');
    expect(await filesUnder(home)).toEqual([]);
    expect(await filesUnder(path.join(work, '.modeldeploy'))).toEqual([]);
  });
});
