/**
 * Which post files a run handles (ARCHITECTURE.md, What is published when), and the commit that added a post file.
 *
 * - `push`, select `added`: the post files ADDED in the pushed range; the EDITED ones (which
 *   never re-post: they retract or reschedule) and the DELETED ones (which cancel), apart.
 *   Computed as GitHub does (`before...after`, from their merge base, so a force push
 *   compares with the common ancestor), by local git when both commits are in the checkout,
 *   else by the GitHub compare API (shallow checkouts).
 *   A new branch (`before` = 0000…) is compared with the repository's default branch: the
 *   post files its commits add relative to the merge base. The first push of the default
 *   branch itself has nothing to compare with and selects nothing (it never mass-posts an
 *   existing folder of posts; use `select: all` once for that). A deleted branch selects nothing.
 * - `pull_request` / `pull_request_target`: the post files the PR adds or edits, in preview
 *   mode (validated and rendered, never published). Any event with select `all`: every
 *   matching file (preview for pull requests); any other with `added`: an InputError.
 *
 * Renames: git (and GitHub) pair a deleted file with an added one when their contents are
 * ≥ 50 % alike — and post files are short and alike, so "delete last week's post, add this
 * week's" pairs up too. A pair whose content is identical is a move and never posts. Any
 * other pair is read: it is a rename only if every post in the new file was already in the
 * old one (same `id`, else same text); otherwise it is a new post and is published (so moving
 * and editing a file in one push publishes it, unless it has an `id`). A copy counts as added.
 */
import { isObject, str } from '../io/json.js';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { RunContext } from '../context.js';
import { InputError } from '../errors.js';
import type { ChangedFile, ChangeStatus, CommitRef, GitHubApi } from '../io/github-api.js';
import { postFingerprints } from './parse-file.js';

export type RunMode = 'publish' | 'preview';

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs git in the workspace; never throws for a non-zero exit. */
export interface Git {
  run(args: string[]): Promise<GitResult>;
}

/** The real git, run in `cwd` without prompts or pagers. A missing git binary is exit code 127. */
export function localGit(cwd: string): Git {
  return {
    run: (args) =>
      new Promise((done) => {
        execFile(
          'git',
          ['-c', 'core.quotepath=off', ...args],
          { cwd, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_PAGER: 'cat', LC_ALL: 'C' } },
          (error, stdout, stderr) => {
            const code = error ? (typeof error.code === 'number' ? error.code : 127) : 0;
            done({ code, stdout, stderr });
          },
        );
      }),
  };
}

export interface Selection {
  mode: RunMode;
  /** 'all': every file the globs match; else the repository-relative post files this run handles. */
  paths: 'all' | string[];
  /** How the files were chosen, for the log. */
  notes: string[];
  /** Post files a push edited: published already, so only a `retract` in them acts (files.ts). */
  edited?: string[];
  /** Post files a push deleted, as they were before it (text undefined: unreadable): their queued posts are cancelled. */
  removed?: Array<{ path: string; text: string | undefined }>;
}

export interface SelectDeps {
  git: Git;
  /** Created on first use, so runs that need no API need no token. */
  api: () => GitHubApi;
  /** Whether a repository-relative path is a post file (matches the `files` globs). */
  isPostFile: (path: string) => boolean;
}

const ZERO_SHA = /^0+$/;
/** Events about a pull request: its post files are previewed, never published (they may come from a fork). */
export const PR_EVENTS: ReadonlySet<string> = new Set(['pull_request', 'pull_request_target', 'pull_request_review', 'pull_request_review_comment']);

function record(value: unknown): Record<string, unknown> {
  return isObject(value) ? value : {};
}

function short(sha: string): string {
  return /^[0-9a-f]{40}$/i.test(sha) ? sha.slice(0, 7) : sha;
}

function list(paths: string[], max = 5): string {
  return paths.length <= max ? paths.join(', ') : `${paths.slice(0, max).join(', ')} and ${paths.length - max} more`;
}

// ───────────────────────────── local git ─────────────────────────────

