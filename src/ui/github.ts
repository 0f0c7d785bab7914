/** GitHub Actions: step outputs and a job summary, when the runner provides the files. */
import { appendFile } from 'node:fs/promises';

export async function writeGithubOutputs(env: NodeJS.ProcessEnv, outputs: Record<string, string | undefined>, summary: string): Promise<void> {
  if (env.GITHUB_OUTPUT) {
    const lines = Object.entries(outputs)
      .filter((entry): entry is [string, string] => entry[1] !== undefined && !entry[1].includes('\n'))
      .map(([k, v]) => `${k}=${v}\n`)
      .join('');
    await appendFile(env.GITHUB_OUTPUT, lines);
  }
  if (env.GITHUB_STEP_SUMMARY) await appendFile(env.GITHUB_STEP_SUMMARY, `${summary}\n`);
}
