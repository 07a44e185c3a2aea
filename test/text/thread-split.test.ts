import { describe, expect, it } from 'vitest';
import { weightedLength } from '../../src/text/length.js';
import { splitIntoPosts } from '../../src/text/thread-split.js';

describe('splitIntoPosts', () => {
  const url = 'https://example.com/a/very/long/path/that/is/much/longer/than/twenty-three/characters/' + 'x'.repeat(80);
  it.each([
    ['a text that fits is returned unchanged', '  fits  ', 20, ['  fits  ']],
    ['sentences are kept whole when they fit', 'One two three. Four five six. Seven.', 16, ['One two three.', 'Four five six.', 'Seven.']],
    ['a long sentence is cut between words', 'alpha beta gamma delta epsilon', 12, ['alpha beta', 'gamma delta', 'epsilon']],
    ['a word longer than a post is cut into graphemes', 'abcdefghij', 4, ['abcd', 'efgh', 'ij']],
    ['a link counts as the URL weight and is never cut', `See ${url} now. Bye.`, 35, [`See ${url} now.`, 'Bye.']],
    ['emoji are never cut', '👩‍👩‍👧‍👦👩‍👩‍👧‍👦👩‍👩‍👧‍👦', 2, ['👩‍👩‍👧‍👦👩‍👩‍👧‍👦', '👩‍👩‍👧‍👦']],
  ])('%s', (_, text, limit, expected) => {
    const parts = splitIntoPosts(text, { limit, urlWeight: 23 });
    expect(parts).toEqual(expected);
    if (parts.length > 1) for (const p of parts) expect(weightedLength(p, 23)).toBeLessThanOrEqual(limit);
  });

  it('refuses when one link alone is over the limit', () => {
    expect(() => splitIntoPosts(`a ${url} b`, { limit: 10, urlWeight: 23 })).toThrow(/over the limit of 10/);
  });
});
