/**
 * templates/*.yaml are what `modeldeploy init` writes: each must validate as shipped (empty
 * environment, no credentials), so a user's first `validate` fails only on what they changed.
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { main } from '../../src/cli.js';
import { loadDeployment } from '../../src/config/load.js';
import type { Io } from '../../src/ui/output.js';
import { registry } from '../../providers/index.js';
import { ROOT } from '../support/cli.js';

const TEMPLATES = path.join(ROOT, 'templates');
const CLOUD_FRAMEWORKS = ['sklearn', 'xgboost', 'pytorch', 'tensorflow', 'huggingface', 'custom'];
const EXPECTED = [
  'local-onnx.yaml',
  'local-custom.yaml',
  ...['aws', 'gcp', 'azure'].flatMap((p) => CLOUD_FRAMEWORKS.map((f) => `${p}-${f}.yaml`)),
].sort();

const templates = (await readdir(TEMPLATES)).filter((f) => f.endsWith('.yaml')).sort();

function split(template: string): [string, string] {
  const stem = template.slice(0, -'.yaml'.length);
  const dash = stem.indexOf('-');
  return [stem.slice(0, dash), stem.slice(dash + 1)];
}

/** The file a framework's model is saved as, under the names Vertex AI's prebuilt containers load (the gcp rules check them). */
const MODEL_FILES: Record<string, string> = { sklearn: 'model.joblib', xgboost: 'model.bst', pytorch: 'model.mar', tensorflow: 'saved_model.pb' };

/** A folder shaped like a user's project: model/ beside deploy.yaml, model.onnx inside for onnx. */
async function project(parent: string, name: string, framework: string): Promise<string> {
  const dir = path.join(parent, name);
  await mkdir(path.join(dir, 'model'), { recursive: true });
  if (framework === 'onnx') {
    await copyFile(path.join(ROOT, 'examples/local-onnx/model/model.onnx'), path.join(dir, 'model', 'model.onnx'));
  } else {
    await writeFile(path.join(dir, 'model', MODEL_FILES[framework] ?? 'weights.bin'), 'not a real model');
  }
  return dir;
}

function capture(cwd: string): Io & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: { CI: 'true' },
    cwd,
    out: () => out,
    err: () => err,
  };
}

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'md-tpl-'));
});
afterEach(async () => rm(tmp, { recursive: true, force: true }));

