import { describe, expect, it } from 'vitest';
import { countGraphemes, hasAtMostGraphemes, graphemes, weightedLength } from '../../src/text/length.js';

/** What Intl.Segmenter says, the reference the ASCII fast path must agree with. */
function reference(text: string): string[] {
  return Array.from(new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text), (s) => s.segment);
}

describe('grapheme counting', () => {
  it.each([
    ['plain ASCII', 'widgets v1.2.0 is out: https://example.com/x?y=1#z'],
    ['tabs and spaces', '\tindented\t text '],
    ['the empty text', ''],
    ['CR LF, one grapheme', 'a\r\nb'],
    ['line feeds in ASCII', 'one\ntwo\n\nthree'],
    ['a combining accent after ASCII', 'cafe\u0301'],
    ['emoji with a zero-width joiner', 'hi 👩‍💻!'],
    ['a flag', 'GB 🇬🇧'],
    ['CJK', '日本語のテキスト'],
  ])('%s counts as Intl.Segmenter does', (_name, text) => {
    expect(graphemes(text)).toEqual(reference(text));
    expect(countGraphemes(text)).toBe(reference(text).length);
  });

  it('weights links as a platform does, ASCII or not', () => {
    expect(weightedLength('see https://example.com/a/very/long/path now', 23)).toBe(4 + 23 + 4);
    expect(weightedLength('café https://example.com/x', 23)).toBe(5 + 23);
  });

  it.each([
    ['ASCII with line feeds', 'ab\ncd', 5, true],
    ['ASCII one over', 'ab\ncd!', 5, false],
    ['emoji sequences count once', '👩‍💻👩‍💻👩‍💻', 3, true],
    ['emoji one over', '👩‍💻👩‍💻👩‍💻👩‍💻', 3, false],
    ['a long text is refused without counting it all', 'é'.repeat(5_000), 300, false],
  ] as const)('hasAtMostGraphemes: %s', (_name, text, max, fits) => {
    expect(hasAtMostGraphemes(text, max)).toBe(fits);
    expect(hasAtMostGraphemes(text, max)).toBe(reference(text).length <= max);
  });
});
