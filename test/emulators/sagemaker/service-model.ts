/**
 * Validates awsJson requests against botocore's own service model (the definition the real
 * service is generated from): required members, unknown members, types, lengths, patterns,
 * enums, numeric ranges and list/map sizes, recursively. The model ships with the machine's
 * botocore, so the check follows the installed API version.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

interface Shape {
  type: string;
  members?: Record<string, { shape: string }>;
  required?: string[];
  member?: { shape: string };
  key?: { shape: string };
  value?: { shape: string };
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
}

interface ServiceModel {
  operations: Record<string, { input?: { shape: string } }>;
  shapes: Record<string, Shape>;
}

export interface Violation {
  path: string;
  constraint: string;
}

let botocoreDir: string | undefined;
function botocoreData(): string {
  botocoreDir ??= execFileSync('python3', ['-c', 'import botocore, os; print(os.path.dirname(botocore.__file__))'], { encoding: 'utf8' }).trim();
  return path.join(botocoreDir, 'data');
}

export class ServiceModelValidator {
  private readonly patterns = new Map<string, RegExp | null>();
  private readonly model: ServiceModel;
  unvalidatablePatterns = 0;

  constructor(service: string, version: string) {
    const file = path.join(botocoreData(), service, version, 'service-2.json.gz');
    this.model = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as ServiceModel;
  }

  hasOperation(operation: string): boolean {
    return operation in this.model.operations;
  }

  /** Every violation in an operation's input, each with the member path and the broken rule. */
  validate(operation: string, input: unknown): Violation[] {
    const op = this.model.operations[operation];
    if (!op) return [{ path: '', constraint: `unknown operation ${operation}` }];
    if (!op.input) return [];
    const out: Violation[] = [];
    this.check(op.input.shape, input, '', out);
    return out;
  }

  private check(shapeName: string, value: unknown, at: string, out: Violation[]): void {
    const shape = this.model.shapes[shapeName];
    if (!shape || value === undefined || value === null) return;
    const here = at || '(input)';
    switch (shape.type) {
      case 'structure': {
        if (typeof value !== 'object' || Array.isArray(value)) return void out.push({ path: here, constraint: 'Member must be a structure' });
        const record = value as Record<string, unknown>;
        for (const required of shape.required ?? []) {
          if (record[required] === undefined) out.push({ path: join(at, required), constraint: 'Member must not be null' });
        }
        for (const [key, child] of Object.entries(record)) {
          const member = shape.members?.[key];
          if (!member) out.push({ path: join(at, key), constraint: 'Member is not part of the input shape' });
          else this.check(member.shape, child, join(at, key), out);
        }
        return;
      }
      case 'list': {
        if (!Array.isArray(value)) return void out.push({ path: here, constraint: 'Member must be a list' });
        this.length(shape, value.length, here, out);
        value.forEach((item, i) => shape.member && this.check(shape.member.shape, item, `${at}.${i + 1}`, out));
        return;
      }
      case 'map': {
        if (typeof value !== 'object' || Array.isArray(value)) return void out.push({ path: here, constraint: 'Member must be a map' });
        const entries = Object.entries(value as Record<string, unknown>);
        this.length(shape, entries.length, here, out);
        for (const [k, v] of entries) {
          if (shape.key) this.check(shape.key.shape, k, `${at}.key`, out);
          if (shape.value) this.check(shape.value.shape, v, `${at}.${k}`, out);
        }
        return;
      }
      case 'string': {
        if (typeof value !== 'string') return void out.push({ path: here, constraint: 'Member must be a string' });
        this.length(shape, [...value].length, here, out);
        if (shape.enum && !shape.enum.includes(value)) {
          out.push({ path: here, constraint: `Member must satisfy enum value set: [${shape.enum.slice(0, 12).join(', ')}${shape.enum.length > 12 ? ', …' : ''}]` });
        }
        if (shape.pattern) {
          const re = this.regex(shape.pattern);
          if (re && !re.test(value)) out.push({ path: here, constraint: `Member must satisfy regular expression pattern: ${shape.pattern}` });
        }
        return;
      }
      case 'integer':
      case 'long':
      case 'float':
      case 'double': {
        if (typeof value !== 'number' || (shape.type === 'integer' || shape.type === 'long' ? !Number.isInteger(value) : false)) {
          return void out.push({ path: here, constraint: `Member must be a${shape.type === 'integer' ? 'n' : ''} ${shape.type}` });
        }
        if (shape.min !== undefined && value < shape.min) out.push({ path: here, constraint: `Member must have value greater than or equal to ${shape.min}` });
        if (shape.max !== undefined && value > shape.max) out.push({ path: here, constraint: `Member must have value less than or equal to ${shape.max}` });
        return;
      }
      case 'boolean':
        if (typeof value !== 'boolean') out.push({ path: here, constraint: 'Member must be a boolean' });
        return;
      case 'timestamp':
        if (typeof value !== 'number' && typeof value !== 'string') out.push({ path: here, constraint: 'Member must be a timestamp' });
        return;
      default:
        return;
    }
  }

  private length(shape: Shape, length: number, at: string, out: Violation[]): void {
    if (shape.min !== undefined && length < shape.min) out.push({ path: at, constraint: `Member must have length greater than or equal to ${shape.min}` });
    if (shape.max !== undefined && length > shape.max) out.push({ path: at, constraint: `Member must have length less than or equal to ${shape.max}` });
  }

  /** botocore stores Java patterns unanchored; the service matches them whole. */
  private regex(pattern: string): RegExp | null {
    if (this.patterns.has(pattern)) return this.patterns.get(pattern) ?? null;
    let re: RegExp | null = null;
    try {
      re = new RegExp(`^(?:${javaToJs(pattern)})$`, 'u');
    } catch {
      this.unvalidatablePatterns++;
    }
    this.patterns.set(pattern, re);
    return re;
  }
}

/** Java's POSIX classes have no JS spelling: expand them, bracketed only outside a [...] class. */
const JAVA_CLASSES: Record<string, string> = { Print: '\\x20-\\x7E', ASCII: '\\x00-\\x7F', Alnum: '\\p{L}\\p{N}', Alpha: '\\p{L}', Digit: '0-9' };

function javaToJs(pattern: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const named = /^\\p\{(Print|ASCII|Alnum|Alpha|Digit)\}/.exec(pattern.slice(i));
      if (named) {
        const body = JAVA_CLASSES[named[1] ?? ''] ?? '';
        out += inClass ? body : `[${body}]`;
        i += named[0].length - 1;
        continue;
      }
      const next = pattern[i + 1];
      if (next === 'A' && !inClass) out += '^';
      else if ((next === 'z' || next === 'Z') && !inClass) out += '$';
      else out += c + (next ?? '');
      i++;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    out += c;
  }
  return out;
}

function join(at: string, key: string): string {
  return at ? `${at}.${key}` : key;
}

/** The service's own wording: "1 validation error detected: Value 'x' at 'modelName' failed to satisfy constraint: …". */
export function validationMessage(violations: Violation[], input: unknown): string {
  const parts = violations.map((v) => {
    const value = v.path.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), input);
    const shown = typeof value === 'string' ? value : JSON.stringify(value ?? null);
    const where = v.path.split('.').map((p, i) => (i === 0 ? p.charAt(0).toLowerCase() + p.slice(1) : p)).join('.');
    return `Value '${shown}' at '${where}' failed to satisfy constraint: ${v.constraint}`;
  });
  return `${violations.length} validation error${violations.length === 1 ? '' : 's'} detected: ${parts.join('; ')}`;
}
