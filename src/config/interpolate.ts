/**
 * `${VAR}`, `${VAR:-default}` (default when unset or empty), `${VAR-default}` (default when
 * unset) and `$${...}` for a literal `${...}`. Unset variables without a default are reported,
 * never silently replaced by an empty string.
 */
const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|\$\{[^}]*\}?/g;

export interface InterpolationResult {
  value: string;
  missing: string[];
  malformed: string[];
}

export function interpolate(text: string, env: NodeJS.ProcessEnv): InterpolationResult {
  const missing: string[] = [];
  const malformed: string[] = [];
  const value = text.replace(REFERENCE, (match, name: string | undefined, op: string | undefined, fallback: string | undefined) => {
    if (match === '$${') return '${';
    if (name === undefined) {
      malformed.push(match);
      return match;
    }
    const current = env[name];
    if (op === ':-') return current === undefined || current === '' ? (fallback ?? '') : current;
    if (op === '-') return current === undefined ? (fallback ?? '') : current;
    if (current === undefined) {
      missing.push(name);
      return '';
    }
    return current;
  });
  return { value, missing, malformed };
}
