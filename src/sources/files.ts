/**
 * Content as code: post files in the repository (.github/ARCHITECTURE.md). One call, `loadPostFiles`,
 * decides which files this run handles (select.ts), reads them (size-capped, UTF-8, inside
 * the workspace), parses every YAML document with positions, validates each against the one
 * post model (`postSchema`), renders `{{ … }}` templates, and returns every valid post with
 * a `PostSource` that points problems at file:line:column. Every file is checked and every
 * error is returned together, so one run lists everything to fix.
 */
import { loadYaml } from '../io/yaml.js';
import type { RunContext } from '../context.js';
import { errorMessage, InputError, PostFileError, quote, type FilePosition } from '../errors.js';
import { GitHubApiError, GitHubRestClient, type CommitRef, type GitHubApi } from '../io/github-api.js';
import { compileGlobs } from './globs.js';
import { asksToRetract, parsePostFile, type FilePost, type ParseOptions } from './parse-file.js';
import { commitReader, MAX_WALK_ENTRIES, worktreeReader, type PostFileReader } from './readers.js';
import { fileHistory, localGit, PR_EVENTS, selectPostFiles, type FileHistory, type Git, type RunMode } from './select.js';
import { templateVariables, type TemplateVariables } from './templates.js';

export { MAX_ALIAS_COUNT, parsePostFile, postIdentity, type FilePost, type ParsedFile, type ParseOptions } from './parse-file.js';
export { compileGlobs, expandBraces, globToRegExp } from './globs.js';


export interface FilePlanInput {
  ctx: RunContext;
  settings: { files: string[]; select: 'added' | 'all'; githubToken?: string };
  /** The GitHub API port; default: a REST client on ctx.apiUrl with settings.githubToken. */
  api?: GitHubApi;
  /** Git in the workspace; default: the real git binary. */
  git?: Git;
  /** Epoch ms: the step's deadline, shared by every GitHub API request. */
  deadline?: number;
  /** Where the files are read; default: the run's commit when publishing, the checkout for previews. */
  reader?: PostFileReader;
}

export interface LoadedPosts {
  /** publish, or preview (pull requests: validate and render, never publish). */
  mode: RunMode;
  /** The post files this run handled, repository-relative. */
  files: string[];
  /** Every valid post, in file then document order. */
  posts: FilePost[];
  /** Every problem: PostFileErrors at file:line:column, InputErrors for `files` / `select` / `github-token`. */
  errors: Array<PostFileError | InputError>;
  /** How the files were chosen, for the log (core.info). */
  notes: string[];
  /** Worth a core.warning: a commit that added a file could not be found, a truncated walk or comparison. */
  warnings: string[];
}

/**
 * Access problems name `github-token` (the fix is a token or a permission); a 422 means the
 * pushed range cannot be compared. Server and transport failures are thrown as they are: a
 * re-run is the fix.
 */
function apiFailure(error: unknown): InputError {
  if (error instanceof GitHubApiError && [401, 403, 404, 429].includes(error.status)) return new InputError('github-token', error.message);
  if (error instanceof GitHubApiError && error.status === 422) return new InputError('select', `${error.message}; to publish the post files anyway, run once with 'select: all'`);
  throw error;
}

/**
 * The edited post files, read: those that ask to be retracted are handled like added ones
 * (validated, every problem an error); the others only edit what is still queued, so a
 * problem in one is a warning that leaves it alone, as edits always were.
 */
async function editedFiles(edited: readonly string[], reader: PostFileReader, isPostFile: (path: string) => boolean): Promise<{ retracting: string[]; texts: Map<string, string> }> {
  const retracting: string[] = [];
  const texts = new Map<string, string>();
  for (const file of edited.filter(isPostFile)) {
    const read = await reader.read(file);
    if (!('text' in read)) continue;
    if (asksToRetract(read.text)) retracting.push(file);
    else texts.set(file, read.text);
  }
  return { retracting, texts };
}

/**
 * The posts of edited post files, as edits (applied to what is still queued). Publishing, a
 * problem is a warning that leaves the file alone; a preview reports it like any other.
 */
function editedPosts(texts: ReadonlyMap<string, string>, opts: ParseOptions, warnings: string[], errors: Array<PostFileError | InputError>): FilePost[] {
  const posts: FilePost[] = [];
  for (const [file, text] of texts) {
    const parsed = parsePostFile(file, text, opts);
    if (parsed.errors.length > 0 && opts.preview) errors.push(...parsed.errors);
    else if (parsed.errors.length > 0) {
      warnings.push(`${file} was edited, but ${parsed.errors[0]!.location}: ${parsed.errors[0]!.message}; the edit is not applied to anything it queued (edits never re-post)`);
      continue;
    }
    for (const p of parsed.posts) posts.push({ ...p, source: { ...p.source, operation: { kind: 'edit' } } });
  }
  return posts;
}

