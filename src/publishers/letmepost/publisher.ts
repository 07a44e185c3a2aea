/**
 * The letmepost API publisher (`POST /v1/posts`), as the real server behaves (see
 * letmepost-api.ts): one target per request in the `targets[]` shape, the same bytes under
 * one Idempotency-Key on every retry, success read from each result's `status` rather than
 * the HTTP code, replays detected, recovery from a replayed transient failure.
 *
 * Never two requests with one key in flight. The server stores an answer only once its
 * handler finished and has no in-flight claim, so a retry sent while the first request still
 * runs posts a second time. A request that was sent and got no usable answer (a timeout, a
 * dropped connection, a gateway's 5xx) is therefore never resent blindly: the publisher looks
 * for the post row the server inserts before it calls the platform (`GET /v1/posts`) and waits
 * until that row leaves `publishing`; the row then is the answer. Only when no row appears —
 * the request never reached the handler — is it sent again. The publish request itself waits
 * as long as the server's own platform calls can take.
 */
import { openAsBlob } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { PublishError, SCHEDULE_REFUSED } from '../../errors.js';
import { httpRequest, retryAfterMs, type HttpResponse } from '../../io/http.js';
import { isObject, parseJson, str } from '../../io/json.js';
import { webUrl } from '../links.js';
import type { ResolvedMedia } from '../../model/media.js';
import type { Platform } from '../../model/platforms.js';
import { clockWith, DEFAULT_RETRY, withRetries, type Clock, type RetryPolicy } from '../../io/retry.js';
import { redact } from '../../secrets.js';
import {
  accountBody,
  Code,
  describeApiError,
  parseErrorEnvelope,
  platformSaid,
  readOutcome,
  readPostRows,
  Rule,
  targetsBody,
  wantsAccountShape,
  type MediaItem,
  type PostOutcome,
  type PostRequest,
  type PostRow,
  type TargetOptions,
} from './api.js';
import type { Log, PlannedTarget, PlatformOptions, Publisher, TargetResult, TargetStatus } from '../types.js';

export interface LetmepostConfig {
  token: string;
  apiUrl: string;
  /** Time limit of each request; the publish request waits at least as long as the server's platform calls can take. */
  requestTimeoutMs: number;
  /** Epoch ms: no attempt starts after it. */
  deadline: number;
  log: Log;
  fetch?: typeof fetch;
  wait?: (ms: number) => Promise<void>;
  retry?: Partial<Omit<RetryPolicy, 'deadline'>>;
  /** Between looks at a post row still `publishing` (default 2000 ms). */
  confirmIntervalMs?: number;
}


/**
 * The server's own time limits (apps/api `platformFetch`: 30 s per platform call, no retries,
 * no limit on the handler as a whole): a Bluesky text post is a login and a write, a first
 * comment one more write, every image one more upload (one after another), and a video is
 * uploaded and processed for up to ~14 minutes. Plus a margin for the database.
 */
const PLATFORM_CALL_MS = 30_000;
const VIDEO_HANDLING_MS = 14 * 60_000;
const HANDLER_MARGIN_MS = 15_000;

/** How long the row of a request that reached the server may take to appear (it is inserted in milliseconds). */
const ROW_APPEARS_MS = 6_000;
/** Rows are listed from a little before the request was sent, on the server's clock. */
const LOOKBACK_MS = 10 * 60_000;

/** Images up to this size travel inside the request (`bytesBase64`): the largest any letmepost platform takes is 8 MB. */
export const INLINE_IMAGE_MAX_BYTES = 8 * 1024 * 1024;
/** Platforms whose letmepost publisher hands media to the platform by URL: inline bytes are refused there. */
const URL_MEDIA_PLATFORMS: ReadonlySet<Platform> = new Set(['facebook', 'instagram', 'pinterest', 'threads']);

/** Whether a local file is sent inline (`bytesBase64`), so a re-run sends the very same bytes. */
export function sentInline(m: ResolvedMedia, platform: Platform): boolean {
  return m.kind === 'image' && !URL_MEDIA_PLATFORMS.has(platform) && m.size !== undefined && m.size <= INLINE_IMAGE_MAX_BYTES;
}

