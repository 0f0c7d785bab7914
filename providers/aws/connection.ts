/**
 * The AWS connection of one provider instance: settings read from the environment once, at
 * connect, and one SDK client per service, each module imported and each client built the first
 * time a call needs it (`invoke` loads only the runtime client; `status` SageMaker and S3).
 * SDK types stay in providers/aws.
 */
import { createRequire } from 'node:module';
import { systemClock } from '../../src/core/clock.js';
import type { ConnectInput } from '../../src/core/provider.js';
import { withRetry } from '../../src/core/retry.js';
import { durationSetting } from '../../src/core/spec.js';
import type { AwsSettings } from './settings.js';

export type SageMakerSdk = typeof import('@aws-sdk/client-sagemaker');
export type RuntimeSdk = typeof import('@aws-sdk/client-sagemaker-runtime');
export type S3Sdk = typeof import('@aws-sdk/client-s3');
export type StorageSdk = typeof import('@aws-sdk/lib-storage');
export type ScalingSdk = typeof import('@aws-sdk/client-application-auto-scaling');

export interface Loaded<Sdk, Client> {
  sdk: Sdk;
  client: Client;
}

export type SageMaker = Loaded<SageMakerSdk, InstanceType<SageMakerSdk['SageMakerClient']>>;
export type Runtime = Loaded<RuntimeSdk, InstanceType<RuntimeSdk['SageMakerRuntimeClient']>>;
export type S3 = Loaded<S3Sdk, InstanceType<S3Sdk['S3Client']>>;
export type Scaling = Loaded<ScalingSdk, InstanceType<ScalingSdk['ApplicationAutoScalingClient']>>;

/**
 * The SDK ships CommonJS: `require` loads it as it is, where `import()` first scans each module's
 * source for its exports (cjs-module-lexer) — on client-sagemaker's 800 kB bundle that scan cost
 * more than a SageMaker request. Still loaded only when a client is first needed.
 */
const load = createRequire(import.meta.url);

const DEFAULT_POLL_MS = 1000;
const MAX_POLL_MS = 15_000;

