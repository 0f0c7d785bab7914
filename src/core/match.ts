/**
 * Partial deep match for smoke-test expectations: every field the expectation names must be in
 * the actual body; arrays match element by element with the same length; numbers match within
 * a tolerance (absolute, or relative for large values). Returns the mismatches, empty if none.
 */
export function partialMatch(expected: unknown, actual: unknown, tolerance: number, at = 'body'): string[] {
  if (typeof expected === 'number' && typeof actual === 'number') {
    const diff = Math.abs(expected - actual);
    return diff <= tolerance || diff <= tolerance * Math.abs(expected) ? [] : [`${at}: expected ${expected}, got ${actual}`];
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${at}: expected a list, got ${describe(actual)}`];
    if (expected.length !== actual.length) return [`${at}: expected ${expected.length} items, got ${actual.length}`];
    return expected.flatMap((e, i) => partialMatch(e, actual[i], tolerance, `${at}[${i}]`));
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) {
      return [`${at}: expected a mapping, got ${describe(actual)}`];
    }
    return Object.entries(expected).flatMap(([key, value]) =>
      key in actual
        ? partialMatch(value, (actual as Record<string, unknown>)[key], tolerance, `${at}.${key}`)
        : [`${at}.${key}: missing`],
    );
  }
  return Object.is(expected, actual) ? [] : [`${at}: expected ${JSON.stringify(expected)}, got ${describe(actual)}`];
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
