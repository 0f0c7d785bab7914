/** Build dist/ once before the suite, as `npm run build` does: e2e tests run the built CLI as a user would. */
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  if (process.env.MODELDEPLOY_SKIP_BUILD === '1') return;
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
  execFileSync(process.execPath, ['scripts/bundle-deps.mjs'], { stdio: 'inherit' });
}
