/**
 * `{{ … }}` placeholders in post texts, filled from the GitHub event and the run context
 * only — never from environment variables or secrets (ARCHITECTURE.md, What is published when). Pure: the variables are
 * built once from a RunContext, and rendering is a function of a string and those variables.
 *
 * Grammar: `{{ name }}` or `{{ a.b.c }}` (letters, digits, `_`, `-`; dots between), with
 * optional spaces inside the braces, or a quoted literal `{{ '{{' }}` for literal braces.
 * An unknown placeholder, one this event does not have, a null value or an object/array is
 * an error — never an empty string; only notes (`release.body`, `pull_request.body`) may be
 * empty, as GitHub sends them for a release or pull request without a description.
 */
import type { RunContext } from '../context.js';
import { truncateText } from '../text/length.js';
import { mark } from '../text/marked-text.js';

/** Payload objects that dotted placeholders may read, and the events that carry them. */
export const TEMPLATE_ROOTS = {
  release: 'release',
  pull_request: 'pull_request or pull_request_target',
  repository: 'any',
  head_commit: 'push',
  inputs: 'workflow_dispatch',
} as const;
export type TemplateRoot = keyof typeof TEMPLATE_ROOTS;

/**
 * Fields documented for each root: offered in error messages, and the only ones accepted
 * (kept as written) when a preview renders a post meant for another event.
 */
export const DOCUMENTED_FIELDS: Readonly<Record<TemplateRoot, readonly string[]>> = {
  release: ['tag_name', 'name', 'html_url', 'body', 'target_commitish', 'prerelease', 'draft', 'id', 'created_at', 'published_at', 'author.login', 'tarball_url', 'zipball_url'],
  pull_request: ['number', 'title', 'html_url', 'body', 'user.login', 'head.ref', 'head.sha', 'base.ref', 'base.sha', 'merged', 'merge_commit_sha', 'draft', 'state', 'id'],
  repository: ['full_name', 'name', 'owner.login', 'html_url', 'description', 'homepage', 'default_branch', 'language', 'stargazers_count'],
  head_commit: ['id', 'message', 'url', 'timestamp', 'author.name', 'author.username', 'committer.name'],
  inputs: [],
};

/**
 * Event fields written in GitHub Markdown, rendered for each platform when the post is planned
 * (text/platform-text.ts); and one-line fields whose GitHub references (@alice, #12) are
 * neutralised — a post quoting a PR title must not tag strangers.
 */
const MARKDOWN_FIELDS: ReadonlySet<string> = new Set(['release.body', 'pull_request.body']);
const TITLE_FIELDS: ReadonlySet<string> = new Set(['release.name', 'pull_request.title', 'head_commit.message']);

/** Names that look like GitHub expression contexts; templates never read them. */
const FORBIDDEN_ROOTS = new Set(['env', 'secrets', 'vars', 'secret', 'process', 'runner', 'steps', 'needs', 'matrix', 'job', 'strategy']);

export interface TemplateVariables {
  /** The event name, for messages ("not available in a push event"). */
  eventName: string;
  /** Placeholders with a fixed name: repository, sha, sha_short, ref, ref_name, event_name, actor. */
  values: Readonly<Record<string, string>>;
  /** Payload objects that dotted placeholders read; only those this event has. */
  roots: Readonly<Partial<Record<TemplateRoot, Record<string, unknown>>>>;
}

export interface TemplateError {
  /** The placeholder as written, e.g. `{{ release.tag_nme }}`. */
  placeholder: string;
  /** Where it starts in the text (UTF-16 offset of the first `{`). */
  offset: number;
  /** A sentence that starts with the placeholder and says what is wrong and what is known; callers prefix the field ("'text': …"). */
  message: string;
}

export interface RenderOptions {
  /**
   * Previews (pull requests) check posts meant for other events: a documented placeholder of
   * a root this event lacks (`release.tag_name` in a PR) is kept as written and listed in
   * `deferred` instead of failing.
   */
  deferUnavailable?: boolean;
  /**
   * Roots never available where this text is published, with the reason (completing
   * "{{ name }} …"): an error even when this event has them — a post file previewed in a pull
   * request is published by a push, which has no pull request.
   */
  unpublishable?: Partial<Readonly<Record<TemplateRoot, string>>>;
}

