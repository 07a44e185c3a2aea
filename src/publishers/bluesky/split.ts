/** Bluesky's thread split: 300 graphemes and 3000 UTF-8 bytes per post, links counted as they are. */
import { splitIntoPosts } from '../../text/thread-split.js';

export const BLUESKY_MAX_GRAPHEMES = 300;
/** The post record's text is also capped at 3000 UTF-8 bytes. */
export const BLUESKY_MAX_TEXT_BYTES = 3000;

export interface SplitOptions {
  maxGraphemes?: number;
  maxBytes?: number;
  /** Append ` 1/3`, ` 2/3`, … to each post of a split thread. */
  numbering?: boolean;
}

/** Returns the posts of the thread; a text that fits is returned as it is. */
export function splitThread(text: string, opts: SplitOptions = {}): string[] {
  return splitIntoPosts(text, {
    limit: opts.maxGraphemes ?? BLUESKY_MAX_GRAPHEMES,
    maxBytes: opts.maxBytes ?? BLUESKY_MAX_TEXT_BYTES,
    numbering: opts.numbering ?? false,
  });
}