async function hasCommit(git: Git, rev: string): Promise<boolean> {
  return (await git.run(['cat-file', '-e', `${rev}^{commit}`])).code === 0;
}

/** The merge base of base and head in local git, or why local git cannot diff base...head. */
async function localMergeBase(git: Git, base: string, head: string): Promise<{ mergeBase: string } | { why: string }> {
  for (const rev of [base, head]) {
    const check = await git.run(['cat-file', '-e', `${rev}^{commit}`]);
    if (check.code !== 0) {
      if (/dubious ownership/i.test(check.stderr)) return { why: 'git refuses the workspace (dubious ownership; actions/checkout sets safe.directory)' };
      if (check.code === 127) return { why: 'git is not available' };
      return { why: `commit ${short(rev)} is not in the local checkout (a shallow clone?)` };
    }
  }
  const mb = await git.run(['merge-base', base, head]);
  if (mb.code !== 0 || mb.stdout.trim() === '') return { why: `the local history does not reach the common ancestor of ${short(base)} and ${short(head)} (a shallow clone?)` };
  return { mergeBase: mb.stdout.trim() };
}

const GIT_STATUS: Readonly<Record<string, ChangeStatus>> = { A: 'added', D: 'removed', M: 'modified', R: 'renamed', C: 'copied', T: 'changed', U: 'changed' };

/** Parses `git diff --name-status -z` output. */
export function parseNameStatus(output: string): ChangedFile[] {
  const fields = output.split('\0');
  const files: ChangedFile[] = [];
  for (let i = 0; i < fields.length; ) {
    const code = fields[i++];
    if (!code) continue;
    const status = GIT_STATUS[code[0]!] ?? 'changed';
    if (status === 'renamed' || status === 'copied') {
      const previousPath = fields[i++] ?? '';
      const path = fields[i++] ?? '';
      files.push({ path, status, previousPath, ...(status === 'renamed' ? { identical: code === 'R100' } : {}) });
    } else {
      files.push({ path: fields[i++] ?? '', status });
    }
  }
  return files.filter((f) => f.path !== '');
}

async function localDiff(git: Git, base: string, head: string): Promise<ChangedFile[]> {
  const result = await git.run(['diff', '--name-status', '-z', '-M', '--no-ext-diff', '--no-textconv', `${base}...${head}`, '--']);
  if (result.code !== 0) throw new Error(`git diff ${short(base)}...${short(head)} failed: ${result.stderr.trim()}`);
  return parseNameStatus(result.stdout);
}

interface Comparison {
  files: ChangedFile[];
  /** Reads a file as it was at the merge base (undefined: absent or unknown). */
  readBase(path: string): Promise<string | undefined>;
}

/** Changed files of base...head: local git when it can, else the compare API. */
async function changedFiles(deps: SelectDeps, base: string, head: string, notes: string[], apiBase = base): Promise<Comparison> {
  const local = await localMergeBase(deps.git, base, head);
  if ('mergeBase' in local) {
    notes.push(`Compared ${short(base)}...${short(head)} with local git.`);
    const files = await localDiff(deps.git, base, head);
    return {
      files,
      readBase: async (path) => {
        const shown = await deps.git.run(['show', `${local.mergeBase}:${path}`]);
        return shown.code === 0 ? shown.stdout : undefined;
      },
    };
  }
  notes.push(`Compared ${short(apiBase)}...${short(head)} with the GitHub API: ${local.why}; 'fetch-depth: 0' on actions/checkout lets local git answer instead.`);
  const api = deps.api();
  const { files, truncated, mergeBase } = await api.compareFiles(apiBase, head);
  if (truncated) notes.push("The comparison lists 300 files or more, GitHub's cap: some added post files may be missing; push post files in smaller batches or check out with fetch-depth: 0.");
  return { files, readBase: async (path) => (mergeBase === undefined ? undefined : api.fileText(path, mergeBase)) };
}

