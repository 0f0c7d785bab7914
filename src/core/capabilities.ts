/**
 * Capability checks, once for every provider, at validate time: what a provider declares it
 * cannot do is refused before any call, with the field and the way out.
 */
import type { ProviderModule, RuleIssue } from './provider.js';
import type { DeploymentSpec } from './spec.js';

export function capabilityIssues(spec: DeploymentSpec, module: Pick<ProviderModule, 'title' | 'capabilities'>): RuleIssue[] {
  const { capabilities: can, title } = module;
  const issues: RuleIssue[] = [];
  const { instance, model } = spec;
  if (instance.accelerator && can.accelerators !== 'separate') {
    issues.push(
      can.accelerators === 'inType'
        ? {
            path: ['instance', 'accelerator'],
            message: `${title} attaches GPUs through the instance type, not separately`,
            hint: `remove accelerator and pick a GPU instance type${can.gpuInstanceExample ? ` such as ${can.gpuInstanceExample}` : ''}`,
          }
        : { path: ['instance', 'accelerator'], message: `${title} does not attach accelerators`, hint: 'remove instance.accelerator' },
    );
  }
  if (instance.autoscaling && !can.autoscaling) {
    issues.push({ path: ['instance', 'autoscaling'], message: `${title} does not autoscale`, hint: 'remove instance.autoscaling and set instance.count' });
  }
  if (instance.count > can.maxInstances) {
    issues.push({
      path: ['instance', 'count'],
      message: `${title} runs at most ${can.maxInstances} instance${can.maxInstances === 1 ? '' : 's'} of a revision; count is ${instance.count}`,
      hint: can.maxInstances === 1 ? 'set count: 1 or remove it' : `set count to ${can.maxInstances} or less`,
    });
  }
  if (instance.autoscaling && can.autoscaling && instance.autoscaling.max > can.maxInstances) {
    issues.push({ path: ['instance', 'autoscaling', 'max'], message: `${title} runs at most ${can.maxInstances} instances of a revision; max is ${instance.autoscaling.max}` });
  }
  if (model.uri !== undefined) {
    const scheme = /^([a-z0-9]+):\/\//.exec(model.uri)?.[1] ?? '';
    if (!can.artifactSchemes.includes(scheme)) {
      issues.push({
        path: ['model', 'uri'],
        message:
          can.artifactSchemes.length === 0
            ? `${title} serves files on this machine; it cannot use an uploaded artifact`
            : `${title} cannot read ${scheme}:// artifacts`,
        hint:
          can.artifactSchemes.length === 0
            ? 'set model.path to a local file or folder'
            : `use ${can.artifactSchemes.map((s) => `${s}://`).join(' or ')}, or set model.path to upload a local model`,
      });
    }
  }
  return issues;
}
