import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { schemaFor } from '../../src/config/load.js';
import { deployJsonSchema } from '../../src/config/schema.js';
import { registry } from '../../providers/index.js';

const composed = async () => deployJsonSchema(schemaFor(registry, await registry.descriptors()));

describe('schema/deploy.schema.json', () => {
  it('matches the zod source and the providers\' blocks (run `npm run schema` after changing either)', async () => {
    const committed = JSON.parse(readFileSync(new URL('../../schema/deploy.schema.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(await composed());
  });

  it('rejects unknown keys and requires name and model, as the validator does', async () => {
    const schema = (await composed()) as { required: string[]; additionalProperties: boolean; properties: Record<string, { enum?: string[] }> };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(expect.arrayContaining(['name', 'model']));
    expect(schema.properties.provider?.enum).toEqual(registry.ids);
    for (const id of registry.ids) if (id !== registry.defaultId) expect(schema.properties[id], id).toBeDefined();
  });
});
