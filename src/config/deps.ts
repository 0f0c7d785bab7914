/**
 * zod and yaml, the two libraries that reading deploy.yaml needs, through one module. `npm run
 * build` bundles this module's output into a single file (scripts/bundle-deps.mjs): loaded as
 * published, their ~170 small modules cost `validate` about 40 ms of module resolution, most of
 * what it spent over a bare `node -e 0` (design §10 allows 2×). zod's parts are imported by name
 * so the bundle can leave out what the schema does not use (its 40-odd message locales among
 * them). Tests and tsx read the packages themselves; the code that uses them is the same.
 */
import { array, boolean, enum as enumOf, number, record, strictObject, string, toJSONSchema, union, unknown } from 'zod';

export const z = { array, boolean, enum: enumOf, number, record, strictObject, string, toJSONSchema, union, unknown };
export { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
export type { Document, Node } from 'yaml';
