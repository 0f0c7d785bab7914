/**
 * deploy.yaml → DeploymentSpec in three stages (YAML syntax → shape → cross-field and provider
 * rules). Every problem of a stage is collected and reported at once, each with file:line:col,
 * the field path and a hint. The user's parsed object is never mutated.
 */
import { constants as fsConstants } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from './deps.js';
import type { core } from 'zod';
import { ConfigError, type ConfigIssue, UsageError } from '../core/errors.js';
import { capabilityIssues } from '../core/capabilities.js';
import type { ProviderDescriptor, ProviderRegistry, RuleIssue } from '../core/provider.js';
import { parseDuration, type DeploymentSpec, type SmokeRequest } from '../core/spec.js';
import { masker } from '../core/secrets.js';
import { targetOf } from '../core/target.js';
import { scanModelFolder } from '../artifacts/scan.js';
import { interpolate } from './interpolate.js';
import { buildDeploySchema, knownKeysAt, type DeployFile, type DeploySchema } from './schema.js';
import { closest } from './suggest.js';

type Path = (string | number)[];

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** --stage overrides the file's stage. */
  stage?: string;
  /** The providers: their blocks compose the schema; the chosen one's rules run in the third stage. */
  registry: ProviderRegistry;
  /** Run the chosen provider's capability checks and rules (default true). */
  providerRules?: boolean;
  /** How to name the file in messages (as the user typed it); defaults to the path read. */
  displayPath?: string;
}

export interface LoadedDeployment {
  spec: DeploymentSpec;
  /** Locate a field of the file, for errors raised after loading. */
  locate(path: Path): { line: number; column: number };
  /** Values read from the environment through ${VAR}: masked wherever modeldeploy prints. */
  secrets: string[];
}

/** deploy.yaml is a small file: anything bigger is a mistake (or an attack), refused before it is read. */
export const MAX_DEPLOY_FILE_BYTES = 1024 * 1024;

export async function loadDeployment(file: string, options: LoadOptions): Promise<LoadedDeployment> {
  const env = options.env ?? process.env;
  return parseDeployment(await readDeployFile(file, options.displayPath ?? file), file, { ...options, env });
}

/**
 * Read deploy.yaml as a regular file of at most MAX_DEPLOY_FILE_BYTES. Opened non-blocking and
 * checked before reading: a named pipe would otherwise hang for ever, /dev/zero never end.
 */
