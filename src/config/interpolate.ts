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
  /** The values read from the environment (not defaults written in the file): masked wherever modeldeploy prints. */
  fromEnv: string[];
}

export function interpolate(text: string, env: NodeJS.ProcessEnv): InterpolationResult {
  const missing: string[] = [];
  const malformed: string[] = [];
  const fromEnv: string[] = [];
  const read = (v: string) => {
    fromEnv.push(v);
    return v;
  };
  const value = text.replace(REFERENCE, (match, name: string | undefined, op: string | undefined, fallback: string | undefined) => {
    if (match === '$${') return '${';
    if (name === undefined) {
      malformed.push(match);
      return match;
    }
    const current = env[name];
    if (op === ':-') return current === undefined || current === '' ? (fallback ?? '') : read(current);
    if (op === '-') return current === undefined ? (fallback ?? '') : read(current);
    if (current === undefined) {
      missing.push(name);
      return '';
    }
    return read(current);
  });
  return { value, missing, malformed, fromEnv };
}
