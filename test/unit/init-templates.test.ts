import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import type { Io } from '../../src/ui/output.js';
import { loadDeployment } from '../../src/config/load.js';
import { registry } from '../../providers/index.js';
import { ROOT } from '../support/cli.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'md-init-'));
  await mkdir(path.join(dir, 'model'));
  await copyFile(path.join(ROOT, 'examples/local-onnx/model/model.onnx'), path.join(dir, 'model', 'model.onnx'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

function capture(): Io & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: { CI: 'true' },
    cwd: dir,
    out: () => out,
    err: () => err,
  };
}

const templates = (await readdir(path.join(ROOT, 'templates'))).filter((f) => f.endsWith('.yaml'));

describe('templates', () => {
  it('there is one for every provider × framework it can serve', () => {
    const clouds = ['aws', 'gcp', 'azure'].flatMap((p) => ['sklearn', 'xgboost', 'pytorch', 'tensorflow', 'huggingface', 'custom'].map((f) => `${p}-${f}.yaml`));
    expect(templates.sort()).toEqual([...clouds, 'local-custom.yaml', 'local-onnx.yaml'].sort());
  });

  it.each(templates)('%s is written by init and validates (empty environment, no credentials)', async (template) => {
    const [provider, ...rest] = template.slice(0, -'.yaml'.length).split('-');
    const io = capture();
    const code = await main(['init', '--provider', provider ?? '', '--framework', rest.join('-'), '--name', 'demo', '--json'], io);
    expect(code, io.err()).toBe(0);
    expect(JSON.parse(io.out())).toMatchObject({ ok: true, template });
    const written = path.join(dir, 'deploy.yaml');
    expect(await readFile(written, 'utf8')).toMatch(/^name: demo$/m);
    const { spec } = await loadDeployment(written, { env: {}, rules: (id) => registry.rules(id) });
    expect(spec).toMatchObject({ name: 'demo', provider });
  });

  it('init refuses to overwrite without --force, and names the fix', async () => {
    expect(await main(['init'], capture())).toBe(0);
    const io = capture();
    expect(await main(['init'], io)).toBe(2);
    expect(io.err()).toContain('already exists');
    expect(io.err()).toContain('--force');
    expect(await main(['init', '--force'], capture())).toBe(0);
  });

  it('an unknown combination exits 2 with a suggestion', async () => {
    const io = capture();
    expect(await main(['init', '--provider', 'aws', '--framework', 'sklern'], io)).toBe(2);
    expect(io.err()).toContain('did you mean --provider aws --framework sklearn?');
  });
});
