/**
 * Content as code: post files in the repository (design §1, §4). One call, `loadPostFiles`,
 * decides which files this run handles (select.ts), reads them (size-capped, UTF-8, inside
 * the workspace), parses every YAML document with positions, validates each against the one
 * post model (`postSchema`), renders `{{ … }}` templates, and returns every valid post with
 * a `PostSource` that points problems at file:line:column. Every file is checked and every
 * error is returned together, so one run lists everything to fix.
 */
import { dirname, resolve } from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, visit, type Document, type Node as YamlNode } from 'yaml';
import type * as z from 'zod';
import type { RunContext } from '../context.js';
import { errorMessage, InputError, PostFileError, type FilePosition } from '../errors.js';
import { GitHubApiError, GitHubRestClient, type CommitRef, type GitHubApi } from '../io/github-api.js';
import { quote, type Settings } from '../inputs.js';
import type { PostSource } from '../plan/plan.js';
import { postSchema, type PostDefinition } from '../model/post.js';
import { commitReader, MAX_WALK_ENTRIES, worktreeReader, type PostFileGlobs, type PostFileReader } from './readers.js';
import { fileHistory, localGit, PR_EVENTS, selectPostFiles, type Git, type RunMode } from './select.js';
import { closest, renderTemplate, templateVariables, type TemplateVariables } from './templates.js';

/** YAML aliases may expand to at most this many nodes in total (billion-laughs guard). */
export const MAX_ALIAS_COUNT = 50;

// ───────────────────────────── globs ─────────────────────────────

/** `a/{b,c}/d` → `a/b/d`, `a/c/d` (nested groups too); a group without a comma stays literal. */
export function expandBraces(pattern: string, limit = 256): string[] {
  let depth = 0;
  let start = -1;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}' && depth > 0 && --depth === 0) {
      const inner = pattern.slice(start + 1, i);
      const parts: string[] = [];
      let d = 0;
      let from = 0;
      for (let j = 0; j < inner.length; j++) {
        if (inner[j] === '{') d++;
        else if (inner[j] === '}') d--;
        else if (inner[j] === ',' && d === 0) {
          parts.push(inner.slice(from, j));
          from = j + 1;
        }
      }
      parts.push(inner.slice(from));
      if (parts.length < 2) continue;
      const before = pattern.slice(0, start);
      const after = pattern.slice(i + 1);
      const out: string[] = [];
      for (const part of parts) {
        for (const expanded of expandBraces(before + part + after, limit)) {
          if (out.length >= limit) return out;
          out.push(expanded);
        }
      }
      return out;
    }
  }
  return [pattern];
}

function segmentSource(segment: string): string {
  let re = /^[*?[]/.test(segment) ? '(?!\\.)' : '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') {
      re += '[^/]*';
      while (segment[i + 1] === '*') i++;
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '[' && segment.indexOf(']', i + 2) > 0) {
      const end = segment.indexOf(']', i + 2);
      let body = segment.slice(i + 1, end);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else {
      re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return re;
}

/**
 * A glob (no braces) as a RegExp over repository-relative paths: `**` spans directories,
 * `*` and `?` stay within one, `[abc]` is a class. Wildcards never match a leading dot.
 */
export function globToRegExp(glob: string): RegExp {
  const segments = glob.split('/');
  let re = '^';
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (segment === '**') re += last ? '(?:(?!\\.)[^/]+(?:/|$))*' : '(?:(?!\\.)[^/]+/)*';
    else re += segmentSource(segment) + (last ? '' : '/');
  });
  return new RegExp(`${re}$`);
}