/**
 * Decides whether an inexact rename is really the same post moved: every post of the new
 * file was in the old one. Unknown (unreadable) counts as a rename: never double-post.
 */
async function isSamePostMoved(file: ChangedFile, comparison: Comparison, workspace: string): Promise<boolean> {
  if (file.identical || file.previousPath === undefined) return true;
  const [before, after] = await Promise.all([comparison.readBase(file.previousPath).catch(() => undefined), readFile(resolve(workspace, file.path), 'utf8').catch(() => undefined)]);
  if (before === undefined || after === undefined) return true;
  const old = postFingerprints(before);
  const now = postFingerprints(after);
  if (old === undefined || now === undefined) return true;
  return [...now].every((p) => old.has(p));
}

// ───────────────────────────── selection ─────────────────────────────

function describeSkipped(files: ChangedFile[], isPostFile: (p: string) => boolean): string[] {
  const renamed = files.filter((f) => f.status === 'renamed' && isPostFile(f.path)).map((f) => `${f.path} (from ${f.previousPath})`);
  const edited = files.filter((f) => EDITED.has(f.status) && isPostFile(f.path)).map((f) => f.path);
  const notes: string[] = [];
  if (renamed.length > 0) notes.push(`Not re-posted: ${renamed.length} renamed post file${renamed.length > 1 ? 's' : ''}: ${list(renamed)}.`);
  if (edited.length > 0) notes.push(`Not re-posted: ${edited.length} edited post file${edited.length > 1 ? 's' : ''}: ${list(edited)} (edits never re-post; they may retract or reschedule).`);
  return notes;
}

/** A copy is a new post made from an old one: it is added. */
const ADDED: ReadonlySet<ChangeStatus> = new Set(['added', 'copied']);
const EDITED: ReadonlySet<ChangeStatus> = new Set(['modified', 'changed']);

async function selectPush(ctx: RunContext, deps: SelectDeps): Promise<Selection> {
  const notes: string[] = [];
  const payload = ctx.payload;
  const after = str(payload.after) ?? ctx.sha;
  const before = str(payload.before);
  if (payload.deleted === true || ZERO_SHA.test(after)) {
    return { mode: 'publish', paths: [], notes: [`${ctx.ref} was deleted: no post files to publish.`] };
  }
  let comparison: Comparison;
  if (before === undefined || ZERO_SHA.test(before)) {
    const defaultBranch = str(record(payload.repository).default_branch);
    if (defaultBranch === undefined || ctx.ref === `refs/heads/${defaultBranch}`) {
      notes.push(
        `${ctx.ref || 'This ref'} was pushed for the first time, so there is no earlier commit to find added post files against: nothing is published. To publish the post files already in the repository, run once with 'select: all' (e.g. from workflow_dispatch).`,
      );
      return { mode: 'publish', paths: [], notes };
    }
    // A new branch: what its commits add relative to where it left the default branch.
    let localBase: string | undefined;
    for (const ref of [`refs/remotes/origin/${defaultBranch}`, `refs/heads/${defaultBranch}`]) {
      if (await hasCommit(deps.git, ref)) {
        localBase = ref;
        break;
      }
    }
    notes.push(`${ctx.ref} is a new branch: selecting the post files it adds relative to the default branch '${defaultBranch}'.`);
    comparison = await changedFiles(deps, localBase ?? defaultBranch, after, notes, defaultBranch);
  } else {
    if (payload.forced === true) notes.push(`Forced push: comparing with the common ancestor of ${short(before)} and ${short(after)}.`);
    comparison = await changedFiles(deps, before, after, notes);
  }
  // A "rename" whose posts are new is a new post that git paired with a deleted one.
  const files: ChangedFile[] = [];
  for (const f of comparison.files) {
    if (f.status === 'renamed' && deps.isPostFile(f.path) && !(await isSamePostMoved(f, comparison, ctx.workspace))) {
      notes.push(`${f.path} looks like a rename of the deleted ${f.previousPath} to git, but its posts are new: it is published as an added file.`);
      files.push({ path: f.path, status: 'added' });
    } else {
      files.push(f);
    }
  }
  const added = files.filter((f) => ADDED.has(f.status) && deps.isPostFile(f.path)).map((f) => f.path);
  notes.push(added.length > 0 ? `Added in this push: ${added.length} post file${added.length > 1 ? 's' : ''}: ${list(added)}.` : 'No post files were added in this push.');
  notes.push(...describeSkipped(files, deps.isPostFile));
  const edited = files.filter((f) => EDITED.has(f.status) && deps.isPostFile(f.path)).map((f) => f.path);
  const removed = await Promise.all(files.filter((f) => f.status === 'removed' && deps.isPostFile(f.path)).map(async (f) => ({ path: f.path, text: await comparison.readBase(f.path).catch(() => undefined) })));
  return { mode: 'publish', paths: added, notes, edited, removed };
}

