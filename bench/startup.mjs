// Start-up cost of the CLI next to bare node, measured in the same run (median of N runs each).
// Budget (design §10): `--help` and `validate` within 2x of `node -e 0`.
//   npm run bench            (builds first)   or   node bench/startup.mjs [runs]
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist', 'bin', 'modeldeploy.js');
const runs = Number(process.argv[2] ?? 15);
const env = { ...process.env, CI: 'true' };

const cases = [
  ['node -e 0', ['-e', '0']],
  ['modeldeploy --help', [cli, '--help']],
  ['modeldeploy validate (local onnx)', [cli, 'validate', '-f', path.join(root, 'examples/local-onnx/deploy.yaml')]],
  ['modeldeploy validate (aws)', [cli, 'validate', '-f', path.join(root, 'test/fixtures/aws-deploy.yaml')]],
];

function time(args) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

const results = [];
for (const [name, args] of cases) {
  time(args); // warm the file cache
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push(time(args));
  results.push({ name, median: median(samples), min: Math.min(...samples), max: Math.max(...samples) });
}
const base = results[0].median;
console.log(`startup, ${runs} runs each, node ${process.version}`);
console.log('command'.padEnd(36), 'median ms'.padStart(10), 'min'.padStart(8), 'max'.padStart(8), 'x node'.padStart(8));
for (const r of results) {
  console.log(r.name.padEnd(36), r.median.toFixed(1).padStart(10), r.min.toFixed(1).padStart(8), r.max.toFixed(1).padStart(8), (r.median / base).toFixed(2).padStart(8));
}
const help = results[1].median / base;
console.log(`--help is ${help.toFixed(2)}x node -e 0 (budget 2x): ${help <= 2 ? 'within budget' : 'OVER BUDGET'}`);
