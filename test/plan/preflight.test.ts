import { beforeAll, describe, expect, it } from 'vitest';
import { prepareLengths } from '../../src/text/platform-length.js';
import type { ResolvedMedia } from '../../src/model/media.js';
import { parseScheduledAt, preflight, scheduleLeadProblem } from '../../src/plan/preflight.js';
import { postSchema, type PostDefinition } from '../../src/model/post.js';
import type { PublisherKind } from '../../src/publishers/types.js';
import { countGraphemes, weightedLength } from '../../src/text/length.js';
import type { Platform } from '../../src/model/platforms.js';

beforeAll(() => prepareLengths(['twitter']));

const NOW = Date.parse('2026-11-28T12:00:00Z');
const ACCOUNT = '1b4e28ba-2fa1-11d2-883f-0016d3cca427';

function check(post: Record<string, unknown>, platform: Platform = 'bluesky', publisher: PublisherKind = 'letmepost', media: ResolvedMedia[] = []) {
  const account = publisher === 'letmepost' ? ACCOUNT : publisher;
  const def: PostDefinition = postSchema.parse({ targets: [{ platform, account }], ...post });
  return preflight(def, { publisher, platform, account, maxThreadPosts: 10 }, def.thread ?? [def.text ?? ''], media);
}

describe('text length', () => {
  it.each([
    ['ascii', 'hello', 5],
    ['an emoji family is one grapheme', '👨‍👩‍👧‍👦', 1],
    ['a flag is one grapheme', '🇫🇷', 1],
    ['combining accents stay with their letter', 'e\u0301te\u0301', 3],
  ])('%s', (_, text, expected) => {
    expect(countGraphemes(text)).toBe(expected);
  });

  it('counts every URL as 23 characters when weighted', () => {
    const text = `see https://example.com/a/very/long/path/${'x'.repeat(100)} now`;
    expect(weightedLength(text, 23)).toBe(4 + 23 + 4);
  });

  it.each([
    ['bluesky', 300, true],
    ['bluesky', 301, false],
    ['twitter', 280, true],
    ['twitter', 281, false],
    ['threads', 500, true],
    ['threads', 501, false],
    ['linkedin', 3000, true],
    ['linkedin', 3001, false],
  ] as const)('%s accepts %i graphemes: %s', (platform, length, ok) => {
    // X weighs an emoji as two: its cap is shown with one-weight characters.
    const problems = check({ text: (platform === 'twitter' ? 'a' : '😀').repeat(length) }, platform);
    expect(problems.length === 0).toBe(ok);
  });

  it.each([
    ['CJK characters weigh 2', '日本語'.repeat(46) + '日本', true],
    ['CJK characters weigh 2, one over', '日本語'.repeat(47), false],
    ['an emoji weighs 2', '😀'.repeat(140), true],
    ['an emoji weighs 2, one over', '😀'.repeat(141), false],
    ['a bare domain is a link of 23', `${'a'.repeat(256)} example.com/x`, true],
    ['a bare domain is a link of 23, one over', `${'a'.repeat(257)} example.com/x`, false],
  ])('X counts as X does: %s', (_, text, ok) => {
    const problems = check({ text }, 'twitter');
    expect(problems.length === 0, problems.map((p) => p.message).join('\n')).toBe(ok);
    if (!ok) expect(problems[0]?.message).toMatch(/as X counts/);
  });

  it('a tweet with a long URL fits when its URL counts 23', () => {
    const text = `${'a'.repeat(250)} https://example.com/${'p'.repeat(80)}`;
    expect(check({ text }, 'twitter')).toEqual([]);
  });

  it('says how far over the limit the text is', () => {
    const [problem] = check({ text: 'a'.repeat(310) });
    expect(problem?.path).toEqual(['text']);
    expect(problem?.message).toMatch(/310 characters, over Bluesky's limit of 300 by 10/);
  });

  it('a long text to the direct Bluesky publisher is split later, not refused', () => {
    expect(check({ text: 'word '.repeat(200) }, 'bluesky', 'bluesky')).toEqual([]);
  });

  it('an empty text is refused', () => {
    expect(check({ text: '   ' })[0]?.message).toMatch(/empty/);
  });
});

describe('scheduled-at', () => {
  it.each([
    ['2026-12-01T09:00:00Z', '2026-12-01T09:00:00.000Z'],
    ['2026-12-01T10:00:00+01:00', '2026-12-01T09:00:00.000Z'],
    ['2026-12-01T04:00:00-0500', '2026-12-01T09:00:00.000Z'],
    ['2026-12-01 09:00Z', '2026-12-01T09:00:00.000Z'],
    ['2026-12-01T09:00:00.250Z', '2026-12-01T09:00:00.250Z'],
  ])('%s is sent as %s', (raw, iso) => {
    expect(parseScheduledAt(raw)).toEqual({ iso });
  });

  it.each([
    ['2026-12-01T09:00:00', /no time zone/],
    ['tomorrow', /not an ISO-8601/],
    ['2026-13-01T09:00:00Z', /not a real date/],
    ['2026-12-01', /not an ISO-8601/],
  ])('%s is refused', (raw, message) => {
    const result = parseScheduledAt(raw);
    expect('error' in result && result.error).toMatch(message);
  });

  it.each([
    ['in the past', '2026-11-28T11:00:00Z', /in the past/],
    ['less than a second ahead', '2026-11-28T12:00:00.500Z', /only 1 s ahead|only 0 s ahead/],
  ])('a time %s is too soon to schedule, with an example of a valid one', (_, scheduledAt, message) => {
    const problem = scheduleLeadProblem(scheduledAt, 'letmepost', NOW);
    expect(problem).toMatch(message);
    expect(problem).toMatch(/e\.g\. 2026-\d\d-\d\dT\d\d:00:00Z/);
  });

  it('a time in the past is not a preflight problem: a re-run may find the post it queued', () => {
    expect(check({ text: 'hi', scheduledAt: '2026-11-28T11:00:00Z' })).toEqual([]);
  });

  it('Mastodon needs five minutes of lead time', () => {
    expect(scheduleLeadProblem('2026-11-28T12:03:00Z', 'mastodon', NOW)).toMatch(/at least 5 minutes/);
    expect(scheduleLeadProblem('2026-11-28T12:06:00Z', 'mastodon', NOW)).toBeUndefined();
  });

  it('a past time on direct Bluesky means due now, not an error', () => {
    expect(scheduleLeadProblem('2026-11-28T11:00:00Z', 'bluesky', NOW)).toBeUndefined();
  });
});

describe('targets, first comments, media', () => {
  it.each([
    ['a first comment off Bluesky', { text: 'hi', firstComment: 'more' }, 'twitter', /Bluesky only/],
    ['a first comment with a schedule', { text: 'hi', firstComment: 'more', scheduledAt: '2026-12-01T09:00:00Z' }, 'bluesky', /cannot be combined with a scheduled post/],
    ['Pinterest without a board', { text: 'hi' }, 'pinterest', /needs a board/],
    ['Instagram without media', { text: 'hi' }, 'instagram', /requires an image or a video/],
    ['a thread through letmepost', { thread: ['a', 'b'] }, 'bluesky', /letmepost publishes one text/],
  ] as const)('%s is refused', (_, post, platform, message) => {
    expect(check(post, platform).map((p) => p.message).join('\n')).toMatch(message);
  });

  const image = (size: number, alt?: string): ResolvedMedia => ({ kind: 'image', size, path: '/ws/a.png', displayPath: 'a.png', mimeType: 'image/png', ...(alt ? { alt } : {}) });

  it.each([
    ['five images on Bluesky', [1, 2, 3, 4, 5].map(() => image(10)), /at most 4/],
    ['an image over 1,000,000 bytes on Bluesky', [image(1_000_001)], /1,000,001 bytes; Bluesky images must be at most 1,000,000 bytes/],
    ['alt text over 2000 characters', [image(10, 'a'.repeat(2001))], /allows 2000/],
  ])('%s is refused', (_, media, message) => {
    expect(check({ text: 'hi' }, 'bluesky', 'letmepost', media).map((p) => p.message).join('\n')).toMatch(message);
  });

  it('media on LinkedIn is refused: LinkedIn posts are text-only', () => {
    expect(check({ text: 'hi' }, 'linkedin', 'letmepost', [image(10)])[0]?.message).toMatch(/text-only/);
  });

  it('a letmepost target with a non-uuid account is refused', () => {
    const def = postSchema.parse({ text: 'hi', targets: [{ platform: 'bluesky', account: 'my-account' }] });
    const problems = preflight(def, { publisher: 'letmepost', platform: 'bluesky', account: 'my-account', maxThreadPosts: 10 }, ['hi'], []);
    expect(problems[0]?.message).toMatch(/neither a letmepost account id/);
  });
});
