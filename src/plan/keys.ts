/**
 * Every idempotency key is made here, and only here: the same on every re-run of the same
 * step, different for every genuinely different post (.github/ARCHITECTURE.md, "Identity").
 * A planned target carries all the keys it may need — its own, one per post of a thread, its
 * first comment's, the recovery keys after a replayed transient failure, the keys of the
 * fallback request shape — so publishers use keys and never derive one.
 */
import { sha256Base64Url, sha256Hex } from '../io/sha256.js';
import type { RunContext } from '../context.js';
import type { TargetKeys } from '../publishers/types.js';

export const MAX_KEY_LENGTH = 128;
export const KEY_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
const PREFIX = 'lmpa';

/** The target part of a key: the platform and the account it is posted as. */
export interface KeyTarget {
  platform: string;
  account: string;
}

function digest(parts: readonly string[]): string {
  // JSON framing keeps ('ab','c') and ('a','bc') apart.
  return sha256Base64Url(JSON.stringify(parts)).replace(/[^A-Za-z0-9]/g, '').slice(0, 32);
}

function keyFor(kind: string, platform: string, parts: readonly string[]): string {
  return `${PREFIX}-${kind}-${platform}-${digest(parts)}`;
}

/**
 * Inline posts (from workflow inputs): repository + commit + workflow + job + step + target
 * + the run. GitHub keeps `GITHUB_RUN_ID` for every re-run attempt of a run ("re-run all
 * jobs", "re-run failed jobs", days later) and gives every new run a new one: a re-run finds
 * its post, a second dispatch, a second release on one commit or the next cron tick is a new
 * post. The run attempt is deliberately absent: a re-run must produce the same key.
 * Matrix legs share the key on purpose: a matrix posts once.
 *
 * An inline post with a schedule is identified by what it is, not by who sent it:
 * repository + workflow + job + step + target + its scheduled time (UTC). So a cron workflow
 * that carries a fixed schedule posts it once when due, whatever run or commit sees it.
 */
export function inlinePostKey(ctx: Pick<RunContext, 'repository' | 'sha' | 'workflow' | 'job' | 'step' | 'runId'>, target: KeyTarget, scheduledAt?: string): string {
  if (scheduledAt !== undefined) {
    return keyFor('s', target.platform, ['scheduled', ctx.repository, ctx.workflow, ctx.job, ctx.step, target.platform, target.account, scheduledAt]);
  }
  return keyFor('in', target.platform, ['inline', ctx.repository, ctx.sha, ctx.workflow, ctx.job, ctx.step, ctx.runId, target.platform, target.account]);
}

/** How an inline post's identity is decided, for the log: what makes a re-run the same post and a new run a new one. */
export function inlineIdentityNote(ctx: Pick<RunContext, 'sha' | 'workflow' | 'job' | 'step' | 'runId'>, scheduledAt: string | undefined, given: boolean): string {
  if (given) return "Post identity: the 'idempotency-key' input, so every run that gives the same key is the same post.";
  if (scheduledAt !== undefined) return `Post identity: this workflow, job and step with the schedule ${scheduledAt}, so any run that carries this schedule is the same post (posted once).`;
  return `Post identity: run ${ctx.runId} of ${ctx.workflow}, job ${ctx.job}, step ${ctx.step}, on ${ctx.sha.slice(0, 7)}: a re-run of this run is the same post (nothing new is posted); a new run is a new post.`;
}

/**
 * File posts: repository + the post's identity (its `id`, else its path and document index)
 * + target. Independent of the commit, so a later commit or a cron run sees the same key.
 */
export function filePostKey(repository: string, postIdentity: string, target: KeyTarget): string {
  return keyFor('f', target.platform, ['file', repository, postIdentity, target.platform, target.account]);
}

/**
 * A user-given key. With one target it is used as given; with several, each target gets the
 * given key plus a short target suffix, since one key may carry only one post.
 */
export function explicitKey(given: string, target: KeyTarget, targetCount: number): string {
  if (targetCount <= 1) return given;
  const suffix = `-${target.platform}-${digest([target.platform, target.account]).slice(0, 8)}`;
  return given.length + suffix.length <= MAX_KEY_LENGTH ? given + suffix : keyFor('x', target.platform, [given, target.platform, target.account]);
}

/**
 * A key for a part of a post (the n-th post of a thread, a first comment) or for the next
 * attempt after a replayed transient failure: deterministic, so re-runs find the same one.
 */
export function childKey(parent: string, part: string): string {
  const suffix = `-${part}`;
  if (parent.length + suffix.length <= MAX_KEY_LENGTH && /^[A-Za-z0-9_-]+$/.test(part)) return parent + suffix;
  return `${PREFIX}-c-${digest([parent, part])}`;
}

/**
 * The keys of the post that replaces a queued one whose text was edited (the queued post is
 * cancelled and the edited one queued in its place): derived from the target's key, the
 * queued post it replaces and the new content — so a re-run of the same edit sends the same
 * request (the platform replays it), and a later edit, replacing another post, a new one.
 * The ledger id stays: the replacement is recorded where the post it replaces was.
 */
export function replacementKeys(keys: TargetKeys, replaced: string, content: readonly string[]): TargetKeys {
  const base = childKey(keys.base, `e${digest(['replacement', replaced, ...content]).slice(0, 12)}`);
  return { ...targetKeys(base, keys.parts.length), ledgerId: keys.ledgerId };
}

export function isValidKey(key: string): boolean {
  return KEY_PATTERN.test(key);
}

/** How many times a re-run may move past a replayed transient failure to a fresh key. */
export const MAX_RECOVERIES = 10;

/** The keys of a target whose thread can have up to `posts` posts. */
export function targetKeys(base: string, posts: number): TargetKeys {
  const recoveries = Array.from({ length: MAX_RECOVERIES }, (_, i) => childKey(base, `r${i + 1}`));
  return {
    base,
    parts: Array.from({ length: Math.max(1, posts) }, (_, i) => (i === 0 ? base : childKey(base, `t${i + 1}`))),
    firstComment: childKey(base, 'fc'),
    recoveries,
    alternate: Object.fromEntries([base, ...recoveries].map((key) => [key, childKey(key, 'acct')])),
    ledgerId: sha256Hex(base).slice(0, 12),
  };
}
