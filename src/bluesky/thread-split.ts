/**
 * Splits a text too long for one Bluesky post into a thread: on sentence boundaries first,
 * then on word boundaries, then (a single word longer than a post) on graphemes. Links are
 * never cut unless one alone is longer than a post. Optional `1/3` numbering is appended
 * to each post and counts toward its length.
 */
import { countGraphemes, graphemes, URL_PATTERN } from '../text-length.js';

export const BLUESKY_MAX_GRAPHEMES = 300;
/** The post record's text is also capped at 3000 UTF-8 bytes. */
export const BLUESKY_MAX_TEXT_BYTES = 3000;

export interface SplitOptions {
  maxGraphemes?: number;
  maxBytes?: number;
  /** Append ` 1/3`, ` 2/3`, … to each post of a split thread. */
  numbering?: boolean;
}

const sentenceSegmenter = new Intl.Segmenter(undefined, { granularity: 'sentence' });

/** Returns the posts of the thread; a text that fits is returned as it is. */
export function splitThread(text: string, opts: SplitOptions = {}): string[] {
  const maxGraphemes = opts.maxGraphemes ?? BLUESKY_MAX_GRAPHEMES;
  const maxBytes = opts.maxBytes ?? BLUESKY_MAX_TEXT_BYTES;
  if (countGraphemes(text) <= maxGraphemes && Buffer.byteLength(text, 'utf8') <= maxBytes) return [text];
  if (!opts.numbering) return chunk(text, maxGraphemes, maxBytes);

  // The suffix ` i/n` needs room; its width depends on n, which depends on the room left.
  for (let digits = 1; ; digits++) {
    const reserve = 2 + 2 * digits;
    const parts = chunk(text, maxGraphemes - reserve, maxBytes - reserve);
    if (String(parts.length).length <= digits) return parts.map((p, i) => `${p} ${i + 1}/${parts.length}`);
  }
}

/** Sentences of `text`, never cut inside a link (sentence rules would split `a.com/x.Y`). */
function sentences(text: string): string[] {
  const links = Array.from(text.matchAll(URL_PATTERN), (m) => [m.index, m.index + m[0].length] as const);
  const insideLink = (i: number) => links.some(([start, end]) => i > start && i < end);
  const out: string[] = [];
  let start = 0;
  for (const { index } of sentenceSegmenter.segment(text)) {
    if (index === 0 || insideLink(index)) continue;
    out.push(text.slice(start, index));
    start = index;
  }
  out.push(text.slice(start));
  return out;
}

/** Words with their trailing whitespace. */
function words(text: string): string[] {
  return text.match(/\s*\S+\s*/g) ?? [];
}

function byGraphemes(text: string, maxGraphemes: number, maxBytes: number): string[] {
  const out: string[] = [];
  let current = '';
  let count = 0;
  for (const g of graphemes(text)) {
    if (count + 1 > maxGraphemes || Buffer.byteLength(current + g, 'utf8') > maxBytes) {
      if (current) out.push(current);
      current = '';
      count = 0;
    }
    current += g;
    count++;
  }
  if (current) out.push(current);
  return out;
}

function chunk(text: string, maxGraphemes: number, maxBytes: number): string[] {
  if (maxGraphemes < 1 || maxBytes < 4) throw new RangeError('no room left for text in a post');
  const fits = (s: string) => countGraphemes(s) <= maxGraphemes && Buffer.byteLength(s, 'utf8') <= maxBytes;
  const out: string[] = [];

  /** Greedily packs pieces into posts; a piece that alone is too big is split by `finer`. */
  const pack = (pieces: string[], finer: (piece: string) => string[]): void => {
    let current = '';
    for (const piece of pieces) {
      if (fits((current + piece).trim())) {
        current += piece;
        continue;
      }
      if (current.trim()) out.push(current.trim());
      current = '';
      if (fits(piece.trim())) {
        current = piece;
        continue;
      }
      const parts = finer(piece.trim());
      out.push(...parts.slice(0, -1));
      // The last part may share a post with what follows; keep the whitespace between them.
      current = (parts.at(-1) ?? '') + (/\s*$/.exec(piece)?.[0] ?? '');
    }
    if (current.trim()) out.push(current.trim());
  };

  const byWords = (sentence: string): string[] => {
    const saved = out.length;
    pack(words(sentence), (word) => byGraphemes(word, maxGraphemes, maxBytes));
    return out.splice(saved);
  };

  pack(sentences(text), byWords);
  return out;
}
