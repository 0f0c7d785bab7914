// Preloaded with `node --import` by the lazy-loading test: records every module URL the process
// resolves (ESM imports and, through the CJS loader, requires) into MODELDEPLOY_IMPORT_LOG.
import { register } from 'node:module';
import { appendFileSync } from 'node:fs';
import Module from 'node:module';

const log = process.env.MODELDEPLOY_IMPORT_LOG;
if (log) {
  register(new URL('./record-imports-hooks.mjs', import.meta.url), { data: { log } });
  const original = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    const resolved = original.call(this, request, ...rest);
    appendFileSync(log, `${resolved}\n`);
    return resolved;
  };
}
