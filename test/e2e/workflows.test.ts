/**
 * The repository's own workflows (.github/workflows) and dependabot settings: they parse,
 * pin third-party actions by commit, ask for the least permissions, and use the action only
 * with inputs it declares. The self-test's `uses: ./` steps run here through the bundle,
 * exactly as the runner runs them.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT, results, runAction } from '../support/action.js';

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
  if?: string;
}
interface Job {
  'runs-on'?: string;
  'timeout-minutes'?: number;
  permissions?: Record<string, string> | string;
  steps?: Step[];
  if?: string;
}
interface Workflow {
  name?: string;
  on?: Record<string, unknown>;
  permissions?: Record<string, string> | string;
  concurrency?: { group?: string; 'cancel-in-progress'?: boolean };
  jobs: Record<string, Job>;
}

const DIR = join(REPO_ROOT, '.github', 'workflows');
const files = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f));
const text = (file: string) => readFileSync(join(DIR, file), 'utf8');
const workflow = (file: string) => parseYaml(text(file)) as Workflow;
const declared = new Set(Object.keys((parseYaml(readFileSync(join(REPO_ROOT, 'action.yml'), 'utf8')) as { inputs: Record<string, unknown> }).inputs));
const steps = (file: string) => Object.values(workflow(file).jobs).flatMap((job) => job.steps ?? []);

/** Scopes that may only be granted to the job that needs them, never to a whole workflow. */
const WRITE = /write/;

