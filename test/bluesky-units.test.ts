import { XRPCError } from '@atproto/api';
// A transitive dependency of @atproto/api: the reference TID implementation to check ours.
import { TID } from '@atproto/common-web';
import { describe, expect, it } from 'vitest';
import { planPosts } from '../src/publishers/bluesky/records.js';
import { decodeEntities, parseOpenGraph } from '../src/publishers/bluesky/open-graph.js';
import { applyMentions, describeMentions, detectFacets, firstLink, mentionedHandles } from '../src/publishers/bluesky/rich-text.js';
import { splitThread } from '../src/publishers/bluesky/split.js';
import { decodeTid, encodeTid, isValidTid, tidFromKey } from '../src/publishers/bluesky/tid.js';
import { loginError, rateLimitWaitMs, toPublishError } from '../src/publishers/bluesky/xrpc-errors.js';
import { PublishError } from '../src/errors.js';
import { childKey } from '../src/plan/keys.js';
import type { PostDefinition } from '../src/model/post.js';
import { registerSecret } from '../src/secrets.js';
import { countGraphemes, URL_PATTERN } from '../src/text/length.js';
import { keysOf } from './support/planned.js';

const ANCHOR = Date.UTC(2025, 5, 1, 9, 30, 0); // 2025-06-01T09:30:00Z

function utf8Slice(text: string, start: number, end: number): string {
  return Buffer.from(text, 'utf8').subarray(start, end).toString('utf8');
}

describe('record keys (TIDs)', () => {
  it.each([
    ['a typical key', 'lmpa-in-bluesky-abcdefghijklmnopqrstuvwxyz012345', ANCHOR],
    ['a child key of a thread', 'lmpa-in-bluesky-abc-t2', ANCHOR + 1],
    ['the epoch', 'k', 0],
    ['a time far ahead', 'k', Date.UTC(2200, 0, 1)],
  ])('%s gives a 13-character TID whose first character is 2–j', (_, key, time) => {
    const tid = tidFromKey(key, time);
    expect(tid).toHaveLength(13);
    expect(tid).toMatch(/^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/);
    expect(isValidTid(tid)).toBe(true);
  });

  it('the same key and time always give the same TID', () => {
    expect(tidFromKey('lmpa-f-bluesky-xyz', ANCHOR)).toBe(tidFromKey('lmpa-f-bluesky-xyz', ANCHOR));
  });

  it('different keys at the same anchor get different TIDs, all within the anchor millisecond', () => {
    // ~20 bits come from the key (1000 sub-millisecond values × 1024 clock ids): n posts
    // sharing one anchor collide with probability about n²/2,048,000.
    const tids = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const tid = tidFromKey(`lmpa-in-bluesky-key${i}`, ANCHOR);
      tids.add(tid);
      const { micros } = decodeTid(tid);
      expect(micros / 1000n).toBe(BigInt(ANCHOR));
    }
    expect(tids.size).toBe(500);
  });

  it('encodes exactly as the reference implementation (@atproto/common-web TID)', () => {
    for (const [micros, clock] of [
      [1_200_000_000_000_000, 0],
      [1_700_000_000_123_456, 1023],
      [2 ** 53 - 1, 512],
    ] as const) {
      expect(encodeTid(BigInt(micros), clock)).toBe(TID.fromTime(micros, clock).toString());
    }
    const tid = tidFromKey('some-key', ANCHOR);
    const { micros, clockId } = decodeTid(tid);
    expect(TID.fromTime(Number(micros), clockId).toString()).toBe(tid);
  });

  it('later times sort later, so a thread reply sorts after its parent', () => {
    expect(tidFromKey('a', ANCHOR + 1) > tidFromKey('b', ANCHOR)).toBe(true);
  });

  it('refuses times it cannot encode', () => {
    expect(() => tidFromKey('k', -1)).toThrow(RangeError);
    expect(() => tidFromKey('k', 1.5)).toThrow(RangeError);
    expect(() => encodeTid(2n ** 53n, 0)).toThrow(RangeError);
  });
});

