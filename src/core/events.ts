/**
 * Progress is a stream of typed events with stable codes: renderers turn them into spinner
 * text or timestamped lines, tests assert on the codes.
 */
export type ProgressLevel = 'info' | 'step' | 'success' | 'warn';

export interface ProgressEvent {
  code: string;
  message: string;
  level?: ProgressLevel;
  data?: Record<string, unknown>;
}

export interface ProgressSink {
  emit(event: ProgressEvent): void;
}

export const silentProgress: ProgressSink = { emit: () => undefined };

/** Records events; used by tests and by `--json` to attach a timeline to the result. */
export class RecordingProgress implements ProgressSink {
  readonly events: ProgressEvent[] = [];
  constructor(private readonly next?: ProgressSink) {}
  emit(event: ProgressEvent): void {
    this.events.push(event);
    this.next?.emit(event);
  }
  codes(): string[] {
    return this.events.map((e) => e.code);
  }
}
