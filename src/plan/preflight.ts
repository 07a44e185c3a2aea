/**
 * Local preflight: everything that can be known wrong before any request is sent. Pure:
 * given a post, one of its targets, its resolved media and the time, it lists problems as
 * (field path, message) pairs; the caller names the input or file:line.
 */
import { quote, isUuid } from '../inputs.js';
import type { ResolvedMedia } from '../model/media.js';
import { LETMEPOST_PLATFORMS, PLATFORM_LIMITS, type Platform } from '../model/platforms.js';
import type { PostDefinition } from '../model/post.js';
import type { PublisherKind } from '../publishers/types.js';
import { splitThread } from '../publishers/bluesky/thread-split.js';
import { countingNote, platformLength } from '../text/platform-length.js';
import { countGraphemes } from '../text/length.js';

export interface Problem {
  /** Path of the offending field in the post model, e.g. ['scheduledAt'] or ['media', 2]. */
  path: (string | number)[];
  /** Completes "Input 'x' …" / "file:line: 'x' …": says the value, what was expected, and the fix. */
  message: string;
}

/** The shortest lead time each publisher accepts for a scheduled post. */
export const MIN_SCHEDULE_LEAD_MS: Record<PublisherKind, number> = {
  letmepost: 1000,
  mastodon: 5 * 60 * 1000,
  // Bluesky has no native scheduling: a post not yet due waits for a later run.
  bluesky: Number.NEGATIVE_INFINITY,
};

export const BLUESKY_MAX_VIDEO_BYTES = 100 * 1024 * 1024;
/** The largest file `POST /v1/media` takes. */
export const LETMEPOST_UPLOAD_MAX_BYTES = 200 * 1024 * 1024;

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

/** What to say when a text would become a thread longer than `max-thread-posts`. */
export function runawayThreadMessage(length: number, posts: number, max: number, where: string): string {
  return `is ${length.toLocaleString('en-US')} characters, which would be a thread of ${posts} posts on ${where}, more than 'max-thread-posts' (${max}); shorten it, give a 'thread' list of the posts you mean, shorten a long placeholder with a filter such as {{ release.body | truncate: 250 }}, or raise 'max-thread-posts'`;
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
  const min = MIN_SCHEDULE_LEAD_MS[publisher];
  if (lead >= min) return undefined;
  const need = min >= 60_000 ? `${min / 60_000} minutes` : `${min / 1000} s`;
  const example = new Date(Math.ceil((now + Math.max(min, 60_000) + 3600_000) / 3600_000) * 3600_000).toISOString().replace('.000', '');
  const when = lead < 0 ? 'in the past' : `only ${Math.round(lead / 1000)} s ahead`;
  return `is ${quote(raw)} (${parsed.iso}), which is ${when}; ${publisher === 'mastodon' ? 'Mastodon schedules' : 'give a time'} at least ${need} ahead, in UTC (e.g. ${example}), or remove it to post now`;
}

