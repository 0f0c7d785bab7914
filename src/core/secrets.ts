/**
 * Values read from the environment through ${VAR} are treated as secrets: whatever modeldeploy
 * prints or writes of its own (errors, plan, status, JSON, GitHub files, state) shows `***`
 * instead. Very short values and plain words the output uses by itself are left alone, or masking
 * them would garble every line (`true`, a port number).
 */
const PLAIN = /^(true|false|null|yes|no|on|off|\d{1,5})$/i;

export const MASK = '***';

/** The values worth masking, longest first (so one never leaves part of another showing). */
export function maskable(values: Iterable<string>): string[] {
  const kept = [...new Set(values)].filter((v) => v.trim().length >= 4 && !PLAIN.test(v.trim()));
  // As written inside a JSON string too (quotes, backslashes and line breaks escaped).
  const forms = kept.flatMap((v) => [v, JSON.stringify(v).slice(1, -1)]);
  return [...new Set(forms)].sort((a, b) => b.length - a.length);
}

export function masker(values: Iterable<string>): (text: string) => string {
  const list = maskable(values);
  if (list.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const v of list) if (out.includes(v)) out = out.split(v).join(MASK);
    return out;
  };
}
