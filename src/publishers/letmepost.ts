/**
 * The letmepost API publisher (`POST /v1/posts`), as the contract in letmepost-api.md says:
 * deterministic bytes under one Idempotency-Key on every retry, success read from `status`
 * rather than the HTTP code, replays detected, the retry table, recovery from a replayed
 * transient failure, and the fallback to the newer `targets[]` shape.
 */
import { openAsBlob } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { PublishError, SCHEDULE_REFUSED } from '../errors.js';
import { httpRequest, retryAfterMs, type HttpResponse } from '../http.js';
import { childKey } from '../idempotency.js';
import { webUrl } from '../links.js';
import type { ResolvedMedia } from '../media.js';
import { DEFAULT_RETRY, sleep, withRetries, type RetryPolicy } from '../retry.js';
import { redact } from '../secrets.js';
import type { Log, PlannedTarget, Publisher, TargetResult, TargetStatus } from './types.js';

export interface LetmepostConfig {
  token: string;
  apiUrl: string;
  requestTimeoutMs: number;
  /** Epoch ms: no attempt starts after it. */
  deadline: number;
  log: Log;
  fetch?: typeof fetch;
  wait?: (ms: number) => Promise<void>;
  retry?: Partial<Omit<RetryPolicy, 'deadline'>>;
}

/** How many times a re-run may move past a replayed transient failure to a fresh key. */
const MAX_RECOVERIES = 10;

/** Error codes of the letmepost API (letmepost-api.md, Errors). */
const Code = {
  validationFailed: 'validation_failed',
  preflightFailed: 'preflight_failed',
  unauthenticated: 'unauthenticated',
  unauthorized: 'unauthorized',
  notFound: 'not_found',
  platformAuthFailed: 'platform_auth_failed',
  platformRejected: 'platform_rejected',
  platformNotEnabled: 'platform_not_enabled',
  idempotencyConflict: 'idempotency_conflict',
  rateLimited: 'rate_limited',
  quotaExceeded: 'quota_exceeded',
  platformUnavailable: 'platform_unavailable',
  internalError: 'internal_error',
} as const;

const Rule = {
  inProgress: 'idempotency_key.in_progress',
  bodyMismatch: 'idempotency_key.body_mismatch',
} as const;

/** The input to look at, per error code. */
const INPUT_OF_CODE: Record<string, string> = {
  [Code.unauthenticated]: 'letmepost-token',
  [Code.unauthorized]: 'letmepost-token',
  [Code.notFound]: 'account-id',
};

/** What to tell the user to do, per error code, when the server gives no remediation. */
const HINTS: Record<string, string> = {
  [Code.unauthenticated]: "check the 'letmepost-token' secret: it is missing, revoked or mistyped",
  [Code.unauthorized]: "the 'letmepost-token' key lacks the posts:write scope; mint a key with it in the letmepost dashboard",
  [Code.notFound]: "check 'account-id': no connected account with this id is visible to this API key (GET /v1/accounts lists them)",
  [Code.platformAuthFailed]: 'reconnect the account in the letmepost dashboard, then re-run the job',
  [Code.platformNotEnabled]: 'this platform is not enabled on this letmepost instance',
  [Code.quotaExceeded]: "the plan's monthly post quota is used up; upgrade or wait for the reset, then re-run the job",
};

interface ErrorEnvelope {
  code?: string;
  message?: string;
  rule?: string;
  remediation?: string;
  requestId?: string;
  platformResponse?: { resetAt?: string };
}

/** The fields of a post response the action reads, from either response shape. */
interface PostOutcome {
  id?: string;
  status: string;
  uri?: string;
  cid?: string;
  scheduledAt?: string;
  firstCommentUri?: string;
  warnings: string[];
  error?: string;
  replayed: boolean;
}

interface MediaItem {
  kind: 'image' | 'video';
  altText?: string;
  mediaId?: string;
  url?: string;
  bytesBase64?: string;
}

/**
 * Local images up to this size are sent inline (`bytesBase64`); larger files and videos are
 * uploaded with POST /v1/media. The largest image any letmepost platform takes is 8 MB
 * (Instagram, Facebook, Threads); the server sets no body limit of its own.
 */
