/**
 * The preview where the review happens: one comment on the pull request, found again by a
 * hidden marker and updated in place on every push, never a second one. When the pull request
 * no longer adds post files, the comment says so instead of showing stale posts.
 */
import type { RunContext } from '../context.js';
import { errorMessage } from '../errors.js';
import type { IssueComment, IssueCommentsApi } from '../io/github-api.js';
import type { PlannedTarget } from '../publishers/types.js';
import { mdCode } from './markdown.js';
import { renderPreview } from './preview.js';

/** GitHub refuses a comment body over 65,536 characters. */
export const COMMENT_MAX_CHARS = 65_536;
/** Room for the heading, the problems, the warnings and the marker; the posts get the rest. */
const POSTS_MAX_BYTES = 56_000;

/**
 * The hidden line that names the comment of one step of one workflow: two steps (or two
 * workflows) that preview different files keep a comment each. Only the characters a
 * workflow path, job id and step id are made of survive, so no value can end the HTML comment.
 */
export function previewMarker(step: { workflow: string; job: string; step: string }): string {
  const id = `${step.workflow}#${step.job}/${step.step}`.replace(/[^A-Za-z0-9._/#@-]/g, '_');
  return `<!-- letmepost-action preview: ${id} -->`;
}

export interface PreviewContent {
  targets: PlannedTarget[];
  /** Problems that keep the posts from being published, as "file:line: message". */
  problems: string[];
  /** What a reviewer should know (a schedule already in the past, …). */
  warnings: string[];
  /** The run's page, where the job summary is. */
  runUrl?: string;
  /** What each editing, retracting or cancelling target will do to its existing post, from the ledger. */
  foreseen?: ReadonlyMap<PlannedTarget, string>;
}

/** The comment's body: what will be posted, what is wrong, what to look at. */
export function renderPreviewComment(marker: string, content: PreviewContent): string {
  const { targets, problems, warnings, runUrl } = content;
  const where = runUrl ? `[the job summary](${runUrl})` : 'the job summary';
  const lines: string[] = [marker, '### letmepost: preview of the posts in this pull request', ''];
  if (problems.length > 0) {
    lines.push(`**${problems.length} problem${problems.length > 1 ? 's' : ''} to fix before these posts can be published:**`, '');
    for (const p of problems.slice(0, 50)) lines.push(`- ${mdCode(p)}`);
    if (problems.length > 50) lines.push(`- …and ${problems.length - 50} more in ${where}`);
    lines.push('');
  }
  if (warnings.length > 0) {
    lines.push('**Warnings**', '');
    for (const w of warnings.slice(0, 20)) lines.push(`- ${mdCode(w)}`);
    lines.push('');
  }
  if (targets.length > 0) {
    lines.push('When this pull request is merged, each target gets the operation shown (publish, schedule or retract):', '');
    lines.push(renderPreview(targets, new Map(), POSTS_MAX_BYTES, `a comment is limited to 65,536 characters; ${where} shows them`, content.foreseen));
  } else if (problems.length === 0) {
    lines.push('No post to preview.');
  }
  lines.push('', `<sub>Updated on every push by letmepost-action. Every post is in ${where} too.</sub>`);
  const body = lines.join('\n');
  // The posts are capped by bytes; a pathological mix of problems could still overflow.
  return body.length <= COMMENT_MAX_CHARS ? body : `${body.slice(0, COMMENT_MAX_CHARS - 200)}\n\n_…cut at GitHub's comment limit; ${where} has everything._`;
}

/** What the comment says once the pull request adds no post files any more. */
export function resolvedPreviewComment(marker: string): string {
  return [marker, '### letmepost: preview of the posts in this pull request', '', '✅ This pull request no longer adds or changes any post file: nothing will be posted when it is merged.'].join('\n');
}

export type CommentOutcome = { action: 'created' | 'updated' | 'unchanged' | 'resolved'; url?: string } | { action: 'none' };

/** The comment this step wrote before: a bot's, starting with the marker (a person quoting the marker is not it). */
function ours(comments: IssueComment[], marker: string): IssueComment | undefined {
  return comments.find((c) => c.byBot && c.body.startsWith(marker));
}

/**
 * Creates, updates or resolves the preview comment. `body` undefined: nothing to preview, so
 * an earlier comment is marked resolved and none is created. An unchanged body sends nothing.
 */
export async function syncPreviewComment(api: IssueCommentsApi, issue: number, marker: string, body: string | undefined): Promise<CommentOutcome> {
  const existing = ours(await api.issueComments(issue), marker);
  if (body === undefined) {
    if (!existing) return { action: 'none' };
    const resolved = resolvedPreviewComment(marker);
    if (existing.body === resolved) return { action: 'unchanged', ...(existing.url ? { url: existing.url } : {}) };
    const updated = await api.updateIssueComment(existing.id, resolved);
    return { action: 'resolved', ...(updated.url ? { url: updated.url } : {}) };
  }
  if (existing) {
    if (existing.body === body) return { action: 'unchanged', ...(existing.url ? { url: existing.url } : {}) };
    const updated = await api.updateIssueComment(existing.id, body);
    return { action: 'updated', ...(updated.url ? { url: updated.url } : {}) };
  }
  const created = await api.createIssueComment(issue, body);
  return { action: 'created', ...(created.url ? { url: created.url } : {}) };
}

function pullRequestNumber(payload: Record<string, unknown>): number | undefined {
  const pr = payload.pull_request as { number?: unknown } | undefined;
  const n = pr?.number ?? payload.number;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : undefined;
}

export interface PreviewCommentOptions {
  /** The `preview-comment` input. */
  enabled: boolean;
  /** `github-token`, if any. */
  token?: string;
  api: (token: string) => IssueCommentsApi;
  info(message: string): void;
  notice(message: string): void;
}

/**
 * On a pull request, the preview in one comment too, where reviewers look; `content`
 * undefined: nothing to preview (an earlier comment is marked resolved). It never fails the
 * step: without a token that may comment (a fork's is read-only) the job summary is the
 * preview, with one notice that says why.
 */
export async function commentPreview(ctx: Pick<RunContext, 'payload' | 'repository' | 'serverUrl' | 'runId' | 'workflow' | 'job' | 'step'>, opts: PreviewCommentOptions, content: PreviewContent | undefined): Promise<void> {
  const pr = pullRequestNumber(ctx.payload);
  if (!opts.enabled || pr === undefined) return;
  const fallback = (why: string) => opts.notice(`The preview is in the job summary only: ${why}.`);
  if (!opts.token) return fallback("there is no 'github-token' to comment on the pull request with");
  const head = (ctx.payload.pull_request as { head?: { repo?: { full_name?: unknown } | null } } | undefined)?.head?.repo?.full_name;
  if (typeof head === 'string' && head !== ctx.repository) return fallback(`this pull request comes from the fork ${head}, whose token can only read, so it cannot comment`);
  const marker = previewMarker(ctx);
  const runUrl = `${ctx.serverUrl}/${ctx.repository}/actions/runs/${ctx.runId}`;
  try {
    const outcome = await syncPreviewComment(opts.api(opts.token), pr, marker, content && renderPreviewComment(marker, { ...content, runUrl }));
    if (outcome.action !== 'none') opts.info(`The preview comment on pull request #${pr}: ${outcome.action}${outcome.url ? ` (${outcome.url})` : ''}`);
  } catch (error) {
    fallback(`the comment on pull request #${pr} could not be written: ${errorMessage(error)}`);
  }
}