describe('templates/', () => {
  it('holds exactly local × {onnx, custom} and aws, gcp, azure × the six cloud frameworks', () => {
    expect(templates).toEqual(EXPECTED);
  });

  it.each(EXPECTED)('%s validates as shipped, copied beside a model/ folder, under an empty env', async (template) => {
    const [provider, framework] = split(template);
    const dir = await project(tmp, 'proj', framework);
    const file = path.join(dir, 'deploy.yaml');
    await copyFile(path.join(TEMPLATES, template), file);

    const { spec } = await loadDeployment(file, { env: {}, registry });
    expect(spec).toMatchObject({ name: 'my-model', provider, stage: 'default', model: { framework, path: path.join(dir, 'model') } });
    expect(spec.smoke?.request, 'every template has a smoke request').toBeDefined();
    if (provider !== 'local') {
      expect(spec.region).toBeTruthy();
      expect(spec.instance.type).toBeTruthy();
      expect(spec.settings).toBeDefined();
    }
  });

  it.each(EXPECTED)('%s is a commented starting point in the agreed shape', async (template) => {
    const [provider, framework] = split(template);
    const text = await readFile(path.join(TEMPLATES, template), 'utf8');
    const lines = text.split('\n');
    expect(lines[0]).toBe('# yaml-language-server: $schema=./node_modules/modeldeploy/schema/deploy.schema.json');
    // init replaces this exact line; exactly one must be there.
    expect(lines.filter((l) => /^name: /.test(l))).toEqual(['name: my-model']);
    expect(text).toMatch(/^ {2}path: \.\/model\b/m);
    expect(lines.filter((l) => l.includes('#')).length, 'comments say what to change').toBeGreaterThanOrEqual(3);
    expect(lines.length, 'short').toBeLessThanOrEqual(40);

    const raw = parse(text) as Record<string, unknown> & { model: Record<string, unknown>; instance?: Record<string, unknown>; timeouts?: Record<string, unknown> };
    expect(raw.provider).toBe(provider);
    expect(raw.model.framework).toBe(framework);
    expect(raw.smoke).toBeDefined();

    // Every ${VAR} a user must fill in carries a default, so the template validates before they do.
    for (const ref of text.match(/\$\{[^}]*\}/g) ?? []) expect(ref).toMatch(/^\$\{[A-Z_][A-Z0-9_]*:-[^}]*\}$/);
    const block = (raw as Record<string, Record<string, unknown> | undefined>)[provider];
    if (provider !== 'local') {
      expect(block, `${provider}: block`).toBeDefined();
      for (const value of Object.values(block ?? {})) expect(String(value)).toMatch(/^\$\{[A-Z_]+:-.+\}$/);
    }

    if (framework === 'custom') {
      if (provider === 'local') expect(raw.model.command).toEqual(expect.arrayContaining([expect.any(String)]));
      else expect(raw.model.image).toEqual(expect.any(String));
    } else if (provider !== 'local') {
      expect(raw.model.version, 'a framework version picks the prebuilt image').toEqual(expect.any(String));
    }
  });

  it('uses each cloud\'s own instance names, and GPUs with long startup timeouts for huggingface', async () => {
    const read = async (t: string) => parse(await readFile(path.join(TEMPLATES, t), 'utf8')) as {
      instance: { type: string; accelerator?: { type: string; count: number } };
      timeouts: { deploy: string; startup: string };
    };
    for (const framework of CLOUD_FRAMEWORKS) {
      expect((await read(`aws-${framework}.yaml`)).instance.type).toMatch(/^ml\./);
      expect((await read(`gcp-${framework}.yaml`)).instance.type).toMatch(/^[a-z][a-z0-9]*-(standard|highmem|highcpu|highgpu)-\d+g?$/);
      expect((await read(`azure-${framework}.yaml`)).instance.type).toMatch(/^Standard_/);
    }
    const aws = await read('aws-huggingface.yaml');
    const gcp = await read('gcp-huggingface.yaml');
    const azure = await read('azure-huggingface.yaml');
    expect(aws.instance.type).toBe('ml.g5.2xlarge');
    expect(gcp.instance).toMatchObject({ type: 'g2-standard-8', accelerator: { type: 'nvidia-l4', count: 1 } });
    expect(azure.instance.type).toBe('Standard_NC6s_v3');
    for (const t of [aws, gcp, azure]) {
      const minutes = (d: string) => Number(/^(\d+)m$/.exec(d)?.[1] ?? Number.NaN);
      expect(minutes(t.timeouts.startup)).toBeGreaterThanOrEqual(20);
      expect(minutes(t.timeouts.deploy)).toBeGreaterThan(minutes(t.timeouts.startup));
    }
  });

  it('the account values fall back to their defaults when unset, and follow the environment when set', async () => {
    const dir = await project(tmp, 'proj', 'sklearn');
    const file = path.join(dir, 'deploy.yaml');
    await copyFile(path.join(TEMPLATES, 'aws-sklearn.yaml'), file);
    const load = (env: NodeJS.ProcessEnv) => loadDeployment(file, { env, registry });
    expect((await load({})).spec.settings).toEqual({ roleArn: 'arn:aws:iam::123456789012:role/SageMakerExecutionRole', bucket: 'my-model-artifacts' });
    const env = { SAGEMAKER_ROLE_ARN: 'arn:aws:iam::111122223333:role/Deployer', MODELDEPLOY_BUCKET: 'team-models' };
    expect((await load(env)).spec.settings).toEqual({ roleArn: env.SAGEMAKER_ROLE_ARN, bucket: 'team-models' });
  });
});

