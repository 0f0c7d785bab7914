/**
 * The boundaries the design rests on, checked on the source: src/ names no provider (a fifth
 * provider is a folder and a registry line), and every deploy.yaml field is either part of the
 * revision id or declared as not changing how the model is served.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { schemaFor } from '../../src/config/load.js';
import { deployJsonSchema } from '../../src/config/schema.js';
import { NOT_SERVING_FIELDS, SERVING_FIELDS } from '../../src/core/revision.js';
import { registry } from '../../providers/index.js';
import { ROOT } from '../support/cli.js';

async function sources(dir: string): Promise<Array<{ file: string; code: string }>> {
  const entries = await readdir(path.join(ROOT, dir), { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => path.join(e.parentPath, e.name));
  return Promise.all(files.map(async (file) => ({ file: path.relative(ROOT, file), code: withoutComments(await readFile(file, 'utf8')) })));
}

function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

describe('src/ names no provider', () => {
  it('nothing under src/ imports from providers/', async () => {
    const offenders = (await sources('src')).filter(({ code }) => /(from\s+|import\()\s*['"][./]*\/?providers\//.test(code) || /['"](\.\.\/)+providers\//.test(code));
    expect(offenders.map((o) => o.file)).toEqual([]);
  });

  it('no provider id is spelled in src/ code (comments aside)', async () => {
    const ids = registry.ids;
    const found: string[] = [];
    for (const { file, code } of await sources('src')) {
      for (const id of ids) {
        const quoted = new RegExp(`['"\`]${id}['"\`:]`);
        const word = new RegExp(`\\b${id}\\b`);
        // `local` is also an ordinary word; the cloud ids are not.
        if (quoted.test(code) || (id !== 'local' && word.test(code))) found.push(`${file}: ${id}`);
      }
    }
    expect(found).toEqual([]);
  });

  it('the check would see one (it is not vacuous)', () => {
    expect(/\baws\b/.test(withoutComments("const x = 'aws'; // gcp"))).toBe(true);
    expect(/\bgcp\b/.test(withoutComments("const x = 1; // gcp"))).toBe(false);
  });
});

describe('the revision id', () => {
  /** Every leaf-ish field of the composed JSON Schema: top-level fields, and the fields of model and timeouts. */
  async function schemaFields(): Promise<{ shared: string[]; blocks: Record<string, string[]> }> {
    const schema = deployJsonSchema(schemaFor(registry, await registry.descriptors())) as { properties: Record<string, { properties?: Record<string, unknown>; anyOf?: unknown }> };
    const shared: string[] = [];
    const blocks: Record<string, string[]> = {};
    for (const [key, value] of Object.entries(schema.properties)) {
      if (registry.ids.includes(key)) {
        blocks[key] = Object.keys(objectProperties(value));
        continue;
      }
      const children = Object.keys(objectProperties(value));
      if (children.length === 0 || !['model', 'timeouts'].includes(key)) shared.push(key);
      else shared.push(...children.map((c) => `${key}.${c}`));
    }
    return { shared, blocks };
  }

  it('lists every deploy.yaml field as serving or not serving, once', async () => {
    const { shared } = await schemaFields();
    const classified = [...Object.keys(SERVING_FIELDS), ...NOT_SERVING_FIELDS];
    expect(new Set(classified).size).toBe(classified.length);
    const covers = (field: string) => classified.some((c) => field === c || field.startsWith(`${c}.`));
    expect(shared.filter((f) => !covers(f))).toEqual([]);
    // And nothing listed that the schema does not have.
    expect(classified.filter((c) => !shared.some((f) => f === c || f.startsWith(`${c}.`)))).toEqual([]);
  });

  it('lists every field of each provider block in its descriptor as serving or not serving', async () => {
    const { blocks } = await schemaFields();
    for (const descriptor of await registry.descriptors()) {
      const fields = blocks[descriptor.id] ?? [];
      const declared = [...(descriptor.settings?.serving ?? []), ...(descriptor.settings?.notServing ?? [])];
      expect([...fields].sort(), descriptor.id).toEqual([...declared].sort());
    }
  });
});

function objectProperties(node: unknown): Record<string, unknown> {
  const n = node as { properties?: Record<string, unknown>; anyOf?: unknown[]; allOf?: unknown[] };
  if (n?.properties) return n.properties;
  for (const alt of [...(n?.anyOf ?? []), ...(n?.allOf ?? [])]) {
    const found = objectProperties(alt);
    if (Object.keys(found).length) return found;
  }
  return {};
}
