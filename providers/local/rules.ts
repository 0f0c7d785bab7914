/** Validate-time rules of the local provider: no runtime loaded, no process started. */
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Capabilities, ProviderRules, RuleIssue } from '../../src/core/provider.js';

export const capabilities: Capabilities = {
  reachRevision: 'direct',
  accelerators: 'none',
  autoscaling: false,
  maxInstances: 1,
  artifactSchemes: [],
  logs: true,
};

export const localRules: ProviderRules = {
  check(t): RuleIssue[] {
    const issues: RuleIssue[] = [];
    const { model } = t.spec;
    if (model.framework === 'onnx') {
      if (model.path && !hasOnnxFile(model.path)) {
        issues.push({ path: ['model', 'path'], message: `no .onnx file in ${model.path}`, hint: 'point path at a .onnx file or a folder holding model.onnx' });
      }
      if (!onnxRuntimeAvailable()) {
        issues.push({ path: ['model', 'framework'], message: 'framework onnx on the local provider needs onnxruntime-web, which is not installed', hint: 'npm install onnxruntime-web' });
      }
    } else if (model.framework === 'custom') {
      if (!model.command) {
        issues.push({ path: ['model'], message: 'framework custom on the local provider needs a command that serves the model', hint: 'add `command: ["python3", "serve.py"]`; it gets AIP_HTTP_PORT and SM_MODEL_DIR' });
      }
    } else {
      issues.push({
        path: ['model', 'framework'],
        message: `the local provider serves onnx models itself and runs a command for custom; it has no ${model.framework} server`,
        hint: 'export the model to ONNX, or set framework: custom with a command, or deploy to a cloud provider',
      });
    }
    return issues;
  },
  names(t) {
    return { endpoint: t.base };
  },
};

function hasOnnxFile(modelPath: string): boolean {
  try {
    if (statSync(modelPath).isFile()) return modelPath.endsWith('.onnx');
    return readdirSync(modelPath).some((f) => f.endsWith('.onnx'));
  } catch {
    return false;
  }
}

function onnxRuntimeAvailable(): boolean {
  try {
    createRequire(import.meta.url).resolve('onnxruntime-web');
    return true;
  } catch {
    return false;
  }
}

export function storePath(env: NodeJS.ProcessEnv): string {
  return env.MODELDEPLOY_HOME ? path.resolve(env.MODELDEPLOY_HOME) : path.join(env.HOME ?? process.cwd(), '.modeldeploy');
}