describe('modeldeploy init', () => {
  it.each(EXPECTED)('init --provider/--framework for %s writes a deploy.yaml that validates', async (template) => {
    const [provider, framework] = split(template);
    const dir = await project(tmp, 'fraud-scorer', framework);
    const io = capture(dir);
    const code = await main(['init', '--provider', provider, '--framework', framework], io, { registry });
    expect(code, io.err()).toBe(0);
    expect(io.out()).toContain('wrote deploy.yaml');

    const file = path.join(dir, 'deploy.yaml');
    const text = await readFile(file, 'utf8');
    // The name comes from the folder; everything else is the template byte for byte.
    const original = await readFile(path.join(TEMPLATES, template), 'utf8');
    expect(text).toBe(original.replace(/^name: my-model$/m, 'name: fraud-scorer'));
    const { spec } = await loadDeployment(file, { env: {}, registry });
    expect(spec).toMatchObject({ name: 'fraud-scorer', provider, model: { framework } });
  });

  it('--json reports what it wrote; --name and -f are honoured', async () => {
    const dir = await project(tmp, 'proj', 'onnx');
    const io = capture(dir);
    expect(await main(['init', '--name', 'Iris_Classifier', '-f', 'iris.yaml', '--json'], io, { registry })).toBe(0);
    expect(JSON.parse(io.out())).toEqual({ ok: true, command: 'init', file: path.join(dir, 'iris.yaml'), provider: 'local', framework: 'onnx', template: 'local-onnx.yaml' });
    const { spec } = await loadDeployment(path.join(dir, 'iris.yaml'), { env: {}, registry });
    expect(spec.name).toBe('iris-classifier');
  });

  it.each(['local-onnx', 'aws-sklearn', 'gcp-sklearn', 'azure-sklearn'])('a long folder name with runs of odd characters gives a deploy.yaml for %s that validates', async (template) => {
    const [provider, framework] = split(`${template}.yaml`);
    const dir = await project(tmp, `Customer Churn -- Predictor__for_${'x'.repeat(40)}_v2--`, framework);
    expect(await main(['init', '--provider', provider, '--framework', framework], capture(dir), { registry })).toBe(0);
    const { spec } = await loadDeployment(path.join(dir, 'deploy.yaml'), { env: {}, registry });
    expect(spec.name).toMatch(/^customer-churn-predictor(-for-x+)?$/); // Azure: 24, so that <name>-default fits 32
  });

  it('a folder name that is no valid deployment name falls back to my-model', async () => {
    const dir = await project(tmp, '2024', 'onnx');
    expect(await main(['init'], capture(dir), { registry })).toBe(0);
    expect(await readFile(path.join(dir, 'deploy.yaml'), 'utf8')).toMatch(/^name: my-model$/m);
  });

  it('refuses to overwrite without --force (exit 2, file untouched), overwrites with it', async () => {
    const dir = await project(tmp, 'proj', 'onnx');
    const file = path.join(dir, 'deploy.yaml');
    await writeFile(file, 'name: mine\n');
    const io = capture(dir);
    expect(await main(['init'], io, { registry })).toBe(2);
    expect(io.err()).toContain('deploy.yaml already exists');
    expect(io.err()).toMatch(/hint: .*--force/);
    expect(await readFile(file, 'utf8')).toBe('name: mine\n');

    const json = capture(dir);
    expect(await main(['init', '--json'], json, { registry })).toBe(2);
    expect(JSON.parse(json.out())).toMatchObject({ ok: false, error: { code: 'FileExists', kind: 'usage', hint: expect.stringContaining('--force') } });

    expect(await main(['init', '--force'], capture(dir), { registry })).toBe(0);
    expect(await readFile(file, 'utf8')).toMatch(/^name: proj$/m);
  });

  it.each([
    ['aws', 'sklern', 'NoSuchTemplate', 'there is no template for provider aws with framework sklern', 'did you mean --framework sklearn? aws has templates for custom, huggingface, pytorch, sklearn, tensorflow, xgboost'],
    ['gcp', 'onnx', 'NoSuchTemplate', 'there is no template for provider gcp with framework onnx', 'gcp has templates for custom, huggingface, pytorch, sklearn, tensorflow, xgboost'],
    ['local', 'sklearn', 'NoSuchTemplate', 'there is no template for provider local with framework sklearn', 'local has templates for custom, onnx'],
    ['azur', 'pytorch', 'NoSuchProvider', 'there is no provider azur', 'did you mean --provider azure?'],
  ])('an unknown combination (--provider %s --framework %s) exits 2 with a hint and writes nothing', async (provider, framework, code, message, hint) => {
    const dir = await project(tmp, 'proj', 'onnx');
    const io = capture(dir);
    expect(await main(['init', '--provider', provider, '--framework', framework], io, { registry })).toBe(2);
    expect(io.err()).toContain(message);
    expect(io.err()).toContain(`hint: ${hint}`);
    expect(await readdir(dir)).toEqual(['model']);

    const json = capture(dir);
    expect(await main(['init', '--provider', provider, '--framework', framework, '--json'], json, { registry })).toBe(2);
    expect(JSON.parse(json.out())).toMatchObject({ ok: false, error: { code, kind: 'usage', hint } });
  });

  it('picks the framework that fits the provider when none is given: onnx on this machine, sklearn on a cloud', async () => {
    const dir = await project(tmp, 'proj', 'onnx');
    const io = capture(dir);
    expect(await main(['init', '--provider', 'gcp', '--json'], io, { registry })).toBe(0);
    expect(JSON.parse(io.out())).toMatchObject({ provider: 'gcp', framework: 'sklearn', template: 'gcp-sklearn.yaml' });
  });
});
