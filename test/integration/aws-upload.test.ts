/** The S3 uploader (multipart, unsigned payload + CRC32) against moto: the bytes arrive intact. */
import { createHash, randomFillSync } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AwsApi } from '../../providers/aws/api.js';
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

it('uploads 40 MiB in parts whose bytes and checksum S3 accepts, and they read back identical', async () => {
  const env = { AWS_ENDPOINT_URL: moto.url, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' };
  Object.assign(process.env, env);
  const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
  const s3 = new S3Client({ region: 'us-east-1', endpoint: moto.url, forcePathStyle: true, credentials });
  await s3.send(new CreateBucketCommand({ Bucket: 'upload-check' }));
  const file = path.join(dir, 'weights.bin');
  const data = randomFillSync(Buffer.alloc(40 * 1024 * 1024));
  await writeFile(file, data);
  const api = await AwsApi.connect('us-east-1', env);
  const seen: number[] = [];
  await api.upload('upload-check', 'm/weights.bin', createReadStream(file), new AbortController().signal, (n) => seen.push(n));
  expect(seen.at(-1)).toBe(data.length);
  const head = await s3.send(new HeadObjectCommand({ Bucket: 'upload-check', Key: 'm/weights.bin' }));
  expect(head.ContentLength).toBe(data.length);
  expect(head.ETag).toMatch(/-3"$/); // three 16 MiB parts: a real multipart upload
  const body = await (await s3.send(new GetObjectCommand({ Bucket: 'upload-check', Key: 'm/weights.bin' }))).Body?.transformToByteArray();
  expect(createHash('sha256').update(body ?? new Uint8Array()).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
});
