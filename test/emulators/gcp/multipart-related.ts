import type { Writable } from 'node:stream';

/**
 * Streaming reader of a two-part `multipart/related` body (GCS `uploadType=multipart`): part 1 is the JSON metadata
 * (kept in memory, capped), part 2 is the media, written to `media` as it arrives so a large object is never held
 * whole in memory.
 */
export class MultipartError extends Error {}

const METADATA_LIMIT = 2 * 1024 * 1024;

export interface MultipartResult {
  metadata: Buffer;
  metadataContentType: string;
  mediaContentType: string;
  mediaBytes: number;
}

export function boundaryOf(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\/related\b/i.test(contentType)) return undefined;
  const m = /;\s*boundary=("?)([^";]+)\1/i.exec(contentType);
  return m?.[2];
}

async function write(sink: Writable, chunk: Buffer): Promise<void> {
  if (chunk.length === 0) return;
  if (!sink.write(chunk)) {
    await new Promise<void>((resolve, reject) => {
      const onDrain = (): void => {
        sink.off('error', onError);
        resolve();
      };
      const onError = (e: Error): void => {
        sink.off('drain', onDrain);
        reject(e);
      };
      sink.once('drain', onDrain);
      sink.once('error', onError);
    });
  }
}

function parseHeaders(block: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of block.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return headers;
}

export async function readMultipartRelated(
  body: AsyncIterable<Buffer>,
  boundary: string,
  media: Writable,
): Promise<MultipartResult> {
  const dash = Buffer.from(`--${boundary}`);
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  let pending: Buffer = Buffer.alloc(0);
  type State = 'preamble' | 'headers' | 'body' | 'after-delimiter' | 'done';
  let state = 'preamble' as State;
  let part = 0;
  const metaChunks: Buffer[] = [];
  let metaBytes = 0;
  let metadataContentType = '';
  let mediaContentType = '';
  let mediaBytes = 0;

  const emit = async (chunk: Buffer): Promise<void> => {
    if (part === 1) {
      metaBytes += chunk.length;
      if (metaBytes > METADATA_LIMIT) throw new MultipartError('Metadata part is too large.');
      metaChunks.push(chunk);
    } else if (part === 2) {
      mediaBytes += chunk.length;
      await write(media, chunk);
    } else if (chunk.length > 0) {
      throw new MultipartError(`Invalid multipart request with ${part} mime parts.`);
    }
  };

  const step = async (final: boolean): Promise<boolean> => {
    switch (state) {
      case 'preamble': {
        // teeny-request starts directly with the dash-boundary; tolerate a leading CRLF like GCS does.
        const start = pending.indexOf(dash);
        if (start < 0) {
          if (final) throw new MultipartError('Invalid multipart request with 0 mime parts.');
          return false;
        }
        pending = pending.subarray(start + dash.length);
        state = 'after-delimiter';
        return true;
      }
      case 'after-delimiter': {
        if (pending.length < 2) {
          if (final) throw new MultipartError('Invalid multipart request: truncated body.');
          return false;
        }
        if (pending[0] === 0x2d && pending[1] === 0x2d) {
          state = 'done';
          pending = Buffer.alloc(0);
          return false;
        }
        if (pending[0] !== 0x0d || pending[1] !== 0x0a) throw new MultipartError('Invalid multipart request: bad delimiter.');
        pending = pending.subarray(2);
        part++;
        if (part > 2) throw new MultipartError(`Invalid multipart request with ${part} mime parts.`);
        state = 'headers';
        return true;
      }
      case 'headers': {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) {
          if (final || pending.length > 64 * 1024) throw new MultipartError('Invalid multipart request: bad part headers.');
          return false;
        }
        const headers = parseHeaders(pending.subarray(0, end).toString('latin1'));
        if (part === 1) metadataContentType = headers['content-type'] ?? '';
        else mediaContentType = headers['content-type'] ?? '';
        pending = pending.subarray(end + 4);
        state = 'body';
        return true;
      }
      case 'body': {
        const at = pending.indexOf(delimiter);
        if (at >= 0) {
          await emit(pending.subarray(0, at));
          pending = pending.subarray(at + delimiter.length);
          state = 'after-delimiter';
          return true;
        }
        if (final) throw new MultipartError('Invalid multipart request: missing closing boundary.');
        // Keep a tail that could be the start of a delimiter split across chunks.
        const keep = Math.min(pending.length, delimiter.length - 1);
        await emit(pending.subarray(0, pending.length - keep));
        pending = pending.subarray(pending.length - keep);
        return false;
      }
      case 'done':
        return false;
    }
  };

  for await (const chunk of body) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (await step(false));
  }
  while (await step(true));
  // `step` (a closure) moves the state on; TS cannot see that.
  if ((state as State) !== 'done') throw new MultipartError('Invalid multipart request: missing closing boundary.');
  if (part !== 2) throw new MultipartError(`Invalid multipart request with ${part} mime parts.`);
  return { metadata: Buffer.concat(metaChunks), metadataContentType, mediaContentType, mediaBytes };
}
