/**
 * providers/gcp/gcs-store.ts (GcsStore) with the real @google-cloud/storage 7.22 against the strict
 * GCS fake. Faults that must land on one particular request (the data PUT of a session) go through
 * a small forwarding proxy that arms the fake's own fault injection at the right moment, drops a
 * connection part-way, slows the wire, or alters a response: the SDK itself is never replaced.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { CRC32C, Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/core/errors.js';
import { GcsArtifacts } from '../../providers/gcp/artifacts.js';
import { FastCrc32c } from '../../providers/gcp/crc32c.js';
import { gcsError } from '../../providers/gcp/gcs-errors.js';
import { GcsStore } from '../../providers/gcp/gcs-store.js';
import { Crc32c } from '../emulators/gcp/crc32c.js';
import { startFakeGcs, type FakeGcs } from '../emulators/gcp/fake-gcs.js';

const MiB = 1024 * 1024;
const BUCKET = 'md-artifacts';

interface LocalFile {
  path: string;
  size: number;
  crc32c: string;
  md5: string;
}

let fake: FakeGcs;
let dir: string;
let big: LocalFile;
let small: LocalFile;
let empty: LocalFile;
let store: GcsStore;

/** Random bytes written in 1 MiB pieces, hashed on the way (the fake's CRC32C code, node's MD5). */
async function randomFile(name: string, size: number): Promise<LocalFile> {
  const file = path.join(dir, name);
  const handle = await open(file, 'w');
  const crc = new Crc32c();
  const md5 = createHash('md5');
  const block = Buffer.alloc(MiB);
  for (let written = 0; written < size; written += block.length) {
    const piece = randomFillSync(block).subarray(0, Math.min(block.length, size - written));
    crc.update(piece);
    md5.update(piece);
    await handle.write(piece);
  }
  await handle.close();
  return { path: file, size, crc32c: crc.base64(), md5: md5.digest('base64') };
}

function expectStored(name: string, local: LocalFile): void {
  const o = fake.object(BUCKET, name);
  expect(o, `${name} stored`).toBeDefined();
  expect({ size: o?.size, crc32c: o?.crc32c, md5: o?.md5Hash }).toEqual({ size: local.size, crc32c: local.crc32c, md5: local.md5 });
}

function expectProgress(seen: number[], size: number): void {
  expect(seen.length).toBeGreaterThan(0);
  for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1] as number);
  expect(seen.at(-1)).toBe(size);
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** Requests the fake saw for one object name. */
function requestsFor(name: string) {
  return fake.requests.filter((r) => r.query.name === name);
}

// --- a forwarding proxy in front of the fake ----------------------------------------------------

interface ProxyHooks {
  /** Called when the fake has opened a resumable session, before the client hears of it. */
  onSessionStarted?: () => void;
  /**
   * Drop the client's connection once this many bytes of the first session PUT arrived, after
   * handing exactly those bytes to the fake as a chunk, as Cloud Storage keeps what it received of
   * an interrupted PUT (the fake itself keeps nothing of an interrupted `bytes 0-*` request).
   */
  cutFirstPutAfter?: number;
  /** Throttle request bodies to this rate. */
  bytesPerSecond?: number;
  /** Answer the first session PUT with this status and a GCS JSON error, without forwarding it. */
  refuseFirstPut?: number;
  /** Rewrite a JSON response body. */
  rewriteJson?: (body: Record<string, unknown>) => Record<string, unknown>;
}

interface Proxy {
  url: string;
  hooks: ProxyHooks;
  stop(): Promise<void>;
}

