import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import { invalidArgument } from './vertex-errors.js';

/**
 * proto3-JSON checking against the descriptors the installed @google-cloud/aiplatform ships (build/protos/protos.json),
 * so the fake knows every field of every v1 message exactly as the SDK does. Google's REST front end (ESF) rejects
 * unknown names and values of the wrong type with INVALID_ARGUMENT; this reproduces that and hands the handlers a
 * normalised copy (camelCase keys, enum NAMES, int32 as numbers).
 */

interface ProtoField {
  type: string;
  rule?: string;
  keyType?: string;
}

interface ProtoType {
  fields?: Record<string, ProtoField>;
  oneofs?: Record<string, { oneof: string[] }>;
  values?: Record<string, number>;
  nested?: Record<string, ProtoType>;
}

interface Resolved {
  fullName: string;
  def: ProtoType;
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

const SCALAR_DESC: Record<string, string> = {
  double: 'TYPE_DOUBLE',
  float: 'TYPE_FLOAT',
  int64: 'TYPE_INT64',
  uint64: 'TYPE_UINT64',
  int32: 'TYPE_INT32',
  fixed64: 'TYPE_FIXED64',
  fixed32: 'TYPE_FIXED32',
  bool: 'TYPE_BOOL',
  string: 'TYPE_STRING',
  bytes: 'TYPE_BYTES',
  uint32: 'TYPE_UINT32',
  sfixed32: 'TYPE_SFIXED32',
  sfixed64: 'TYPE_SFIXED64',
  sint32: 'TYPE_SINT32',
  sint64: 'TYPE_SINT64',
};

const INT32 = new Set(['int32', 'sint32', 'sfixed32']);
const UINT32 = new Set(['uint32', 'fixed32']);
const INT64 = new Set(['int64', 'sint64', 'sfixed64', 'uint64', 'fixed64']);

/** Query parameters every Google REST API accepts besides the request's own fields. */
const SYSTEM_PARAMS = new Set([
  '$alt', 'alt', '$prettyPrint', 'prettyPrint', 'pp', '$fields', 'fields', 'key', 'quotaUser', '$callback', 'callback',
  'access_token', 'upload_protocol', 'uploadType', '$.xgafv', '$userProject',
]);

function defaultOf(type: string): Json {
  if (type === 'string' || type === 'bytes') return '';
  if (type === 'bool') return false;
  return 0;
}

export const snake = (camel: string): string => camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const camel = (name: string): string => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function loadRoot(): ProtoType {
  const require = createRequire(import.meta.url);
  // The package has no "exports" map; its protos sit beside build/src.
  const main = require.resolve('@google-cloud/aiplatform');
  const file = join(dirname(main), '..', 'protos', 'protos.json');
  return JSON.parse(readFileSync(file, 'utf8')) as ProtoType;
}

let shared: ProtoSchema | undefined;

export class ProtoSchema {
  private readonly cache = new Map<string, Resolved>();

  private constructor(private readonly root: ProtoType) {}

  /** One parsed copy per process (65 ms to read). */
  static get(): ProtoSchema {
    shared ??= new ProtoSchema(loadRoot());
    return shared;
  }

  private lookup(fullName: string): ProtoType | undefined {
    let node: ProtoType | undefined = this.root;
    for (const part of fullName.split('.')) {
      node = node?.nested?.[part];
      if (!node) return undefined;
    }
    return node;
  }

