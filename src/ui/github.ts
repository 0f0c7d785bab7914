/** GitHub Actions: step outputs and a job summary, when the runner provides the files. */
import { appendFile } from 'node:fs/promises';

/**
 * Append outputs and the summary; `mask` hides secrets. A file that cannot be written is reported
 * back, never thrown: a deployment that succeeded stays a success.
 */
export async function writeGithubOutputs(
  env: NodeJS.ProcessEnv,
  outputs: Record<string, string | undefined>,
  summary: string,
  mask: (text: string) => string = (t) => t,
): Promise<string[]> {
  const problems: string[] = [];
  const append = async (variable: string, file: string, text: string) => {
    try {
      await appendFile(file, mask(text));
    } catch (error) {
      problems.push(`cannot write $${variable} (${file}): ${(error as Error).message}`);
    }
  };
  if (env.GITHUB_OUTPUT) {
    const lines = Object.entries(outputs)
      .filter((entry): entry is [string, string] => entry[1] !== undefined && !entry[1].includes('\n'))
      .map(([k, v]) => `${k}=${v}\n`)
      .join('');
    await append('GITHUB_OUTPUT', env.GITHUB_OUTPUT, lines);
  }
  if (env.GITHUB_STEP_SUMMARY) await append('GITHUB_STEP_SUMMARY', env.GITHUB_STEP_SUMMARY, `${summary}\n`);
  return problems;
}
