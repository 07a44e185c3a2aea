/**
 * The HTTP transport to one Mastodon instance: every request carries the user's token, has a
 * time limit that never runs past the step's deadline, and an unexpected answer becomes a
 * PublishError classified for the retry policy (a cross-origin redirect is never followed:
 * io/http.ts refuses it, since the token would go with it).
 */
import { PublishError, SCHEDULE_REFUSED } from '../../errors.js';
import { httpRequest, retryAfterMs, type HttpResponse } from '../../io/http.js';
import { isObject, parseJson, str } from '../../io/json.js';
import { clockWith, DEFAULT_RETRY, withRetries, type Clock, type RetryPolicy } from '../../io/retry.js';
import { redact, registerSecret } from '../../secrets.js';
import type { Log, TransportConfig } from '../types.js';

export interface MastodonConfig extends TransportConfig {
  /** The instance's base URL, e.g. https://mastodon.social. */
  server: string;
  /** A user access token with write:statuses (and write:media for media). */
  token: string;
  /** Between checks of a media attachment that is still processing; default 1000. */
  mediaPollIntervalMs?: number;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  body?: RequestInit['body'];
  /** Added to the usual timeout, e.g. to send a large upload. */
  extraTimeoutMs?: number;
}

const TOKEN_HINT = "check the 'mastodon-token' secret: it must be a valid access token of this instance with the write:statuses scope (and write:media to attach media)";

/** Mastodon's error text: `{"error": "…", "error_description"?: "…"}`. */
export function serverMessage(body: Buffer): string | undefined {
  const parsed = parseJson(body);
  if (!isObject(parsed)) return undefined;
  const message = str(parsed.error);
  const description = str(parsed.error_description);
  return message && description && description !== message ? `${message}: ${description}` : (message ?? description);
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

/** A final error of a retried request: transient ones become code 'failed' (a re-run retries). */
function finalError(error: unknown): unknown {
  if (!(error instanceof PublishError) || error.code === 'failed') return error;
  const transient = error.retryable || (error.cause instanceof PublishError && error.cause.retryable);
  return transient ? new PublishError(error.message, { code: 'failed', outcomeUnknown: error.outcomeUnknown, cause: error }) : error;
}

export class MastodonClient {
  readonly clock: Clock;
  private readonly policy: RetryPolicy;

  constructor(readonly config: MastodonConfig) {
    this.policy = { ...DEFAULT_RETRY, ...config.retry, deadline: config.deadline };
    this.clock = clockWith(config.wait);
    registerSecret(config.token);
  }

  get log(): Log {
    return this.config.log;
  }

  /** The instance's base URL as given, without trailing slashes; empty when not set. */
  get base(): string {
    return this.config.server.trim().replace(/\/+$/, '');
  }

  /** The instance's host, for messages (the base itself when it is no URL). */
  get host(): string {
    try {
      return new URL(this.base).host;
    } catch {
      return this.base;
    }
  }

  /** The usual timeout (plus extraMs), cut to what is left before the deadline, one second at least. */
  requestTimeout(extraMs = 0): number {
    return Math.min(this.config.requestTimeoutMs + extraMs, Math.max(1000, this.config.deadline - Date.now()));
  }

  request(what: string, method: string, path: string, init: RequestOptions = {}): Promise<HttpResponse> {
    return httpRequest(
      what,
      `${this.base}${path}`,
      { method, headers: { Authorization: `Bearer ${this.config.token}`, ...init.headers }, ...(init.body !== undefined ? { body: init.body } : {}) },
      this.requestTimeout(init.extraTimeoutMs),
      this.config.fetch,
    );
  }

  /** withRetries, with a transient final failure marked 'failed' (a re-run retries it). */
  async retrying<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    try {
      return await withRetries(what, attempt, this.policy, this.config.log, this.clock);
    } catch (error) {
      throw finalError(error);
    }
  }

  /** The error for an unexpected answer, classified for the retry policy. Secrets scrubbed. */
  failure(what: string, response: HttpResponse): PublishError {
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
}