/** Compiles the `files` input; patterns that leave the workspace are InputErrors. */
export function compileGlobs(patterns: readonly string[]): { globs: PostFileGlobs; errors: InputError[] } {
  const errors: InputError[] = [];
  const include: RegExp[] = [];
  const exclude: RegExp[] = [];
  const roots = new Set<string>();
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).trim().replace(/^(\.\/)+/, '');
    if (pattern === '') continue;
    if (pattern.startsWith('/') || /^[A-Za-z]:/.test(pattern) || pattern.includes('\\') || pattern.split('/').includes('..')) {
      errors.push(new InputError('files', `Input 'files' has ${quote(raw)}; patterns are relative to the repository and stay inside it (no leading '/', no '..', '/' as separator), e.g. posts/**/*.yml`));
      continue;
    }
    for (const glob of expandBraces(pattern)) {
      (negated ? exclude : include).push(globToRegExp(glob));
      if (!negated) {
        const literal: string[] = [];
        for (const segment of glob.split('/').slice(0, -1)) {
          if (/[*?[{]/.test(segment)) break;
          literal.push(segment);
        }
        roots.add(literal.join('/'));
      }
    }
  }
  const matches = (path: string) => include.some((r) => r.test(path)) && !exclude.some((r) => r.test(path));
  // Walk each root once: drop roots inside another root.
  const sorted = [...roots].sort((a, b) => a.length - b.length);
  const minimal = sorted.filter((r, i) => !sorted.slice(0, i).some((o) => o === '' || r === o || r.startsWith(`${o}/`)));
  return { globs: { matches, roots: minimal }, errors };
}

// ───────────────────────────── positions ─────────────────────────────

type Path = ReadonlyArray<string | number>;

/** `['targets', 1, 'platform']` → `targets[1].platform`. */
export function fieldName(path: Path): string {
  return path.reduce<string>((acc, seg) => (typeof seg === 'number' ? `${acc}[${seg}]` : acc === '' ? seg : `${acc}.${seg}`), '');
}

/** Finds the YAML node at a post field path, for file:line:column positions. */
class Locator {
  constructor(
    readonly file: string,
    readonly doc: Document.Parsed,
    readonly lines: LineCounter,
  ) {}

  at(offset: number): FilePosition {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, column: col };
  }

  private deref(node: unknown): YamlNode | undefined {
    if (isAlias(node)) return (node.resolve(this.doc) as YamlNode | undefined) ?? undefined;
    return (node ?? undefined) as YamlNode | undefined;
  }

  /** The deepest existing node along `path` (the field itself, or its nearest parent), and whether it was found whole. */
  find(path: Path): { node: YamlNode | undefined; key?: YamlNode; found: boolean } {
    let node = this.doc.contents as YamlNode | null | undefined;
    let key: YamlNode | undefined;
    for (const seg of path) {
      const current = this.deref(node);
      let next: unknown;
      let nextKey: YamlNode | undefined;
      if (isMap(current)) {
        const pair = current.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (pair) {
          next = pair.value;
          nextKey = pair.key as YamlNode;
        }
      } else if (isSeq(current) && typeof seg === 'number') {
        next = current.items[seg];
      }
      if (next === undefined && nextKey === undefined) return { node: node ?? undefined, ...(key ? { key } : {}), found: false };
      // `key:` with no value: point at the key.
      node = (next as YamlNode | null) ?? nextKey;
      key = nextKey;
    }
    return { node: node ?? undefined, ...(key ? { key } : {}), found: true };
  }

  position(path: Path): FilePosition {
    const { node } = this.find(path);
    const start = node?.range?.[0] ?? this.doc.range[0];
    return this.at(start);
  }

  /** The position of a key inside the mapping at `path` (for unknown fields). */
  keyPosition(path: Path, key: string): FilePosition {
    const { node } = this.find(path);
    const map = this.deref(node);
    if (isMap(map)) {
      const pair = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
      const range = (pair?.key as YamlNode | undefined)?.range;
      if (range) return this.at(range[0]);
    }
    return this.position(path);
  }

  /** Where the `occurrence`-th copy of `needle` starts inside the source of the node at `path`. */
  textPosition(path: Path, source: string, needle: string, occurrence: number): FilePosition {
    const { node, found } = this.find(path);
    const range = node?.range;
    if (found && range) {
      const slice = source.slice(range[0], range[1]);
      let at = -1;
      for (let k = 0; k <= occurrence; k++) {
        at = slice.indexOf(needle, at + 1);
        if (at < 0) break;
      }
      if (at >= 0) return this.at(range[0] + at);
    }
    return this.position(path);
  }
}

