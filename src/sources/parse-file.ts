/**
 * One post file's text, parsed: every YAML document (one post each) with positions, validated
 * against the one post model, its `{{ … }}` placeholders filled from the event. Every problem
 * is returned at file:line:column, all together. Pure: no I/O.
 */
import { dirname, resolve } from 'node:path';
import { yaml } from '../io/yaml.js';
import { errorMessage, PostFileError, type FilePosition } from '../errors.js';
import type { CommitRef } from '../io/github-api.js';
import { isObject } from '../io/json.js';
import { postSchema, type PostDefinition } from '../model/post.js';
import type { PostSource } from '../plan/plan.js';
import { describeIssue, fieldName, joinIssue, unknownKeySentence, valueAt } from './schema-issues.js';
import { renderTemplate, type TemplateVariables } from './templates.js';
import { Locator } from './yaml-positions.js';

type Path = ReadonlyArray<string | number>;

/** YAML aliases may expand to at most this many nodes in total (billion-laughs guard). */
export const MAX_ALIAS_COUNT = 50;

const TEXT_OR_THREAD = 'give exactly one of text or thread';

/** Who a problem is about: the field, or the post itself. */
function subject(path: Path): string {
  return path.length > 0 ? `'${fieldName(path)}'` : 'This post';
}


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
  const targets = valueAt(data, ['targets']);
  if (Array.isArray(targets)) {
    targets.forEach((_, t) => {
      const own = valueAt(data, ['targets', t, 'text']);
      if (typeof own === 'string') fields.push({ path: ['targets', t, 'text'], text: own });
      const ownThread = valueAt(data, ['targets', t, 'thread']);
      if (Array.isArray(ownThread)) ownThread.forEach((x, i) => typeof x === 'string' && fields.push({ path: ['targets', t, 'thread', i], text: x }));
    });
  }
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
  const { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, visit } = yaml();
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
          for (const key of issue.keys) docErrors.push(new PostFileError(locate.keyPosition(path, key), unknownKeySentence(path, key)));
        } else if (issue.code === 'custom' && issue.message === TEXT_OR_THREAD) {
          continue; // reported above, with every other problem
        } else {
          docErrors.push(new PostFileError(locate.position(path), joinIssue(subject(path), describeIssue(issue, data))));
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
      targets: valid.targets.map((target, t) => ({
        ...target,
        ...(target.text !== undefined ? { text: rendered.get(fieldName(['targets', t, 'text'])) ?? target.text } : {}),
        ...(target.thread !== undefined ? { thread: target.thread.map((x, i) => rendered.get(fieldName(['targets', t, 'thread', i])) ?? x) } : {}),
      })),
    };

    const source: PostSource = {
      label,
      baseDir,
      identity: postIdentity(post.id ?? label, used),
      error(path, message) {
        return new PostFileError(locate.position(path), `${subject(path)} ${message}`);
      },
    };
    posts.push({ post, source, file, document: number, deferred });
  });

  if (nonEmpty === 0 && errors.length === 0) errors.push(new PostFileError({ file }, 'contains no post; write one post per YAML document (text and targets), or delete the file'));
  errors.sort((a, b) => (a.position.line ?? 0) - (b.position.line ?? 0) || (a.position.column ?? 0) - (b.position.column ?? 0));
  return { posts, errors, ids };
}

/** Whether some post of a post file asks to be retracted (`retract: true` or a reason). Unparsable → false. */
export function asksToRetract(text: string): boolean {
  try {
    return yaml().parseAllDocuments(text, { version: '1.2' }).some((doc) => {
      const value: unknown = doc.errors.length === 0 ? doc.toJS({ maxAliasCount: 50 }) : undefined;
      const retract = isObject(value) ? value.retract : undefined;
      return retract !== undefined && retract !== null && retract !== false;
    });
  } catch {
    return false;
  }
}

/** One fingerprint per post in a post file: `id:…` when it has an id, else its text. Unparsable → undefined. */
export function postFingerprints(text: string): Set<string> | undefined {
  try {
    const prints = new Set<string>();
    for (const doc of yaml().parseAllDocuments(text, { version: '1.2' })) {
      if (doc.errors.length > 0) return undefined;
      const value: unknown = doc.toJS({ maxAliasCount: 50 });
      if (value === null || value === undefined) continue;
      if (typeof value !== 'object') return undefined;
      const post = value as { id?: unknown; text?: unknown; thread?: unknown };
      prints.add(typeof post.id === 'string' ? `id:${post.id}` : `text:${JSON.stringify(post.text ?? post.thread ?? null)}`);
    }
    return prints;
  } catch {
    return undefined;
  }
}