/** How long the server may take for this target, at most, when every platform call runs to its limit. */
export function handlerBoundMs(target: Pick<PlannedTarget, 'media' | 'firstComment'>): number {
  const images = target.media.filter((m) => m.kind === 'image').length;
  const video = target.media.some((m) => m.kind === 'video');
  return 2 * PLATFORM_CALL_MS + (target.firstComment !== undefined ? PLATFORM_CALL_MS : 0) + images * PLATFORM_CALL_MS + (video ? VIDEO_HANDLING_MS : 0) + HANDLER_MARGIN_MS;
}

/** The per-platform `options` of a target, in the server's discriminated-union shape; undefined when there are none. */
export function serverOptions(platform: Platform, post: PlatformOptions): TargetOptions | undefined {
  const fields: Record<string, string | boolean | undefined> = {};
  switch (platform) {
    case 'twitter':
      Object.assign(fields, { replyToTweetId: post.twitter?.replyToTweetId, quoteTweetId: post.twitter?.quoteTweetId });
      break;
    case 'pinterest':
      Object.assign(fields, { boardId: post.pinterest?.boardId, destinationUrl: post.pinterest?.destinationUrl, title: post.pinterest?.title, coverImageUrl: post.pinterest?.coverImageUrl });
      break;
    case 'threads':
      fields.replyToId = post.threads?.replyToId;
      break;
    case 'tiktok':
      Object.assign(fields, post.tiktok ?? {});
      break;
    case 'bluesky':
      Object.assign(fields, {
        replyToUri: post.bluesky?.replyTo?.uri,
        replyToCid: post.bluesky?.replyTo?.cid,
        replyRootUri: post.bluesky?.replyRoot?.uri,
        replyRootCid: post.bluesky?.replyRoot?.cid,
      });
      break;
    default:
      break;
  }
  const set = Object.entries(fields).filter((entry): entry is [string, string | boolean] => entry[1] !== undefined);
  return set.length > 0 ? ({ platform, ...Object.fromEntries(set) } as TargetOptions) : undefined;
}

/** A request that was sent and got no usable answer: it may still be running on the server. */
class NoAnswer {
  constructor(
    readonly cause: PublishError,
    readonly sentAt: number,
    /** An HTTP answer came (a 5xx): whatever the server did for it is done, or visible, by now. */
    readonly answered: boolean,
  ) {}
}

export class LetmepostPublisher implements Publisher {
  readonly kind = 'letmepost' as const;
  /** Set once the server has asked for the documented `account` shape; kept for the run. */
  private accountShape = false;
  /** Each local file is uploaded once per run, however many targets use it. */
  private readonly uploads = new Map<string, Promise<string>>();
  private readonly policy: RetryPolicy;
  private readonly clock: Clock;

  constructor(private readonly config: LetmepostConfig) {
    this.policy = { ...DEFAULT_RETRY, ...config.retry, deadline: config.deadline };
    this.clock = clockWith(config.wait);
  }

  private get base(): string {
    return this.config.apiUrl.replace(/\/+$/, '');
  }

  private request(target: PlannedTarget, media: MediaItem[]): PostRequest {
    const req: PostRequest = { accountId: target.account, platform: target.platform, text: target.texts[0] ?? '', media };
    if (target.firstComment !== undefined) req.firstComment = target.firstComment;
    if (target.scheduledAt !== undefined) req.scheduledAt = target.scheduledAt;
    const options = serverOptions(target.platform, target.options);
    if (options !== undefined) req.options = options;
    return req;
  }

  async describe(target: PlannedTarget): Promise<unknown> {
    const media = target.media.map((m) =>
      !m.path
        ? this.mediaItem(m, {})
        : sentInline(m, target.platform)
          ? this.mediaItem(m, { bytesBase64: `<the ${m.size ?? '?'} bytes of ${m.displayPath ?? m.path}, base64>` })
          : this.mediaItem(m, { mediaId: `<uploaded from ${m.displayPath ?? m.path} by POST /v1/media>` }),
    );
    return {
      method: 'POST',
      url: `${this.base}/v1/posts`,
      headers: { Authorization: 'Bearer ***', 'Content-Type': 'application/json', 'Idempotency-Key': target.idempotencyKey },
      body: JSON.parse(targetsBody(this.request(target, media))) as unknown,
    };
  }

