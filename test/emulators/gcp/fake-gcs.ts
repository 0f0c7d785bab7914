import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, stat, truncate } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { Crc32c } from './crc32c.js';
import { MultipartError, boundaryOf, readMultipartRelated } from './multipart-related.js';

/**
 * A strict fake of the Cloud Storage JSON API (v1) for @google-cloud/storage 7.x pointed at it with
 * `new Storage({ apiEndpoint: fake.url, projectId })`. Objects live in temp files; see README.md beside this file.
 */

export interface FakeGcsOptions {
  port?: number;
  /** Project whose number appears in bucket resources. */
  projectId?: string;
  projectNumber?: string;
  /** Buckets that exist from the start. */
  buckets?: string[];
  /** Where object bytes are kept; a fresh temp dir (removed by stop()) when omitted. */
  dataDir?: string;
}

export interface GcsObjectRecord {
  bucket: string;
  name: string;
  generation: string;
  metageneration: string;
  size: number;
  md5Hash: string;
  crc32c: string;
  contentType: string;
  metadata?: Record<string, string>;
  timeCreated: string;
  updated: string;
  /** Temp file holding the bytes. */
  path: string;
}

export interface GcsBucketRecord {
  name: string;
  timeCreated: string;
  objects: Map<string, GcsObjectRecord>;
}

export interface GcsRecordedRequest {
  time: number;
  method: string;
  path: string;
  query: Record<string, string>;
  contentRange?: string;
  /** Body bytes the fake read (for uploads). */
  bytes: number;
  status: number;
}

interface UploadSession {
  id: string;
  bucket: string;
  name: string;
  contentType: string;
  metadata?: Record<string, string>;
  expectedSize?: number;
  /** Bytes persisted so far (always a multiple of 256 KiB until the final request). */
  received: number;
  path: string;
  ifGenerationMatch?: string;
  busy: boolean;
  object?: GcsObjectRecord;
}

/** GCS persists resumable chunks in multiples of 256 KiB. */
const CHUNK_QUANTUM = 256 * 1024;

/** An error in the GCS JSON API shape: `{"error":{"code","message","errors":[{message,domain,reason,...}]}}`. */
export class GcsError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason: string,
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): unknown {
    return {
      error: {
        code: this.status,
        message: this.message,
        errors: [{ message: this.message, domain: 'global', reason: this.reason, ...this.extra }],
      },
    };
  }
}

const noSuchBucket = (): GcsError => new GcsError(404, 'The specified bucket does not exist.', 'notFound');
const noSuchObject = (bucket: string, name: string): GcsError =>
  new GcsError(404, `No such object: ${bucket}/${name}`, 'notFound');
const preconditionFailed = (): GcsError =>
  new GcsError(412, 'At least one of the pre-conditions you specified did not hold.', 'conditionNotMet', {
    locationType: 'header',
    location: 'If-Match',
  });

/** Bucket naming rules of Cloud Storage (3-63 chars, lowercase, digits, -, _, .; alphanumeric at both ends). */
export function validBucketName(name: string): boolean {
  if (name.length < 3 || name.length > 222) return false;
  if (!/^[a-z0-9][a-z0-9._-]*[a-z0-9]$/.test(name)) return false;
  if (!name.includes('.') && name.length > 63) return false;
  if (name.split('.').some((part) => part.length > 63 || part.length === 0)) return false;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name) || name.startsWith('goog') || name.includes('google')) return false;
  return true;
}

function validObjectName(name: string): boolean {
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes < 1 || bytes > 1024) return false;
  if (/[\r\n]/.test(name) || name === '.' || name === '..') return false;
  return !name.startsWith('.well-known/acme-challenge/');
}

function queryOf(url: URL): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of url.searchParams) out[k] = v;
  return out;
}

async function drain(req: IncomingMessage): Promise<number> {
  let n = 0;
  for await (const chunk of req) n += (chunk as Buffer).length;
  return n;
}

async function readSmallBody(req: IncomingMessage, limit = 2 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of req) {
    n += (chunk as Buffer).length;
    if (n > limit) throw new GcsError(400, 'Metadata part is too large.', 'invalid');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function parseJsonObject(buf: Buffer): Record<string, unknown> {
  if (buf.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(buf.toString('utf8'));
  } catch {
    throw new GcsError(400, 'Parse Error', 'parseError');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new GcsError(400, 'Invalid JSON payload: expected an object.', 'invalid');
  }
  return parsed as Record<string, unknown>;
}

function stringMap(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new GcsError(400, 'Invalid value for metadata.', 'invalid');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === null) continue;
    out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return out;
}

