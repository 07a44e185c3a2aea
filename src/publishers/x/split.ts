/**
 * X's thread split: the shared splitter (sentences, then words; links never cut), with the
 * limit lowered until every post fits X's 280 weighted characters. It takes X's counter as
 * an argument, so the descriptor can count without loading twitter-text itself.
 */
import { SplitError, splitIntoPosts } from '../../text/thread-split.js';

/** X's limit for an account without a subscription, as twitter-text weighs it. */
export const X_MAX_WEIGHT = 280;
export const X_URL_WEIGHT = 23;

/**
 * A text as the posts of a thread that each fit X's weighted limit. The shared splitter
 * counts graphemes with links at 23; X weighs most CJK characters and emoji 2, so the limit
 * is lowered until every post fits as X counts it.
 */
export function splitForX(text: string, weigh: (text: string) => number): string[] {
  let limit = X_MAX_WEIGHT;
  for (;;) {
    const parts = splitIntoPosts(text, { limit, urlWeight: X_URL_WEIGHT });
    const heaviest = Math.max(...parts.map(weigh));
    if (heaviest <= X_MAX_WEIGHT) return parts;
    const next = Math.floor((limit * X_MAX_WEIGHT) / heaviest);
    limit = next < limit ? next : limit - 1;
    if (limit < 1) throw new SplitError(`no post of X's ${X_MAX_WEIGHT} weighted characters can hold a piece of this text`);
  }
}

/** How many tweets a text becomes (for preflight and the preview); 1 when it cannot be split (publishing says why). */
export function xSplitCount(text: string, weigh: (text: string) => number): number {
  try {
    return splitForX(text, weigh).length;
  } catch {
    return 1;
  }
}