  async publish(target: PlannedTarget): Promise<TargetResult[]> {
    // Images travel inside the request: the same bytes every run, so a re-run's request is
    // byte-identical and replays. Video (and images for platforms that take media by URL)
    // are uploaded first, which gives a new media id each time: those re-runs rely on the ledger.
    const media = await Promise.all(
      target.media.map(async (m) =>
        !m.path
          ? this.mediaItem(m, {})
          : sentInline(m, target.platform)
            ? this.mediaItem(m, { bytesBase64: (await readFile(m.path)).toString('base64') })
            : this.mediaItem(m, { mediaId: await this.upload(m) }),
      ),
    );
    const uploaded = media.some((m) => m.mediaId !== undefined);
    const req = this.request(target, media);

    let key = target.idempotencyKey;
    for (let recovery = 0; ; recovery++) {
      const sent = await this.send(target, req, key, uploaded);
      if (sent.outcome.status === 'failed' && sent.outcome.replayed && recovery < target.keys.recoveries.length) {
        // The server replays a stored transient failure forever; a re-run recovers by moving
        // to a key derived from the original one, so the next re-run finds this same key.
        const next = target.keys.recoveries[recovery]!;
        this.config.log.info(`${target.label} → ${target.platform}: an earlier run failed transiently under key ${key}; retrying under ${next}`);
        key = next;
        continue;
      }
      return [this.result(target, sent.key, sent.outcome)];
    }
  }

  private result(target: PlannedTarget, key: string, outcome: PostOutcome): TargetResult {
    const status = outcomeStatus(outcome.status);
    const postId = outcome.postId ? ` (post id ${outcome.postId})` : '';
    if (status === undefined) {
      throw new PublishError(redact(`letmepost answered with an unknown post status '${outcome.status}'${postId} under key ${key}; the post may have been published: check it in letmepost`), {
        outcomeUnknown: true,
      });
    }
    if (status === 'failed' || status === 'rejected') {
      const e = outcome.error;
      const said = e?.platformResponse !== undefined ? platformSaid(e.platformResponse) : undefined;
      const what = e ? [e.code && `${e.code}${e.rule ? ` (rule ${e.rule})` : ''}`, e.message?.replace(/\.$/, ''), e.remediation && `Fix: ${e.remediation.replace(/\.$/, '')}`, said && `the platform said: ${said}`].filter(Boolean).join(': ') : '';
      const reason = what || (status === 'failed' ? 'the platform failed transiently' : 'the platform refused the post');
      const next = status === 'failed' ? ' This is transient: re-running the job retries it safely (no double post).' : '';
      throw new PublishError(redact(`letmepost reported status '${outcome.status}' for ${target.platform}: ${reason}.${next}${postId ? ` Post id:${postId.slice(9, -1)},` : ''} key ${key}.`), {
        code: status,
      });
    }
    if (outcome.status === 'validated' || outcome.status === 'publishing') {
      outcome.warnings.push(`letmepost reports the post as '${outcome.status}': accepted and being published`);
    }
    const result: TargetResult = { label: target.label, publisher: this.kind, platform: target.platform, status, idempotencyKey: key, replayed: outcome.replayed, warnings: outcome.warnings };
    if (outcome.uri) result.uri = outcome.uri;
    const url = webUrl(target.platform, outcome.uri);
    if (url) result.url = url;
    if (outcome.cid) result.cid = outcome.cid;
    if (outcome.postId) result.id = outcome.postId;
    const scheduledAt = outcome.scheduledAt ?? (status === 'queued' ? target.scheduledAt : undefined);
    if (scheduledAt) result.scheduledAt = scheduledAt;
    if (status === 'queued' && serverOptions(target.platform, target.options) !== undefined) {
      // The open-source server (2026-06) drops per-target options when a queued post is published.
      result.warnings.push(`the ${target.platform} options of this post are sent with it, but letmepost may not keep them for a scheduled post (its open-source server does not); post it unscheduled if they matter`);
    }
    if (!outcome.postId && !outcome.uri && (status === 'published' || status === 'queued')) {
      result.warnings.push(`letmepost answered '${outcome.status}' without a post id or uri, so this post cannot be linked; check it in letmepost${outcome.requestId ? ` (request id ${outcome.requestId})` : ''}`);
    }
    return result;
  }

