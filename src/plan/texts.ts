/**
 * The texts one target posts: its own text or thread when it has one (one text per
 * platform), else the post's; Markdown parts rendered for its platform, GitHub references
 * neutralised, and long notes fitted as `releaseNotes` says (text/platform-text.ts). A text
 * with nothing marked is posted as written, so plain posts behave as they always did.
 */
import type { RunContext } from '../context.js';
import type { PostDefinition, TargetDefinition } from '../model/post.js';
import type { PublisherDescriptor } from '../publishers/types.js';
import type { TextLink } from '../text/rich-text.js';
import { hasMarks, mark } from '../text/marked-text.js';
import { fitsPlatform } from '../text/platform-length.js';
import type { platformText as PlatformTextFn } from '../text/platform-text.js';

export interface TargetTexts {
  texts: string[];
  /** Per text, its links, for a publisher that carries them beside the text; absent when there are none. */
  links?: TextLink[][];
  /** Where the texts were written, for messages: the target's own field, or the post's. */
  path: (string | number)[];
}

/** The texts as written for this target, before rendering, and the field they come from. */
export function writtenTexts(post: PostDefinition, target: TargetDefinition, index: number): { texts: string[]; thread: boolean; path: (string | number)[] } {
  if (target.thread !== undefined) return { texts: target.thread, thread: true, path: ['targets', index, 'thread'] };
  if (target.text !== undefined) return { texts: [target.text], thread: false, path: ['targets', index, 'text'] };
  return post.thread !== undefined ? { texts: post.thread, thread: true, path: ['thread'] } : { texts: [post.text ?? ''], thread: false, path: ['text'] };
}

let renderer: typeof PlatformTextFn | undefined;

/**
 * The Markdown parser and renderer are loaded (once) only by a run whose texts have event
 * Markdown or titles in them: a plain post never parses them (start-up, ARCHITECTURE.md).
 */
async function platformText(...args: Parameters<typeof PlatformTextFn>): Promise<ReturnType<typeof PlatformTextFn>> {
  renderer ??= (await import('../text/platform-text.js')).platformText;
  return renderer(...args);
}

/** The page where notes cut short can be read in full: the release's, else the pull request's. */
function moreUrlOf(ctx: Pick<RunContext, 'payload'>): string | undefined {
  for (const root of ['release', 'pull_request'] as const) {
    const url = (ctx.payload[root] as { html_url?: unknown } | undefined)?.html_url;
    if (typeof url === 'string' && /^https:\/\//.test(url)) return url;
  }
  return undefined;
}

/**
 * A first comment is one post: what it takes from the event is rendered and fitted like a
 * text, never threaded, its links written out (a first comment carries no links beside it).
 */
export async function firstCommentText(post: PostDefinition, target: TargetDefinition, ctx: Pick<RunContext, 'payload' | 'serverUrl' | 'repository'>): Promise<string | undefined> {
  if (post.firstComment === undefined || !hasMarks(post.firstComment)) return post.firstComment;
  const markdown = { links: 'inline', repositoryUrl: `${ctx.serverUrl}/${ctx.repository}`, serverUrl: ctx.serverUrl } as const;
  const moreUrl = moreUrlOf(ctx);
  return (await platformText(post.firstComment, { mode: 'truncate', markdown, fits: (t) => fitsPlatform(target.platform, t), maxPosts: 1, ...(moreUrl ? { moreUrl } : {}) })).texts[0];
}

export async function targetTexts(
  post: PostDefinition,
  target: TargetDefinition,
  index: number,
  publisher: Pick<PublisherDescriptor, 'postsThreads' | 'linkFacets'>,
  ctx: Pick<RunContext, 'payload' | 'serverUrl' | 'repository'>,
  maxThreadPosts: number,
): Promise<TargetTexts> {
  const written = writtenTexts(post, target, index);
  const texts = post.format === 'markdown' ? written.texts.map((t) => mark('authored-markdown', t)) : written.texts;
  if (!texts.some(hasMarks)) return { texts: written.texts, path: written.path };
  const markdown = { links: publisher.linkFacets === true ? 'facets' : 'inline', repositoryUrl: `${ctx.serverUrl}/${ctx.repository}`, serverUrl: ctx.serverUrl } as const;
  const mode = post.releaseNotes ?? 'truncate';
  // A thread the user wrote keeps its posts: each is fitted on its own.
  const maxPosts = !written.thread && publisher.postsThreads ? maxThreadPosts : 1;
  const moreUrl = moreUrlOf(ctx);
  const shaped = await Promise.all(texts.map((text) => platformText(text, { mode: mode === 'thread' && maxPosts === 1 ? 'truncate' : mode, markdown, fits: (t) => fitsPlatform(target.platform, t), maxPosts, ...(moreUrl ? { moreUrl } : {}) })));
  const links = shaped.flatMap((s) => s.links);
  return { texts: shaped.flatMap((s) => s.texts), ...(markdown.links === 'facets' && links.some((l) => l.length > 0) ? { links } : {}), path: written.path };
}
