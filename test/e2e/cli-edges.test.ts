/**
 * What the CLI owes a CI pipeline and an adversary, on the local provider: exit codes of gates,
 * GitHub annotations and outputs, secrets that never print, the smaller usage edges.
 */
import { cp, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesUnder, ROOT, runCli, tempHome } from '../support/cli.js';

const CANARY = 'c4n4ry-5ecret-7f3a91d2';
let home: string;
let work: string;
let gh: string;
const printed: string[] = [];

beforeAll(async () => {
  home = await tempHome();
  work = await mkdtemp(path.join(tmpdir(), 'md-edges-'));
  gh = await mkdtemp(path.join(tmpdir(), 'md-gh-'));
  await cp(path.join(ROOT, 'examples', 'local-onnx'), work, { recursive: true });
});

afterAll(async () => {
  await runCli(['down', '-f', path.join(work, 'deploy.yaml'), '-q'], { env: { MODELDEPLOY_HOME: home } });
  for (const dir of [home, work, gh]) await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[], env: NodeJS.ProcessEnv = {}, input?: string) {
  const run = await runCli(args, { cwd: work, env: { MODELDEPLOY_HOME: home, ...env }, ...(input !== undefined ? { input } : {}) });
  printed.push(run.stdout, run.stderr);
  return run;
}

describe('usage edges', () => {
  it('no command at all is a usage error (exit 2) with the help on stderr', async () => {
    const run = await cli([]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Usage: modeldeploy');
    expect(run.stdout).toBe('');
  });

  it('a deploy.yaml given as an argument gets a hint to use -f', async () => {
    const run = await cli(['validate', 'deploy.yaml']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('hint: name deploy.yaml with -f');
  });

  it('a bad --stage is an error about the flag, not a line of the file', async () => {
    const run = await cli(['validate', '-f', 'deploy.yaml', '--stage', 'Prod', '--json']);
    expect(run.code).toBe(2);
    const doc = JSON.parse(run.stdout);
    expect(doc.error).toMatchObject({ code: 'InvalidOption', message: expect.stringContaining('--stage Prod') });
    expect(run.stderr).not.toMatch(/deploy\.yaml:\d+:\d+/);
  });

  it('an empty standard input to invoke says there is no request body', async () => {
    const run = await cli(['invoke', '-f', 'deploy.yaml'], {}, '');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no request body: standard input was empty');
  });
});

describe('CI gates', () => {
  it('status --check exits 3 on an absent deployment and 0 on a ready one', async () => {
    const absent = await cli(['status', '--check', '-f', 'deploy.yaml', '--json']);
    expect(absent.code).toBe(3);
    expect(JSON.parse(absent.stdout)).toMatchObject({ ok: false, error: { code: 'NotReady' }, result: { state: 'absent' } });
    expect((await cli(['up', '-f', 'deploy.yaml', '-q'])).code).toBe(0);
    expect((await cli(['status', '--check', '-f', 'deploy.yaml'])).code).toBe(0);
  });

  it('invoke --bench exits 4 when a limit is breached, and says which', async () => {
    // A body the model refuses: every request fails with 400.
    const failing = await cli(['invoke', '-f', 'deploy.yaml', '--data', '{"instances": "nope"}', '--bench', '6', '--concurrency', '2', '--max-error-rate', '0', '--json']);
    expect(failing.code).toBe(4);
    const doc = JSON.parse(failing.stdout);
    expect(doc).toMatchObject({ ok: false, error: { code: 'SmokeTestFailed' }, result: { mode: 'bench', errors: 6, gate: { passed: false } } });
    expect(doc.result.gate.breaches[0]).toContain('error rate 100.0% (6 of 6)');
    const passing = await cli(['invoke', '-f', 'deploy.yaml', '--file', 'request.json', '--bench', '5', '--max-error-rate', '0', '--max-p95-ms', '60000', '--json']);
    expect(passing.code, passing.stderr).toBe(0);
    expect(JSON.parse(passing.stdout).gate).toMatchObject({ passed: true, breaches: [] });
  });
});

describe('GitHub Actions', () => {
  const actions = (name: string) => ({ GITHUB_ACTIONS: 'true', GITHUB_OUTPUT: path.join(gh, `${name}.out`), GITHUB_STEP_SUMMARY: path.join(gh, `${name}.md`) });

  it('each deploy.yaml problem is one ::error annotation with its file, line and column', async () => {
    await writeFile(path.join(work, 'bad.yaml'), 'name: iris\nmodle: {}\nmodel:\n  path: ./model\n  framework: sklern\n');
    const run = await cli(['validate', '-f', 'bad.yaml'], actions('bad'));
    expect(run.code).toBe(2);
    const annotations = run.stderr.split('\n').filter((l) => l.startsWith('::error '));
    expect(annotations).toEqual([
      expect.stringMatching(/^::error file=bad\.yaml,line=2,col=1,title=modle::unknown field "modle"/),
      expect.stringMatching(/^::error file=bad\.yaml,line=5,col=14,title=model\.framework::"sklern" is not one of/),
    ]);
  });

  it('a failed up writes action=failed, its error code and a summary of what was rolled back', async () => {
    const yaml = await readFile(path.join(work, 'deploy.yaml'), 'utf8');
    await writeFile(path.join(work, 'failing.yaml'), yaml.replace('body: {predictions: [0, 2]}', 'body: {predictions: [1, 1]}').replace(/^stage: .*$/m, '').replace(/^name: .*$/m, 'name: edges-fail'));
    const env = actions('fail');
    const run = await cli(['up', '-f', 'failing.yaml'], env);
    expect(run.code).toBe(4);
    expect(await readFile(env.GITHUB_OUTPUT, 'utf8')).toBe('endpoint=edges-fail-default\naction=failed\nerror-code=SmokeTestFailed\n');
    const summary = await readFile(env.GITHUB_STEP_SUMMARY, 'utf8');
    expect(summary).toContain('modeldeploy up: edges-fail-default failed');
    expect(summary).toMatch(/rolled back \| `local:endpoint edges-fail-default`, `local:revision [0-9a-f]{8}`/);
  });

  it('an unwritable $GITHUB_OUTPUT is a warning: a successful up stays exit 0', async () => {
    const run = await cli(['up', '-f', 'deploy.yaml'], { GITHUB_OUTPUT: path.join(gh, 'no-such-dir', 'out') });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('cannot write $GITHUB_OUTPUT');
  });
});

describe('secrets', () => {
  it('a value read through ${VAR} never appears in anything modeldeploy prints or writes', async () => {
    const yaml = await readFile(path.join(work, 'deploy.yaml'), 'utf8');
    await writeFile(
      path.join(work, 'secret.yaml'),
      `${yaml.replace(/^name: .*$/m, 'name: edges-secret')}\nenv:\n  API_TOKEN: \${TOKEN}\ntags:\n  owner: \${TOKEN}\n`,
    );
    const env = { TOKEN: CANARY, GITHUB_ACTIONS: 'true', GITHUB_OUTPUT: path.join(gh, 'secret.out'), GITHUB_STEP_SUMMARY: path.join(gh, 'secret.md') };
    for (const args of [['validate'], ['plan', '--json'], ['up', '--json'], ['status', '--json'], ['invoke', '--file', 'request.json'], ['down', '--json']]) {
      const run = await cli([...args, '-f', 'secret.yaml'], env);
      expect(run.code, `${args[0]}: ${run.stderr}`).toBe(0);
    }
    // A field the schema checks echoes its value in the error: masked there too.
    await writeFile(path.join(work, 'secret-bad.yaml'), 'name: edges-secret\nmodel:\n  path: ./model\n  framework: ${TOKEN}\n');
    const bad = await cli(['validate', '-f', 'secret-bad.yaml', '--json'], env);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toContain('***');

    const written = [];
    for (const dir of [gh, home, path.join(work, '.modeldeploy')]) {
      for (const f of await filesUnder(dir)) written.push(await readFile(path.join(dir, f), 'utf8').catch(() => ''));
    }
    expect(printed.join('\n')).not.toContain(CANARY);
    expect(written.join('\n')).not.toContain(CANARY);
    expect(written.length).toBeGreaterThan(0);
  });

  it('the local serving process holds no cloud credential, only what deploy.yaml gives it', async () => {
    const yaml = await readFile(path.join(work, 'deploy.yaml'), 'utf8');
    await writeFile(path.join(work, 'creds.yaml'), `${yaml.replace(/^name: .*$/m, 'name: edges-creds')}\nenv:\n  GREETING: hello\n`);
    const creds = { AWS_SECRET_ACCESS_KEY: 'aws-secret-canary', AWS_SESSION_TOKEN: 'aws-session-canary', MODELDEPLOY_GCP_ACCESS_TOKEN: 'gcp-token-canary', MODELDEPLOY_AZURE_ACCESS_TOKEN: 'azure-token-canary', GOOGLE_APPLICATION_CREDENTIALS: '/creds.json' };
    const run = await cli(['up', '-f', 'creds.yaml'], creds);
    expect(run.code, run.stderr).toBe(0);
    const revisions = path.join(home, 'deployments', 'edges-creds', 'default', 'revisions');
    const [record] = await readdir(revisions);
    const { pid } = JSON.parse(await readFile(path.join(revisions, record ?? ''), 'utf8')) as { pid: number };
    const environ = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0').filter(Boolean);
    const keys = environ.map((e) => e.slice(0, e.indexOf('=')));
    expect(keys).toContain('GREETING');
    expect(keys).toContain('AIP_HTTP_PORT');
    for (const key of Object.keys(creds)) expect(keys).not.toContain(key);
    expect(environ.join('\n')).not.toMatch(/canary/);
    await cli(['down', '-f', 'creds.yaml', '-q']);
  });

  it('local logs are readable by their owner only, and the endpoint refuses a foreign Host', async () => {
    await cli(['up', '-f', 'deploy.yaml', '-q']);
    const logs = path.join(home, 'deployments', 'iris-onnx', 'default', 'logs');
    const files = await readdir(logs);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(((await stat(path.join(logs, f))).mode & 0o777).toString(8), f).toBe('600');
    const status = JSON.parse((await cli(['status', '-f', 'deploy.yaml', '--json'])).stdout) as { url: string };
    const { request } = await import('node:http');
    const url = new URL(status.url);
    const answer = await new Promise<number>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { host: 'attacker.example:80', 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end('{"instances": [[5.1, 3.5, 1.4, 0.2]]}');
    });
    expect(answer).toBe(421);
  });
});
