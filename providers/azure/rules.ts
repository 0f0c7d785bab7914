/** Validate-time rules for provider: azure (Azure ML managed online endpoints). Pure: no SDK, no network. */
import type { Capabilities, ProviderRules, RuleIssue, Target } from '../../src/core/provider.js';
import { closest } from '../../src/config/suggest.js';
import { otherCloudOf } from '../cloud-names.js';
import { CURATED, FRAMEWORK_PACKAGES, isEnvironmentId, TGI, tgiImage } from './images.js';
import { findSku, isGpuSku, MANAGED_SKUS } from './instance-types.js';
import { MAX_ONLINE_NAME, names, ONLINE_NAME } from './names.js';
import type { AzureSettings } from './settings.js';

/**
 * A new revision is the deployment `r-<revision>` beside the serving one, reached through the
 * `azureml-model-deployment` header before one traffic PUT moves the traffic. Autoscaling of a
 * managed online deployment is an Azure Monitor autoscale setting (another resource provider):
 * not offered, instance.count is the deployment's fixed instance count.
 */
export const capabilities: Capabilities = {
  reachRevision: 'direct',
  accelerators: 'inType',
  gpuInstanceExample: 'Standard_NC4as_T4_v3',
  autoscaling: false,
  // Instances per deployment (how-to-manage-quotas).
  maxInstances: 50,
  artifactSchemes: ['azureml', 'https', 'hf'],
  logs: false,
};

const SUBSCRIPTION = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const REGION = /^[a-z]+[a-z0-9]*$/;
const RESOURCE_GROUP = /^[-\w.()]{1,89}[-\w()]$/;
const WORKSPACE = /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$/;
const PIP_VERSION = /^\d+(\.\d+){0,2}$/;
const TGI_VERSION = /^\d+\.\d+(\.\d+)?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const REGISTRY_MODEL = /^azureml:\/\/registries\/[^/]+\/models\/[^/]+\/versions\/[^/]+$/i;
const DATASTORE_PATH = /^azureml:\/\/(subscriptions\/[^/]+\/resourcegroups\/[^/]+\/workspaces\/[^/]+\/)?datastores\/[^/]+\/paths\/.+$/i;
/** Tags modeldeploy adds itself (deployment, stage, revision); ARM allows 50. */
const OWN_TAGS = 3;

export const azureRules: ProviderRules<AzureSettings> = {
  check(t) {
    const { spec, settings } = t;
    const issues: RuleIssue[] = [];
    if (!ONLINE_NAME.test(t.base)) {
      issues.push({
        path: ['name'],
        message: `the Azure ML endpoint name "${t.base}" must be 3-${MAX_ONLINE_NAME} characters: a letter first, then letters, digits and single dashes`,
        ...(t.base.length > MAX_ONLINE_NAME ? { hint: `shorten name or stage by ${t.base.length - MAX_ONLINE_NAME} characters` } : {}),
      });
    }
    if (spec.region && !REGION.test(spec.region)) {
      issues.push({ path: ['region'], message: `"${spec.region}" is not an Azure region name`, hint: 'e.g. eastus, westeurope' });
    }
    const type = spec.instance.type;
    if (!type) {
      issues.push({ path: ['instance'], message: 'instance.type is required for an Azure ML managed online deployment', hint: 'add `type: Standard_DS3_v2`' });
    } else if (!findSku(type)) {
      // VM size names compare case-insensitively, as the service does.
      const other = /^Standard_/i.test(type) ? undefined : otherCloudOf(type);
      const guess = closest(type, MANAGED_SKUS.map((s) => s.name));
      issues.push({
        path: ['instance', 'type'],
        message: other
          ? `"${type}" is ${other}, not an Azure ML instance type`
          : /^Standard_/i.test(type)
            ? `"${type}" is not a VM size Azure ML managed online endpoints offer`
            : `"${type}" is not an Azure ML instance type`,
        hint: guess ? `did you mean ${guess}?` : 'Azure ML types look like Standard_DS3_v2, Standard_NC6s_v3 (see reference-managed-online-endpoints-vm-sku-list)',
      });
    }
    if (settings) {
      if (!SUBSCRIPTION.test(settings.subscriptionId)) {
        issues.push({ path: ['azure', 'subscriptionId'], message: `"${settings.subscriptionId}" is not a subscription id (a GUID)`, hint: '`az account show --query id -o tsv` prints yours' });
      }
      if (!RESOURCE_GROUP.test(settings.resourceGroup)) {
        issues.push({ path: ['azure', 'resourceGroup'], message: `"${settings.resourceGroup}" is not a resource group name`, hint: '1-90 letters, digits, - _ . ( ), not ending with a dot' });
      }
      if (!WORKSPACE.test(settings.workspace)) {
        issues.push({ path: ['azure', 'workspace'], message: `"${settings.workspace}" is not an Azure ML workspace name`, hint: '3-33 letters, digits, - and _, starting with a letter or digit' });
      }
    }
    const tags = Object.entries(spec.tags);
    for (const [key, value] of tags) {
      if (/[<>%&\\?/]/.test(key) || key.length > 512) {
        issues.push({ path: ['tags', key], message: 'Azure tag names may not contain < > % & \\ ? / and are at most 512 characters' });
      } else if (value.length > 256) {
        issues.push({ path: ['tags', key], message: `the value of tag ${key} is ${value.length} characters; Azure allows 256` });
      }
    }
    if (tags.length > 50 - OWN_TAGS) {
      issues.push({ path: ['tags'], message: `${tags.length} tags: Azure allows 50 per resource and modeldeploy adds ${OWN_TAGS}` });
    }
    for (const key of Object.keys(spec.env)) {
      if (!ENV_NAME.test(key)) issues.push({ path: ['env', key], message: `"${key}" is not an environment variable name`, hint: 'letters, digits and _, not starting with a digit' });
    }
    const port = spec.env.AIP_HTTP_PORT;
    if (port !== undefined && !(Number.isInteger(Number(port)) && Number(port) >= 1 && Number(port) <= 65535)) {
      issues.push({ path: ['env', 'AIP_HTTP_PORT'], message: `"${port}" is not a port number`, hint: 'the port the serving image listens on, 1-65535' });
    }
    issues.push(...modelIssues(t));
    return issues;
  },
  names: (t, revision) => names(t, revision),
  details(t) {
    const { spec, settings } = t;
    const { model } = spec;
    let serving: Record<string, unknown>;
    if (model.image) {
      serving = isEnvironmentId(model.image) ? { environment: model.image } : { image: model.image, serving: 'custom container' };
    } else if (model.framework === 'huggingface') {
      serving = { image: tgiImage(model.version), serving: `Hugging Face TGI (${TGI.generate} on port ${TGI.port})` };
    } else {
      const curated = CURATED[isGpuSku(spec.instance.type) ? 'gpu' : 'cpu'];
      const pkg = FRAMEWORK_PACKAGES[model.framework];
      serving = {
        serving: 'MLflow model (no-code), or score.py on a curated image',
        image: curated.image,
        ...(pkg ? { package: `${pkg}${model.version ? ` ${model.version}` : ''}` } : {}),
      };
    }
    return {
      ...serving,
      ...(spec.instance.type ? { instanceType: spec.instance.type } : {}),
      instanceCount: spec.instance.count,
      ...(spec.region ? { region: spec.region } : {}),
      ...(settings ? { workspace: `${settings.resourceGroup}/${settings.workspace}` } : {}),
      ...(spec.model.path ? { artifactPrefix: `modeldeploy/${spec.name}/` } : {}),
    };
  },
};

