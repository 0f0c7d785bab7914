import { describe, expect, it } from 'vitest';
import { interpolate } from '../../src/config/interpolate.js';
import { closest } from '../../src/config/suggest.js';
import { partialMatch } from '../../src/core/match.js';
import { judgeSmoke } from '../../src/core/smoke.js';

describe('partialMatch', () => {
  it('matches only the fields the expectation names', () => {
    expect(partialMatch({ predictions: [0] }, { predictions: [0], extra: 1 }, 0)).toEqual([]);
  });
  it('compares numbers within the tolerance', () => {
    expect(partialMatch([0.5], [0.5000004], 1e-6)).toEqual([]);
    expect(partialMatch([0.5], [0.51], 1e-6)).toEqual(['body[0]: expected 0.5, got 0.51']);
  });
  it('reports missing fields, wrong lengths and wrong types with their paths', () => {
    expect(partialMatch({ a: { b: 1 } }, { a: {} }, 0)).toEqual(['body.a.b: missing']);
    expect(partialMatch({ p: [1, 2] }, { p: [1] }, 0)).toEqual(['body.p: expected 2 items, got 1']);
    expect(partialMatch({ p: 'x' }, { p: 1 }, 0)).toEqual(['body.p: expected "x", got 1']);
    expect(partialMatch([1], { a: 1 }, 0)[0]).toContain('expected a list');
  });
});

describe('judgeSmoke', () => {
  const spec = { expect: { status: 200, body: { predictions: [0] }, maxLatencyMs: 100, tolerance: 1e-6 }, onFailure: 'rollback' as const };
  it('passes a matching response', () => {
    const r = judgeSmoke(spec, { status: 200, body: Buffer.from('{"predictions":[0]}'), latencyMs: 5 });
    expect(r.passed).toBe(true);
  });
  it('lists every mismatch: status, body and latency', () => {
    const r = judgeSmoke(spec, { status: 500, body: Buffer.from('oops'), latencyMs: 250 });
    expect(r.passed).toBe(false);
    expect(r.mismatches).toHaveLength(3);
    expect(r.mismatches[0]).toContain('expected 200, got 500');
    expect(r.mismatches[1]).toContain('expected JSON');
    expect(r.mismatches[2]).toContain('above maxLatencyMs 100');
  });
});

describe('interpolate', () => {
  const env = { A: 'x', EMPTY: '' };
  it('substitutes, defaults and escapes', () => {
    // fromEnv: what came from the environment (masked when printed), not the file's defaults.
    expect(interpolate('${A}-${B:-d}-${EMPTY:-e}-${EMPTY-f}-$${A}', env)).toEqual({ value: 'x-d-e--${A}', missing: [], malformed: [], fromEnv: ['x', ''] });
  });
  it('names unset variables and malformed references', () => {
    expect(interpolate('${NOPE} ${', env)).toMatchObject({ missing: ['NOPE'], malformed: ['${'] });
  });
});

describe('closest', () => {
  it('suggests near misses only', () => {
    expect(closest('modle', ['model', 'name'])).toBe('model');
    expect(closest('ml.m5.lage', ['ml.m5.large', 'ml.m5.xlarge'])).toBe('ml.m5.large');
    expect(closest('zzzzzz', ['model', 'name'])).toBeUndefined();
  });
});