export type RenderResult =
  | {
      text: string;
      /** Every placeholder used and the value it rendered to, e.g. { 'release.tag_name': 'v1.2.0' }. */
      used: Record<string, string>;
      /** Placeholders kept as written (see RenderOptions.deferUnavailable). */
      deferred: string[];
    }
  | { errors: TemplateError[] };

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function refName(ref: string): string {
  return ref.replace(/^refs\/(heads|tags|pull)\//, '');
}

/** The variables of this run: from the RunContext and the event payload, nothing else. */
export function templateVariables(ctx: Pick<RunContext, 'repository' | 'sha' | 'ref' | 'eventName' | 'payload'>): TemplateVariables {
  const values: Record<string, string> = {};
  if (ctx.repository) values.repository = ctx.repository;
  if (ctx.sha) {
    values.sha = ctx.sha;
    values.sha_short = ctx.sha.slice(0, 7);
  }
  if (ctx.ref) {
    values.ref = ctx.ref;
    values.ref_name = refName(ctx.ref);
  }
  if (ctx.eventName) values.event_name = ctx.eventName;
  const sender = ctx.payload.sender;
  if (isRecord(sender) && typeof sender.login === 'string') values.actor = sender.login;

  const roots: Partial<Record<TemplateRoot, Record<string, unknown>>> = {};
  for (const root of Object.keys(TEMPLATE_ROOTS) as TemplateRoot[]) {
    const value = ctx.payload[root];
    if (isRecord(value)) roots[root] = value;
  }
  return { eventName: ctx.eventName, values, roots };
}

// ───────────────────────────── lookup ─────────────────────────────

type Lookup = { value: string } | { deferred: true } | { error: string };

/** Dotted paths to every scalar under an object, depth-limited (for suggestions). */
function scalarPaths(obj: Record<string, unknown>, prefix: string, depth: number, out: string[] = []): string[] {
  for (const [key, value] of Object.entries(obj)) {
    const path = `${prefix}.${key}`;
    if (isRecord(value)) {
      if (depth > 1) scalarPaths(value, path, depth - 1, out);
    } else if (!Array.isArray(value)) {
      out.push(path);
    }
  }
  return out;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = prev[j]!;
      prev[j] = Math.min(above + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = above;
    }
  }
  return prev[b.length]!;
}

/** The candidate closest to `name`, if close enough to be a likely typo. Shared with post-files. */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[_\-\s]/g, '');
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const score = norm(candidate) === norm(name) ? 0 : editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return best !== undefined && bestScore <= Math.max(2, Math.floor(name.length / 4)) ? best : undefined;
}

function eventLabel(vars: TemplateVariables): string {
  return vars.eventName ? `this ${vars.eventName} event` : 'this run';
}

/** "Known here: repository, sha, …, release.* (e.g. release.tag_name, …)". */
function knownList(vars: TemplateVariables): string {
  const parts: string[] = [...Object.keys(vars.values)];
  for (const root of Object.keys(vars.roots) as TemplateRoot[]) {
    const examples = DOCUMENTED_FIELDS[root].slice(0, 3).map((f) => `${root}.${f}`);
    parts.push(examples.length > 0 ? `${root}.* (e.g. ${examples.join(', ')})` : `${root}.*`);
  }
  return `known in ${eventLabel(vars)}: ${parts.join(', ')}`;
}

function allCandidates(vars: TemplateVariables): string[] {
  const names = [...Object.keys(vars.values)];
  for (const [root, obj] of Object.entries(vars.roots)) if (obj) names.push(...scalarPaths(obj, root, 3));
  for (const [root, fields] of Object.entries(DOCUMENTED_FIELDS)) for (const f of fields) names.push(`${root}.${f}`);
  return [...new Set(names)];
}

function didYouMean(name: string, candidates: Iterable<string>): string {
  const match = closest(name, candidates);
  return match === undefined ? '' : ` Did you mean {{ ${match} }}?`;
}

function describe(value: unknown): string {
  return Array.isArray(value) ? 'a list' : 'an object';
}