// ───────────────────────────── schema issues ─────────────────────────────

type AnySchema = { _zod: { def: Record<string, unknown> & { type: string } } };

/** The field names the schema knows at a path (for "did you mean"). */
function knownFields(path: Path): string[] {
  let schema = postSchema as unknown as AnySchema;
  const unwrap = () => {
    for (let i = 0; i < 10; i++) {
      const def = schema._zod.def;
      if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable' || def.type === 'readonly' || def.type === 'catch') schema = def.innerType as AnySchema;
      else if (def.type === 'pipe') schema = def.in as AnySchema;
      else return;
    }
  };
  unwrap();
  for (const seg of path) {
    const def = schema._zod.def;
    if (typeof seg === 'number' && def.type === 'array') schema = def.element as AnySchema;
    else if (typeof seg === 'string' && def.type === 'object') {
      const next = (def.shape as Record<string, AnySchema>)[seg];
      if (!next) return [];
      schema = next;
    } else return [];
    unwrap();
  }
  return schema._zod.def.type === 'object' ? Object.keys(schema._zod.def.shape as object) : [];
}

function valueAt(root: unknown, path: Path): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

/** A value for a message: quoted text, or what kind of thing it is. */
function show(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number') return `${value} (a number)`;
  if (typeof value === 'boolean') return `${value} (true/false)`;
  if (value === null) return 'empty';
  if (Array.isArray(value)) return 'a list';
  return 'a mapping';
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'text',
  array: 'a list (one "- " item per entry)',
  object: 'a mapping of fields (key: value)',
  boolean: 'true or false',
  number: 'a number',
};

/** What to write when a required field is missing. */
const MISSING_HINTS: Readonly<Record<string, string>> = {
  targets: 'add where to post, e.g.\ntargets:\n  - platform: bluesky\n    account: bluesky',
  platform: `add the platform, e.g. platform: bluesky`,
  account: "add the letmepost account id (a uuid), or 'bluesky' / 'mastodon' for a direct adapter",
  boardId: 'add the Pinterest board id',
  replyToId: 'add the id of the Threads post to reply to',
};

const TEXT_OR_THREAD = 'give exactly one of text or thread';

function issueMessage(issue: z.core.$ZodIssue, data: unknown): string {
  const path = issue.path as Path;
  const field = `'${fieldName(path)}'`;
  const value = valueAt(data, path);
  switch (issue.code) {
    case 'invalid_type': {
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      if (value === undefined) {
        const last = path[path.length - 1];
        return `${field} is missing; ${MISSING_HINTS[String(last)] ?? `expected ${expected}`}`;
      }
      const quoteHint = issue.expected === 'string' && (typeof value === 'number' || typeof value === 'boolean') ? ` — put it in quotes: '${String(value)}'` : '';
      return `${field} is ${show(value)}; expected ${expected}${quoteHint}`;
    }
    case 'too_small':
      if (issue.origin === 'array') return `${field} is an empty list; add at least ${String(issue.minimum)} item${Number(issue.minimum) > 1 ? 's' : ''}`;
      if (issue.origin === 'string') return `${field} is empty; give a value`;
      return `${field} is ${show(value)}; ${issue.message}`;
    case 'invalid_value':
      return `${field} is ${show(value)}; expected one of ${issue.values.map(String).join(', ')}`;
    case 'invalid_format':
      if (issue.format === 'url') return `${field} is ${show(value)}; expected an http(s) URL such as https://example.com/image.png`;
      return `${field} is ${show(value)}; expected ${issue.message}`;
    default: {
      const scalar = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
      if (path.length === 0) return `This post: ${issue.message}`;
      if (scalar && !issue.message.includes(`'${String(value)}'`)) return `${field} is ${show(value)}; ${issue.message}`;
      return `${field}: ${issue.message}`;
    }
  }
}