async function readDeployFile(file: string, display: string): Promise<string> {
  let handle: FileHandle;
  try {
    handle = await open(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      'ConfigNotFound',
      code === 'ENOENT' ? `${file} does not exist` : `cannot read ${file}: ${(error as Error).message}`,
      { hint: 'Run `modeldeploy init` to write one, or point -f/--file at yours.', cause: error },
    );
  }
  try {
    const info = await handle.stat();
    const whole = (message: string, hint: string) => new ConfigError([{ file: display, line: 1, column: 1, path: '', message, hint }]);
    if (info.isDirectory()) {
      throw new UsageError('ConfigNotFound', `cannot read ${file}: it is a directory`, { hint: 'point -f/--file at the deploy.yaml inside it' });
    }
    if (!info.isFile()) throw whole(`${file} is not a regular file (${info.isFIFO() ? 'a named pipe' : info.isSocket() ? 'a socket' : 'a device'})`, 'point -f/--file at a deploy.yaml file');
    if (info.size > MAX_DEPLOY_FILE_BYTES) {
      throw whole(`${file} is ${info.size} bytes; a deploy.yaml may be at most ${MAX_DEPLOY_FILE_BYTES} bytes (1 MiB)`, 'keep large request bodies and lists in files that deploy.yaml names (smoke.request.file)');
    }
    const buffer = Buffer.alloc(info.size + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > info.size) throw whole(`${file} grew while it was read`, 'run again once it is written');
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

export async function parseDeployment(text: string, filePath: string, options: LoadOptions): Promise<LoadedDeployment> {
  const env = options.env ?? process.env;
  const file = options.displayPath ?? filePath;
  const dir = path.dirname(path.resolve(filePath));
  const lineCounter = new LineCounter();
  // Duplicate keys are found below in one pass: yaml's own check compares every key with every
  // other (40,000 env keys took 10 s), and it does not say which key or where the first one is.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const at = (offset: number) => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };

  // Stage 1: YAML syntax.
  const syntax: ConfigIssue[] = doc.errors.map((e) => ({
    file,
    ...at(e.pos[0]),
    path: '',
    message: `YAML syntax error: ${firstLine(e.message)}`,
    hint: yamlHint(e.code, e.message),
  }));
  for (const dup of duplicateKeys(doc.contents)) {
    const first = at(dup.first);
    syntax.push({
      file,
      ...at(dup.second),
      path: formatPath(dup.path),
      message: `"${String(dup.path.at(-1))}" appears twice in the same mapping (first on line ${first.line})`,
      hint: 'each field may appear once; remove one of them',
    });
  }
  if (syntax.length > 0) throw new ConfigError(sortIssues(syntax));
  const locate = (p: Path, onKey = false) => at(offsetOf(doc, p, onKey));
  const issue = (p: Path, message: string, hint?: string, onKey = false, field: Path = p): ConfigIssue => ({
    file,
    ...locate(p, onKey),
    path: formatPath(field),
    message,
    ...(hint ? { hint } : {}),
  });

  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (error) {
    // yaml refuses to expand an alias bomb (a few lines that expand to billions of nodes).
    if (!(error instanceof ReferenceError)) throw error;
    throw new ConfigError([{ file, line: 1, column: 1, path: '', message: 'the file expands its YAML aliases (*name) too many times', hint: `use at most ${MAX_ALIASES} alias references; write the values out` }]);
  }
  if (raw === null || raw === undefined) {
    throw new ConfigError([issue([], 'the file is empty', 'Run `modeldeploy init` for a starting point.')]);
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError([issue([], 'expected a mapping of fields (name:, model:, …) at the top level')]);
  }

  // Stage 2a: ${VAR} interpolation, on a copy. What came from the environment is secret from here on.
  const issues: ConfigIssue[] = [];
  const secrets = new Set<string>();
  const interpolated = mapStrings(raw, (value, at) => {
    if (!value.includes('$') && !CONTROL.test(value)) return value;
    const p = at();
    const result = interpolate(value, env);
    for (const name of result.missing) {
      issues.push(issue(p, `environment variable ${name} is not set`, `export ${name}=… or write \${${name}:-default}`));
    }
    for (const bad of result.malformed) {
      issues.push(issue(p, `malformed reference ${bad}`, 'write ${NAME} or ${NAME:-default}; $${ for a literal ${'));
    }
    for (const v of result.fromEnv) secrets.add(v);
    const control = CONTROL.exec(result.value);
    if (control) {
      const code = `U+${(control[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
      issues.push(issue(p, `contains a control character (${code})`, 'remove it: no cloud takes control characters in names, tags or environment values'));
    }
    return result.value;
  });
  const mask = masker(secrets);
  const fail = (found: ConfigIssue[]) => new ConfigError(sortIssues(found).map((i) => ({ ...i, message: mask(i.message), ...(i.hint ? { hint: mask(i.hint) } : {}) })));
  if (options.stage !== undefined) (interpolated as Record<string, unknown>).stage = options.stage;

  // Stage 2b: shape.
  const { registry } = options;
  const descriptors = await registry.descriptors();
  const schema = schemaFor(registry, descriptors);
  const parsed = schema.safeParse(interpolated);
  if (!parsed.success) {
    // A field whose ${VAR} is unset has been reported once already; its empty value says nothing new.
    const unset = new Set(issues.map((i) => i.path));
    for (const zi of parsed.error.issues) {
      if (options.stage !== undefined && zi.path.length === 1 && zi.path[0] === 'stage') {
        // The flag is wrong, not the file: say so, and point at no line of deploy.yaml.
        throw new UsageError('InvalidOption', `--stage ${mask(options.stage)}: ${zi.message}`, { hint: 'lowercase letters, digits and -, starting with a letter, at most 16 characters' });
      }
      issues.push(...describeZodIssue(zi, interpolated, issue, schema).filter((i) => !unset.has(i.path)));
    }
  }
  if (issues.length > 0 || !parsed.success) throw fail(issues);

  // Stage 3: cross-field rules, then the provider's capabilities and its own rules.
  const data = parsed.data as DeployFile;
  const descriptor = descriptors.find((d) => d.id === data.provider);
  const spec = await normalise(data, descriptor, file, dir, issue, issues);
  if (issues.length === 0 && options.providerRules !== false) {
    const module = await registry.module(spec.provider);
    for (const ri of capabilityIssues(spec, module)) issues.push(ruleIssue(ri, issue));
    if (issues.length === 0) for (const ri of module.rules.check(targetOf(spec))) issues.push(ruleIssue(ri, issue));
  }
  if (issues.length > 0) throw fail(issues);
  return { spec, locate: (p) => locate(p), secrets: [...secrets] };
}

const schemas = new WeakMap<ProviderRegistry, DeploySchema>();

/** The composed schema, built once per registry. */
export function schemaFor(registry: ProviderRegistry, descriptors: readonly ProviderDescriptor[]): DeploySchema {
  let schema = schemas.get(registry);
  if (!schema) {
    schema = buildDeploySchema(descriptors, registry.defaultId);
    schemas.set(registry, schema);
  }
  return schema;
}

function ruleIssue(ri: RuleIssue, issue: (p: Path, m: string, h?: string) => ConfigIssue): ConfigIssue {
  return issue(ri.path, ri.message, ri.hint);
}

async function normalise(
  data: DeployFile,
  descriptor: ProviderDescriptor | undefined,
  file: string,
  dir: string,
  issue: (p: Path, message: string, hint?: string, onKey?: boolean, field?: Path) => ConfigIssue,
  issues: ConfigIssue[],
): Promise<DeploymentSpec> {
  const { model } = data;

  if (model.path === undefined && model.uri === undefined) {
    issues.push(issue(['model'], 'needs either path or uri', 'add `path: ./model` (a file or folder next to deploy.yaml)'));
  }
  if (model.path !== undefined && model.uri !== undefined) {
    issues.push(issue(['model', 'uri'], 'path and uri are both set; use one', 'remove uri to upload the local model, or path to use the uploaded one'));
  }
  let modelPath: string | undefined;
  if (model.path !== undefined) {
    modelPath = path.resolve(dir, model.path);
    const info = await stat(modelPath).catch(() => undefined);
    if (!info) {
      issues.push(issue(['model', 'path'], `${model.path} does not exist (looked at ${modelPath})`, 'paths are relative to deploy.yaml'));
    } else if (info.isDirectory()) {
      const scan = await scanModelFolder(modelPath);
      for (const problem of scan.problems) issues.push(issue(['model', 'path'], problem, 'only regular files inside the model folder are uploaded; remove or replace it'));
      if (scan.files.length === 0 && scan.problems.length === 0) issues.push(issue(['model', 'path'], `${model.path} is an empty folder`, 'put the model files in it, or point path at the model'));
    } else if (!info.isFile()) {
      issues.push(issue(['model', 'path'], `${model.path} is neither a file nor a directory`));
    }
  }
  if (model.command && model.framework !== 'custom') {
    issues.push(issue(['model', 'command'], `command is only used with framework: custom (this is ${model.framework})`, 'remove command, or set framework: custom'));
  }

  const provider = data.provider;
  if (descriptor?.region && data.region === undefined) {
    // Located at `provider:`, the line that asks for it.
    issues.push(issue(['provider'], `provider ${provider} needs a region`, `add \`region: ${descriptor.region.example}\``, false, ['region']));
  }
  if (descriptor?.settings?.required && data[provider] === undefined) {
    issues.push(issue(['provider'], `provider ${provider} needs an ${provider} block`, `add \`${descriptor.settings.example}\``, false, [provider]));
  }
  if (data.instance.autoscaling && data.instance.autoscaling.min > data.instance.autoscaling.max) {
    issues.push(issue(['instance', 'autoscaling', 'min'], `min (${data.instance.autoscaling.min}) is above max (${data.instance.autoscaling.max})`));
  }

  for (const which of ['deploy', 'startup'] as const) {
    if (parseDuration(data.timeouts[which]) <= 0) {
      issues.push(issue(['timeouts', which], `${JSON.stringify(data.timeouts[which])} is no time at all`, which === 'deploy' ? 'give up a realistic time, e.g. 30m' : 'e.g. 10m: how long the container may take to answer its health check'));
    }
  }

  let smoke: DeploymentSpec['smoke'];
  if (data.smoke) {
    let request: SmokeRequest | undefined;
    const r = data.smoke.request;
    if (r && typeof r.file === 'string') {
      const extra = Object.keys(r).filter((k) => k !== 'file' && k !== 'contentType');
      if (extra.length > 0) {
        issues.push(issue(['smoke', 'request', extra[0] ?? ''], 'a file request takes only file and contentType', 'put the body in the file'));
      }
      const target = path.resolve(dir, r.file);
      if (!(await stat(target).catch(() => undefined))?.isFile()) {
        issues.push(issue(['smoke', 'request', 'file'], `${r.file} does not exist (looked at ${target})`, 'paths are relative to deploy.yaml'));
      }
      request = { kind: 'file', file: target, contentType: typeof r.contentType === 'string' ? r.contentType : contentTypeFor(target) };
    } else if (r) {
      request = { kind: 'json', body: r, contentType: 'application/json' };
    }
    if (!request && data.smoke.expect.body !== undefined) {
      issues.push(issue(['smoke', 'expect', 'body'], 'expects a body but smoke.request is missing', 'add smoke.request, the body to send'));
    }
    smoke = {
      ...(request ? { request } : {}),
      expect: {
        status: data.smoke.expect.status,
        tolerance: data.smoke.expect.tolerance,
        ...(data.smoke.expect.body !== undefined ? { body: data.smoke.expect.body } : {}),
        ...(data.smoke.expect.maxLatencyMs !== undefined ? { maxLatencyMs: data.smoke.expect.maxLatencyMs } : {}),
      },
      onFailure: data.smoke.onFailure,
    };
  }

  const spec: DeploymentSpec = {
    file,
    dir,
    name: data.name,
    stage: data.stage,
    provider: data.provider,
    model: {
      framework: model.framework,
      ...(modelPath !== undefined ? { path: modelPath } : {}),
      ...(model.uri !== undefined ? { uri: model.uri } : {}),
      ...(model.version !== undefined ? { version: model.version } : {}),
      ...(model.image ? { image: model.image } : {}),
      ...(model.command ? { command: [...model.command] } : {}),
    },
    instance: {
      count: data.instance.count,
      ...(data.instance.type !== undefined ? { type: data.instance.type } : {}),
      ...(data.instance.accelerator ? { accelerator: { ...data.instance.accelerator } } : {}),
      ...(data.instance.autoscaling ? { autoscaling: { ...data.instance.autoscaling } } : {}),
    },
    env: { ...data.env },
    tags: { ...data.tags },
    timeouts: { deployMs: parseDuration(data.timeouts.deploy), startupMs: parseDuration(data.timeouts.startup) },
    ...(data.region !== undefined ? { region: data.region } : {}),
    ...(smoke ? { smoke } : {}),
    ...(data[provider] !== undefined ? { settings: structuredClone(data[provider]) } : {}),
  };
  return spec;
}

function contentTypeFor(file: string): string {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.json') return 'application/json';
  if (ext === '.csv') return 'text/csv';
  if (ext === '.txt') return 'text/plain';
  return 'application/octet-stream';
}

function describeZodIssue(
  zi: core.$ZodIssue,
  input: unknown,
  issue: (p: Path, message: string, hint?: string, onKey?: boolean, field?: Path) => ConfigIssue,
  schema: DeploySchema,
): ConfigIssue[] {
  const p = zi.path.filter((s): s is string | number => typeof s !== 'symbol');
  const value = valueAt(input, p);
  switch (zi.code) {
    case 'unrecognized_keys':
      return zi.keys.map((key) => {
        const known = knownKeysAt(schema, p);
        const guess = closest(key, known);
        return issue(
          [...p, key],
          `unknown field "${key}"`,
          guess ? `did you mean "${guess}"?` : known.length ? `expected one of: ${known.join(', ')}` : undefined,
          true,
        );
      });
    case 'invalid_type': {
      if (value === undefined) {
        const field = p[p.length - 1];
        // Point at the mapping that lacks it; name the missing field itself.
        return [issue(p.slice(0, -1), `${formatPath(p)} is required`, `add \`${String(field)}: …\``, false, p)];
      }
      return [issue(p, `expected ${article(zi.expected)}, got ${describeValue(value)}`, typeHint(zi.expected, value))];
    }
    case 'invalid_value': {
      const options = zi.values.map(String);
      if (value === undefined) {
        // zod reports a missing enum field this way: it is a missing field.
        const field = p[p.length - 1];
        return [issue(p.slice(0, -1), `${formatPath(p)} is required`, `add \`${String(field)}: …\` (one of: ${options.join(', ')})`, false, p)];
      }
      const guess = typeof value === 'string' ? closest(value, options) : undefined;
      return [issue(p, `${describeValue(value)} is not one of: ${options.join(', ')}`, guess ? `did you mean "${guess}"?` : undefined)];
    }
    case 'invalid_union': {
      const branch = zi.errors.flat().find((e) => e.code !== 'invalid_type') ?? zi.errors.flat()[0];
      return [issue(p, `${describeValue(value)}: ${branch?.message ?? 'has the wrong type'}`)];
    }
    case 'too_small':
    case 'too_big':
    case 'invalid_format':
    case 'custom':
    default:
      return [issue(p, `${describeValue(value)}: ${zi.message}`)];
  }
}

function typeHint(expected: string, value: unknown): string | undefined {
  if (expected === 'number' && typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) {
    return `write ${value} without quotes`;
  }
  if (expected === 'string' && (typeof value === 'number' || typeof value === 'boolean')) return `quote it: "${String(value)}"`;
  if (expected === 'object') return 'write it as a mapping of fields, one per indented line';
  if (expected === 'array') return 'write it as a list: [a, b]';
  return undefined;
}

function article(expected: string): string {
  const names: Record<string, string> = { object: 'a mapping', array: 'a list', record: 'a mapping', int: 'a whole number' };
  return names[expected] ?? (/^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`);
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

function valueAt(input: unknown, p: Path): unknown {
  let node = input;
  for (const segment of p) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

/**
 * Deep copy in which every string is replaced by fn(string, path). The path is built only when
 * fn asks for it (an issue to report): one shared stack, not an array per string (40,000 env
 * entries made 40,000 arrays for nothing).
 */
function mapStrings(value: unknown, fn: (s: string, path: () => Path) => string): unknown {
  const stack: Path = [];
  const here = () => [...stack];
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') return fn(node, here);
    if (Array.isArray(node)) {
      const out = new Array<unknown>(node.length);
      for (let i = 0; i < node.length; i++) {
        stack.push(i);
        out[i] = walk(node[i]);
        stack.pop();
      }
      return out;
    }
    if (node && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node)) {
        stack.push(k);
        out[k] = walk(v);
        stack.pop();
      }
      return out;
    }
    return node;
  };
  return walk(value);
}

/** Offset of the node at a path; the nearest existing ancestor when the field is missing. */
function offsetOf(doc: Document, p: Path, onKey: boolean): number {
  let node: unknown = doc.contents;
  let keyNode: Node | undefined;
  for (const segment of p) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && item.key.value === segment);
      if (!pair) break;
      keyNode = pair.key as Node;
      node = pair.value ?? pair.key;
    } else if (isSeq(node) && typeof segment === 'number' && node.items[segment]) {
      keyNode = undefined;
      node = node.items[segment];
    } else {
      break;
    }
  }
  const target = (onKey && keyNode) || (node as Node | null | undefined);
  return target?.range?.[0] ?? 0;
}

/** C0 controls and DEL, tab and line breaks excepted. */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** Alias references a deploy.yaml may make before it counts as an alias bomb. */
const MAX_ALIASES = 100;

/** Keys that repeat within one mapping, anywhere in the document: one pass, a set per mapping. */
function duplicateKeys(root: unknown): Array<{ path: Path; first: number; second: number }> {
  const out: Array<{ path: Path; first: number; second: number }> = [];
  const stack: Path = [];
  const visit = (node: unknown) => {
    if (isMap(node)) {
      const seen = new Map<string, number>();
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
        if (key === undefined) continue;
        const offset = (pair.key as Node).range?.[0] ?? 0;
        const earlier = seen.get(key);
        if (earlier !== undefined) out.push({ path: [...stack, key], first: earlier, second: offset });
        else seen.set(key, offset);
        stack.push(key);
        visit(pair.value);
        stack.pop();
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        stack.push(i);
        visit(item);
        stack.pop();
      });
    }
  };
  visit(root);
  return out;
}

function formatPath(p: Path): string {
  return p.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.column - b.column);
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

function yamlHint(code: string, message: string): string {
  const closing = /end with an? ([}\]"'])/.exec(message)?.[1];
  if (closing) return `a closing ${closing} is missing: check brackets and quotes`;
  switch (code) {
    case 'DUPLICATE_KEY':
      return 'each field may appear once; remove the repeated one';
    case 'BAD_INDENT':
      return 'check the indentation: nested fields are indented by the same number of spaces';
    case 'MISSING_CHAR':
    case 'UNEXPECTED_TOKEN':
      return 'a closing bracket or quote, or a colon, is missing; check brackets and quotes';
    case 'TAB_AS_INDENT':
      return 'indent with spaces, not tabs';
    default:
      return 'check the line for unbalanced quotes, brackets or a missing colon';
  }
}
