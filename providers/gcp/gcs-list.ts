/**
 * Listing the bucket over the Cloud Storage JSON API with fetch and a bearer token, page by page:
 * `status`, `down`'s inventory and an `up` whose artifact is already there never load the Storage
 * SDK (about half a second), only the uploads and deletes that need it do.
 */
import { systemClock } from '../../src/core/clock.js';
import { withRetry } from '../../src/core/retry.js';
import { gcsError } from './gcs-errors.js';

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
  let response: Response;
  try {
    const token = await target.token();
    response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, ...(signal ? { signal } : {}) });
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
  return JSON.parse(text) as Page;
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
