/**
 * deploy.yaml → DeploymentSpec in three stages (YAML syntax → shape → cross-field and provider
 * rules). Every problem of a stage is collected and reported at once, each with file:line:col,
 * the field path and a hint. The user's parsed object is never mutated.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from './deps.js';
import type { core } from 'zod';
import { ConfigError, type ConfigIssue, UsageError } from '../core/errors.js';
import { capabilityIssues } from '../core/capabilities.js';
import type { ProviderDescriptor, ProviderRegistry, RuleIssue } from '../core/provider.js';
import { parseDuration, type DeploymentSpec, type SmokeRequest } from '../core/spec.js';
import { targetOf } from '../core/target.js';
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
}

export async function loadDeployment(file: string, options: LoadOptions): Promise<LoadedDeployment> {
  const env = options.env ?? process.env;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      'ConfigNotFound',
      code === 'ENOENT' ? `${file} does not exist` : `cannot read ${file}: ${(error as Error).message}`,
      { hint: 'Run `modeldeploy init` to write one, or point -f/--file at yours.', cause: error },
    );
  }
  return parseDeployment(text, file, { ...options, env });
}

export async function parseDeployment(text: string, filePath: string, options: LoadOptions): Promise<LoadedDeployment> {
  const env = options.env ?? process.env;
  const file = options.displayPath ?? filePath;
  const dir = path.dirname(path.resolve(filePath));
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };

  // Stage 1: YAML syntax.
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => ({
        file,
        ...at(e.pos[0]),
        path: '',
        message: `YAML syntax error: ${firstLine(e.message)}`,
        hint: yamlHint(e.code, e.message),
      })),
    );
  }
  const locate = (p: Path, onKey = false) => at(offsetOf(doc, p, onKey));
  const issue = (p: Path, message: string, hint?: string, onKey = false, field: Path = p): ConfigIssue => ({
    file,
    ...locate(p, onKey),
    path: formatPath(field),
    message,
    ...(hint ? { hint } : {}),
  });

  const raw: unknown = doc.toJS();
  if (raw === null || raw === undefined) {
    throw new ConfigError([issue([], 'the file is empty', 'Run `modeldeploy init` for a starting point.')]);
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError([issue([], 'expected a mapping of fields (name:, model:, …) at the top level')]);
  }

  // Stage 2a: ${VAR} interpolation, on a copy.
  const issues: ConfigIssue[] = [];
  const interpolated = mapStrings(raw, [], (value, p) => {
    const result = interpolate(value, env);
    for (const name of result.missing) {
      issues.push(issue(p, `environment variable ${name} is not set`, `export ${name}=… or write \${${name}:-default}`));
    }
    for (const bad of result.malformed) {
      issues.push(issue(p, `malformed reference ${bad}`, 'write ${NAME} or ${NAME:-default}; $${ for a literal ${'));
    }
    return result.value;
  });
  if (options.stage !== undefined) (interpolated as Record<string, unknown>).stage = options.stage;

  // Stage 2b: shape.
  const { registry } = options;
  const descriptors = await registry.descriptors();
  const schema = schemaFor(registry, descriptors);
  const parsed = schema.safeParse(interpolated);
  if (!parsed.success) {
    // A field whose ${VAR} is unset has been reported once already; its empty value says nothing new.
    const unset = new Set(issues.map((i) => i.path));
    for (const zi of parsed.error.issues) issues.push(...describeZodIssue(zi, interpolated, issue, schema).filter((i) => !unset.has(i.path)));
  }
  if (issues.length > 0 || !parsed.success) throw new ConfigError(sortIssues(issues));

  // Stage 3: cross-field rules, then the provider's capabilities and its own rules.
  const data = parsed.data as DeployFile;
  const descriptor = descriptors.find((d) => d.id === data.provider);
  const spec = await normalise(data, descriptor, file, dir, issue, issues);
  if (issues.length === 0 && options.providerRules !== false) {
    const module = await registry.module(spec.provider);
    for (const ri of capabilityIssues(spec, module)) issues.push(ruleIssue(ri, issue));
    if (issues.length === 0) for (const ri of module.rules.check(targetOf(spec))) issues.push(ruleIssue(ri, issue));
  }
  if (issues.length > 0) throw new ConfigError(sortIssues(issues));
  return { spec, locate: (p) => locate(p) };
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
    } else if (!info.isFile() && !info.isDirectory()) {
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

/** Deep copy in which every string is replaced by fn(string, path). */
function mapStrings(value: unknown, p: Path, fn: (s: string, p: Path) => string): unknown {
  if (typeof value === 'string') return fn(value, p);
  if (Array.isArray(value)) return value.map((v, i) => mapStrings(v, [...p, i], fn));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, [...p, k], fn)]));
  }
  return value;
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
