import { defineCommand } from './command.js';

export interface InitResult {
  file: string;
  provider: string;
  framework: string;
  template: string;
}

export const initCommand = defineCommand<InitResult>({
  name: 'init',
  summary: 'Write a deploy.yaml from a template',
  usesDeployFile: false,
  options: [
    { flags: '-f, --file <path>', description: 'where to write it', default: 'deploy.yaml' },
    { flags: '--provider <id>', description: 'local | aws | gcp | azure', default: 'local' },
    { flags: '--framework <name>', description: 'sklearn | xgboost | pytorch | tensorflow | onnx | huggingface | custom', default: 'onnx' },
    { flags: '--name <name>', description: 'the deployment name (default: the folder name)' },
    { flags: '--force', description: 'overwrite an existing file' },
  ],
  async run(input, ctx) {
    const [{ readFile, writeFile, readdir }, path, { fileURLToPath }, { UsageError }, { closest }] = await Promise.all([
      import('node:fs/promises'),
      import('node:path'),
      import('node:url'),
      import('../core/errors.js'),
      import('../config/suggest.js'),
    ]);
    const templates = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', ...(import.meta.url.endsWith('.ts') ? [] : ['..']), 'templates');
    const provider = String(input.provider);
    const framework = String(input.framework);
    const template = `${provider}-${framework}.yaml`;
    const available = (await readdir(templates).catch(() => [] as string[])).filter((f) => f.endsWith('.yaml'));
    if (!available.includes(template)) {
      const guess = closest(template, available);
      throw new UsageError('NoSuchTemplate', `there is no template for provider ${provider} with framework ${framework}`, {
        hint: guess ? `did you mean --provider ${guess.split('-')[0]} --framework ${guess.slice(guess.indexOf('-') + 1, -5)}?` : `available: ${available.map((f) => f.slice(0, -5)).join(', ')}`,
      });
    }
    const target = path.resolve(ctx.io.cwd, String(input.file));
    const exists = await readFile(target).then(() => true, () => false);
    if (exists && input.force !== true) {
      throw new UsageError('FileExists', `${String(input.file)} already exists`, { hint: 'pass --force to overwrite it, or -f to write elsewhere' });
    }
    const name = String(input.name ?? path.basename(path.dirname(target)))
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^[^a-z]+/, '')
      .replace(/-+$/, '')
      .slice(0, 40) || 'my-model';
    const text = (await readFile(path.join(templates, template), 'utf8')).replace(/^name: .*$/m, `name: ${name}`);
    await writeFile(target, text);
    return {
      data: { file: target, provider, framework, template },
      human: `wrote ${String(input.file)} (${provider}, ${framework}); edit model.path, then run \`modeldeploy validate\``,
    };
  },
});
