/**
 * The direct Mastodon publisher: statuses (and threads of replies) posted with the user's
 * access token on their own instance.
 *
 * Exactly once. Every status goes out with an `Idempotency-Key` header and the same JSON
 * bytes on every retry. Mastodon remembers a key for about an hour per account and answers
 * a repeat with the ORIGINAL status, whatever the new body says — the media ids included.
 * Uploads are not idempotent, so a re-run uploads its media again, and the status it gets
 * back carries the first run's media; the new uploads are then deleted (best effort).
 * Beyond the hour the action's ledger (ARCHITECTURE.md, Exactly once) has to catch a re-run.
 *
 * Threads. A text over the instance's limit becomes a thread: post i ≥ 2 is sent under
 * its own key (planned with the target) as a reply to post i − 1. Since every post has its own key, a
 * re-run after a failure midway gets the posts already written back from Mastodon and
 * continues from the first one missing.
 *
 * Replayed. Mastodon does not say that an answer is a replay, so it is inferred: a status
 * was posted by an earlier run when its `created_at` lies before this run began, on the
 * server's clock (the Date header of the instance request gives the offset; the margin is
 * the header's one-second resolution plus the round trip), or when it carries other media
 * than this run uploaded. A re-run within a second or two of the first run reads as new.
 * A scheduled status has no creation time: only the media comparison applies to it.
 */
import { openAsBlob } from 'node:fs';
import { basename } from 'node:path';
import { contentChangedWarning } from '../content-change.js';
import { fetchLimited, LimitedFetchError } from '../../io/fetch-limited.js';
import { PublishError, SCHEDULE_REFUSED } from '../../errors.js';
import { httpRequest, retryAfterMs, type HttpResponse } from '../../io/http.js';
import { compact, isObject, num, parseJson, str, type Json } from '../../io/json.js';
import { mediaKindOf, sniffMimeType, type MediaKind, type ResolvedMedia } from '../../model/media.js';
import { runawayThreadMessage, SplitError, splitIntoPosts } from '../../text/thread-split.js';
import { clockWith, DEFAULT_RETRY, withRetries, type Clock, type RetryPolicy } from '../../io/retry.js';
import { redact, registerSecret } from '../../secrets.js';
import { countGraphemes, weightedLength } from '../../text/length.js';
import type { Log, PlannedTarget, Publisher, TargetResult } from '../types.js';

export interface MastodonConfig {
  /** The instance's base URL, e.g. https://mastodon.social. */
  server: string;
  /** A user access token with write:statuses (and write:media for media). */
  token: string;
  requestTimeoutMs: number;
  /** Epoch ms: no attempt or media check starts after it. */
  deadline: number;
  log: Log;
  fetch?: typeof fetch;
  wait?: (ms: number) => Promise<void>;
  /** Between checks of a media attachment that is still processing; default 1000. */
  mediaPollIntervalMs?: number;
}

/** What the instance accepts, from `GET /api/v2/instance`; Mastodon's defaults where it is silent. */
export interface InstanceLimits {
  maxCharacters: number;
  /** `characters_reserved_per_url`: every link counts as this many characters. */
  urlWeight: number;
  maxMediaAttachments: number;
  imageSizeLimit?: number;
  videoSizeLimit?: number;
  supportedMimeTypes?: string[];
  /** Longest alt text; instances before 4.4 do not say (the limit is 1500 there). */
  descriptionLimit: number;
  /** Server clock minus local clock, ms, from the Date header (0 when absent). */
  clockSkewMs: number;
  /** How far off clockSkewMs may be. */
  clockUncertaintyMs: number;
}

/** Mastodon's own defaults, used when the instance does not state a limit. */
export const MASTODON_DEFAULTS = { maxCharacters: 500, urlWeight: 23, maxMediaAttachments: 4, descriptionLimit: 1500 } as const;
/** Caps for downloading media given by URL when the instance states no size limit. */
const FALLBACK_IMAGE_BYTES = 16 * 1024 * 1024;
const FALLBACK_VIDEO_BYTES = 99 * 1024 * 1024;
const TOKEN_HINT = "check the 'mastodon-token' secret: it must be a valid access token of this instance with the write:statuses scope (and write:media to attach media)";

function bytes(n: number): string {
  return `${n.toLocaleString('en-US')} bytes`;
}