function unknownFieldMessage(path: Path, key: string): string {
  const known = knownFields(path);
  const suggestion = closest(key, known);
  const where = path.length > 0 ? ` of ${fieldName(path)}` : '';
  if (suggestion !== undefined) return `'${key}' is not a field${where}; did you mean '${suggestion}'?`;
  return `'${key}' is not a field${where}; the fields are: ${known.join(', ')}`;
}

// ───────────────────────────── one file ─────────────────────────────

export interface FilePost {
  post: PostDefinition;
  source: PostSource;
  /** Repository-relative path of the post file. */
  file: string;
  /** 1-based index of the YAML document in the file. */
  document: number;
  /** The commit that added the file (publish mode only; absent when it could not be found). */
  addedIn?: CommitRef;
  /** Placeholders kept as written in a preview (they belong to another event). */
  deferred: string[];
}

export interface ParseOptions {
  /** Absolute workspace path (media paths resolve inside it). */
  workspace: string;
  vars: TemplateVariables;
  /** Previews keep placeholders of other events (release.* in a PR) instead of failing. */
  preview?: boolean;
}

export interface ParsedFile {
  posts: FilePost[];
  errors: PostFileError[];
  /** Every `id` in the file with its position, valid post or not (for the duplicate check). */
  ids: Array<{ id: string; position: FilePosition }>;
}

/** How to fix the YAML mistakes post authors make most; the parser's own words say only what is wrong. */
const YAML_HINTS: Readonly<Record<string, string>> = {
  BLOCK_AS_IMPLICIT_KEY: "; a value that contains ': ' must be quoted, e.g. text: \"Release: v1.2 is out\"",
  BAD_SCALAR_START: '; a value that starts with @ or ` must be quoted, e.g. text: "@you.bsky.social thanks!"',
  TAB_AS_INDENT: '; indent with spaces, not tabs',
  DUPLICATE_KEY: '; each field may appear once in a post (start another post after a --- line)',
  MISSING_CHAR: '; close the quote or bracket that was opened',
  BAD_INDENT: '; indent the lines of a list or mapping evenly, and close every bracket that was opened',
};

function yamlHint(code: string): string {
  return YAML_HINTS[code] ?? '';
}

/**
 * Pull request events only preview post files; the run that publishes one (a push, or
 * `select: all` on a release, schedule or workflow_dispatch) has no pull request. Without
 * this, a preview would render the PR's values and the merge would then fail to post.
 */
const FILE_UNPUBLISHABLE = {
  pull_request:
    "is not available to post files: a pull request only previews them, and the push that publishes the file has no pull request. Write the text out, or announce merges from an inline step (text: 'Merged: {{ pull_request.title }}' on pull_request closed)",
} as const;

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?\s*$/, '').replace(/:$/, '');
}

/** Fields whose text may hold `{{ … }}` placeholders (read from the raw document, valid or not). */
function templatedFields(data: unknown): Array<{ path: (string | number)[]; text: string }> {
  const fields: Array<{ path: (string | number)[]; text: string }> = [];
  const text = valueAt(data, ['text']);
  if (typeof text === 'string') fields.push({ path: ['text'], text });
  const thread = valueAt(data, ['thread']);
  if (Array.isArray(thread)) thread.forEach((t, i) => typeof t === 'string' && fields.push({ path: ['thread', i], text: t }));
  const firstComment = valueAt(data, ['firstComment']);
  if (typeof firstComment === 'string') fields.push({ path: ['firstComment'], text: firstComment });
  return fields;
}

/**
 * The identity that keys a file post: its `id`, else its path (and document). Placeholder
 * values that vary between runs are appended, so a release template posts once per release
 * rather than being taken for a replay of the previous release; `repository` and
 * `repository.*` are the same on every run and are left out.
 */
