/**
 * The narrow slice of the AWS SDK the adapter uses, loaded on first use (a local deploy or a
 * `validate` never pays for it). Every call maps SDK errors to ProviderError; no SDK type leaves
 * this file.
 */
import type { Readable } from 'node:stream';
import { toProviderError } from './errors.js';

type SageMakerModule = typeof import('@aws-sdk/client-sagemaker');
type RuntimeModule = typeof import('@aws-sdk/client-sagemaker-runtime');
type S3Module = typeof import('@aws-sdk/client-s3');
type StorageModule = typeof import('@aws-sdk/lib-storage');
type ScalingModule = typeof import('@aws-sdk/client-application-auto-scaling');

export interface Tag {
  Key: string;
  Value: string;
}

export interface EndpointInfo {
  name: string;
  arn: string;
  status: string;
  configName: string;
  failureReason?: string;
}

export interface S3ObjectInfo {
  key: string;
  size: number;
}

export interface ContainerSpec {
  image: string;
  environment: Record<string, string>;
  /** s3://…/ prefix (uncompressed) or s3://…/model.tar.gz. */
  modelData?: string;
}

export interface VariantSpec {
  modelName: string;
  instanceType?: string;
  instanceCount: number;
  serverless?: { memorySizeInMB: number; maxConcurrency: number; provisionedConcurrency?: number };
  startupTimeoutSeconds: number;
}

export const VARIANT = 'AllTraffic';

export class AwsApi {
  private constructor(
    private readonly sm: SageMakerModule,
    private readonly rt: RuntimeModule,
    private readonly s3m: S3Module,
    private readonly storage: StorageModule,
    private readonly aas: ScalingModule,
    private readonly clients: {
      sm: InstanceType<SageMakerModule['SageMakerClient']>;
      rt: InstanceType<RuntimeModule['SageMakerRuntimeClient']>;
      s3: InstanceType<S3Module['S3Client']>;
      aas: InstanceType<ScalingModule['ApplicationAutoScalingClient']>;
    },
  ) {}

