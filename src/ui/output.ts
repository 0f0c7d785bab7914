/**
 * The one place that writes to the terminal. Results go to stdout (human text, or exactly one
 * JSON document with --json); progress and diagnostics go to stderr as an ora spinner on a
 * real terminal, or as plain timestamped lines in CI, pipes and 0-column ptys.
 */
import type { ProgressEvent, ProgressSink } from '../core/events.js';
import { masker } from '../core/secrets.js';

export interface Io {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  cwd: string;
}

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
  verbose: boolean;
}

export interface Spinner {
  start(text: string): void;
  update(text: string): void;
  stopAndPersist(symbol: string, text: string): void;
  stop(): void;
}

const SYMBOLS: Record<NonNullable<ProgressEvent['level']>, string> = { info: '-', step: '›', success: '✔', warn: '⚠' };

export function useColor(io: Io): boolean {
  return !io.env.NO_COLOR && io.env.TERM !== 'dumb' && !io.env.CI && Boolean(io.stderr.isTTY);
}

/** ora only on a TTY that reports a width above 0 and outside CI (ora loops forever at 0 columns). */
export function spinnerAllowed(io: Io, options: OutputOptions): boolean {
  return !options.quiet && Boolean(io.stderr.isTTY) && (io.stderr.columns ?? 0) > 0 && !io.env.CI && io.env.TERM !== 'dumb';
}

/** In plain mode, a line at least this often while something runs (CI shows nothing otherwise). */
export const HEARTBEAT_MS = 30_000;

export function formatElapsed(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

export class Output implements ProgressSink {
  private spinner: Spinner | undefined;
  private readonly color: boolean;
  private activity: { message: string; since: number } | undefined;
  private lastWrite = Date.now();
  private readonly heartbeat: NodeJS.Timeout | undefined;
  private readonly secrets = new Set<string>();
  /** Hides every secret known so far in a text about to be printed or written. */
  mask: (text: string) => string = (text) => text;

  constructor(
    readonly io: Io,
    readonly options: OutputOptions,
    spinner?: Spinner,
    private readonly listener?: (event: ProgressEvent) => void,
  ) {
    this.spinner = spinner;
    this.color = useColor(io);
    if (!spinner && !options.quiet) {
      this.heartbeat = setInterval(() => this.tick(), 5000);
      this.heartbeat.unref();
    }
  }

  /** In plain mode: if nothing was printed for HEARTBEAT_MS while a step runs, say it still runs. */
  tick(now = Date.now()): void {
    if (!this.activity || now - this.lastWrite < HEARTBEAT_MS) return;
    this.write(now, '…', `still ${this.activity.message} (${formatElapsed(now - this.activity.since)})`);
  }

  /** The command is over: no more heartbeats. */
  close(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.activity = undefined;
    this.spinner?.stop();
  }

  private write(now: number, symbol: string, message: string): void {
    this.lastWrite = now;
    this.io.stderr.write(`${new Date(now).toISOString().slice(11, 23)} ${symbol} ${message}\n`);
  }

  /** Values that must never be printed (read from the environment through ${VAR}). */
  addSecrets(values: Iterable<string>): void {
    for (const v of values) this.secrets.add(v);
    this.mask = masker(this.secrets);
  }

  emit(raw: ProgressEvent): void {
    this.listener?.(raw);
    if (this.options.quiet) return;
    const event = { ...raw, message: this.mask(raw.message) };
    const level = event.level ?? 'info';
    if (this.spinner) {
      if (level === 'step') this.spinner.start(event.message);
      else if (level === 'info' && event.code === 'StateChanged') this.spinner.update(event.message);
      else this.spinner.stopAndPersist(this.paint(SYMBOLS[level], level), event.message);
      return;
    }
    const now = Date.now();
    if (level === 'step') this.activity = { message: event.message.replace(/^\w/, (c) => c.toLowerCase()), since: now };
    this.write(now, this.paint(SYMBOLS[level], level), event.message);
  }

  /** Human result text on stdout (skipped with --json: the JSON document is the result). */
  result(text: string): void {
    this.spinner?.stop();
    if (!this.options.json && text) this.io.stdout.write(this.mask(text.endsWith('\n') ? text : `${text}\n`));
  }

  json(document: unknown): void {
    this.spinner?.stop();
    this.io.stdout.write(this.mask(`${JSON.stringify(document, null, 2)}\n`));
  }

  error(text: string): void {
    this.spinner?.stop();
    this.io.stderr.write(`${this.paint('✖', 'error')} ${this.mask(text)}\n`);
  }

  /** A line of diagnostics on stderr (a hint, a stack trace). */
  note(text: string): void {
    this.io.stderr.write(this.mask(text.endsWith('\n') ? text : `${text}\n`));
  }

  private paint(text: string, level: string): string {
    if (!this.color) return text;
    const code = { success: 32, warn: 33, error: 31, step: 36 }[level];
    return code ? `\u001b[${code}m${text}\u001b[39m` : text;
  }
}

/** Load ora lazily: `--help`, `validate` and every non-TTY run never pay for it. */
export async function createSpinner(io: Io): Promise<Spinner> {
  const { default: ora } = await import('ora');
  // NO_COLOR: not even the spinner's own frames are coloured.
  const spinner = ora({ stream: io.stderr as NodeJS.WritableStream, isEnabled: true, discardStdin: false, color: io.env.NO_COLOR ? false : 'cyan' });
  let text = '';
  let since = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const show = () => {
    spinner.text = `${text} (${formatElapsed(Date.now() - since)})`;
  };
  const stopTimer = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
  };
  return {
    start: (next) => {
      text = next;
      since = Date.now();
      stopTimer();
      timer = setInterval(show, 1000);
      timer.unref();
      spinner.start(`${text} (0s)`);
    },
    update: (next) => {
      text = next;
      show();
    },
    stopAndPersist: (symbol, persisted) => {
      stopTimer();
      if (spinner.isSpinning) spinner.stopAndPersist({ symbol, text: persisted });
      else io.stderr.write(`${symbol} ${persisted}\n`);
    },
    stop: () => {
      stopTimer();
      if (spinner.isSpinning) spinner.stop();
    },
  };
}
