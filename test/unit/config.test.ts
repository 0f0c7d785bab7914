/**
 * The deploy.yaml loader against bad input: every problem is a ConfigError issue with the file,
 * the line and column of the offending value (computed here by hand from the YAML text), the
 * field path, a message naming the bad value and, where the loader has one, a hint. Then the
 * good paths: defaults, --stage, interpolation, and nothing the caller passed being changed.
 */
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDeployment, parseDeployment, type LoadOptions } from '../../src/config/load.js';
import { ConfigError, type ConfigIssue, UsageError } from '../../src/core/errors.js';
import { registry } from '../../providers/index.js';
import { ROOT } from '../support/cli.js';

let dir: string;
let file: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'md-config-'));
  file = path.join(dir, 'deploy.yaml');
  await mkdir(path.join(dir, 'model'));
  await copyFile(path.join(ROOT, 'examples/local-onnx/model/model.onnx'), path.join(dir, 'model', 'model.onnx'));
  await mkdir(path.join(dir, 'weights-only'));
  await writeFile(path.join(dir, 'weights-only', 'weights.bin'), 'not onnx');
  await mkdir(path.join(dir, 'sklearn-model'));
  await writeFile(path.join(dir, 'sklearn-model', 'model.joblib'), 'a joblib dump');
  await writeFile(path.join(dir, 'request.json'), '{"instances": [[1, 2]]}');
  await writeFile(path.join(dir, 'sample.csv'), '5.1,3.5,1.4,0.2\n');
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

/** One YAML document from its lines: line N of the file is argument N. */
const y = (...lines: string[]) => `${lines.join('\n')}\n`;
/** Replace whole lines (1-based) so every other line keeps its number. */
const set = (base: readonly string[], lines: Record<number, string>) => base.map((l, i) => lines[i + 1] ?? l);

const LOCAL = ['name: iris', 'model:', '  path: ./model', '  framework: onnx'];
const AWS = [
  'name: iris', //                                           1
  'provider: aws', //                                        2
  'region: us-east-1', //                                    3
  'model:', //                                               4
  '  path: ./model', //                                      5
  '  framework: sklearn', //                                 6
  'instance:', //                                            7
  '  type: ml.m5.large', //                                  8
  'aws:', //                                                 9
  '  roleArn: arn:aws:iam::123456789012:role/SageMakerRole', // 10
  '  bucket: my-artifacts', //                               11
];
/** Vertex's prebuilt sklearn container loads model.joblib, so the GCP base points at a folder holding one. */
const GCP = set(AWS, { 2: 'provider: gcp', 3: 'region: us-central1', 5: '  path: ./sklearn-model', 8: '  type: n1-standard-4', 9: 'gcp:', 10: '  project: my-project', 11: '  bucket: my-artifacts' });
const AZURE = [
  ...set(AWS, { 2: 'provider: azure', 3: 'region: eastus', 8: '  type: Standard_DS3_v2', 9: 'azure:', 10: '  subscriptionId: 00000000-0000-0000-0000-000000000000', 11: '  resourceGroup: ml-rg' }),
  '  workspace: ml-ws',
];

async function load(text: string, options: Partial<LoadOptions> = {}) {
  await writeFile(file, text);
  return loadDeployment(file, { env: {}, registry, displayPath: 'deploy.yaml', ...options });
}