async function startProxy(target: string): Promise<Proxy> {
  const upstream = new URL(target);
  const proxy: Proxy = { url: '', hooks: {}, stop: async () => undefined };
  let cut = false;
  let refused = false;
  const server: Server = createServer((req, res) => {
    const hooks = proxy.hooks;
    const isSessionPut = req.method === 'PUT' && (req.url ?? '').includes('upload_id=');
    if (isSessionPut && hooks.refuseFirstPut !== undefined && !refused) {
      refused = true;
      req.resume();
      const body = JSON.stringify({ error: { code: hooks.refuseFirstPut, message: 'No such upload session.', errors: [{ message: 'No such upload session.', domain: 'global', reason: 'notFound' }] } });
      res.writeHead(hooks.refuseFirstPut, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    const out = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        const headers: IncomingHttpHeaders = { ...answer.headers };
        if (typeof headers.location === 'string') headers.location = headers.location.replace(upstream.origin, proxy.url);
        const query = new URL(req.url ?? '/', 'http://x').searchParams;
        if (req.method === 'POST' && query.get('uploadType') === 'resumable' && answer.statusCode === 200) hooks.onSessionStarted?.();
        if (hooks.rewriteJson && /json/.test(String(headers['content-type']))) {
          const chunks: Buffer[] = [];
          answer.on('data', (c: Buffer) => chunks.push(c));
          answer.on('end', () => {
            const body = JSON.stringify(hooks.rewriteJson?.(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>));
            delete headers['content-length'];
            res.writeHead(answer.statusCode ?? 500, headers);
            res.end(body);
          });
          return;
        }
        res.writeHead(answer.statusCode ?? 500, headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    // The client went away (abort, cut): the fake must see the request die too.
    res.on('close', () => {
      if (!res.writableFinished) out.destroy();
    });
    let through = 0;
    const kept: Buffer[] = [];
    const shaper = new Transform({
      transform(chunk: Buffer, _enc, callback) {
        through += chunk.length;
        const keep = hooks.cutFirstPutAfter;
        if (isSessionPut && !cut && keep !== undefined) {
          kept.push(chunk);
          if (through < keep) return callback();
          cut = true;
          out.destroy();
          req.socket.destroy();
          const body = Buffer.concat(kept).subarray(0, keep);
          const persist = request({ host: upstream.hostname, port: upstream.port, method: 'PUT', path: req.url, headers: { 'content-range': `bytes 0-${keep - 1}/*`, 'content-length': keep } }, (a) => a.resume());
          persist.end(body);
          return callback();
        }
        const wait = hooks.bytesPerSecond ? (chunk.length / hooks.bytesPerSecond) * 1000 : 0;
        if (wait > 0) setTimeout(() => callback(null, chunk), wait);
        else callback(null, chunk);
      },
    });
    req.pipe(shaper).pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.stop = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return proxy;
}

/** Answers every request with one status and a GCS JSON error, recording the Authorization header. */
async function startRefusingServer(status: number, reason: string, message: string) {
  const seen: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers.authorization);
    req.resume();
    const body = JSON.stringify({ error: { code: status, message, errors: [{ message, domain: 'global', reason }] } });
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    stop: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

beforeAll(async () => {
  fake = await startFakeGcs({ buckets: [BUCKET] });
  dir = await mkdtemp(path.join(tmpdir(), 'md-gcs-'));
  big = await randomFile('weights.bin', 20 * MiB + 12345);
  small = await randomFile('config.json', 100_000);
  empty = await randomFile('empty.txt', 0);
  store = await GcsStore.connect({ bucket: BUCKET, projectId: 'test-project', apiEndpoint: fake.url });
});

afterAll(async () => {
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  fake.requests.length = 0;
});

describe('uploads', () => {
  it('sends a small file as one multipart request and a large one as one streaming PUT of a session', async () => {
    const seenBig: number[] = [];
    const seenSmall: number[] = [];
    await store.uploadFile('m/1/weights.bin', big.path, { onProgress: (n) => seenBig.push(n), metadata: { sha256: 'aa' } });
    await store.uploadFile('m/1/config.json', small.path, { onProgress: (n) => seenSmall.push(n), contentType: 'application/json' });
    const seenEmpty: number[] = [];
    await store.uploadFile('m/1/empty.txt', empty.path, { onProgress: (n) => seenEmpty.push(n) });
    expect(seenEmpty).toEqual([0]);
    expectStored('m/1/weights.bin', big);
    expectStored('m/1/config.json', small);
    expectStored('m/1/empty.txt', empty);
    expectProgress(seenBig, big.size);
    expectProgress(seenSmall, small.size);
    expect(fake.object(BUCKET, 'm/1/config.json')?.contentType).toBe('application/json');

    expect(requestsFor('m/1/config.json').map((r) => `${r.method} ${r.query.uploadType}`)).toEqual(['POST multipart']);
    expect(requestsFor('m/1/weights.bin').map((r) => `${r.method} ${r.query.uploadType} ${r.contentRange ?? ''}`.trim())).toEqual([
      'POST resumable',
      // One PUT with the whole body; the total size is declared, so the server checks it.
      `PUT resumable bytes 0-*/${big.size}`,
    ]);
  });

  it('lists every object under a prefix, however deep, with size, crc32c and metadata', async () => {
    await store.uploadFile('m/2/weights.bin', big.path, { metadata: { sha256: 'bb', 'modeldeploy-deployment': 'iris' } });
    await store.uploadFile('m/2/sub/config.json', small.path, { metadata: { sha256: 'cc' } });
    await store.uploadFile('m/3/config.json', small.path, {});
    const listed = await store.list('m/2/');
    expect(listed).toEqual([
      { name: 'm/2/sub/config.json', size: small.size, crc32c: small.crc32c, md5Hash: small.md5, metadata: { sha256: 'cc' } },
      { name: 'm/2/weights.bin', size: big.size, crc32c: big.crc32c, md5Hash: big.md5, metadata: { sha256: 'bb', 'modeldeploy-deployment': 'iris' } },
    ]);
    expect(await store.list('nothing/')).toEqual([]);
    expect(store.uri('m/2/')).toBe(`gs://${BUCKET}/m/2/`);
  });

  it('walks every page of a long listing, and deletes many objects, twice without complaint', async () => {
    // Seeded straight into the fake's bucket (1005 uploads would only slow the suite down).
    const names = Array.from({ length: 1005 }, (_, i) => `many/${String(i).padStart(4, '0')}`);
    const objects = fake.buckets.get(BUCKET)?.objects;
    const now = new Date().toISOString();
    for (const name of names) {
      objects?.set(name, { bucket: BUCKET, name, generation: '1', metageneration: '1', size: 0, md5Hash: '1B2M2Y8AsgTpgAmY7PhCfg==', crc32c: 'AAAAAA==', contentType: 'application/octet-stream', timeCreated: now, updated: now, path: path.join(dir, 'no-such-file') });
    }
    const listed = await store.list('many/');
    expect(listed.map((o) => o.name)).toEqual(names);
    expect(fake.requests.filter((r) => r.method === 'GET' && r.query.prefix === 'many/')).toHaveLength(2);

    const artifacts = new GcsArtifacts({ bucket: BUCKET, project: 'test-project', region: 'us-central1', storageEndpoint: fake.url }, async () => 'never-sent-to-an-emulator');
    const ctx = { signal: new AbortController().signal };
    await artifacts.delete([...names, 'many/never-existed'], ctx);
    expect(await store.list('many/')).toEqual([]);
    await artifacts.delete(names.slice(0, 10), ctx);
    await artifacts.delete([], ctx);
  });

  it('works when STORAGE_EMULATOR_HOST is also set (the SDK reads it itself and drops /storage/v1)', async () => {
    const before = process.env.STORAGE_EMULATOR_HOST;
    process.env.STORAGE_EMULATOR_HOST = fake.url;
    try {
      const withEnv = await GcsStore.connect({ bucket: BUCKET, projectId: 'test-project', apiEndpoint: fake.url });
      await withEnv.uploadFile('env/config.json', small.path, {});
      expect((await withEnv.list('env/')).map((o) => o.name)).toEqual(['env/config.json']);
      expect(fake.requests.every((r) => r.path.startsWith('/storage/v1/') || r.path.startsWith('/upload/storage/v1/'))).toBe(true);
    } finally {
      if (before === undefined) delete process.env.STORAGE_EMULATOR_HOST;
      else process.env.STORAGE_EMULATOR_HOST = before;
    }
  });

  it('keeps the bytes intact: FastCrc32c equals the SDK\'s CRC32C and the fake\'s own code', () => {
    for (const size of [0, 1, 7, 8, 9, 1000, 65_537, 3 * MiB + 5]) {
      const data = randomFillSync(Buffer.alloc(size));
      const ours = new FastCrc32c();
      ours.update(data.subarray(0, size >> 1));
      ours.update(data.subarray(size >> 1));
      const sdk = new CRC32C();
      sdk.update(data);
      expect(ours.toString()).toBe(sdk.toString());
      expect(ours.toString()).toBe(new Crc32c().update(data).base64());
      expect(ours.validate(sdk.toString())).toBe(true);
    }
  });

  it('a crc32c the caller recorded that does not match the file: refused, nothing left', async () => {
    const error = await caught(store.uploadFile('m/4/config.json', small.path, { crc32c: big.crc32c }));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: 'UploadChecksumMismatch', category: 'invalid' });
    expect(fake.object(BUCKET, 'm/4/config.json')).toBeUndefined();
    await store.uploadFile('m/4/config.json', small.path, { crc32c: small.crc32c });
    expectStored('m/4/config.json', small);
  });
});

describe('the core\'s ArtifactStore over the bucket', () => {
  it('lists keys with their size and recorded sha256, uploads, writes a marker, deletes (gone is fine), and names gs:// addresses', async () => {
    const artifacts = new GcsArtifacts({ bucket: BUCKET, project: 'test-project', region: 'us-central1', storageEndpoint: fake.url }, async () => 'never-sent-to-an-emulator');
    const ctx = { signal: new AbortController().signal };
    const seen: number[] = [];
    await artifacts.upload('a/1/weights.bin', { path: big.path, bytes: big.size, sha256: 'f'.repeat(64) }, { ...ctx, onProgress: (n) => seen.push(n) });
    await artifacts.write('a/refs/prod/1', '{"stage":"prod"}\n', ctx);
    expect(await artifacts.list('a/', ctx)).toEqual([
      { key: 'a/1/weights.bin', bytes: big.size, sha256: 'f'.repeat(64) },
      { key: 'a/refs/prod/1', bytes: 17 },
    ]);
    expect(seen.at(-1)).toBe(big.size);
    expect(artifacts.uri('a/1/')).toBe(`gs://${BUCKET}/a/1/`);
    await artifacts.delete(['a/1/weights.bin', 'a/refs/prod/1', 'a/never-there'], ctx);
    await artifacts.delete([], ctx);
    expect(await artifacts.list('a/', ctx)).toEqual([]);
  });

  it('creates a small object only if none is there (ifGenerationMatch=0) and reads it back, over REST without the SDK', async () => {
    const artifacts = new GcsArtifacts({ bucket: BUCKET, project: 'test-project', region: 'us-central1', storageEndpoint: fake.url }, async () => 'never-sent-to-an-emulator');
    const ctx = { signal: new AbortController().signal };
    expect(await artifacts.read('lock/prod/0000000001', ctx)).toBeUndefined();
    const racers = await Promise.all([artifacts.create('lock/prod/0000000001', '{"who":"a"}', ctx), artifacts.create('lock/prod/0000000001', '{"who":"b"}', ctx)]);
    expect(racers.filter(Boolean)).toHaveLength(1);
    const winner = racers[0] ? 'a' : 'b';
    expect(await artifacts.read('lock/prod/0000000001', ctx)).toBe(`{"who":"${winner}"}`);
    expect(await artifacts.create('lock/prod/0000000001', '{"who":"c"}', ctx)).toBe(false);
    await artifacts.write('lock/prod/0000000001', '{"who":"a","beat":2}', ctx);
    expect(await artifacts.read('lock/prod/0000000001', ctx)).toBe('{"who":"a","beat":2}');
    await artifacts.delete(['lock/prod/0000000001'], ctx);
    expect(await artifacts.read('lock/prod/0000000001', ctx)).toBeUndefined();
    const uploads = fake.requests.filter((r) => r.path.startsWith('/upload/') && r.query.name?.startsWith('lock/'));
    expect(uploads.map((r) => r.query.uploadType)).toEqual(['media', 'media', 'media', 'media']);
  });
});

describe('faults', () => {
  let proxy: Proxy;
  let viaProxy: GcsStore;
  beforeAll(async () => {
    proxy = await startProxy(fake.url);
    viaProxy = await GcsStore.connect({ bucket: BUCKET, projectId: 'test-project', apiEndpoint: proxy.url });
  });
  afterAll(async () => proxy?.stop());
  beforeEach(() => {
    proxy.hooks = {};
  });

  it('a 503 on the data PUT: the session is resumed from the file and the object ends intact', async () => {
    proxy.hooks.onSessionStarted = () => fake.unavailable(1);
    const seen: number[] = [];
    await viaProxy.uploadFile('f/503.bin', big.path, { onProgress: (n) => seen.push(n) });
    expectStored('f/503.bin', big);
    expectProgress(seen, big.size);
    const calls = requestsFor('f/503.bin').map((r) => `${r.method} ${r.contentRange ?? r.query.uploadType} ${r.status}`);
    expect(calls).toEqual(['POST resumable 200', `PUT bytes 0-*/${big.size} 503`, 'PUT bytes */* 308', 'PUT bytes */* 308', `PUT bytes 0-*/${big.size} 200`]);
  });

  it('a 429 on the data PUT: likewise', async () => {
    proxy.hooks.onSessionStarted = () => fake.rateLimit(1);
    const seen: number[] = [];
    await viaProxy.uploadFile('f/429.bin', big.path, { onProgress: (n) => seen.push(n) });
    expectStored('f/429.bin', big);
    expectProgress(seen, big.size);
    expect(requestsFor('f/429.bin').filter((r) => r.status === 429)).toHaveLength(1);
  });

  it('a connection dropped part-way through the PUT: resumed where the server stopped, intact', async () => {
    proxy.hooks.cutFirstPutAfter = 4 * MiB;
    const seen: number[] = [];
    await viaProxy.uploadFile('f/cut.bin', big.path, { onProgress: (n) => seen.push(n) });
    expectStored('f/cut.bin', big);
    expectProgress(seen, big.size);
    const puts = requestsFor('f/cut.bin').filter((r) => r.method === 'PUT').map((r) => `${r.contentRange} ${r.status}`);
    // The server had the first 4 MiB: the SDK skipped them in the file and sent the rest.
    expect(puts.at(-1)).toBe(`bytes ${4 * MiB}-*/${big.size} 200`);
    expect(puts).toContain(`bytes 0-${4 * MiB - 1}/* 308`);
    expect(fake.openUploadSessions().filter((s) => s.name === 'f/cut.bin')).toEqual([]);
  });

  it('a session the server no longer knows (404 on the PUT): a new session, intact', async () => {
    proxy.hooks.refuseFirstPut = 404;
    await viaProxy.uploadFile('f/expired.bin', big.path, {});
    expectStored('f/expired.bin', big);
    expect(requestsFor('f/expired.bin').map((r) => `${r.method} ${r.query.uploadType} ${r.status}`)).toEqual([
      'POST resumable 200',
      'POST resumable 200',
      'PUT resumable 200',
    ]);
  });

  it('a 503 on a small (multipart) upload is retried', async () => {
    fake.unavailable(1);
    await store.uploadFile('f/small.json', small.path, {});
    expectStored('f/small.json', small);
    expect(fake.requests.map((r) => `${r.query.uploadType} ${r.status}`)).toEqual(['multipart 503', 'multipart 200']);
  });

  it('abort stops the upload at once and leaves no object', async () => {
    proxy.hooks.bytesPerSecond = 8 * MiB;
    const controller = new AbortController();
    let abortedAt = 0;
    const upload = viaProxy.uploadFile('f/aborted.bin', big.path, {
      signal: controller.signal,
      onProgress: (n) => {
        if (n >= 2 * MiB && !controller.signal.aborted) {
          abortedAt = performance.now();
          controller.abort();
        }
      },
    });
    const error = await caught(upload);
    expect(performance.now() - abortedAt).toBeLessThan(500);
    expect((error as Error).name).toBe('AbortError');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(fake.object(BUCKET, 'f/aborted.bin')).toBeUndefined();
    const put = requestsFor('f/aborted.bin').find((r) => r.method === 'PUT');
    expect(put?.bytes ?? 0).toBeLessThan(big.size);
    // An already aborted signal: nothing is sent at all.
    fake.requests.length = 0;
    await expect(viaProxy.uploadFile('f/aborted2.bin', small.path, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(fake.requests).toEqual([]);
  });

  it('the SDK checks the CRC32C the server reports: a mismatch removes the object and fails', async () => {
    proxy.hooks.rewriteJson = (body) => (body.kind === 'storage#object' ? { ...body, crc32c: 'AAAAAA==' } : body);
    for (const [name, file] of [['f/bad-crc.bin', big], ['f/bad-crc.json', small]] as const) {
      const error = await caught(viaProxy.uploadFile(name, file.path, {}));
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({ code: 'ChecksumMismatch', category: 'failed' });
      expect(fake.object(BUCKET, name)).toBeUndefined();
    }
  });
});

describe('errors', () => {
  it('a missing bucket: notFound, with the command that creates it', async () => {
    const missing = await GcsStore.connect({ bucket: 'no-such-bucket', projectId: 'test-project', apiEndpoint: fake.url });
    const missingRest = new GcsArtifacts({ bucket: 'no-such-bucket', project: 'test-project', region: 'us-central1', storageEndpoint: fake.url }, async () => 'never-sent-to-an-emulator');
    const ctx = { signal: new AbortController().signal };
    for (const call of [() => missing.list('m/'), () => missingRest.write('m/ref', 'x', ctx), () => missingRest.read('m/ref', ctx), () => missing.uploadFile('m/a', small.path, {}), () => missing.uploadFile('m/b', big.path, {})]) {
      const error = await caught(call());
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({ kind: 'provider', code: 'BucketNotFound', category: 'notFound', retryable: false });
      expect((error as ProviderError).message).toMatch(/gs:\/\/no-such-bucket\/m\/.*The specified bucket does not exist/);
      expect((error as ProviderError).hint).toContain('gcloud storage buckets create gs://no-such-bucket --location=');
    }
    expect(fake.listing().filter((o) => o.bucket === 'no-such-bucket')).toEqual([]);
  });

  it('maps what the SDK throws against the fake: 412, 404, 400, 429, 503, unreachable, aborted', async () => {
    // The SDK used directly, without retries, to get each error as it first surfaces.
    const sdk = new Storage({ apiEndpoint: fake.url, projectId: 'test-project', retryOptions: { autoRetry: false } });
    const bucket = sdk.bucket(BUCKET);
    await bucket.file('e/exists').save('x', { resumable: false });

    const precondition = await caught(bucket.file('e/exists').save('y', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } }));
    expect(gcsError(precondition, { operation: 'upload', subject: `gs://${BUCKET}/e/exists` })).toMatchObject({ code: 'FailedPrecondition', category: 'conflict', retryable: false });

    const noObject = gcsError(await caught(bucket.file('e/missing').getMetadata()), { operation: 'stat', subject: `gs://${BUCKET}/e/missing` });
    expect(noObject).toMatchObject({ code: 'NotFound', category: 'notFound', hint: undefined });

    const invalid = await caught(store.uploadFile('.', small.path, {}));
    expect(invalid).toMatchObject({ category: 'invalid', code: 'InvalidArgument' });

    fake.rateLimit(1);
    const throttled = gcsError(await caught(bucket.getFiles({ prefix: 'e/' })), { operation: 'list' });
    expect(throttled).toMatchObject({ category: 'throttled', retryable: true, code: 'ResourceExhausted' });

    fake.unavailable(1);
    const sessionStart = await caught(bucket.file('e/big').save(Buffer.alloc(10), { resumable: true }));
    expect(gcsError(sessionStart, { operation: 'upload' })).toMatchObject({ category: 'unavailable', retryable: true, code: 'Unavailable' });

    // Nothing listening (GcsStore would retry this for ~15 s with the SDK's default backoff).
    const nowhere = new Storage({ apiEndpoint: 'http://127.0.0.1:9', projectId: 'test-project', retryOptions: { autoRetry: false } });
    const refused = gcsError(await caught(nowhere.bucket(BUCKET).getFiles({ prefix: 'm/' })), { operation: 'list' });
    expect(refused).toMatchObject({ category: 'unavailable', retryable: true, code: 'Unreachable' });

    const cancelled = new AbortController();
    cancelled.abort();
    expect(gcsError(cancelled.signal.reason, { operation: 'upload' })).toMatchObject({ code: 'Aborted', category: 'failed', retryable: false });
  });

  it('sends the access token to a local endpoint; 401 and 403 map to auth and the token is not in the message', async () => {
    const token = 'ya29.secret-token-value';
    for (const [status, reason, hint] of [
      [401, 'required', /Refresh MODELDEPLOY_GCP_ACCESS_TOKEN/],
      [403, 'forbidden', new RegExp(`roles/storage.objectAdmin on gs://${BUCKET}`)],
    ] as const) {
      const server = await startRefusingServer(status, reason, status === 401 ? 'Invalid Credentials' : 'caller does not have storage.objects.list access to the Google Cloud Storage bucket.');
      try {
        const withToken = await GcsStore.connect({ bucket: BUCKET, projectId: 'test-project', apiEndpoint: server.url, accessToken: token });
        for (const call of [() => withToken.list('m/'), () => withToken.uploadFile('m/x', small.path, {}), () => withToken.uploadFile('m/y', big.path, {})]) {
          const error = await caught(call());
          expect(error).toMatchObject({ category: 'auth', code: status === 401 ? 'Unauthenticated' : 'PermissionDenied' });
          expect((error as ProviderError).hint).toMatch(hint);
          expect((error as ProviderError).message).not.toContain(token);
        }
        expect(server.seen.length).toBeGreaterThanOrEqual(3);
        expect(new Set(server.seen)).toEqual(new Set([`Bearer ${token}`]));
      } finally {
        await server.stop();
      }
    }
    // Without a token, an emulator endpoint gets no credentials at all.
    const server = await startRefusingServer(404, 'notFound', 'The specified bucket does not exist.');
    try {
      await caught((await GcsStore.connect({ bucket: BUCKET, projectId: 'test-project', apiEndpoint: server.url })).list('m/'));
      expect(server.seen).toEqual([undefined]);
    } finally {
      await server.stop();
    }
  });
});
