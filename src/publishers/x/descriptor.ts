/**
 * The direct X publisher (target account `x`, platform x/twitter): tweets posted with the
 * user's own developer app (OAuth 1.0a user context, the four keys of the app's "Keys and
 * tokens" page). X has no idempotency key: the ledger's intent and result are the guarantee,
 * with X's refusal of a duplicate text as the check after a request that got no answer (see
 * publisher.ts). Long text becomes a thread; no native scheduling (a later run posts when due).
 */
import { InputError, type FieldProblem } from '../../errors.js';
import { platformLength } from '../../text/platform-length.js';
import type { PublisherDescriptor } from '../types.js';
import { itemProblems } from './media-rules.js';
import { xSplitCount, X_MAX_WEIGHT } from './split.js';

export interface XSettings {
  apiKey?: string;
  apiSecret?: string;
  accessToken?: string;
  accessTokenSecret?: string;
  /** The API's base URL (`x-api-url`); https://api.x.com. */
  apiUrl: string;
}

const weigh = (text: string) => platformLength('twitter', text);

const WHERE = "the app's \"Keys and tokens\" page in the X developer portal (console.x.com)";

export const x: PublisherDescriptor<XSettings> = {
  kind: 'x',
  title: 'the direct X publisher',
  // No `directTo`: its title names it in lists of publishers ("… or the direct X publisher").
  serves: (target) => target.account === 'x',
  // X remembers nothing per request; its refusal of a duplicate text is no key (see publisher.ts).
  idempotencyWindowMs: 0,
  idempotencyWindowText: '0 s (X has no idempotency key)',
  retractEffect: { deletesPublished: false, text: 'the direct X publisher does not delete posts: delete it on X by hand' },
  editEffect: 'a post not yet due is sent as edited when a run finds it due (nothing was sent before)',
  idempotencyWindowBrief: 'X none (the ledger only)',
  minScheduleLeadMs: Number.NEGATIVE_INFINITY,
  needsAnchorTime: false,
  postsThreads: true,
  splitCount: (text) => xSplitCount(text, weigh),
  checksTextCap: false,

  checks({ post, platform, media, targetPath }) {
    const problems: FieldProblem[] = [];
    if (platform !== 'twitter') problems.push({ path: targetPath, message: `uses the direct X publisher (account 'x') for platform '${platform}'; it can only post to x` });
    media.forEach((m, i) => {
      const name = m.displayPath ?? m.url ?? `item ${i + 1}`;
      for (const problem of itemProblems({ ...m, name })) problems.push({ path: ['media', i], message: problem });
    });
    post.thread?.forEach((text, i) => {
      const weight = weigh(text);
      if (weight > X_MAX_WEIGHT) {
        problems.push({ path: ['thread', i], message: `is ${weight} characters (as X counts: every link 23, most CJK characters and emoji 2), over X's limit of ${X_MAX_WEIGHT} by ${weight - X_MAX_WEIGHT}; shorten it or split it into two posts of the thread` });
      }
    });
    return problems;
  },

  secrets: (settings) => [settings.apiKey, settings.apiSecret, settings.accessToken, settings.accessTokenSecret],

  credentialErrors(settings) {
    const missing: Array<[string, string | undefined, string]> = [
      ['x-api-key', settings.apiKey, `the app's API Key ("Consumer Keys" on ${WHERE})`],
      ['x-api-secret', settings.apiSecret, `the app's API Key Secret ("Consumer Keys" on ${WHERE})`],
      ['x-access-token', settings.accessToken, `the Access Token ("Authentication Tokens" on ${WHERE}, made after setting the app's permissions to "Read and write")`],
      ['x-access-token-secret', settings.accessTokenSecret, `the Access Token Secret ("Authentication Tokens" on ${WHERE})`],
    ];
    return missing
      .filter(([, value]) => !value)
      .map(([input, , what]) => new InputError(input, `Input '${input}' is required to post to X directly; pass ${what} from a secret, e.g. ${input}: \${{ secrets.${input.toUpperCase().replace(/-/g, '_')} }}`));
  },

  async create(settings, env) {
    const { XPublisher } = await import('./publisher.js');
    return new XPublisher({
      apiUrl: settings.apiUrl,
      credentials: { consumerKey: settings.apiKey ?? '', consumerSecret: settings.apiSecret ?? '', token: settings.accessToken ?? '', tokenSecret: settings.accessTokenSecret ?? '' },
      requestTimeoutMs: env.requestTimeoutMs,
      deadline: env.deadline,
      log: env.log,
    });
  },
};