export const INLINE_IMAGE_MAX_BYTES = 8 * 1024 * 1024;

function sentInline(m: ResolvedMedia): boolean {
  return m.kind === 'image' && m.size !== undefined && m.size <= INLINE_IMAGE_MAX_BYTES;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function warningsOf(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.map((w) => (isObject(w) ? [str(w.code), str(w.message)].filter(Boolean).join(': ') : String(w))).filter(Boolean);
}

/** Drops undefined fields so the serialised bytes depend only on what is set. */
function compact<T extends Record<string, unknown>>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

export function parseErrorEnvelope(body: Buffer): ErrorEnvelope | undefined {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (isObject(parsed) && isObject(parsed.error)) {
      const e = parsed.error;
      return {
        code: str(e.code),
        message: str(e.message),
        rule: str(e.rule),
        remediation: str(e.remediation),
        requestId: str(e.requestId),
        platformResponse: isObject(e.platformResponse) ? { resetAt: str(e.platformResponse.resetAt) } : undefined,
      } as ErrorEnvelope;
    }
  } catch {
    // not JSON: described from the status line instead
  }
  return undefined;
}

/** One line for the user: message, code and rule, the fix, the request id. Secrets scrubbed. */
export function describeApiError(httpStatus: number, envelope: ErrorEnvelope | undefined, requestId: string | null): string {
  const parts = [`letmepost answered HTTP ${httpStatus}`];
  if (envelope?.code) parts[0] += ` ${envelope.code}${envelope.rule ? ` (rule ${envelope.rule})` : ''}`;
  if (envelope?.message) parts.push(envelope.message.replace(/\.$/, ''));
  const fix = envelope?.remediation ?? (envelope?.code ? HINTS[envelope.code] : undefined);
  if (fix) parts.push(`Fix: ${fix.replace(/\.$/, '')}`);
  const input = envelope?.code ? INPUT_OF_CODE[envelope.code] : undefined;
  if (input && envelope?.remediation) parts.push(`Check the input '${input}'`);
  if (envelope?.platformResponse?.resetAt) parts.push(`Quota resets at ${envelope.platformResponse.resetAt}`);
  const id = envelope?.requestId ?? requestId;
  if (id) parts.push(`Request id: ${id}`);
  return redact(`${parts.join('. ')}.`);
}

export class LetmepostPublisher implements Publisher {
  readonly kind = 'letmepost' as const;
  /** Set once the server has said it accepts only the `targets[]` shape; kept for the run. */
  private batchShape = false;
  /** Each local file is uploaded once per run, however many targets use it. */
  private readonly uploads = new Map<string, Promise<string>>();
  private readonly policy: RetryPolicy;
  private readonly wait: (ms: number) => Promise<void>;

  constructor(private readonly config: LetmepostConfig) {
    this.policy = { ...DEFAULT_RETRY, ...config.retry, deadline: config.deadline };
    this.wait = config.wait ?? sleep;
  }

  private get base(): string {
    return this.config.apiUrl.replace(/\/+$/, '');
  }

  async describe(target: PlannedTarget): Promise<unknown> {
    const media = target.media.map((m) =>
      !m.path
        ? this.mediaItem(m, {})
        : sentInline(m)
          ? this.mediaItem(m, { bytesBase64: `<the ${m.size ?? '?'} bytes of ${m.displayPath ?? m.path}, base64>` })
          : this.mediaItem(m, { mediaId: `<uploaded from ${m.displayPath ?? m.path} by POST /v1/media>` }),
    );
    return {
      method: 'POST',
      url: `${this.base}/v1/posts`,
      headers: { Authorization: 'Bearer ***', 'Content-Type': 'application/json', 'Idempotency-Key': target.idempotencyKey },
      body: JSON.parse(this.body(target, media, false)),
    };
  }

