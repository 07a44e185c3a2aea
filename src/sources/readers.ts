/**
 * Where post files are read from. A run that publishes reads them as committed in the run's
 * own commit (`GITHUB_SHA`), never from the worktree: the worktree may hold untracked files,
 * edits made by earlier steps, or a fork's checkout (under workflow_run or issue_comment), and
 * none of that was reviewed and merged. A preview (pull requests) publishes nothing and reads
 * the checkout as it is.
 */
import { execFile } from 'node:child_process';
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { InputError, PostFileError } from '../errors.js';

/** Larger files are refused before parsing: a post is a few KB of YAML. */
export const MAX_POST_FILE_BYTES = 256 * 1024;
/** A `files` glob walk stops after this many directory entries. */
export const MAX_WALK_ENTRIES = 50_000;

export interface PostFileGlobs {
  /** Whether a repository-relative path is a post file: matches an include and no `!` exclude. */
  matches(path: string): boolean;
  /** Directories (repository-relative) that hold every possible match: where to walk. */
  roots: string[];
}

export type ReadResult = { text: string } | { error: PostFileError };

export interface PostFileReader {
  /** Every post file the globs match, workspace-relative, sorted. */
  list(globs: PostFileGlobs): Promise<{ files: string[]; truncated: boolean }>;
  read(file: string): Promise<ReadResult>;
}

function decode(file: string, bytes: Buffer): ReadResult {
  if (bytes.length > MAX_POST_FILE_BYTES) {
    return { error: new PostFileError({ file }, `is ${Math.ceil(bytes.length / 1024)} KB; post files are limited to ${MAX_POST_FILE_BYTES / 1024} KB — split the posts into several files`) };
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes) };
  } catch {
    return { error: new PostFileError({ file }, 'is not UTF-8 text; save it as UTF-8') };
  }
}

// ───────────────────────────── the worktree (previews) ─────────────────────────────

const SKIP_DIRS = new Set(['.git', 'node_modules']);

/** Every file under the workspace the globs match, repository-relative, sorted. Symlinked directories are not followed. */
export async function findPostFiles(workspace: string, globs: PostFileGlobs): Promise<{ files: string[]; truncated: boolean }> {
  const found = new Set<string>();
  let visited = 0;
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(join(workspace, dir), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (++visited > MAX_WALK_ENTRIES) return;
      const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name)) await walk(path);
      } else if ((entry.isFile() || entry.isSymbolicLink()) && globs.matches(path)) {
        found.add(path);
      }
    }
  };
  for (const root of globs.roots) await walk(root);
  return { files: [...found].sort(), truncated: visited > MAX_WALK_ENTRIES };
}

/** The checkout as it is: size-capped, UTF-8, inside the workspace. */
export function worktreeReader(workspace: string): PostFileReader {
  return {
    list: (globs) => findPostFiles(workspace, globs),
    async read(file) {
      const absolute = resolve(workspace, file);
      let info;
      try {
        info = await lstat(absolute);
      } catch {
        return { error: new PostFileError({ file }, 'is not in the workspace; check out the commit that holds it (actions/checkout) before this step') };
      }
      if (info.isSymbolicLink()) {
        const [real, root] = await Promise.all([realpath(absolute).catch(() => ''), realpath(workspace)]);
        if (real === '' || !(real === root || real.startsWith(root + sep))) return { error: new PostFileError({ file }, 'is a symlink that leads outside the workspace; post files must be files in the repository') };
        info = await stat(real);
      }
      if (!info.isFile()) return { error: new PostFileError({ file }, 'is not a regular file') };
      if (info.size > MAX_POST_FILE_BYTES) return decode(file, Buffer.alloc(info.size));
      return decode(file, await readFile(absolute));
    },
  };
}

// ───────────────────────────── the run's commit (publishing) ─────────────────────────────

interface TreeEntry {
  mode: string;
  type: string;
  oid: string;
}

