import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deployJsonSchema } from '../../src/config/schema.js';

describe('schema/deploy.schema.json', () => {
  it('matches the zod source (run `npm run schema` after changing src/config/schema.ts)', () => {
    const committed = JSON.parse(readFileSync(new URL('../../schema/deploy.schema.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(deployJsonSchema());
  });

  it('rejects unknown keys and requires name and model, as the validator does', () => {
    const schema = deployJsonSchema() as { required: string[]; additionalProperties: boolean; properties: Record<string, { enum?: string[] }> };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(expect.arrayContaining(['name', 'model']));
    expect(schema.properties.provider?.enum).toEqual(['local', 'aws', 'gcp', 'azure']);
  });
});
