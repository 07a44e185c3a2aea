/**
 * The post given by workflow inputs (`text` or `thread`, with `platform` and `account-id` or a
 * `targets` list, media, schedule and options): read from the inputs, filled from the event
 * (`{{ … }}`), validated by the one post model, and planned like a post file's — every problem
 * names the input that set the field.
 */
import { InputError } from '../errors.js';
import type { RunContext } from '../context.js';
import { normalizePlatform, PLATFORMS, type Platform } from '../model/platforms.js';
import { DIRECT_ACCOUNT_PLATFORM, DIRECT_ACCOUNTS, isUuid, postSchema, type PostDefinition, type PostInput } from '../model/post.js';
import type { PostSource } from '../plan/plan.js';
import type { InputReader } from '../io/input-reader.js';
import { quote } from '../errors.js';
import { describeIssue, joinIssue } from './schema-issues.js';
import { renderTemplate, templateVariables } from './templates.js';

export const PUBLISHER_CHOICES = ['auto', 'letmepost', 'bluesky', 'mastodon', 'x'] as const;
export type PublisherChoice = (typeof PUBLISHER_CHOICES)[number];

/** The input each field of the post model comes from, for error messages. */
export const POST_FIELD_INPUTS: Readonly<Record<string, string>> = {
  text: 'text',
  thread: 'thread',
  targets: 'targets',
  media: 'media',
  releaseNotes: 'release-notes',
  languages: 'languages',
  labels: 'content-labels',
  scheduledAt: 'scheduled-at',
  firstComment: 'first-comment',
  pinterest: 'pinterest-board-id',
  'pinterest.destinationUrl': 'pinterest-destination-url',
  'pinterest.title': 'pinterest-title',
  'pinterest.coverImageUrl': 'pinterest-cover-image-url',
  threads: 'threads-reply-to-id',
  'twitter.replyToTweetId': 'x-reply-to-tweet-id',
  'twitter.quoteTweetId': 'x-quote-tweet-id',
  twitter: 'x-reply-to-tweet-id',
  'tiktok.privacy': 'tiktok-privacy',
  'tiktok.disableComment': 'tiktok-disable-comment',
  'tiktok.disableDuet': 'tiktok-disable-duet',
  'tiktok.disableStitch': 'tiktok-disable-stitch',
  'tiktok.brandContentToggle': 'tiktok-brand-content-toggle',
  'tiktok.brandOrganicToggle': 'tiktok-brand-organic-toggle',
  tiktok: 'tiktok-privacy',
  'bluesky.linkCard': 'link-card',
  'bluesky.threadNumbering': 'thread-numbering',
  'bluesky.replyTo': 'bluesky-reply-to-uri',
  'bluesky.replyTo.cid': 'bluesky-reply-to-cid',
  'bluesky.replyRoot': 'bluesky-reply-root-uri',
  'bluesky.replyRoot.cid': 'bluesky-reply-root-cid',
  'mastodon.visibility': 'mastodon-visibility',
  'mastodon.language': 'mastodon-language',
  'mastodon.spoilerText': 'mastodon-spoiler-text',
  'mastodon.sensitive': 'mastodon-sensitive',
};

/** Inputs that only shape an inline post: set without `text` or `thread`, the text is missing. */
const INLINE_ONLY_INPUTS = ['platform', 'account-id', 'targets', 'media', 'scheduled-at', 'first-comment'] as const;

/**
 * Why an inline post in this release event is not announced, if it is not: a draft is not
 * public yet (GitHub sends drafts on created/edited), and a prerelease only with on-prerelease: post.
 */
export function unannouncedRelease(ctx: Pick<RunContext, 'eventName' | 'payload'>, onPrerelease: 'skip' | 'post'): string | undefined {
  if (ctx.eventName !== 'release') return undefined;
  const release = ctx.payload.release as { tag_name?: unknown; prerelease?: unknown; draft?: unknown } | undefined;
  const tag = typeof release?.tag_name === 'string' ? release.tag_name : 'of this event';
  if (release?.draft === true) return `Release ${tag} is a draft; nothing is posted (a draft is not public yet: announce it when it is published).`;
  if (release?.prerelease === true && onPrerelease === 'skip') return `Release ${tag} is a prerelease; nothing is posted (on-prerelease: skip). Set on-prerelease: post to announce prereleases.`;
  return undefined;
}

