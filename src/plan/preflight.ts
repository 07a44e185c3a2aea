/**
 * Local preflight: everything that can be known wrong before any request is sent. Pure:
 * given a post, one of its targets, its resolved media and the time, it lists problems as
 * (field path, message) pairs; the caller names the input or file:line.
 */
import { quote, type FieldProblem } from '../errors.js';
import type { ResolvedMedia } from '../model/media.js';
import { PLATFORM_LIMITS, type Platform } from '../model/platforms.js';
import type { PostDefinition } from '../model/post.js';
import { descriptorFor, descriptorOf, PUBLISHERS } from '../publishers/registry.js';
import type { PlatformOptions, PublisherKind } from '../publishers/types.js';
import { countingNote, platformLength } from '../text/platform-length.js';
import { countGraphemes } from '../text/length.js';
import { runawayThreadMessage } from '../text/thread-split.js';

/** A problem at a field of the post (see FieldProblem). */
export type Problem = FieldProblem;

const ISO_WITH_ZONE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Parses an ISO-8601 date-time that states its time zone and returns it in UTC with `Z`
 * (the letmepost server rejects offsets). A time without a zone is refused: it would mean
 * a different moment on the runner than in the author's head.
 */
export function parseScheduledAt(raw: string): { iso: string } | { error: string } {
  const value = raw.trim();
  const example = 'e.g. 2026-12-01T09:00:00Z';
  const match = ISO_WITH_ZONE.exec(value);
  if (!match) {
    if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value)) {
      return { error: `is ${quote(value)}, which has no time zone; add Z for UTC or an offset such as +02:00 (${example})` };
    }
    return { error: `is ${quote(value)}, which is not an ISO-8601 date and time; write it as YYYY-MM-DDTHH:MM:SSZ (${example})` };
  }
  const ms = Date.parse(value.replace(' ', 'T').replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  const [, y, mo, d, h, mi, s] = match;
  // Date.parse rolls impossible days over (2026-02-30 → March 2): check the day against the month.
  const daysInMonth = [31, isLeapYear(Number(y)) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][Number(mo) - 1] ?? 0;
  const inRange = Number(mo) >= 1 && Number(mo) <= 12 && Number(d) >= 1 && Number(d) <= daysInMonth && Number(h) <= 23 && Number(mi) <= 59 && Number(s ?? 0) <= 59;
  if (Number.isNaN(ms) || !inRange || new Date(ms).getUTCFullYear() < Number(y) - 1) {
    return { error: `is ${quote(value)}, which is not a real date and time; check the month, the day and the time (${example})` };
  }
  return { iso: new Date(ms).toISOString() };
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export interface PreflightTarget {
  publisher: PublisherKind;
  platform: Platform;
  account: string;
  /** The most posts a long text may be split into (the `max-thread-posts` input). */
  maxThreadPosts: number;
}


/**
 * Whether a scheduled time is too soon for a publisher that schedules natively (letmepost
 * 1 s, Mastodon 5 minutes ahead): completes "'scheduledAt' …", or undefined when it is fine.
 * Not a preflight problem: a re-run after the time has passed finds the post it queued (the
 * ledger, the platform's replay), so this is only an error when nothing was sent for the key.
 */
export function scheduleLeadProblem(raw: string, publisher: PublisherKind, now: number): string | undefined {
  const parsed = parseScheduledAt(raw);
  if ('error' in parsed) return parsed.error;
  const lead = Date.parse(parsed.iso) - now;
  const min = descriptorOf(publisher).minScheduleLeadMs;
  if (lead >= min) return undefined;
  const need = min >= 60_000 ? `${min / 60_000} minutes` : `${min / 1000} s`;
  const example = new Date(Math.ceil((now + Math.max(min, 60_000) + 3600_000) / 3600_000) * 3600_000).toISOString().replace('.000', '');
  const when = lead < 0 ? 'in the past' : `only ${Math.round(lead / 1000)} s ahead`;
  return `is ${quote(raw)} (${parsed.iso}), which is ${when}; give a time at least ${need} ahead, in UTC (e.g. ${example}), or remove it to post now`;
}

/** "the direct Bluesky or Mastodon publisher": every publisher that posts threads. */
function threadPublishers(): string {
  const posting = PUBLISHERS.filter((d) => d.postsThreads);
  const direct = posting.flatMap((d) => (d.directTo === undefined ? [] : [d.directTo]));
  const others = posting.filter((d) => d.directTo === undefined).map((d) => d.title);
  return [...(direct.length > 0 ? [`the direct ${direct.join(' or ')} publisher`] : []), ...others].join(' or ');
}

/**
 * Checks one post for one target: what the platform takes (PLATFORM_LIMITS), then what its
 * publisher needs (its descriptor's own checks). `texts` is the text or the thread.
 */
export function preflight(post: PostDefinition, target: PreflightTarget, texts: readonly string[], media: readonly ResolvedMedia[]): Problem[] {
  const problems: Problem[] = [];
  const add = (path: (string | number)[], message: string) => problems.push({ path, message });
  const { platform } = target;
  const publisher = descriptorOf(target.publisher);
  const limits = PLATFORM_LIMITS[platform];
  const targetIndex = post.targets.findIndex((t) => t.platform === platform && t.account === target.account);
  const targetPath = ['targets', Math.max(0, targetIndex)];

  // Text.
  if (post.thread !== undefined && !publisher.postsThreads) {
    add(['thread'], `is a thread of ${post.thread.length} posts, but ${publisher.title} publishes one text per post; write one 'text', or post the thread with ${threadPublishers()}`);
  }
  texts.forEach((text, i) => {
    const path = post.thread !== undefined ? ['thread', i] : ['text'];
    if (text.trim() === '') {
      add(path, `is empty; write the text to post`);
      return;
    }
    // A single long text becomes a thread where the publisher splits it, up to max-thread-posts.
    if (post.thread === undefined && publisher.postsThreads) {
      const posts = publisher.splitCount?.(text, optionsFor(post, platform));
      if (posts !== undefined && posts > target.maxThreadPosts) add(path, runawayThreadMessage(countGraphemes(text), posts, target.maxThreadPosts, limits.displayName));
    }
    if (!publisher.checksTextCap) return;
    const length = platformLength(platform, text);
    if (length > limits.maxGraphemes) {
      add(path, `is ${length} characters${countingNote(platform)}, over ${limits.displayName}'s limit of ${limits.maxGraphemes} by ${length - limits.maxGraphemes}; shorten it${publisher.textCapHint?.(platform) ?? ''}`);
    }
  });

  // Languages and content labels: carried by some publishers only; set where none of the post's targets carries them, they would be lost.
  for (const field of ['languages', 'labels'] as const) {
    if (post[field] === undefined || publisher.takes?.[field] || post.targets.some((t) => descriptorFor(t).takes?.[field])) continue;
    const carriers = PUBLISHERS.filter((d) => d.takes?.[field]).map((d) => d.title);
    add([field], `is set, but no target of this post carries it (${publisher.title} does not); ${carriers.join(' and ')} ${carriers.length > 1 ? 'do' : 'does'}. Remove it, or post with one of them`);
  }

  // Schedule: its form here; whether it is still ahead is decided at publish time, after
  // the ledger and the platform's replay had a say (see scheduleLeadProblem).
  if (post.scheduledAt !== undefined) {
    const parsed = parseScheduledAt(post.scheduledAt);
    if ('error' in parsed) add(['scheduledAt'], parsed.error);
  }

  // First comment.
  if (post.firstComment !== undefined) {
    if (!limits.firstComment) add(['firstComment'], `is set, but first comments are supported on ${firstCommentPlatforms()} only (this target is ${limits.displayName}); remove it or post it as a separate step`);
    else if (post.scheduledAt !== undefined) add(['firstComment'], `cannot be combined with a scheduled post (a reply needs its post to exist); remove the schedule or the first comment`);
    else if (platformLength(platform, post.firstComment) > limits.maxGraphemes) add(['firstComment'], `is ${platformLength(platform, post.firstComment)} characters, over ${limits.displayName}'s limit of ${limits.maxGraphemes}; shorten it`);
  }

  // Media: what the platform takes; sizes before any upload (a 2 GB file is refused here, not streamed first).
  const images = media.filter((m) => m.kind === 'image');
  const videos = media.filter((m) => m.kind === 'video');
  if (limits.textOnly && media.length > 0) add(['media'], `has ${media.length} item(s), but ${limits.displayName} posts are text-only here; remove the media for this target`);
  if (limits.requiresMedia && media.length === 0) add(['media'], `is empty, but ${limits.displayName} requires an image or a video; add one`);
  if (!limits.textOnly) {
    if (images.length > limits.maxImages) add(['media'], `has ${images.length} images; ${limits.displayName} takes at most ${limits.maxImages}; remove ${images.length - limits.maxImages}`);
    if (videos.length > limits.maxVideos) add(['media'], `has ${videos.length} videos; ${limits.displayName} takes at most ${limits.maxVideos}`);
    if (limits.imagesOrVideo && images.length > 0 && videos.length > 0) add(['media'], `mixes images and a video; ${limits.displayName} takes either up to ${limits.maxImages} images or one video`);
  }
  media.forEach((m, i) => {
    const name = m.displayPath ?? m.url ?? `item ${i + 1}`;
    if (limits.maxAltText !== undefined && m.alt !== undefined && m.alt.length > limits.maxAltText) {
      add(['media', i, 'alt'], `for ${quote(name)} is ${m.alt.length} characters; ${limits.displayName} allows ${limits.maxAltText}; shorten it`);
    }
    if (m.kind === 'image' && limits.maxImageBytes !== undefined && m.size !== undefined && m.size > limits.maxImageBytes) {
      add(['media', i], `${quote(name)} is ${m.size.toLocaleString('en-US')} bytes; ${limits.displayName} images must be at most ${limits.maxImageBytes.toLocaleString('en-US')} bytes; resize or recompress it`);
    }
  });

  // Per-platform options.
  if (platform === 'pinterest' && !post.pinterest?.boardId) add(['pinterest'], `is missing: Pinterest needs a board; set the board id`);

  // What the publisher itself needs.
  problems.push(...publisher.checks({ post, platform, account: target.account, texts, media, targetPath }));
  return problems;
}

/** The post fields that hold one platform's options, each named after its platform. */
const OPTION_FIELDS = ['bluesky', 'mastodon', 'twitter', 'tiktok', 'pinterest', 'threads'] as const satisfies ReadonlyArray<keyof PostDefinition & Platform>;

/**
 * The option fields refused when no target posts to their platform. Not `bluesky`: the
 * inputs `link-card` and `thread-numbering` have defaults, so every inline post carries it.
 */
const UNUSED_CHECKED = ['twitter', 'tiktok', 'pinterest', 'threads', 'mastodon'] as const satisfies ReadonlyArray<(typeof OPTION_FIELDS)[number]>;

/** "Bluesky": the platforms whose posts take a first comment. */
function firstCommentPlatforms(): string {
  return Object.values(PLATFORM_LIMITS)
    .filter((l) => l.firstComment)
    .map((l) => l.displayName)
    .join(' and ');
}

/** The options of a post that a target on `platform` takes. */
export function optionsFor(post: PostDefinition, platform: Platform): PlatformOptions {
  const field = OPTION_FIELDS.find((f) => f === platform);
  return field !== undefined && post[field] !== undefined ? ({ [field]: post[field] } as PlatformOptions) : {};
}

/** Options for a platform no target posts to: a mistake, since they would be ignored. */
export function unusedOptionProblems(post: PostDefinition): Problem[] {
  const problems: Problem[] = [];
  const platforms = new Set(post.targets.map((t) => t.platform));
  for (const field of UNUSED_CHECKED) {
    const platform = field;
    if (post[field] !== undefined && !platforms.has(platform)) {
      problems.push({ path: [field], message: `is set, but no target posts to ${PLATFORM_LIMITS[platform].displayName}, so it would be ignored; remove it, or add a ${platform} target` });
    }
  }
  return problems;
}
