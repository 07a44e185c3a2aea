/**
 * Text length as X counts it, with X's own `twitter-text` library: most CJK characters and
 * emoji weigh 2, every URL — bare domains such as example.com/x included — weighs 23, the
 * text is NFC-normalised first. Loaded only by runs that post to X (see platform-length.ts).
 */
import twitterText from 'twitter-text';

export function xWeightedLength(text: string): number {
  return twitterText.parseTweet(text).weightedLength;
}