/** Drops the first `skip` bytes, counts the rest. */
class SkipCount extends Transform {
  /** Bytes passed on. */
  count = 0;
  /** Bytes read, including the skipped ones. */
  seen = 0;
  constructor(private skip: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null, data?: Buffer) => void): void {
    this.seen += chunk.length;
    let data = chunk;
    if (this.skip > 0) {
      const drop = Math.min(this.skip, data.length);
      this.skip -= drop;
      data = data.subarray(drop);
    }
    this.count += data.length;
    cb(null, data);
  }
}

async function hashFile(path: string): Promise<{ md5Hash: string; crc32c: string; size: number }> {
  const md5 = createHash('md5');
  const crc = new Crc32c();
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    const buf = chunk as Buffer;
    md5.update(buf);
    crc.update(buf);
    size += buf.length;
  }
  return { md5Hash: md5.digest('base64'), crc32c: crc.base64(), size };
}

/** Parses `X-Goog-Hash: crc32c=...,md5=...`. */
function parseGoogHash(header: string | string[] | undefined): { crc32c?: string; md5?: string } {
  const out: { crc32c?: string; md5?: string } = {};
  const raw = Array.isArray(header) ? header.join(',') : header;
  if (!raw) return out;
  for (const part of raw.split(',')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const key = part.slice(0, i).trim().toLowerCase();
    const value = part.slice(i + 1).trim();
    if (key === 'crc32c') out.crc32c = value;
    if (key === 'md5') out.md5 = value;
  }
  return out;
}

type ContentRange =
  | { kind: 'none' }
  | { kind: 'status'; total?: number }
  | { kind: 'chunk'; first: number; last?: number; total?: number };

function parseContentRange(header: string | undefined): ContentRange {
  if (header === undefined) return { kind: 'none' };
  const status = /^bytes \*\/(\*|\d+)$/.exec(header.trim());
  if (status) return status[1] === '*' ? { kind: 'status' } : { kind: 'status', total: Number(status[1]) };
  const chunk = /^bytes (\d+)-(\d+|\*)\/(\*|\d+)$/.exec(header.trim());
  if (!chunk) throw new GcsError(400, `Invalid Content-Range header: ${header}`, 'invalid');
  const first = Number(chunk[1]);
  const last = chunk[2] === '*' ? undefined : Number(chunk[2]);
  const total = chunk[3] === '*' ? undefined : Number(chunk[3]);
  if (last !== undefined && last < first) throw new GcsError(400, `Invalid Content-Range header: ${header}`, 'invalid');
  return { kind: 'chunk', first, ...(last !== undefined ? { last } : {}), ...(total !== undefined ? { total } : {}) };
}

export class FakeGcs {
  readonly buckets = new Map<string, GcsBucketRecord>();
  readonly requests: GcsRecordedRequest[] = [];
  readonly projectId: string;
  readonly projectNumber: string;
  url = '';
  port = 0;
  private readonly sessions = new Map<string, UploadSession>();
  private server?: Server;
  private dataDir = '';
  private ownsDataDir = false;
  private generationCounter = 0;
  private faults: { status: number; times: number }[] = [];

  constructor(private readonly options: FakeGcsOptions = {}) {
    this.projectId = options.projectId ?? 'test-project';
    this.projectNumber = options.projectNumber ?? '123456789012';
  }

