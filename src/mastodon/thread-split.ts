/**
 * Splits a text too long for one post into the posts of a thread, for any platform that
 * counts length in graphemes with links weighted (Mastodon: the instance's limit and its
 * `characters_reserved_per_url`). Cuts fall on sentence boundaries first, then on word
 * boundaries, and only for a single word longer than a post on graphemes. A link is never
 * cut: it counts as `urlWeight` however long it is.
 *
 * Generic on purpose (limit and link weight are parameters) so it can be merged with the
 * Bluesky splitter, which also caps UTF-8 bytes and can number the posts.
 */
import { graphemes, URL_PATTERN, weightedLength } from '../text-length.js';

export interface SplitLimits {
  /** The longest a post may be, as the platform counts. */
  limit: number;
  /** Every link counts as this many characters; undefined counts links as they are. */
  urlWeight?: number;
}

/** No post can hold even one indivisible piece (a grapheme, or a link of `urlWeight`). */
export class SplitError extends RangeError {
  override readonly name: string = 'SplitError';
}

const sentenceSegmenter = new Intl.Segmenter(undefined, { granularity: 'sentence' });

/** Start and end offsets of every link in `text`. */
function linkSpans(text: string): Array<readonly [number, number]> {
  return Array.from(text.matchAll(URL_PATTERN), (m) => [m.index, m.index + m[0].length] as const);
}

/** Sentences with their trailing whitespace; a boundary inside a link (`a.com/x.Y`) is skipped. */
function sentences(text: string): string[] {
  const links = linkSpans(text);
  const out: string[] = [];
  let start = 0;
  for (const { index } of sentenceSegmenter.segment(text)) {
    if (index === 0 || links.some(([s, e]) => index > s && index < e)) continue;
    out.push(text.slice(start, index));
    start = index;
  }
  out.push(text.slice(start));
  return out;
}

/** Words with their trailing whitespace (leading whitespace of the text is dropped). */
function words(text: string): string[] {
  return text.match(/\S+\s*/g) ?? [];
}

/** The indivisible pieces of a word: each link whole, every other grapheme on its own. */
function units(word: string): string[] {
  const out: string[] = [];
  let last = 0;
  for (const [start, end] of linkSpans(word)) {
    out.push(...graphemes(word.slice(last, start)), word.slice(start, end));
    last = end;
  }
  out.push(...graphemes(word.slice(last)));
  return out;
}

/**
 * Returns the posts of the thread. A text that fits is returned unchanged, as one post;
 * otherwise every post is trimmed. Throws SplitError when not even one piece fits a post.
 */
export function splitIntoPosts(text: string, { limit, urlWeight }: SplitLimits): string[] {
  const length = (s: string) => weightedLength(s.trim(), urlWeight);
  if (length(text) <= limit) return [text];

  const posts: string[] = [];
  let current = '';
  const fits = (s: string) => length(s) <= limit;
  const flush = () => {
    if (current.trim()) posts.push(current.trim());
    current = '';
  };
  // Coarsest to finest; the last level is indivisible.
  const finer: Array<(piece: string) => string[]> = [words, units];

  const add = (piece: string, level: number): void => {
    if (fits(current + piece)) {
      current += piece;
      return;
    }
    // A piece that fits a post of its own starts one, so posts begin at a boundary.
    flush();
    if (fits(piece)) {
      current = piece;
      return;
    }
    const split = finer[level];
    if (split === undefined) {
      throw new SplitError(`'${piece.trim()}' alone counts ${length(piece)} characters, over the limit of ${limit}`);
    }
    for (const part of split(piece)) add(part, level + 1);
  };

  for (const sentence of sentences(text)) add(sentence, 0);
  flush();
  return posts;
}