  /** Resolves a type reference the way protoc does: innermost scope first. */
  resolve(ref: string, scope: string): Resolved {
    const key = `${scope}|${ref}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const parts = scope.split('.');
    for (let i = parts.length; i >= 0; i--) {
      const candidate = [...parts.slice(0, i), ref].join('.');
      const def = this.lookup(candidate);
      if (def) {
        const resolved = { fullName: candidate, def };
        this.cache.set(key, resolved);
        return resolved;
      }
    }
    throw new Error(`fake-vertex: cannot resolve proto type ${ref} from ${scope}`);
  }

  type(fullName: string): Resolved {
    return this.resolve(fullName, '');
  }

  enumValues(fullName: string): Record<string, number> {
    const values = this.type(fullName).def.values;
    if (!values) throw new Error(`${fullName} is not an enum`);
    return values;
  }

  /** Encodes an enum NAME for output: a number when the request asked for `$alt=json;enum-encoding=int`. */
  enumOut(fullName: string, name: string, numeric: boolean): string | number {
    if (!numeric) return name;
    const n = this.enumValues(fullName)[name];
    if (n === undefined) throw new Error(`${name} is not a value of ${fullName}`);
    return n;
  }

  /** Validates a JSON body against a message type and returns it normalised. `path` is the snake_case prefix. */
  message(fullName: string, value: unknown, path = ''): JsonObject {
    const out = this.value({ type: fullName }, this.type(fullName), value, path);
    return (out ?? {}) as JsonObject;
  }

  /**
   * Checks query parameters against the request message (fields not bound by the path). Nested fields use dots,
   * as in `readMask` or `endpoint.etag`. Returns the values normalised, keyed by camelCase path.
   */
  query(requestType: string, params: URLSearchParams, bound: Set<string>): Record<string, Json> {
    const out: Record<string, Json> = {};
    const request = this.type(requestType);
    for (const [rawKey, rawValue] of params) {
      if (SYSTEM_PARAMS.has(rawKey)) continue;
      const segments = rawKey.split('.').map(camel);
      let scope = request;
      let field: ProtoField | undefined;
      for (let i = 0; i < segments.length; i++) {
        field = scope.def.fields?.[segments[i] as string];
        if (!field) break;
        if (i < segments.length - 1) scope = this.resolve(field.type, scope.fullName);
      }
      const key = segments.join('.');
      if (!field || bound.has(key)) {
        throw invalidArgument(
          `Invalid JSON payload received. Unknown name "${rawKey}": Cannot bind query parameter. Field '${rawKey}' could not be found in request message.`,
        );
      }
      const target = this.resolveField(field, scope.fullName);
      // Query values arrive as strings; give numbers and booleans their JSON type before the usual check.
      let candidate: unknown = rawValue;
      if (!target.def.fields && !target.def.values) {
        if (field.type === 'bool') candidate = rawValue === 'true' ? true : rawValue === 'false' ? false : rawValue;
        else if (INT32.has(field.type) || UINT32.has(field.type) || field.type === 'double' || field.type === 'float') {
          candidate = rawValue.trim() !== '' && !Number.isNaN(Number(rawValue)) ? Number(rawValue) : rawValue;
        }
      }
      const normalised = field.rule === 'repeated' ? [this.value({ ...field, rule: undefined }, target, candidate, snake(key))] : this.value(field, target, candidate, snake(key));
      out[key] = normalised as Json;
    }
    return out;
  }

  /**
   * Encodes a response the way the service does: enums as numbers when the request asked for
   * `$alt=json;enum-encoding=int` (names otherwise), proto3 defaults (0, "", false, empty lists and maps) left out.
   * A field the message does not have is a bug in the fake, so it throws.
   */
  output(fullName: string, value: Json, numeric: boolean): Json {
    return this.out({ type: fullName }, this.type(fullName), value, numeric, fullName) ?? {};
  }

  private out(field: ProtoField, resolved: Resolved, value: Json | undefined, numeric: boolean, path: string): Json | undefined {
    if (value === undefined) return undefined;
    if (field.keyType) {
      if (!isObject(value)) throw new Error(`fake-vertex output: ${path} must be a map`);
      const entries = Object.entries(value).map(([k, v]) => [k, this.out({ type: field.type }, resolved, v as Json, numeric, `${path}[${k}]`) ?? defaultOf(field.type)] as const);
      return entries.length ? Object.fromEntries(entries) : undefined;
    }
    if (field.rule === 'repeated') {
      if (!Array.isArray(value)) throw new Error(`fake-vertex output: ${path} must be a list`);
      return value.length ? value.map((v, i) => this.out({ type: field.type }, resolved, v, numeric, `${path}[${i}]`) ?? defaultOf(field.type)) : undefined;
    }
    if (SCALAR_DESC[field.type]) return value === 0 || value === '' || value === false || value === '0' ? undefined : value;
    if (resolved.def.values) {
      const values = resolved.def.values;
      const n = typeof value === 'number' ? value : values[value as string];
      if (n === undefined) throw new Error(`fake-vertex output: ${String(value)} is not a value of ${resolved.fullName} at ${path}`);
      if (n === 0) return undefined;
      if (numeric) return n;
      return typeof value === 'string' ? value : (Object.entries(values).find(([, x]) => x === n)?.[0] ?? n);
    }
    if (resolved.fullName.startsWith('google.protobuf.') && resolved.fullName !== 'google.protobuf.Any' && resolved.fullName !== 'google.protobuf.Empty') {
      return value;
    }
    if (!isObject(value)) throw new Error(`fake-vertex output: ${path} must be an object`);
    let target = resolved;
    let prefix: JsonObject = {};
    if (resolved.fullName === 'google.protobuf.Any') {
      const typeUrl = value['@type'];
      if (typeof typeUrl !== 'string') throw new Error(`fake-vertex output: ${path} lacks @type`);
      const name = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
      if (!this.lookup(name)) return value;
      target = this.type(name);
      prefix = { '@type': typeUrl };
    }
    const fields = target.def.fields ?? {};
    const result: JsonObject = { ...prefix };
    for (const [k, v] of Object.entries(value)) {
      if (k === '@type') continue;
      const f = fields[k];
      if (!f) throw new Error(`fake-vertex output: ${target.fullName} has no field ${k} (at ${path})`);
      const encoded = this.out(f, this.resolveField(f, target.fullName), v, numeric, `${path}.${k}`);
      if (encoded !== undefined) result[k] = encoded;
    }
    return result;
  }

  private resolveField(field: ProtoField, scope: string): Resolved {
    if (SCALAR_DESC[field.type]) return { fullName: field.type, def: {} };
    return this.resolve(field.type, scope);
  }

  private describe(field: ProtoField, resolved: Resolved): string {
    return SCALAR_DESC[field.type] ?? `type.googleapis.com/${resolved.fullName}`;
  }

  private bad(path: string, field: ProtoField, resolved: Resolved, value: unknown): never {
    throw invalidArgument(`Invalid value at '${path}' (${this.describe(field, resolved)}), ${JSON.stringify(value)}`, path);
  }

  private value(field: ProtoField, resolved: Resolved, value: unknown, path: string): Json | undefined {
    if (value === null || value === undefined) return resolved.fullName === 'google.protobuf.Value' ? null : undefined;
    if (field.keyType) {
      if (!isObject(value)) this.bad(path, field, resolved, value);
      const out: JsonObject = {};
      for (const [k, v] of Object.entries(value)) {
        if ((INT32.has(field.keyType) || INT64.has(field.keyType) || UINT32.has(field.keyType)) && !/^-?\d+$/.test(k)) {
          throw invalidArgument(`Invalid value at '${path}' (map key ${SCALAR_DESC[field.keyType]}), "${k}"`, path);
        }
        const item = this.value({ type: field.type }, resolved, v, `${path}[${k}]`);
        if (item !== undefined) out[k] = item;
      }
      return out;
    }
    if (field.rule === 'repeated') {
      if (!Array.isArray(value)) this.bad(path, field, resolved, value);
      return value.map((item, i) => {
        if (item === null && resolved.fullName !== 'google.protobuf.Value') this.bad(`${path}[${i}]`, field, resolved, item);
        return this.value({ type: field.type }, resolved, item, `${path}[${i}]`) as Json;
      });
    }
    if (Array.isArray(value) && resolved.fullName !== 'google.protobuf.Value' && resolved.fullName !== 'google.protobuf.ListValue') {
      const at = path.lastIndexOf('.');
      const name = at >= 0 ? path.slice(at + 1) : path;
      const parent = at >= 0 ? path.slice(0, at) : '';
      throw invalidArgument(
        `Invalid JSON payload received. Unknown name "${camel(name)}"${parent ? ` at '${parent}'` : ''}: Proto field is not repeating, cannot start list.`,
        path,
      );
    }
    const t = field.type;
    if (SCALAR_DESC[t]) return this.scalar(t, field, resolved, value, path);
    if (resolved.def.values) {
      const values = resolved.def.values;
      if (typeof value === 'string' && value in values) return value;
      if (typeof value === 'number' && Number.isInteger(value)) {
        const name = Object.entries(values).find(([, n]) => n === value)?.[0];
        // proto3 enums are open: an unknown number passes the parser and is left to the service's own checks.
        return name ?? value;
      }
      this.bad(path, field, resolved, value);
    }
    return this.wellKnownOrMessage(field, resolved, value, path);
  }

  private scalar(t: string, field: ProtoField, resolved: Resolved, value: unknown, path: string): Json {
    if (t === 'string') {
      if (typeof value !== 'string') this.bad(path, field, resolved, value);
      return value;
    }
    if (t === 'bool') {
      if (typeof value !== 'boolean') this.bad(path, field, resolved, value);
      return value;
    }
    if (t === 'bytes') {
      if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) this.bad(path, field, resolved, value);
      return value;
    }
    if (t === 'double' || t === 'float') {
      if (typeof value === 'number') return value;
      if (typeof value === 'string' && (['NaN', 'Infinity', '-Infinity'].includes(value) || (value.trim() !== '' && !Number.isNaN(Number(value))))) return value;
      this.bad(path, field, resolved, value);
    }
    const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
    if (!Number.isInteger(n)) this.bad(path, field, resolved, value);
    if (INT32.has(t)) {
      if (n < -2147483648 || n > 2147483647) this.bad(path, field, resolved, value);
      return n;
    }
    if (UINT32.has(t)) {
      if (n < 0 || n > 4294967295) this.bad(path, field, resolved, value);
      return n;
    }
    // int64 keeps its JSON form: numbers beyond 2^53 only survive as strings.
    if (t.startsWith('u') || t === 'fixed64') {
      if (n < 0) this.bad(path, field, resolved, value);
    }
    return value as Json;
  }

  private wellKnownOrMessage(field: ProtoField, resolved: Resolved, value: unknown, path: string): Json {
    switch (resolved.fullName) {
      case 'google.protobuf.Value':
        return value as Json;
      case 'google.protobuf.Struct':
        if (!isObject(value)) this.bad(path, field, resolved, value);
        return value as Json;
      case 'google.protobuf.ListValue':
        if (!Array.isArray(value)) this.bad(path, field, resolved, value);
        return value as Json;
      case 'google.protobuf.Timestamp':
        if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
          this.bad(path, field, resolved, value);
        }
        return value;
      case 'google.protobuf.Duration':
        if (typeof value !== 'string' || !/^-?\d+(\.\d{1,9})?s$/.test(value)) this.bad(path, field, resolved, value);
        return value;
      case 'google.protobuf.FieldMask':
        if (typeof value !== 'string') this.bad(path, field, resolved, value);
        return value;
      case 'google.protobuf.Empty':
        if (!isObject(value) || Object.keys(value).length > 0) this.bad(path, field, resolved, value);
        return {};
      case 'google.protobuf.Any':
        if (!isObject(value) || typeof value['@type'] !== 'string') this.bad(path, field, resolved, value);
        return value as Json;
      case 'google.protobuf.DoubleValue':
      case 'google.protobuf.FloatValue':
      case 'google.protobuf.Int64Value':
      case 'google.protobuf.UInt64Value':
      case 'google.protobuf.Int32Value':
      case 'google.protobuf.UInt32Value':
      case 'google.protobuf.BoolValue':
      case 'google.protobuf.StringValue':
      case 'google.protobuf.BytesValue': {
        const inner = resolved.def.fields?.value as ProtoField;
        return this.scalar(inner.type, inner, { fullName: inner.type, def: {} }, value, path);
      }
    }
    if (!isObject(value)) this.bad(path, field, resolved, value);
    const fields = resolved.def.fields ?? {};
    const out: JsonObject = {};
    for (const [rawKey, v] of Object.entries(value)) {
      const key = rawKey in fields ? rawKey : camel(rawKey);
      const f = fields[key];
      if (!f) {
        throw invalidArgument(
          `Invalid JSON payload received. Unknown name "${rawKey}"${path ? ` at '${path}'` : ''}: Cannot find field.`,
          path ? `${path}.${rawKey}` : rawKey,
        );
      }
      if (key in out) throw invalidArgument(`Invalid JSON payload received. Duplicate field "${rawKey}"${path ? ` at '${path}'` : ''}.`, path);
      const child = this.value(f, this.resolveField(f, resolved.fullName), v, path ? `${path}.${snake(key)}` : snake(key));
      if (child !== undefined) out[key] = child;
    }
    for (const [oneof, { oneof: members }] of Object.entries(resolved.def.oneofs ?? {})) {
      const set = members.filter((m) => out[m] !== undefined && !(m.startsWith('_') && members.length === 1));
      if (set.length > 1) {
        throw invalidArgument(
          `Invalid JSON payload received. Oneof field '${snake(oneof)}' is already set. Cannot set '${set[1]}'${path ? ` at '${path}'` : ''}.`,
          path,
        );
      }
    }
    return out;
  }
}