/** Checks one post for one target. `texts` is the text or the thread. */
export function preflight(post: PostDefinition, target: PreflightTarget, texts: string[], media: ResolvedMedia[]): Problem[] {
  const problems: Problem[] = [];
  const add = (path: (string | number)[], message: string) => problems.push({ path, message });
  const { platform, publisher } = target;
  const limits = PLATFORM_LIMITS[platform];
  const targetIndex = post.targets.findIndex((t) => t.platform === platform && t.account === target.account);
  const targetPath = ['targets', Math.max(0, targetIndex)];

  // Who serves the target.
  if (publisher === 'letmepost') {
    if (!(LETMEPOST_PLATFORMS as readonly string[]).includes(platform)) {
      add(targetPath, `names platform '${platform}', which letmepost does not serve; use account 'mastodon' to post with the direct Mastodon publisher`);
    }
    if (!isUuid(target.account)) {
      add(targetPath, `has account ${quote(target.account)}, which is neither a letmepost account id (a uuid) nor 'bluesky' / 'mastodon'; copy the id from the letmepost dashboard`);
    }
  } else if (publisher !== platform) {
    add(targetPath, `uses the direct ${publisher} publisher for platform '${platform}'; it can only post to ${publisher}`);
  }

  // Text.
  if (post.thread !== undefined && publisher === 'letmepost') {
    add(['thread'], `is a thread of ${post.thread.length} posts, but letmepost publishes one text per post; write one 'text', or post the thread with the direct Bluesky or Mastodon publisher`);
  }
  texts.forEach((text, i) => {
    const path = post.thread !== undefined ? ['thread', i] : ['text'];
    if (text.trim() === '') {
      add(path, `is empty; write the text to post`);
      return;
    }
    // Direct publishers split a long single text into a thread; thread items must each fit.
    const splits = post.thread === undefined && (publisher === 'bluesky' || publisher === 'mastodon');
    if (splits && publisher === 'bluesky') {
      const posts = splitThread(text, { numbering: post.bluesky?.threadNumbering === true }).length;
      if (posts > target.maxThreadPosts) add(path, runawayThreadMessage(countGraphemes(text), posts, target.maxThreadPosts, 'Bluesky'));
    }
    // The Mastodon limit is the instance's own, learnt from the server before sending.
    if (splits || publisher === 'mastodon') return;
    const length = platformLength(platform, text);
    if (length > limits.maxGraphemes) {
      const urls = countingNote(platform);
      add(path, `is ${length} characters${urls}, over ${limits.displayName}'s limit of ${limits.maxGraphemes} by ${length - limits.maxGraphemes}; shorten it${publisher === 'letmepost' && platform === 'bluesky' ? ", or post with the direct Bluesky publisher, which splits long text into a thread" : ''}`);
    }
  });

  // Schedule: its form here; whether it is still ahead is decided at publish time, after
  // the ledger and the platform's replay had a say (see scheduleLeadProblem).
  if (post.scheduledAt !== undefined) {
    const parsed = parseScheduledAt(post.scheduledAt);
    if ('error' in parsed) add(['scheduledAt'], parsed.error);
  }

  if (post.scheduledAt !== undefined && publisher === 'mastodon' && texts.length > 1) {
    add(['thread'], `is a thread, which Mastodon cannot schedule (a reply needs its parent to exist); post it unscheduled, or schedule a single text`);
  }

  // First comment.
  if (post.firstComment !== undefined) {
    if (platform !== 'bluesky') add(['firstComment'], `is set, but first comments are supported on Bluesky only (this target is ${limits.displayName}); remove it or post it as a separate step`);
    else if (post.scheduledAt !== undefined) add(['firstComment'], `cannot be combined with a scheduled post (a reply needs its post to exist); remove the schedule or the first comment`);
    else if (platformLength(platform, post.firstComment) > limits.maxGraphemes) add(['firstComment'], `is ${platformLength(platform, post.firstComment)} characters, over ${limits.displayName}'s limit of ${limits.maxGraphemes}; shorten it`);
  }

  // Media.
  const images = media.filter((m) => m.kind === 'image');
  const videos = media.filter((m) => m.kind === 'video');
  if (limits.textOnly && media.length > 0) add(['media'], `has ${media.length} item(s), but ${limits.displayName} posts are text-only here; remove the media for this target`);
  if (limits.requiresMedia && media.length === 0) add(['media'], `is empty, but ${limits.displayName} requires an image or a video; add one`);
  if (!limits.textOnly) {
    if (images.length > limits.maxImages) add(['media'], `has ${images.length} images; ${limits.displayName} takes at most ${limits.maxImages}; remove ${images.length - limits.maxImages}`);
    if (videos.length > limits.maxVideos) add(['media'], `has ${videos.length} videos; ${limits.displayName} takes at most ${limits.maxVideos}`);
    if ((platform === 'bluesky' || platform === 'mastodon') && images.length > 0 && videos.length > 0) add(['media'], `mixes images and a video; ${limits.displayName} takes either up to ${limits.maxImages} images or one video`);
  }
  media.forEach((m, i) => {
    const name = m.displayPath ?? m.url ?? `item ${i + 1}`;
    if (limits.maxAltText !== undefined && m.alt !== undefined && m.alt.length > limits.maxAltText) {
      add(['media', i, 'alt'], `for ${quote(name)} is ${m.alt.length} characters; ${limits.displayName} allows ${limits.maxAltText}; shorten it`);
    }
    // Sizes are checked before any upload: a 2 GB file is refused here, not streamed first.
    const cap = m.kind === 'image' ? limits.maxImageBytes : Math.min(limits.maxVideoBytes ?? Number.POSITIVE_INFINITY, publisher === 'letmepost' && m.path !== undefined ? LETMEPOST_UPLOAD_MAX_BYTES : Number.POSITIVE_INFINITY);
    if (cap !== undefined && Number.isFinite(cap) && m.size !== undefined && m.size > cap && !(platform === 'bluesky' && publisher === 'bluesky' && m.kind === 'video')) {
      const fix = m.kind === 'image' ? 'resize or recompress it' : 'shorten or recompress it';
      add(['media', i], `${quote(name)} is ${m.size.toLocaleString('en-US')} bytes; ${limits.displayName} ${m.kind}s must be at most ${cap.toLocaleString('en-US')} bytes${cap === LETMEPOST_UPLOAD_MAX_BYTES ? " (letmepost's upload limit)" : ''}; ${fix}`);
    }
    if (platform === 'bluesky' && publisher === 'bluesky' && m.kind === 'video') {
      if (m.mimeType !== undefined && m.mimeType !== 'video/mp4') add(['media', i], `${quote(name)} is ${m.mimeType}; Bluesky takes MP4 video; convert it`);
      if (m.size !== undefined && m.size > BLUESKY_MAX_VIDEO_BYTES) add(['media', i], `${quote(name)} is ${m.size.toLocaleString('en-US')} bytes; Bluesky videos must be at most 100 MB`);
    }
  });

  // Per-platform options.
  if (platform === 'pinterest' && !post.pinterest?.boardId) add(['pinterest'], `is missing: Pinterest needs a board; set the board id`);
  if (platform === 'bluesky' && publisher === 'letmepost' && post.bluesky?.replyTo !== undefined && post.scheduledAt !== undefined) {
    add(['bluesky', 'replyTo'], `cannot be combined with a scheduled post through letmepost (it refuses scheduled replies); post the reply now, or schedule it with the direct Bluesky publisher`);
  }
  return problems;
}

/** Options for a platform no target posts to: a mistake, since they would be ignored. */
export function unusedOptionProblems(post: PostDefinition): Problem[] {
  const problems: Problem[] = [];
  const platforms = new Set(post.targets.map((t) => t.platform));
  const options: Array<[keyof PostDefinition, Platform]> = [
    ['twitter', 'twitter'],
    ['tiktok', 'tiktok'],
    ['pinterest', 'pinterest'],
    ['threads', 'threads'],
    ['mastodon', 'mastodon'],
  ];
  for (const [field, platform] of options) {
    if (post[field] !== undefined && !platforms.has(platform)) {
      problems.push({ path: [field], message: `is set, but no target posts to ${PLATFORM_LIMITS[platform].displayName}, so it would be ignored; remove it, or add a ${platform} target` });
    }
  }
  return problems;
}