  async publish(target: PlannedTarget): Promise<TargetResult[]> {
    // Images travel inside the request: the same bytes every run, so a re-run's request is
    // byte-identical and replays. Only a video is uploaded first (a new media id each time).
    const media = await Promise.all(
      target.media.map(async (m) =>
        !m.path ? this.mediaItem(m, {}) : sentInline(m) ? this.mediaItem(m, { bytesBase64: (await readFile(m.path)).toString('base64') }) : this.mediaItem(m, { mediaId: await this.upload(m) }),
      ),
    );
    const uploaded = media.some((m) => m.mediaId !== undefined);

    let key = target.idempotencyKey;
    for (let recovery = 0; ; recovery++) {
      const outcome = await this.send(target, media, key, uploaded);
      if (outcome.status === 'failed' && outcome.replayed && recovery < MAX_RECOVERIES) {
        // The server replays a stored transient failure forever; a re-run recovers by moving
        // to a key derived from the original one, so the next re-run finds this same key.
        const next = childKey(target.idempotencyKey, `r${recovery + 1}`);
        this.config.log.info(`${target.label} → ${target.platform}: an earlier run failed transiently under key ${key}; retrying under ${next}`);
        key = next;
        continue;
      }
      return [this.result(target, outcome.key, outcome)];
    }
  }

  private result(target: PlannedTarget, key: string, outcome: PostOutcome): TargetResult {
    const status = outcomeStatus(outcome.status);
    if (status === undefined) {
      throw new PublishError(`letmepost answered with an unknown post status '${outcome.status}' (post id ${outcome.id ?? 'none'}, key ${key}); the post may have been published: check it in letmepost`, {
        outcomeUnknown: true,
      });
    }
    if (outcome.status === 'validated' || outcome.status === 'publishing') {
      outcome.warnings.push(`letmepost reports the post as '${outcome.status}': accepted and being published`);
    }
    if (status === 'failed' || status === 'rejected') {
      const reason = outcome.error ?? (status === 'failed' ? 'the platform failed transiently' : 'the platform refused the post');
      const next = status === 'failed' ? ' This is transient: re-running the job retries it safely (no double post).' : '';
      throw new PublishError(redact(`letmepost reported status '${outcome.status}' for ${target.platform}: ${reason}.${next} Post id: ${outcome.id ?? 'none'}, key ${key}.`), {
        code: outcome.status,
      });
    }
    const result: TargetResult = {
      label: target.label,
      publisher: this.kind,
      platform: target.platform,
      status,
      idempotencyKey: key,
      replayed: outcome.replayed,
      warnings: outcome.warnings,
    };
    if (outcome.uri) result.uri = outcome.uri;
    const url = webUrl(target.platform, outcome.uri);
    if (url) result.url = url;
    if (outcome.cid) result.cid = outcome.cid;
    if (outcome.id) result.id = outcome.id;
    const scheduledAt = outcome.scheduledAt ?? (status === 'queued' ? target.scheduledAt : undefined);
    if (scheduledAt) result.scheduledAt = scheduledAt;
    return result;
  }

  private mediaItem(m: ResolvedMedia, source: { mediaId?: string; bytesBase64?: string }): MediaItem {
    return compact({ kind: m.kind, altText: m.alt, mediaId: source.mediaId, url: m.path ? undefined : m.url, bytesBase64: source.bytesBase64 });
  }

  /** The request body: fields in a fixed order, so the same post is the same bytes. */
  private body(target: PlannedTarget, media: MediaItem[], batch: boolean): string {
    const opts = target.post;
    const text = target.texts[0] ?? '';
    const pinterest = opts.pinterest ? compact({ boardId: opts.pinterest.boardId, destinationUrl: opts.pinterest.destinationUrl, title: opts.pinterest.title }) : undefined;
    const threads = opts.threads ? { replyToId: opts.threads.replyToId } : undefined;
    const firstComment = target.firstComment !== undefined ? { text: target.firstComment } : undefined;
    if (batch) {
      const options = pinterest || threads ? compact({ pinterest, threads }) : undefined;
      return JSON.stringify(
        compact({
          targets: [compact({ accountId: target.account, platform: target.platform, firstComment, options })],
          text,
          media: media.length ? media : undefined,
          scheduledAt: target.scheduledAt,
        }),
      );
    }
    return JSON.stringify(
      compact({
        account: { platform: target.platform, id: target.account },
        text,
        media: media.length ? media : undefined,
        firstComment,
        scheduledAt: target.scheduledAt,
        pinterest,
        threads,
      }),
    );
  }

