/**
 * A planned target as the tweets to post: the texts (the thread, the text, or the text split
 * to fit X's 280 weighted characters) and the JSON body of each. Pure: no I/O.
 */
import { PublishError } from '../../errors.js';
import { countGraphemes } from '../../text/length.js';
import { runawayThreadMessage, SplitError } from '../../text/thread-split.js';
import { xWeightedLength } from '../../text/x-length.js';
import type { PlannedTarget } from '../types.js';
import { splitForX, X_MAX_WEIGHT } from './split.js';

export { X_MAX_WEIGHT };

/** The texts of the tweets to post: the thread (each checked), the text, or the text split to fit. */
export function planTweets(target: PlannedTarget): string[] {
  const note = 'as X counts it: every link 23, most CJK characters and emoji 2';
  if (target.texts.length > 1) {
    target.texts.forEach((text, i) => {
      const weight = xWeightedLength(text);
      if (weight > X_MAX_WEIGHT) throw new PublishError(`Post ${i + 1} of the thread is ${weight} characters (${note}), over X's limit of ${X_MAX_WEIGHT} by ${weight - X_MAX_WEIGHT}; shorten it or split it into two posts of the thread`, { code: 'rejected' });
    });
    return [...target.texts];
  }
  const text = target.texts[0] ?? '';
  if (text.trim() === '') throw new PublishError('There is no text to post to X', { code: 'rejected' });
  const weight = xWeightedLength(text);
  if (weight <= X_MAX_WEIGHT) return [text];
  let parts: string[];
  try {
    parts = splitForX(text, xWeightedLength);
  } catch (error) {
    if (!(error instanceof SplitError)) throw error;
    throw new PublishError(`The text is ${weight} characters (${note}), over X's limit of ${X_MAX_WEIGHT}, and cannot be split into posts: ${error.message}`, { code: 'rejected' });
  }
  if (parts.length > target.maxThreadPosts) {
    throw new PublishError(`The text ${runawayThreadMessage(countGraphemes(text), parts.length, target.maxThreadPosts, `X (${X_MAX_WEIGHT} characters a post)`)}; nothing was posted`, { code: 'rejected' });
  }
  return parts;
}

export interface TweetBody {
  text: string;
  media?: { media_ids: string[] };
  reply?: { in_reply_to_tweet_id: string };
  quote_tweet_id?: string;
}

/** The body of tweet i: the first answers or quotes what the post's options name; later ones answer the previous tweet. */
export function tweetBody(target: PlannedTarget, text: string, index: number, parent: string | undefined, mediaIds: readonly string[] = []): TweetBody {
  const options = target.options.twitter ?? {};
  const replyTo = index === 0 ? options.replyToTweetId : parent;
  const body: TweetBody = { text };
  if (index === 0 && mediaIds.length > 0) body.media = { media_ids: [...mediaIds] };
  if (replyTo !== undefined) body.reply = { in_reply_to_tweet_id: replyTo };
  if (index === 0 && options.quoteTweetId !== undefined) body.quote_tweet_id = options.quoteTweetId;
  return body;
}

/** The web page of a tweet; X redirects it to the author's own address. */
export function tweetUrl(id: string): string {
  return `https://x.com/i/web/status/${id}`;
}
