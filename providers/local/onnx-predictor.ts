// Turns a Vertex/SageMaker-style JSON request into ONNX tensors, runs them with onnxruntime-web (WASM), and
// turns the outputs back into plain JSON. No HTTP here: serve-onnx.ts owns the wire.
//
// onnxruntime-web rather than onnxruntime-node: the node package's install script downloads CUDA libraries
// from NuGet and fails offline. It is an optional peer dependency, so it is only ever loaded with a dynamic
// import, and a missing install becomes one clear message.
//
// onnxruntime-web 1.30 in Node 20 (measured on a 2-core machine): `import('onnxruntime-web')` resolves the
// package's `node` export (dist/ort.node.min.mjs), which finds ort-wasm-simd-threaded.{mjs,wasm} next to
// itself, so no `env.wasm.wasmPaths` is needed (it would be once bundled). The import takes ~30 ms; the FIRST
// InferenceSession.create takes 0.45-0.95 s, nearly all of it the runtime's one-time start-up inside the
// 14 MB WASM module (compiling it is ~80 ms; V8 flags such as --no-liftoff only make it slower); later
// sessions take ~5 ms. A run of the example model takes ~0.1 ms.

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InferenceSession, Tensor } from 'onnxruntime-web';

type Ort = typeof import('onnxruntime-web');

/** The request is wrong (shape, type, missing field): the caller should answer HTTP 400 with the message. */
export class PredictionInputError extends Error {
  override readonly name = 'PredictionInputError';
}

/** onnxruntime-web, an optional peer dependency, is not installed. */
export class OnnxRuntimeMissingError extends Error {
  override readonly name = 'OnnxRuntimeMissingError';
  readonly code = 'OnnxRuntimeMissing';
}

export interface PredictionResult {
  /** The first tensor output, one entry per batch row. */
  predictions: unknown[];
  /** Every tensor output by name, as nested arrays following the tensor's shape. */
  outputs: Record<string, unknown[]>;
}

export interface OnnxPredictor {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  predict(body: unknown): Promise<PredictionResult>;
  close(): Promise<void>;
}

export interface OnnxPredictorOptions {
  /**
   * WASM threads. Default 1: the serving process answers small requests, where a second thread only adds
   * RSS (about +35 MB measured) and worker start-up; onnxruntime-web's own default is min(4, cores/2).
   * The setting is process-wide and only takes effect before the first session is created.
   */
  numThreads?: number;
}

const PACKAGE = 'onnxruntime-web';

/** Load onnxruntime-web, or fail with how to install it. Exported so a provider can check before spawning. */
export async function loadOnnxRuntime(): Promise<Ort> {
  return importOptionalPeer<Ort>(PACKAGE);
}

/** Exported for tests: the missing-package path cannot be exercised with the real package installed. */
export async function importOptionalPeer<T>(name: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (err) {
    if (isPackageMissing(err, name)) {
      throw new OnnxRuntimeMissingError(`${name} is not installed; run: npm install ${name}`, { cause: err });
    }
    throw err;
  }
}

function isPackageMissing(err: unknown, name: string): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  // Only the package itself being absent; a broken install (a missing dependency of it) must surface as is.
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    (err.message.includes(`'${name}'`) || err.message.includes(`"${name}"`))
  );
}

