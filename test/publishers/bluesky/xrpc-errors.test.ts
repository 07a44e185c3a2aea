import { describe, expect, it } from 'vitest';
import { loginError, rateLimitWaitMs, toPublishError } from '../../../src/publishers/bluesky/xrpc-errors.js';
import { Xrpc, XrpcError } from '../../../src/publishers/bluesky/xrpc.js';
import { PublishError } from '../../../src/errors.js';
import { registerSecret } from '../../../src/secrets.js';

describe('Bluesky errors', () => {
  const xrpc = (status: number, error: string, message: string, headers: Record<string, string> = {}) => new XrpcError(status, error, message, headers);

  it.each([
    ['a wrong password', xrpc(401, 'AuthenticationRequired', 'Invalid identifier or password'), /invalid identifier or password.*'bluesky-identifier'.*app password/],
    ['an account that needs an emailed code', xrpc(401, 'AuthFactorTokenRequired', 'A sign in code has been sent to your email address'), /emailed sign-in code.*Use an app password instead/],
  ])('a login refused for %s says what to do, without retrying and without the password', (_, error, pattern) => {
    registerSecret('abcd-efgh-ijkl-mnop');
    const e = loginError(error, 'me.bsky.social');
    expect(e).toBeInstanceOf(PublishError);
    expect(e.retryable).toBe(false);
    expect(e.message).toMatch(pattern);
    expect(e.message).toContain("'me.bsky.social'");
    expect(e.message).not.toContain('abcd-efgh-ijkl-mnop');
  });

  it('too many logins: retried once the limit resets (when that is before the deadline), else the message says when to re-run', () => {
    const now = Date.UTC(2026, 0, 1, 0, 0, 0);
    const e = loginError(xrpc(429, 'RateLimitExceeded', 'Rate Limit Exceeded', { 'ratelimit-reset': String(now / 1000 + 30) }), 'me.bsky.social', { now });
    expect(e).toMatchObject({ retryable: true, retryAfterMs: 30_000, outcomeUnknown: false });
    expect(e.message).toMatch(/'me.bsky.social': too many logins.*rate-limits logins \(about 30 per 5 minutes.*Wait until 2026-01-01T00:00:30Z and re-run/);
  });

  it('a server error on login is retryable', () => {
    expect(loginError(xrpc(502, 'UpstreamFailure', 'bad gateway'), 'me').retryable).toBe(true);
  });

  it.each([
    ['text over the limit', xrpc(400, 'InvalidRequest', 'Invalid app.bsky.feed.post record: grapheme too big (maximum 300, got 301) at $.record.text'), /text is 301 characters; it is over Bluesky's limit of 300/, false],
    ['an image over the limit', xrpc(400, 'InvalidRequest', 'blob too big (maximum 1000000, got 1200000)'), /size limit of 1,000,000 bytes \(it is 1,200,000 bytes\)/, false],
    ['a server error', xrpc(503, 'NotEnoughResources', 'try later'), /HTTP 503 NotEnoughResources: try later/, true],
    ['a rate limit', xrpc(429, 'RateLimitExceeded', 'slow down'), /rate limit is reached/, true],
    ['an invalid request', xrpc(400, 'InvalidRequest', 'Invalid record'), /refused the request: HTTP 400 InvalidRequest: Invalid record/, false],
  ])('%s maps to a clear error', (_, error, pattern, retryable) => {
    const e = toPublishError('post', error, { write: true });
    expect(e.message).toMatch(pattern);
    expect(e.retryable).toBe(retryable);
  });

  it('a 429 waits until ratelimit-reset', () => {
    const now = Date.UTC(2026, 0, 1, 0, 0, 0);
    expect(rateLimitWaitMs(xrpc(429, 'RateLimitExceeded', '', { 'ratelimit-reset': String(now / 1000 + 30) }), now)).toBe(30_000);
    expect(rateLimitWaitMs(xrpc(429, 'RateLimitExceeded', '', { 'retry-after': '7' }), now)).toBe(7000);
  });

  /** What the connection throws when fetch itself fails the way undici fails. */
  async function failedCall(code: string): Promise<unknown> {
    const failing: typeof fetch = () => Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error(code), { code }) }));
    return new Xrpc('https://pds.example', failing).getRecord('did:plc:x', 'app.bsky.feed.post', 'k').catch((error: unknown) => error);
  }

  it('a lost connection during a write is retryable and leaves the outcome unknown; a refused one does not', async () => {
    const reset = await failedCall('ECONNRESET');
    const refused = await failedCall('ECONNREFUSED');
    expect(toPublishError('post', reset, { write: true })).toMatchObject({ retryable: true, outcomeUnknown: true });
    expect(toPublishError('post', refused, { write: true })).toMatchObject({ retryable: true, outcomeUnknown: false });
  });
});
