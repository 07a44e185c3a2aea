/**
 * Every workflow input, parsed in one place into one typed settings object. Parsing is a
 * pure function of the raw strings (`parseInputs`), so most input tests need no runner.
 */
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';
import { InputError } from './errors.js';
import { KEY_PATTERN } from './plan/keys.js';
import { normalizePlatform, PLATFORMS } from './model/platforms.js';
import { DIRECT_ACCOUNTS, mediaSchema, targetSchema, type PostInput } from './model/post.js';
import { closest } from './sources/templates.js';

export const PUBLISHER_CHOICES = ['auto', 'letmepost', 'bluesky', 'mastodon'] as const;
export type PublisherChoice = (typeof PUBLISHER_CHOICES)[number];

export interface Settings {
  publisher: PublisherChoice;
  letmepost: { token?: string; apiUrl: string };
  bluesky: { identifier?: string; appPassword?: string; service: string };
  mastodon: { server?: string; token?: string };
  /** The post given by inputs (`text`/`thread`), before schema validation; undefined for file posts. */
  inline?: PostInput;
  /** Whether the inline post's targets come from the `targets` list (else from `platform` and `account-id`). */
  inlineTargetsList: boolean;
  files: string[];
  select: 'added' | 'all';
  idempotencyKey?: string;
  dryRun: boolean;
  githubToken?: string;
  ledger: 'commit-status' | 'off';
  timeoutSeconds: number;
  requestTimeoutSeconds: number;
  /** The most posts a long text may be split into. */
  maxThreadPosts: number;
}

export const DEFAULT_FILES = ['posts/**/*.yml', 'posts/**/*.yaml'];

/** The input each field of the post model comes from, for error messages. */
export const POST_FIELD_INPUTS: Readonly<Record<string, string>> = {
  text: 'text',
  thread: 'thread',
  targets: 'targets',
  media: 'media',
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

export type GetInput = (name: string) => string;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Quotes a user value for a message, shortened so a long text does not flood the log. */
export function quote(value: string, max = 80): string {
  const oneLine = value.replace(/\n/g, '\\n');
  return `'${oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine}'`;
}

class InputReader {
  readonly errors: InputError[] = [];
  constructor(private readonly get: GetInput) {}

  str(name: string): string | undefined {
    const value = this.get(name).trim();
    return value === '' ? undefined : value;
  }

  /** Text inputs keep their inner whitespace and newlines; only a trailing newline from YAML block scalars goes. */
  text(name: string): string | undefined {
    const value = this.get(name).replace(/\s+$/, '');
    return value.trim() === '' ? undefined : value;
  }

  fail(name: string, message: string): undefined {
    this.errors.push(new InputError(name, `Input '${name}' ${message}`));
    return undefined;
  }

  choice<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const value = this.str(name);
    if (value === undefined) return fallback;
    if ((choices as readonly string[]).includes(value.toLowerCase())) return value.toLowerCase() as T;
    this.fail(name, `is ${quote(value)}; expected one of ${choices.join(', ')}`);
    return fallback;
  }

  bool(name: string, fallback: boolean): boolean;
  bool(name: string): boolean | undefined;
  bool(name: string, fallback?: boolean): boolean | undefined {
    const value = this.str(name);
    if (value === undefined) return fallback;
    if (['true', 'True', 'TRUE'].includes(value)) return true;
    if (['false', 'False', 'FALSE'].includes(value)) return false;
    this.fail(name, `is ${quote(value)}; expected true or false`);
    return fallback;
  }

  seconds(name: string, fallback: number, min: number, max: number): number {
    const value = this.str(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.fail(name, `is ${quote(value)}; expected a whole number of seconds from ${min} to ${max}`);
      return fallback;
    }
    return n;
  }

  count(name: string, fallback: number, min: number, max: number): number {
    const value = this.str(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.fail(name, `is ${quote(value)}; expected a whole number from ${min} to ${max}`);
      return fallback;
    }
    return n;
  }

  url(name: string, fallback?: string): string | undefined {
    const value = this.str(name) ?? fallback;
    if (value === undefined) return undefined;
    try {
      const url = new URL(value);
      if (url.protocol === 'https:' || url.protocol === 'http:') return value.replace(/\/+$/, '');
    } catch {
      // reported below
    }
    return this.fail(name, `is ${quote(value)}; expected an http(s) URL such as ${fallback ?? 'https://example.social'}`);
  }

  /** A YAML (or JSON) list input; `example` shows the expected shape in the error. */
  yamlList(name: string, example: string): unknown[] | undefined {
    const value = this.str(name);
    if (value === undefined) return undefined;
    let parsed: unknown;
    try {
      parsed = parseYaml(value, { maxAliasCount: 50 });
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0]! : String(error);
      if (/alias/i.test(reason)) return this.fail(name, `uses YAML aliases (*name) that expand to too much data (more than 50 copies); write the items out instead, as a list such as:\n${example}`);
      return this.fail(name, `is not valid YAML (${reason.replace(/:\s*$/, '')}); expected a list such as:\n${example}`);
    }
    if (parsed === null || parsed === undefined) return undefined;
    if (!Array.isArray(parsed)) return this.fail(name, `must be a YAML list (one '- ' item per entry), for example:\n${example}`);
    return parsed;
  }
}