/** The input that gives a platform its own text: `text-bluesky`, `text-x`, … (X by its current name). */
export function platformTextInput(platform: Platform): string {
  return `text-${platform === 'twitter' ? 'x' : platform}`;
}

/** The four inputs of the direct X publisher (OAuth 1.0a user context). */
export const X_KEY_INPUTS = ['x-api-key', 'x-api-secret', 'x-access-token', 'x-access-token-secret'] as const;

/** The direct publisher a `publisher` choice names, if it names one. */
function directChoice(publisher: PublisherChoice): (typeof DIRECT_ACCOUNTS)[number] | undefined {
  return (DIRECT_ACCOUNTS as readonly string[]).includes(publisher) ? (publisher as (typeof DIRECT_ACCOUNTS)[number]) : undefined;
}

/** The inputs written in YAML: a run that is given one loads the YAML parser first (io/yaml.ts). */
export const YAML_INPUTS = ['thread', 'targets', 'media'] as const;

/** Reads the inputs that describe one inline post, or undefined when no `text`/`thread` is given. */
export function readInlinePost(r: InputReader, publisher: PublisherChoice, hasLetmepostToken: boolean, hasBlueskyLogin: boolean, hasXKeys = false): PostInput | undefined {
  const text = r.text('text');
  const thread = r.yamlList('thread', "  - 'First post'\n  - 'Second post'");
  if (text === undefined && thread === undefined) {
    // Without text the step reads post files; inputs that only shape an inline post mean the
    // text was meant to be there (an expression such as a release body can come out empty).
    const inlineOnly = [...INLINE_ONLY_INPUTS, ...PLATFORMS.map(platformTextInput)].filter((name) => r.str(name) !== undefined);
    if (inlineOnly.length > 0) {
      const quoted = inlineOnly.map((name) => `'${name}'`);
      const names = quoted.length > 1 ? `${quoted.slice(0, -1).join(', ')} and ${quoted[quoted.length - 1]}` : quoted[0]!;
      r.fail('text', `is empty, but ${names} ${inlineOnly.length > 1 ? 'are' : 'is'} set for an inline post; give the text to post (an expression such as \${{ github.event.release.body }} may have come out empty), or remove ${names} to publish post files instead`);
    }
    return undefined;
  }

  const targets = r.yamlList('targets', '  - platform: bluesky\n    account: 00000000-0000-0000-0000-000000000000\n  - platform: bluesky\n    account: bluesky');
  let targetList: unknown[] | undefined = targets;
  if (targetList === undefined) {
    const rawPlatform = r.str('platform');
    const direct = directChoice(publisher);
    const platform = rawPlatform === undefined ? (direct !== undefined ? DIRECT_ACCOUNT_PLATFORM[direct] : undefined) : normalizePlatform(rawPlatform);
    if (rawPlatform === undefined && platform === undefined) {
      r.fail('platform', `is required with 'text'; set it to one of ${PLATFORMS.join(', ')} (or give a 'targets' list to cross-post)`);
    } else if (platform === undefined) {
      r.fail('platform', `is ${quote(rawPlatform!)}; expected one of ${PLATFORMS.join(', ')} (x is accepted for twitter)`);
    } else {
      const account = inlineAccount(r, publisher, platform, hasLetmepostToken, hasBlueskyLogin, hasXKeys);
      if (account !== undefined) targetList = [{ platform, account }];
    }
  } else if (r.str('platform') !== undefined || r.str('account-id') !== undefined) {
    r.fail('targets', "cannot be combined with 'platform' or 'account-id'; put every target in the 'targets' list");
  }

  const post: Record<string, unknown> = {
    text,
    thread,
    targets: withPlatformTexts(r, targetList ?? []),
    releaseNotes: r.str('release-notes'),
    languages: listOf(r.str('languages')),
    labels: listOf(r.str('content-labels')),
    media: r.yamlList('media', '  - path: assets/screenshot.png\n    alt: The new dashboard\n  - url: https://example.com/banner.jpg\n    alt: Release banner'),
    scheduledAt: r.str('scheduled-at'),
    firstComment: r.text('first-comment'),
  };
  const boardId = r.str('pinterest-board-id');
  const destinationUrl = r.str('pinterest-destination-url');
  const title = r.str('pinterest-title');
  const coverImageUrl = r.str('pinterest-cover-image-url');
  if ([boardId, destinationUrl, title, coverImageUrl].some((v) => v !== undefined)) post.pinterest = dropUndefined({ boardId: boardId ?? '', destinationUrl, title, coverImageUrl });
  const replyToId = r.str('threads-reply-to-id');
  if (replyToId !== undefined) post.threads = { replyToId };
  const twitter = dropUndefined({ replyToTweetId: r.str('x-reply-to-tweet-id'), quoteTweetId: r.str('x-quote-tweet-id') });
  if (Object.keys(twitter).length > 0) post.twitter = twitter;
  const tiktok = dropUndefined({
    privacy: r.str('tiktok-privacy'),
    disableComment: r.bool('tiktok-disable-comment'),
    disableDuet: r.bool('tiktok-disable-duet'),
    disableStitch: r.bool('tiktok-disable-stitch'),
    brandContentToggle: r.bool('tiktok-brand-content-toggle'),
    brandOrganicToggle: r.bool('tiktok-brand-organic-toggle'),
  });
  if (Object.keys(tiktok).length > 0) post.tiktok = tiktok;
  const bluesky = dropUndefined({
    linkCard: r.bool('link-card'),
    threadNumbering: r.bool('thread-numbering'),
    replyTo: strongRef(r, 'bluesky-reply-to-uri', 'bluesky-reply-to-cid'),
    replyRoot: strongRef(r, 'bluesky-reply-root-uri', 'bluesky-reply-root-cid'),
  });
  if (Object.keys(bluesky).length > 0) post.bluesky = bluesky;
  const visibility = r.str('mastodon-visibility');
  const language = r.str('mastodon-language');
  const spoilerText = r.text('mastodon-spoiler-text');
  const sensitive = r.bool('mastodon-sensitive');
  if ([visibility, language, spoilerText, sensitive].some((v) => v !== undefined)) post.mastodon = { visibility, language, spoilerText, sensitive };
  return dropUndefined(post) as PostInput;
}

