import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  findOnnxModelFile,
  importOptionalPeer,
  loadOnnxPredictor,
  OnnxRuntimeMissingError,
  PredictionInputError,
} from '../../providers/local/onnx-predictor.js';
import type { OnnxPredictor } from '../../providers/local/onnx-predictor.js';
// @ts-expect-error -- a plain .mjs script without type declarations
import { encodeModel } from '../../examples/local-onnx/make-model.mjs';

const execFileAsync = promisify(execFile);
const example = fileURLToPath(new URL('../../examples/local-onnx/', import.meta.url));

interface Expected {
  predictions: number[];
  outputs: { label: number[]; probabilities: number[][] };
}

function expectClose(actual: unknown, expected: unknown, tolerance = 1e-5): void {
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual)).toBe(true);
    expect((actual as unknown[]).length).toBe(expected.length);
    expected.forEach((e, i) => expectClose((actual as unknown[])[i], e, tolerance));
  } else {
    expect(typeof actual).toBe('number');
    expect(Math.abs((actual as number) - (expected as number))).toBeLessThanOrEqual(tolerance);
  }
}

async function inputError(predictor: OnnxPredictor, body: unknown): Promise<string> {
  const err = await predictor.predict(body).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PredictionInputError);
  return (err as Error).message;
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'onnx-predictor-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('the Iris example model', () => {
  let predictor: OnnxPredictor;
  beforeAll(async () => {
    predictor = await loadOnnxPredictor(join(example, 'model', 'model.onnx'));
  });
  afterAll(async () => {
    await predictor.close();
  });

  it('reports its inputs and outputs in model order', () => {
    expect(predictor.inputNames).toEqual(['input']);
    expect(predictor.outputNames).toEqual(['label', 'probabilities']);
  });

  it('matches expected.json, computed without onnxruntime', async () => {
    const request = JSON.parse(await readFile(join(example, 'request.json'), 'utf8')) as unknown;
    const expected = JSON.parse(await readFile(join(example, 'expected.json'), 'utf8')) as Expected;
    const result = await predictor.predict(request);
    // int64 labels come back as plain numbers, not BigInt, so they survive JSON.stringify.
    expect(result.predictions).toEqual(expected.predictions);
    expect(result.outputs.label).toEqual(expected.outputs.label);
    expect(Object.keys(result.outputs)).toEqual(['label', 'probabilities']);
    expectClose(result.outputs.probabilities, expected.outputs.probabilities);
    expect(() => JSON.stringify(result)).not.toThrow();
  });

  it('classifies a versicolor row as class 1 and accepts optional parameters', async () => {
    const result = await predictor.predict({ instances: [[5.9, 3.0, 4.2, 1.3]], parameters: { ignored: true } });
    expect(result.predictions).toEqual([1]);
  });

  it('takes the named-input form too', async () => {
    const result = await predictor.predict({ inputs: { input: [[5.1, 3.5, 1.4, 0.2]] } });
    expect(result.predictions).toEqual([0]);
  });

  it.each([
    ['null', null, /must be a JSON object/],
    ['an array', [[5.1, 3.5, 1.4, 0.2]], /must be a JSON object/],
    ['a string', 'hello', /must be a JSON object/],
    ['no instances', {}, /no "instances"/],
    ['a misspelt field', { instance: [[1, 2, 3, 4]] }, /unknown field "instance"/],
    ['both forms', { instances: [[1, 2, 3, 4]], inputs: { input: [[1, 2, 3, 4]] } }, /either "instances" or "inputs"/],
    ['instances not a list', { instances: { a: 1 } }, /instances must be a list of rows/],
    ['empty instances', { instances: [] }, /instances is empty/],
    ['a flat row instead of rows', { instances: [5.1, 3.5, 1.4, 0.2] }, /instances\[0\] has shape \[\]; .* takes rows of shape \[4\]/],
    ['a row one too short', { instances: [[1, 2, 3, 4], [1, 2, 3]] }, "instances[1] has 3 values; the model's input 'input' takes 4"],
    ['the first row too long', { instances: [[1, 2, 3, 4, 5]] }, "instances[0] has 5 values; the model's input 'input' takes 4"],
    ['a string value', { instances: [[1, 2, 'x', 4]] }, /instances\[0\]\[2\] is "x"; expected a number/],
    ['a null value', { instances: [[1, 2, null, 4]] }, /instances\[0\]\[2\] is null; expected a number/],
    ['a nested list value', { instances: [[1, 2, 3, 4], [1, [2], 3, 4]] }, /instances\[1\]\[1\] is a list; expected a single number/],
    ['a row that is a number', { instances: [[1, 2, 3, 4], 7] }, /instances\[1\] is 7; expected a list of 4 values/],
    ['an unknown input name', { inputs: { x: [[1, 2, 3, 4]] } }, /"inputs" has "x", which is not an input of the model \(inputs: input\)/],
    ['inputs not an object', { inputs: [[1, 2, 3, 4]] }, /"inputs" must be an object/],
  ])('rejects %s with a message saying what was expected', async (_what, body, message) => {
    const got = await inputError(predictor, body);
    if (typeof message === 'string') expect(got).toBe(message);
    else expect(got).toMatch(message);
  });
});

