/**
 * A planned target as planPost would make it, for tests that hand one to a publisher or the
 * ledger directly: keys derived from the base key, options taken from `post`.
 */
import { InputError } from '../../src/errors.js';
import { targetKeys } from '../../src/plan/keys.js';
import { optionsFor } from '../../src/plan/preflight.js';
import type { PostDefinition } from '../../src/model/post.js';
import type { PlannedTarget } from '../../src/publishers/types.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export type TargetSpec = Partial<Omit<Mutable<PlannedTarget>, 'keys' | 'options'>> &
  Pick<PlannedTarget, 'publisher' | 'platform' | 'idempotencyKey' | 'texts'> & {
    /** The post the target belongs to; its platform options become the target's. */
    post?: Partial<PostDefinition>;
  };

export function plannedTarget(spec: TargetSpec): PlannedTarget {
  const { post, ...rest } = spec;
  const maxThreadPosts = spec.maxThreadPosts ?? 10;
  return {
    label: 'inputs',
    account: spec.publisher === 'letmepost' ? '00000000-0000-4000-8000-000000000000' : spec.publisher,
    media: [],
    maxThreadPosts,
    problem: (path, message) => new InputError(String(path[0] ?? 'text'), `'${path.join('.')}' ${message}`),
    ...rest,
    keys: targetKeys(spec.idempotencyKey, Math.max(spec.texts.length, maxThreadPosts)),
    options: post ? optionsFor(post as PostDefinition, spec.platform) : {},
  };
}

/** Just the keys of a target, for the functions that take a slice of one. */
export function keysOf(idempotencyKey: string, posts = 10) {
  return targetKeys(idempotencyKey, posts);
}