  private mediaItem(m: ResolvedMedia, source: { mediaId?: string; bytesBase64?: string }): MediaItem {
    const item: MediaItem = { kind: m.kind };
    if (m.alt !== undefined) item.altText = m.alt;
    if (source.mediaId !== undefined) item.mediaId = source.mediaId;
    else if (source.bytesBase64 !== undefined) item.bytesBase64 = source.bytesBase64;
    else if (m.url !== undefined) item.url = m.url;
    return item;
  }

  /** Sends the post until it has an answer, in the shape the server accepts. Returns the outcome and the key it went under. */
  private async send(target: PlannedTarget, req: PostRequest, key: string, uploaded: boolean): Promise<{ outcome: PostOutcome; key: string }> {
    const what = `${target.label} → ${target.platform}`;
    if (!this.accountShape) {
      try {
        return { outcome: await this.post(what, target, key, targetsBody(req), uploaded), key };
      } catch (error) {
        if (!(error instanceof AccountShapeWanted)) throw error;
        this.accountShape = true;
        this.config.log.info('letmepost asks for the single-account request shape; using it for the rest of this run');
      }
    }
    // The first key holds the stored 400: the other shape goes under a key derived from it.
    const derived = target.keys.alternate[key]!;
    return { outcome: await this.post(what, target, derived, accountBody(req), uploaded), key: derived };
  }

  /** The time limit of the publish request: long enough for the server's own platform calls, never past the deadline. */
  private publishTimeout(target: PlannedTarget): number {
    return Math.min(Math.max(this.config.requestTimeoutMs, handlerBoundMs(target)), Math.max(1000, this.config.deadline - Date.now()));
  }

  /**
   * One logical send: retries what is safe (nothing ran on the server: it refused to connect,
   * rate-limited us, or said another request holds the key); after a request that may be
   * running, asks the server's post rows instead of sending again.
   */
  private async post(what: string, target: PlannedTarget, key: string, body: string, uploaded: boolean): Promise<PostOutcome> {
    const bytes = Buffer.from(body, 'utf8');
    this.config.log.info(`${what}: POST /v1/posts with Idempotency-Key ${key}`);
    // A garbled answer means the server finished and stored it: the replay that follows answers
    // this run's own request, so it is not "replayed" (an earlier run's post).
    let ownAnswerLost = false;
    const attempt = async () => {
      try {
        return await this.attempt(target, key, bytes, uploaded);
      } catch (error) {
        if (error instanceof PublishError && error.code === 'malformed_response') ownAnswerLost = true;
        throw error;
      }
    };
    for (let sends = 1; ; sends++) {
      let answered: PostOutcome | NoAnswer;
      try {
        answered = await withRetries(what, attempt, this.policy, this.config.log, this.clock);
      } catch (error) {
        if (error instanceof NoAnswerError) answered = error.noAnswer;
        else throw error;
      }
      if (!(answered instanceof NoAnswer)) return ownAnswerLost ? { ...answered, replayed: false } : answered;
      const row = await this.confirm(what, target, answered);
      if (row !== undefined) return rowOutcome(row);
      if (sends >= this.policy.maxAttempts || this.clock.now() + 1000 >= this.config.deadline) {
        throw new PublishError(`${answered.cause.message}; letmepost shows no post for it, so it most likely never reached letmepost (gave up after ${sends} attempt${sends > 1 ? 's' : ''}). Re-running the job is safe: it sends the same request under the same key`, {
          code: 'failed',
          cause: answered.cause,
        });
      }
      this.config.log.info(`${what}: letmepost has no post row for this request, so it never reached the handler; sending it again under the same key`);
    }
  }

