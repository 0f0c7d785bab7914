/** Shared by the cloud rules: one message for "this instance type belongs to another cloud". */
export function otherCloudOf(type: string): string | undefined {
  if (/^ml\./.test(type)) return 'aws (SageMaker)';
  if (/^Standard_/i.test(type)) return 'azure (Azure ML)';
  if (/^[a-z][a-z0-9]*-(standard|highmem|highcpu|highgpu|megagpu|ultragpu|custom)(-\d+[a-z]*)?$/.test(type)) return 'gcp (Vertex AI)';
  return undefined;
}