async function selectPullRequest(ctx: RunContext, deps: SelectDeps): Promise<Selection> {
  const notes: string[] = ['Pull request: post files are validated and previewed, never published.'];
  const pr = record(ctx.payload.pull_request);
  const number = typeof pr.number === 'number' ? pr.number : typeof ctx.payload.number === 'number' ? ctx.payload.number : undefined;
  const base = str(record(pr.base).sha);
  const head = str(record(pr.head).sha);
  let files: ChangedFile[];
  const local = base !== undefined && head !== undefined ? await localMergeBase(deps.git, base, head) : { why: 'the event has no base and head commits' };
  if ('mergeBase' in local) {
    notes.push(`Compared ${short(base!)}...${short(head!)} with local git.`);
    files = await localDiff(deps.git, base!, head!);
  } else {
    if (number === undefined) throw new InputError('select', `The ${ctx.eventName} event has no pull request number, so its changed post files cannot be listed; set 'select: all' to preview every post file`);
    notes.push(`Listed the files of pull request #${number} with the GitHub API: ${local.why}.`);
    files = await deps.api().pullRequestFiles(number);
  }
  const changed = files.filter((f) => f.status !== 'removed' && f.status !== 'unchanged' && deps.isPostFile(f.path));
  notes.push(changed.length > 0 ? `Changed in this pull request: ${changed.length} post file${changed.length > 1 ? 's' : ''}: ${list(changed.map((f) => f.path))}.` : 'This pull request changes no post files.');
  // An edited file changes what is queued, or nothing: files.ts previews it as an edit.
  return { mode: 'preview', paths: changed.map((f) => f.path), edited: changed.filter((f) => EDITED.has(f.status)).map((f) => f.path), notes };
}

/** Decides which post files this run handles, and whether it publishes or previews. */
export async function selectPostFiles(ctx: RunContext, select: 'added' | 'all', deps: SelectDeps): Promise<Selection> {
  const isPr = PR_EVENTS.has(ctx.eventName);
  if (select === 'all') {
    return { mode: isPr ? 'preview' : 'publish', paths: 'all', notes: [`select: all: every post file matching 'files'${isPr ? ' is previewed (pull request)' : ''}.`] };
  }
  if (isPr) return selectPullRequest(ctx, deps);
  if (ctx.eventName === 'push') return selectPush(ctx, deps);
  const event = ctx.eventName || 'this';
  throw new InputError(
    'select',
    `Input 'select' is 'added', but a ${event} event has no pushed commits to find added post files in; set 'select: all' to publish every post file matching 'files' (a schedule run publishes the due ones; re-runs never double-post), or give 'text' to post inline`,
  );
}

// ───────────────────────────── file history ─────────────────────────────

/** When a post file entered the repository: anchors Bluesky record keys and the ledger. */
export interface FileHistory {
  /**
   * The oldest commit reachable from the run's commit that added `path` (repository-relative),
   * or undefined when it is not committed. The same answer from local git and from the API.
   */
  addedCommit(path: string): Promise<CommitRef | undefined>;
  /** The same for many paths, with one `git log` for all of them when the history is local. */
  addedCommits(paths: readonly string[]): Promise<Map<string, CommitRef | undefined>>;
  /** Asks local git about these paths ahead of time (never the API): later answers for them come from the cache. */
  prefetch(paths: readonly string[]): Promise<void>;
}