  /** One request and its answer. A request that may be running on the server ends the retries as NoAnswerError. */
  private async attempt(target: PlannedTarget, key: string, bytes: Buffer, uploaded: boolean): Promise<PostOutcome> {
    const sentAt = Date.now();
    let response: HttpResponse;
    try {
      response = await httpRequest(
        'POST /v1/posts',
        `${this.base}/v1/posts`,
        { method: 'POST', headers: { Authorization: `Bearer ${this.config.token}`, 'Content-Type': 'application/json', 'Idempotency-Key': key }, body: bytes },
        this.publishTimeout(target),
        this.config.fetch,
      );
    } catch (error) {
      if (error instanceof PublishError && error.outcomeUnknown) throw new NoAnswerError(new NoAnswer(error, sentAt, false));
      throw error;
    }
    return this.interpret(response, uploaded, sentAt);
  }

  /** Reads one HTTP answer: an outcome, or an error that the retry policy classifies. */
  private interpret(response: HttpResponse, uploaded: boolean, sentAt: number): PostOutcome {
    const requestId = response.headers.get('x-request-id');
    const replayed = response.headers.get('idempotency-replayed')?.toLowerCase() === 'true';
    if (response.status >= 200 && response.status < 300) {
      const parsed = parseJson(response.body);
      // A garbled 2xx: the handler finished and its answer is stored, so asking again replays it.
      if (parsed === undefined) {
        throw new PublishError(`letmepost answered HTTP ${response.status} with a body that is not JSON${requestId ? ` (request id ${requestId})` : ''}`, {
          retryable: true,
          outcomeUnknown: true,
          code: 'malformed_response',
        });
      }
      const outcome = readOutcome(parsed, replayed);
      if (requestId) outcome.requestId = requestId;
      return outcome;
    }

    const envelope = parseErrorEnvelope(response.body);
    const message = describeApiError(response.status, envelope, requestId);
    const code = envelope?.code;
    if (response.status === 409 && code === Code.idempotencyConflict && envelope?.rule === Rule.inProgress) {
      // Another request holds the key right now; its answer will be replayed to us once it is done.
      throw new PublishError(message, { retryable: true, code, retryAfterMs: 2000 });
    }
    if (response.status === 409 && envelope?.rule === Rule.bodyMismatch) {
      // Same identity, other content: the earlier request stands. letmepost does not say what
      // became of it (the ledger, consulted first, had no record), so the outcome is unknown.
      const why = uploaded ? 'its media were uploaded again in this run (new media ids), so the request differs' : 'this run sends other content (text, media or options)';
      throw new PublishError(
        `${message} An earlier run already sent this post under this key and ${why}; letmepost keeps the earlier request and refuses to replace it, so nothing new was posted. letmepost does not say what became of the earlier request and the ledger has no record of it: check the account in letmepost (the durable ledger, with 'permissions: statuses: write', remembers it next time). To post this content as a separate post on purpose, set a new 'idempotency-key'`,
        { code: Rule.bodyMismatch, outcomeUnknown: true },
      );
    }
    if (wantsAccountShape(response.status, envelope)) throw new AccountShapeWanted(message);
    if (response.status === 400 && envelope?.rule?.startsWith('scheduledAt')) throw new PublishError(message, { code: SCHEDULE_REFUSED });
    if (response.status === 429 && code !== Code.quotaExceeded) {
      // The limiter answers before the handler: nothing ran, asking again is safe.
      throw new PublishError(message, { retryable: true, code: code ?? Code.rateLimited, retryAfterMs: retryAfterMs(response.headers.get('retry-after')) ?? 5000 });
    }
    if (response.status >= 500) {
      // A 5xx is never stored, and a gateway's may come after the handler ran: confirm first.
      throw new NoAnswerError(new NoAnswer(new PublishError(message, { retryable: true, outcomeUnknown: true, code: code ?? Code.internalError }), sentAt, true));
    }
    throw new PublishError(message, { code });
  }

  // ───────────────────────────── confirming an ambiguous send ─────────────────────────────