  static async connect(region: string, env: NodeJS.ProcessEnv): Promise<AwsApi> {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const [sm, rt, s3m, storage, aas] = await Promise.all([
      import('@aws-sdk/client-sagemaker'),
      import('@aws-sdk/client-sagemaker-runtime'),
      import('@aws-sdk/client-s3'),
      import('@aws-sdk/lib-storage'),
      import('@aws-sdk/client-application-auto-scaling'),
    ]);
    const common = { region };
    // A custom S3 endpoint (LocalStack, moto, MinIO) has no per-bucket DNS: use path-style.
    const forcePathStyle = Boolean(env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL);
    const s3 = new s3m.S3Client({ ...common, forcePathStyle });
    // Parts are signed without hashing their bytes (sha256 in JS runs at ~175 MB/s here and made
    // the upload CPU-bound); integrity comes from the CRC32 checksum S3 verifies on every part,
    // as the AWS CLI does.
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        const request = args.request as { headers?: Record<string, string> };
        if ((context.commandName === 'UploadPartCommand' || context.commandName === 'PutObjectCommand') && request.headers) {
          request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
        }
        return next(args);
      },
      { step: 'build', name: 'modeldeployUnsignedPayload' },
    );
    return new AwsApi(sm, rt, s3m, storage, aas, {
      sm: new sm.SageMakerClient(common),
      rt: new rt.SageMakerRuntimeClient(common),
      s3,
      aas: new aas.ApplicationAutoScalingClient(common),
    });
  }

  private async call<T>(operation: string, subject: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw toProviderError(error, operation, subject);
    }
  }

  // --- SageMaker -------------------------------------------------------------------------

  async describeEndpoint(name: string): Promise<EndpointInfo | undefined> {
    try {
      const out = await this.clients.sm.send(new this.sm.DescribeEndpointCommand({ EndpointName: name }));
      return {
        name,
        arn: out.EndpointArn ?? '',
        status: out.EndpointStatus ?? 'Unknown',
        configName: out.EndpointConfigName ?? '',
        ...(out.FailureReason ? { failureReason: out.FailureReason } : {}),
      };
    } catch (error) {
      const mapped = toProviderError(error, 'DescribeEndpoint', name);
      if (mapped.category === 'notFound') return undefined;
      throw mapped;
    }
  }

  async createModel(name: string, roleArn: string, container: ContainerSpec, tags: Tag[]): Promise<void> {
    const data = container.modelData;
    const modelData = !data
      ? {}
      : data.endsWith('.tar.gz')
        ? { ModelDataUrl: data }
        : { ModelDataSource: { S3DataSource: { S3Uri: data.endsWith('/') ? data : `${data}/`, S3DataType: 'S3Prefix' as const, CompressionType: 'None' as const } } };
    await this.call('CreateModel', name, () =>
      this.clients.sm.send(
        new this.sm.CreateModelCommand({
          ModelName: name,
          ExecutionRoleArn: roleArn,
          PrimaryContainer: { Image: container.image, Environment: container.environment, Mode: 'SingleModel', ...modelData },
          Tags: tags,
        }),
      ),
    );
  }

  async createEndpointConfig(name: string, variant: VariantSpec, tags: Tag[]): Promise<void> {
    const sizing = variant.serverless
      ? {
          ServerlessConfig: {
            MemorySizeInMB: variant.serverless.memorySizeInMB,
            MaxConcurrency: variant.serverless.maxConcurrency,
            ...(variant.serverless.provisionedConcurrency ? { ProvisionedConcurrency: variant.serverless.provisionedConcurrency } : {}),
          },
        }
      : {
          InstanceType: variant.instanceType as never,
          InitialInstanceCount: variant.instanceCount,
          ContainerStartupHealthCheckTimeoutInSeconds: variant.startupTimeoutSeconds,
          ModelDataDownloadTimeoutInSeconds: variant.startupTimeoutSeconds,
        };
    await this.call('CreateEndpointConfig', name, () =>
      this.clients.sm.send(
        new this.sm.CreateEndpointConfigCommand({
          EndpointConfigName: name,
          ProductionVariants: [{ VariantName: VARIANT, ModelName: variant.modelName, InitialVariantWeight: 1, ...sizing }],
          Tags: tags,
        }),
      ),
    );
  }

  async endpointConfigExists(name: string): Promise<boolean> {
    try {
      await this.clients.sm.send(new this.sm.DescribeEndpointConfigCommand({ EndpointConfigName: name }));
      return true;
    } catch (error) {
      const mapped = toProviderError(error, 'DescribeEndpointConfig', name);
      if (mapped.category === 'notFound') return false;
      throw mapped;
    }
  }

  async modelExists(name: string): Promise<boolean> {
    try {
      await this.clients.sm.send(new this.sm.DescribeModelCommand({ ModelName: name }));
      return true;
    } catch (error) {
      const mapped = toProviderError(error, 'DescribeModel', name);
      if (mapped.category === 'notFound') return false;
      throw mapped;
    }
  }

  async createEndpoint(name: string, configName: string, tags: Tag[]): Promise<void> {
    await this.call('CreateEndpoint', name, () => this.clients.sm.send(new this.sm.CreateEndpointCommand({ EndpointName: name, EndpointConfigName: configName, Tags: tags })));
  }

  async updateEndpoint(name: string, configName: string): Promise<void> {
    await this.call('UpdateEndpoint', name, () => this.clients.sm.send(new this.sm.UpdateEndpointCommand({ EndpointName: name, EndpointConfigName: configName })));
  }

  async deleteEndpoint(name: string): Promise<void> {
    await this.call('DeleteEndpoint', name, () => this.clients.sm.send(new this.sm.DeleteEndpointCommand({ EndpointName: name })));
  }

  async deleteEndpointConfig(name: string): Promise<void> {
    await this.call('DeleteEndpointConfig', name, () => this.clients.sm.send(new this.sm.DeleteEndpointConfigCommand({ EndpointConfigName: name })));
  }

  async deleteModel(name: string): Promise<void> {
    await this.call('DeleteModel', name, () => this.clients.sm.send(new this.sm.DeleteModelCommand({ ModelName: name })));
  }

  async listModelNames(contains: string): Promise<string[]> {
    const names: string[] = [];
    let token: string | undefined;
    do {
      const out = await this.call('ListModels', contains, () => this.clients.sm.send(new this.sm.ListModelsCommand({ NameContains: contains, MaxResults: 100, NextToken: token })));
      for (const m of out.Models ?? []) if (m.ModelName) names.push(m.ModelName);
      token = out.NextToken;
    } while (token);
    return names;
  }

  async listEndpointConfigNames(contains: string): Promise<string[]> {
    const names: string[] = [];
    let token: string | undefined;
    do {
      const out = await this.call('ListEndpointConfigs', contains, () => this.clients.sm.send(new this.sm.ListEndpointConfigsCommand({ NameContains: contains, MaxResults: 100, NextToken: token })));
      for (const c of out.EndpointConfigs ?? []) if (c.EndpointConfigName) names.push(c.EndpointConfigName);
      token = out.NextToken;
    } while (token);
    return names;
  }

  async listEndpoints(): Promise<Array<{ name: string; arn: string; status: string }>> {
    const out: Array<{ name: string; arn: string; status: string }> = [];
    let token: string | undefined;
    do {
      const page = await this.call('ListEndpoints', '', () => this.clients.sm.send(new this.sm.ListEndpointsCommand({ MaxResults: 100, NextToken: token })));
      for (const e of page.Endpoints ?? []) out.push({ name: e.EndpointName ?? '', arn: e.EndpointArn ?? '', status: e.EndpointStatus ?? '' });
      token = page.NextToken;
    } while (token);
    return out;
  }

  async tags(arn: string): Promise<Record<string, string>> {
    const out = await this.call('ListTags', arn, () => this.clients.sm.send(new this.sm.ListTagsCommand({ ResourceArn: arn, MaxResults: 100 })));
    return Object.fromEntries((out.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  }

  async modelArn(name: string): Promise<string | undefined> {
    try {
      const out = await this.clients.sm.send(new this.sm.DescribeModelCommand({ ModelName: name }));
      return out.ModelArn;
    } catch (error) {
      const mapped = toProviderError(error, 'DescribeModel', name);
      if (mapped.category === 'notFound') return undefined;
      throw mapped;
    }
  }

  async endpointConfigArn(name: string): Promise<string | undefined> {
    try {
      const out = await this.clients.sm.send(new this.sm.DescribeEndpointConfigCommand({ EndpointConfigName: name }));
      return out.EndpointConfigArn;
    } catch (error) {
      const mapped = toProviderError(error, 'DescribeEndpointConfig', name);
      if (mapped.category === 'notFound') return undefined;
      throw mapped;
    }
  }

  // --- Runtime ---------------------------------------------------------------------------

  async invoke(endpoint: string, body: Uint8Array, contentType: string, accept?: string): Promise<{ status: number; body: Uint8Array; contentType?: string }> {
    try {
      const out = await this.clients.rt.send(new this.rt.InvokeEndpointCommand({ EndpointName: endpoint, Body: body, ContentType: contentType, ...(accept ? { Accept: accept } : {}) }));
      return { status: 200, body: out.Body ?? new Uint8Array(), ...(out.ContentType ? { contentType: out.ContentType } : {}) };
    } catch (error) {
      // The container answered, but not 2xx: SageMaker wraps it as ModelError (424).
      const e = error as { name?: string; OriginalStatusCode?: number; OriginalMessage?: string };
      if (e.name === 'ModelError') {
        return { status: e.OriginalStatusCode ?? 424, body: Buffer.from(e.OriginalMessage ?? ''), contentType: 'text/plain' };
      }
      throw toProviderError(error, 'InvokeEndpoint', endpoint);
    }
  }

  // --- S3 --------------------------------------------------------------------------------

  async listObjects(bucket: string, prefix: string): Promise<S3ObjectInfo[]> {
    const out: S3ObjectInfo[] = [];
    let token: string | undefined;
    do {
      const page = await this.call('s3:ListBucket', `s3://${bucket}/${prefix}`, () =>
        this.clients.s3.send(new this.s3m.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token })),
      );
      for (const o of page.Contents ?? []) if (o.Key) out.push({ key: o.Key, size: o.Size ?? 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async listPrefixes(bucket: string, prefix: string): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.call('s3:ListBucket', `s3://${bucket}/${prefix}`, () =>
        this.clients.s3.send(new this.s3m.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token })),
      );
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix) out.push(p.Prefix);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  /** Multipart, concurrent parts; memory bounded by partSize × queueSize whatever the size. */
  async upload(bucket: string, key: string, body: Readable, signal: AbortSignal, onProgress: (loaded: number) => void): Promise<void> {
    const upload = new this.storage.Upload({
      client: this.clients.s3,
      params: { Bucket: bucket, Key: key, Body: body },
      partSize: 16 * 1024 * 1024,
      queueSize: 4,
      leavePartsOnError: false,
    });
    upload.on('httpUploadProgress', (p) => onProgress(p.loaded ?? 0));
    const abort = () => void upload.abort();
    signal.addEventListener('abort', abort, { once: true });
    try {
      await this.call('s3:PutObject', `s3://${bucket}/${key}`, () => upload.done());
    } finally {
      signal.removeEventListener('abort', abort);
    }
  }

  async deleteObjects(bucket: string, keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      const out = await this.call('s3:DeleteObject', `s3://${bucket}`, () =>
        this.clients.s3.send(new this.s3m.DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } })),
      );
      if (out.Errors?.length) throw toProviderError(Object.assign(new Error(out.Errors.map((e) => `${e.Key}: ${e.Message}`).join('; ')), { name: out.Errors[0]?.Code ?? 'DeleteFailed' }), 's3:DeleteObject', `s3://${bucket}`);
    }
  }

  // --- Application Auto Scaling ----------------------------------------------------------

  scalingResourceId(endpoint: string): string {
    return `endpoint/${endpoint}/variant/${VARIANT}`;
  }

  async scalableTargetExists(endpoint: string): Promise<boolean> {
    const out = await this.call('application-autoscaling:DescribeScalableTargets', endpoint, () =>
      this.clients.aas.send(new this.aas.DescribeScalableTargetsCommand({ ServiceNamespace: 'sagemaker', ResourceIds: [this.scalingResourceId(endpoint)], ScalableDimension: 'sagemaker:variant:DesiredInstanceCount' })),
    );
    return (out.ScalableTargets ?? []).length > 0;
  }

  async registerScaling(endpoint: string, min: number, max: number, target: number): Promise<void> {
    const ResourceId = this.scalingResourceId(endpoint);
    const dims = { ServiceNamespace: 'sagemaker' as const, ResourceId, ScalableDimension: 'sagemaker:variant:DesiredInstanceCount' as const };
    await this.call('application-autoscaling:RegisterScalableTarget', ResourceId, () => this.clients.aas.send(new this.aas.RegisterScalableTargetCommand({ ...dims, MinCapacity: min, MaxCapacity: max })));
    await this.call('application-autoscaling:PutScalingPolicy', ResourceId, () =>
      this.clients.aas.send(
        new this.aas.PutScalingPolicyCommand({
          ...dims,
          PolicyName: `${endpoint}-invocations`,
          PolicyType: 'TargetTrackingScaling',
          TargetTrackingScalingPolicyConfiguration: {
            TargetValue: target,
            PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
            ScaleInCooldown: 300,
            ScaleOutCooldown: 60,
          },
        }),
      ),
    );
  }

  async deregisterScaling(endpoint: string): Promise<void> {
    const ResourceId = this.scalingResourceId(endpoint);
    const dims = { ServiceNamespace: 'sagemaker' as const, ResourceId, ScalableDimension: 'sagemaker:variant:DesiredInstanceCount' as const };
    const ignoreMissing = (error: unknown) => {
      if (toProviderError(error, '').category !== 'notFound') throw toProviderError(error, 'application-autoscaling:Deregister', ResourceId);
    };
    await this.clients.aas.send(new this.aas.DeleteScalingPolicyCommand({ ...dims, PolicyName: `${endpoint}-invocations` })).catch(ignoreMissing);
    await this.clients.aas.send(new this.aas.DeregisterScalableTargetCommand(dims)).catch(ignoreMissing);
  }
}