function lookup(name: string, vars: TemplateVariables, options: RenderOptions): Lookup {
  // Only the variables' own data: never what every JavaScript object inherits (constructor, toString, __proto__ …).
  const fixed = Object.hasOwn(vars.values, name) ? vars.values[name] : undefined;
  if (fixed !== undefined) return { value: fixed };

  const segments = name.split('.');
  const head = segments[0]!;
  if (FORBIDDEN_ROOTS.has(head.toLowerCase())) {
    return { error: `{{ ${name} }} is not allowed: templates read only the GitHub event and the run context, never environment variables, secrets or other step data; ${knownList(vars)}` };
  }
  if (head === 'github' && segments.length > 1) {
    const rest = segments.slice(1).join('.');
    const hint = Object.hasOwn(vars.values, rest) || Object.hasOwn(TEMPLATE_ROOTS, rest) ? ` Write {{ ${rest} }} instead.` : '';
    return { error: `{{ ${name} }} is GitHub Actions expression syntax, which post templates do not use.${hint} ${capitalize(knownList(vars))}` };
  }
  if (!Object.hasOwn(TEMPLATE_ROOTS, head)) {
    return { error: `{{ ${name} }} is not a known placeholder.${didYouMean(name, allCandidates(vars))} ${capitalize(knownList(vars))}` };
  }

  const root = head as TemplateRoot;
  const never = options.unpublishable?.[root];
  if (never !== undefined) return { error: `{{ ${name} }} ${never}` };
  const obj = vars.roots[root];
  if (obj === undefined) {
    const field = segments.slice(1).join('.');
    const documented = root === 'inputs' ? field !== '' : DOCUMENTED_FIELDS[root].includes(field);
    if (options.deferUnavailable && documented) return { deferred: true };
    if (options.deferUnavailable) {
      return { error: `{{ ${name} }} is not a known field of ${root}.${didYouMean(name, DOCUMENTED_FIELDS[root].map((f) => `${root}.${f}`))} Known: ${DOCUMENTED_FIELDS[root].map((f) => `${root}.${f}`).join(', ')}` };
    }
    const where = TEMPLATE_ROOTS[root];
    return {
      error: `{{ ${name} }} is not available in ${eventLabel(vars)}; ${root}.* placeholders work only in ${where} events (keep such post files out of this workflow's 'files'). ${capitalize(knownList(vars))}`,
    };
  }
  if (segments.length === 1) {
    const fields = DOCUMENTED_FIELDS[root].slice(0, 4).map((f) => `${root}.${f}`);
    return { error: `{{ ${name} }} is ${describe(obj)}, not a value; use one of its fields, such as ${fields.join(', ')}` };
  }

  let current: unknown = obj;
  for (let i = 1; i < segments.length; i++) {
    const key = segments[i]!;
    const container = current;
    if (isRecord(container) && Object.hasOwn(container, key)) current = container[key];
    else if (Array.isArray(container) && /^\d+$/.test(key) && Number(key) < container.length) current = container[Number(key)];
    else if (MARKDOWN_FIELDS.has(name)) return { value: '' };
    else {
      const candidates = [...scalarPaths(obj, root, 3), ...DOCUMENTED_FIELDS[root].map((f) => `${root}.${f}`)];
      return { error: `{{ ${name} }} is not in ${eventLabel(vars)}'s ${root}.${didYouMean(name, candidates)} ${capitalize(knownList(vars))}` };
    }
  }
  // A release or pull request without a description has notes that say nothing, not an error.
  if ((current === null || current === undefined) && MARKDOWN_FIELDS.has(name)) return { value: '' };
  if (current === null || current === undefined) {
    return { error: `{{ ${name} }} has no value in ${eventLabel(vars)}; use another placeholder or write the text out` };
  }
  if (typeof current === 'object') {
    const fields = isRecord(current) ? scalarPaths(current, name, 1).slice(0, 4) : [];
    const hint = fields.length > 0 ? `; use one of its fields, such as ${fields.join(', ')}` : '; only single values (text, numbers, true/false) can be placed in a post';
    return { error: `{{ ${name} }} is ${describe(current)}, not a value${hint}` };
  }
  return { value: String(current) };
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// ───────────────────────────── filters ─────────────────────────────

interface Filter {
  apply(value: string): string;
  /** The value goes into the post exactly as the event has it: no Markdown rendering, no neutralised references. */
  raw?: true;
}

function marked(name: string, value: string): string {
  if (MARKDOWN_FIELDS.has(name)) return mark('event-markdown', value);
  if (TITLE_FIELDS.has(name)) return mark('event-title', value);
  return value;
}

const FILTER_HELP = "the filters are: truncate: N (keep at most N characters, cut at a word, end with '…') and raw (the value exactly as the event has it: release notes not rendered from Markdown, @names and #numbers not neutralised)";

function parseFilter(text: string): Filter | { error: string } {
  const match = /^([a-z_]+)\s*(?::\s*(.*))?$/i.exec(text);
  if (match?.[1] === 'truncate') {
    const n = Number(match[2]);
    if (!Number.isInteger(n) || n < 2 || n > 100_000) return { error: `'truncate' needs a whole number of characters from 2 to 100000, e.g. truncate: 250` };
    return { apply: (value) => truncateText(value, n) };
  }
  if (match?.[1] === 'raw' && match[2] === undefined) return { apply: (value) => value, raw: true };
  return { error: `'${text}' is not a filter; ${FILTER_HELP}` };
}

// ───────────────────────────── rendering ─────────────────────────────

const NAME = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$/;
const LITERAL = /^(?:'([^']*)'|"([^"]*)")$/;

