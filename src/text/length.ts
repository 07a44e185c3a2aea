/** Text length as the platforms count it: in graphemes, with URLs weighted where they are. */

let segmenter: Intl.Segmenter | undefined;

/** Made on first use: the first Intl.Segmenter starts ICU (~80 ms), which plain ASCII text never needs. */
export function graphemeSegmenter(): Intl.Segmenter {
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  return segmenter;
}

/** Printable ASCII and tabs: every character is a grapheme of its own (UAX #29 joins none of them). */
const PLAIN_ASCII = /^[\t\x20-\x7e]*$/;

/** http(s) links as the platforms detect them, stopping before trailing punctuation. */
export const URL_PATTERN = /https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]}]/g;

export function countGraphemes(text: string): number {
  if (PLAIN_ASCII.test(text)) return text.length;
  let count = 0;
  for (const _ of graphemeSegmenter().segment(text)) count++;
  return count;
}

/** Splits text into graphemes (user-perceived characters). */
export function graphemes(text: string): string[] {
  if (PLAIN_ASCII.test(text)) return text.split('');
  return Array.from(graphemeSegmenter().segment(text), (s) => s.segment);
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
