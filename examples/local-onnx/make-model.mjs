#!/usr/bin/env node
// Writes model/model.onnx, request.json and expected.json for this example.
//
//   node make-model.mjs            # into this folder
//   node make-model.mjs <out-dir>  # anywhere else (the tests use a temp dir)
//
// Dependency-free on purpose: the ONNX file is hand-encoded protobuf, so neither CI nor a user needs Python
// or the onnx package. The output is deterministic: running it again must not change a byte.
// expected.json is computed here in plain JS, independently of onnxruntime, so it can check the runtime.
//
// `encodeModel` is exported so tests can build other small models (several inputs, int64) the same way.

import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------------------------------------------------
// The model: an Iris-style classifier over [sepal length, sepal width, petal length, petal width] in cm.
// The weights are set by hand so that each hidden unit is a readable threshold rule. PyTorch layout:
// W is [out, in], used with Gemm transB=1.
// ---------------------------------------------------------------------------------------------------------

const W1 = [
  [0, 0, -1, 0], // h0: petal length below 2.5 → setosa
  [0, 0, 1, 0], //  h1: petal length above 2.5 → not setosa
  [0, 0, 0, 1], //  h2: petal width above 1.6 → virginica
  [0, 0, 1, 0], //  h3: petal length above 4.9 → virginica
  [0, 1, 0, 0], //  h4: sepal width above 3.0 → setosa (wide sepals)
  [0, 0, 0, -1], // h5: petal width below 1.75 → versicolor rather than virginica
  [0, 0, 0, 1], //  h6: petal width above 0.6 → not setosa
  [1, 0, 0, 0], //  h7: sepal length above 5.8 → weakly virginica
];
const B1 = [2.5, -2.5, -1.6, -4.9, -3.0, 1.75, -0.6, -5.8];
const W2 = [
  [6, 0, 0, 0, 1, 0, -2, 0], //  class 0: setosa
  [0, 2, -3, -3, 0, 2, 0, 0], // class 1: versicolor
  [0, 1, 4, 4, 0, 0, 0, 0.5], // class 2: virginica
];
const B2 = [0, 0, 0];

/** The Iris classifier as an `encodeModel` spec. */
export const IRIS_MODEL = {
  name: 'iris_mlp',
  inputs: [{ name: 'input', type: 'float32', shape: ['N', 4] }],
  // Order matters: the server's `predictions` are the first output.
  outputs: [
    { name: 'label', type: 'int64', shape: ['N'] },
    { name: 'probabilities', type: 'float32', shape: ['N', 3] },
  ],
  initializers: [
    { name: 'W1', dims: [8, 4], values: W1.flat() },
    { name: 'B1', dims: [8], values: B1 },
    { name: 'W2', dims: [3, 8], values: W2.flat() },
    { name: 'B2', dims: [3], values: B2 },
  ],
  nodes: [
    { op: 'Gemm', inputs: ['input', 'W1', 'B1'], outputs: ['hidden_pre'], attrs: { transB: 1 } },
    { op: 'Relu', inputs: ['hidden_pre'], outputs: ['hidden'] },
    { op: 'Gemm', inputs: ['hidden', 'W2', 'B2'], outputs: ['logits'], attrs: { transB: 1 } },
    { op: 'Softmax', inputs: ['logits'], outputs: ['probabilities'], attrs: { axis: 1 } },
    { op: 'ArgMax', inputs: ['probabilities'], outputs: ['label'], attrs: { axis: 1, keepdims: 0 } },
  ],
};

// Row 0 is a setosa, row 1 a virginica. Kept as text so that `3.0` is written as such.
const REQUEST_TEXT = '{"instances": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}\n';

// ---------------------------------------------------------------------------------------------------------
// A minimal protobuf writer: varints and length-delimited fields are all ONNX needs here.
// Field numbers are those of onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
// ValueInfoProto, TypeProto, TensorShapeProto, OperatorSetIdProto).
// ---------------------------------------------------------------------------------------------------------

function varint(value) {
  let v = BigInt(value);
  if (v < 0n) v += 1n << 64n; // a negative int64 is a 10-byte two's-complement varint
  const out = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return Buffer.from(out);
}

const key = (field, wireType) => varint((field << 3) | wireType);
const int = (field, value) => Buffer.concat([key(field, 0), varint(value)]);
const bytes = (field, buf) => Buffer.concat([key(field, 2), varint(buf.length), buf]);
const str = (field, s) => bytes(field, Buffer.from(s, 'utf8'));

// TensorProto.DataType
const DATA_TYPES = { float32: 1, int64: 7 };
const ATTR_INT = 2; // AttributeProto.AttributeType.INT

