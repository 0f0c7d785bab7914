/** Regenerate schema/deploy.schema.json from src/config/schema.ts and the providers' blocks (`npm run schema`). */
import { writeFileSync } from 'node:fs';
import { schemaFor } from '../src/config/load.js';
import { deployJsonSchema } from '../src/config/schema.js';
import { registry } from '../providers/index.js';

const target = new URL('../schema/deploy.schema.json', import.meta.url);
const schema = deployJsonSchema(schemaFor(registry, await registry.descriptors()));
writeFileSync(target, `${JSON.stringify(schema, null, 2)}\n`);
process.stdout.write(`wrote ${target.pathname}\n`);
