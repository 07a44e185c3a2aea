/**
 * Splits a text too long for one post into the posts of a thread, for platforms that count
 * length in graphemes (Bluesky: 300 and 3000 UTF-8 bytes; Mastodon: the instance's limit,
 * with every link weighted `characters_reserved_per_url`). Cuts fall on sentence boundaries
 * first, then on word boundaries, and only for a single word longer than a post on
 * graphemes. A weighted link is never cut; an unweighted one only when it alone is longer
 * than a post. Optional `1/3` numbering is appended to each post and counts toward it.
 */
import { graphemes, URL_PATTERN, weightedLength } from './length.js';

export interface SplitLimits {
  /** The longest a post may be, as the platform counts. */
  limit: number;
  /** Every link counts as this many characters; undefined counts links as they are. */
  urlWeight?: number;
  /** A cap on the UTF-8 bytes of each post, besides its length. */
  maxBytes?: number;
  /** Append ` 1/3`, ` 2/3`, … to each post of a split thread. */
  numbering?: boolean;
}

/** No post can hold even one indivisible piece (a grapheme, or a link of `urlWeight`). */
export class SplitError extends RangeError {
  override readonly name: string = 'SplitError';
}

let sentenceCache: Intl.Segmenter | undefined;

/** Made on first use, like the grapheme segmenter: only a text that needs splitting pays for ICU. */
function sentenceSegmenter(): Intl.Segmenter {
  sentenceCache ??= new Intl.Segmenter(undefined, { granularity: 'sentence' });
  return sentenceCache;
}

/** Start and end offsets of every link in `text`. */
function linkSpans(text: string): Array<readonly [number, number]> {
  return Array.from(text.matchAll(URL_PATTERN), (m) => [m.index, m.index + m[0].length] as const);
}

/** Sentences with their trailing whitespace; a boundary inside a link (`a.com/x.Y`) is skipped. */
function sentences(text: string): string[] {
  const links = linkSpans(text);
  const out: string[] = [];
  let start = 0;
  for (const { index } of sentenceSegmenter().segment(text)) {
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

/** The indivisible pieces of a word: each weighted link whole, every other grapheme on its own. */
function units(word: string, keepLinks: boolean): string[] {
  if (!keepLinks) return graphemes(word);
  const out: string[] = [];
  let last = 0;
  for (const [start, end] of linkSpans(word)) {
    out.push(...graphemes(word.slice(last, start)), word.slice(start, end));
    last = end;
  }
  out.push(...graphemes(word.slice(last)));
  return out;
}

function split(text: string, limit: number, maxBytes: number, urlWeight: number | undefined): string[] {
  const length = (s: string) => weightedLength(s.trim(), urlWeight);
  const fits = (s: string) => length(s) <= limit && Buffer.byteLength(s.trim(), 'utf8') <= maxBytes;
  const posts: string[] = [];
  let current = '';
  const flush = () => {
    if (current.trim()) posts.push(current.trim());
    current = '';
  };
  // Coarsest to finest; the last level is indivisible.
  const finer: Array<(piece: string) => string[]> = [words, (word) => units(word, urlWeight !== undefined)];

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
    const splitFiner = finer[level];
    if (splitFiner === undefined) {
      throw new SplitError(`'${piece.trim()}' alone counts ${length(piece)} characters, over the limit of ${limit}`);
    }
    for (const part of splitFiner(piece)) add(part, level + 1);
  };

  for (const sentence of sentences(text)) add(sentence, 0);
  flush();
  return posts;
}

/**
 * Returns the posts of the thread. A text that fits is returned unchanged, as one post;
 * otherwise every post is trimmed. Throws SplitError when not even one piece fits a post.
 */
export function splitIntoPosts(text: string, { limit, urlWeight, maxBytes = Number.POSITIVE_INFINITY, numbering = false }: SplitLimits): string[] {
  if (weightedLength(text.trim(), urlWeight) <= limit && Buffer.byteLength(text.trim(), 'utf8') <= maxBytes) return [text];
  if (!numbering) return split(text, limit, maxBytes, urlWeight);
  // The suffix ` i/n` needs room; its width depends on n, which depends on the room left.
  for (let digits = 1; ; digits++) {
    const reserve = 2 + 2 * digits;
    if (limit - reserve < 1) throw new SplitError(`a limit of ${limit} leaves no room for text once posts are numbered`);
    const parts = split(text, limit - reserve, maxBytes - reserve, urlWeight);
    if (String(parts.length).length <= digits) return parts.map((p, i) => `${p} ${i + 1}/${parts.length}`);
  }
}

/** What to say when a text would become a thread longer than `max-thread-posts`. */
export function runawayThreadMessage(length: number, posts: number, max: number, where: string): string {
  return `is ${length.toLocaleString('en-US')} characters, which would be a thread of ${posts} posts on ${where}, more than 'max-thread-posts' (${max}); shorten it, give a 'thread' list of the posts you mean, shorten a long placeholder with a filter such as {{ release.body | truncate: 250 }}, or raise 'max-thread-posts'`;
}