/** The model file in a model directory: `model.onnx`, else the only `*.onnx` file. */
export async function findOnnxModelFile(modelDir: string): Promise<string> {
  let entries;
  try {
    entries = await readdir(modelDir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'ENOTDIR' ? 'is not a directory' : String(err);
    throw new Error(`model directory ${modelDir} ${why}`, { cause: err });
  }
  const onnx = entries.filter((e) => e.isFile() && e.name.toLowerCase().endsWith('.onnx')).map((e) => e.name);
  if (onnx.includes('model.onnx')) return join(modelDir, 'model.onnx');
  const [only, ...rest] = onnx.sort();
  if (only !== undefined && rest.length === 0) return join(modelDir, only);
  if (only === undefined) {
    throw new Error(`no .onnx file in ${modelDir}; put the model there as model.onnx`);
  }
  throw new Error(`${onnx.length} .onnx files in ${modelDir} (${onnx.join(', ')}); name the one to serve model.onnx`);
}

/** Load a model file and return a predictor for it. Throws a plain Error saying why the model cannot load. */
export async function loadOnnxPredictor(modelFile: string, options: OnnxPredictorOptions = {}): Promise<OnnxPredictor> {
  const ort = await loadOnnxRuntime();
  ort.env.wasm.numThreads = options.numThreads ?? 1;
  let bytes: Uint8Array;
  try {
    bytes = await readFile(modelFile);
  } catch (err) {
    throw new Error(`cannot read model file ${modelFile}: ${(err as Error).message}`, { cause: err });
  }
  let session: InferenceSession;
  try {
    // Bytes rather than a path: a read error above names the file; ORT's own would not.
    session = await ort.InferenceSession.create(bytes);
  } catch (err) {
    throw new Error(`onnxruntime-web cannot load ${modelFile}: ${cleanOrtMessage(err)}`, { cause: err });
  }
  return new WasmOnnxPredictor(ort, session);
}

interface InputSpec {
  name: string;
  type: Tensor.Type;
  /** Empty when the model does not declare a shape. */
  shape: ReadonlyArray<number | string>;
}

// ValueMetadata arrived in onnxruntime-common 1.22; older runtimes have no inputMetadata at all.
type SessionMetadata = Partial<Pick<InferenceSession, 'inputMetadata' | 'outputMetadata'>>;

class WasmOnnxPredictor implements OnnxPredictor {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  private readonly inputs: readonly InputSpec[];
  /** Outputs that are tensors: sequences and maps (e.g. sklearn's ZipMap) cannot become JSON arrays here. */
  private readonly tensorOutputs: readonly string[];

  constructor(
    private readonly ort: Ort,
    private readonly session: InferenceSession,
  ) {
    this.inputNames = [...session.inputNames];
    this.outputNames = [...session.outputNames];
    const meta = session as SessionMetadata;
    this.inputs = this.inputNames.map((name, i): InputSpec => {
      const m = meta.inputMetadata?.[i];
      return m?.isTensor ? { name, type: m.type, shape: m.shape } : { name, type: 'float32', shape: [] };
    });
    this.tensorOutputs = this.outputNames.filter((_, i) => meta.outputMetadata?.[i]?.isTensor !== false);
  }

  async predict(body: unknown): Promise<PredictionResult> {
    const feeds = this.feedsFrom(body);
    let results: InferenceSession.ReturnType;
    try {
      results = await this.session.run(feeds, [...this.tensorOutputs]);
    } catch (err) {
      // ORT_INVALID_ARGUMENT: the inputs do not fit the model (e.g. two symbolic dims that must agree).
      if (/ERROR_CODE: 2\b/.test(String((err as Error).message))) {
        throw new PredictionInputError(`the model rejected the input: ${cleanOrtMessage(err)}`, { cause: err });
      }
      throw new Error(`onnxruntime-web failed to run the model: ${cleanOrtMessage(err)}`, { cause: err });
    } finally {
      for (const t of Object.values(feeds)) t.dispose();
    }
    const outputs: Record<string, unknown[]> = {};
    for (const name of this.tensorOutputs) {
      const value = results[name];
      if (value === undefined) continue;
      const json = tensorToJson(value);
      outputs[name] = Array.isArray(json) ? json : [json];
      value.dispose();
    }
    const first = this.tensorOutputs[0];
    return { predictions: (first !== undefined ? outputs[first] : undefined) ?? [], outputs };
  }

  async close(): Promise<void> {
    await this.session.release();
  }

  private feedsFrom(body: unknown): Record<string, Tensor> {
    if (!isPlainObject(body)) {
      throw new PredictionInputError(`the request body must be a JSON object like {"instances": [[...], ...]}`);
    }
    for (const key of Object.keys(body)) {
      if (key !== 'instances' && key !== 'inputs' && key !== 'parameters') {
        throw new PredictionInputError(
          `unknown field "${key}" in the request body; it takes "instances" (or "inputs") and optional "parameters"`,
        );
      }
    }
    if ('instances' in body && 'inputs' in body) {
      throw new PredictionInputError(`send either "instances" or "inputs", not both`);
    }
    if ('inputs' in body) return this.feedsFromInputs(body.inputs);
    if (!('instances' in body)) {
      throw new PredictionInputError(`the request body has no "instances"; send {"instances": [[...], ...]}`);
    }
    const [only, ...more] = this.inputs;
    if (only === undefined || more.length > 0) {
      throw new PredictionInputError(
        `the model takes ${this.inputs.length} inputs (${this.inputNames.join(', ')}); ` +
          `send {"inputs": {"<name>": [[...], ...]}} with one entry per input`,
      );
    }
    return { [only.name]: this.tensorFor(only, body.instances, 'instances') };
  }

  private feedsFromInputs(inputs: unknown): Record<string, Tensor> {
    if (!isPlainObject(inputs)) {
      throw new PredictionInputError(`"inputs" must be an object mapping each input name to its rows`);
    }
    for (const key of Object.keys(inputs)) {
      if (!this.inputNames.includes(key)) {
        throw new PredictionInputError(
          `"inputs" has "${key}", which is not an input of the model (inputs: ${this.inputNames.join(', ')})`,
        );
      }
    }
    const feeds: Record<string, Tensor> = {};
    let batch: { size: number; name: string } | undefined;
    for (const spec of this.inputs) {
      if (!(spec.name in inputs)) {
        throw new PredictionInputError(
          `"inputs" has no "${spec.name}"; the model takes ${this.inputNames.map((n) => `"${n}"`).join(', ')}`,
        );
      }
      const tensor = this.tensorFor(spec, inputs[spec.name], `inputs.${spec.name}`);
      const size = tensor.dims[0] ?? 0;
      if (batch && batch.size !== size) {
        throw new PredictionInputError(
          `inputs.${spec.name} has ${size} rows but inputs.${batch.name} has ${batch.size}; every input needs one row per batch item`,
        );
      }
      batch ??= { size, name: spec.name };
      feeds[spec.name] = tensor;
    }
    return feeds;
  }

  /** Rows (one per batch item) → a tensor of shape [rows.length, ...row shape]. */
  private tensorFor(spec: InputSpec, rows: unknown, where: string): Tensor {
    if (!Array.isArray(rows)) {
      throw new PredictionInputError(`${where} must be a list of rows, one per batch item`);
    }
    if (rows.length === 0) {
      throw new PredictionInputError(`${where} is empty; send at least one row`);
    }
    const modelRow = spec.shape.slice(1); // the model's shape without the batch dimension
    const batchDim = spec.shape[0];
    if (typeof batchDim === 'number' && batchDim !== rows.length) {
      throw new PredictionInputError(
        `${where} has ${rows.length === 1 ? '1 row' : `${rows.length} rows`}; the model's input '${spec.name}' takes exactly ${batchDim}`,
      );
    }
    const rowShape = shapeOf(rows[0]);
    if (spec.shape.length > 0 && rowShape.length !== modelRow.length) {
      throw new PredictionInputError(
        `${where}[0] has shape ${formatShape(rowShape)}; the model's input '${spec.name}' takes rows of shape ${formatShape(modelRow)}`,
      );
    }
    // Each dimension is fixed by the model where it says so, else by the first row.
    const expected = rowShape.map((d, i) => {
      const m = modelRow[i];
      return typeof m === 'number' ? { size: m, byModel: true } : { size: d, byModel: false };
    });
    const leaves: unknown[] = [];
    rows.forEach((row, i) => collect(row, `${where}[${i}]`, 0, expected, spec, where, leaves));
    const dims = [rows.length, ...expected.map((e) => e.size)];
    return new this.ort.Tensor(spec.type, toTypedData(spec, leaves, where), dims) as Tensor;
  }
}

function collect(
  value: unknown,
  path: string,
  depth: number,
  expected: ReadonlyArray<{ size: number; byModel: boolean }>,
  spec: InputSpec,
  where: string,
  out: unknown[],
): void {
  const want = expected[depth];
  if (want === undefined) {
    if (Array.isArray(value)) {
      throw new PredictionInputError(`${path} is a list; expected a single ${describeType(spec.type)}`);
    }
    out.push(checkScalar(value, path, spec));
    return;
  }
  if (!Array.isArray(value)) {
    throw new PredictionInputError(`${path} is ${describeValue(value)}; expected a list of ${want.size} values`);
  }
  if (value.length !== want.size) {
    const what = depth === 0 ? '' : ' at that position';
    throw new PredictionInputError(
      want.byModel
        ? `${path} has ${count(value.length)}; the model's input '${spec.name}' takes ${want.size}${what}`
        : `${path} has ${count(value.length)} but ${where}[0]${'[0]'.repeat(depth)} has ${want.size}; every row must have the same shape`,
    );
  }
  value.forEach((v, i) => collect(v, `${path}[${i}]`, depth + 1, expected, spec, where, out));
}

function shapeOf(value: unknown): number[] {
  const shape: number[] = [];
  let v = value;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0];
  }
  return shape;
}