/**
 * The posts of post files a push deleted, read as they were before it: their queued targets
 * are cancelled. A file that no longer parses cannot say what it queued; the log says so.
 */
function cancelledPosts(removed: ReadonlyArray<{ path: string; text: string | undefined }>, isPostFile: (path: string) => boolean, opts: ParseOptions, notes: string[]): FilePost[] {
  const posts: FilePost[] = [];
  for (const { path, text } of removed.filter((r) => isPostFile(r.path))) {
    const parsed = text === undefined ? undefined : parsePostFile(path, text, opts);
    if (parsed === undefined || parsed.errors.length > 0) {
      notes.push(`Deleted: ${path}, which could not be read as it was before this push, so nothing it queued is cancelled; cancel it by hand if it was queued.`);
      continue;
    }
    for (const p of parsed.posts) posts.push({ ...p, source: { ...p.source, operation: { kind: 'cancel' } } });
    notes.push(`Deleted: ${path}: its queued posts are cancelled.`);
  }
  return posts;
}

/** Which post files this run handles, read, validated and rendered: the one call for file posts. */
export async function loadPostFiles(input: FilePlanInput): Promise<LoadedPosts> {
  await loadYaml();
  const { ctx, settings } = input;
  const out: LoadedPosts = { mode: PR_EVENTS.has(ctx.eventName) ? 'preview' : 'publish', files: [], posts: [], errors: [], notes: [], warnings: [] };
  const { globs, errors: globErrors } = compileGlobs(settings.files);
  if (globErrors.length > 0) {
    out.errors.push(...globErrors);
    return out;
  }
  const git = input.git ?? localGit(ctx.workspace);
  let client: GitHubApi | undefined = input.api;
  const api = () => (client ??= new GitHubRestClient({ apiUrl: ctx.apiUrl, repository: ctx.repository, ...(input.deadline !== undefined ? { deadline: input.deadline } : {}), ...(settings.githubToken ? { token: settings.githubToken } : {}) }));

  let selection;
  try {
    selection = await selectPostFiles(ctx, settings.select, { git, api, isPostFile: globs.matches });
  } catch (error) {
    out.errors.push(error instanceof InputError ? error : apiFailure(error));
    return out;
  }
  out.mode = selection.mode;
  out.notes.push(...selection.notes);

  const reader = input.reader ?? (selection.mode === 'publish' ? commitReader(ctx.workspace, ctx.sha) : worktreeReader(ctx.workspace));
  let walked: { files: string[]; truncated: boolean };
  try {
    walked = await reader.list(globs);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    out.errors.push(error);
    return out;
  }
  if (walked.truncated) out.warnings.push(`The 'files' patterns walk more than ${MAX_WALK_ENTRIES} entries; narrow them (e.g. posts/**/*.yml).`);
  out.files = selection.paths === 'all' ? walked.files : [...new Set(selection.paths)].sort();
  // An edited post file was published already: it acts only when it asks to be retracted.
  // A pull request previews its edited files with the others (in `paths`); a push reads them apart.
  const editedSet = new Set(selection.edited ?? []);
  const { retracting, texts: edits } = await editedFiles((selection.edited ?? []).filter((f) => !out.files.includes(f)), reader, globs.matches);
  if (retracting.length > 0) {
    out.notes.push(`Edited to be retracted: ${retracting.join(', ')}.`);
    out.files = [...new Set([...out.files, ...retracting])].sort();
  }
  if (selection.paths === 'all' && out.files.length === 0) out.notes.push(`No file matches 'files' (${settings.files.join(', ')}).`);

  // A publish checks the checked-out commit and asks git when each file was added. Neither
  // depends on the files' content, so git answers while they are read and parsed (serially
  // after parsing, a queue of 1,000 files waited ~0.3 s for these four git processes). They
  // start once the blob reads queued just below have started their one git process.
  const early = selection.mode === 'publish' && out.files.length > 0 ? { started: new Promise<void>((go) => setImmediate(go)), history: fileHistory(ctx, { git, api }) } : undefined;
  const earlyHead = early?.started.then(() => git.run(['rev-parse', 'HEAD']));
  const prefetched = early?.started.then(() => early.history.prefetch(out.files));
  // Awaited below; until then a failure must not count as unhandled.
  earlyHead?.catch(() => undefined);
  prefetched?.catch(() => undefined);

  const vars = templateVariables(ctx);
  const parseOptions: ParseOptions = { workspace: ctx.workspace, vars, preview: selection.mode === 'preview' };
  const parsedFiles = await Promise.all(
    out.files.map(async (file) => {
      const read = await reader.read(file);
      if ('error' in read && ctx.eventName === 'pull_request_target' && /is not in the workspace/.test(read.error.message)) {
        const hint = "is not in the workspace: pull_request_target checks out the base branch; to preview the PR's post files, check out its head (actions/checkout with ref: ${{ github.event.pull_request.head.sha }}) — post files are only read, never run";
        return { posts: [], errors: [new PostFileError({ file }, hint)], ids: [] };
      }
      return 'error' in read ? { posts: [], errors: [read.error], ids: [] } : parsePostFile(file, read.text, parseOptions);
    }),
  );

  // Ids decide keys: a copied file that kept its id would be taken for a replay of the original.
  const where = (p: FilePosition) => `${p.file}${p.line !== undefined ? `:${p.line}` : ''}`;
  const duplicate = (id: string, at: FilePosition, other: FilePosition) =>
    new PostFileError(at, `'id' is ${quote(id)}, which ${where(other)} already uses; every post needs its own id (it decides the idempotency key, so a copy would be taken for the original and never posted)`);
  const owner = new Map<string, FilePosition>();
  const idErrors: PostFileError[] = [];
  for (const parsed of parsedFiles) {
    for (const { id, position } of parsed.ids) {
      const first = owner.get(id);
      if (first === undefined) owner.set(id, position);
      else idErrors.push(duplicate(id, position, first));
    }
  }
  if (selection.paths !== 'all' && owner.size > 0) {
    // Files this run does not handle still own their ids.
    const handled = new Set(out.files);
    const noVars: TemplateVariables = { eventName: vars.eventName, values: {}, roots: {} };
    for (const other of walked.files.filter((f) => !handled.has(f))) {
      const read = await reader.read(other);
      if ('error' in read) continue;
      for (const { id, position } of parsePostFile(other, read.text, { ...parseOptions, vars: noVars }).ids) {
        const mine = owner.get(id);
        if (mine !== undefined) idErrors.push(duplicate(id, mine, position));
      }
    }
  }
  const badIds = new Set(idErrors.map((e) => where(e.position)));
  for (const parsed of parsedFiles) {
    out.errors.push(...parsed.errors);
    for (const p of parsed.posts) {
      const idAt = p.post.id !== undefined ? parsed.ids.find((i) => i.id === p.post.id) : undefined;
      if (idAt !== undefined && badIds.has(where(idAt.position))) continue;
      // A post of an edited file that does not retract was published (or queued) already: only edited.
      const editedAlongside = (retracting.includes(p.file) || editedSet.has(p.file)) && (p.post.retract === undefined || p.post.retract === false);
      out.posts.push(editedAlongside ? { ...p, source: { ...p.source, operation: { kind: 'edit' } } } : p);
    }
  }
  out.errors.push(...idErrors);
  out.posts.push(...editedPosts(edits, parseOptions, out.warnings, out.errors));
  out.posts.push(...cancelledPosts(selection.removed ?? [], globs.matches, parseOptions, out.notes));

  if (selection.mode === 'publish' && out.posts.length > 0) {
    // Post files are published only from the commit the run is for: a workflow that checks
    // out another ref (say a fork's pull request head, under workflow_run or issue_comment)
    // must not publish with media nobody with write access has merged.
    const head = await (earlyHead ?? git.run(['rev-parse', 'HEAD']));
    if (head.code === 0 && ctx.sha && head.stdout.trim() !== ctx.sha) {
      out.errors.push(
        new InputError(
          'files',
          `Input 'files': the checked-out commit ${head.stdout.trim().slice(0, 7)} is not the commit this run is for (${ctx.sha.slice(0, 7)}); post files are published only from the run's own commit, so files from another ref (such as a fork's pull request) are never posted. Check out the default ref (actions/checkout without 'ref'), or preview them on pull_request`,
        ),
      );
    }
    const history = early?.history ?? fileHistory(ctx, { git, api });
    await prefetched?.catch(() => undefined);
    await findAddedCommits(out.posts, history, out.warnings);
  } else if (selection.mode === 'preview') {
    // A preview reads the ledger for what an edit or a retract will do to the existing post:
    // it needs the commit that added each such file (best effort, never an error).
    const changing = out.posts.filter((p) => p.source.operation !== undefined || (p.post.retract !== undefined && p.post.retract !== false));
    if (changing.length > 0) await findAddedCommits(changing, fileHistory(ctx, { git, api }), []).catch(() => undefined);
  }
  return out;
}

/** Gives each post the commit that added its file: the ledger records it there, and its time anchors record keys. */
async function findAddedCommits(posts: FilePost[], history: FileHistory, warnings: string[]): Promise<void> {
  const added = await history.addedCommits([...new Set(posts.map((p) => p.file))]).catch(() => new Map<string, CommitRef | undefined>());
  for (const p of posts) {
    try {
      const addedIn = added.has(p.file) ? added.get(p.file) : await history.addedCommit(p.file);
      if (addedIn) {
        p.addedIn = addedIn;
        p.source.commit = addedIn.sha;
        p.source.commitTime = addedIn.time;
      } else warnings.push(`${p.file}: no commit adds this file (is it committed?); its post has no anchor commit.`);
    } catch (error) {
      warnings.push(`${p.file}: could not find the commit that added it: ${errorMessage(error)}`);
    }
  }
}