/** Mastodon's error text: `{"error": "…", "error_description"?: "…"}`. */
function serverMessage(body: Buffer): string | undefined {
  const parsed = parseJson(body);
  if (!isObject(parsed)) return undefined;
  const message = str(parsed.error);
  const description = str(parsed.error_description);
  return message && description && description !== message ? `${message}: ${description}` : (message ?? description);
}

/** Reads the limits from an instance entity (v2, or the v1 shape of older servers). */
export function readInstanceLimits(entity: Json): Omit<InstanceLimits, 'clockSkewMs' | 'clockUncertaintyMs'> {
  const configuration = isObject(entity.configuration) ? entity.configuration : {};
  const statuses = isObject(configuration.statuses) ? configuration.statuses : {};
  const media = isObject(configuration.media_attachments) ? configuration.media_attachments : {};
  const types = Array.isArray(media.supported_mime_types) ? media.supported_mime_types.filter((t): t is string => typeof t === 'string') : undefined;
  return compact({
    maxCharacters: num(statuses.max_characters) ?? num(entity.max_toot_chars) ?? MASTODON_DEFAULTS.maxCharacters,
    urlWeight: typeof statuses.characters_reserved_per_url === 'number' && statuses.characters_reserved_per_url >= 0 ? statuses.characters_reserved_per_url : MASTODON_DEFAULTS.urlWeight,
    maxMediaAttachments: num(statuses.max_media_attachments) ?? MASTODON_DEFAULTS.maxMediaAttachments,
    imageSizeLimit: num(media.image_size_limit),
    videoSizeLimit: num(media.video_size_limit),
    supportedMimeTypes: types && types.length > 0 ? types : undefined,
    descriptionLimit: num(media.description_limit) ?? MASTODON_DEFAULTS.descriptionLimit,
  }) as Omit<InstanceLimits, 'clockSkewMs' | 'clockUncertaintyMs'>;
}

/** How long to wait after a 429: until X-RateLimit-Reset (server clock), else Retry-After. */
export function rateLimitWaitMs(headers: Headers, now = Date.now()): number | undefined {
  const reset = Date.parse(headers.get('x-ratelimit-reset') ?? '');
  if (!Number.isNaN(reset)) {
    // Both times on the server's clock; Date is rounded down, so this never waits too little.
    const serverNow = Date.parse(headers.get('date') ?? '');
    return Math.max(0, reset - (Number.isNaN(serverNow) ? now : serverNow));
  }
  return retryAfterMs(headers.get('retry-after'), now);
}

/** The texts of the statuses to post: the thread, the text, or the text split to fit. */
export function planTexts(target: PlannedTarget, limits: Pick<InstanceLimits, 'maxCharacters' | 'urlWeight'>, host: string): string[] {
  const spoiler = target.options.mastodon?.spoilerText ?? '';
  // Mastodon counts the content warning and the text together.
  const budget = limits.maxCharacters - countGraphemes(spoiler);
  const limitText = `${host}'s limit of ${limits.maxCharacters} characters${spoiler ? ` (${budget} once the ${countGraphemes(spoiler)}-character content warning is counted)` : ''}`;
  const links = `every link counts as ${limits.urlWeight}`;
  if (budget < 1) {
    throw new PublishError(`The Mastodon content warning (spoilerText) is ${countGraphemes(spoiler)} characters, which leaves no room for text under ${host}'s limit of ${limits.maxCharacters}; shorten it`);
  }
  if (target.texts.length > 1) {
    target.texts.forEach((text, i) => {
      const length = weightedLength(text, limits.urlWeight);
      if (length > budget) {
        throw new PublishError(`Post ${i + 1} of the thread is ${length} characters (${links}), over ${limitText}, by ${length - budget}; shorten it or split it into two posts of the thread`);
      }
    });
    if (target.scheduledAt !== undefined) {
      throw new PublishError(`Mastodon cannot schedule a thread (a reply needs the status it answers to exist); post the thread now, or schedule a single text`);
    }
    return [...target.texts];
  }
  const text = target.texts[0] ?? '';
  const length = weightedLength(text, limits.urlWeight);
  if (length <= budget) return [text];
  let parts: string[];
  try {
    parts = splitIntoPosts(text, { limit: budget, urlWeight: limits.urlWeight });
  } catch (error) {
    if (!(error instanceof SplitError)) throw error;
    throw new PublishError(`The text is ${length} characters (${links}), over ${limitText}, and cannot be split into posts: ${error.message}`);
  }
  const max = target.maxThreadPosts ?? Number.POSITIVE_INFINITY;
  if (parts.length > max) {
    throw new PublishError(`The text ${runawayThreadMessage(countGraphemes(text), parts.length, max, `${host} (${limits.maxCharacters} characters a post)`)}; nothing was posted`, { code: 'rejected' });
  }
  if (target.scheduledAt !== undefined) {
    throw new PublishError(
      `The text is ${length} characters (${links}), over ${limitText}, so it would be a thread of ${parts.length} posts, and Mastodon cannot schedule a thread (a reply needs the status it answers to exist); shorten the text to ${budget} characters, or remove 'scheduledAt' to post the thread now`,
    );
  }
  return parts;
}