/**
 * `text-<platform>` gives every target on that platform its own text. Set for a platform no
 * target posts to, it is an error: the text would silently go nowhere.
 */
function withPlatformTexts(r: InputReader, targets: unknown[]): unknown[] {
  const platformOf = (t: unknown) => (t !== null && typeof t === 'object' && typeof (t as { platform?: unknown }).platform === 'string' ? normalizePlatform((t as { platform: string }).platform) : undefined);
  let out = targets;
  for (const platform of PLATFORMS) {
    const input = platformTextInput(platform);
    const own = r.text(input);
    if (own === undefined) continue;
    if (!targets.some((t) => platformOf(t) === platform)) {
      const posted = [...new Set(targets.map(platformOf).filter((p): p is Platform => p !== undefined))];
      r.fail(input, `is set, but no target posts to ${platform === 'twitter' ? 'x' : platform}${posted.length > 0 ? ` (the targets are on ${posted.join(', ')})` : ''}; remove it, or add a target on that platform`);
      continue;
    }
    out = out.map((t) => (platformOf(t) === platform ? { ...(t as object), text: own } : t));
  }
  return out;
}

/** Which account an inline target posts as: the letmepost account id, or a direct adapter. */
function inlineAccount(r: InputReader, publisher: PublisherChoice, platform: string, hasLetmepostToken: boolean, hasBlueskyLogin: boolean, hasXKeys: boolean): string | undefined {
  const accountId = r.str('account-id');
  const direct =
    directChoice(publisher) ??
    (publisher === 'auto' && platform === 'mastodon'
      ? 'mastodon'
      : publisher === 'auto' && platform === 'bluesky' && hasBlueskyLogin && !hasLetmepostToken && accountId === undefined
        ? 'bluesky'
        : publisher === 'auto' && platform === 'twitter' && hasXKeys && !hasLetmepostToken && accountId === undefined
          ? 'x'
          : undefined);
  if (direct !== undefined) {
    const served = DIRECT_ACCOUNT_PLATFORM[direct];
    if (served !== platform) return r.fail('publisher', `is '${direct}' but 'platform' is '${platform}'; the ${direct} publisher posts only to ${direct}`);
    return direct;
  }
  if (platform === 'mastodon') return r.fail('publisher', "is 'letmepost', which does not serve Mastodon; use 'publisher: mastodon' (or 'auto') with 'mastodon-server' and 'mastodon-token'");
  if (accountId === undefined) {
    // Half of a Bluesky login (a secret under another name comes out empty): the user meant
    // the direct publisher; name the input that is empty, not letmepost's.
    if (platform === 'bluesky' && publisher === 'auto' && !hasLetmepostToken) {
      const identifier = r.str('bluesky-identifier');
      if (identifier !== undefined && r.str('bluesky-app-password') === undefined) {
        return r.fail('bluesky-app-password', `is empty, but 'bluesky-identifier' is set to post to Bluesky directly; pass the app password from a secret (bluesky-app-password: \${{ secrets.BLUESKY_APP_PASSWORD }}) and check that the secret's name matches and that it is set in this repository`);
      }
      if (identifier === undefined && r.str('bluesky-app-password') !== undefined) {
        return r.fail('bluesky-identifier', "is empty, but 'bluesky-app-password' is set to post to Bluesky directly; set it to the account's handle (e.g. you.bsky.social), DID or email");
      }
    }
    // Some of X's four keys but not all: the user meant the direct X publisher.
    if (platform === 'twitter' && publisher === 'auto' && !hasLetmepostToken) {
      const given = X_KEY_INPUTS.filter((name) => r.str(name) !== undefined);
      const empty = X_KEY_INPUTS.find((name) => r.str(name) === undefined);
      if (given.length > 0 && empty !== undefined) {
        return r.fail(empty, `is empty, but ${given.map((n) => `'${n}'`).join(', ')} ${given.length > 1 ? 'are' : 'is'} set to post to X directly; the direct X publisher needs all four keys of the app's "Keys and tokens" page: pass it from a secret and check that the secret's name matches and that it is set in this repository`);
      }
    }
    const alt =
      platform === 'bluesky'
        ? " (or, to post to Bluesky without letmepost, set 'bluesky-identifier' and 'bluesky-app-password' instead of 'letmepost-token')"
        : platform === 'twitter'
          ? " (or, to post to X with your own developer app, set 'x-api-key', 'x-api-secret', 'x-access-token' and 'x-access-token-secret' instead of 'letmepost-token')"
          : '';
    return r.fail('account-id', `is required to post through letmepost; set it to the connected ${platform} account's id (a uuid from the letmepost dashboard or GET /v1/accounts)${alt}`);
  }
  if ((DIRECT_ACCOUNTS as readonly string[]).includes(accountId)) return accountId;
  if (!isUuid(accountId)) return r.fail('account-id', `is ${quote(accountId)}, which is not a uuid; copy the account id from the letmepost dashboard (e.g. 1b4e28ba-2fa1-11d2-883f-0016d3cca427)`);
  return accountId.toLowerCase();
}

