/**
 * The letmepost API publisher (`POST /v1/posts`), as the real server behaves (see
 * api.ts): one target per request in the `targets[]` shape, the same bytes under
 * one Idempotency-Key on every retry, success read from each result's `status` rather than
 * the HTTP code, replays detected, recovery from a replayed transient failure.
 *
 * Never two requests with one key in flight: a request that was sent and got no usable answer
 * is never resent blindly, but confirmed from the server's post rows (no-answer.ts). The
 * publish request itself waits as long as the server's own platform calls can take
 * (server-limits.ts). The request body is request-body.ts's, uploads media-upload.ts's, and
 * the reading of each answer post-answer.ts's; this file sequences them.
 */
import { readFile } from 'node:fs/promises';
import { PublishError } from '../../errors.js';
import { httpRequest, type HttpResponse } from '../../io/http.js';
import { clockWith, DEFAULT_RETRY, withRetries, type Clock, type RetryPolicy } from '../../io/retry.js';
import { redact } from '../../secrets.js';
import { webUrl } from '../links.js';
import { accountBody, platformSaid, targetsBody, type PostOutcome, type PostRequest } from './api.js';
import { apiBase, type LetmepostConfig } from './config.js';
import { MediaUploads } from './media-upload.js';
import { NoAnswer, NoAnswerError, PostRowWatch, rowOutcome } from './no-answer.js';
import { AccountShapeWanted, readAnswer } from './post-answer.js';
import { describedMedia, mediaItem, postRequest, sentInline, serverOptions } from './request-body.js';
import { handlerBoundMs } from './server-limits.js';
import type { PlannedTarget, Publisher, RetractOutcome, TargetResult, TargetStatus } from '../types.js';
import { cancelQueued, rescheduleQueued } from './queued.js';

// The names this module has always offered, wherever they live now.
export type { LetmepostConfig } from './config.js';
export { INLINE_IMAGE_MAX_BYTES, sentInline, serverOptions } from './request-body.js';
export { handlerBoundMs } from './server-limits.js';

export class LetmepostPublisher implements Publisher {
  readonly kind = 'letmepost' as const;
  /** Set once the server has asked for the documented `account` shape; kept for the run. */
  private accountShape = false;
  private readonly policy: RetryPolicy;
  private readonly clock: Clock;
  private readonly media: MediaUploads;
  private readonly rows: PostRowWatch;

  constructor(private readonly config: LetmepostConfig) {
    this.policy = { ...DEFAULT_RETRY, ...config.retry, deadline: config.deadline };
    this.clock = clockWith(config.wait);
    this.media = new MediaUploads(config, this.policy, this.clock);
    this.rows = new PostRowWatch(config, this.clock);
  }

  async describe(target: PlannedTarget): Promise<unknown> {
    return {
      method: 'POST',
      url: `${apiBase(this.config)}/v1/posts`,
      headers: { Authorization: 'Bearer ***', 'Content-Type': 'application/json', 'Idempotency-Key': target.idempotencyKey },
      body: JSON.parse(targetsBody(postRequest(target, describedMedia(target)))) as unknown,
    };
  }

  /** Cancels a queued post; a published one stays (letmepost cannot delete it), as the outcome says. */
  retract(target: PlannedTarget, recorded: TargetResult | undefined): Promise<RetractOutcome> {
    return cancelQueued(this.config, this.policy, this.clock, target, recorded);
  }

  /** Moves a queued post to the target's new time (letmepost lets nothing else change). */
  reschedule(target: PlannedTarget & { scheduledAt: string }, recorded: TargetResult): Promise<TargetResult> {
    return rescheduleQueued(this.config, this.policy, this.clock, target, recorded);
  }

  async publish(target: PlannedTarget): Promise<TargetResult[]> {
    // Images travel inside the request: the same bytes every run, so a re-run's request is
    // byte-identical and replays. Video (and images for platforms that take media by URL)
    // are uploaded first, which gives a new media id each time: those re-runs rely on the ledger.
    const media = await Promise.all(
      target.media.map(async (m) =>
        !m.path
          ? mediaItem(m, {})
          : sentInline(m, target.platform)
            ? mediaItem(m, { bytesBase64: (await readFile(m.path)).toString('base64') })
            : mediaItem(m, { mediaId: await this.media.upload(m) }),
      ),
    );
    const uploaded = media.some((m) => m.mediaId !== undefined);
    const req = postRequest(target, media);

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
      const row = await this.rows.confirm(what, target, answered);
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
        `${apiBase(this.config)}/v1/posts`,
        { method: 'POST', headers: { Authorization: `Bearer ${this.config.token}`, 'Content-Type': 'application/json', 'Idempotency-Key': key }, body: bytes },
        this.publishTimeout(target),
        this.config.fetch,
      );
    } catch (error) {
      if (error instanceof PublishError && error.outcomeUnknown) throw new NoAnswerError(new NoAnswer(error, sentAt, false));
      throw error;
    }
    return readAnswer(response, uploaded, sentAt);
  }
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