describe('thread splitting', () => {
  const sentence = (n: number) => `Sentence ${n} says something that matters to the people who read it.`;
  const long = Array.from({ length: 14 }, (_, i) => sentence(i + 1)).join(' ');

  it('keeps a text that fits as one post, unchanged', () => {
    expect(splitThread('short  text\n\nwith space', { numbering: true })).toEqual(['short  text\n\nwith space']);
  });

  it('splits on sentence boundaries first, every post within 300 graphemes', () => {
    const parts = splitThread(long);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) {
      expect(countGraphemes(p)).toBeLessThanOrEqual(300);
      expect(p).toMatch(/^Sentence \d+ .*\.$/s);
    }
    expect(parts.join(' ')).toBe(long);
  });

  it('splits a sentence longer than a post on word boundaries', () => {
    const words = Array.from({ length: 120 }, (_, i) => `word${i}`).join(' ');
    const parts = splitThread(words);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) {
      expect(countGraphemes(p)).toBeLessThanOrEqual(300);
      expect(p).toMatch(/^word\d+( word\d+)*$/);
    }
    expect(parts.join(' ')).toBe(words);
  });

  it('splits a single word longer than a post on graphemes, never inside an emoji', () => {
    const word = '👩‍👩‍👧‍👦'.repeat(350);
    const parts = splitThread(word);
    // Each family emoji is 25 UTF-8 bytes: the record's 3000-byte cap binds before 300 graphemes.
    expect(parts.map(countGraphemes)).toEqual([120, 120, 110]);
    expect(parts.join('')).toBe(word);
    for (const p of parts) expect(Buffer.byteLength(p)).toBeLessThanOrEqual(3000);
  });

  it('numbers the posts 1/n … n/n when asked, the numbers counting toward 300', () => {
    const parts = splitThread(long, { numbering: true });
    parts.forEach((p, i) => {
      expect(p.endsWith(` ${i + 1}/${parts.length}`)).toBe(true);
      expect(countGraphemes(p)).toBeLessThanOrEqual(300);
    });
  });

  it('makes room for two-digit numbering when the thread has ten posts or more', () => {
    const text = Array.from({ length: 60 }, (_, i) => sentence(i)).join(' ');
    const parts = splitThread(text, { numbering: true });
    expect(parts.length).toBeGreaterThanOrEqual(10);
    for (const p of parts) expect(countGraphemes(p)).toBeLessThanOrEqual(300);
    expect(parts.at(-1)).toMatch(new RegExp(` ${parts.length}/${parts.length}$`));
  });

  it('never cuts a link, even one whose dots look like sentence ends', () => {
    const url = 'https://example.com/Releases/v2.Final.Notes?tag=A.B#Section.Two';
    const text = `${'Lead in text for the release. '.repeat(8)}Read ${url} now. Then ${url}. ${'Trailing words follow here. '.repeat(8)}`;
    const parts = splitThread(text.trim());
    for (const p of parts) {
      expect(countGraphemes(p)).toBeLessThanOrEqual(300);
      for (const m of p.matchAll(URL_PATTERN)) expect(m[0]).toBe(url);
    }
    expect(parts.join(' ').split(url).length - 1).toBe(2);
  });

  it('splits non-Latin text too (sentence ends such as 。)', () => {
    const text = '今日は新しいバージョンを公開しました。'.repeat(30);
    const parts = splitThread(text);
    for (const p of parts) {
      expect(countGraphemes(p)).toBeLessThanOrEqual(300);
      expect(p.endsWith('。')).toBe(true);
    }
    expect(parts.join('')).toBe(text);
  });
});

describe('planning the records of a target', () => {
  it('gives each post its own key and record key, replies 1 ms after their parents, and the first comment last', () => {
    const plan = planPosts({ keys: keysOf('K'), texts: ['one', 'two', 'three'], firstComment: 'fc', options: {} }, ANCHOR);
    expect(plan.map((p) => [p.part, p.key])).toEqual([
      ['1/3', 'K'],
      ['2/3', childKey('K', 't2')],
      ['3/3', childKey('K', 't3')],
      ['first-comment', childKey('K', 'fc')],
    ]);
    // createdAt is not planned: a record is dated when it is written.
    expect(plan.every((p) => !('createdAt' in p))).toBe(true);
    expect(plan.map((p) => p.rkey)).toEqual([tidFromKey('K', ANCHOR), tidFromKey(childKey('K', 't2'), ANCHOR + 1), tidFromKey(childKey('K', 't3'), ANCHOR + 2), tidFromKey(childKey('K', 'fc'), ANCHOR + 3)]);
    expect([...plan.map((p) => p.rkey)].sort()).toEqual(plan.map((p) => p.rkey));
  });

  it('a single post has no part', () => {
    expect(planPosts({ keys: keysOf('K'), texts: ['one'], options: {} }, ANCHOR)[0]?.part).toBeUndefined();
  });
});