async function issuesOf(text: string, options: Partial<LoadOptions> = {}): Promise<readonly ConfigIssue[]> {
  const error = await load(text, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the file should be rejected').toBeInstanceOf(ConfigError);
  const issues = (error as ConfigError).issues;
  expect((error as ConfigError).code).toBe('ConfigInvalid');
  expect((error as ConfigError).kind).toBe('usage');
  expect((error as ConfigError).details).toEqual({ issues });
  return issues;
}

const where = (i: ConfigIssue) => `${i.line}:${i.column} ${i.path}`;

interface Case {
  yaml: string;
  options?: Partial<LoadOptions>;
  /** The issue under test. */
  path: string;
  line: number;
  column: number;
  /** Words the message must hold. */
  message: string[];
  /** Words the hint must hold, or null: the loader gives none for this problem. */
  hint: string | null;
  /** The file's other issues, as `line:col path`, when it has more than one. */
  others?: string[];
}

const CASES: Record<string, Case> = {
  // Stage 1: YAML syntax. Positions are where the parser noticed (end of input for unclosed brackets).
  'YAML: unclosed flow mapping': { yaml: y('name: iris', 'model: {path: ./model, framework: onnx'), path: '', line: 3, column: 1, message: ['YAML syntax error', 'end with a }'], hint: 'a closing } is missing' },
  'YAML: unclosed flow sequence': { yaml: y('name: iris', 'model:', '  path: ./model', '  framework: custom', '  command: [python3, serve.py'), path: '', line: 6, column: 1, message: ['YAML syntax error', 'end with a ]'], hint: 'a closing ] is missing' },
  'YAML: unclosed quote': { yaml: y('name: "iris', 'model: {}'), path: '', line: 3, column: 1, message: ['YAML syntax error', 'Missing closing "quote'], hint: 'check brackets and quotes' },
  'YAML: sibling keys at different indentation': { yaml: y('name: iris', 'model:', '    path: ./model', '  framework: onnx'), path: '', line: 4, column: 1, message: ['YAML syntax error', 'same column'], hint: 'check the indentation' },
  'YAML: a key indented under a scalar': { yaml: y('name: iris', 'model:', '  path: ./model', '   framework: onnx'), path: '', line: 3, column: 9, message: ['YAML syntax error', 'Nested mappings are not allowed'], hint: 'missing colon', others: ['3:9 '] },
  'YAML: tab indentation': { yaml: y('name: iris', 'model:', '\tpath: ./model'), path: '', line: 3, column: 1, message: ['YAML syntax error', 'Tabs'], hint: 'indent with spaces, not tabs' },
  'YAML: duplicate top-level key': { yaml: y(...LOCAL, 'name: other'), path: 'name', line: 5, column: 1, message: ['"name" appears twice', 'first on line 1'], hint: 'each field may appear once' },
  'YAML: duplicate nested key': { yaml: y(...LOCAL, '  path: ./other'), path: 'model.path', line: 5, column: 3, message: ['"path" appears twice', 'first on line 3'], hint: 'each field may appear once' },

  // The document as a whole.
  'empty file': { yaml: '', path: '', line: 1, column: 1, message: ['the file is empty'], hint: 'modeldeploy init' },
  'only comments': { yaml: y('# deploy.yaml for iris', '# TODO'), path: '', line: 1, column: 1, message: ['the file is empty'], hint: 'modeldeploy init' },
  'top-level list': { yaml: y('- name: iris', '  model: {path: ./model, framework: onnx}'), path: '', line: 1, column: 1, message: ['expected a mapping of fields', 'top level'], hint: null },
  'top-level scalar': { yaml: y('iris'), path: '', line: 1, column: 1, message: ['expected a mapping of fields'], hint: null },

  // Unknown keys: located on the key itself.
  'unknown top-level key': { yaml: y(...LOCAL, 'regoin: us-east-1'), path: 'regoin', line: 5, column: 1, message: ['unknown field "regoin"'], hint: 'did you mean "region"?' },
  'unknown nested key (model.framwork)': {
    yaml: y('name: iris', 'model:', '  path: ./model', '  framwork: onnx'),
    path: 'model.framwork', line: 4, column: 3, message: ['unknown field "framwork"'], hint: 'did you mean "framework"?',
    others: ['3:3 model.framework'], // and so framework itself is missing
  },
  'unknown key with no near match': { yaml: y(...LOCAL, 'instance:', '  gpu: 1'), path: 'instance.gpu', line: 6, column: 3, message: ['unknown field "gpu"'], hint: 'expected one of: type, count, accelerator, autoscaling' },
  'unknown key inside a flow mapping': { yaml: y(...LOCAL, 'smoke:', '  request: {instances: [[1, 2]]}', '  expect: {stauts: 200}'), path: 'smoke.expect.stauts', line: 7, column: 12, message: ['unknown field "stauts"'], hint: 'did you mean "status"?' },

  // Wrong types.
  'quoted number (count: "2")': { yaml: y(...LOCAL, 'instance:', '  count: "2"'), path: 'instance.count', line: 6, column: 10, message: ['expected a number, got "2"'], hint: 'write 2 without quotes' },
  'fraction for a whole number': { yaml: y(...LOCAL, 'instance:', '  count: 1.5'), path: 'instance.count', line: 6, column: 10, message: ['expected a whole number, got 1.5'], hint: null },
  'model as a string': { yaml: y('name: iris', 'model: ./model'), path: 'model', line: 2, column: 8, message: ['expected a mapping, got "./model"'], hint: 'a mapping of fields' },
  'model left empty': { yaml: y('name: iris', 'model:'), path: 'model', line: 2, column: 7, message: ['expected a mapping, got null'], hint: 'a mapping of fields' },
  'command as a string': { yaml: y('name: iris', 'model:', '  path: ./model', '  framework: custom', '  command: python3 serve.py'), path: 'model.command', line: 5, column: 12, message: ['expected a list, got "python3 serve.py"'], hint: 'write it as a list' },
  'name as a number': { yaml: y('name: 42', 'model:', '  path: ./model', '  framework: onnx'), path: 'name', line: 1, column: 7, message: ['expected a string, got 42'], hint: 'quote it: "42"' },
  'tags as a list': { yaml: y(...LOCAL, 'tags: [team, ml]'), path: 'tags', line: 5, column: 7, message: ['expected a mapping, got a list'], hint: null },

  // Enums.
  'framework typo (sklern)': { yaml: y('name: iris', 'model:', '  path: ./model', '  framework: sklern'), path: 'model.framework', line: 4, column: 14, message: ['"sklern" is not one of: sklearn, xgboost'], hint: 'did you mean "sklearn"?' },
  'provider typo (awz)': { yaml: y(...LOCAL, 'provider: awz'), path: 'provider', line: 5, column: 11, message: ['"awz" is not one of: local, aws, gcp, azure'], hint: 'did you mean "aws"?' },
  'framework with no near match': { yaml: y('name: iris', 'model:', '  path: ./model', '  framework: keras'), path: 'model.framework', line: 4, column: 14, message: ['"keras" is not one of'], hint: null },
  'smoke.onFailure typo': { yaml: y(...LOCAL, 'smoke:', '  request: {instances: [[1, 2]]}', '  onFailure: rolback'), path: 'smoke.onFailure', line: 7, column: 14, message: ['"rolback" is not one of: rollback, keep'], hint: 'did you mean "rollback"?' },

  // Names: they end up in every cloud resource name.
  'name with uppercase': { yaml: y(...set(LOCAL, { 1: 'name: Iris' })), path: 'name', line: 1, column: 7, message: ['"Iris"', 'only lowercase letters, digits and \'-\''], hint: null },
  'name with an underscore': { yaml: y(...set(LOCAL, { 1: 'name: iris_model' })), path: 'name', line: 1, column: 7, message: ['"iris_model"', 'only lowercase letters'], hint: null },
  'name longer than 40': { yaml: y(...set(LOCAL, { 1: `name: ${'a'.repeat(41)}` })), path: 'name', line: 1, column: 7, message: ['name is longer than 40 characters'], hint: null },
  'name ending in a dash': { yaml: y(...set(LOCAL, { 1: 'name: iris-' })), path: 'name', line: 1, column: 7, message: ['not end with \'-\''], hint: null },
  'name starting with a digit': { yaml: y(...set(LOCAL, { 1: 'name: 9lives' })), path: 'name', line: 1, column: 7, message: ['start with a letter'], hint: null },
  'stage with uppercase': { yaml: y(...LOCAL, 'stage: Prod'), path: 'stage', line: 5, column: 8, message: ['"Prod"', 'stage may hold only lowercase letters'], hint: null },
  'stage longer than 16': { yaml: y(...LOCAL, 'stage: europe-west-production'), path: 'stage', line: 5, column: 8, message: ['stage is longer than 16 characters'], hint: null },
  'missing name': { yaml: y('model:', '  path: ./model', '  framework: onnx'), path: 'name', line: 1, column: 1, message: ['name is required'], hint: 'add `name: …`' },
  'missing name, after a header comment': { yaml: y('# yaml-language-server: $schema=./schema.json', 'model:', '  path: ./model', '  framework: onnx'), path: 'name', line: 2, column: 1, message: ['name is required'], hint: 'add `name: …`' },

  // The model block.
  'missing model': { yaml: y('name: iris'), path: 'model', line: 1, column: 1, message: ['model is required'], hint: 'add `model: …`' },
  'model with neither path nor uri': { yaml: y('name: iris', 'model:', '  framework: onnx'), path: 'model', line: 3, column: 3, message: ['needs either path or uri'], hint: 'add `path: ./model`' },
  'model with both path and uri': { yaml: y('name: iris', 'model:', '  path: ./model', '  uri: s3://bucket/model.tar.gz', '  framework: onnx'), path: 'model.uri', line: 4, column: 8, message: ['path and uri are both set'], hint: 'remove uri' },
  'model path missing on disk': { yaml: y(...set(LOCAL, { 3: '  path: ./weights' })), path: 'model.path', line: 3, column: 9, message: ['./weights does not exist', 'looked at'], hint: 'relative to deploy.yaml' },
  'model uri with an unknown scheme': { yaml: y('name: iris', 'model:', '  uri: ftp://host/model', '  framework: onnx'), path: 'model.uri', line: 3, column: 8, message: ['"ftp://host/model"', 'expected a URI starting with s3://'], hint: null },
  'command with a non-custom framework': { yaml: y(...LOCAL, '  command: [python3, serve.py]'), path: 'model.command', line: 5, column: 12, message: ['command is only used with framework: custom (this is onnx)'], hint: 'set framework: custom' },
  'empty command': { yaml: y(...set(LOCAL, { 4: '  framework: custom' }), '  command: []'), path: 'model.command', line: 5, column: 12, message: ['expected array to have >=1 items'], hint: null },

  // ${VAR} interpolation.
  'unset ${VAR}': { yaml: y(...LOCAL, 'env:', '  TOKEN: ${API_TOKEN}'), path: 'env.TOKEN', line: 6, column: 10, message: ['environment variable API_TOKEN is not set'], hint: 'export API_TOKEN=… or write ${API_TOKEN:-default}' },
  'unset ${VAR} in a list item': {
    yaml: y(...set(LOCAL, { 4: '  framework: custom' }), '  command: [python3, serve.py, --token, "${TOKEN}"]'),
    path: 'model.command[3]', line: 5, column: 41, message: ['environment variable TOKEN is not set'], hint: 'export TOKEN=',
  },
  'unset ${VAR} where a value is required': {
    yaml: y(...set(AWS, { 10: '  roleArn: ${SAGEMAKER_ROLE_ARN}' })),
    // Reported once: the empty string it leaves behind would fail min(1), which says nothing new.
    path: 'aws.roleArn', line: 10, column: 12, message: ['SAGEMAKER_ROLE_ARN is not set'], hint: 'export SAGEMAKER_ROLE_ARN=',
  },
  'two unset variables in one string': { yaml: y(...LOCAL, 'env:', '  URL: "https://${HOST}:${PORT}/v1"'), path: 'env.URL', line: 6, column: 8, message: ['HOST is not set'], hint: 'export HOST=', others: ['6:8 env.URL'] },
  'malformed ${ (unclosed)': { yaml: y(...LOCAL, 'env:', '  X: "${oops"'), path: 'env.X', line: 6, column: 6, message: ['malformed reference ${oops'], hint: 'write ${NAME} or ${NAME:-default}' },
  'malformed ${ (bad name)': { yaml: y(...LOCAL, 'env:', '  X: ${1BAD}'), path: 'env.X', line: 6, column: 6, message: ['malformed reference ${1BAD}'], hint: '$${ for a literal' },
  'unsupported ${VAR:?message}': { yaml: y(...LOCAL, 'env:', '  X: ${TOKEN:?required}'), path: 'env.X', line: 6, column: 6, message: ['malformed reference ${TOKEN:?required}'], hint: '${NAME:-default}' },

  // Durations and numbers.
  'duration in words': { yaml: y(...LOCAL, 'timeouts: {deploy: 30 minutes}'), path: 'timeouts.deploy', line: 5, column: 20, message: ['"30 minutes"', 'expected a duration such as 90s, 30m or 1h'], hint: null },
  'duration in days': { yaml: y(...LOCAL, 'timeouts: {deploy: 1d}'), path: 'timeouts.deploy', line: 5, column: 20, message: ['"1d"', 'expected a duration'], hint: null },
  'zero seconds': { yaml: y(...LOCAL, 'timeouts: {startup: 0}'), path: 'timeouts.startup', line: 5, column: 21, message: ['0:', '>0'], hint: null },
  'negative count': { yaml: y(...LOCAL, 'instance:', '  count: -1'), path: 'instance.count', line: 6, column: 10, message: ['-1', '>=1'], hint: null },
  'count above 100': { yaml: y(...LOCAL, 'instance:', '  count: 101'), path: 'instance.count', line: 6, column: 10, message: ['101', '<=100'], hint: null },
  'autoscaling min above max': { yaml: y(...LOCAL, 'instance:', '  autoscaling: {min: 3, max: 2}'), path: 'instance.autoscaling.min', line: 6, column: 22, message: ['min (3) is above max (2)'], hint: null },
  'autoscaling max 0': { yaml: y(...LOCAL, 'instance:', '  autoscaling: {min: 0, max: 0}'), path: 'instance.autoscaling.max', line: 6, column: 30, message: ['0', '>=1'], hint: null },

  // Cloud providers: cross-field checks, then each provider's own rules.
  'aws without region': { yaml: y(...AWS.filter((_, i) => i !== 2)), path: 'region', line: 2, column: 11, message: ['provider aws needs a region'], hint: 'add `region: us-east-1`' },
  'aws without its block': { yaml: y(...AWS.slice(0, 8)), path: 'aws', line: 2, column: 11, message: ['provider aws needs an aws block'], hint: 'roleArn' },
  'azure without region nor block': { yaml: y(...AZURE.slice(0, 8).filter((_, i) => i !== 2)), path: 'region', line: 2, column: 11, message: ['provider azure needs a region'], hint: 'region: eastus', others: ['2:11 azure'] },
  'aws with an Azure instance type': { yaml: y(...set(AWS, { 8: '  type: Standard_DS3_v2' })), path: 'instance.type', line: 8, column: 9, message: ['"Standard_DS3_v2"', 'an Azure ML VM size (provider: azure)', 'not a SageMaker instance type'], hint: 'ml.m5.large' },
  'aws with a Vertex machine type': { yaml: y(...set(AWS, { 8: '  type: n1-standard-4' })), path: 'instance.type', line: 8, column: 9, message: ['"n1-standard-4"', 'a Vertex AI machine type (provider: gcp)', 'not a SageMaker instance type'], hint: 'ml.m5.large' },
  'aws instance type typo': { yaml: y(...set(AWS, { 8: '  type: ml.m5.lage' })), path: 'instance.type', line: 8, column: 9, message: ['"ml.m5.lage"', 'not a SageMaker instance type'], hint: 'did you mean ml.m5.large?' },
  'aws without an instance type': { yaml: y(...AWS.filter((_, i) => i !== 6 && i !== 7)), path: 'instance', line: 1, column: 1, message: ['instance.type is required for a SageMaker real-time endpoint'], hint: 'add `type: ml.m5.large`' },
  'aws bad role ARN': { yaml: y(...set(AWS, { 10: '  roleArn: SageMakerRole' })), path: 'aws.roleArn', line: 10, column: 12, message: ['"SageMakerRole" is not an IAM role ARN'], hint: 'arn:aws:iam::123456789012:role/' },
  'aws bad bucket name': { yaml: y(...set(AWS, { 11: '  bucket: My_Artifacts' })), path: 'aws.bucket', line: 11, column: 11, message: ['"My_Artifacts" is not a valid S3 bucket name'], hint: 'lowercase' },
  'aws bad region': { yaml: y(...set(AWS, { 3: 'region: us-east' })), path: 'region', line: 3, column: 9, message: ['"us-east" is not an AWS region name'], hint: 'us-east-1' },
  'aws with an accelerator': { yaml: y(...AWS.slice(0, 8), '  accelerator: {type: nvidia-a10g, count: 1}', ...AWS.slice(8)), path: 'instance.accelerator', line: 9, column: 16, message: ['SageMaker attaches GPUs through the instance type'], hint: 'ml.g5.xlarge' },
  'aws custom without image': { yaml: y(...set(AWS, { 6: '  framework: custom' })), path: 'model.image', line: 5, column: 3, message: ['framework custom on SageMaker needs a serving image'], hint: 'ECR' },
  'aws onnx without image': { yaml: y(...set(AWS, { 6: '  framework: onnx' })), path: 'model.framework', line: 6, column: 14, message: ['no prebuilt ONNX serving image'], hint: 'set model.image' },
  'aws framework version with no image': { yaml: y(...AWS.slice(0, 6), '  version: "0.23-1"', ...AWS.slice(6)), path: 'model.version', line: 7, column: 12, message: ['no prebuilt sklearn serving image for version 0.23-1'], hint: 'known versions: 1.2-1' },
  'aws huggingface on a CPU instance': { yaml: y(...set(AWS, { 6: '  framework: huggingface' })), path: 'instance.type', line: 8, column: 9, message: ['has no cpu build'], hint: 'GPU instance such as ml.g5.xlarge' },
  'aws serverless memory size': {
    yaml: y(...AWS.filter((_, i) => i !== 6 && i !== 7), '  serverless: {memorySizeInMB: 1000, maxConcurrency: 5}'),
    path: 'aws.serverless.memorySizeInMB', line: 10, column: 32, message: ['1000 is not a serverless memory size'], hint: '1024, 2048',
  },
  'aws names over 63 characters': { yaml: y(...set(AWS, { 1: `name: ${'n'.repeat(40)}` }), 'stage: production-east'), path: 'name', line: 1, column: 7, message: ['SageMaker', 'longer than 63 characters'], hint: 'shorten name or stage by 2' },
  'gcp with a SageMaker instance type': { yaml: y(...set(GCP, { 8: '  type: ml.m5.large' })), path: 'instance.type', line: 8, column: 9, message: ['"ml.m5.large"', 'a SageMaker instance type (provider: aws)', 'not a Vertex AI machine type'], hint: 'n1-standard-4' },
  'gcp accelerator typo': { yaml: y(...set(GCP, { 8: '  type: g2-standard-8' }).slice(0, 8), '  accelerator: {type: nvidia-l44, count: 1}', ...GCP.slice(8)), path: 'instance.accelerator.type', line: 9, column: 23, message: ['"nvidia-l44" is not a Vertex AI accelerator'], hint: 'did you mean nvidia-l4?' },
  'gcp bad project id': { yaml: y(...set(GCP, { 10: '  project: My Project' })), path: 'gcp.project', line: 10, column: 12, message: ['"My Project" is not a Google Cloud project id'], hint: 'lowercase' },
  'gcp custom without image': { yaml: y(...set(GCP, { 6: '  framework: custom' })), path: 'model.image', line: 5, column: 3, message: ['Vertex AI needs a serving image'], hint: 'Artifact Registry' },
  'gcp label value with capitals': { yaml: y(...GCP, 'tags: {team: ML Platform}'), path: 'tags.team', line: 12, column: 14, message: ['GCP labels'], hint: 'lowercase the value' },
  'gcp autoscaling down to zero': { yaml: y(...GCP.slice(0, 8), '  autoscaling: {min: 0, max: 2}', ...GCP.slice(8)), path: 'instance.autoscaling.min', line: 9, column: 22, message: ['min 0', 'does not scale to zero'], hint: 'min: 1' },
  'gcp GPU for the CPU-only sklearn container': { yaml: y(...GCP.slice(0, 8), '  accelerator: {type: nvidia-tesla-t4, count: 1}', ...GCP.slice(8)), path: 'instance.accelerator', line: 9, column: 16, message: ['sklearn container runs on CPU only'], hint: 'remove accelerator' },
  'gcp GPU that does not attach to the machine type': {
    yaml: y(...set(GCP, { 8: '  type: g2-standard-8' }).slice(0, 8), '  accelerator: {type: nvidia-tesla-t4, count: 1}', ...GCP.slice(8)),
    path: 'instance.accelerator.type', line: 9, column: 23, message: ['nvidia-tesla-t4 does not attach to g2-standard-8', 'NVIDIA L4'], hint: 'accelerator: {type: nvidia-l4, count: 1}',
  },
  'gcp g2 machine type without its GPU': { yaml: y(...set(GCP, { 8: '  type: g2-standard-8' })), path: 'instance.accelerator', line: 8, column: 3, message: ['g2-standard-8 comes with 1 NVIDIA L4 GPU'], hint: 'add accelerator: {type: nvidia-l4, count: 1}' },
  'gcp huggingface without a GPU': {
    yaml: y(...set(GCP, { 5: '  uri: hf://Qwen/Qwen2.5-1.5B-Instruct', 6: '  framework: huggingface' })),
    path: 'instance.accelerator', line: 8, column: 3, message: ['Hugging Face TGI container needs a GPU'], hint: 'nvidia-l4',
  },
  'gcp sklearn version without a container': { yaml: y(...GCP.slice(0, 6), '  version: "1.1"', ...GCP.slice(6)), path: 'model.version', line: 7, column: 12, message: ['no prebuilt sklearn container for version 1.1'], hint: 'supported: 1.4, 1.5, 1.6' },
  'gcp xgboost version past its support window': {
    yaml: y(...set(GCP, { 6: '  framework: xgboost' }).slice(0, 6), '  version: "1.7"', ...GCP.slice(6)),
    path: 'model.version', line: 7, column: 12, message: ['xgboost 1.7 container is past its support window'], hint: 'model.image: us-docker.pkg.dev/vertex-ai/prediction/xgboost-cpu.1-7:latest',
  },
  'gcp model folder without the file the container loads': {
    yaml: y(...set(GCP, { 5: '  path: ./model', 6: '  framework: xgboost' })),
    path: 'model.path', line: 5, column: 9, message: ['model has model.onnx; the Vertex xgboost container loads model.bst, model.joblib or model.pkl'], hint: "booster.save_model('model.bst')",
  },
  'gcp with an S3 model': { yaml: y(...set(GCP, { 5: '  uri: s3://bucket/model/' })), path: 'model.uri', line: 5, column: 8, message: ['Vertex AI cannot read s3:// artifacts'], hint: 'gs://' },
  'gcp bucket written as a URL': { yaml: y(...set(GCP, { 11: '  bucket: gs://my-artifacts' })), path: 'gcp.bucket', line: 11, column: 11, message: ['"gs://my-artifacts" is a URL'], hint: 'bucket: my-artifacts' },
  'gcp region on no Vertex continent': { yaml: y(...set(GCP, { 3: 'region: moon-base1' })), path: 'region', line: 3, column: 9, message: ['"moon-base1" is not a Vertex AI region'], hint: 'us-central1' },
  'azure with a Vertex machine type': { yaml: y(...set(AZURE, { 8: '  type: n1-standard-4' })), path: 'instance.type', line: 8, column: 9, message: ['"n1-standard-4"', 'a Vertex AI machine type (provider: gcp)', 'not an Azure ML instance type'], hint: 'Standard_DS3_v2' },
  'azure endpoint name over 32 (name + stage)': {
    yaml: y(...set(AZURE, { 1: 'name: customer-churn-predictor' }), 'stage: production'),
    path: 'name', line: 1, column: 7, message: ['"customer-churn-predictor-production"', '3-32 characters'], hint: 'shorten name or stage by 3',
  },
  'azure endpoint name with a double dash': { yaml: y(...set(AZURE, { 1: 'name: churn--model' })), path: 'name', line: 1, column: 7, message: ['"churn--model-default"', 'single dashes'], hint: null },
  'azure subscription that is no GUID': { yaml: y(...set(AZURE, { 10: '  subscriptionId: my-subscription' })), path: 'azure.subscriptionId', line: 10, column: 19, message: ['"my-subscription" is not a subscription id'], hint: 'az account show' },

  // The local provider.
  'local with framework sklearn': { yaml: y(...set(LOCAL, { 4: '  framework: sklearn' })), path: 'model.framework', line: 4, column: 14, message: ['no sklearn server'], hint: 'export the model to ONNX' },
  'local onnx folder without .onnx': { yaml: y(...set(LOCAL, { 3: '  path: ./weights-only' })), path: 'model.path', line: 3, column: 9, message: ['no .onnx file in', 'weights-only'], hint: 'model.onnx' },
  'local custom without command': { yaml: y(...set(LOCAL, { 4: '  framework: custom' })), path: 'model', line: 3, column: 3, message: ['needs a command'], hint: 'command: ["python3", "serve.py"]' },
  'local with two instances': { yaml: y(...LOCAL, 'instance: {count: 2}'), path: 'instance.count', line: 5, column: 19, message: ['runs at most 1 instance of a revision; count is 2'], hint: 'count: 1' },
  'local with an uploaded artifact': { yaml: y('name: iris', 'model:', '  uri: s3://bucket/model.tar.gz', '  framework: onnx'), path: 'model.uri', line: 3, column: 8, message: ['cannot use an uploaded artifact'], hint: 'model.path' },

  // Smoke test.
  'smoke.request file missing': { yaml: y(...LOCAL, 'smoke:', '  request: {file: ./missing.json}'), path: 'smoke.request.file', line: 6, column: 19, message: ['./missing.json does not exist'], hint: 'relative to deploy.yaml' },
  'smoke file request with a body beside it': { yaml: y(...LOCAL, 'smoke:', '  request: {file: ./request.json, instances: [[1, 2]]}'), path: 'smoke.request.instances', line: 6, column: 46, message: ['a file request takes only file and contentType'], hint: 'put the body in the file' },
  'smoke.expect.body without request': { yaml: y(...LOCAL, 'smoke:', '  expect: {body: {predictions: [0]}}'), path: 'smoke.expect.body', line: 6, column: 18, message: ['smoke.request is missing'], hint: 'add smoke.request' },
  'smoke status out of range': { yaml: y(...LOCAL, 'smoke:', '  request: {instances: [[1, 2]]}', '  expect: {status: 700}'), path: 'smoke.expect.status', line: 7, column: 20, message: ['700', '<=599'], hint: null },
  'smoke request as a list': { yaml: y(...LOCAL, 'smoke:', '  request: [1, 2]'), path: 'smoke.request', line: 6, column: 12, message: ['expected a mapping, got a list'], hint: null },
};

describe('bad deploy.yaml: each problem located, named and explained', () => {
  it(`covers at least 25 distinct bad inputs (${Object.keys(CASES).length})`, () => {
    expect(Object.keys(CASES).length).toBeGreaterThanOrEqual(25);
    expect(new Set(Object.values(CASES).map((c) => c.yaml + JSON.stringify(c.options ?? {}))).size).toBe(Object.keys(CASES).length);
  });

  it.each(Object.entries(CASES))('%s', async (_what, c) => {
    const issues = await issuesOf(c.yaml, c.options);
    const issue = issues.find((i) => i.path === c.path);
    expect(issue, JSON.stringify(issues, null, 2)).toBeDefined();
    if (!issue) return;
    expect({ file: issue.file, path: issue.path, line: issue.line, column: issue.column }).toEqual({ file: 'deploy.yaml', path: c.path, line: c.line, column: c.column });
    for (const words of c.message) expect(issue.message).toContain(words);
    if (c.hint === null) expect(issue.hint).toBeUndefined();
    else expect(issue.hint).toContain(c.hint);
    // Nothing more and nothing less than expected, in line order.
    expect(issues.map(where).sort()).toEqual([where(issue), ...(c.others ?? [])].sort());
    expect(issues.map((i) => i.line)).toEqual(issues.map((i) => i.line).sort((a, b) => a - b));
  });

  it('one problem prints its hint once, on the hint line; several keep each hint beside its problem', () => {
    const one: ConfigIssue = { file: 'deploy.yaml', line: 3, column: 9, path: 'region', message: '"us-east" is not an AWS region', hint: 'did you mean us-east-1?' };
    const single = new ConfigError([one]);
    expect(single.message).toBe('deploy.yaml:3:9 region: "us-east" is not an AWS region');
    expect(single.hint).toBe('did you mean us-east-1?');
    const two = new ConfigError([one, { ...one, line: 8, path: 'instance.type', message: 'unknown', hint: 'ml.m5.large' }]);
    expect(two.message).toContain('deploy.yaml:3:9 region: "us-east" is not an AWS region (did you mean us-east-1?)');
    expect(two.message).toContain('deploy.yaml:8:9 instance.type: unknown (ml.m5.large)');
  });

  it('a missing file is a UsageError ConfigNotFound that points at init', async () => {
    const missing = path.join(dir, 'nope', 'deploy.yaml');
    const error = await loadDeployment(missing, { env: {}, registry }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(error).not.toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'ConfigNotFound', kind: 'usage', message: `${missing} does not exist`, hint: expect.stringContaining('modeldeploy init') });
  });

  it('a folder where the file should be is ConfigNotFound too, saying why', async () => {
    const error = await loadDeployment(path.join(dir, 'model'), { env: {}, registry }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ConfigNotFound', kind: 'usage', message: expect.stringContaining('cannot read') });
  });
});

describe('several problems in one file are reported at once, in line order', () => {
  it('schema problems and unset variables together, whatever order the schema checks them in', async () => {
    const yaml = y(
      'env:', //                        1
      '  A: ${MISSING}', //             2
      'timeouts: {deploy: soon}', //    3
      'instance:', //                   4
      '  count: "2"', //                5
      'model:', //                      6
      '  path: ./model', //             7
      '  framework: sklern', //         8
      'modle: {}', //                   9
      'name: Iris', //                  10
    );
    await writeFile(file, yaml);
    const error = (await loadDeployment(file, { env: {}, displayPath: 'deploy.yaml', registry }).catch((e: unknown) => e)) as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.issues.map(where)).toEqual(['2:6 env.A', '3:20 timeouts.deploy', '5:10 instance.count', '8:14 model.framework', '9:1 modle', '10:7 name']);
    expect(error.message.split('\n')).toEqual([
      '6 problems in deploy.yaml:',
      '  deploy.yaml:2:6 env.A: environment variable MISSING is not set (export MISSING=… or write ${MISSING:-default})',
      '  deploy.yaml:3:20 timeouts.deploy: "soon": expected a duration such as 90s, 30m or 1h',
      '  deploy.yaml:5:10 instance.count: expected a number, got "2" (write 2 without quotes)',
      '  deploy.yaml:8:14 model.framework: "sklern" is not one of: sklearn, xgboost, pytorch, tensorflow, onnx, huggingface, custom (did you mean "sklearn"?)',
      '  deploy.yaml:9:1 modle: unknown field "modle" (did you mean "model"?)',
      "  deploy.yaml:10:7 name: \"Iris\": name may hold only lowercase letters, digits and '-', start with a letter and not end with '-'",
    ]);
    expect(error.hint).toBe('Fix each problem listed; nothing was deployed.');
  });

  it('cross-field problems together', async () => {
    const issues = await issuesOf(
      y(
        'name: iris', //                                        1
        'provider: aws', //                                     2
        'model:', //                                            3
        '  path: ./nope', //                                    4
        '  framework: sklearn', //                              5
        '  command: [serve]', //                                6
        'instance:', //                                         7
        '  type: ml.m5.large', //                               8
        '  autoscaling: {min: 4, max: 2}', //                   9
        'smoke:', //                                            10
        '  expect: {body: {predictions: [1]}}', //              11
        'aws: {roleArn: "arn:aws:iam::123456789012:role/R", bucket: my-artifacts}',
      ),
    );
    expect(issues.map(where)).toEqual(['2:11 region', '4:9 model.path', '6:12 model.command', '9:22 instance.autoscaling.min', '11:18 smoke.expect.body']);
    expect(issues[0]?.message).toBe('provider aws needs a region');
  });

  it('provider rules together', async () => {
    const issues = await issuesOf(y(...set(AWS, { 3: 'region: us-east', 8: '  type: Standard_DS3_v2', 10: '  roleArn: SageMakerRole', 11: '  bucket: My_Artifacts' })));
    expect(issues.map(where)).toEqual(['3:9 region', '8:9 instance.type', '10:12 aws.roleArn', '11:11 aws.bucket']);
  });

  it('YAML syntax problems together, duplicate keys among them', async () => {
    const issues = await issuesOf(y('name: iris', 'model:', '\tpath: ./model', '\tframework: onnx', 'name: again'));
    expect(issues.length).toBeGreaterThanOrEqual(2);
    expect(issues.every((i) => (i.message.startsWith('YAML syntax error') || i.message.includes('appears twice')) && i.hint)).toBe(true);
    expect(issues.map((i) => i.line)).toEqual(issues.map((i) => i.line).sort((a, b) => a - b));
  });

  it('a bad --stage is a usage error about the flag, located nowhere in the file', async () => {
    await writeFile(file, y(...LOCAL));
    const error = await loadDeployment(file, { env: {}, registry, stage: 'Prod' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(error).not.toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'InvalidOption', message: expect.stringContaining('--stage Prod') });
  });
});

