/**
 * A planned target as the statuses to post: the texts (the thread, the text, or the text split
 * to fit the instance's limits), the Idempotency-Key of each, and the JSON body of each.
 * Pure: no I/O. The same target always gives the same keys and the same bytes, which is what
 * lets Mastodon recognise a retry or a re-run as the status it already has.
 */
import { PublishError } from '../../errors.js';
import { compact } from '../../io/json.js';
import { countGraphemes, weightedLength } from '../../text/length.js';
import { runawayThreadMessage, SplitError, splitIntoPosts } from '../../text/thread-split.js';
import type { PlannedTarget } from '../types.js';
import type { InstanceLimits } from './instance.js';

/** The texts of the statuses to post: the thread, the text, or the text split to fit. */
export function planTexts(target: PlannedTarget, limits: Pick<InstanceLimits, 'maxCharacters' | 'urlWeight'>, host: string): string[] {
  const spoiler = target.options.mastodon?.spoilerText ?? '';
  // Mastodon counts the content warning and the text together.
  const budget = limits.maxCharacters - countGraphemes(spoiler);
  const limitText = `${host}'s limit of ${limits.maxCharacters} characters${spoiler ? ` (${budget} once the ${countGraphemes(spoiler)}-character content warning is counted)` : ''}`;
  const links = `every link counts as ${limits.urlWeight}`;
  if (budget < 1) {
    throw new PublishError(`The Mastodon content warning (spoilerText) is ${countGraphemes(spoiler)} characters, which leaves no room for text under ${host}'s limit of ${limits.maxCharacters}; shorten it`);
  }
  if (target.texts.length > 1) {
    target.texts.forEach((text, i) => {
      const length = weightedLength(text, limits.urlWeight);
      if (length > budget) {
        throw new PublishError(`Post ${i + 1} of the thread is ${length} characters (${links}), over ${limitText}, by ${length - budget}; shorten it or split it into two posts of the thread`);
      }
    });
    if (target.scheduledAt !== undefined) {
      throw new PublishError(`Mastodon cannot schedule a thread (a reply needs the status it answers to exist); post the thread now, or schedule a single text`);
    }
    return [...target.texts];
  }
  const text = target.texts[0] ?? '';
  const length = weightedLength(text, limits.urlWeight);
  if (length <= budget) return [text];
  let parts: string[];
  try {
    parts = splitIntoPosts(text, { limit: budget, urlWeight: limits.urlWeight });
  } catch (error) {
    if (!(error instanceof SplitError)) throw error;
    throw new PublishError(`The text is ${length} characters (${links}), over ${limitText}, and cannot be split into posts: ${error.message}`);
  }
  const max = target.maxThreadPosts ?? Number.POSITIVE_INFINITY;
  if (parts.length > max) {
    throw new PublishError(`The text ${runawayThreadMessage(countGraphemes(text), parts.length, max, `${host} (${limits.maxCharacters} characters a post)`)}; nothing was posted`, { code: 'rejected' });
  }
  if (target.scheduledAt !== undefined) {
    throw new PublishError(
      `The text is ${length} characters (${links}), over ${limitText}, so it would be a thread of ${parts.length} posts, and Mastodon cannot schedule a thread (a reply needs the status it answers to exist); shorten the text to ${budget} characters, or remove 'scheduledAt' to post the thread now`,
    );
  }
  return parts;
}

/** The key of post i (0-based) of the thread, as planned with the target: the target's own for the first. */
export function statusKey(target: PlannedTarget, i: number): string {
  return target.keys.parts[i] ?? target.keys.parts[target.keys.parts.length - 1]!;
}

/** The JSON body of a status: fields in a fixed order, so the same post is the same bytes. */
export function statusBody(target: PlannedTarget, text: string, mediaIds: string[], inReplyToId: string | undefined): string {
  const options = target.options.mastodon ?? {};
  return JSON.stringify(
    compact({
      status: text,
      media_ids: mediaIds.length > 0 ? mediaIds : undefined,
      in_reply_to_id: inReplyToId,
      visibility: options.visibility,
      // One language per status: the Mastodon option, else the first of the post's, as ISO 639 (pt-BR → pt).
      language: options.language ?? target.languages?.[0]?.split('-')[0]?.toLowerCase(),
      spoiler_text: options.spoilerText,
      // The author's own content warnings hide the media behind a click, as sensitive does.
      sensitive: options.sensitive ?? (target.labels !== undefined && target.labels.length > 0 ? true : undefined),
      scheduled_at: target.scheduledAt,
    }),
  );
}