/** A Bluesky post named by two inputs, its AT-URI and its cid: both or neither. */
function strongRef(r: InputReader, uriInput: string, cidInput: string): { uri: string; cid: string } | undefined {
  const uri = r.str(uriInput);
  const cid = r.str(cidInput);
  if (uri === undefined && cid === undefined) return undefined;
  const both = 'a reply names the post by both: its AT-URI and its cid (the uri and cid outputs of the step that posted it)';
  if (uri === undefined) return r.fail(uriInput, `is empty, but '${cidInput}' is set; ${both}`);
  if (cid === undefined) return r.fail(cidInput, `is empty, but '${uriInput}' is set; ${both}`);
  return { uri, cid };
}

/** A list input: items separated by commas or new lines (`en, de`), blanks dropped. */
function listOf(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(/[,\n]/).map((item) => item.trim()).filter((item) => item !== '');
  return items.length > 0 ? items : undefined;
}

function dropUndefined(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}

/**
 * The input a field of the inline post comes from, and which item of a list input it is:
 * one mapping for schema issues and preflight problems alike.
 */
export function inputOfField(path: readonly PropertyKey[], targetsList: boolean, targets: readonly { platform?: unknown }[] = []): { input: string; where: string } {
  const field = path.map(String);
  // A target's own text comes from its platform's text input.
  if (field[0] === 'targets' && field[2] === 'text') {
    const platform = normalizePlatform(String(targets[Number(field[1])]?.platform ?? ''));
    if (platform !== undefined) return { input: platformTextInput(platform), where: '' };
  }
  let input = POST_FIELD_INPUTS[field.slice(0, 3).join('.')] ?? POST_FIELD_INPUTS[field.slice(0, 2).join('.')] ?? POST_FIELD_INPUTS[field[0] ?? ''] ?? field[0] ?? 'text';
  // A single target is built from 'platform' and 'account-id'; its problems are about the account.
  if (input === 'targets' && !targetsList) input = 'account-id';
  const listed = input === 'media' || input === 'thread' || input === 'targets';
  const where = listed && field[1] !== undefined ? ` (item ${Number(field[1]) + 1}${field.length > 2 ? `, '${field.slice(2).join('.')}'` : ''})` : '';
  return { input, where };
}