export interface ConnectionSettings {
  region: string;
  /** Per service: AWS_ENDPOINT_URL_<SERVICE>, else AWS_ENDPOINT_URL; absent for AWS itself. */
  endpoints: { sagemaker?: string; runtime?: string; s3?: string; scaling?: string };
  /** Static keys from the environment; absent: the SDK's default chain (profiles, SSO, roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  profile?: string;
  pollMs: number;
}

export function readConnection(input: Pick<ConnectInput<AwsSettings>, 'env' | 'region'>): AwsConnection {
  const { env } = input;
  const endpoint = (service: string) => nonEmpty(env[`AWS_ENDPOINT_URL_${service}`]) ?? nonEmpty(env.AWS_ENDPOINT_URL);
  const accessKeyId = nonEmpty(env.AWS_ACCESS_KEY_ID);
  const secretAccessKey = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
  const sessionToken = nonEmpty(env.AWS_SESSION_TOKEN);
  const profile = nonEmpty(env.AWS_PROFILE);
  const endpoints: ConnectionSettings['endpoints'] = {};
  for (const [key, service] of [['sagemaker', 'SAGEMAKER'], ['runtime', 'SAGEMAKER_RUNTIME'], ['s3', 'S3'], ['scaling', 'APPLICATION_AUTO_SCALING']] as const) {
    const url = endpoint(service);
    if (url) endpoints[key] = url;
  }
  return new AwsConnection({
    region: input.region ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? 'us-east-1',
    endpoints,
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } } : {}),
    ...(profile ? { profile } : {}),
    pollMs: durationSetting('MODELDEPLOY_AWS_POLL_INTERVAL', env.MODELDEPLOY_AWS_POLL_INTERVAL, DEFAULT_POLL_MS),
  });
}

export class AwsConnection {
  private sm?: Promise<SageMaker>;
  private rt?: Promise<Runtime>;
  private s3m?: Promise<S3>;
  private aas?: Promise<Scaling>;

  constructor(readonly settings: ConnectionSettings) {}

  get polling(): { initialMs: number; maxMs: number } {
    const { pollMs } = this.settings;
    return { initialMs: pollMs, maxMs: Math.max(pollMs, Math.min(MAX_POLL_MS, pollMs * 15)) };
  }

  /**
   * Repeat a call SageMaker, the runtime or Application Auto Scaling refused for now (throttling,
   * 5xx, a dropped connection), through the core's backoff: from half a second (or the poll
   * interval, when that is shorter), as the SDK's own retries would, which these clients leave to it.
   */
  retry<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const baseMs = Math.min(500, this.settings.pollMs);
    return withRetry(fn, { clock: systemClock, ...(signal ? { signal } : {}), attempts: 6, baseMs, maxMs: Math.max(baseMs, Math.min(20_000, baseMs * 40)) });
  }

  sagemaker(): Promise<SageMaker> {
    this.sm ??= Promise.resolve().then(() => {
      const sdk = load('@aws-sdk/client-sagemaker') as SageMakerSdk;
      return { sdk, client: new sdk.SageMakerClient({ ...this.config('sagemaker'), maxAttempts: 1 }) };
    });
    return this.sm;
  }

  runtime(): Promise<Runtime> {
    this.rt ??= Promise.resolve().then(() => {
      const sdk = load('@aws-sdk/client-sagemaker-runtime') as RuntimeSdk;
      // A container has 60 s to answer (the service's limit); give the socket a margin.
      return { sdk, client: new sdk.SageMakerRuntimeClient({ ...this.config('runtime'), maxAttempts: 1, requestHandler: { connectionTimeout: 10_000, requestTimeout: 90_000 } }) };
    });
    return this.rt;
  }

  s3(): Promise<S3> {
    this.s3m ??= Promise.resolve().then(() => {
      const sdk = load('@aws-sdk/client-s3') as S3Sdk;
      // S3 keeps the SDK's own retries: lib-storage repeats a failed part through them.
      // A custom S3 endpoint (LocalStack, moto, MinIO) has no per-bucket DNS: use path-style.
      const client = new sdk.S3Client({ ...this.config('s3'), forcePathStyle: this.settings.endpoints.s3 !== undefined });
      // Parts are signed without hashing their bytes (sha256 in JS runs at ~175 MB/s here and made
      // the upload CPU-bound); integrity comes from the CRC32 checksum S3 verifies on every part,
      // as the AWS CLI does.
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const request = args.request as { headers?: Record<string, string> };
          if ((context.commandName === 'UploadPartCommand' || context.commandName === 'PutObjectCommand') && request.headers) {
            request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
          }
          return next(args);
        },
        { step: 'build', name: 'modeldeployUnsignedPayload' },
      );
      return { sdk, client };
    });
    return this.s3m;
  }

  /** lib-storage's multipart uploader: only an upload needs it (not a list, a write or a delete). */
  storage(): Promise<StorageSdk> {
    return Promise.resolve().then(() => load('@aws-sdk/lib-storage') as StorageSdk);
  }

  scaling(): Promise<Scaling> {
    this.aas ??= Promise.resolve().then(() => {
      const sdk = load('@aws-sdk/client-application-auto-scaling') as ScalingSdk;
      return { sdk, client: new sdk.ApplicationAutoScalingClient({ ...this.config('scaling'), maxAttempts: 1 }) };
    });
    return this.aas;
  }

  /** What every client is built with: region, endpoint, credentials; every request times out. */
  private config(service: keyof ConnectionSettings['endpoints']) {
    // The SDK warns on Node 20 once per process that its 2027 releases will need Node 22.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const { region, endpoints, credentials, profile } = this.settings;
    const endpoint = endpoints[service];
    return {
      region,
      ...(endpoint ? { endpoint } : {}),
      ...(credentials ? { credentials } : {}),
      ...(profile ? { profile } : {}),
      requestHandler: { connectionTimeout: 10_000, requestTimeout: 60_000 },
    };
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