/** Renders every placeholder in `text`; all errors are returned together. */
export function renderTemplate(text: string, vars: TemplateVariables, options: RenderOptions = {}): RenderResult {
  const errors: TemplateError[] = [];
  const used: Record<string, string> = {};
  const deferred: string[] = [];
  let out = '';
  let pos = 0;
  for (;;) {
    const open = text.indexOf('{{', pos);
    if (open < 0) break;
    out += text.slice(pos, open);
    const close = text.indexOf('}}', open + 2);
    if (close < 0) {
      const snippet = text.slice(open, open + 30).split('\n')[0]!;
      errors.push({ placeholder: snippet, offset: open, message: `'${snippet}' opens a placeholder with '{{' but has no closing '}}'; close it, or write {{ '{{' }} for literal braces` });
      pos = text.length;
      break;
    }
    const placeholder = text.slice(open, close + 2);
    const inner = text.slice(open + 2, close).trim();
    pos = close + 2;
    const literal = LITERAL.exec(inner);
    if (literal) {
      out += literal[1] ?? literal[2] ?? '';
      continue;
    }
    if (open > 0 && text[open - 1] === '$') {
      errors.push({ placeholder: `$${placeholder}`, offset: open - 1, message: `$${placeholder} is GitHub Actions expression syntax, which is not expanded here; drop the '$' and write ${placeholder}` });
      continue;
    }
    const [name = '', ...filterTexts] = inner.split('|').map((part) => part.trim());
    if (!NAME.test(name)) {
      errors.push({ placeholder, offset: open, message: `${placeholder} is not a placeholder: write a name such as {{ release.tag_name }} or {{ sha_short }}, optionally with a filter such as {{ release.body | truncate: 250 }} (no expressions inside)` });
      continue;
    }
    const filters = filterTexts.map(parseFilter);
    const badFilter = filters.find((f): f is { error: string } => 'error' in f);
    if (badFilter) {
      errors.push({ placeholder, offset: open, message: `${placeholder}: ${badFilter.error}` });
      continue;
    }
    const result = lookup(name, vars, options);
    if ('error' in result) {
      errors.push({ placeholder, offset: open, message: result.error });
    } else if ('deferred' in result) {
      out += placeholder;
      if (!deferred.includes(name)) deferred.push(name);
    } else {
      const value = (filters as Filter[]).reduce((v, f) => f.apply(v), result.value);
      out += (filters as Filter[]).some((f) => f.raw) ? value : marked(name, value);
      used[name] = value;
    }
  }
  out += text.slice(pos);
  return errors.length > 0 ? { errors } : { text: out, used, deferred };
}
