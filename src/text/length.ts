/** Text length as the platforms count it: in graphemes, with URLs weighted where they are. */

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** http(s) links as the platforms detect them, stopping before trailing punctuation. */
export const URL_PATTERN = /https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]}]/g;

export function countGraphemes(text: string): number {
  let count = 0;
  for (const _ of segmenter.segment(text)) count++;
  return count;
}

/** Splits text into graphemes (user-perceived characters). */
export function graphemes(text: string): string[] {
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

/**
 * The length a platform sees. With `urlWeight` (Twitter, Mastodon) every URL counts as
 * that many characters whatever its real length.
 */
export function weightedLength(text: string, urlWeight?: number): number {
  if (urlWeight === undefined) return countGraphemes(text);
  let length = 0;
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    length += countGraphemes(text.slice(last, match.index)) + urlWeight;
    last = match.index + match[0].length;
  }
  return length + countGraphemes(text.slice(last));
}
