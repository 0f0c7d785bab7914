/** The S3 artifact store (multipart, unsigned payload + CRC32, sha256 metadata) against moto: the bytes arrive intact. */
import { createHash, randomFillSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readConnection } from '../../providers/aws/connection.js';
import { S3Store } from '../../providers/aws/s3-store.js';
import { startMoto, type Moto } from '../support/moto.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
let moto: Moto;
let dir: string;
beforeAll(async () => {
  moto = await startMoto();
  dir = await mkdtemp(path.join(tmpdir(), 'md-upload-'));
}, 60_000);
afterAll(async () => {
  await moto?.stop();
  await rm(dir, { recursive: true, force: true });
});

it('uploads 40 MiB in parts whose bytes and checksum S3 accepts; they read back identical, with their sha256; list, write and delete follow', async () => {
  const env = { AWS_ENDPOINT_URL: moto.url, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' };
  const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
  const s3 = new S3Client({ region: 'us-east-1', endpoint: moto.url, forcePathStyle: true, credentials });
  await s3.send(new CreateBucketCommand({ Bucket: 'upload-check' }));
  const file = path.join(dir, 'weights.bin');
  const data = randomFillSync(Buffer.alloc(40 * 1024 * 1024));
  await writeFile(file, data);
  const sha256 = createHash('sha256').update(data).digest('hex');
  const store = new S3Store(readConnection({ env, region: 'us-east-1' }), 'upload-check');
  const signal = new AbortController().signal;
  const seen: number[] = [];
  await store.upload('m/weights.bin', { path: file, bytes: data.length, sha256 }, { signal, onProgress: (n) => seen.push(n) });
  expect(seen.at(-1)).toBe(data.length);
  const head = await s3.send(new HeadObjectCommand({ Bucket: 'upload-check', Key: 'm/weights.bin' }));
  expect(head.ContentLength).toBe(data.length);
  expect(head.ETag).toMatch(/-3"$/); // three 16 MiB parts: a real multipart upload
  expect(head.Metadata).toEqual({ sha256 });
  const body = await (await s3.send(new GetObjectCommand({ Bucket: 'upload-check', Key: 'm/weights.bin' }))).Body?.transformToByteArray();
  expect(createHash('sha256').update(body ?? new Uint8Array()).digest('hex')).toBe(sha256);

  await store.write('m/refs/x', '{}\n', { signal });
  expect(await store.list('m/', { signal })).toEqual([
    { key: 'm/refs/x', bytes: 3 },
    { key: 'm/weights.bin', bytes: data.length },
  ]);
  await store.delete(['m/refs/x', 'm/weights.bin', 'm/never-there'], { signal });
  expect(await store.list('m/', { signal })).toEqual([]);
  expect(store.uri('m/')).toBe('s3://upload-check/m/');
});
