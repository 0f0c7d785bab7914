/**
 * The bucket over the Cloud Storage JSON API with fetch and a bearer token: listing (page by page)
 * and the small objects the core keeps (references, the lock, the journal) — read, written,
 * created only if absent (`ifGenerationMatch=0`) and deleted. So `status`, `down`'s inventory, the
 * lock of every run and an `up` whose artifact is already there never load the Storage SDK (about
 * half a second); only model uploads do.
 */
import { systemClock } from '../../src/core/clock.js';
import { ProviderError } from '../../src/core/errors.js';
import { withRetry } from '../../src/core/retry.js';
import { gcsError, statusOf } from './gcs-errors.js';

export interface GcsObjectInfo {
  name: string;
  size: number;
  crc32c?: string;
  md5Hash?: string;
  metadata: Record<string, string>;
}

export interface GcsListTarget {
  bucket: string;
  /** The JSON API's base URL without /storage/v1 (STORAGE_EMULATOR_HOST); Google's when absent. */
  apiEndpoint?: string;
  /** A bearer token for the request; none (an emulator, as the SDK does) when it resolves to undefined. */
  token: () => Promise<string | undefined>;
  /** The region deployed to, for the missing-bucket hint. */
  location?: string;
}

const GOOGLE = 'https://storage.googleapis.com';
const FIELDS = 'items(name,size,crc32c,md5Hash,metadata),nextPageToken';

/** Every object under prefix, however deep, all pages; each request retried on throttling and 5xx. */
export async function listObjects(target: GcsListTarget, prefix: string, signal?: AbortSignal): Promise<GcsObjectInfo[]> {
  const base = `${(target.apiEndpoint ?? GOOGLE).replace(/\/+$/, '')}/storage/v1/b/${encodeURIComponent(target.bucket)}/o`;
  const where = { operation: 'list', subject: `gs://${target.bucket}/${prefix}`, location: target.location };
  const out: GcsObjectInfo[] = [];
  let pageToken: string | undefined;
  do {
    const query = new URLSearchParams({ prefix, fields: FIELDS, ...(pageToken ? { pageToken } : {}) });
    const page = await withRetry(() => getPage(`${base}?${query}`, target, where, signal), { clock: systemClock, ...(signal ? { signal } : {}) });
    for (const item of page.items ?? []) out.push(objectInfo(item));
    pageToken = page.nextPageToken || undefined;
  } while (pageToken);
  return out;
}

interface Page {
  items?: RawObject[];
  nextPageToken?: string;
}

interface RawObject {
  name: string;
  size?: string | number;
  crc32c?: string;
  md5Hash?: string;
  metadata?: Record<string, unknown> | null;
}

async function getPage(url: string, target: GcsListTarget, where: Parameters<typeof gcsError>[1], signal: AbortSignal | undefined): Promise<Page> {
  return JSON.parse(await send(url, { method: 'GET' }, target, where, signal)) as Page;
}

type Where = Parameters<typeof gcsError>[1];

/** One request; a non-2xx answer is thrown mapped as the SDK's errors are. */
async function send(url: string, init: { method: string; body?: string; headers?: Record<string, string> }, target: GcsListTarget, where: Where, signal: AbortSignal | undefined): Promise<string> {
  let response: Response;
  try {
    const token = await target.token();
    response = await fetch(url, { ...init, headers: { ...init.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) }, ...(signal ? { signal } : {}) });
  } catch (error) {
    // fetch says "fetch failed" and keeps the system's code (ECONNREFUSED…) in its cause.
    const cause = (error as { cause?: { code?: unknown } }).cause;
    throw gcsError(typeof cause?.code === 'string' ? { name: (error as Error).name, code: cause.code, message: (error as Error).message } : error, where);
  }
  const text = await response.text();
  if (!response.ok) {
    let body: { error?: { message?: string; errors?: { reason?: string; message?: string }[] } } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      // an HTML page from a proxy or a wrong host: the status says enough
    }
    // The shape the SDK's errors have, so one mapping serves both.
    throw gcsError({ code: response.status, message: body.error?.message ?? `HTTP ${response.status}`, errors: body.error?.errors ?? [], response: { status: response.status, headers: response.headers } }, where);
  }
  return text;
}

