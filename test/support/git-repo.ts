/**
 * Temporary git repositories with real commits, for selection and file-history tests.
 * Commits get deterministic, increasing author/committer dates so history is stable; the
 * user's global and system git config are ignored.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, renameSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** 2026-01-01T00:00:00Z: the first commit's time; each commit is one hour later. */
export const FIRST_COMMIT_TIME = Date.UTC(2026, 0, 1) / 1000;

const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_TERMINAL_PROMPT: '0',
  LC_ALL: 'C',
};

export class TempRepo {
  private clock: number;

  constructor(
    readonly dir: string,
    clock = FIRST_COMMIT_TIME,
  ) {
    this.clock = clock;
  }

  /** Runs git in the repository and returns its trimmed stdout. */
  git(...args: string[]): string {
    return execFileSync('git', args, { cwd: this.dir, env: GIT_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  }

  write(path: string, content: string): this {
    const full = join(this.dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
    return this;
  }

  remove(path: string): this {
    unlinkSync(join(this.dir, path));
    return this;
  }

  move(from: string, to: string): this {
    mkdirSync(dirname(join(this.dir, to)), { recursive: true });
    renameSync(join(this.dir, from), join(this.dir, to));
    return this;
  }

  /** Stages everything and commits; returns the new commit's SHA. */
  commit(message: string): string {
    this.clock += 3600;
    const date = `${this.clock} +0000`;
    this.git('add', '-A');
    execFileSync('git', ['commit', '-q', '--allow-empty', '-m', message], {
      cwd: this.dir,
      env: { ...GIT_ENV, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date },
      stdio: 'ignore',
    });
    return this.head();
  }

  /** Writes files and commits them in one step. */
  commitFiles(message: string, files: Record<string, string>): string {
    for (const [path, content] of Object.entries(files)) this.write(path, content);
    return this.commit(message);
  }

  head(): string {
    return this.git('rev-parse', 'HEAD');
  }

  /** Author time of a commit, epoch ms. */
  timeOf(sha: string): number {
    return Number(this.git('log', '-1', '--format=%at', sha)) * 1000;
  }

  branch(name: string): this {
    this.git('checkout', '-q', '-b', name);
    return this;
  }

  checkout(ref: string): this {
    this.git('checkout', '-q', ref);
    return this;
  }

  /** A `git clone --depth <depth>` of this repository (file:// so the depth is honoured), like actions/checkout's default. */
  shallowClone(depth = 1, branch?: string): TempRepo {
    const dir = mkdtempSync(join(tmpdir(), 'lmpa-shallow-'));
    execFileSync('git', ['clone', '-q', '--depth', String(depth), ...(branch ? ['--branch', branch] : []), `file://${this.dir}`, dir], { env: GIT_ENV, stdio: 'ignore' });
    return new TempRepo(dir, this.clock);
  }

  /** A full clone (has refs/remotes/origin/*), like fetch-depth: 0. */
  fullClone(branch?: string): TempRepo {
    const dir = mkdtempSync(join(tmpdir(), 'lmpa-clone-'));
    execFileSync('git', ['clone', '-q', ...(branch ? ['--branch', branch] : []), `file://${this.dir}`, dir], { env: GIT_ENV, stdio: 'ignore' });
    return new TempRepo(dir, this.clock);
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A new repository on branch `main` with a configured user and no commits. */
export function createRepo(): TempRepo {
  const dir = mkdtempSync(join(tmpdir(), 'lmpa-repo-'));
  execFileSync('git', ['init', '-q', '-b', 'main', dir], { env: GIT_ENV, stdio: 'ignore' });
  const repo = new TempRepo(dir);
  repo.git('config', 'user.name', 'Test Author');
  repo.git('config', 'user.email', 'author@example.com');
  repo.git('config', 'commit.gpgsign', 'false');
  return repo;
}

/** A minimal valid post file. */
export function postYaml(text: string, extra = ''): string {
  return `text: ${JSON.stringify(text)}\ntargets:\n  - platform: bluesky\n    account: bluesky\n${extra}`;
}
