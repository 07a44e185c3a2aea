/**
 * The direct X publisher: tweets (and threads of replies) posted with the user's own
 * developer app, signed with OAuth 1.0a.
 *
 * Exactly once. X has no idempotency key and remembers nothing per request, so the guarantee
 * is the action's ledger (ARCHITECTURE.md, Exactly once): its intent is written before the
 * request and the result after, and a re-run reads it first — a recorded tweet is reported,
 * an intent without a result posts nothing and says how to check. Within a run, a request
 * that got no answer is checked by sending the same text once more (post-tweet.ts): X's
 * duplicate refusal confirms that the first one landed.
 *
 * Threads. Tweet i ≥ 2 answers tweet i − 1 (`reply.in_reply_to_tweet_id`). A thread that
 * fails midway is reported as possibly published, with the tweets that exist and how to
 * finish it: a re-run does not continue it (X would refuse post 1 as a duplicate, and says
 * nothing of its id).
 *
 * Scheduling. X has none: a post not due yet is reported as waiting and nothing is sent; a
 * run at or after its time posts it.
 *
 * Media. Up to four images on the first tweet, uploaded before it (media.ts); video and GIF
 * are refused in preflight (descriptor.ts).
 */
import { PublishError } from '../../errors.js';
import type { PlannedTarget, Publisher, TargetResult } from '../types.js';
import { XClient, type XConfig } from './client.js';
import { prepareImages, uploadImage } from './media.js';
import { findOwnTweet, postTweet } from './post-tweet.js';
import { planTweets, tweetBody, tweetUrl } from './tweets.js';

export type { XConfig } from './client.js';

export class XPublisher implements Publisher {
  readonly kind = 'x' as const;
  private readonly client: XClient;

  constructor(config: XConfig) {
    this.client = new XClient(config);
  }

  private notDue(target: PlannedTarget): boolean {
    const at = target.scheduledAt === undefined ? Number.NaN : Date.parse(target.scheduledAt);
    return !Number.isNaN(at) && at > Date.now();
  }

  async describe(target: PlannedTarget): Promise<unknown> {
    const problems: string[] = [];
    let texts = target.texts;
    try {
      texts = planTweets(target);
    } catch (error) {
      if (!(error instanceof PublishError)) throw error;
      problems.push(error.message);
    }
    return {
      api: this.client.base,
      ...(this.notDue(target) ? { status: 'waiting', note: `scheduled for ${target.scheduledAt}, not due yet: nothing is sent until a run at or after that time (X has no native scheduling)` } : {}),
      requests: [
        ...target.media.flatMap((m, n) => [
          { method: 'POST', url: `${this.client.base}/2/media/upload`, form: { media: `<${m.displayPath ?? m.url ?? `media ${n + 1}`}>`, media_category: 'tweet_image' } },
          ...(m.alt?.trim() ? [{ method: 'POST', url: `${this.client.base}/2/media/metadata`, body: { id: `<id of upload ${n + 1}>`, metadata: { alt_text: { text: m.alt } } } }] : []),
        ]),
        ...texts.map((text, i) => ({
        method: 'POST',
        url: `${this.client.base}/2/tweets`,
        headers: { Authorization: 'OAuth oauth_consumer_key="***", oauth_token="***", oauth_signature_method="HMAC-SHA1", … (signed per request)', 'Content-Type': 'application/json' },
        body: tweetBody(target, text, i, i > 0 ? `<id of post ${i}>` : undefined, target.media.map((_, n) => `<id of upload ${n + 1}>`)),
        })),
      ],
      ...(problems.length > 0 ? { problems } : {}),
    };
  }

