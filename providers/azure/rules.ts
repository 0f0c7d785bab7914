/** Validate-time rules for provider: azure (Azure ML managed online endpoints). Pure: no SDK. */
import type { Capabilities, ProviderRules, RuleIssue } from '../../src/core/provider.js';
import { baseName, type DeploymentSpec } from '../../src/core/spec.js';
import { otherCloudOf } from '../cloud-names.js';

export const capabilities: Capabilities = { revisionRouting: true, gpu: true, autoscaling: true, serverless: false };

/** Endpoint and deployment names: 3-32 characters, a letter first, letters, digits and single dashes. */
const ONLINE_NAME = /^[a-zA-Z](?:[a-zA-Z0-9]|-(?!-)){1,30}[a-zA-Z0-9]$/;
const SUBSCRIPTION = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const REGION = /^[a-z]+[a-z0-9]*$/;

export function azureNames(spec: DeploymentSpec, revision = '00000000'): Record<string, string> {
  const base = baseName(spec);
  return { endpoint: base, deployment: `r-${revision}`, model: base };
}

export const azureRules: ProviderRules = {
  id: 'azure',
  capabilities,
  check(spec) {
    const issues: RuleIssue[] = [];
    const endpoint = baseName(spec);
    if (!ONLINE_NAME.test(endpoint)) {
      issues.push({
        path: ['name'],
        message: `the Azure ML endpoint name "${endpoint}" must be 3-32 characters: a letter first, then letters, digits and single dashes`,
        hint: endpoint.length > 32 ? `shorten name or stage by ${endpoint.length - 32} characters` : undefined,
      });
    }
    if (spec.region && !REGION.test(spec.region)) {
      issues.push({ path: ['region'], message: `"${spec.region}" is not an Azure region name`, hint: 'e.g. eastus, westeurope' });
    }
    const type = spec.instance.type;
    if (!type) {
      issues.push({ path: ['instance'], message: 'instance.type is required for an Azure ML managed online deployment', hint: 'add `type: Standard_DS3_v2`' });
    } else if (!/^Standard_[A-Za-z0-9_]+$/.test(type)) {
      const other = otherCloudOf(type);
      issues.push({
        path: ['instance', 'type'],
        message: other ? `"${type}" is a ${other} type, not an Azure ML instance type` : `"${type}" is not an Azure ML instance type`,
        hint: 'Azure ML types look like Standard_DS3_v2, Standard_NC6s_v3',
      });
    }
    if (spec.instance.accelerator) {
      issues.push({ path: ['instance', 'accelerator'], message: 'Azure ML attaches GPUs through the instance type', hint: 'remove accelerator and pick a GPU SKU such as Standard_NC6s_v3' });
    }
    if (spec.azure && !SUBSCRIPTION.test(spec.azure.subscriptionId)) {
      issues.push({ path: ['azure', 'subscriptionId'], message: `"${spec.azure.subscriptionId}" is not a subscription id (a GUID)`, hint: '`az account show --query id -o tsv` prints yours' });
    }
    for (const key of Object.keys(spec.tags)) {
      if (/[<>%&\\?/]/.test(key) || key.length > 512) {
        issues.push({ path: ['tags', key], message: 'Azure tag names may not contain < > % & \\ ? / and are at most 512 characters' });
      }
    }
    return issues;
  },
  names: (spec, revision) => azureNames(spec, revision),
};