  async start(): Promise<this> {
    if (this.options.dataDir) {
      this.dataDir = this.options.dataDir;
      await mkdir(this.dataDir, { recursive: true });
    } else {
      this.dataDir = await mkdtemp(join(tmpdir(), 'fake-gcs-'));
      this.ownsDataDir = true;
    }
    for (const name of this.options.buckets ?? []) this.createBucketRecord(name);
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(this.options.port ?? 0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}`;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    if (this.ownsDataDir && this.dataDir) await rm(this.dataDir, { recursive: true, force: true });
  }

  /** The next `times` requests (any route) fail with 503, as a flaky front end would. The SDK retries these. */
  unavailable(times = 1): void {
    this.faults.push({ status: 503, times });
  }

  /** The next `times` requests fail with 429 rateLimitExceeded. */
  rateLimit(times = 1): void {
    this.faults.push({ status: 429, times });
  }

  /** Back to the buckets given at start, all empty: no objects, sessions, recorded requests or faults. */
  async reset(): Promise<void> {
    for (const bucket of this.buckets.values()) {
      for (const o of bucket.objects.values()) await rm(o.path, { force: true });
    }
    this.buckets.clear();
    for (const name of this.options.buckets ?? []) this.createBucketRecord(name);
    for (const session of this.sessions.values()) await rm(session.path, { force: true });
    this.sessions.clear();
    this.requests.length = 0;
    this.faults = [];
  }

  createBucket(name: string): void {
    if (!validBucketName(name)) throw new Error(`invalid bucket name ${name}`);
    this.createBucketRecord(name);
  }

  object(bucket: string, name: string): GcsObjectRecord | undefined {
    return this.buckets.get(bucket)?.objects.get(name);
  }

  /** Every object as `bucket/name` with its size, for assertions that nothing is left behind. */
  listing(): { bucket: string; name: string; size: number }[] {
    const out: { bucket: string; name: string; size: number }[] = [];
    for (const b of this.buckets.values()) for (const o of b.objects.values()) out.push({ bucket: b.name, name: o.name, size: o.size });
    return out.sort((a, b) => `${a.bucket}/${a.name}`.localeCompare(`${b.bucket}/${b.name}`));
  }

  /** Resumable sessions that were started and not finished. */
  openUploadSessions(): { bucket: string; name: string; received: number }[] {
    return [...this.sessions.values()]
      .filter((s) => !s.object)
      .map((s) => ({ bucket: s.bucket, name: s.name, received: s.received }));
  }

  private createBucketRecord(name: string): GcsBucketRecord {
    const record: GcsBucketRecord = { name, timeCreated: new Date().toISOString(), objects: new Map() };
    this.buckets.set(name, record);
    return record;
  }

  private nextGeneration(): string {
    // Real generations are microsecond timestamps; the counter keeps them unique within one millisecond.
    this.generationCounter = (this.generationCounter + 1) % 1000;
    return String(Date.now() * 1000 + this.generationCounter);
  }

  private bucketResource(b: GcsBucketRecord): unknown {
    return {
      kind: 'storage#bucket',
      selfLink: `${this.url}/storage/v1/b/${b.name}`,
      id: b.name,
      name: b.name,
      projectNumber: this.projectNumber,
      metageneration: '1',
      location: 'US',
      storageClass: 'STANDARD',
      etag: 'CAE=',
      timeCreated: b.timeCreated,
      updated: b.timeCreated,
      locationType: 'multi-region',
    };
  }

  private objectResource(o: GcsObjectRecord): unknown {
    const enc = encodeURIComponent(o.name);
    return {
      kind: 'storage#object',
      id: `${o.bucket}/${o.name}/${o.generation}`,
      selfLink: `${this.url}/storage/v1/b/${o.bucket}/o/${enc}`,
      mediaLink: `${this.url}/download/storage/v1/b/${o.bucket}/o/${enc}?generation=${o.generation}&alt=media`,
      name: o.name,
      bucket: o.bucket,
      generation: o.generation,
      metageneration: o.metageneration,
      contentType: o.contentType,
      storageClass: 'STANDARD',
      // The JSON API sends int64 as strings.
      size: String(o.size),
      md5Hash: o.md5Hash,
      crc32c: o.crc32c,
      etag: Buffer.from(`${o.generation}:${o.metageneration}`).toString('base64'),
      timeCreated: o.timeCreated,
      updated: o.updated,
      timeStorageClassUpdated: o.timeCreated,
      ...(o.metadata && Object.keys(o.metadata).length > 0 ? { metadata: o.metadata } : {}),
    };
  }

  private send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
    if (body === undefined) {
      res.writeHead(status, headers);
      res.end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const record: GcsRecordedRequest = {
      time: Date.now(),
      method: req.method ?? 'GET',
      path: url.pathname,
      query: queryOf(url),
      bytes: 0,
      status: 0,
    };
    const contentRange = req.headers['content-range'];
    if (typeof contentRange === 'string') record.contentRange = contentRange;
    this.requests.push(record);
    res.once('finish', () => {
      record.status = res.statusCode;
    });
    try {
      const fault = this.faults[0];
      if (fault) {
        if (--fault.times <= 0) this.faults.shift();
        record.bytes = await drain(req);
        throw fault.status === 429
          ? new GcsError(429, 'The rate of change requests to the object exceeds the rate limit. Please reduce the rate of create, update, and delete requests.', 'rateLimitExceeded')
          : new GcsError(503, 'We encountered an internal error. Please try again.', 'backendError');
      }
      await this.route(req, res, url, record);
    } catch (err) {
      if (!res.headersSent) {
        if (!req.readableEnded) record.bytes += await drain(req).catch(() => 0);
        if (err instanceof GcsError) this.send(res, err.status, err.body());
        else this.send(res, 500, new GcsError(500, `fake-gcs internal error: ${(err as Error).message}`, 'backendError').body());
      } else {
        res.destroy(err as Error);
      }
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse, url: URL, record: GcsRecordedRequest): Promise<void> {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const q = url.searchParams;

    let m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(path);
    if (m) {
      const bucket = decodeURIComponent(m[1] as string);
      if (q.has('upload_id')) {
        if (method !== 'PUT' && method !== 'POST') throw new GcsError(405, 'Method not allowed.', 'methodNotAllowed');
        return this.resumableChunk(req, res, q.get('upload_id') as string, record);
      }
      if (method !== 'POST') throw new GcsError(405, 'Method not allowed.', 'methodNotAllowed');
      const uploadType = q.get('uploadType');
      if (uploadType === 'media') return this.simpleUpload(req, res, bucket, q, record);
      if (uploadType === 'multipart') return this.multipartUpload(req, res, bucket, q, record);
      if (uploadType === 'resumable') return this.startResumable(req, res, bucket, q);
      throw new GcsError(400, `Invalid upload type: ${uploadType ?? '(none)'}`, 'invalidParameter');
    }

    m = /^\/(?:storage|download\/storage)\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(path);
    if (m) {
      const bucket = decodeURIComponent(m[1] as string);
      const name = decodeURIComponent(m[2] as string);
      const b = this.buckets.get(bucket);
      if (!b) throw noSuchBucket();
      if (method === 'GET') {
        const o = this.lookup(b, name, q);
        if (q.get('alt') === 'media' || path.startsWith('/download/')) return this.download(req, res, o);
        return this.send(res, 200, this.objectResource(o));
      }
      if (method === 'DELETE') {
        const o = this.lookup(b, name, q);
        b.objects.delete(name);
        await rm(o.path, { force: true });
        return this.send(res, 204);
      }
      throw new GcsError(501, `fake-gcs does not implement ${method} on objects.`, 'notImplemented');
    }

    m = /^\/storage\/v1\/b\/([^/]+)\/o$/.exec(path);
    if (m) {
      const b = this.buckets.get(decodeURIComponent(m[1] as string));
      if (!b) throw noSuchBucket();
      if (method === 'GET') return this.send(res, 200, this.listObjects(b, q));
      if (method === 'POST') throw new GcsError(400, 'Uploads go to /upload/storage/v1/b/{bucket}/o.', 'wrongUrlForUpload');
      throw new GcsError(405, 'Method not allowed.', 'methodNotAllowed');
    }

    m = /^\/storage\/v1\/b\/([^/]+)$/.exec(path);
    if (m) {
      const name = decodeURIComponent(m[1] as string);
      const b = this.buckets.get(name);
      if (method === 'GET') {
        if (!b) throw noSuchBucket();
        return this.send(res, 200, this.bucketResource(b));
      }
      if (method === 'DELETE') {
        if (!b) throw noSuchBucket();
        if (b.objects.size > 0) throw new GcsError(409, 'The bucket you tried to delete is not empty.', 'conflict');
        this.buckets.delete(name);
        return this.send(res, 204);
      }
      throw new GcsError(501, `fake-gcs does not implement ${method} on buckets.`, 'notImplemented');
    }

    if (path === '/storage/v1/b') {
      if (!q.get('project')) throw new GcsError(400, 'Required parameter: project', 'required');
      if (method === 'GET') {
        const items = [...this.buckets.values()].sort((a, b) => a.name.localeCompare(b.name)).map((b) => this.bucketResource(b));
        return this.send(res, 200, { kind: 'storage#buckets', ...(items.length ? { items } : {}) });
      }
      if (method === 'POST') {
        const body = parseJsonObject(await readSmallBody(req));
        const name = body.name;
        if (typeof name !== 'string' || name === '') throw new GcsError(400, 'Required', 'required');
        if (!validBucketName(name)) throw new GcsError(400, `Invalid bucket name: '${name}'`, 'invalid');
        if (this.buckets.has(name)) {
          throw new GcsError(409, 'Your previous request to create the named bucket succeeded and you already own it.', 'conflict');
        }
        return this.send(res, 200, this.bucketResource(this.createBucketRecord(name)));
      }
    }

    record.bytes = await drain(req);
    res.writeHead(404, { 'content-type': 'text/html; charset=UTF-8' });
    res.end('Not Found');
  }

  private lookup(b: GcsBucketRecord, name: string, q: URLSearchParams): GcsObjectRecord {
    const o = b.objects.get(name);
    if (!o) throw noSuchObject(b.name, name);
    const generation = q.get('generation');
    // No object versioning: only the live generation exists.
    if (generation !== null && generation !== o.generation) throw noSuchObject(b.name, name);
    const ifGen = q.get('ifGenerationMatch');
    if (ifGen !== null && ifGen !== o.generation) throw preconditionFailed();
    const ifNotGen = q.get('ifGenerationNotMatch');
    if (ifNotGen !== null && ifNotGen === o.generation) throw preconditionFailed();
    const ifMeta = q.get('ifMetagenerationMatch');
    if (ifMeta !== null && ifMeta !== o.metageneration) throw preconditionFailed();
    return o;
  }

  private listObjects(b: GcsBucketRecord, q: URLSearchParams): unknown {
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const startOffset = q.get('startOffset') ?? '';
    const endOffset = q.get('endOffset');
    const rawMax = q.get('maxResults');
    let maxResults = 1000;
    if (rawMax !== null) {
      const n = Number(rawMax);
      if (!Number.isInteger(n) || n < 0) throw new GcsError(400, `Invalid value for maxResults: ${rawMax}`, 'invalid');
      if (n > 0) maxResults = Math.min(n, 1000);
    }
    let after: string | undefined;
    const token = q.get('pageToken');
    if (token) {
      try {
        after = Buffer.from(token, 'base64url').toString('utf8');
      } catch {
        throw new GcsError(400, 'Invalid page token.', 'invalid');
      }
    }
    const names = [...b.objects.keys()].filter((n) => n.startsWith(prefix) && n >= startOffset && (endOffset === null || n < endOffset)).sort(
      (x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)),
    );
    const items: unknown[] = [];
    const prefixes: string[] = [];
    let count = 0;
    let last: string | undefined;
    let more = false;
    for (const name of names) {
      if (after !== undefined && (name <= after || (after.endsWith(delimiter) && delimiter !== '' && name.startsWith(after)))) continue;
      let key = name;
      let isPrefix = false;
      if (delimiter) {
        const i = name.indexOf(delimiter, prefix.length);
        if (i >= 0) {
          key = name.slice(0, i + delimiter.length);
          isPrefix = true;
        }
      }
      if (isPrefix && prefixes.includes(key)) continue;
      if (count >= maxResults) {
        more = true;
        break;
      }
      if (isPrefix) prefixes.push(key);
      else items.push(this.objectResource(b.objects.get(name) as GcsObjectRecord));
      count++;
      last = key;
    }
    return {
      kind: 'storage#objects',
      ...(more && last !== undefined ? { nextPageToken: Buffer.from(last).toString('base64url') } : {}),
      ...(prefixes.length ? { prefixes } : {}),
      ...(items.length ? { items } : {}),
    };
  }

  private async download(req: IncomingMessage, res: ServerResponse, o: GcsObjectRecord): Promise<void> {
    const headers: Record<string, string> = {
      'content-type': o.contentType,
      'x-goog-hash': `crc32c=${o.crc32c},md5=${o.md5Hash}`,
      'x-goog-generation': o.generation,
      'x-goog-metageneration': o.metageneration,
      'x-goog-stored-content-length': String(o.size),
      // The SDK validates a download only when the stored encoding is 'identity'.
      'x-goog-stored-content-encoding': 'identity',
      'x-goog-storage-class': 'STANDARD',
      etag: Buffer.from(`${o.generation}:${o.metageneration}`).toString('base64'),
      'accept-ranges': 'bytes',
    };
    const range = req.headers.range;
    if (range) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
      if (!m || (m[1] === '' && m[2] === '')) throw new GcsError(416, 'Request range not satisfiable', 'requestedRangeNotSatisfiable');
      let start: number;
      let end: number;
      if (m[1] === '') {
        start = Math.max(0, o.size - Number(m[2]));
        end = o.size - 1;
      } else {
        start = Number(m[1]);
        end = m[2] === '' ? o.size - 1 : Math.min(Number(m[2]), o.size - 1);
      }
      if (start >= o.size || end < start) throw new GcsError(416, 'Request range not satisfiable', 'requestedRangeNotSatisfiable');
      res.writeHead(206, { ...headers, 'content-length': String(end - start + 1), 'content-range': `bytes ${start}-${end}/${o.size}` });
      await pipeline(createReadStream(o.path, { start, end }), res);
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': String(o.size) });
    if (o.size === 0) {
      res.end();
      return;
    }
    await pipeline(createReadStream(o.path), res);
  }

  private requireBucket(bucket: string): GcsBucketRecord {
    const b = this.buckets.get(bucket);
    if (!b) throw noSuchBucket();
    return b;
  }

  private objectName(q: URLSearchParams, metadata: Record<string, unknown>): string {
    const fromQuery = q.get('name');
    const name = fromQuery ?? (typeof metadata.name === 'string' ? metadata.name : undefined);
    if (name === undefined || name === '') throw new GcsError(400, 'Required', 'required', { locationType: 'parameter', location: 'name' });
    if (!validObjectName(name)) throw new GcsError(400, 'The specified object name is not valid.', 'invalid');
    return name;
  }

  private checkPrecondition(b: GcsBucketRecord, name: string, ifGenerationMatch: string | undefined): void {
    if (ifGenerationMatch === undefined) return;
    const existing = b.objects.get(name);
    // ifGenerationMatch=0 means "only if no live object exists".
    if (ifGenerationMatch === '0' ? existing !== undefined : existing?.generation !== ifGenerationMatch) throw preconditionFailed();
  }

  private tempPath(): string {
    return join(this.dataDir, `obj-${randomBytes(8).toString('hex')}`);
  }

  /** Hashes the finished temp file, checks the client's X-Goog-Hash, then makes it the live object. */
  private async commit(
    b: GcsBucketRecord,
    name: string,
    path: string,
    contentType: string,
    metadata: Record<string, string> | undefined,
    ifGenerationMatch: string | undefined,
    googHash: { crc32c?: string; md5?: string },
  ): Promise<GcsObjectRecord> {
    const hashes = await hashFile(path);
    if (googHash.crc32c !== undefined && googHash.crc32c !== hashes.crc32c) {
      await rm(path, { force: true });
      throw new GcsError(400, `Provided CRC32C "${googHash.crc32c}" doesn't match calculated CRC32C "${hashes.crc32c}".`, 'invalid');
    }
    if (googHash.md5 !== undefined && googHash.md5 !== hashes.md5Hash) {
      await rm(path, { force: true });
      throw new GcsError(400, `Provided MD5 hash "${googHash.md5}" doesn't match calculated MD5 hash "${hashes.md5Hash}".`, 'invalid');
    }
    if (!this.buckets.has(b.name)) {
      await rm(path, { force: true });
      throw noSuchBucket();
    }
    try {
      this.checkPrecondition(b, name, ifGenerationMatch);
    } catch (err) {
      await rm(path, { force: true });
      throw err;
    }
    const now = new Date().toISOString();
    const finalPath = this.tempPath();
    await rename(path, finalPath);
    // Again, with no await between the check and the write: Cloud Storage applies a precondition
    // atomically, so of two requests racing for ifGenerationMatch=0 exactly one wins.
    try {
      this.checkPrecondition(b, name, ifGenerationMatch);
    } catch (err) {
      await rm(finalPath, { force: true });
      throw err;
    }
    const previous = b.objects.get(name);
    const record: GcsObjectRecord = {
      bucket: b.name,
      name,
      generation: this.nextGeneration(),
      metageneration: '1',
      size: hashes.size,
      md5Hash: hashes.md5Hash,
      crc32c: hashes.crc32c,
      contentType: contentType || 'application/octet-stream',
      ...(metadata ? { metadata } : {}),
      timeCreated: now,
      updated: now,
      path: finalPath,
    };
    b.objects.set(name, record);
    if (previous) await rm(previous.path, { force: true });
    return record;
  }

  private async simpleUpload(req: IncomingMessage, res: ServerResponse, bucket: string, q: URLSearchParams, record: GcsRecordedRequest): Promise<void> {
    const b = this.requireBucket(bucket);
    const name = this.objectName(q, {});
    this.checkPrecondition(b, name, q.get('ifGenerationMatch') ?? undefined);
    const path = this.tempPath();
    const counter = new SkipCount(0);
    await pipeline(req, counter, createWriteStream(path));
    record.bytes = counter.count;
    const contentType = req.headers['content-type'] ?? 'application/octet-stream';
    const o = await this.commit(b, name, path, contentType, undefined, q.get('ifGenerationMatch') ?? undefined, parseGoogHash(req.headers['x-goog-hash']));
    this.send(res, 200, this.objectResource(o));
  }

  private async multipartUpload(req: IncomingMessage, res: ServerResponse, bucket: string, q: URLSearchParams, record: GcsRecordedRequest): Promise<void> {
    const b = this.requireBucket(bucket);
    const boundary = boundaryOf(req.headers['content-type']);
    if (!boundary) throw new GcsError(400, 'Invalid multipart request: Content-Type must be multipart/related with a boundary.', 'invalid');
    const path = this.tempPath();
    const file = createWriteStream(path);
    let parsed;
    try {
      parsed = await readMultipartRelated(req, boundary, file);
    } catch (err) {
      file.destroy();
      await rm(path, { force: true });
      if (err instanceof MultipartError) throw new GcsError(400, err.message, 'invalid');
      throw err;
    } finally {
      await new Promise<void>((resolve) => (file.closed ? resolve() : file.end(() => resolve())));
    }
    record.bytes = parsed.mediaBytes;
    try {
      if (!/^application\/json/i.test(parsed.metadataContentType)) {
        throw new GcsError(400, 'Invalid multipart request: the first part must be application/json metadata.', 'invalid');
      }
      const metadata = parseJsonObject(parsed.metadata);
      const name = this.objectName(q, metadata);
      const contentType = (typeof metadata.contentType === 'string' ? metadata.contentType : '') || parsed.mediaContentType;
      const o = await this.commit(b, name, path, contentType, stringMap(metadata.metadata), q.get('ifGenerationMatch') ?? undefined, parseGoogHash(req.headers['x-goog-hash']));
      this.send(res, 200, this.objectResource(o));
    } catch (err) {
      await rm(path, { force: true });
      throw err;
    }
  }

  private async startResumable(req: IncomingMessage, res: ServerResponse, bucket: string, q: URLSearchParams): Promise<void> {
    const metadata = parseJsonObject(await readSmallBody(req));
    const b = this.requireBucket(bucket);
    const name = this.objectName(q, metadata);
    const ifGenerationMatch = q.get('ifGenerationMatch') ?? undefined;
    this.checkPrecondition(b, name, ifGenerationMatch);
    const lengthHeader = req.headers['x-upload-content-length'];
    const expected = typeof lengthHeader === 'string' ? Number(lengthHeader) : undefined;
    if (expected !== undefined && (!Number.isInteger(expected) || expected < 0)) {
      throw new GcsError(400, `Invalid X-Upload-Content-Length: ${lengthHeader}`, 'invalid');
    }
    const typeHeader = req.headers['x-upload-content-type'];
    const contentType =
      (typeof metadata.contentType === 'string' ? metadata.contentType : '') || (typeof typeHeader === 'string' ? typeHeader : '') || 'application/octet-stream';
    const id = randomBytes(16).toString('base64url');
    const session: UploadSession = {
      id,
      bucket,
      name,
      contentType,
      received: 0,
      path: this.tempPath(),
      busy: false,
      ...(expected !== undefined ? { expectedSize: expected } : {}),
      ...(ifGenerationMatch !== undefined ? { ifGenerationMatch } : {}),
    };
    const meta = stringMap(metadata.metadata);
    if (meta) session.metadata = meta;
    this.sessions.set(id, session);
    const location = `${this.url}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${id}`;
    this.send(res, 200, undefined, { location, 'content-length': '0' });
  }

  private incomplete(res: ServerResponse, session: UploadSession): void {
    const headers: Record<string, string> = { 'content-length': '0' };
    if (session.received > 0) headers.range = `bytes=0-${session.received - 1}`;
    res.writeHead(308, headers);
    res.end();
  }

  private async resumableChunk(req: IncomingMessage, res: ServerResponse, id: string, record: GcsRecordedRequest): Promise<void> {
    const session = this.sessions.get(id);
    if (!session) throw new GcsError(404, 'No such upload session.', 'notFound');
    const range = parseContentRange(typeof req.headers['content-range'] === 'string' ? req.headers['content-range'] : undefined);
    if (session.object) {
      record.bytes = await drain(req);
      return this.send(res, 200, this.objectResource(session.object));
    }
    if (session.busy) throw new GcsError(503, 'Another request for this upload session is in progress.', 'backendError');
    session.busy = true;
    try {
      if (range.kind === 'status') {
        record.bytes = await drain(req);
        if (record.bytes > 0) throw new GcsError(400, 'A status query (bytes */N) must have an empty body.', 'invalid');
        if (range.total !== undefined && range.total === session.received) return await this.finish(res, session, req);
        if (range.total !== undefined && range.total < session.received) {
          throw new GcsError(400, `Invalid request. The declared size ${range.total} is smaller than the ${session.received} byte(s) already uploaded.`, 'invalid');
        }
        return this.incomplete(res, session);
      }
      const first = range.kind === 'chunk' ? range.first : 0;
      if (first > session.received) {
        record.bytes = await drain(req);
        throw new GcsError(
          400,
          `Invalid request. According to the Content-Range header, the upload offset is ${first} byte(s), which exceeds already uploaded size of ${session.received} byte(s).`,
          'invalid',
        );
      }
      // Bytes past `received` are leftovers of an aborted or partly persisted request: they were never acknowledged.
      await truncate(session.path, session.received).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
      // A client that resends bytes the server already has: keep the persisted copy, drop the overlap.
      const counter = new SkipCount(session.received - first);
      await pipeline(req, counter, createWriteStream(session.path, { flags: 'a' }));
      record.bytes = counter.seen;
      const before = session.received;
      const now = before + counter.count;
      if (range.kind === 'chunk' && range.last !== undefined && range.last + 1 - first !== counter.seen) {
        await truncate(session.path, before);
        throw new GcsError(400, `Invalid request. Content-Range ${req.headers['content-range']} does not match the ${counter.seen} byte(s) sent.`, 'invalid');
      }
      const total = range.kind === 'chunk' ? range.total : undefined;
      const declared = total ?? session.expectedSize;
      // Finished when the declared total is reached; `bytes N-*/*` (the SDK's single streaming PUT) or no
      // Content-Range at all means "the rest of the object is in this body".
      const final = declared !== undefined ? now >= declared : range.kind === 'none' || (range.kind === 'chunk' && range.last === undefined);
      if (final) {
        session.received = now;
        if (declared !== undefined && now !== declared) {
          throw new GcsError(400, `Invalid request. The upload declared ${declared} byte(s) but ${now} byte(s) were received.`, 'invalid');
        }
        return await this.finish(res, session, req);
      }
      // Non-final requests persist only whole 256 KiB units, as GCS does.
      const persisted = Math.max(before, Math.floor(now / CHUNK_QUANTUM) * CHUNK_QUANTUM);
      if (persisted === before && counter.count > 0) {
        await truncate(session.path, before);
        throw new GcsError(
          400,
          `Invalid request. The number of bytes uploaded is required to be equal or greater than 262144, except for the final request (it's recommended to be the exact multiple of 262144). The received request contained ${counter.count} bytes, which does not meet this requirement.`,
          'invalid',
        );
      }
      if (persisted !== now) await truncate(session.path, persisted);
      session.received = persisted;
      return this.incomplete(res, session);
    } finally {
      session.busy = false;
    }
  }

  private async finish(res: ServerResponse, session: UploadSession, req: IncomingMessage): Promise<void> {
    if (session.received === 0) {
      // An empty object still needs a file.
      await new Promise<void>((resolve, reject) => createWriteStream(session.path, { flags: 'a' }).on('error', reject).end(resolve));
    }
    const b = this.buckets.get(session.bucket);
    if (!b) {
      this.sessions.delete(session.id);
      await rm(session.path, { force: true });
      throw noSuchBucket();
    }
    const size = (await stat(session.path)).size;
    if (size !== session.received) throw new Error(`session file has ${size} bytes, expected ${session.received}`);
    try {
      session.object = await this.commit(b, session.name, session.path, session.contentType, session.metadata, session.ifGenerationMatch, parseGoogHash(req.headers['x-goog-hash']));
    } catch (err) {
      // GCS ends the session on a failed finalisation; a retry must start a new one.
      this.sessions.delete(session.id);
      throw err;
    }
    this.send(res, 200, this.objectResource(session.object));
  }
}

export async function startFakeGcs(options: FakeGcsOptions = {}): Promise<FakeGcs> {
  return new FakeGcs(options).start();
}
