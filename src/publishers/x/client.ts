/**
 * The HTTP transport to the X API: every request is signed anew with OAuth 1.0a (a fresh
 * nonce per attempt), has a time limit that never runs past the step's deadline, and an
 * unexpected answer becomes a PublishError with the fix in its message (problems.ts).
 */
import { PublishError } from '../../errors.js';
import { httpRequest, type HttpResponse } from '../../io/http.js';
import { clockWith, DEFAULT_RETRY, withRetries, type Clock, type RetryPolicy } from '../../io/retry.js';
import { registerSecret } from '../../secrets.js';
import type { Log, TransportConfig } from '../types.js';
import { authorizationHeader, type OAuth1Credentials } from './oauth1.js';
import { xFailure } from './problems.js';

export const X_API_URL = 'https://api.x.com';

export interface XConfig extends TransportConfig {
  /** The API's base URL; https://api.x.com (tests point it at a fake). */
  apiUrl: string;
  credentials: OAuth1Credentials;
}

/** A final error of a retried request: transient ones become code 'failed' (a re-run retries). */
function finalError(error: unknown): unknown {
  if (!(error instanceof PublishError) || error.code === 'failed') return error;
  const transient = error.retryable || (error.cause instanceof PublishError && error.cause.retryable);
  return transient ? new PublishError(error.message, { code: 'failed', outcomeUnknown: error.outcomeUnknown, cause: error }) : error;
}

export class XClient {
  readonly clock: Clock;
  private readonly policy: RetryPolicy;

  constructor(readonly config: XConfig) {
    // X takes no idempotency key: the retry log must not promise one.
    this.policy = { ...DEFAULT_RETRY, ...config.retry, deadline: config.deadline, resent: 'same request (X takes no idempotency key)' };
    this.clock = clockWith(config.wait);
    const c = config.credentials;
    for (const secret of [c.consumerKey, c.consumerSecret, c.token, c.tokenSecret]) registerSecret(secret);
  }

  get log(): Log {
    return this.config.log;
  }

  get base(): string {
    return this.config.apiUrl.trim().replace(/\/+$/, '');
  }

  /** The usual timeout (plus extraMs), cut to what is left before the deadline, one second at least. */
  requestTimeout(extraMs = 0): number {
    return Math.min(this.config.requestTimeoutMs + extraMs, Math.max(1000, this.config.deadline - Date.now()));
  }

  /**
   * One signed request. A JSON or multipart body is not part of the signature (RFC 5849
   * §3.4.1.3.1: only form-encoded bodies are), so it is sent as is.
   */
  request(what: string, method: string, path: string, body?: { json: unknown } | { form: FormData; extraTimeoutMs?: number }): Promise<HttpResponse> {
    const url = new URL(`${this.base}${path}`);
    const headers: Record<string, string> = { Authorization: authorizationHeader(this.config.credentials, method, url) };
    let payload: RequestInit['body'] | undefined;
    if (body !== undefined && 'json' in body) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body.json);
    } else if (body !== undefined) {
      payload = body.form;
    }
    const extra = body !== undefined && 'form' in body ? (body.extraTimeoutMs ?? 0) : 0;
    return httpRequest(what, url.href, { method, headers, ...(payload !== undefined ? { body: payload } : {}) }, this.requestTimeout(extra), this.config.fetch);
  }

  /** withRetries, with a transient final failure marked 'failed' (a re-run retries it). */
  async retrying<T>(what: string, attempt: (n: number) => Promise<T>): Promise<T> {
    try {
      return await withRetries(what, attempt, this.policy, this.config.log, this.clock);
    } catch (error) {
      throw finalError(error);
    }
  }

  failure(what: string, response: HttpResponse, write: boolean): PublishError {
    return xFailure(what, response.status, response.headers, response.body, write);
  }
}
