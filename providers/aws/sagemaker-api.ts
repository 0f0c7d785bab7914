/**
 * The narrow slice of the SageMaker control plane the adapter uses. Each call maps SDK errors to
 * ProviderError and carries the caller's abort signal; only plain values leave this file.
 */
import { toProviderError } from './errors.js';
import type { AwsConnection, SageMaker } from './connection.js';
import { VARIANT, type Tag } from './names.js';

export interface EndpointInfo {
  name: string;
  arn: string;
  status: string;
  configName: string;
  failureReason?: string;
}

export interface Named {
  name: string;
  arn: string;
}

export interface ContainerSpec {
  image: string;
  environment: Record<string, string>;
  /** s3://…/ prefix (uncompressed) or s3://…/model.tar.gz; absent when the container fetches the model itself. */
  modelData?: string;
}

export interface VariantSpec {
  modelName: string;
  instanceType?: string;
  instanceCount: number;
  serverless?: { memorySizeInMB: number; maxConcurrency: number; provisionedConcurrency?: number | undefined };
  startupTimeoutSeconds: number;
}

export class SageMakerApi {
  constructor(private readonly connection: AwsConnection) {}

  /**
   * Reads take the caller's signal; changes do not: a create or delete that reached SageMaker
   * completes (and is journaled) rather than landing unseen after an interrupt's rollback looked.
   */
  private call<T>(operation: string, subject: string, fn: (sm: SageMaker, options: { abortSignal?: AbortSignal }) => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.connection.retry(async () => {
      try {
        return await fn(await this.connection.sagemaker(), signal ? { abortSignal: signal } : {});
      } catch (error) {
        throw toProviderError(error, operation, subject);
      }
    }, signal);
  }

  /** undefined when there is no endpoint of that name (or it has just been deleted). */
  async describeEndpoint(name: string, signal: AbortSignal): Promise<EndpointInfo | undefined> {
    try {
      const out = await this.call('DescribeEndpoint', name, ({ sdk, client }, o) => client.send(new sdk.DescribeEndpointCommand({ EndpointName: name }), o), signal);
      return {
        name,
        arn: out.EndpointArn ?? '',
        status: out.EndpointStatus ?? 'Unknown',
        configName: out.EndpointConfigName ?? '',
        ...(out.FailureReason ? { failureReason: out.FailureReason } : {}),
      };
    } catch (error) {
      if (toProviderError(error, 'DescribeEndpoint').category === 'notFound') return undefined;
      throw error;
    }
  }

  /** The ARN of a config; undefined when it does not exist. */
  async endpointConfigArn(name: string, signal: AbortSignal): Promise<string | undefined> {
    try {
      const out = await this.call('DescribeEndpointConfig', name, ({ sdk, client }, o) => client.send(new sdk.DescribeEndpointConfigCommand({ EndpointConfigName: name }), o), signal);
      return out.EndpointConfigArn;
    } catch (error) {
      if (toProviderError(error, 'DescribeEndpointConfig').category === 'notFound') return undefined;
      throw error;
    }
  }

  async tags(arn: string, signal: AbortSignal): Promise<Record<string, string>> {
    const tags: Record<string, string> = {};
    let token: string | undefined;
    do {
      const out = await this.call('ListTags', arn, ({ sdk, client }, o) => client.send(new sdk.ListTagsCommand({ ResourceArn: arn, MaxResults: 100, NextToken: token }), o), signal);
      for (const t of out.Tags ?? []) if (t.Key) tags[t.Key] = t.Value ?? '';
      token = out.NextToken;
    } while (token);
    return tags;
  }