const INT_RANGES: Partial<Record<Tensor.Type, readonly [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};

function checkScalar(value: unknown, path: string, spec: InputSpec): unknown {
  const type = spec.type;
  if (type === 'string') {
    if (typeof value !== 'string') throw new PredictionInputError(`${path} is ${describeValue(value)}; expected a string`);
    return value;
  }
  if (type === 'bool') {
    if (typeof value === 'boolean') return value;
    if (value === 0 || value === 1) return value === 1;
    throw new PredictionInputError(`${path} is ${describeValue(value)}; expected true or false`);
  }
  if (typeof value !== 'number') {
    throw new PredictionInputError(`${path} is ${describeValue(value)}; expected a number`);
  }
  const range = INT_RANGES[type];
  if (range && !(Number.isInteger(value) && value >= range[0] && value <= range[1])) {
    throw new PredictionInputError(
      `${path} is ${value}; the model's input '${spec.name}' is ${type}, so it takes integers from ${range[0]} to ${range[1]}`,
    );
  }
  return value;
}

function toTypedData(spec: InputSpec, leaves: unknown[], where: string): Tensor.DataType {
  const nums = leaves as number[];
  switch (spec.type) {
    case 'float32':
      return Float32Array.from(nums);
    case 'float64':
      return Float64Array.from(nums);
    case 'int8':
      return Int8Array.from(nums);
    case 'uint8':
      return Uint8Array.from(nums);
    case 'int16':
      return Int16Array.from(nums);
    case 'uint16':
      return Uint16Array.from(nums);
    case 'int32':
      return Int32Array.from(nums);
    case 'uint32':
      return Uint32Array.from(nums);
    case 'int64':
      return BigInt64Array.from(nums, (n) => BigInt(n));
    case 'uint64':
      return BigUint64Array.from(nums, (n) => BigInt(n));
    case 'bool':
      return Uint8Array.from(leaves as boolean[], (b) => (b ? 1 : 0));
    case 'string':
      return leaves as string[];
    default:
      throw new PredictionInputError(
        `${where}: the model's input '${spec.name}' is ${spec.type}, which this server cannot build from JSON`,
      );
  }
}