export function postIdentity(base: string, used: Readonly<Record<string, string>>): string {
  const varying = Object.entries(used)
    .filter(([name]) => name !== 'repository' && !name.startsWith('repository.'))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return varying.length === 0 ? base : `${base}@${varying.map(([k, v]) => `${k}=${v}`).join('&')}`;
}

/**
 * Parses and validates one post file's text. `file` is repository-relative; positions,
 * labels and identities use it. Pure: no I/O.
 */
export function parsePostFile(file: string, text: string, opts: ParseOptions): ParsedFile {
  const posts: FilePost[] = [];
  const errors: PostFileError[] = [];
  const ids: ParsedFile['ids'] = [];
  const lines = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true, version: '1.2' });
  const at = (offset: number): FilePosition => {
    const { line, col } = lines.linePos(offset);
    return { file, line, column: col };
  };
  if ('empty' in parsed) {
    for (const e of parsed.errors) errors.push(new PostFileError(at(e.pos[0]), `YAML syntax error: ${firstLine(e.message)}${yamlHint(e.code)}`));
    if (errors.length === 0) errors.push(new PostFileError({ file }, 'contains no post; write one post per YAML document (text and targets), or delete the file'));
    return { posts, errors, ids };
  }
  const baseDir = resolve(opts.workspace, dirname(file));
  let nonEmpty = 0;

  parsed.forEach((doc, index) => {
    const number = index + 1;
    const label = number > 1 ? `${file}#${number}` : file;
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const pos = e.linePos?.[0];
        errors.push(new PostFileError(pos ? { file, line: pos.line, column: pos.col } : at(e.pos[0]), `YAML syntax error: ${firstLine(e.message)}${yamlHint(e.code)}`));
      }
      nonEmpty++;
      return;
    }
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) return; // an empty document (e.g. a trailing ---)
    nonEmpty++;
    const locate = new Locator(file, doc, lines);
    const thisDoc = parsed.length > 1 ? `Document ${number}` : 'This file';
    if (!isMap(doc.contents)) {
      errors.push(new PostFileError(locate.position([]), `${thisDoc} is ${isSeq(doc.contents) ? 'a list' : 'a single value'}; each YAML document is one post: a mapping with text (or thread) and targets`));
      return;
    }

    let data: unknown;
    try {
      data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      let aliasAt: number | undefined;
      visit(doc, {
        Alias(_, node) {
          aliasAt = node.range?.[0];
          return visit.BREAK;
        },
      });
      const reason = /alias/i.test(errorMessage(error))
        ? `uses YAML aliases (*name) that expand to too much data (more than ${MAX_ALIAS_COUNT} copies); write the values out instead`
        : `could not be read: ${errorMessage(error)}`;
      errors.push(new PostFileError(aliasAt !== undefined ? at(aliasAt) : locate.position([]), `${thisDoc} ${reason}`));
      return;
    }

    const rawId = valueAt(data, ['id']);
    if (typeof rawId === 'string') ids.push({ id: rawId, position: locate.position(['id']) });

    const docErrors: PostFileError[] = [];
    const hasText = valueAt(data, ['text']) !== undefined;
    const hasThread = valueAt(data, ['thread']) !== undefined;
    if (!hasText && !hasThread) docErrors.push(new PostFileError(locate.position([]), "This post has neither 'text' nor 'thread'; give the text to post (text: …), or a thread (thread: [first, second])"));
    if (hasText && hasThread) docErrors.push(new PostFileError(locate.position(['thread']), "'thread' cannot be combined with 'text'; give one of them (a thread's first post is its first item)"));

    const result = postSchema.safeParse(data);
    if (!result.success) {
      for (const issue of result.error.issues) {
        const path = issue.path as Path;
        if (issue.code === 'unrecognized_keys') {
          for (const key of issue.keys) docErrors.push(new PostFileError(locate.keyPosition(path, key), unknownFieldMessage(path, key)));
        } else if (issue.code === 'custom' && issue.message === TEXT_OR_THREAD) {
          continue; // reported above, with every other problem
        } else {
          docErrors.push(new PostFileError(locate.position(path), issueMessage(issue, data)));
        }
      }
    }

    // Templates, checked whether or not the schema passed (so every error shows at once); an
    // error points at the placeholder itself. Like the text inputs, texts lose trailing
    // whitespace (the newline a `text: |` block scalar keeps).
    const rendered = new Map<string, string>();
    const used: Record<string, string> = {};
    const deferred: string[] = [];
    for (const { path, text: template } of templatedFields(data)) {
      const out = renderTemplate(template, opts.vars, { deferUnavailable: opts.preview === true, unpublishable: FILE_UNPUBLISHABLE });
      if ('errors' in out) {
        for (const e of out.errors) {
          let occurrence = 0;
          for (let i = template.indexOf(e.placeholder); i >= 0 && i < e.offset; i = template.indexOf(e.placeholder, i + 1)) occurrence++;
          docErrors.push(new PostFileError(locate.textPosition(path, text, e.placeholder, occurrence), `'${fieldName(path)}': ${e.message}`));
        }
        continue;
      }
      Object.assign(used, out.used);
      for (const d of out.deferred) if (!deferred.includes(d)) deferred.push(d);
      rendered.set(fieldName(path), out.text.replace(/\s+$/, ''));
    }
    if (docErrors.length > 0 || !result.success) {
      errors.push(...docErrors);
      return;
    }
    const valid = result.data;
    const post: PostDefinition = {
      ...valid,
      ...(valid.text !== undefined ? { text: rendered.get('text') ?? valid.text } : {}),
      ...(valid.thread !== undefined ? { thread: valid.thread.map((t, i) => rendered.get(`thread[${i}]`) ?? t) } : {}),
      ...(valid.firstComment !== undefined ? { firstComment: rendered.get('firstComment') ?? valid.firstComment } : {}),
    };

    const source: PostSource = {
      label,
      baseDir,
      identity: postIdentity(post.id ?? label, used),
      error(path, message) {
        const prefix = path.length > 0 ? `'${fieldName(path)}' ` : 'This post ';
        return new PostFileError(locate.position(path), `${prefix}${message}`);
      },
    };
    posts.push({ post, source, file, document: number, deferred });
  });

  if (nonEmpty === 0 && errors.length === 0) errors.push(new PostFileError({ file }, 'contains no post; write one post per YAML document (text and targets), or delete the file'));
  errors.sort((a, b) => (a.position.line ?? 0) - (b.position.line ?? 0) || (a.position.column ?? 0) - (b.position.column ?? 0));
  return { posts, errors, ids };
}