/** The inline post's fields map to inputs; a problem names the input that set the field. */
export function inlineSource(ctx: Pick<RunContext, 'workspace' | 'sha'>, targetsList: boolean, targets: readonly { platform?: unknown }[] = []): PostSource {
  return {
    label: 'inputs',
    baseDir: ctx.workspace,
    ...(ctx.sha ? { commit: ctx.sha } : {}),
    error(path, message) {
      const { input, where } = inputOfField(path, targetsList, targets);
      return new InputError(input, `Input '${input}'${where} ${message}`);
    },
  };
}

/** The inline post, its placeholders filled from the event and validated: the post, or every problem. */
export function loadInline(inline: PostInput, ctx: RunContext, targetsList: boolean): { post: PostDefinition } | { errors: InputError[] } {
  const errors: InputError[] = [];
  const vars = templateVariables(ctx);
  const render = (text: string, input: string): string => {
    const result = renderTemplate(text, vars);
    if ('errors' in result) {
      for (const e of result.errors) errors.push(new InputError(input, `Input '${input}': ${e.message}`));
      return text;
    }
    return result.text;
  };
  const rendered: PostInput = {
    ...inline,
    ...(inline.text !== undefined ? { text: render(inline.text, 'text') } : {}),
    ...(inline.thread !== undefined ? { thread: inline.thread.map((t) => (typeof t === 'string' ? render(t, 'thread') : t)) } : {}),
    ...(inline.firstComment !== undefined ? { firstComment: render(inline.firstComment, 'first-comment') } : {}),
    targets: inline.targets.map((t) => (typeof t.text === 'string' ? { ...t, text: render(t.text, inputOfField(['targets', 0, 'text'], false, [t]).input) } : t)),
  };
  if (errors.length > 0) return { errors };
  const parsed = postSchema.safeParse(rendered);
  if (parsed.success) return { post: parsed.data };
  return {
    errors: parsed.error.issues.map((issue) => {
      const { input, where } = inputOfField(issue.path, targetsList, (rendered.targets ?? []) as { platform?: unknown }[]);
      return new InputError(input, joinIssue(`Input '${input}'${where}`, describeIssue(issue, rendered)));
    }),
  };
}