  /**
   * After a request that may still be running: finds its post row (same account, same text,
   * created since the request was sent) and waits while it is `publishing`. Returns the row,
   * or undefined when none appeared (the request never reached the handler). Throws when the
   * outcome cannot be learnt before the deadline.
   */
  private async confirm(what: string, target: PlannedTarget, noAnswer: NoAnswer): Promise<PostRow | undefined> {
    const interval = this.config.confirmIntervalMs ?? 2000;
    const bound = noAnswer.sentAt + handlerBoundMs(target);
    this.config.log.info(
      `${what}: ${noAnswer.cause.message}. letmepost has no lock on a key while a request runs, so sending it again now could post twice; looking for the post instead (GET /v1/posts) and waiting until letmepost has finished it`,
    );
    const firstLook = this.clock.now();
    for (;;) {
      let found: PostRow | undefined;
      try {
        found = await this.findRow(target, noAnswer.sentAt);
      } catch (error) {
        throw new PublishError(
          redact(
            `${noAnswer.cause.message}; the post may have been published, and looking it up failed too (${error instanceof Error ? error.message : String(error)}). Check the account in letmepost before re-running: a re-run within 24 h is safe (it replays under the same key) once the first request has finished`,
          ),
          { outcomeUnknown: true, code: 'failed', cause: noAnswer.cause },
        );
      }
      const now = this.clock.now();
      if (found !== undefined && found.status !== 'publishing') {
        this.config.log.info(`${what}: letmepost finished the request: post ${found.id} is ${found.status}`);
        return found;
      }
      // A row is inserted as soon as the handler starts: after an HTTP answer one look tells,
      // after a lost connection the request may still be on its way in.
      if (found === undefined && (noAnswer.answered || now - firstLook >= ROW_APPEARS_MS)) return undefined;
      if (now + interval >= this.config.deadline || now >= bound) {
        const where =
          found !== undefined
            ? `letmepost is still publishing it (post ${found.id}), and the step's deadline${now >= bound ? " (or the server's own time limits)" : ''} came first`
            : "letmepost shows no post for it (so it most likely never reached letmepost), but the step's deadline came before that was certain";
        throw new PublishError(
          redact(
            `${noAnswer.cause.message}; ${where}, so the post may have been published. Check it in letmepost${found !== undefined ? ` (GET /v1/posts/${found.id})` : ''}; re-running the job later is safe: it replays the finished request under the same key`,
          ),
          { outcomeUnknown: true, code: 'failed', cause: noAnswer.cause },
        );
      }
      if (found !== undefined) this.config.log.info(`${what}: post ${found.id} is still publishing; looking again in ${(interval / 1000).toFixed(0)} s`);
      await this.clock.sleep(interval);
    }
  }

  /** The post row this target's request made, if any: same account and text, created since it was sent (server clock). */
  private async findRow(target: PlannedTarget, sentAt: number): Promise<PostRow | undefined> {
    const url = new URL(`${this.base}/v1/posts`);
    url.searchParams.set('platform', target.platform);
    url.searchParams.set('after', new Date(sentAt - LOOKBACK_MS).toISOString());
    url.searchParams.set('limit', '50');
    // Rows carry their media as sent (inline images included): a page can be large.
    const response = await httpRequest('GET /v1/posts', url.href, { method: 'GET', headers: { Authorization: `Bearer ${this.config.token}` } }, Math.min(this.config.requestTimeoutMs, 30_000), this.config.fetch, { maxBytes: 64 * 1024 * 1024 });
    if (response.status !== 200) throw new Error(describeApiError(response.status, parseErrorEnvelope(response.body), response.headers.get('x-request-id')));
    // The server's clock may differ from this runner's: its Date header tells by how much.
    const serverDate = Date.parse(response.headers.get('date') ?? '');
    const skew = Number.isNaN(serverDate) ? 0 : serverDate - Date.now();
    const since = sentAt + skew - 5_000;
    const text = target.texts[0] ?? '';
    const candidates = readPostRows(parseJson(response.body))
      .rows.filter((row) => row.accountId === target.account && row.text === text && row.createdAt >= since)
      .sort((a, b) => a.createdAt - b.createdAt);
    // Two rows with this text in the window: a second run of the same step raced this one.
    if (candidates.length > 1) {
      this.config.log.warning(
        `${target.label} → ${target.platform}: letmepost shows ${candidates.length} posts with this text since this request was sent — another run of this step sent the same post at the same time (letmepost has no lock on a key while a request runs: use 'concurrency:' in the workflow). Reporting the first: ${candidates[0]!.id}`,
      );
    }
    return candidates[0];
  }

