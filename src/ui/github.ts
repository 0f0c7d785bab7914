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

/** Running as a GitHub Actions step. */
export function onGithubActions(env: NodeJS.ProcessEnv): boolean {
  return env.GITHUB_ACTIONS === 'true';
}

interface Located {
  file: string;
  line: number;
  column: number;
  path: string;
  message: string;
  hint?: string;
}

/**
 * Workflow commands that annotate the run: one `::error` per deploy.yaml problem, on its file,
 * line and column (shown on the pull request's diff), or one for the error as a whole.
 */
export function errorAnnotations(error: { code: string; message: string; hint?: string | undefined; details?: Record<string, unknown> | undefined }): string[] {
  const issues = (error.details?.issues as Located[] | undefined) ?? [];
  if (error.code === 'ConfigInvalid' && issues.length > 0) {
    return issues.map((i) => `::error file=${property(i.file)},line=${i.line},col=${i.column},title=${property(i.path || 'deploy.yaml')}::${data(`${i.message}${i.hint ? ` (${i.hint})` : ''}`)}`);
  }
  return [`::error title=${property(`modeldeploy ${error.code}`)}::${data(`${error.message}${error.hint ? ` (${error.hint})` : ''}`)}`];
}

/** Escaping of workflow command data and properties, as the Actions toolkit does it. */
function data(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function property(text: string): string {
  return data(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
