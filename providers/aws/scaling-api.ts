/** Application Auto Scaling of the endpoint's one variant: register with a target-tracking policy, or let go. */
import { toProviderError } from './errors.js';
import type { AwsConnection, Scaling } from './connection.js';
import { scalingPolicyName, scalingResourceId } from './names.js';

export interface ScalingSpec {
  min: number;
  max: number;
  /** Invocations per instance per minute. */
  target: number;
}

const DIMENSION = 'sagemaker:variant:DesiredInstanceCount' as const;

export class ScalingApi {
  constructor(private readonly connection: AwsConnection) {}

  /** Reads take the caller's signal; changes complete once sent (see SageMakerApi). */
  private call<T>(operation: string, subject: string, fn: (aas: Scaling, options: { abortSignal?: AbortSignal }) => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.connection.retry(async () => {
      try {
        return await fn(await this.connection.scaling(), signal ? { abortSignal: signal } : {});
      } catch (error) {
        throw toProviderError(error, `application-autoscaling:${operation}`, subject);
      }
    }, signal);
  }

  async exists(endpoint: string, signal: AbortSignal): Promise<boolean> {
    const ResourceId = scalingResourceId(endpoint);
    const out = await this.call(
      'DescribeScalableTargets',
      ResourceId,
      ({ sdk, client }, o) => client.send(new sdk.DescribeScalableTargetsCommand({ ServiceNamespace: 'sagemaker', ResourceIds: [ResourceId], ScalableDimension: DIMENSION }), o),
      signal,
    );
    return (out.ScalableTargets ?? []).length > 0;
  }

  /** Both calls are upserts: registering again with new bounds updates them. */
  async register(endpoint: string, spec: ScalingSpec): Promise<void> {
    const dims = { ServiceNamespace: 'sagemaker' as const, ResourceId: scalingResourceId(endpoint), ScalableDimension: DIMENSION };
    await this.call('RegisterScalableTarget', dims.ResourceId, ({ sdk, client }, o) => client.send(new sdk.RegisterScalableTargetCommand({ ...dims, MinCapacity: spec.min, MaxCapacity: spec.max }), o));
    await this.call(
      'PutScalingPolicy',
      dims.ResourceId,
      ({ sdk, client }, o) =>
        client.send(
          new sdk.PutScalingPolicyCommand({
            ...dims,
            PolicyName: scalingPolicyName(endpoint),
            PolicyType: 'TargetTrackingScaling',
            TargetTrackingScalingPolicyConfiguration: {
              TargetValue: spec.target,
              PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
              ScaleInCooldown: 300,
              ScaleOutCooldown: 60,
            },
          }),
          o,
        ),
    );
  }

  /** Policy, then target; either already gone is success. */
  async deregister(endpoint: string): Promise<void> {
    const dims = { ServiceNamespace: 'sagemaker' as const, ResourceId: scalingResourceId(endpoint), ScalableDimension: DIMENSION };
    const gone = (error: unknown) => {
      if (toProviderError(error, '').category !== 'notFound') throw error;
    };
    await this.call('DeleteScalingPolicy', dims.ResourceId, ({ sdk, client }, o) => client.send(new sdk.DeleteScalingPolicyCommand({ ...dims, PolicyName: scalingPolicyName(endpoint) }), o)).catch(gone);
    await this.call('DeregisterScalableTarget', dims.ResourceId, ({ sdk, client }, o) => client.send(new sdk.DeregisterScalableTargetCommand(dims), o)).catch(gone);
  }
}

/** `min:max:target`, as the SCALING_TAG of a config records it. */
export function formatScaling(spec: ScalingSpec): string {
  return `${spec.min}:${spec.max}:${spec.target}`;
}

export function parseScaling(value: string | undefined): ScalingSpec | undefined {
  const match = value === undefined ? null : /^(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(value);
  if (!match) return undefined;
  return { min: Number(match[1]), max: Number(match[2]), target: Number(match[3]) };
}
