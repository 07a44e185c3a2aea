/**
 * The direct X publisher, in process: the OAuth 1.0a signer against the published examples
 * and against a fake X that verifies signatures as X does, what each X error means, the split
 * of long text by X's weights, and the publisher's requests (threads, replies, quotes, a
 * request whose answer was lost, rate limits) against the fake.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PublishError } from '../../../src/errors.js';
import { parseInputs } from '../../../src/settings/settings.js';
import { XClient } from '../../../src/publishers/x/client.js';
import { x as descriptor } from '../../../src/publishers/x/descriptor.js';
import { authorizationHeader, oauthParams, percentEncode } from '../../../src/publishers/x/oauth1.js';
import { DUPLICATE, xFailure } from '../../../src/publishers/x/problems.js';
import { XPublisher } from '../../../src/publishers/x/publisher.js';
import { splitForX } from '../../../src/publishers/x/split.js';
import { planTweets, tweetBody } from '../../../src/publishers/x/tweets.js';
import { prepareLengths } from '../../../src/text/platform-length.js';
import { xWeightedLength } from '../../../src/text/x-length.js';
import { FAKE_X_CREDENTIALS, startFakeX, type FakeX } from '../../support/fake-x.js';
import { png } from '../../support/images.js';
import { plannedTarget } from '../../support/planned.js';

const CREDS = { consumerKey: FAKE_X_CREDENTIALS.consumerKey, consumerSecret: FAKE_X_CREDENTIALS.consumerSecret, token: FAKE_X_CREDENTIALS.token, tokenSecret: FAKE_X_CREDENTIALS.tokenSecret };
const log = { info: () => {}, warning: () => {}, debug: () => {} };
const noWait = async () => {};

let fake: FakeX | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

function publisher(url: string, extra: Partial<ConstructorParameters<typeof XPublisher>[0]> = {}, logs: string[] = []) {
  return new XPublisher({
    apiUrl: url,
    credentials: CREDS,
    requestTimeoutMs: 5000,
    deadline: Date.now() + 60_000,
    log: { info: (m) => logs.push(m), warning: (m) => logs.push(`warning: ${m}`), debug: () => {} },
    wait: noWait,
    ...extra,
  });
}

function target(texts: string[], post: Record<string, unknown> = {}) {
  return plannedTarget({ publisher: 'x', platform: 'twitter', idempotencyKey: 'lmp-test-x-0001', texts, post });
}

describe('the OAuth 1.0a signer', () => {
  it("gives the signature of X's documented example", () => {
    const url = new URL('https://api.twitter.com/1.1/statuses/update.json?include_entities=true');
    const params = oauthParams(
      { consumerKey: 'xvz1evFS4wEEPTGEFPHBog', consumerSecret: 'kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw', token: '370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb', tokenSecret: 'LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE' },
      'POST',
      url,
      { form: [['status', 'Hello Ladies + Gentlemen, a signed OAuth request!']], nonce: 'kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg', timestamp: 1318622958 },
    );
    expect(Object.fromEntries(params).oauth_signature).toBe('hCtSmYh+iHYCEqBWrE7C7hYmtUk=');
  });

  it("gives RFC 5849's example signature (§1.2, with oauth_version as X sends it the base string changes, so it is checked without)", async () => {
    const { signatureBaseString, hmacSha1Signature } = await import('../../../src/publishers/x/oauth1.js');
    const url = new URL('http://photos.example.net/photos?file=vacation.jpg&size=original');
    const params: Array<[string, string]> = [
      ['oauth_consumer_key', 'dpf43f3p2l4k3l03'],
      ['oauth_token', 'nnch734d00sl2jdk'],
      ['oauth_signature_method', 'HMAC-SHA1'],
      ['oauth_timestamp', '137131202'],
      ['oauth_nonce', 'chapoH'],
      ...url.searchParams.entries(),
    ];
    expect(hmacSha1Signature(signatureBaseString('GET', url, params), 'kd94hf93k423kf44', 'pfkkdhi9sl3r4s00')).toBe('MdpQcU8iPSUjWoN/UDMsK2sui9I=');
  });

  it('percent-encodes as RFC 3986 does', () => {
    expect(percentEncode("Ladies + Gentlemen!*'()~ é")).toBe('Ladies%20%2B%20Gentlemen%21%2A%27%28%29~%20%C3%A9');
  });

  it('a fresh nonce per request', () => {
    const url = new URL('https://api.x.com/2/tweets');
    expect(authorizationHeader(CREDS, 'POST', url)).not.toBe(authorizationHeader(CREDS, 'POST', url));
  });

  it('the fake accepts what it signs, query included, and refuses a wrong secret and a replayed nonce', async () => {
    fake = await startFakeX();
    const client = new XClient({ apiUrl: fake.url, credentials: CREDS, requestTimeoutMs: 5000, deadline: Date.now() + 10_000, log });
    expect((await client.request('me', 'GET', '/2/users/me')).status).toBe(200);
    expect((await client.request('timeline', 'GET', "/2/users/1234567890/tweets?max_results=5&tweet.fields=created_at&pagination_token=a!b*(c)'d%20e+f")).status).toBe(200);
    const wrong = new XClient({ apiUrl: fake.url, credentials: { ...CREDS, tokenSecret: 'not-the-secret' }, requestTimeoutMs: 5000, deadline: Date.now() + 10_000, log });
    expect((await wrong.request('me', 'GET', '/2/users/me')).status).toBe(401);
    const header = authorizationHeader(CREDS, 'GET', new URL(`${fake.url}/2/users/me`));
    const first = await fetch(`${fake.url}/2/users/me`, { headers: { Authorization: header } });
    const replay = await fetch(`${fake.url}/2/users/me`, { headers: { Authorization: header } });
    expect([first.status, replay.status]).toEqual([200, 401]);
    expect(fake.requests.map((r) => r.signed)).toEqual([true, true, false, true, false]);
  });
});

describe("what X's errors mean", () => {
  const h = (entries: Record<string, string> = {}) => new Headers(entries);
  const body = (o: unknown) => JSON.stringify(o);

  it.each([
    [401, { title: 'Unauthorized', status: 401, detail: 'Unauthorized', type: 'about:blank' }, 'unauthorized', /regenerating any of them .* invalidates the old value/],
    [403, { reason: 'client-not-enrolled', title: 'Client Forbidden', type: 'https://api.twitter.com/2/problems/client-forbidden', detail: 'must use keys … attached to a Project' }, 'forbidden', /add the app to a Project/],
    [403, { title: 'Forbidden', detail: 'Your client app is not configured with the appropriate oauth1 app permissions for this endpoint.', type: 'https://api.twitter.com/2/problems/oauth1-permissions' }, 'forbidden', /"Read and write".*REGENERATE the Access Token/],
    [403, { detail: 'You are not allowed to create a Tweet with duplicate content.', title: 'Forbidden', status: 403 }, DUPLICATE, /already posted exactly this text/],
    [402, { title: 'CreditsDepleted', detail: 'no credits', type: 'https://api.twitter.com/2/problems/credits' }, 'payment', /no credits left, or its plan does not include posting/],
  ])('HTTP %i: %o', (status, problem, code, fix) => {
    const error = xFailure('inputs → x', status, h(), body(problem), true);
    expect(error.code).toBe(code);
    expect(error.message).toMatch(fix);
    expect(error.retryable).toBe(false);
    expect(error.message).not.toContain('[object Object]');
  });

  it('429 waits until x-rate-limit-reset and says when that is', () => {
    const now = Date.UTC(2026, 11, 3, 8, 0, 0);
    const error = xFailure('inputs → x', 429, h({ 'x-rate-limit-reset': String(now / 1000 + 120) }), body({ title: 'Too Many Requests' }), true, now);
    expect(error).toMatchObject({ retryable: true, retryAfterMs: 121_000 });
    expect(error.message).toContain('resets at 2026-12-03T08:02:00.000Z');
  });

  it('429 from the 24-hour posting cap waits for that reset', () => {
    const now = Date.UTC(2026, 11, 3, 8, 0, 0);
    const headers = h({ 'x-rate-limit-reset': String(now / 1000 + 60), 'x-user-limit-24hour-remaining': '0', 'x-user-limit-24hour-reset': String(now / 1000 + 7200) });
    expect(xFailure('w', 429, headers, '{}', true, now).retryAfterMs).toBe(7_201_000);
  });

  it('a 5xx on a write may have posted; on a read it did not', () => {
    expect(xFailure('w', 503, h(), '{}', true)).toMatchObject({ retryable: true, outcomeUnknown: true });
    expect(xFailure('w', 503, h(), '{}', false)).toMatchObject({ retryable: true, outcomeUnknown: false });
  });
});

describe('texts and bodies', () => {
  it('splits by X weights: CJK weighs 2, so a post holds 140 of them', () => {
    const text = '漢字のテキスト。'.repeat(60);
    const parts = splitForX(text, xWeightedLength);
    expect(parts.length).toBeGreaterThan(3);
    for (const p of parts) expect(xWeightedLength(p)).toBeLessThanOrEqual(280);
    expect(parts.join('')).toBe(text.trim());
  });

  it('a thread is checked post by post; a long text becomes one', async () => {
    await prepareLengths(['twitter']);
    expect(() => planTweets(target(['ok', 'x'.repeat(281)]))).toThrow(/Post 2 of the thread is 281 characters/);
    expect(planTweets(target(['word '.repeat(120)])).length).toBe(3);
  });

  it('replies and quotes name the tweet in the first post only; later posts answer the previous one', () => {
    const reply = target(['a', 'b'], { twitter: { replyToTweetId: '111' } });
    expect(tweetBody(reply, 'a', 0, undefined)).toEqual({ text: 'a', reply: { in_reply_to_tweet_id: '111' } });
    expect(tweetBody(reply, 'b', 1, '222')).toEqual({ text: 'b', reply: { in_reply_to_tweet_id: '222' } });
    const quote = target(['a'], { twitter: { quoteTweetId: '333' } });
    expect(tweetBody(quote, 'a', 0, undefined)).toEqual({ text: 'a', quote_tweet_id: '333' });
  });
});

describe('the descriptor and the inputs', () => {
  it('names each missing key with where to find it', () => {
    const errors = descriptor.credentialErrors({ apiKey: 'k', apiUrl: 'https://api.x.com' });
    expect(errors.map((e) => e.input)).toEqual(['x-api-secret', 'x-access-token', 'x-access-token-secret']);
    expect(errors[1]!.message).toMatch(/Authentication Tokens.*Read and write/);
  });

  it('refuses video and other image types in preflight, with the way that works', async () => {
    await prepareLengths(['twitter']);
    const problems = descriptor.checks({
      post: { text: 'hi', targets: [{ platform: 'twitter', account: 'x' }], media: [] } as never,
      platform: 'twitter',
      account: 'x',
      texts: ['hi'],
      media: [{ kind: 'video', displayPath: 'a.mp4' } as never, { kind: 'image', displayPath: 'b.gif', mimeType: 'image/gif' } as never, { kind: 'image', displayPath: 'c.png', mimeType: 'image/png' } as never],
      targetPath: ['targets', 0],
    });
    expect(problems).toEqual([
      { path: ['media', 0], message: expect.stringMatching(/^'a.mp4' is a video: .*video is not supported yet; post it through letmepost/) },
      { path: ['media', 1], message: expect.stringMatching(/^'b.gif' is image\/gif; the direct X publisher takes JPEG, PNG or WebP/) },
    ]);
  });

  it('auto chooses x when the four keys are set and no letmepost token is', () => {
    const inputs: Record<string, string> = { text: 'hello', platform: 'x', 'x-api-key': 'a', 'x-api-secret': 'b', 'x-access-token': 'c', 'x-access-token-secret': 'd' };
    const { settings, errors } = parseInputs((name) => inputs[name] ?? '');
    expect(errors).toEqual([]);
    expect(settings.inline?.targets).toEqual([{ platform: 'twitter', account: 'x' }]);
    expect(settings.x).toMatchObject({ apiKey: 'a', apiSecret: 'b', accessToken: 'c', accessTokenSecret: 'd', apiUrl: 'https://api.x.com' });
    const half = parseInputs((name) => ({ ...inputs, 'x-access-token-secret': '' })[name] ?? '');
    expect(half.errors.map((e) => e.input)).toEqual(['x-access-token-secret']);
    const explicit = parseInputs((name) => ({ text: 'hello', publisher: 'x' })[name] ?? '');
    expect(explicit.settings.inline?.targets).toEqual([{ platform: 'twitter', account: 'x' }]);
  });
});

describe('the publisher against the fake X', () => {
  it('posts a text once and gives its id and url', async () => {
    fake = await startFakeX();
    const [result] = await publisher(fake.url).publish(target(['widgets 1.2 is out https://example.com/changelog']));
    expect(result).toMatchObject({ status: 'published', id: fake.tweets[0]!.id, url: `https://x.com/i/web/status/${fake.tweets[0]!.id}` });
    expect(fake.tweetRequests().every((r) => r.signed)).toBe(true);
  });

  it('a thread answers each previous post; a reply and a quote', async () => {
    fake = await startFakeX({ existingTweets: ['1111111111111111111'] });
    const results = await publisher(fake.url).publish(target(['one', 'two', 'three'], { twitter: { replyToTweetId: '1111111111111111111' } }));
    expect(results.map((r) => r.part)).toEqual(['1/3', '2/3', '3/3']);
    expect(fake.tweets.map((t) => t.inReplyTo)).toEqual(['1111111111111111111', fake.tweets[0]!.id, fake.tweets[1]!.id]);
    await publisher(fake.url).publish(target(['quoted'], { twitter: { quoteTweetId: '1111111111111111111' } }));
    expect(fake.tweets[3]).toMatchObject({ text: 'quoted', quoteOf: '1111111111111111111' });
  });

  it('an answer lost after the tweet was made: one check, refused as a duplicate, is reported as published with its id found', async () => {
    fake = await startFakeX();
    fake.inject('tweets', { kind: 'drop-after-commit' });
    const logs: string[] = [];
    const [result] = await publisher(fake.url, {}, logs).publish(target(['hello once']));
    expect(fake.tweets).toHaveLength(1);
    expect(fake.tweetRequests()).toHaveLength(2);
    expect(result).toMatchObject({ status: 'published', id: fake.tweets[0]!.id });
    expect(result!.warnings.join()).toMatch(/refused the same text as a duplicate/);
    expect(logs.join('\n')).toMatch(/sent once more as a check/);
  });

  it('without read access the id stays unknown, and the post is still published', async () => {
    fake = await startFakeX({ canRead: false });
    fake.inject('tweets', { kind: 'error-after-commit', status: 503 });
    const [result] = await publisher(fake.url).publish(target(['hello once']));
    expect(fake.tweets).toHaveLength(1);
    expect(result).toMatchObject({ status: 'published' });
    expect(result!.id).toBeUndefined();
    expect(result!.warnings.join()).toMatch(/find it on the account/);
  });

  it('two attempts without an answer: the outcome is unknown, never a third request', async () => {
    fake = await startFakeX();
    fake.inject('tweets', { kind: 'drop-after-commit' }, { kind: 'reset-before-read' });
    const error = await publisher(fake.url).publish(target(['hello'])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect(error).toMatchObject({ outcomeUnknown: true });
    expect((error as Error).message).toMatch(/whether X posted it is unknown/);
    expect(fake.tweetRequests()).toHaveLength(2);
  });

  it('a duplicate on a first attempt is refused with what it means', async () => {
    fake = await startFakeX();
    await publisher(fake.url).publish(target(['same text']));
    const error = await publisher(fake.url).publish(target(['same text'])).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: DUPLICATE, outcomeUnknown: true });
    expect(fake.tweets).toHaveLength(1);
    expect((error as Error).message).toMatch(/already posted exactly this text .* Nothing was posted now/);
  });

  it('waits for a rate limit within the deadline; beyond it, fails with the reset time', async () => {
    fake = await startFakeX();
    fake.inject('tweets', { kind: 'rate-limit', resetInSeconds: 1 });
    const waits: number[] = [];
    await publisher(fake.url, { wait: async (ms) => void waits.push(ms) }).publish(target(['after the limit']));
    expect(waits[0]).toBeGreaterThan(0);
    expect(fake.tweets).toHaveLength(1);
    fake.inject('tweets', { kind: 'rate-limit', resetInSeconds: 3600 });
    const error = await publisher(fake.url).publish(target(['too late'])).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/rate limited; the limit resets at \d{4}-.*deadline/);
    expect(error).toMatchObject({ code: 'failed', outcomeUnknown: false });
  });

  it('a thread that fails midway says which tweets exist and how to finish it', async () => {
    fake = await startFakeX({});
    fake.inject('tweets', { kind: 'none' }, { kind: 'http', status: 403, body: { title: 'Forbidden', detail: 'You are not permitted to perform this action.', type: 'about:blank', status: 403 } });
    const error = await publisher(fake.url).publish(target(['one', 'two'])).catch((e: unknown) => e);
    expect(error).toMatchObject({ outcomeUnknown: true });
    expect((error as Error).message).toMatch(new RegExp(`Post 1 of the thread of 2 is published \\(https://x.com/i/web/status/${fake.tweets[0]!.id}\\); post 2 is not.*x-reply-to-tweet-id`));
  });

  it('a dry run shows the requests, secrets left out, and sends nothing', async () => {
    fake = await startFakeX();
    const shown = JSON.stringify(await publisher(fake.url).describe(target(['one', 'two'], { twitter: { quoteTweetId: '1111111111111111111' } })));
    expect(shown).toContain('"quote_tweet_id":"1111111111111111111"');
    expect(shown).toContain('"in_reply_to_tweet_id":"<id of post 1>"');
    for (const secret of Object.values(CREDS)) expect(shown).not.toContain(secret);
    expect(fake.requests).toHaveLength(0);
  });

  it('images are uploaded, their alt text set, and attached to the first post of a thread', async () => {
    fake = await startFakeX();
    const dir = mkdtempSync(join(tmpdir(), 'lmpa-x-'));
    writeFileSync(join(dir, 'a.png'), png(40, 30));
    writeFileSync(join(dir, 'b.png'), png(20, 20, { seed: 2 }));
    const media = [
      { kind: 'image' as const, path: join(dir, 'a.png'), displayPath: 'a.png', mimeType: 'image/png', size: png(40, 30).length, alt: 'The dashboard' },
      { kind: 'image' as const, path: join(dir, 'b.png'), displayPath: 'b.png', mimeType: 'image/png', size: png(20, 20, { seed: 2 }).length },
    ];
    const results = await publisher(fake.url).publish({ ...target(['with images', 'and a reply']), media });
    expect(fake.media.map((m) => [m.type, m.alt])).toEqual([['image/png', 'The dashboard'], ['image/png', undefined]]);
    expect(fake.tweets[0]!.mediaIds).toEqual(fake.media.map((m) => m.id));
    expect(fake.tweets[1]!.mediaIds).toBeUndefined();
    expect(results[0]!.warnings).toEqual([expect.stringMatching(/'b.png' has no alt text/)]);
    expect(fake.requests.filter((r) => r.path === '/2/media/upload').every((r) => r.signed)).toBe(true);
  });

  it('a lost answer to an upload is retried and never makes the post "may have been published"', async () => {
    fake = await startFakeX();
    fake.inject('media', { kind: 'reset-before-read' });
    const dir = mkdtempSync(join(tmpdir(), 'lmpa-x-'));
    writeFileSync(join(dir, 'a.png'), png(10, 10));
    const media = [{ kind: 'image' as const, path: join(dir, 'a.png'), displayPath: 'a.png', mimeType: 'image/png', size: png(10, 10).length, alt: 'a' }];
    const [result] = await publisher(fake.url).publish({ ...target(['after a lost upload']), media });
    expect(result).toMatchObject({ status: 'published' });
    expect(fake.requests.filter((r) => r.path === '/2/media/upload')).toHaveLength(2);
    fake.inject('media', { kind: 'reset-before-read' }, { kind: 'reset-before-read' }, { kind: 'reset-before-read' });
    const error = await publisher(fake.url, { retry: { maxAttempts: 3 } }).publish({ ...target(['never posted']), media }).catch((e: unknown) => e);
    expect(error).toMatchObject({ outcomeUnknown: false, code: 'failed' });
    expect(fake.tweets).toHaveLength(1);
  });

  it('a scheduled post not yet due sends nothing', async () => {
    fake = await startFakeX();
    const [result] = await publisher(fake.url).publish({ ...target(['later']), scheduledAt: '2099-01-01T09:00:00.000Z' });
    expect(result).toMatchObject({ status: 'waiting', scheduledAt: '2099-01-01T09:00:00.000Z' });
    expect(fake.requests).toHaveLength(0);
  });
});