function git(workspace: string, args: string[], input?: string): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(
      'git',
      ['-c', 'core.quotepath=off', ...args],
      { cwd: workspace, encoding: 'buffer', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' } },
      (error, stdout, stderr) => done({ code: error ? (typeof error.code === 'number' ? error.code : 127) : 0, stdout, stderr: stderr.toString('utf8') }),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/**
 * The files as committed in `sha`: one `git ls-tree` lists every path with its mode, one
 * `git cat-file --batch` reads every blob asked for (two processes, however many files).
 * Without git or without the commit, nothing can be published from files: an InputError
 * says what to add.
 */
export function commitReader(workspace: string, sha: string): PostFileReader {
  let tree: Promise<Map<string, TreeEntry>> | undefined;
  const short = sha.slice(0, 7) || '(none)';
  const refuse = (why: string) =>
    new InputError(
      'files',
      `Input 'files': post files are published as committed in the run's own commit (${short}), never from the worktree, and git cannot read that commit here (${why}). Check out the repository with actions/checkout (its default ref) before this step`,
      'Post files need the checkout',
    );

  const entries = (): Promise<Map<string, TreeEntry>> => {
    tree ??= (async () => {
      if (!/^[0-9a-f]{7,64}$/i.test(sha)) throw refuse('GITHUB_SHA is not a commit id');
      const listed = await git(workspace, ['ls-tree', '-r', '-z', '--full-name', sha]);
      if (listed.code === 127) throw refuse('git is not installed');
      if (listed.code !== 0) throw refuse(/not a git repository/i.test(listed.stderr) ? 'the workspace is not a git checkout' : /dubious ownership/i.test(listed.stderr) ? "git refuses the workspace (dubious ownership; actions/checkout sets safe.directory)" : `the commit is not in the checkout: ${listed.stderr.trim().split('\n')[0] ?? ''}`);
      const map = new Map<string, TreeEntry>();
      for (const record of listed.stdout.toString('utf8').split('\0')) {
        const tab = record.indexOf('\t');
        if (tab < 0) continue;
        const [mode = '', type = '', oid = ''] = record.slice(0, tab).split(' ');
        map.set(record.slice(tab + 1), { mode, type, oid });
      }
      return map;
    })();
    return tree;
  };

  const blobs = new Map<string, Promise<Buffer | undefined>>();
  const pending: Array<{ oid: string; resolve: (b: Buffer | undefined) => void }> = [];
  let flushing: Promise<void> | undefined;
  /** Reads every blob asked for in this tick with one `git cat-file --batch`. */
  const flush = async (): Promise<void> => {
    await Promise.resolve();
    const batch = pending.splice(0);
    flushing = undefined;
    const out = await git(workspace, ['cat-file', '--batch', '--buffer'], batch.map((b) => `${b.oid}\n`).join(''));
    let at = 0;
    for (const item of batch) {
      const newline = out.stdout.indexOf(0x0a, at);
      const header = out.stdout.subarray(at, newline).toString('utf8').split(' ');
      if (newline < 0 || header[1] !== 'blob') {
        item.resolve(undefined);
        at = newline < 0 ? out.stdout.length : newline + 1;
        continue;
      }
      const size = Number(header[2]);
      item.resolve(out.stdout.subarray(newline + 1, newline + 1 + size));
      at = newline + 1 + size + 1;
    }
  };
  const blob = (oid: string): Promise<Buffer | undefined> => {
    let found = blobs.get(oid);
    if (!found) {
      found = new Promise((resolve) => pending.push({ oid, resolve }));
      blobs.set(oid, found);
      flushing ??= flush();
    }
    return found;
  };

  const prefix = async (): Promise<string> => {
    // Paths are workspace-relative; a checkout into a subfolder makes them longer in the tree.
    const top = await git(workspace, ['rev-parse', '--show-prefix']);
    return top.code === 0 ? top.stdout.toString('utf8').trim() : '';
  };
  let inRepo: Promise<string> | undefined;

  return {
    async list(globs) {
      const [map, pre] = await Promise.all([entries(), (inRepo ??= prefix())]);
      const files = [...map.keys()].filter((p) => p.startsWith(pre)).map((p) => p.slice(pre.length)).filter(globs.matches).sort();
      return { files, truncated: false };
    },
    async read(file) {
      const [map, pre] = await Promise.all([entries(), (inRepo ??= prefix())]);
      const entry = map.get(pre + file);
      if (entry === undefined) return { error: new PostFileError({ file }, `is not in the run's commit ${short}; commit it (post files are published as committed, never from the worktree)`) };
      if (entry.mode === '120000') return { error: new PostFileError({ file }, 'is a symlink; post files must be files in the repository') };
      if (entry.type !== 'blob') return { error: new PostFileError({ file }, 'is not a regular file') };
      const bytes = await blob(entry.oid);
      if (bytes === undefined) return { error: new PostFileError({ file }, `could not be read from commit ${short}`) };
      return decode(file, bytes);
    },
  };
}
