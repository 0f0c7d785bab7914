/**
 * What a gcp provider connects with, read once from deploy.yaml's `gcp:` block, the region and
 * the environment (all optional):
 *
 *   MODELDEPLOY_GCP_ACCESS_TOKEN    an OAuth2 access token (`gcloud auth print-access-token`); also read:
 *                                   GOOGLE_OAUTH_ACCESS_TOKEN (as Terraform does). Without either,
 *                                   Application Default Credentials are used.
 *   MODELDEPLOY_GCP_API_ENDPOINT    the Vertex AI API URL (default https://<region>-aiplatform.googleapis.com;
 *                                   Private Service Connect endpoints, a local emulator)
 *   STORAGE_EMULATOR_HOST           the Cloud Storage JSON API URL (the Cloud Storage SDKs' own variable)
 *   MODELDEPLOY_GCP_POLL_INTERVAL   how often long-running operations are polled (default 2s, backing off to 5s)
 *
 * Nothing here loads an SDK or makes a call: google-auth-library is imported on the first request
 * that needs Application Default Credentials.
 */
import { UsageError } from '../../src/core/errors.js';
import type { ConnectInput, Polling } from '../../src/core/provider.js';
import { durationSetting } from '../../src/core/spec.js';
import type { GcpSettings } from './settings.js';

const DEFAULT_POLL_MS = 2000;
/**
 * Design §10: readiness is noticed within seconds, not on a 30 s tick. Vertex deploys take 10-30
 * minutes; at 5 s an operation costs 12 reads a minute of the project's CRUD request quota.
 */
const MAX_POLL_MS = 5_000;
const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

export interface GcpConnection {
  project: string;
  bucket: string;
  region: string;
  /** The Vertex AI API's base URL, without a trailing slash. */
  apiBase: string;
  /** The Cloud Storage JSON API's base URL, when not Google's own. */
  storageEndpoint?: string;
  /** A fixed bearer token; without one, Application Default Credentials. Never printed. */
  accessToken?: string;
  polling: Polling;
}

/** Yields a bearer token: the configured one as is, or one from Application Default Credentials. */
export type TokenSource = () => Promise<string>;

/** The settings of one connect, validated; a missing block or region is the user's to fix (exit 2). */
export function readConnection(input: ConnectInput<GcpSettings>): GcpConnection {
  const { settings, region, env } = input;
  if (!settings) throw new UsageError('GcpBlockMissing', 'provider gcp needs a gcp block', { hint: 'add `gcp: {project: my-project, bucket: my-artifacts}` to deploy.yaml' });
  if (!region) throw new UsageError('RegionMissing', 'provider gcp needs a region', { hint: 'add `region: us-central1` (or pass --region)' });
  const token = (env.MODELDEPLOY_GCP_ACCESS_TOKEN ?? env.GOOGLE_OAUTH_ACCESS_TOKEN)?.trim();
  const pollMs = durationSetting('MODELDEPLOY_GCP_POLL_INTERVAL', env.MODELDEPLOY_GCP_POLL_INTERVAL, DEFAULT_POLL_MS);
  return {
    project: settings.project,
    bucket: settings.bucket,
    region,
    apiBase: env.MODELDEPLOY_GCP_API_ENDPOINT ? endpointUrl(env.MODELDEPLOY_GCP_API_ENDPOINT, 'MODELDEPLOY_GCP_API_ENDPOINT') : `https://${region}-aiplatform.googleapis.com`,
    ...(env.STORAGE_EMULATOR_HOST ? { storageEndpoint: endpointUrl(env.STORAGE_EMULATOR_HOST, 'STORAGE_EMULATOR_HOST') } : {}),
    ...(token ? { accessToken: token } : {}),
    polling: { initialMs: pollMs, maxMs: Math.max(pollMs, Math.min(MAX_POLL_MS, pollMs * 15)) },
  };
}

/** The configured token, or Application Default Credentials loaded on the first request and kept. */
export function tokenSource(accessToken: string | undefined): TokenSource {
  if (accessToken) return async () => accessToken;
  let adc: Promise<TokenSource> | undefined;
  return async () => {
    adc ??= (async () => {
      const { GoogleAuth } = await import('google-auth-library');
      const auth = new GoogleAuth({ scopes: [SCOPE] });
      return async () => {
        const token = await auth.getAccessToken();
        if (!token) throw new Error('Could not load the default credentials: no access token');
        return token;
      };
    })();
    adc.catch(() => (adc = undefined));
    return (await adc)();
  };
}

function endpointUrl(raw: string, name: string): string {
  const value = /^https?:\/\//.test(raw.trim()) ? raw.trim() : `http://${raw.trim()}`;
  try {
    const url = new URL(value);
    return `${url.protocol}//${url.host}`;
  } catch {
    throw new UsageError('InvalidSetting', `${name}=${raw} is not a URL`, { hint: 'e.g. https://us-central1-aiplatform.googleapis.com or http://127.0.0.1:8080' });
  }
}