function tensorProto({ name, dims, values }) {
  // float32 only; raw_data is little-endian by definition.
  const raw = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => raw.writeFloatLE(v, i * 4));
  return Buffer.concat([...dims.map((d) => int(1, d)), int(2, DATA_TYPES.float32), str(8, name), bytes(9, raw)]);
}

function nodeProto({ op, inputs, outputs, attrs = {} }, index) {
  return Buffer.concat([
    ...inputs.map((i) => str(1, i)),
    ...outputs.map((o) => str(2, o)),
    str(3, `${op.toLowerCase()}_${index}`),
    str(4, op),
    ...Object.entries(attrs).map(([name, v]) => bytes(5, Buffer.concat([str(1, name), int(3, v), int(20, ATTR_INT)]))),
  ]);
}

// shape: numbers are fixed sizes, strings are symbolic (e.g. the batch dimension).
function valueInfoProto({ name, type, shape }) {
  const dims = shape.map((d) => bytes(1, typeof d === 'string' ? str(2, d) : int(1, d)));
  const tensorType = Buffer.concat([int(1, DATA_TYPES[type]), bytes(2, Buffer.concat(dims))]);
  return Buffer.concat([str(1, name), bytes(2, bytes(1, tensorType))]);
}

/**
 * Encode a model: { name, inputs, outputs: [{name, type: 'float32'|'int64', shape}],
 * initializers: [{name, dims, values}] (float32), nodes: [{op, inputs, outputs, attrs: {name: int}}] }.
 * IR version 8, default-domain opset 17.
 */
export function encodeModel(spec) {
  const graph = Buffer.concat([
    ...spec.nodes.map((n, i) => bytes(1, nodeProto(n, i))),
    str(2, spec.name),
    ...(spec.initializers ?? []).map((t) => bytes(5, tensorProto(t))),
    ...spec.inputs.map((v) => bytes(11, valueInfoProto(v))),
    ...spec.outputs.map((v) => bytes(12, valueInfoProto(v))),
  ]);
  return Buffer.concat([
    int(1, 8), // ir_version
    str(2, 'modeldeploy-make-model'),
    str(3, '1'),
    bytes(7, graph),
    bytes(8, Buffer.concat([str(1, ''), int(2, 17)])), // opset_import
  ]);
}

// ---------------------------------------------------------------------------------------------------------
// Reference inference in plain JS. Weights are rounded to float32 as stored, arithmetic is in double, and
// the probabilities are rounded to float32 because that is what the runtime returns.
// ---------------------------------------------------------------------------------------------------------

const f32 = Math.fround;

function classify(row) {
  const hidden = W1.map((w, j) => Math.max(0, w.reduce((acc, wi, i) => acc + f32(wi) * f32(row[i]), f32(B1[j]))));
  const logits = W2.map((w, k) => w.reduce((acc, wi, j) => acc + f32(wi) * hidden[j], f32(B2[k])));
  const max = Math.max(...logits);
  const exps = logits.map((z) => Math.exp(z - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  const probabilities = exps.map((e) => f32(e / sum));
  return { label: probabilities.indexOf(Math.max(...probabilities)), probabilities };
}

/** The response body the server should give for `request` ({"instances": rows}). */
export function expectedResponse(request) {
  const results = request.instances.map(classify);
  const label = results.map((r) => r.label);
  return { predictions: label, outputs: { label, probabilities: results.map((r) => r.probabilities) } };
}

// JSON with arrays of numbers kept on one line, so expected.json reads like the tensors it describes.
function formatJson(value, indent = '') {
  const flat = (v) => v === null || typeof v !== 'object';
  if (Array.isArray(value)) {
    if (value.every(flat)) return JSON.stringify(value).replace(/,/g, ', ');
    return `[\n${value.map((v) => `${indent}  ${formatJson(v, `${indent}  `)}`).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]) => `${indent}  ${JSON.stringify(k)}: ${formatJson(v, `${indent}  `)}`);
    return `{\n${entries.join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

function main() {
  const here = dirname(fileURLToPath(import.meta.url));
  const outDir = resolve(process.argv[2] ?? here);
  mkdirSync(join(outDir, 'model'), { recursive: true });
  const model = encodeModel(IRIS_MODEL);
  writeFileSync(join(outDir, 'model', 'model.onnx'), model);
  writeFileSync(join(outDir, 'request.json'), REQUEST_TEXT);
  writeFileSync(join(outDir, 'expected.json'), `${formatJson(expectedResponse(JSON.parse(REQUEST_TEXT)))}\n`);
  process.stdout.write(`wrote ${join(outDir, 'model', 'model.onnx')} (${model.length} bytes), request.json, expected.json\n`);
}

const entry = process.argv[1];
if (entry && realpathSync(entry) === fileURLToPath(import.meta.url)) main();
