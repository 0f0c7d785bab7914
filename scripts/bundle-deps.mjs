// After tsc: replace dist/src/config/deps.js (re-exports of zod and yaml) with one ESM file that
// holds both libraries, so `validate` loads one module instead of ~170 (see src/config/deps.ts).
// Only this file is bundled: everything else keeps its own module, its import.meta.url and its
// lazy imports.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const file = path.join(root, 'dist', 'src', 'config', 'deps.js');
if (!/from ['"]zod['"]/.test(readFileSync(file, 'utf8'))) {
  // Already bundled (a second run without tsc): nothing to do.
  process.exit(0);
}
await build({
  entryPoints: [file],
  outfile: file,
  allowOverwrite: true,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  legalComments: 'eof',
  // yaml's Node build is CommonJS and requires node:process: give the bundle a real require.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  sourcemap: true,
  logLevel: 'warning',
});
