/** Regenerate schema/deploy.schema.json from src/config/schema.ts (`npm run schema`). */
import { writeFileSync } from 'node:fs';
import { deployJsonSchema } from '../src/config/schema.js';

const target = new URL('../schema/deploy.schema.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(deployJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${target.pathname}\n`);
