import { describe, expect, it } from 'vitest';
import { Output, spinnerAllowed, type Io } from '../../src/ui/output.js';

function io(overrides: Partial<Io['stderr']> = {}, env: NodeJS.ProcessEnv = {}): Io & { err: string[] } {
  const err: string[] = [];
  return {
    err,
    stdout: { write: () => true },
    stderr: { write: (s: string) => err.push(s), ...overrides },
    env,
    cwd: '/',
  };
}

const opts = { json: false, quiet: false, verbose: false };

describe('spinner choice', () => {
  it('uses a spinner only on a TTY with a width above 0, outside CI', () => {
    expect(spinnerAllowed(io({ isTTY: true, columns: 80 }), opts)).toBe(true);
    expect(spinnerAllowed(io({ isTTY: true, columns: 0 }), opts)).toBe(false); // ora would loop forever
    expect(spinnerAllowed(io({ isTTY: true }), opts)).toBe(false);
    expect(spinnerAllowed(io({ isTTY: true, columns: 80 }, { CI: 'true' }), opts)).toBe(false);
    expect(spinnerAllowed(io({ isTTY: true, columns: 80 }, { TERM: 'dumb' }), opts)).toBe(false);
    expect(spinnerAllowed(io({ isTTY: false, columns: 80 }), opts)).toBe(false);
    expect(spinnerAllowed(io({ isTTY: true, columns: 80 }), { ...opts, quiet: true })).toBe(false);
  });
});

describe('plain progress lines', () => {
  it('prints timestamped lines without colour when NO_COLOR is set', () => {
    const out = io({ isTTY: true, columns: 80 }, { NO_COLOR: '1' });
    new Output(out, opts).emit({ code: 'Ready', level: 'success', message: 'revision abc is ready' });
    expect(out.err.join('')).toMatch(/^\d\d:\d\d:\d\d\.\d{3} ✔ revision abc is ready\n$/);
  });
  it('prints nothing with --quiet', () => {
    const out = io();
    new Output(out, { ...opts, quiet: true }).emit({ code: 'Ready', message: 'x' });
    expect(out.err).toEqual([]);
  });
});