describe('facets', () => {
  it.each([
    ['ASCII', 'Hi @bob.test see https://example.com/a #release'],
    ['accents and emoji before the facets', 'Héllo wörld 🦋👩‍👩‍👧 — @bob.test see https://example.com/a #release'],
    ['CJK', '新しいリリース @bob.test https://example.com/a ＃ #release'],
  ])('byte offsets point at the right UTF-8 bytes (%s)', (_, text) => {
    const facets = detectFacets(text);
    const slices = facets.map((f) => utf8Slice(text, f.index.byteStart, f.index.byteEnd));
    expect(slices).toEqual(['@bob.test', 'https://example.com/a', '#release']);
    expect(firstLink(facets)).toBe('https://example.com/a');
    expect(mentionedHandles(facets)).toEqual(['bob.test']);
  });

  it('a resolved mention carries the DID; an unresolved one is dropped and named', () => {
    const text = '@Bob.test and @nobody.test https://example.com';
    const { facets, unresolved } = applyMentions(detectFacets(text), new Map([['bob.test', 'did:plc:bob'], ['nobody.test', undefined]]));
    expect(unresolved).toEqual(['nobody.test']);
    const mentions = facets.flatMap((f) => f.features).filter((f) => (f as { $type?: string }).$type === 'app.bsky.richtext.facet#mention');
    expect(mentions).toEqual([{ $type: 'app.bsky.richtext.facet#mention', did: 'did:plc:bob' }]);
    expect(facets).toHaveLength(2);
    for (const f of facets) for (const x of f.features) expect((x as { did?: string }).did).not.toBe('');
  });

  it('a dry run shows mentions as placeholders, not handles in the did field', () => {
    const [facet] = describeMentions(detectFacets('@bob.test'));
    expect((facet?.features[0] as { did: string }).did).toBe('<DID of @bob.test, resolved when publishing>');
  });

  it('bare domains become https links', () => {
    expect(firstLink(detectFacets('see example.com/docs'))).toBe('https://example.com/docs');
  });
});

describe('Open Graph parsing', () => {
  it.each([
    [
      'Open Graph tags in any attribute order, entities decoded, relative image made absolute',
      `<html><head><title>Fallback</title><meta content="The &amp; title" property="og:title"><meta property='og:description' content='It&#39;s &quot;great&quot;'><meta property="og:image" content="/img/card.png"/></head></html>`,
      { title: 'The & title', description: `It's "great"`, image: 'https://example.com/img/card.png' },
    ],
    [
      'falls back to <title> and meta description',
      `<head><TITLE>
        Plain   page </TITLE><meta name="description" content="Described."></head>`,
      { title: 'Plain page', description: 'Described.' },
    ],
    ['Twitter card tags when Open Graph is missing', `<meta name="twitter:title" content="TW"><meta name="twitter:image" content="https://cdn.example.com/x.jpg">`, { title: 'TW', image: 'https://cdn.example.com/x.jpg' }],
    ['ignores tags inside comments and scripts', `<!-- <meta property="og:title" content="no"> --><script>"<meta property='og:title' content='no'>"</script><meta property="og:title" content="yes">`, { title: 'yes' }],
    ['drops a non-http image', `<meta property="og:title" content="T"><meta property="og:image" content="javascript:alert(1)">`, { title: 'T' }],
    ['nothing to show', `<html><body>hi</body></html>`, {}],
  ])('%s', (_, html, expected) => {
    expect(parseOpenGraph(html, 'https://example.com/blog/post')).toEqual(expected);
  });

  it('caps a very long title', () => {
    const meta = parseOpenGraph(`<meta property="og:title" content="${'x'.repeat(1000)}">`, 'https://example.com/');
    expect(countGraphemes(meta.title!)).toBe(300);
    expect(meta.title!.endsWith('…')).toBe(true);
  });

  it('decodes numeric and named entities, and leaves unknown ones alone', () => {
    expect(decodeEntities('&#x1F98B; &#8212; &lt;b&gt; &bogus;')).toBe('🦋 — <b> &bogus;');
  });
});

describe('Bluesky errors', () => {
  const xrpc = (status: number, error: string, message: string, headers: Record<string, string> = {}) => new XRPCError(status, error, message, headers);

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

  it('a lost connection during a write is retryable and leaves the outcome unknown; a refused one does not', () => {
    const reset = XRPCError.from(new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) }));
    const refused = XRPCError.from(new TypeError('fetch failed', { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) }));
    expect(toPublishError('post', reset, { write: true })).toMatchObject({ retryable: true, outcomeUnknown: true });
    expect(toPublishError('post', refused, { write: true })).toMatchObject({ retryable: true, outcomeUnknown: false });
  });
});
