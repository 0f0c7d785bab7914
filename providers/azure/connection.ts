/**
 * One Azure ML workspace, as deploy.yaml names it and the environment says how to reach it. The
 * environment is read once, in `connect` (these settings, all optional):
 *   MODELDEPLOY_AZURE_ACCESS_TOKEN   an ARM bearer token (`az account get-access-token --query accessToken -o tsv`);
 *                                    without it DefaultAzureCredential is used
 *   MODELDEPLOY_AZURE_ARM_ENDPOINT   the ARM URL (sovereign clouds: https://management.usgovcloudapi.net, …)
 *   MODELDEPLOY_AZURE_BLOB_ENDPOINT  the datastore account's blob URL (private endpoints, Azurite)
 *   MODELDEPLOY_AZURE_POLL_INTERVAL  how often long-running operations are polled (default 2s, backing off to 30s)
 *   NODE_EXTRA_CA_CERTS              honoured for ARM and scoring calls too (Node applies it to its own
 *                                    process at start; a provider driven with another env gets it here)
 * Clients are built on first use; nothing here makes a call.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { UsageError } from '../../src/core/errors.js';
import type { Polling } from '../../src/core/provider.js';
import { durationSetting } from '../../src/core/spec.js';
import type { ArmApi, TokenCredentialLike } from './arm.js';
import type { AzureSettings } from './settings.js';

const DEFAULT_POLL_MS = 2000;
const MAX_POLL_MS = 30_000;

/** What the environment says, read once. The token stays in memory and is never printed. */
export interface AzureEnvironment {
  readonly accessToken?: string;
  readonly armEndpoint?: string;
  readonly blobEndpoint?: string;
  readonly polling: Polling;
  /** The system's CAs plus the PEM file NODE_EXTRA_CA_CERTS names, when it names a readable one. */
  readonly ca?: readonly string[];
}

export function readEnvironment(env: NodeJS.ProcessEnv): AzureEnvironment {
  const token = env.MODELDEPLOY_AZURE_ACCESS_TOKEN?.trim();
  const pollMs = durationSetting('MODELDEPLOY_AZURE_POLL_INTERVAL', env.MODELDEPLOY_AZURE_POLL_INTERVAL, DEFAULT_POLL_MS);
  const ca = env.NODE_EXTRA_CA_CERTS ? trustedCas(env.NODE_EXTRA_CA_CERTS) : undefined;
  return {
    ...(token ? { accessToken: token } : {}),
    ...(env.MODELDEPLOY_AZURE_ARM_ENDPOINT ? { armEndpoint: env.MODELDEPLOY_AZURE_ARM_ENDPOINT } : {}),
    ...(env.MODELDEPLOY_AZURE_BLOB_ENDPOINT ? { blobEndpoint: env.MODELDEPLOY_AZURE_BLOB_ENDPOINT } : {}),
    polling: { initialMs: pollMs, maxMs: Math.max(pollMs, Math.min(MAX_POLL_MS, pollMs * 15)) },
    ...(ca ? { ca } : {}),
  };
}

export class AzureConnection {
  private api: Promise<ArmApi> | undefined;
  private token: Promise<TokenCredentialLike> | undefined;

  constructor(
    private readonly settings: AzureSettings | undefined,
    readonly env: AzureEnvironment,
  ) {}

  /** The workspace of deploy.yaml's `azure:` block; `list` without one cannot know where to look. */
  get workspace(): AzureSettings {
    if (!this.settings) {
      throw new UsageError('AzureBlockMissing', 'provider azure needs the workspace: subscriptionId, resourceGroup and workspace', {
        hint: 'add `azure: {subscriptionId: …, resourceGroup: …, workspace: …}` to deploy.yaml (or run the command with -f pointing at one)',
      });
    }
    return this.settings;
  }

  /** ARM in this workspace: the SDK is loaded and the client built on the first call. */
  arm(): Promise<ArmApi> {
    if (!this.api) {
      const workspace = this.workspace;
      this.api = (async () => {
        const { ArmApi } = await import('./arm.js');
        return ArmApi.connect(workspace, {
          credential: await this.credential(),
          ...(this.env.armEndpoint ? { armEndpoint: this.env.armEndpoint } : {}),
          ...(this.env.ca ? { ca: this.env.ca } : {}),
        });
      })();
      this.api.catch(() => (this.api = undefined)); // a failed start is tried again next time
    }
    return this.api;
  }

  credential(): Promise<TokenCredentialLike> {
    this.token ??= credentialFor(this.env.accessToken);
    return this.token;
  }
}

async function credentialFor(accessToken: string | undefined): Promise<TokenCredentialLike> {
  if (accessToken) return accessTokenCredential(accessToken);
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new DefaultAzureCredential();
}

/** MODELDEPLOY_AZURE_ACCESS_TOKEN as a credential; its expiry is read from the JWT when it is one. */
function accessTokenCredential(token: string): TokenCredentialLike {
  let expiresOnTimestamp = Date.now() + 3600_000;
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: number };
    if (typeof payload.exp === 'number') expiresOnTimestamp = payload.exp * 1000;
  } catch {
    // not a JWT: an opaque token, valid as far as we know
  }
  return { getToken: async () => ({ token, expiresOnTimestamp }) };
}

/** The system's CAs plus the PEM file (ignored when unreadable, as Node does). */
function trustedCas(file: string): string[] | undefined {
  try {
    return [...rootCertificates, readFileSync(file, 'utf8')];
  } catch {
    return undefined;
  }
}
