/**
 * `POST /2/tweets`, exactly once as far as X allows. X has no idempotency key, so a request
 * is never resent blindly: only after an attempt that may have posted (no answer, a 5xx) is
 * the same text sent once more, as a check — X refuses a text the account already posted
 * (403 "duplicate content"), so that refusal means the first attempt landed. A second attempt
 * without an answer ends it: the outcome is unknown, and the message says so.
 */
import { PublishError } from '../../errors.js';
import { isObject, parseJson, str } from '../../io/json.js';
import type { XClient } from './client.js';
import { DUPLICATE } from './problems.js';
import type { TweetBody } from './tweets.js';

export interface Posted {
  /** Undefined when the tweet was confirmed by X's duplicate refusal and could not be found. */
  id?: string;
  /** An earlier attempt of this run posted it; X refused the check as a duplicate. */
  confirmedByDuplicate: boolean;
}

function tweetId(body: Buffer): string | undefined {
  const parsed = parseJson(body);
  const data = isObject(parsed) && isObject(parsed.data) ? parsed.data : undefined;
  const id = str(data?.id);
  return id !== undefined && /^\d{1,20}$/.test(id) ? id : undefined;
}

export async function postTweet(client: XClient, what: string, body: TweetBody): Promise<Posted> {
  let mayHaveLanded = false;
  /** An attempt that may have posted: the first allows one check, the second ends the run's tries. */
  const ambiguous = (error: PublishError): PublishError => {
    if (!mayHaveLanded) {
      mayHaveLanded = true;
      client.log.info(`${what}: ${error.message.startsWith(what) ? error.message.slice(what.length + 2) : error.message}; X may have posted it, so the same text is sent once more as a check: X refuses a text the account already posted, which would confirm the first attempt`);
      return new PublishError(error.message, { retryable: true, outcomeUnknown: true, code: 'failed', cause: error });
    }
    return new PublishError(`${error.message}; the check got no answer either, so whether X posted it is unknown`, { outcomeUnknown: true, code: 'failed', cause: error });
  };
  client.log.info(`${what}: POST /2/tweets`);
  return client.retrying(what, async () => {
    let response;
    try {
      response = await client.request(what, 'POST', '/2/tweets', { json: body });
    } catch (error) {
      if (error instanceof PublishError && error.outcomeUnknown) throw ambiguous(error);
      throw error;
    }
    if (response.status === 201 || response.status === 200) {
      const id = tweetId(response.body);
      if (id !== undefined) return { id, confirmedByDuplicate: false };
      throw ambiguous(new PublishError(`${what}: X answered HTTP ${response.status} without the new tweet's id`, { outcomeUnknown: true }));
    }
    const failure = client.failure(what, response, true);
    if (failure.code === DUPLICATE && mayHaveLanded) {
      client.log.info(`${what}: X refused the check as a duplicate: the earlier attempt posted it`);
      return { confirmedByDuplicate: true };
    }
    if (failure.outcomeUnknown && failure.code !== DUPLICATE) throw ambiguous(failure);
    throw failure;
  });
}

/** A tweet's text as the API returns it: HTML entities for & < >, links as t.co links. */
function comparable(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/https?:\/\/\S+/g, '<link>')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The id of the account's recent tweet with this text, when the app's access lets it read
 * (GET /2/users/me, then its tweets); undefined otherwise. Only asked after a duplicate
 * refusal confirmed a tweet whose id X did not give.
 */
export async function findOwnTweet(client: XClient, what: string, text: string): Promise<string | undefined> {
  try {
    const me = await client.request(`${what}: who am I`, 'GET', '/2/users/me');
    const parsed = parseJson(me.body);
    const userId = me.status === 200 && isObject(parsed) && isObject(parsed.data) ? str(parsed.data.id) : undefined;
    if (userId === undefined || !/^\d+$/.test(userId)) return undefined;
    const list = await client.request(`${what}: recent tweets`, 'GET', `/2/users/${userId}/tweets?max_results=10`);
    const tweets = parseJson(list.body);
    const data = list.status === 200 && isObject(tweets) && Array.isArray(tweets.data) ? tweets.data.filter(isObject) : [];
    const found = data.find((t) => typeof t.text === 'string' && comparable(t.text) === comparable(text));
    const id = str(found?.id);
    return id !== undefined && /^\d{1,20}$/.test(id) ? id : undefined;
  } catch (error) {
    client.log.debug(`${what}: could not read the account's recent tweets: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}