describe('good deploy.yaml', () => {
  it('applies the defaults: provider local, stage default, one instance, 30m/10m timeouts', async () => {
    const { spec } = await load(y(...LOCAL));
    expect(spec).toEqual({
      file: 'deploy.yaml',
      dir,
      name: 'iris',
      stage: 'default',
      provider: 'local',
      model: { framework: 'onnx', path: path.join(dir, 'model') },
      instance: { count: 1 },
      env: {},
      tags: {},
      timeouts: { deployMs: 1_800_000, startupMs: 600_000 },
    });
  });

  it('fills in the smoke defaults: status 200, tolerance 1e-6, rollback', async () => {
    const { spec } = await load(y(...LOCAL, 'smoke:', '  request: {instances: [[5.1, 3.5, 1.4, 0.2]]}'));
    expect(spec.smoke).toEqual({
      request: { kind: 'json', body: { instances: [[5.1, 3.5, 1.4, 0.2]] }, contentType: 'application/json' },
      expect: { status: 200, tolerance: 1e-6 },
      onFailure: 'rollback',
    });
  });

  it.each([
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['1h', 3_600_000],
    ['500ms', 500],
    ['1.5m', 90_000],
    ['120', 120_000], // a bare number is seconds
  ])('parses the duration %s to %d ms', async (text, ms) => {
    const { spec } = await load(y(...LOCAL, `timeouts: {deploy: ${text}, startup: ${text}}`));
    expect(spec.timeouts).toEqual({ deployMs: ms, startupMs: ms });
  });

  it('--stage overrides the file, and only for that load', async () => {
    const text = y(...LOCAL, 'stage: dev');
    expect((await load(text, { stage: 'prod' })).spec.stage).toBe('prod');
    expect((await load(text)).spec.stage).toBe('dev');
    expect((await load(y(...LOCAL), { stage: 'qa' })).spec.stage).toBe('qa');
  });

  it('a --stage that makes an Azure name too long is caught by the provider rules', async () => {
    const text = y(...set(AZURE, { 1: 'name: customer-churn-predictor' }));
    expect((await load(text)).spec.stage).toBe('default');
    const issues = await issuesOf(text, { stage: 'production' });
    expect(issues.map(where)).toEqual(['1:7 name']);
    expect(issues[0]?.hint).toBe('shorten name or stage by 3 characters');
  });

  it('interpolates ${VAR}, ${VAR:-default} and ${VAR-default} in nested strings and list items', async () => {
    const text = y(
      ...set(AWS, { 10: '  roleArn: "arn:aws:iam::${ACCOUNT}:role/${ROLE:-SageMakerRole}"', 11: '  bucket: ${BUCKET:-fallback-bucket}' }),
      'env:',
      '  GREETING: "hello ${WHO}"',
      '  EMPTY_OK: "${EMPTY-unused}"',
      '  EMPTY_DEFAULTED: "${EMPTY:-defaulted}"',
      'tags:',
      '  team: ${TEAM:-ml}',
      'smoke:',
      '  request: {inputs: "${WHO} asks", parameters: {stop: ["${STOP:-.}"]}}',
    );
    const env = { ACCOUNT: '123456789012', WHO: 'ada', EMPTY: '' };
    const { spec } = await load(text, { env });
    expect(spec.settings).toEqual({ roleArn: 'arn:aws:iam::123456789012:role/SageMakerRole', bucket: 'fallback-bucket' });
    expect(spec.env).toEqual({ GREETING: 'hello ada', EMPTY_OK: '', EMPTY_DEFAULTED: 'defaulted' });
    expect(spec.tags).toEqual({ team: 'ml' });
    expect(spec.smoke?.request).toEqual({ kind: 'json', body: { inputs: 'ada asks', parameters: { stop: ['.'] } }, contentType: 'application/json' });

    const custom = await load(y(...set(LOCAL, { 4: '  framework: custom' }), '  command: [node, "${SERVER:-server.mjs}", --port, "$${PORT}"]'));
    expect(custom.spec.model.command).toEqual(['node', 'server.mjs', '--port', '${PORT}']);
  });

  it('$${ is a literal ${, and is never reported as unset', async () => {
    const { spec } = await load(y(...LOCAL, 'env:', '  TEMPLATE: "Hello $${NAME}, from ${WHO:-us}"', '  PRICE: "$5"'));
    expect(spec.env).toEqual({ TEMPLATE: 'Hello ${NAME}, from us', PRICE: '$5' });
  });

  it('${VAR} in a comment is not read; numbers and booleans in env become strings', async () => {
    const { spec } = await load(y('# set ${SOMETHING_UNSET} before running', ...LOCAL, 'env: {WORKERS: 4, DEBUG: false, RATIO: 0.5}'));
    expect(spec.env).toEqual({ WORKERS: '4', DEBUG: 'false', RATIO: '0.5' });
  });

  it('changes nothing it was given, and shares nothing between loads', async () => {
    const env = Object.freeze({ WHO: 'ada' });
    const options = Object.freeze({ env, stage: 'prod', displayPath: 'deploy.yaml', registry });
    const text = y(...LOCAL, 'stage: dev', 'env:', '  A: ${WHO}', '  B: ${UNSET:-b}', 'smoke:', '  request: {instances: [[1, 2]]}');
    const first = await parseDeployment(text, file, options);
    expect(env).toEqual({ WHO: 'ada' }); // ${UNSET:-b} did not write UNSET back
    expect(options).toEqual({ env: { WHO: 'ada' }, stage: 'prod', displayPath: 'deploy.yaml', registry });

    first.spec.env.A = 'changed';
    (first.spec.smoke?.request as { body: { instances: number[][] } }).body.instances.push([3, 4]);
    const second = await parseDeployment(text, file, { env, registry });
    expect(second.spec.stage).toBe('dev');
    expect(second.spec.env).toEqual({ A: 'ada', B: 'b' });
    expect(second.spec.smoke?.request).toMatchObject({ body: { instances: [[1, 2]] } });
    // The override did not touch the document either: stage is still found where the file has it.
    expect(first.locate(['stage'])).toEqual({ line: 5, column: 8 });
    expect(first.locate(['smoke', 'request'])).toEqual({ line: 10, column: 12 });
  });

  it('a file smoke request is resolved beside deploy.yaml with its content type', async () => {
    const csv = await load(y(...LOCAL, 'smoke:', '  request: {file: ./sample.csv}'));
    expect(csv.spec.smoke?.request).toEqual({ kind: 'file', file: path.join(dir, 'sample.csv'), contentType: 'text/csv' });
    const json = await load(y(...LOCAL, 'smoke:', '  request: {file: ./request.json, contentType: application/x-ndjson}'));
    expect(json.spec.smoke?.request).toEqual({ kind: 'file', file: path.join(dir, 'request.json'), contentType: 'application/x-ndjson' });
  });

  it('every cloud base file used above is itself valid', async () => {
    for (const base of [AWS, GCP, AZURE]) await expect(load(y(...base))).resolves.toBeDefined();
  });

  it('every example in examples/ validates', async () => {
    for (const example of await readdir(path.join(ROOT, 'examples'))) {
      const target = path.join(ROOT, 'examples', example, 'deploy.yaml');
      await expect(loadDeployment(target, { env: {}, registry }), example).resolves.toBeDefined();
    }
  });
});