// ───────────────────────────── the entry point ─────────────────────────────

export interface FilePlanInput {
  ctx: RunContext;
  settings: Pick<Settings, 'files' | 'select' | 'githubToken'>;
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

/** Which post files this run handles, read, validated and rendered: the one call for file posts. */
export async function loadPostFiles(input: FilePlanInput): Promise<LoadedPosts> {
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
  if (selection.paths === 'all' && out.files.length === 0) out.notes.push(`No file matches 'files' (${settings.files.join(', ')}).`);

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
      if (idAt === undefined || !badIds.has(where(idAt.position))) out.posts.push(p);
    }
  }
  out.errors.push(...idErrors);

  if (selection.mode === 'publish' && out.posts.length > 0) {
    const history = fileHistory(ctx, { git, api });
    const added = await history.addedCommits([...new Set(out.posts.map((p) => p.file))]).catch(() => new Map<string, CommitRef | undefined>());
    for (const p of out.posts) {
      try {
        const addedIn = added.has(p.file) ? added.get(p.file) : await history.addedCommit(p.file);
        if (addedIn) p.addedIn = addedIn;
        else out.warnings.push(`${p.file}: no commit adds this file (is it committed?); its post has no anchor commit.`);
      } catch (error) {
        out.warnings.push(`${p.file}: could not find the commit that added it: ${errorMessage(error)}`);
      }
    }
  }
  return out;
}