describe('a model with two inputs, one of them int64, and symbolic dimensions', () => {
  let predictor: OnnxPredictor;
  beforeAll(async () => {
    // y = x * float(k), k_out = k: checks int64 in (BigInt64Array) and out (plain numbers).
    const model = encodeModel({
      name: 'two_inputs',
      inputs: [
        { name: 'x', type: 'float32', shape: ['N', 'F'] },
        { name: 'k', type: 'int64', shape: ['N', 'G'] },
      ],
      outputs: [
        { name: 'y', type: 'float32', shape: ['N', 'F'] },
        { name: 'k_out', type: 'int64', shape: ['N', 'G'] },
      ],
      nodes: [
        { op: 'Cast', inputs: ['k'], outputs: ['kf'], attrs: { to: 1 } },
        { op: 'Mul', inputs: ['x', 'kf'], outputs: ['y'] },
        { op: 'Identity', inputs: ['k'], outputs: ['k_out'] },
      ],
    }) as Buffer;
    const file = join(tmp, 'two-inputs.onnx');
    await writeFile(file, model);
    predictor = await loadOnnxPredictor(file);
  });
  afterAll(async () => {
    await predictor.close();
  });

  it('runs {"inputs": {...}} with one entry per input', async () => {
    const result = await predictor.predict({ inputs: { x: [[1, 2, 3], [4, 5, 6]], k: [[2], [-3]] } });
    expect(result.predictions).toEqual([
      [2, 4, 6],
      [-12, -15, -18],
    ]);
    expect(result.outputs.k_out).toEqual([[2], [-3]]);
  });

  it('rejects "instances" because it cannot tell which input the rows are for', async () => {
    expect(await inputError(predictor, { instances: [[1, 2, 3]] })).toMatch(/takes 2 inputs \(x, k\); send \{"inputs"/);
  });

  it('rejects a missing input', async () => {
    expect(await inputError(predictor, { inputs: { x: [[1, 2, 3]] } })).toMatch(/"inputs" has no "k"/);
  });

  it('rejects inputs with different batch sizes', async () => {
    expect(await inputError(predictor, { inputs: { x: [[1, 2, 3]], k: [[1], [2]] } })).toMatch(
      /inputs.k has 2 rows but inputs.x has 1/,
    );
  });

  it('rejects ragged rows where the model leaves the size open', async () => {
    expect(await inputError(predictor, { inputs: { x: [[1, 2, 3], [1, 2]], k: [[1], [2]] } })).toBe(
      'inputs.x[1] has 2 values but inputs.x[0] has 3; every row must have the same shape',
    );
  });

  it('rejects a fraction for an int64 input', async () => {
    expect(await inputError(predictor, { inputs: { x: [[1, 2, 3]], k: [[1.5]] } })).toMatch(
      /inputs.k\[0\]\[0\] is 1.5; the model's input 'k' is int64, so it takes integers/,
    );
  });
});

describe('findOnnxModelFile', () => {
  async function dirWith(name: string, files: string[]): Promise<string> {
    const dir = join(tmp, name);
    await mkdir(dir, { recursive: true });
    for (const f of files) await writeFile(join(dir, f), '');
    return dir;
  }

  it('prefers model.onnx', async () => {
    const dir = await dirWith('preferred', ['a.onnx', 'model.onnx', 'b.onnx']);
    expect(await findOnnxModelFile(dir)).toBe(join(dir, 'model.onnx'));
  });

  it('takes the only .onnx file', async () => {
    const dir = await dirWith('only', ['classifier.onnx', 'README.md']);
    expect(await findOnnxModelFile(dir)).toBe(join(dir, 'classifier.onnx'));
  });

  it('refuses to guess between several', async () => {
    const dir = await dirWith('several', ['a.onnx', 'b.onnx']);
    await expect(findOnnxModelFile(dir)).rejects.toThrow('2 .onnx files in');
  });

  it('says when there is none, or no directory', async () => {
    const dir = await dirWith('none', ['weights.json']);
    await expect(findOnnxModelFile(dir)).rejects.toThrow(/no \.onnx file in .*model\.onnx/);
    await expect(findOnnxModelFile(join(tmp, 'missing'))).rejects.toThrow(/does not exist/);
  });
});

describe('loading', () => {
  it('names the file that is not a model', async () => {
    const file = join(tmp, 'garbage.onnx');
    await writeFile(file, 'not a protobuf');
    await expect(loadOnnxPredictor(file)).rejects.toThrow(/onnxruntime-web cannot load .*garbage\.onnx: .*protobuf parsing failed/);
    await expect(loadOnnxPredictor(join(tmp, 'absent.onnx'))).rejects.toThrow(/cannot read model file .*absent\.onnx/);
  });

  it('turns a missing optional peer into an install instruction', async () => {
    const name = 'modeldeploy-test-no-such-package';
    const err = await importOptionalPeer(name).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OnnxRuntimeMissingError);
    expect((err as Error).message).toBe(`${name} is not installed; run: npm install ${name}`);
  });
});

describe('examples/local-onnx/make-model.mjs', () => {
  it('regenerates byte-identical files', async () => {
    const out = join(tmp, 'regenerated');
    await execFileAsync(process.execPath, [join(example, 'make-model.mjs'), out]);
    for (const file of ['model/model.onnx', 'request.json', 'expected.json']) {
      const [fresh, committed] = await Promise.all([readFile(join(out, file)), readFile(join(example, file))]);
      expect(fresh.equals(committed), `${file} differs from the committed copy`).toBe(true);
    }
  });
});
