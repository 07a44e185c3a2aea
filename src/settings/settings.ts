/**
 * Every workflow input, parsed in one place into one typed settings object. Parsing is a
 * pure function of the raw strings (`parseInputs`), so most input tests need no runner.
 */
import { InputError } from '../errors.js';
import { KEY_PATTERN } from '../plan/keys.js';
import type { PublisherSettings } from '../publishers/registry.js';
import { PUBLISHER_CHOICES, readInlinePost, type PublisherChoice } from '../sources/inline.js';
import type { PostInput } from '../model/post.js';
import { quote } from '../errors.js';
import { InputReader, type GetInput } from '../io/input-reader.js';
import { closest } from '../sources/templates.js';
import { DECLARED_INPUTS } from './input-names.js';

export { PUBLISHER_CHOICES, type PublisherChoice };
export type { GetInput };


export interface Settings extends PublisherSettings {
  publisher: PublisherChoice;
  letmepost: { token?: string; apiUrl: string };
  bluesky: { identifier?: string; appPassword?: string; service: string };
  mastodon: { server?: string; token?: string };
  x: { apiKey?: string; apiSecret?: string; accessToken?: string; accessTokenSecret?: string; apiUrl: string };
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
  /** On pull requests: the preview in one comment on the pull request too. */
  previewComment: boolean;
  /** A `retract` that cannot delete a published post (the platform cannot) fails the step. */
  strictRetract: boolean;
  /** An inline post in a release event for a prerelease: skip it, or post it. */
  onPrerelease: 'skip' | 'post';
}

export const DEFAULT_FILES = ['posts/**/*.yml', 'posts/**/*.yaml'];

/**
 * Parses every input. Returns one InputError per problem, all at once, before anything is
 * sent. `given`: the names of the inputs the workflow passed (the runner's INPUT_* variables);
 * a name this action never reads is an error too — GitHub only warns about an unknown input,
 * and a misspelt `schedule-at` would post now what was meant for later.
 */
export function parseInputs(get: GetInput, given: readonly string[] = []): { settings: Settings; errors: InputError[] } {
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
  const x = { apiKey: r.str('x-api-key'), apiSecret: r.str('x-api-secret'), accessToken: r.str('x-access-token'), accessTokenSecret: r.str('x-access-token-secret') };
  const hasXKeys = Object.values(x).every((v) => v !== undefined);
  const inline = readInlinePost(r, publisher, letmepostToken !== undefined, blueskyIdentifier !== undefined && blueskyAppPassword !== undefined, hasXKeys);
  const files = r.str('files');
  const settings: Settings = {
    publisher,
    letmepost: { token: letmepostToken, apiUrl: r.url('letmepost-api-url', 'https://api.letmepost.dev') ?? 'https://api.letmepost.dev' },
    bluesky: { identifier: blueskyIdentifier, appPassword: blueskyAppPassword, service: r.url('bluesky-service', 'https://bsky.social') ?? 'https://bsky.social' },
    mastodon: { server: r.url('mastodon-server'), token: r.str('mastodon-token') },
    x: { ...x, apiUrl: r.url('x-api-url', 'https://api.x.com') ?? 'https://api.x.com' },
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
    previewComment: r.bool('preview-comment', true),
    strictRetract: r.bool('strict-retract', false),
    onPrerelease: r.choice('on-prerelease', ['skip', 'post'] as const, 'skip'),
  };
  return { settings, errors: [...r.errors, ...unknownInputErrors(given, DECLARED_INPUTS)] };
}

/** Inputs given that this action does not have, each with the input it most likely meant. */
export function unknownInputErrors(given: readonly string[], known: ReadonlySet<string>): InputError[] {
  return given
    .filter((name) => !known.has(name))
    .map((name) => {
      // X was Twitter, and letmepost calls the platform `twitter`: text-twitter means text-x.
      const renamed = name.replace(/twitter/g, 'x');
      const meant = known.has(renamed) ? renamed : closest(name, known);
      const fix = meant !== undefined ? `did you mean '${meant}'?` : "see the inputs table in the README (or action.yml) for the inputs there are";
      return new InputError(name, `Input '${name}' is not an input of this action, so nothing reads it; ${fix}`);
    });
}

