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
    { flags: '--provider <id>', description: '{providers} (default: the default provider)' },
    { flags: '--framework <name>', description: "sklearn | xgboost | pytorch | tensorflow | onnx | huggingface | custom (default: the provider's usual one)" },
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
    const { registry } = ctx;
    const provider = String(input.provider ?? registry.defaultId);
    if (!registry.ids.includes(provider)) {
      const guess = closest(provider, registry.ids);
      throw new UsageError('NoSuchProvider', `there is no provider ${provider}`, { hint: guess ? `did you mean --provider ${guess}?` : `one of ${registry.ids.join(', ')}` });
    }
    const { init } = await registry.module(provider);
    const framework = input.framework === undefined ? init.framework : String(input.framework);
    const template = `${provider}-${framework}.yaml`;
    const available = (await readdir(templates).catch(() => [] as string[])).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5));
    if (!available.includes(template.slice(0, -5))) {
      const frameworks = available.filter((t) => t.startsWith(`${provider}-`)).map((t) => t.slice(provider.length + 1));
      const guess = closest(framework, frameworks);
      throw new UsageError('NoSuchTemplate', `there is no template for provider ${provider} with framework ${framework}`, {
        hint: `${guess ? `did you mean --framework ${guess}? ` : ''}${provider} has templates for ${frameworks.join(', ')}`,
      });
    }
    const target = path.resolve(ctx.io.cwd, String(input.file));
    const exists = await readFile(target).then(() => true, () => false);
    if (exists && input.force !== true) {
      throw new UsageError('FileExists', `${String(input.file)} already exists`, { hint: 'pass --force to overwrite it, or -f to write elsewhere' });
    }
    // A name the provider takes with the default stage: `<name>-default` must fit its longest
    // base name (32 characters on Azure ML); 40 is deploy.yaml's own limit.
    const name = String(input.name ?? path.basename(path.dirname(target)))
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/-{2,}/g, '-')
      .replace(/^[^a-z]+/, '')
      .slice(0, Math.min(40, init.maxBaseName - '-default'.length))
      .replace(/-+$/, '') || 'my-model';
    const text = (await readFile(path.join(templates, template), 'utf8')).replace(/^name: .*$/m, `name: ${name}`);
    await writeFile(target, text);
    return {
      data: { file: target, provider, framework, template },
      human: `wrote ${String(input.file)} (${provider}, ${framework}); edit model.path, then run \`modeldeploy validate\``,
    };
  },
});