/** What is known of a media item before upload. */
interface MediaFacts {
  name: string;
  kind: MediaKind;
  mimeType?: string;
  size?: number;
  alt?: string;
}

/** Every reason the instance would refuse these media; empty when they fit. */
export function mediaProblems(media: MediaFacts[], limits: InstanceLimits, host: string): string[] {
  const problems: string[] = [];
  const images = media.filter((m) => m.kind === 'image').length;
  const videos = media.length - images;
  if (images > 0 && videos > 0) problems.push(`the post mixes images and a video; Mastodon takes either up to ${limits.maxMediaAttachments} images or one video`);
  if (videos > 1) problems.push(`the post has ${videos} videos; Mastodon takes one`);
  if (media.length > limits.maxMediaAttachments) problems.push(`the post has ${media.length} media items; ${host} takes at most ${limits.maxMediaAttachments}; remove ${media.length - limits.maxMediaAttachments}`);
  for (const m of media) {
    if (m.mimeType && limits.supportedMimeTypes && !limits.supportedMimeTypes.includes(m.mimeType)) {
      problems.push(`'${m.name}' is ${m.mimeType}, which ${host} does not accept; convert it to one of ${limits.supportedMimeTypes.filter((t) => t.startsWith(`${m.kind}/`)).join(', ')}`);
    }
    const cap = m.kind === 'image' ? limits.imageSizeLimit : limits.videoSizeLimit;
    if (m.size !== undefined && cap !== undefined && m.size > cap) {
      problems.push(`'${m.name}' is ${bytes(m.size)}; ${host} takes ${m.kind}s up to ${bytes(cap)}; ${m.kind === 'image' ? 'resize or recompress it' : 'shorten or recompress it'}`);
    }
    if (m.alt !== undefined && countGraphemes(m.alt) > limits.descriptionLimit) {
      problems.push(`the alt text of '${m.name}' is ${countGraphemes(m.alt)} characters; ${host} allows ${limits.descriptionLimit}; shorten it`);
    }
  }
  return problems;
}

/** A media item ready to upload. */
interface PreparedMedia extends MediaFacts {
  mimeType: string;
  size: number;
  filename: string;
  blob: () => Promise<Blob>;
}

/** A status as Mastodon returns it, or the scheduled status it returns for `scheduled_at`. */
interface Answer {
  id: string;
  scheduled: boolean;
  createdAt?: number;
  scheduledAt?: string;
  uri?: string;
  url?: string;
  /** The status's text as Mastodon renders it (HTML). */
  content?: string;
  mediaIds: string[];
}

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** The plain text of a status's rendered content: paragraphs and line breaks kept, tags dropped. */
export function statusText(html: string): string {
  return html
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/p>\s*<p[^>]*>/gi, '\n\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) =>
      name[0] === '#' ? String.fromCodePoint(name[1]?.toLowerCase() === 'x' ? parseInt(name.slice(2), 16) : Number(name.slice(1))) : (ENTITIES[name.toLowerCase()] ?? whole),
    );
}

/** Whether two texts are the same post, as Mastodon renders it (whitespace may differ). */
function sameText(a: string, b: string): boolean {
  const norm = (t: string) => t.replace(/\s+/g, ' ').trim();
  return norm(a) === norm(b);
}