/** A tensor as JSON: numbers (int64 as numbers when safe, else decimal strings), nested by its dims. */
function tensorToJson(tensor: Tensor): unknown {
  const data = tensor.data;
  let flat: unknown[];
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    flat = Array.from(data, (b: bigint) => (Number.isSafeInteger(Number(b)) ? Number(b) : b.toString()));
  } else if (tensor.type === 'bool') {
    flat = Array.from(data as Uint8Array, (b) => b !== 0);
  } else if (Array.isArray(data)) {
    flat = data;
  } else {
    flat = Array.from(data as ArrayLike<number>);
  }
  return nest(flat, tensor.dims, 0, 0).value;
}

function nest(flat: unknown[], dims: readonly number[], depth: number, offset: number): { value: unknown; next: number } {
  const size = dims[depth];
  if (size === undefined) return { value: flat[offset], next: offset + 1 };
  const out: unknown[] = [];
  let next = offset;
  for (let i = 0; i < size; i++) {
    const r = nest(flat, dims, depth + 1, next);
    out.push(r.value);
    next = r.next;
  }
  return { value: out, next };
}

function count(n: number): string {
  return n === 1 ? '1 value' : `${n} values`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'object') return 'an object';
  return String(v);
}

function describeType(type: Tensor.Type): string {
  return type === 'string' ? 'string' : type === 'bool' ? 'boolean' : 'number';
}

function formatShape(shape: ReadonlyArray<number | string>): string {
  return `[${shape.join(', ')}]`;
}

/** ORT messages carry a call name and a code prefix that mean nothing to a user. */
function cleanOrtMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/^.*?ERROR_MESSAGE:\s*/s, '').replace(/\s+/g, ' ').trim();
}
