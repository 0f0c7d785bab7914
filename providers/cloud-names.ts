/** Shared by the cloud rules: one message for "this instance type belongs to another cloud". */
export function otherCloudOf(type: string): string | undefined {
  if (/^ml\./.test(type)) return 'a SageMaker instance type (provider: aws)';
  if (/^Standard_/i.test(type)) return 'an Azure ML VM size (provider: azure)';
  if (/^[a-z][a-z0-9]*-(standard|highmem|highcpu|highgpu|megagpu|ultragpu|custom)(-\d+[a-z]*)?$/.test(type)) return 'a Vertex AI machine type (provider: gcp)';
  return undefined;
}
