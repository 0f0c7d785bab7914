/** Build dist/ once before the suite: e2e tests run the built CLI as a user would. */
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  if (process.env.MODELDEPLOY_SKIP_BUILD === '1') return;
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
}