function objectUrl(target: GcsListTarget, name: string): string {
  return `${(target.apiEndpoint ?? GOOGLE).replace(/\/+$/, '')}/storage/v1/b/${encodeURIComponent(target.bucket)}/o/${encodeURIComponent(name)}`;
}

function uploadUrl(target: GcsListTarget, name: string, onlyIfAbsent: boolean): string {
  const query = new URLSearchParams({ uploadType: 'media', name, ...(onlyIfAbsent ? { ifGenerationMatch: '0' } : {}) });
  return `${(target.apiEndpoint ?? GOOGLE).replace(/\/+$/, '')}/upload/storage/v1/b/${encodeURIComponent(target.bucket)}/o?${query}`;
}

const retry = <T>(fn: () => Promise<T>, signal: AbortSignal | undefined) => withRetry(fn, { clock: systemClock, ...(signal ? { signal } : {}) });

/** A small object's text, or undefined when there is none. */
export async function readText(target: GcsListTarget, name: string, signal?: AbortSignal): Promise<string | undefined> {
  const where = { operation: 'read', subject: `gs://${target.bucket}/${name}`, location: target.location };
  try {
    return await retry(() => send(`${objectUrl(target, name)}?alt=media`, { method: 'GET' }, target, where, signal), signal);
  } catch (error) {
    if (error instanceof ProviderError && error.category === 'notFound' && error.code !== 'BucketNotFound') return undefined;
    throw error;
  }
}

/** Write a small object; with onlyIfAbsent, false when one was there (412 on ifGenerationMatch=0). */
export async function writeText(target: GcsListTarget, name: string, body: string, onlyIfAbsent: boolean, signal?: AbortSignal): Promise<boolean> {
  const where = { operation: onlyIfAbsent ? 'create' : 'write', subject: `gs://${target.bucket}/${name}`, location: target.location };
  try {
    await retry(() => send(uploadUrl(target, name, onlyIfAbsent), { method: 'POST', body, headers: { 'content-type': 'text/plain; charset=utf-8' } }, target, where, signal), signal);
    return true;
  } catch (error) {
    if (onlyIfAbsent && error instanceof ProviderError && statusOf(error.cause) === 412) return false;
    throw error;
  }
}

/** Delete one object; one already gone is success. */
export async function deleteObject(target: GcsListTarget, name: string, signal?: AbortSignal): Promise<void> {
  const where = { operation: 'delete', subject: `gs://${target.bucket}/${name}`, location: target.location };
  try {
    await retry(() => send(objectUrl(target, name), { method: 'DELETE' }, target, where, signal), signal);
  } catch (error) {
    if (!(error instanceof ProviderError && error.category === 'notFound' && error.code !== 'BucketNotFound')) throw error;
  }
}


function objectInfo(raw: RawObject): GcsObjectInfo {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw.metadata ?? {})) {
    if (v !== null && v !== undefined) metadata[k] = typeof v === 'string' ? v : String(v);
  }
  return {
    name: raw.name,
    size: Number(raw.size ?? 0),
    ...(raw.crc32c ? { crc32c: raw.crc32c } : {}),
    ...(raw.md5Hash ? { md5Hash: raw.md5Hash } : {}),
    metadata,
  };
}

/** A token goes over TLS (Private Service Connect) or to this machine: never in clear text over a network. */
export function safeForToken(endpoint: string): boolean {
  try {
    const url = new URL(endpoint);
    return url.protocol === 'https:' || /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i.test(url.hostname);
  } catch {
    return false;
  }
}