  async createModel(name: string, roleArn: string, container: ContainerSpec, tags: Tag[]): Promise<void> {
    const data = container.modelData;
    const modelData = !data
      ? {}
      : data.endsWith('.tar.gz')
        ? { ModelDataUrl: data }
        : { ModelDataSource: { S3DataSource: { S3Uri: data.endsWith('/') ? data : `${data}/`, S3DataType: 'S3Prefix' as const, CompressionType: 'None' as const } } };
    await this.call(
      'CreateModel',
      name,
      ({ sdk, client }, o) =>
        client.send(
          new sdk.CreateModelCommand({
            ModelName: name,
            ExecutionRoleArn: roleArn,
            PrimaryContainer: { Image: container.image, Environment: container.environment, Mode: 'SingleModel', ...modelData },
            Tags: tags,
          }),
          o,
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
    await this.call(
      'CreateEndpointConfig',
      name,
      ({ sdk, client }, o) =>
        client.send(
          new sdk.CreateEndpointConfigCommand({
            EndpointConfigName: name,
            ProductionVariants: [{ VariantName: VARIANT, ModelName: variant.modelName, InitialVariantWeight: 1, ...sizing }],
            Tags: tags,
          }),
          o,
        ),
    );
  }

  async createEndpoint(name: string, configName: string, tags: Tag[]): Promise<void> {
    await this.call('CreateEndpoint', name, ({ sdk, client }, o) => client.send(new sdk.CreateEndpointCommand({ EndpointName: name, EndpointConfigName: configName, Tags: tags }), o));
  }

  async updateEndpoint(name: string, configName: string): Promise<void> {
    await this.call('UpdateEndpoint', name, ({ sdk, client }, o) => client.send(new sdk.UpdateEndpointCommand({ EndpointName: name, EndpointConfigName: configName }), o));
  }

  async deleteEndpoint(name: string): Promise<void> {
    await this.call('DeleteEndpoint', name, ({ sdk, client }, o) => client.send(new sdk.DeleteEndpointCommand({ EndpointName: name }), o));
  }

  async deleteEndpointConfig(name: string): Promise<void> {
    await this.call('DeleteEndpointConfig', name, ({ sdk, client }, o) => client.send(new sdk.DeleteEndpointConfigCommand({ EndpointConfigName: name }), o));
  }

  async deleteModel(name: string): Promise<void> {
    await this.call('DeleteModel', name, ({ sdk, client }, o) => client.send(new sdk.DeleteModelCommand({ ModelName: name }), o));
  }

  /** Models whose name contains `contains`, with the ARNs ListModels already returns. */
  async listModels(contains: string, signal: AbortSignal): Promise<Named[]> {
    const out: Named[] = [];
    let token: string | undefined;
    do {
      const page = await this.call('ListModels', contains, ({ sdk, client }, o) => client.send(new sdk.ListModelsCommand({ NameContains: contains, MaxResults: 100, NextToken: token }), o), signal);
      for (const m of page.Models ?? []) if (m.ModelName && m.ModelArn) out.push({ name: m.ModelName, arn: m.ModelArn });
      token = page.NextToken;
    } while (token);
    return out;
  }

  async listEndpointConfigs(contains: string, signal: AbortSignal): Promise<Named[]> {
    const out: Named[] = [];
    let token: string | undefined;
    do {
      const page = await this.call('ListEndpointConfigs', contains, ({ sdk, client }, o) => client.send(new sdk.ListEndpointConfigsCommand({ NameContains: contains, MaxResults: 100, NextToken: token }), o), signal);
      for (const c of page.EndpointConfigs ?? []) if (c.EndpointConfigName && c.EndpointConfigArn) out.push({ name: c.EndpointConfigName, arn: c.EndpointConfigArn });
      token = page.NextToken;
    } while (token);
    return out;
  }

  async listEndpoints(signal: AbortSignal): Promise<Array<Named & { status: string }>> {
    const out: Array<Named & { status: string }> = [];
    let token: string | undefined;
    do {
      const page = await this.call('ListEndpoints', '', ({ sdk, client }, o) => client.send(new sdk.ListEndpointsCommand({ MaxResults: 100, NextToken: token }), o), signal);
      for (const e of page.Endpoints ?? []) if (e.EndpointName && e.EndpointArn) out.push({ name: e.EndpointName, arn: e.EndpointArn, status: e.EndpointStatus ?? '' });
      token = page.NextToken;
    } while (token);
    return out;
  }
}
