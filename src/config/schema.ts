/**
 * deploy.yaml v1: the one source of truth. The TypeScript types, the validator and the
 * generated schema/deploy.schema.json all come from the zod schema below, composed with each
 * provider's own block.
 */
import type { core, input, output, ZodType } from 'zod';
import type { ProviderDescriptor } from '../core/provider.js';
import { z } from './deps.js';

export const FRAMEWORKS = ['sklearn', 'xgboost', 'pytorch', 'tensorflow', 'onnx', 'huggingface', 'custom'] as const;
export type Framework = (typeof FRAMEWORKS)[number];

/** Lowercase DNS-label style: it ends up inside every cloud's resource names. */
export const NAME_PATTERN = /^[a-z][a-z0-9-]*[a-z0-9]$|^[a-z]$/;
export const DURATION_PATTERN = /^\d+(\.\d+)?(ms|s|m|h)$/;

const dnsName = (what: string, max: number) =>
  z
    .string({ error: `${what} must be a string` })
    .max(max, { error: `${what} is longer than ${max} characters` })
    .regex(NAME_PATTERN, {
      error: `${what} may hold only lowercase letters, digits and '-', start with a letter and not end with '-'`,
    });

const duration = z
  .union([
    z.string().regex(DURATION_PATTERN, { error: 'expected a duration such as 90s, 30m or 1h' }),
    z.number().int().positive(),
  ])
  .describe('A duration: 90s, 30m, 1h, 500ms, or a whole number of seconds.');

const stringMap = z.record(
  z.string(),
  z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v)),
);

const modelSchema = z
  .strictObject({
    path: z.string().min(1).optional().describe('File or directory, relative to deploy.yaml.'),
    uri: z
      .string()
      .regex(/^(s3|gs|azureml|https|hf):\/\/.+/, {
        error: 'expected a URI starting with s3://, gs://, azureml://, https:// or hf://',
      })
      .optional()
      .describe('An artifact that is already uploaded (s3:// gs:// azureml:// https://), or hf://org/name.'),
    framework: z.enum(FRAMEWORKS).describe('Picks the serving container (or the local server).'),
    version: z
      .union([z.string(), z.number().transform((v) => String(v))])
      .optional()
      .describe('Framework version; picks the prebuilt serving image.'),
    image: z.string().min(1).nullable().optional().describe('A serving image that overrides the prebuilt one.'),
    command: z
      .array(z.string())
      .min(1)
      .nullable()
      .optional()
      .describe('framework custom on the local provider: the serving command, run in the deploy.yaml folder.'),
  })
  .describe('The model to serve.');

const instanceSchema = z.strictObject({
  type: z.string().min(1).optional().describe("The provider's own instance or machine type name."),
  count: z.number().int().min(1).max(100).default(1),
  accelerator: z
    .strictObject({ type: z.string().min(1), count: z.number().int().min(1).max(16).default(1) })
    .nullable()
    .optional()
    .describe('Where the provider takes accelerators separately from the instance type, e.g. {type: nvidia-l4, count: 1}.'),
  autoscaling: z
    .strictObject({
      min: z.number().int().min(0),
      max: z.number().int().min(1),
      targetInvocationsPerInstance: z.number().int().min(1).optional(),
    })
    .nullable()
    .optional(),
});

const smokeSchema = z.strictObject({
  request: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('The JSON request body, or {file: ./sample.json, contentType: application/json}.'),
  expect: z
    .strictObject({
      status: z.number().int().min(100).max(599).default(200),
      body: z.unknown().optional().describe('Partial deep match: every field given must match.'),
      maxLatencyMs: z.number().positive().optional(),
      tolerance: z
        .number()
        .min(0)
        .default(1e-6)
        .describe('Numbers in body match when within this absolute (or relative) difference.'),
    })
    .default({ status: 200, tolerance: 1e-6 }),
  onFailure: z.enum(['rollback', 'keep']).default('rollback'),
});

/**
 * deploy.yaml's schema: the shared fields above, plus each registered provider's own block
 * (`<id>:`), composed from the providers' descriptors. Every block is checked, whichever provider
 * is chosen, so a file that keeps blocks for several clouds is validated whole.
 */
export function buildDeploySchema(descriptors: readonly ProviderDescriptor[], defaultId: string) {
  const ids = descriptors.map((d) => d.id);
  const blocks: Record<string, ZodType> = {};
  for (const d of descriptors) if (d.settings) blocks[d.id] = d.settings.schema.optional();
  return z
    .strictObject({
      name: dnsName('name', 40).describe('Lowercase letters, digits and -; starts with a letter.'),
      provider: z.enum(ids as [string, ...string[]]).default(defaultId),
      region: z.string().min(1).optional().describe('Required for the clouds.'),
      stage: dnsName('stage', 16).default('default').describe('Part of every resource name; --stage overrides.'),
      model: modelSchema,
      instance: instanceSchema.default({ count: 1 }),
      env: stringMap.default({}).describe('Container environment; ${VAR} and ${VAR:-default} read the process environment.'),
      tags: stringMap.default({}).describe("Added to every resource, beside modeldeploy's own."),
      timeouts: z
        .strictObject({ deploy: duration.default('30m'), startup: duration.default('10m') })
        .default({ deploy: '30m', startup: '10m' }),
      smoke: smokeSchema.optional(),
      ...blocks,
    })
    .describe('modeldeploy deployment (schema v1)');
}

export type DeploySchema = ReturnType<typeof buildDeploySchema>;

/** deploy.yaml as written (before defaults). */
export type DeployFileInput = input<DeploySchema>;
/** deploy.yaml after validation and defaults; provider blocks are the providers' own to read. */
export type DeployFile = output<DeploySchema> & Record<string, unknown>;

/** The JSON Schema that editors use; generated, committed, and checked for staleness by a test. */
export function deployJsonSchema(deploySchema: DeploySchema): Record<string, unknown> {
  const schema = z.toJSONSchema(deploySchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://modeldeploy.dev/schema/deploy.schema.json',
    title: 'modeldeploy deploy.yaml',
  };
}

/** Keys an object schema accepts at a path: the source of every "did you mean". */
export function knownKeysAt(deploySchema: DeploySchema, path: readonly (string | number)[]): string[] {
  let node: core.$ZodType | undefined = deploySchema;
  for (const segment of path) {
    node = node && childSchema(node, segment);
  }
  const object = node && unwrapToObject(node);
  return object ? Object.keys(object._zod.def.shape) : [];
}

function unwrapToObject(schema: core.$ZodType): core.$ZodObject | undefined {
  const def = schema._zod.def as { type: string; innerType?: core.$ZodType; in?: core.$ZodType };
  if (def.type === 'object') return schema as core.$ZodObject;
  if (def.innerType) return unwrapToObject(def.innerType);
  if (def.type === 'pipe' && def.in) return unwrapToObject(def.in);
  return undefined;
}

function childSchema(schema: core.$ZodType, segment: string | number): core.$ZodType | undefined {
  const object = unwrapToObject(schema);
  if (object && typeof segment === 'string') return object._zod.def.shape[segment];
  return undefined;
}
