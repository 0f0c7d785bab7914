/**
 * Bad deploy.yaml files: each is reported with file, line, column, the field path and a hint,
 * and every problem of a file at once. (Nothing is created: the loader makes no call at all;
 * test/e2e/local.test.ts and json.test.ts check the CLI's exit 2 end to end.)
 */
import { mkdir, mkdtemp, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDeployment, parseDeployment } from '../../src/config/load.js';
import { ConfigError, ModeldeployError } from '../../src/core/errors.js';
import { registry } from '../../providers/index.js';
import { ROOT } from '../support/cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'md-config-'));
  await mkdir(path.join(dir, 'model'));
  await copyFile(path.join(ROOT, 'examples/local-onnx/model/model.onnx'), path.join(dir, 'model', 'model.onnx'));
  await mkdir(path.join(dir, 'empty-model'));
  await writeFile(path.join(dir, 'empty-model', 'weights.bin'), 'x');
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

async function problems(text: string, env: NodeJS.ProcessEnv = {}): Promise<ConfigError['issues']> {
  const file = path.join(dir, 'deploy.yaml');
  await writeFile(file, text);
  try {
    await loadDeployment(file, { env, rules: (id) => registry.rules(id), displayPath: 'deploy.yaml' });
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error('expected the file to be rejected');
}

const LOCAL = 'name: iris\nmodel:\n  path: ./model\n  framework: onnx\n';
const AWS = (instance: string) =>
  `name: iris\nprovider: aws\nregion: us-east-1\nmodel:\n  path: ./model\n  framework: sklearn\ninstance:\n  type: ${instance}\naws:\n  roleArn: arn:aws:iam::123456789012:role/R\n  bucket: my-bucket\n`;
const GCP = (instance: string) =>
  `name: iris\nprovider: gcp\nregion: us-central1\nmodel:\n  path: ./model\n  framework: sklearn\ninstance:\n  type: ${instance}\ngcp:\n  project: my-project\n  bucket: my-bucket\n`;
const AZURE = (name: string, instance: string) =>
  `name: ${name}\nprovider: azure\nregion: eastus\nmodel:\n  path: ./model\n  framework: sklearn\ninstance:\n  type: ${instance}\nazure:\n  subscriptionId: 00000000-0000-0000-0000-000000000000\n  resourceGroup: rg\n  workspace: ws\n`;

// [what, yaml, path, line, column, words in the message, words in the hint (or null: none expected)]
const CASES: Array<[string, string, string, number, number, string, string | null]> = [
  ['YAML: unclosed flow mapping', 'name: iris\nmodel: {path: ./model, framework: onnx\n', '', 3, 1, 'YAML syntax error', 'brackets'],
  ['YAML: tab indentation', 'name: iris\nmodel:\n\tpath: ./model\n', '', 3, 1, 'YAML syntax error', 'spaces'],
  ['YAML: duplicate key', `${LOCAL}name: other\n`, '', 5, 1, 'YAML syntax error', 'each field may appear once'],
  ['empty file', '# nothing\n', '', 1, 1, 'empty', 'init'],
  ['top-level list', '- name: iris\n', '', 1, 1, 'mapping of fields', null],
  ['unknown top-level key', `${LOCAL}modle: {}\n`, 'modle', 5, 1, 'unknown field "modle"', 'did you mean "model"?'],
  ['unknown nested key', 'name: iris\nmodel:\n  path: ./model\n  framwork: onnx\n', 'model.framwork', 4, 3, 'unknown field "framwork"', 'did you mean "framework"?'],
  ['wrong type', `${LOCAL}instance:\n  count: "1"\n`, 'instance.count', 6, 10, 'expected a number, got "1"', 'without quotes'],
  ['enum typo', 'name: iris\nmodel:\n  path: ./model\n  framework: sklern\n', 'model.framework', 4, 14, '"sklern" is not one of', 'did you mean "sklearn"?'],
  ['provider typo', `${LOCAL}provider: awz\n`, 'provider', 5, 11, '"awz" is not one of', 'did you mean "aws"?'],
  ['bad name (uppercase)', LOCAL.replace('iris', 'Iris_Model'), 'name', 1, 7, 'lowercase letters', null],
  ['name too long', LOCAL.replace('iris', 'a'.repeat(41)), 'name', 1, 7, 'longer than 40', null],
  ['bad stage', `${LOCAL}stage: Prod\n`, 'stage', 5, 8, 'lowercase letters', null],
  ['missing name', 'model:\n  path: ./model\n  framework: onnx\n', 'name', 1, 1, 'name is required', 'add `name:'],
  ['missing model', 'name: iris\n', 'model', 1, 1, 'model is required', 'add `model:'],
  ['model with neither path nor uri', 'name: iris\nmodel:\n  framework: onnx\n', 'model', 3, 3, 'needs either path or uri', 'path: ./model'],
  ['model with both path and uri', 'name: iris\nmodel:\n  path: ./model\n  uri: s3://b/k\n  framework: onnx\n', 'model.uri', 4, 8, 'both set', 'remove'],
  ['model path missing on disk', LOCAL.replace('./model', './nope'), 'model.path', 3, 9, './nope does not exist', 'relative to deploy.yaml'],
  ['unset ${VAR}', `${LOCAL}env:\n  TOKEN: \${API_TOKEN}\n`, 'env.TOKEN', 6, 10, 'API_TOKEN is not set', 'export API_TOKEN'],
  ['malformed ${', `${LOCAL}env:\n  X: "\${oops"\n`, 'env.X', 6, 6, 'malformed reference', '${NAME}'],
  ['bad duration', `${LOCAL}timeouts: {deploy: 30 minutes}\n`, 'timeouts.deploy', 5, 20, 'duration such as 90s', null],
  ['negative count', `${LOCAL}instance:\n  count: -1\n`, 'instance.count', 6, 10, '-1', null],
  ['autoscaling min above max', `${LOCAL.replace('onnx', 'onnx')}instance:\n  autoscaling: {min: 3, max: 2}\n`, 'instance.autoscaling.min', 6, 22, 'min (3) is above max (2)', null],
  ['aws without region', AWS('ml.m5.large').replace('region: us-east-1\n', ''), '', 1, 1, 'needs a region', 'region: us-east-1'],
  ['aws without its block', AWS('ml.m5.large').split('aws:')[0] ?? '', '', 1, 1, 'needs an aws block', 'roleArn'],
  ['aws with an Azure instance type', AWS('Standard_DS3_v2'), 'instance.type', 8, 9, 'azure (Azure ML) type', 'ml.m5.large'],
  ['aws instance typo', AWS('ml.m5.lage'), 'instance.type', 8, 9, 'not a SageMaker instance type', 'did you mean ml.m5.large?'],
  ['aws bad role ARN', AWS('ml.m5.large').replace('arn:aws:iam::123456789012:role/R', 'my-role'), 'aws.roleArn', 10, 12, 'not an IAM role ARN', 'arn:aws:iam::'],
  ['gcp with a SageMaker instance type', GCP('ml.m5.large'), 'instance.type', 8, 9, 'aws (SageMaker) type', 'n1-standard-4'],
  ['azure with a Vertex machine type', AZURE('iris', 'n1-standard-4'), 'instance.type', 8, 9, 'gcp (Vertex AI) type', 'Standard_DS3_v2'],
  ['azure endpoint name too long', AZURE('a-very-long-deployment-name-x', 'Standard_DS3_v2'), 'name', 1, 7, 'must be 3-32 characters', 'shorten name or stage by 5'],
  ['local with framework sklearn', LOCAL.replace('onnx', 'sklearn'), 'model.framework', 4, 14, 'no sklearn server', 'ONNX'],
  ['local onnx folder without .onnx', LOCAL.replace('./model', './empty-model'), 'model.path', 3, 9, 'no .onnx file', 'model.onnx'],
  ['smoke file missing', `${LOCAL}smoke:\n  request: {file: ./missing.json}\n`, 'smoke.request.file', 6, 19, 'does not exist', 'relative to deploy.yaml'],
  ['smoke expect body without request', `${LOCAL}smoke:\n  expect: {body: {predictions: [0]}}\n`, 'smoke.expect.body', 6, 18, 'smoke.request is missing', 'add smoke.request'],
  ['command with a non-custom framework', `${LOCAL}`.replace('  framework: onnx\n', '  framework: onnx\n  command: [python3, serve.py]\n'), 'model.command', 5, 12, 'only used with framework: custom', 'framework: custom'],
];

describe('bad deploy.yaml', () => {
  it(`covers at least 30 distinct problems (${CASES.length})`, () => {
    expect(new Set(CASES.map((c) => c[0])).size).toBe(CASES.length);
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  it.each(CASES)('%s', async (_what, yaml, field, line, column, message, hint) => {
    const issues = await problems(yaml);
    const issue = issues.find((i) => i.path === field) ?? issues[0];
    expect(issue, JSON.stringify(issues)).toBeDefined();
    expect({ file: issue?.file, path: issue?.path, line: issue?.line, column: issue?.column }).toEqual({ file: 'deploy.yaml', path: field, line, column });
    expect(issue?.message).toContain(message);
    if (hint) expect(issue?.hint).toContain(hint);
  });

  it('reports every problem of a file at once, in line order', async () => {
    const issues = await problems('name: Iris\nmodle: {}\nmodel:\n  path: ./model\n  framework: sklern\ninstance:\n  count: "2"\nenv:\n  A: ${MISSING}\n');
    expect(issues.map((i) => `${i.line}:${i.column} ${i.path}`)).toEqual(['1:7 name', '2:1 modle', '5:14 model.framework', '7:10 instance.count', '9:6 env.A']);
  });

  it('a missing file is ConfigNotFound with a hint to run init', async () => {
    await expect(loadDeployment(path.join(dir, 'nope.yaml'))).rejects.toMatchObject({ code: 'ConfigNotFound', kind: 'usage', hint: expect.stringContaining('init') });
  });
});

describe('good deploy.yaml', () => {
  it('applies defaults and parses durations', async () => {
    const { spec } = await parseDeployment(LOCAL, path.join(dir, 'deploy.yaml'), { env: {} });
    expect(spec).toMatchObject({ provider: 'local', stage: 'default', instance: { count: 1 }, timeouts: { deployMs: 1_800_000, startupMs: 600_000 }, env: {}, tags: {} });
    expect(spec.model.path).toBe(path.join(dir, 'model'));
  });

  it('interpolates ${VAR}, ${VAR:-default} and $${ in nested strings, and --stage overrides', async () => {
    const text = `${LOCAL}stage: dev\nenv:\n  A: "\${A}-x"\n  B: \${B:-fallback}\n  C: "$\${LITERAL}"\ntags:\n  team: \${TEAM:-ml}\n`;
    const { spec } = await parseDeployment(text, path.join(dir, 'deploy.yaml'), { env: { A: 'a' }, stage: 'prod' });
    expect(spec.env).toEqual({ A: 'a-x', B: 'fallback', C: '${LITERAL}' });
    expect(spec.tags).toEqual({ team: 'ml' });
    expect(spec.stage).toBe('prod');
  });

  it('accepts a file smoke request and infers its content type', async () => {
    await writeFile(path.join(dir, 'sample.csv'), '1,2,3,4\n');
    const { spec } = await parseDeployment(`${LOCAL}smoke:\n  request: {file: ./sample.csv}\n`, path.join(dir, 'deploy.yaml'), { env: {} });
    expect(spec.smoke?.request).toEqual({ kind: 'file', file: path.join(dir, 'sample.csv'), contentType: 'text/csv' });
  });

  it('never changes what it was given: a modeldeploy error carries a copy', async () => {
    const error = await parseDeployment('name: X\nmodel: {path: ./model, framework: onnx}\n', 'd.yaml', { env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModeldeployError);
    expect((error as ModeldeployError).kind).toBe('usage');
  });
});