  async publish(target: PlannedTarget): Promise<TargetResult[]> {
    if (this.notDue(target)) {
      this.client.log.info(`${target.label} → ${target.platform}: scheduled for ${target.scheduledAt}, not due yet; X has no scheduling, so a run at or after that time posts it`);
      return [{ label: target.label, publisher: this.kind, platform: target.platform, status: 'waiting', scheduledAt: target.scheduledAt!, idempotencyKey: target.idempotencyKey, replayed: false, warnings: [] }];
    }
    const texts = planTweets(target);
    if (texts.length > 1 && target.texts.length === 1) this.client.log.info(`${target.label} → ${target.platform}: the text is over X's limit of 280 characters; posting it as a thread of ${texts.length}`);
    const images = await prepareImages(this.client, target);
    const noAlt = images.filter((m) => !m.alt?.trim()).map((m) => `media '${m.name}' has no alt text; add 'alt' so that people using screen readers know what it shows`);
    const mediaIds: string[] = [];
    for (const image of images) mediaIds.push(await uploadImage(this.client, image));

    const results: TargetResult[] = [];
    let parent: string | undefined;
    for (const [i, text] of texts.entries()) {
      const part = texts.length > 1 ? `${i + 1}/${texts.length}` : undefined;
      const what = `${target.label} → ${target.platform}${part ? ` (${part})` : ''}`;
      let id: string | undefined;
      const warnings: string[] = i === 0 ? [...noAlt] : [];
      try {
        const posted = await postTweet(this.client, what, tweetBody(target, text, i, parent, mediaIds));
        id = posted.id;
        if (posted.confirmedByDuplicate) {
          id = await findOwnTweet(this.client, what, text);
          warnings.push(
            id !== undefined
              ? `X did not answer the first request and refused the same text as a duplicate when sent again: the first request posted it (found on the account: ${tweetUrl(id)})`
              : "X did not answer the first request and refused the same text as a duplicate when sent again: the first request posted it. X did not say which tweet that is (the app's access cannot read the account's tweets); find it on the account",
          );
        }
      } catch (error) {
        throw this.partialThread(error, results, i, texts.length);
      }
      results.push(this.result(target, id, target.keys.parts[i] ?? target.idempotencyKey, part, warnings));
      if (id === undefined && i < texts.length - 1) {
        throw new PublishError(
          `${what}: published, but X did not say its id, so the rest of the thread cannot answer it. Posts 1–${i + 1} of the thread of ${texts.length} are published; post ${i + 2} is not: to finish the thread, post the rest as a reply to post ${i + 1} (its id is the number at the end of its x.com link) with 'x-reply-to-tweet-id'`,
          { outcomeUnknown: true, code: 'partial' },
        );
      }
      parent = id;
    }
    return results;
  }

  private result(target: PlannedTarget, id: string | undefined, key: string, part: string | undefined, warnings: string[]): TargetResult {
    const result: TargetResult = { label: target.label, publisher: this.kind, platform: target.platform, status: 'published', idempotencyKey: key, replayed: false, warnings };
    if (part) result.part = part;
    if (id !== undefined) {
      result.id = id;
      result.url = tweetUrl(id);
      result.uri = tweetUrl(id);
    }
    return result;
  }

  /** A thread that failed midway: those tweets exist, and a re-run would not continue it, so the outcome is "may have been published". */
  private partialThread(error: unknown, done: TargetResult[], index: number, total: number): unknown {
    if (!(error instanceof PublishError) || done.length === 0) return error;
    const posted = done.map((r) => r.url ?? r.id ?? `post ${r.part}`).join(', ');
    const range = done.length === 1 ? 'Post 1' : `Posts 1–${done.length}`;
    const last = done[done.length - 1]!.id;
    return new PublishError(
      `${error.message}. ${range} of the thread of ${total} ${done.length === 1 ? 'is' : 'are'} published (${posted}); post ${index + 1} is not. X has no idempotency key, so a re-run does not continue the thread (X would refuse post 1 as a duplicate): to finish it, post the rest as a reply to ${last !== undefined ? `tweet ${last}` : `post ${done.length}`} with 'x-reply-to-tweet-id'`,
      { code: error.code, outcomeUnknown: true, cause: error },
    );
  }
}