  /** Sends the post until it has an answer, falling back to the `targets[]` shape once. */
  /** Returns the outcome and the key it was sent under (the batch shape uses a derived one). */
  private async send(target: PlannedTarget, media: MediaItem[], key: string, uploaded: boolean): Promise<PostOutcome & { key: string }> {
    const what = `${target.label} → ${target.platform}`;
    if (!this.batchShape) {
      try {
        return await this.post(what, key, this.body(target, media, false), uploaded);
      } catch (error) {
        if (!(error instanceof TargetsShapeRequired)) throw error;
        this.batchShape = true;
        this.config.log.info(`letmepost accepts only the targets[] request shape; using it for the rest of this run`);
      }
    }
    // The first key holds the stored 400; the batch shape always goes under a derived key, so
    // every run — whichever target first met the 400 — sends a target's batch request under
    // one and the same key.
    return this.post(what, childKey(key, 'batch'), this.body(target, media, true), uploaded);
  }

  private async post(what: string, key: string, body: string, uploaded: boolean): Promise<PostOutcome & { key: string }> {
    const bytes = Buffer.from(body, 'utf8');
    this.config.log.info(`${what}: POST /v1/posts with Idempotency-Key ${key}`);
    // A replay answers our own earlier attempt when that attempt may have reached the server
    // (connection lost, timeout): then this run made the post, and it is not "replayed".
    let ownAttemptMayHaveLanded = false;
    return withRetries(
      what,
      async () => {
        const response = await httpRequest(
          `POST /v1/posts`,
          `${this.base}/v1/posts`,
          {
            method: 'POST',
            headers: { Authorization: `Bearer ${this.config.token}`, 'Content-Type': 'application/json', 'Idempotency-Key': key },
            body: bytes,
          },
          this.requestTimeout(),
          this.config.fetch,
        ).catch((error: unknown) => {
          if (error instanceof PublishError && error.outcomeUnknown) ownAttemptMayHaveLanded = true;
          throw error;
        });
        try {
          const outcome = { ...this.interpret(response, uploaded), key };
          if (ownAttemptMayHaveLanded) outcome.replayed = false;
          return outcome;
        } catch (error) {
          if (error instanceof PublishError && error.outcomeUnknown) ownAttemptMayHaveLanded = true;
          throw error;
        }
      },
      this.policy,
      this.config.log,
      this.wait,
    );
  }

  private requestTimeout(): number {
    return Math.min(this.config.requestTimeoutMs, Math.max(1000, this.config.deadline - Date.now()));
  }