/** Inputs that only shape an inline post: set without `text` or `thread`, the text is missing. */
const INLINE_ONLY_INPUTS = ['platform', 'account-id', 'targets', 'media', 'scheduled-at', 'first-comment'] as const;

/** Reads the inputs that describe one inline post, or undefined when no `text`/`thread` is given. */
function readInlinePost(r: InputReader, publisher: PublisherChoice, hasLetmepostToken: boolean, hasBlueskyLogin: boolean): PostInput | undefined {
  const text = r.text('text');
  const thread = r.yamlList('thread', "  - 'First post'\n  - 'Second post'");
  if (text === undefined && thread === undefined) {
    // Without text the step reads post files; inputs that only shape an inline post mean the
    // text was meant to be there (an expression such as a release body can come out empty).
    const inlineOnly = INLINE_ONLY_INPUTS.filter((name) => r.str(name) !== undefined);
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
    const platform = rawPlatform === undefined ? (publisher === 'bluesky' || publisher === 'mastodon' ? publisher : undefined) : normalizePlatform(rawPlatform);
    if (rawPlatform === undefined && platform === undefined) {
      r.fail('platform', `is required with 'text'; set it to one of ${PLATFORMS.join(', ')} (or give a 'targets' list to cross-post)`);
    } else if (platform === undefined) {
      r.fail('platform', `is ${quote(rawPlatform!)}; expected one of ${PLATFORMS.join(', ')} (x is accepted for twitter)`);
    } else {
      const account = inlineAccount(r, publisher, platform, hasLetmepostToken, hasBlueskyLogin);
      if (account !== undefined) targetList = [{ platform, account }];
    }
  } else if (r.str('platform') !== undefined || r.str('account-id') !== undefined) {
    r.fail('targets', "cannot be combined with 'platform' or 'account-id'; put every target in the 'targets' list");
  }

  const post: Record<string, unknown> = {
    text,
    thread,
    targets: targetList ?? [],
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

/** Which account an inline target posts as: the letmepost account id, or a direct adapter. */
function inlineAccount(r: InputReader, publisher: PublisherChoice, platform: string, hasLetmepostToken: boolean, hasBlueskyLogin: boolean): string | undefined {
  const accountId = r.str('account-id');
  const direct =
    publisher === 'bluesky' || publisher === 'mastodon'
      ? publisher
      : publisher === 'auto' && platform === 'mastodon'
        ? 'mastodon'
        : publisher === 'auto' && platform === 'bluesky' && hasBlueskyLogin && !hasLetmepostToken && accountId === undefined
          ? 'bluesky'
          : undefined;
  if (direct !== undefined) {
    if (direct !== platform) return r.fail('publisher', `is '${direct}' but 'platform' is '${platform}'; the ${direct} publisher posts only to ${direct}`);
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
    const alt = platform === 'bluesky' ? " (or, to post to Bluesky without letmepost, set 'bluesky-identifier' and 'bluesky-app-password' instead of 'letmepost-token')" : '';
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

function dropUndefined(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}

/** Parses every input. Throws one InputError per problem, all at once, before anything is sent. */
export function parseInputs(get: GetInput): { settings: Settings; errors: InputError[] } {
  const r = new InputReader(get);
  const publisher = r.choice('publisher', PUBLISHER_CHOICES, 'auto');
  const letmepostToken = r.str('letmepost-token');
  // Handles are typed as they appear in the app: '@alice.bsky.social' means alice.bsky.social.
  const blueskyIdentifier = r.str('bluesky-identifier')?.replace(/^@(?=[^@\s]+\.[^@\s]+$)/, '');
  const blueskyAppPassword = r.str('bluesky-app-password');
  const idempotencyKey = r.str('idempotency-key');
  if (idempotencyKey !== undefined && !KEY_PATTERN.test(idempotencyKey)) {
    r.fail('idempotency-key', `is ${quote(idempotencyKey)}${idempotencyKey.length > 128 ? ` (${idempotencyKey.length} characters)` : ''}; use 1 to 128 letters, digits, '-' or '_' (for example release-v1-2-0)`);
  }
  const inline = readInlinePost(r, publisher, letmepostToken !== undefined, blueskyIdentifier !== undefined && blueskyAppPassword !== undefined);
  const files = r.str('files');
  const settings: Settings = {
    publisher,
    letmepost: { token: letmepostToken, apiUrl: r.url('letmepost-api-url', 'https://api.letmepost.dev') ?? 'https://api.letmepost.dev' },
    bluesky: { identifier: blueskyIdentifier, appPassword: blueskyAppPassword, service: r.url('bluesky-service', 'https://bsky.social') ?? 'https://bsky.social' },
    mastodon: { server: r.url('mastodon-server'), token: r.str('mastodon-token') },
    inline,
    inlineTargetsList: r.str('targets') !== undefined,
    files: files === undefined ? DEFAULT_FILES : files.split('\n').map((f) => f.trim()).filter((f) => f && !f.startsWith('#')),
    select: r.choice('select', ['added', 'all'] as const, 'added'),
    idempotencyKey,
    dryRun: r.bool('dry-run', false),
    githubToken: r.str('github-token'),
    ledger: r.choice('ledger', ['commit-status', 'off'] as const, 'commit-status'),
    timeoutSeconds: r.seconds('timeout-seconds', 300, 10, 6 * 3600),
    requestTimeoutSeconds: r.seconds('request-timeout-seconds', 30, 1, 600),
    maxThreadPosts: r.count('max-thread-posts', 10, 1, 100),
  };
  return { settings, errors: r.errors };
}

/** Turns a schema issue on the inline post into an InputError naming the input. */
/**
 * The input a field of the inline post comes from, and which item of a list input it is:
 * one mapping for schema issues and preflight problems alike.
 */
export function inputOfField(path: readonly PropertyKey[], targetsList: boolean): { input: string; where: string } {
  const field = path.map(String);
  let input = POST_FIELD_INPUTS[field.slice(0, 3).join('.')] ?? POST_FIELD_INPUTS[field.slice(0, 2).join('.')] ?? POST_FIELD_INPUTS[field[0] ?? ''] ?? field[0] ?? 'text';
  // A single target is built from 'platform' and 'account-id'; its problems are about the account.
  if (input === 'targets' && !targetsList) input = 'account-id';
  const listed = input === 'media' || input === 'thread' || input === 'targets';
  const where = listed && field[1] !== undefined ? ` (item ${Number(field[1]) + 1}${field.length > 2 ? `, '${field.slice(2).join('.')}'` : ''})` : '';
  return { input, where };
}

/** Turns a schema issue on the inline post into an InputError naming the input. */
export function inlineIssueToInputError(issue: z.core.$ZodIssue, post: PostInput, targetsList: boolean): InputError {
  const { input, where } = inputOfField(issue.path, targetsList);
  const described = describeIssue(issue, valueAt(post, issue.path));
  return new InputError(input, `Input '${input}'${where}${/^(is|has) /.test(described) ? ' ' : ': '}${described}`);
}

/** The fields a list item of an inline input may have, for "did you mean". */
const ITEM_FIELDS: Readonly<Record<string, { what: string; fields: readonly string[] }>> = {
  media: { what: 'a media item', fields: Object.keys(mediaSchema.shape) },
  targets: { what: 'a target', fields: Object.keys(targetSchema.shape) },
};

const EXPECTED_TYPE: Readonly<Record<string, string>> = {
  string: 'text',
  array: "a list (one '- ' item per entry)",
  object: 'a mapping of fields (key: value), e.g. platform: bluesky',
  boolean: 'true or false',
  number: 'a number',
};

const MISSING_HINTS: Readonly<Record<string, string>> = {
  platform: 'add the platform, e.g. platform: bluesky',
  account: "add the letmepost account id (a uuid), or 'bluesky' / 'mastodon' for a direct publisher",
};

function shownValue(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' || typeof value === 'boolean') return `${String(value)} (${typeof value === 'number' ? 'a number' : 'true/false'})`;
  if (value === null) return 'empty';
  return Array.isArray(value) ? 'a list' : 'a mapping';
}

/** Completes "Input 'x' (item n) …": the value, what was expected, and the fix, in the words post files use. */
function describeIssue(issue: z.core.$ZodIssue, value: unknown): string {
  switch (issue.code) {
    case 'unrecognized_keys': {
      const item = ITEM_FIELDS[String(issue.path[0])];
      return issue.keys
        .map((key) => {
          const known = item?.fields ?? [];
          const suggestion = closest(key, known);
          const what = item ? ` of ${item.what}` : '';
          return suggestion !== undefined ? `has '${key}', which is not a field${what}; did you mean '${suggestion}'?` : `has '${key}', which is not a field${what}; the fields are: ${known.join(', ')}`;
        })
        .join('; ');
    }
    case 'invalid_type': {
      const expected = EXPECTED_TYPE[issue.expected] ?? issue.expected;
      if (value === undefined) return `is missing; ${MISSING_HINTS[String(issue.path[issue.path.length - 1])] ?? `expected ${expected}`}`;
      const quoteHint = issue.expected === 'string' && (typeof value === 'number' || typeof value === 'boolean') ? ` — put it in quotes: '${String(value)}'` : '';
      return `is ${shownValue(value)}; expected ${expected}${quoteHint}`;
    }
    case 'invalid_value':
      return `is ${shownValue(value)}; expected one of ${issue.values.map(String).join(', ')}`;
    default:
      return typeof value === 'string' && !issue.message.includes(quote(value)) ? `is ${quote(value)}; ${issue.message}` : issue.message;
  }
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
