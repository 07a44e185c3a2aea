/** Text length as the platforms count it: in graphemes, with URLs weighted where they are. */

let segmenter: Intl.Segmenter | undefined;

/** Made on first use: the first Intl.Segmenter starts ICU (~80 ms), which plain ASCII text never needs. */
export function graphemeSegmenter(): Intl.Segmenter {
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  return segmenter;
}

/** Printable ASCII, tabs and line feeds: every character is a grapheme of its own (UAX #29 joins none of them; only CR LF would be one). */
const PLAIN_ASCII = /^[\t\n\x20-\x7e]*$/;

/** http(s) links as the platforms detect them, stopping before trailing punctuation. */
export const URL_PATTERN = /https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]}]/g;

export function countGraphemes(text: string): number {
  if (PLAIN_ASCII.test(text)) return text.length;
  let count = 0;
  for (const _ of graphemeSegmenter().segment(text)) count++;
  return count;
}

/**
 * Whether `text` has at most `max` graphemes. It stops counting past `max`: ICU's segmenter
 * costs about 12 µs a grapheme on long texts (0.8 s for 70,000), and release notes can be that
 * long while a post is 300.
 */
export function hasAtMostGraphemes(text: string, max: number): boolean {
  // Every grapheme is at least one UTF-16 unit.
  if (text.length <= max) return true;
  if (PLAIN_ASCII.test(text)) return false;
  let count = 0;
  for (const _ of graphemeSegmenter().segment(text)) if (++count > max) return false;
  return true;
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

/**
 * The first `max` user-perceived characters of `text`, ending with '…' when cut: at a word
 * boundary when one is near the end (never mid-word, mid-link or mid-emoji), else at the cap.
 */
export function truncateText(text: string, max: number): string {
  const chars = graphemes(text);
  if (chars.length <= max) return text;
  const room = chars.slice(0, Math.max(0, max - 1));
  let end = room.length;
  // Back to the last whitespace, unless that throws away more than a third of the room.
  for (let i = room.length; i > 0; i--) {
    if (/^\s$/.test(chars[i] ?? '')) {
      if (i >= room.length * (2 / 3)) end = i;
      break;
    }
  }
  return `${room.slice(0, end).join('').replace(/[\s,;:.–—-]+$/, '')}…`;
}