  // ───────────────────────────── media ─────────────────────────────

  /** Uploads a local file once per run; returns its media id. */
  private upload(media: ResolvedMedia): Promise<string> {
    const path = media.path!;
    let pending = this.uploads.get(path);
    if (!pending) {
      pending = this.uploadOnce(media);
      this.uploads.set(path, pending);
    }
    return pending;
  }

  private async uploadOnce(media: ResolvedMedia): Promise<string> {
    const path = media.path!;
    const what = `upload ${media.displayPath ?? basename(path)}`;
    this.config.log.info(`${what}: POST /v1/media (${media.size ?? '?'} bytes)`);
    // An upload is not idempotent, but a duplicate upload is only an unused file on the
    // server, never a duplicate post: safe to retry.
    return withRetries(
      what,
      async () => {
        const form = new FormData();
        form.append('file', await openAsBlob(path, { type: media.mimeType ?? 'application/octet-stream' }), basename(path));
        // Room to send the file at 1 MB/s on top of the usual limit.
        const timeout = Math.min(this.config.requestTimeoutMs + Math.ceil((media.size ?? 0) / 1_000_000) * 1000, Math.max(1000, this.config.deadline - Date.now()));
        const response = await httpRequest(what, `${this.base}/v1/media`, { method: 'POST', headers: { Authorization: `Bearer ${this.config.token}` }, body: form }, timeout, this.config.fetch);
        if (response.status >= 200 && response.status < 300) {
          const parsed = parseJson(response.body);
          const id = isObject(parsed) ? str(parsed.id) : undefined;
          if (id) return id;
          throw new PublishError(`${what}: letmepost answered HTTP ${response.status} without a media id`, { retryable: true });
        }
        const envelope = parseErrorEnvelope(response.body);
        const message = `${what}: ${describeApiError(response.status, envelope, response.headers.get('x-request-id'))}`;
        const retryable = response.status >= 500 || (response.status === 429 && envelope?.code !== Code.quotaExceeded);
        throw new PublishError(message, { retryable, retryAfterMs: retryAfterMs(response.headers.get('retry-after')) });
      },
      this.policy,
      this.config.log,
      this.clock,
    );
  }
}

/** The server wants the documented single-account request shape. */
class AccountShapeWanted extends PublishError {}

/** Ends the retry loop: the request may still be running on the server. */
class NoAnswerError extends PublishError {
  constructor(readonly noAnswer: NoAnswer) {
    // Not retryable: withRetries gives it back at once, and post() confirms instead.
    super(noAnswer.cause.message, { outcomeUnknown: true, code: noAnswer.cause.code, cause: noAnswer.cause });
  }
}

/** A finished post row, read as the answer its request would have had. */
function rowOutcome(row: PostRow): PostOutcome {
  const out: PostOutcome = { postId: row.id, status: row.status, warnings: [], replayed: false };
  if (row.platformUri) out.uri = row.platformUri;
  if (row.platformCid) out.cid = row.platformCid;
  if (row.scheduledAt) out.scheduledAt = row.scheduledAt;
  if (row.error) out.error = row.error;
  return out;
}

function outcomeStatus(status: string): TargetStatus | undefined {
  switch (status) {
    case 'published':
      return 'published';
    case 'queued':
      return 'queued';
    case 'failed':
    case 'partial_failed':
      return 'failed';
    case 'rejected':
    case 'canceled':
      return 'rejected';
    // accepted and on its way; letmepost finishes it.
    case 'validated':
    case 'publishing':
      return 'published';
    default:
      return undefined;
  }
}