function modelIssues(t: Target<AzureSettings>): RuleIssue[] {
  const { spec } = t;
  const { model } = spec;
  const issues: RuleIssue[] = [];
  const uri = model.uri;
  if (uri?.startsWith('hf://') && model.framework !== 'huggingface') {
    issues.push({ path: ['model', 'uri'], message: 'hf:// models are served by Hugging Face TGI: set framework huggingface', hint: 'framework: huggingface' });
  }
  if (uri?.startsWith('azureml://') && !REGISTRY_MODEL.test(uri) && !DATASTORE_PATH.test(uri)) {
    issues.push({
      path: ['model', 'uri'],
      message: `"${uri}" is neither a registry model nor a datastore path`,
      hint: 'azureml://registries/<registry>/models/<name>/versions/<n>, or azureml://datastores/<datastore>/paths/<folder>',
    });
  }
  if (uri && REGISTRY_MODEL.test(uri) && !model.image && model.framework !== 'huggingface') {
    issues.push({ path: ['model', 'image'], message: 'a registry model needs a serving image or environment on Azure ML', hint: 'set model.image to a container image or an azureml:// environment id' });
  }
  if (model.framework === 'custom' && !model.image) {
    issues.push({ path: ['model', 'image'], message: 'framework custom on Azure ML needs a serving image', hint: 'set model.image to your container image (or an Azure ML environment id)' });
  }
  if (model.version !== undefined && !model.image) {
    if (model.framework === 'huggingface' && !TGI_VERSION.test(model.version)) {
      issues.push({ path: ['model', 'version'], message: `"${model.version}" is not a Hugging Face TGI version`, hint: `a TGI release such as ${TGI.defaultVersion}` });
    } else if (FRAMEWORK_PACKAGES[model.framework] && !PIP_VERSION.test(model.version)) {
      issues.push({ path: ['model', 'version'], message: `"${model.version}" is not a ${FRAMEWORK_PACKAGES[model.framework]} version`, hint: 'a release number such as 2.2 or 1.5.1' });
    }
  }
  if (model.framework === 'huggingface' && !model.image && spec.instance.type && findSku(spec.instance.type) && !isGpuSku(spec.instance.type)) {
    issues.push({ path: ['instance', 'type'], message: `Hugging Face TGI needs a GPU; ${spec.instance.type} has none`, hint: 'pick an N-series size such as Standard_NC6s_v3 or Standard_NC24ads_A100_v4' });
  }
  return issues;
}