describe("the repository's workflows", () => {
  it('are the three an action repository needs', () => {
    expect(files.sort()).toEqual(['ci.yml', 'release.yml', 'self-test.yml']);
  });

  it.each(files)('%s parses, names itself and every job has a runner and a time limit', (file) => {
    const wf = workflow(file);
    expect(wf.name).toBeTruthy();
    expect(wf.on).toBeTruthy();
    for (const [name, job] of Object.entries(wf.jobs)) {
      expect(job['runs-on'], `${file}: job ${name}`).toBe('ubuntu-latest');
      expect(job['timeout-minutes'], `${file}: job ${name}`).toBeGreaterThan(0);
    }
  });

  it.each(files)('%s grants read-only permissions at the top and writes only in the job that needs them', (file) => {
    const wf = workflow(file);
    expect(wf.permissions, `${file} must set top-level permissions`).toBeDefined();
    expect(JSON.stringify(wf.permissions)).not.toMatch(WRITE);
    expect(wf.permissions).not.toBe('write-all');
  });

  it.each(files)('%s pins every third-party action to a full commit SHA, with its version in a comment', (file) => {
    const lines = text(file)
      .split('\n')
      .filter((l) => /^\s*-?\s*uses:/.test(l));
    for (const line of lines) {
      const uses = line.replace(/^\s*-?\s*uses:\s*/, '');
      if (uses.startsWith('./')) continue;
      expect(uses, `${file}: ${line.trim()}`).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$/);
    }
  });

  it.each(files)('%s uses the action only with inputs action.yml declares', (file) => {
    for (const step of steps(file).filter((s) => s.uses === './')) {
      expect(Object.keys(step.with ?? {}).filter((name) => !declared.has(name)), `${file}: ${step.id ?? step.name}`).toEqual([]);
    }
  });

  it('ci runs the README test command through .ci/run on pull requests and pushes, and checks dist/', () => {
    const wf = workflow('ci.yml');
    expect(Object.keys(wf.on!)).toEqual(expect.arrayContaining(['pull_request', 'push']));
    expect(steps('ci.yml').some((s) => s.run?.trim() === '.ci/run')).toBe(true);
    expect(readFileSync(join(REPO_ROOT, '.ci', 'run'), 'utf8')).toMatch(/^npm test$/m);
    expect(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')).toMatch(/^npm test\b/m);
    const dist = steps('ci.yml').map((s) => s.run ?? '').join('\n');
    expect(dist).toMatch(/npm run build/);
    expect(dist).toMatch(/git status --porcelain -- dist\//);
    expect(dist).toMatch(/run 'npm run build' and commit dist\//i);
  });

  it('release runs on a published release, one at a time, moves the major tag and announces with the action itself', () => {
    const wf = workflow('release.yml');
    expect(wf.on).toEqual({ release: { types: ['published'] } });
    expect(wf.concurrency).toMatchObject({ 'cancel-in-progress': false });
    const job = Object.values(wf.jobs)[0]!;
    expect(job.permissions).toEqual({ contents: 'write', statuses: 'write' });
    const all = job.steps ?? [];
    expect(all.some((s) => /git push --force origin "refs\/tags\/\$major"/.test(s.run ?? ''))).toBe(true);
    const announce = all.find((s) => s.uses === './');
    expect(announce?.with).toMatchObject({ 'dry-run': "${{ secrets.LETMEPOST_TOKEN == '' }}" });
    expect(String(announce?.with?.text)).toMatch(/\{\{ release\.tag_name \}\}/);
  });

  it('the major tag rule accepts vX.Y.Z only', () => {
    const script = (steps('release.yml').find((s) => /major=/.test(s.run ?? ''))?.run ?? '').split('\n')[0]!;
    const accepts = (tag: string) => {
      try {
        execFileSync('bash', ['-c', `${script} exit 1; fi; echo ok`], { env: { TAG: tag }, encoding: 'utf8', stdio: 'pipe' });
        return true;
      } catch {
        return false;
      }
    };
    expect(['v1.2.3', 'v10.0.0'].map(accepts)).toEqual([true, true]);
    expect(['1.2.3', 'v1.2', 'v1.2.3-rc.1', 'v1.2.3\nv2'].map(accepts)).toEqual([false, false, false, false]);
  });

  it('dependabot updates npm (grouped) and the workflow actions', () => {
    const config = parseYaml(readFileSync(join(REPO_ROOT, '.github', 'dependabot.yml'), 'utf8')) as { updates: Array<{ 'package-ecosystem': string; groups?: unknown }> };
    expect(config.updates.map((u) => u['package-ecosystem']).sort()).toEqual(['github-actions', 'npm']);
    expect(config.updates.every((u) => u.groups !== undefined)).toBe(true);
  });
});

describe('the self-test, run as the runner runs it', () => {
  const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  const selfTest = workflow('self-test.yml');
  const cases = Object.entries(selfTest.jobs).flatMap(([job, j]) => (j.steps ?? []).filter((s) => s.uses === './').map((s) => [`${job}/${s.id}`, s] as const));
  const repository = { full_name: 'letmepost/letmepost-action', name: 'letmepost-action', owner: { login: 'letmepost' } };

  /** The event a step runs on, as its `if:` says. */
  function eventFor(step: Step) {
    if (step.if === "github.event_name == 'pull_request'") {
      return { name: 'pull_request', payload: { number: 7, pull_request: { number: 7, title: 'A change', html_url: 'https://github.com/letmepost/letmepost-action/pull/7', user: { login: 'octocat' }, head: { sha: head, ref: 'change', repo: { full_name: repository.full_name } }, base: { sha: head, ref: 'main', repo: { full_name: repository.full_name } } }, repository } };
    }
    expect([undefined, "github.event_name != 'pull_request'"]).toContain(step.if);
    return { name: 'workflow_dispatch', payload: { repository } };
  }

  it('has an inline post, and the example post files in a dry run and in a pull request preview', () => {
    expect(cases.map(([name]) => name)).toEqual(['inline/post', 'post-files/posts', 'post-files/preview']);
  });

  it.each(cases)('%s validates on this commit', async (name, step) => {
    const inputs = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, String(v)]));
    expect(Object.values(inputs).join('\n'), 'no expression the test would have to guess').not.toMatch(/\$\{\{/);
    const result = await runAction({
      workspace: REPO_ROOT,
      inputs: { 'github-token': '', ...inputs },
      event: eventFor(step),
      env: { GITHUB_SHA: head, GITHUB_REPOSITORY: repository.full_name, GITHUB_JOB: name.split('/')[0]!, GITHUB_ACTION: step.id ?? '' },
    });
    expect(result.code, result.stdout).toBe(0);
    expect(result.annotations.filter((a) => a.level === 'error')).toEqual([]);
    const entries = results(result);
    expect(entries.length).toBeGreaterThan(0);
    // What the workflow's next step checks.
    expect(entries.every((r) => r.status === 'validated')).toBe(true);
  });
});

describe('npm run example', () => {
  it('prints the log, the request, the outputs and the summary as a person reads them: no runner protocol', () => {
    const printed = execFileSync(process.execPath, [join(REPO_ROOT, 'examples', 'run-locally.mjs')], { cwd: REPO_ROOT, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' } });
    expect(printed).toMatch(/--- the action's log ---/);
    expect(printed).toMatch(/the request that would be sent \(nothing is sent\)/);
    expect(printed).toMatch(/^status: validated$/m);
    expect(printed).toMatch(/^idempotency-key: lmpa-/m);
    expect(printed).toMatch(/--- job summary/);
    expect(printed).not.toMatch(/ghadelimiter_|^::|##\[/m);
    // Empty outputs are left out.
    expect(printed).not.toMatch(/^uri: $/m);
  });
});

describe('the Marketplace listing', () => {
  it("action.yml's name and description fit the Marketplace (description under 125 characters), with branding", () => {
    const action = parseYaml(readFileSync(join(REPO_ROOT, 'action.yml'), 'utf8')) as { name: string; description: string; branding?: { icon?: string; color?: string } };
    expect(action.name.length).toBeGreaterThan(0);
    expect(action.description.length).toBeLessThan(125);
    expect(action.branding?.icon).toBeTruthy();
    expect(action.branding?.color).toBeTruthy();
  });

  it('the repository has what an action repository needs', () => {
    for (const file of ['LICENSE', 'CHANGELOG.md', '.github/SECURITY.md', '.github/CONTRIBUTING.md', '.github/ARCHITECTURE.md']) {
      expect(readFileSync(join(REPO_ROOT, file), 'utf8').length, file).toBeGreaterThan(500);
    }
    expect(readFileSync(join(REPO_ROOT, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0, January 2004/);
    expect(JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).license).toBe('Apache-2.0');
    expect(readFileSync(join(REPO_ROOT, 'CHANGELOG.md'), 'utf8')).toMatch(/^## \[Unreleased\]$/m);
  });
});