  /** Reads one HTTP answer: an outcome, or a PublishError that the retry table classifies. */
  private interpret(response: HttpResponse, uploaded: boolean): PostOutcome {
    const requestId = response.headers.get('x-request-id');
    const replayed = response.headers.get('idempotency-replayed')?.toLowerCase() === 'true';
    if (response.status >= 200 && response.status < 300) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(response.body.toString('utf8'));
      } catch {
        throw new PublishError(`letmepost answered HTTP ${response.status} with a body that is not JSON${requestId ? ` (request id ${requestId})` : ''}`, {
          retryable: true,
          outcomeUnknown: true,
          code: 'malformed_response',
        });
      }
      return readOutcome(parsed, replayed);
    }

    const envelope = parseErrorEnvelope(response.body);
    const message = describeApiError(response.status, envelope, requestId);
    const code = envelope?.code;
    if (response.status === 409 && code === Code.idempotencyConflict && envelope?.rule === Rule.inProgress) {
      // Another run holds the key right now; its answer will be replayed to us once it is done.
      throw new PublishError(message, { retryable: true, code, retryAfterMs: 2000 });
    }
    if (response.status === 409 && envelope?.rule === Rule.bodyMismatch) {
      // Same identity, other content: the earlier request stands. letmepost does not say what
      // became of it (the ledger, consulted first, had no record), so the outcome is unknown.
      const why = uploaded ? 'its video was uploaded again in this run (a new media id), so the request differs' : 'this run sends other content (text, media or options)';
      throw new PublishError(
        `${message} An earlier run already sent this post under this key and ${why}; letmepost keeps the earlier request and refuses to replace it, so nothing new was posted. letmepost does not say what became of the earlier request and the ledger has no record of it: check the account in letmepost (the durable ledger, with 'permissions: statuses: write', remembers it next time). To post this content as a separate post on purpose, set a new 'idempotency-key'`,
        { code: Rule.bodyMismatch, outcomeUnknown: true },
      );
    }
    if (response.status === 400 && code === Code.validationFailed && mentionsTargets(envelope)) {
      throw new TargetsShapeRequired(message);
    }
    if (response.status === 400 && envelope?.rule?.startsWith('scheduledAt')) {
      throw new PublishError(message, { code: SCHEDULE_REFUSED });
    }
    if (response.status === 429 && code !== Code.quotaExceeded) {
      throw new PublishError(message, { retryable: true, code: code ?? Code.rateLimited, retryAfterMs: retryAfterMs(response.headers.get('retry-after')) ?? 5000 });
    }
    if (response.status >= 500) {
      throw new PublishError(message, { retryable: true, code: code ?? Code.internalError, retryAfterMs: retryAfterMs(response.headers.get('retry-after')) });
    }
    throw new PublishError(message, { code });
  }

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
        const response = await httpRequest(
          what,
          `${this.base}/v1/media`,
          { method: 'POST', headers: { Authorization: `Bearer ${this.config.token}` }, body: form },
          this.requestTimeout(),
          this.config.fetch,
        );
        if (response.status >= 200 && response.status < 300) {
          try {
            const parsed: unknown = JSON.parse(response.body.toString('utf8'));
            const id = isObject(parsed) ? str(parsed.id) : undefined;
            if (id) return id;
          } catch {
            // falls through to the error below
          }
          throw new PublishError(`${what}: letmepost answered HTTP ${response.status} without a media id`, { retryable: true });
        }
        const message = `${what}: ${describeApiError(response.status, parseErrorEnvelope(response.body), response.headers.get('x-request-id'))}`;
        const retryable = response.status >= 500 || (response.status === 429 && parseErrorEnvelope(response.body)?.code !== Code.quotaExceeded);
        throw new PublishError(message, { retryable, retryAfterMs: retryAfterMs(response.headers.get('retry-after')) });
      },
      this.policy,
      this.config.log,
      this.wait,
    );
  }
}

/** The server wants the newer `targets[]` request shape. */
class TargetsShapeRequired extends PublishError {}

function mentionsTargets(envelope: ErrorEnvelope | undefined): boolean {
  return /\btargets\b/.test(envelope?.rule ?? '') || /\btargets\b/.test(envelope?.message ?? '');
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

/** Reads both response shapes: the spec's single post, and the batch `results[]`. */
export function readOutcome(parsed: unknown, replayed: boolean): PostOutcome {
  if (!isObject(parsed)) return { status: 'unknown', warnings: [], replayed };
  if (Array.isArray(parsed.results)) {
    const first = parsed.results.find(isObject);
    const error = first ? (isObject(first.error) ? str(first.error.message) : str(first.error)) : undefined;
    return compact({
      id: str(parsed.id),
      status: (first && str(first.status)) ?? str(parsed.status) ?? 'unknown',
      uri: first ? str(first.uri) : undefined,
      cid: first ? str(first.cid) : undefined,
      scheduledAt: str(parsed.scheduledAt),
      firstCommentUri: first ? str(first.firstCommentUri) : undefined,
      warnings: first ? warningsOf(first.warnings) : [],
      error,
      replayed,
    }) as PostOutcome;
  }
  return compact({
    id: str(parsed.id),
    status: str(parsed.status) ?? 'unknown',
    uri: str(parsed.uri),
    cid: str(parsed.cid),
    scheduledAt: str(parsed.scheduledAt),
    firstCommentUri: str(parsed.firstCommentUri),
    warnings: warningsOf(parsed.warnings),
    error: isObject(parsed.error) ? str(parsed.error.message) : str(parsed.error),
    replayed,
  }) as PostOutcome;
}