function readAnswer(parsed: Json): Answer | undefined {
  const id = str(parsed.id);
  if (!id) return undefined;
  if (isObject(parsed.params) && str(parsed.scheduled_at)) {
    const ids = Array.isArray(parsed.params.media_ids) ? parsed.params.media_ids.map(String) : [];
    const text = str(parsed.params.text);
    return { id, scheduled: true, scheduledAt: str(parsed.scheduled_at), ...(text !== undefined ? { content: escapeHtml(text) } : {}), mediaIds: ids };
  }
  const created = Date.parse(str(parsed.created_at) ?? '');
  const attachments = Array.isArray(parsed.media_attachments) ? parsed.media_attachments.filter(isObject) : [];
  return compact({
    id,
    scheduled: false,
    createdAt: Number.isNaN(created) ? undefined : created,
    uri: str(parsed.uri),
    url: str(parsed.url),
    content: str(parsed.content),
    mediaIds: attachments.map((a) => String(a.id)),
  }) as Answer;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

/** A final error of a retried request: transient ones become code 'failed' (a re-run retries). */
function finalError(error: unknown): unknown {
  if (!(error instanceof PublishError) || error.code === 'failed') return error;
  const transient = error.retryable || (error.cause instanceof PublishError && error.cause.retryable);
  return transient ? new PublishError(error.message, { code: 'failed', outcomeUnknown: error.outcomeUnknown, cause: error }) : error;
}

export class MastodonPublisher implements Publisher {
  readonly kind = 'mastodon' as const;
  private readonly policy: RetryPolicy;
  private readonly clock: Clock;
  /** Local time this publisher was made: before any request of this run. */
  private readonly startedAt = Date.now();
  private instancePending: Promise<InstanceLimits> | undefined;
  private limits: InstanceLimits | undefined;

  constructor(private readonly config: MastodonConfig) {
    this.policy = { ...DEFAULT_RETRY, deadline: config.deadline };
    this.clock = clockWith(config.wait);
    registerSecret(config.token);
  }

  private get base(): string {
    return this.config.server.trim().replace(/\/+$/, '');
  }

  private get host(): string {
    try {
      return new URL(this.base).host;
    } catch {
      return this.base;
    }
  }

  // ───────────────────────────── dry run ─────────────────────────────

  async describe(target: PlannedTarget): Promise<unknown> {
    const limits = this.limits ?? { ...MASTODON_DEFAULTS, clockSkewMs: 0, clockUncertaintyMs: 0 };
    const problems: string[] = [];
    let texts = target.texts;
    try {
      texts = planTexts(target, limits, this.host);
    } catch (error) {
      if (!(error instanceof PublishError)) throw error;
      problems.push(error.message);
    }
    problems.push(...mediaProblems(target.media.map((m, i) => this.facts(m, i)), limits, this.host));
    const auth = { Authorization: 'Bearer ***' };
    const mediaIds = target.media.map((_, i) => `<id of upload ${i + 1}>`);
    return compact({
      limits: this.limits
        ? { maxCharacters: limits.maxCharacters, charactersReservedPerUrl: limits.urlWeight, from: `${this.base}/api/v2/instance` }
        : { maxCharacters: limits.maxCharacters, charactersReservedPerUrl: limits.urlWeight, from: "Mastodon's defaults; the instance's own limits are read when publishing" },
      requests: [
        { method: 'GET', url: `${this.base}/api/v2/instance` },
        ...target.media.map((m, i) => ({
          method: 'POST',
          url: `${this.base}/api/v2/media`,
          headers: auth,
          form: compact({ file: `<${[this.facts(m, i).name, m.mimeType, m.size !== undefined ? bytes(m.size) : undefined].filter(Boolean).join(', ')}>`, description: m.alt }),
        })),
        ...texts.map((text, i) => ({
          method: 'POST',
          url: `${this.base}/api/v1/statuses`,
          headers: { ...auth, 'Content-Type': 'application/json', 'Idempotency-Key': this.keyOf(target, i) },
          body: JSON.parse(this.statusBody(target, text, i === 0 ? mediaIds : [], i > 0 ? `<id of post ${i}>` : undefined)) as unknown,
        })),
      ],
      problems: problems.length > 0 ? problems : undefined,
    });
  }

  // ───────────────────────────── publish ─────────────────────────────

  async publish(target: PlannedTarget): Promise<TargetResult[]> {
    if (!this.base) throw new PublishError("Input 'mastodon-server' is empty; set it to your instance's URL, e.g. https://mastodon.social");
    const limits = await this.instance();
    const texts = planTexts(target, limits, this.host);
    if (texts.length > 1 && target.texts.length === 1) {
      this.config.log.info(`${target.label} → mastodon: the text is over ${this.host}'s limit of ${limits.maxCharacters} characters; posting it as a thread of ${texts.length}`);
    }
    const media = await this.prepareMedia(target, limits);
    const warnings = media.filter((m) => !m.alt?.trim()).map((m) => `media '${m.name}' has no alt text; add 'alt' so that people using screen readers know what it shows`);
    const uploaded: string[] = [];
    for (const m of media) uploaded.push(await this.upload(m));

    const results: TargetResult[] = [];
    let parent: string | undefined;
    for (const [i, text] of texts.entries()) {
      const key = this.keyOf(target, i);
      const sentMedia = i === 0 ? uploaded : [];
      const part = texts.length > 1 ? `${i + 1}/${texts.length}` : undefined;
      const what = `${target.label} → mastodon${part ? ` (${part})` : ''}`;
      let answer: Answer;
      try {
        answer = await this.postStatus(what, key, this.statusBody(target, text, sentMedia, parent), target.scheduledAt !== undefined);
      } catch (error) {
        if (this.publishedAtItsTime(target, error)) return [this.publishedAtItsTimeResult(target, key)];
        throw this.partialThread(error, results, i, texts.length);
      }
      const otherMedia = sentMedia.length > 0 && !sameIds(answer.mediaIds, sentMedia);
      // Mastodon answers a repeated key with the original status, whatever this body says.
      const earlier = answer.content !== undefined ? statusText(answer.content) : undefined;
      const otherText = earlier !== undefined && !sameText(earlier, text);
      const replayed = otherMedia || otherText || (answer.createdAt !== undefined && answer.createdAt < this.runStartOnServer(limits));
      if (otherMedia) await this.discardUploads(what, uploaded);
      const changed = otherText ? [contentChangedWarning(answer.url ?? answer.uri, earlier, text)] : [];
      results.push(this.result(target, answer, key, part, replayed, [...(i === 0 ? warnings : []), ...changed]));
      parent = answer.id;
    }
    return results;
  }

  private result(target: PlannedTarget, answer: Answer, key: string, part: string | undefined, replayed: boolean, warnings: string[]): TargetResult {
    const result: TargetResult = {
      label: target.label,
      publisher: this.kind,
      platform: target.platform,
      status: answer.scheduled ? 'queued' : 'published',
      id: answer.id,
      idempotencyKey: key,
      replayed,
      warnings: [...warnings],
    };
    if (part) result.part = part;
    if (answer.uri) result.uri = answer.uri;
    if (answer.url) result.url = answer.url;
    if (answer.scheduled) result.scheduledAt = answer.scheduledAt ?? target.scheduledAt;
    if (target.scheduledAt !== undefined && !answer.scheduled) {
      result.warnings.push(`${this.host} published the post at once instead of scheduling it for ${target.scheduledAt}`);
    }
    return result;
  }

  /**
   * A re-run after the scheduled time: the key names a scheduled status that Mastodon no
   * longer has (404), because it was published at its time (or deleted by hand before it).
   */
  private publishedAtItsTime(target: PlannedTarget, error: unknown): boolean {
    return target.scheduledAt !== undefined && Date.parse(target.scheduledAt) <= Date.now() && error instanceof PublishError && error.code === 'not_found';
  }

  private publishedAtItsTimeResult(target: PlannedTarget, key: string): TargetResult {
    this.config.log.info(`${target.label} → mastodon: the status scheduled under key ${key} is no longer scheduled on ${this.host}; its time (${target.scheduledAt}) has passed`);
    return {
      label: target.label,
      publisher: this.kind,
      platform: target.platform,
      status: 'published',
      scheduledAt: target.scheduledAt!,
      idempotencyKey: key,
      replayed: true,
      warnings: [
        `an earlier run scheduled this post for ${target.scheduledAt}; ${this.host} no longer lists it as scheduled, so it was published at its time (or deleted by hand before it) — nothing was posted now. Mastodon does not say which status it became: check the account`,
      ],
    };
  }

  /** The key of post i (0-based) of the thread: the target's own for the first. */
  private keyOf(target: PlannedTarget, i: number): string {
    return target.keys.parts[i] ?? target.keys.parts[target.keys.parts.length - 1]!;
  }

  /** The JSON body of a status: fields in a fixed order, so the same post is the same bytes. */
  private statusBody(target: PlannedTarget, text: string, mediaIds: string[], inReplyToId: string | undefined): string {
    const options = target.options.mastodon ?? {};
    return JSON.stringify(
      compact({
        status: text,
        media_ids: mediaIds.length > 0 ? mediaIds : undefined,
        in_reply_to_id: inReplyToId,
        visibility: options.visibility,
        language: options.language,
        spoiler_text: options.spoilerText,
        sensitive: options.sensitive,
        scheduled_at: target.scheduledAt,
      }),
    );
  }

  /** This run's start on the server's clock, less the uncertainty of that clock. */
  private runStartOnServer(limits: InstanceLimits): number {
    return this.startedAt + limits.clockSkewMs - limits.clockUncertaintyMs;
  }

  /** Adds what a failed thread already has to the error: those posts exist, a re-run continues. */
  private partialThread(error: unknown, done: TargetResult[], index: number, total: number): unknown {
    if (!(error instanceof PublishError) || done.length === 0) return error;
    const posted = done.map((r) => r.url ?? r.id).join(', ');
    const range = done.length === 1 ? 'Post 1' : `Posts 1–${done.length}`;
    const transient = error.code === 'failed' || error.outcomeUnknown;
    return new PublishError(
      `${error.message}. ${range} of the thread of ${total} ${done.length === 1 ? 'is' : 'are'} published (${posted}); post ${index + 1} is not: ${transient ? '' : 'once the cause is fixed, '}re-running the job within an hour continues the thread from post ${index + 1} without posting the others again`,
      { code: error.code, outcomeUnknown: error.outcomeUnknown, cause: error },
    );
  }

  // ───────────────────────────── HTTP ─────────────────────────────

  private requestTimeout(extraMs = 0): number {
    return Math.min(this.config.requestTimeoutMs + extraMs, Math.max(1000, this.config.deadline - Date.now()));
  }

  private request(what: string, method: string, path: string, init: { headers?: Record<string, string>; body?: RequestInit['body']; extraTimeoutMs?: number } = {}): Promise<HttpResponse> {
    return httpRequest(
      what,
      `${this.base}${path}`,
      { method, headers: { Authorization: `Bearer ${this.config.token}`, ...init.headers }, ...(init.body !== undefined ? { body: init.body } : {}) },
      this.requestTimeout(init.extraTimeoutMs),
      this.config.fetch,
    );
  }

  /** withRetries, with a transient final failure marked 'failed' (a re-run retries it). */
  private async retrying<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    try {
      return await withRetries(what, attempt, this.policy, this.config.log, this.clock);
    } catch (error) {
      throw finalError(error);
    }
  }

  /** The error for an unexpected answer, classified for the retry policy. Secrets scrubbed. */
  private failure(what: string, response: HttpResponse): PublishError {
    const status = response.status;
    const said = serverMessage(response.body);
    const head = `${what}: ${this.host} answered HTTP ${status}${said ? ` (${said.replace(/\.$/, '')})` : ''}`;
    const make = (text: string, opts: ConstructorParameters<typeof PublishError>[1]) => new PublishError(redact(text), opts);
    if (status === 401 || status === 403) return make(`${head}; ${TOKEN_HINT}`, { code: 'unauthorized' });
    if (status === 413) return make(`${head}; the file is larger than the server accepts`, { code: 'rejected' });
    if (status === 422) return make(head, { code: said !== undefined && /schedul/i.test(said) ? SCHEDULE_REFUSED : 'rejected' });
    if (status === 429) {
      return make(`${head}; waiting for the rate limit to reset`, { retryable: true, code: 'failed', retryAfterMs: rateLimitWaitMs(response.headers) ?? 5000 });
    }
    if (status >= 500) return make(head, { retryable: true, code: 'failed', retryAfterMs: retryAfterMs(response.headers.get('retry-after')) });
    return make(head, { code: `http_${status}` });
  }

  // ───────────────────────────── instance ─────────────────────────────

  /** The instance's limits: asked once per run (a failed ask is asked again by the next target). */
  private instance(): Promise<InstanceLimits> {
    this.instancePending ??= this.fetchInstance().then(
      (limits) => (this.limits = limits),
      (error: unknown) => {
        this.instancePending = undefined;
        throw error;
      },
    );
    return this.instancePending;
  }

  private async fetchInstance(): Promise<InstanceLimits> {
    // v2 since Mastodon 4.0; v1 for older servers.
    for (const path of ['/api/v2/instance', '/api/v1/instance']) {
      const what = `GET ${path}`;
      const limits = await this.retrying(what, async () => {
        const before = Date.now();
        const response = await this.request(what, 'GET', path);
        const after = Date.now();
        if (response.status === 404 || response.status === 410) return undefined;
        if (response.status !== 200) throw this.failure(what, response);
        const entity = parseJson(response.body);
        if (!isObject(entity)) {
          throw new PublishError(`${what}: ${this.base} did not answer with Mastodon's instance description; check 'mastodon-server': it must be the instance's base URL, e.g. https://mastodon.social`);
        }
        const serverDate = Date.parse(response.headers.get('date') ?? '');
        const clock = Number.isNaN(serverDate)
          ? { clockSkewMs: 0, clockUncertaintyMs: 5000 }
          : { clockSkewMs: serverDate - (before + after) / 2, clockUncertaintyMs: 1000 + (after - before) };
        return { ...readInstanceLimits(entity), ...clock };
      });
      if (limits) {
        this.config.log.debug(`${this.host}: up to ${limits.maxCharacters} characters (links count ${limits.urlWeight}), ${limits.maxMediaAttachments} media items`);
        return limits;
      }
    }
    throw new PublishError(`${this.base} has no Mastodon API (GET /api/v2/instance answered 404); check 'mastodon-server': it must be the instance's base URL, e.g. https://mastodon.social`, {
      code: 'not_found',
    });
  }

  // ───────────────────────────── statuses ─────────────────────────────

  private async postStatus(what: string, key: string, body: string, scheduled: boolean): Promise<Answer> {
    this.config.log.info(`${what}: POST /api/v1/statuses, idempotency key ${key}`);
    return this.retrying(what, async () => {
      const response = await this.request(what, 'POST', '/api/v1/statuses', { headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key }, body });
      if (response.status === 200) {
        const parsed = parseJson(response.body);
        const answer = isObject(parsed) ? readAnswer(parsed) : undefined;
        // The same key brings the same status back: asking again is safe.
        if (answer) return answer;
        throw new PublishError(`${what}: ${this.host} answered HTTP 200 without a status`, { retryable: true, outcomeUnknown: true, code: 'failed' });
      }
      if (response.status === 404) {
        const said = serverMessage(response.body) ?? 'Record not found';
        throw new PublishError(
          redact(
            scheduled
              ? `${what}: ${this.host} answered HTTP 404 (${said}) for key ${key}: the post scheduled under this key is no longer a scheduled status, most likely because it was published at its time; check the account. Nothing was posted now`
              : `${what}: ${this.host} answered HTTP 404 (${said}) for key ${key}: the status posted earlier under this key, or the status this one replies to, has been deleted. Nothing was posted now`,
          ),
          { code: 'not_found', outcomeUnknown: scheduled },
        );
      }
      throw this.failure(what, response);
    });
  }

  // ───────────────────────────── media ─────────────────────────────

  private facts(m: ResolvedMedia, i: number): MediaFacts {
    return compact({ name: m.displayPath ?? m.url ?? `media ${i + 1}`, kind: m.kind, mimeType: m.mimeType, size: m.size, alt: m.alt });
  }

  private refuseMedia(problems: string[]): void {
    if (problems.length === 0) return;
    throw new PublishError(`The media cannot be posted to ${this.host} (nothing was uploaded): ${problems.join('; ')}`, { code: 'rejected' });
  }

  /** Checks every item against the instance's limits, fetching media given by URL, before any upload. */
  private async prepareMedia(target: PlannedTarget, limits: InstanceLimits): Promise<PreparedMedia[]> {
    this.refuseMedia(mediaProblems(target.media.map((m, i) => this.facts(m, i)), limits, this.host));
    const prepared: PreparedMedia[] = [];
    for (const [i, m] of target.media.entries()) {
      const facts = this.facts(m, i);
      if (m.path !== undefined) {
        const path = m.path;
        const mimeType = m.mimeType ?? 'application/octet-stream';
        prepared.push({ ...facts, mimeType, size: m.size ?? 0, filename: basename(path), blob: () => openAsBlob(path, { type: mimeType }) });
      } else if (m.url !== undefined) {
        prepared.push(await this.download(m.url, facts, limits));
      }
    }
    this.refuseMedia(mediaProblems(prepared, limits, this.host));
    return prepared;
  }

  /** Media given by URL are fetched (size-capped) and typed from their bytes, since Mastodon takes only uploads. */
  private async download(url: string, facts: MediaFacts, limits: InstanceLimits): Promise<PreparedMedia> {
    const what = `fetch ${url}`;
    const maxBytes = Math.max(limits.imageSizeLimit ?? FALLBACK_IMAGE_BYTES, limits.videoSizeLimit ?? FALLBACK_VIDEO_BYTES);
    const fetched = await this.retrying(what, async () => {
      try {
        return await fetchLimited(url, { fetch: this.config.fetch, timeoutMs: this.requestTimeout(), maxBytes, overflow: 'error', accept: 'image/*,video/*' });
      } catch (error) {
        if (!(error instanceof LimitedFetchError)) throw error;
        throw new PublishError(`media ${error.message}`, { retryable: error.transient, code: error.transient ? 'failed' : 'rejected' });
      }
    });
    const mimeType = sniffMimeType(fetched.bytes.subarray(0, 64 * 1024));
    if (mimeType === undefined) {
      throw new PublishError(`media '${url}' is not a PNG, JPEG, GIF, WebP image or an MP4/MOV video (checked by its content); link the file itself, not a page showing it`, { code: 'rejected' });
    }
    const data = fetched.bytes;
    const name = basename(new URL(fetched.url).pathname) || 'media';
    return { ...facts, kind: mediaKindOf(mimeType), mimeType, size: data.length, filename: name, blob: async () => new Blob([new Uint8Array(data)], { type: mimeType }) };
  }

  /** Uploads one item (`POST /api/v2/media`) and waits until Mastodon has processed it. */
  private async upload(m: PreparedMedia): Promise<string> {
    const what = `upload ${m.name}`;
    this.config.log.info(`${what}: POST /api/v2/media (${bytes(m.size)}, ${m.mimeType})`);
    // Not idempotent, but a duplicate upload is only an unused file on the server, never a
    // duplicate post: safe to retry.
    const attachment = await this.retrying(what, async () => {
      const form = new FormData();
      form.append('file', await m.blob(), m.filename);
      if (m.alt !== undefined) form.append('description', m.alt);
      // Room to send the file at 1 MB/s on top of the usual timeout.
      const response = await this.request(what, 'POST', '/api/v2/media', { body: form, extraTimeoutMs: Math.ceil(m.size / 1_000_000) * 1000 });
      if (response.status !== 200 && response.status !== 202) throw this.failure(what, response);
      const parsed = parseJson(response.body);
      const id = isObject(parsed) ? str(parsed.id) : undefined;
      if (!id || !isObject(parsed)) throw new PublishError(`${what}: ${this.host} answered HTTP ${response.status} without a media id`, { retryable: true, code: 'failed' });
      return { id, ready: response.status === 200 && str(parsed.url) !== undefined };
    });
    if (!attachment.ready) await this.untilProcessed(m.name, attachment.id);
    return attachment.id;
  }

  /** Polls `GET /api/v1/media/:id` until the attachment has its `url` (206 while processing). */
  private async untilProcessed(name: string, id: string): Promise<void> {
    const interval = this.config.mediaPollIntervalMs ?? 1000;
    const what = `GET /api/v1/media/${id}`;
    for (let checks = 0; ; checks++) {
      if (this.clock.now() + interval >= this.config.deadline) {
        throw new PublishError(`${this.host} was still processing '${name}' when the step's deadline came (${checks} checks); nothing was posted: re-run the job, or raise 'timeout-seconds'`, { code: 'failed' });
      }
      await this.clock.sleep(interval);
      let response: HttpResponse;
      try {
        response = await this.request(what, 'GET', `/api/v1/media/${encodeURIComponent(id)}`);
      } catch (error) {
        if (!(error instanceof PublishError) || !error.retryable) throw error;
        this.config.log.warning(`${error.message}; checking again`);
        continue;
      }
      if (response.status === 200) {
        const parsed = parseJson(response.body);
        if (isObject(parsed) && str(parsed.url)) return;
        continue;
      }
      if (response.status === 206) continue;
      const error = this.failure(what, response);
      if (!error.retryable) {
        throw new PublishError(redact(`${this.host} could not process '${name}': ${error.message}`), { code: error.code });
      }
      this.config.log.warning(`${error.message}; checking again`);
      if (error.retryAfterMs && error.retryAfterMs > interval) await this.clock.sleep(error.retryAfterMs - interval);
    }
  }

  /** After a replay the status carries the earlier run's media: this run's uploads are deleted. */
  private async discardUploads(what: string, ids: string[]): Promise<void> {
    this.config.log.info(`${what}: an earlier run posted this status with its own media; deleting the ${ids.length} file(s) uploaded again by this run`);
    for (const id of ids) {
      try {
        const response = await this.request(`DELETE /api/v1/media/${id}`, 'DELETE', `/api/v1/media/${encodeURIComponent(id)}`);
        // Servers before 4.4 have no DELETE: the file is removed with other unused uploads.
        if (response.status >= 300) this.config.log.debug(`DELETE /api/v1/media/${id}: HTTP ${response.status}; the server removes unused uploads itself`);
      } catch (error) {
        this.config.log.debug(`DELETE /api/v1/media/${id}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}