async function shallowCommits(git: Git, workspace: string): Promise<Set<string>> {
  const shallow = await git.run(['rev-parse', '--is-shallow-repository']);
  if (shallow.code !== 0 || shallow.stdout.trim() !== 'true') return new Set();
  const file = (await git.run(['rev-parse', '--git-path', 'shallow'])).stdout.trim();
  try {
    const text = await readFile(isAbsolute(file) ? file : resolve(workspace, file), 'utf8');
    return new Set(text.split('\n').map((l) => l.trim()).filter(Boolean));
  } catch {
    return new Set();
  }
}

export function fileHistory(ctx: RunContext, deps: Pick<SelectDeps, 'git' | 'api'>): FileHistory {
  const ref = ctx.sha || str(ctx.payload.after) || 'HEAD';
  const cache = new Map<string, Promise<CommitRef | undefined>>();
  let local: Promise<{ usable: boolean; shallow: Set<string> }> | undefined;
  const localState = () =>
    (local ??= (async () => {
      // Both at once: the shallow boundary is only used when the commit is there.
      const [usable, shallow] = await Promise.all([hasCommit(deps.git, ref), shallowCommits(deps.git, ctx.workspace)]);
      return { usable, shallow: usable ? shallow : new Set<string>() };
    })());

  const find = async (path: string): Promise<CommitRef | undefined> => {
    const state = await localState();
    if (state.usable) {
      const log = await deps.git.run(['log', '--diff-filter=A', '--no-renames', '--format=%H%x09%at', ref, '--', path]);
      const lines = log.stdout.trim().split('\n').filter(Boolean);
      const oldest = lines[lines.length - 1];
      if (log.code === 0 && oldest !== undefined) {
        const [sha, seconds] = oldest.split('\t');
        // A shallow clone's boundary commit shows every file as added: only the API knows.
        if (sha && !state.shallow.has(sha)) return { sha, time: Number(seconds) * 1000 };
      } else if (log.code === 0 && state.shallow.size === 0) {
        return undefined; // full history and never committed
      }
    }
    return deps.api().firstCommitForPath(path, ref);
  };
  const addedCommit = (path: string): Promise<CommitRef | undefined> => {
    let hit = cache.get(path);
    if (!hit) {
      hit = find(path);
      cache.set(path, hit);
    }
    return hit;
  };

  /** One `git log` over all the paths (a queue of 1,000 files must not start 1,000 processes). */
  const batch = async (paths: readonly string[]): Promise<void> => {
    const state = await localState();
    const pending = paths.filter((p) => !cache.has(p));
    if (!state.usable || pending.length === 0) return;
    const log = await deps.git.run(['-c', 'core.quotePath=false', 'log', '--diff-filter=A', '--no-renames', '--format=%x01%H%x09%at', '--name-only', ref, '--', ...pending]);
    if (log.code !== 0) return;
    // Newest first: the last commit seen for a path is the one that first added it.
    const oldest = new Map<string, CommitRef>();
    let commit: CommitRef | undefined;
    for (const line of log.stdout.split('\n')) {
      if (line.startsWith('\x01')) {
        const [sha, seconds] = line.slice(1).split('\t');
        commit = sha ? { sha, time: Number(seconds) * 1000 } : undefined;
      } else if (line.trim() && commit) oldest.set(line.trim(), commit);
    }
    for (const [path, ref_] of oldest) {
      // A shallow clone's boundary commit shows every file as added: those go the slow way.
      if (!state.shallow.has(ref_.sha)) cache.set(path, Promise.resolve(ref_));
    }
  };

  return {
    addedCommit,
    prefetch: batch,
    async addedCommits(paths) {
      await batch(paths);
      const out = new Map<string, CommitRef | undefined>();
      for (const path of paths) out.set(path, await addedCommit(path));
      return out;
    },
  };
}
