/**
 * From validated post definitions to planned targets: which publisher serves each target,
 * its idempotency key, its media resolved inside the workspace, and the preflight checks.
 * Every problem is collected (not thrown one at a time) so the user fixes them in one go.
 */
import { dirname } from 'node:path';
import type { RunContext } from '../context.js';
import { InputError, PostFileError } from '../errors.js';
import { explicitKey, filePostKey, inlinePostKey } from './keys.js';
import { MediaPathError, remoteMedia, resolveLocalMedia, type ResolvedMedia } from '../model/media.js';
import { prepareLengths } from '../text/platform-length.js';
import { parseScheduledAt, preflight, unusedOptionProblems, type Problem } from './preflight.js';
import type { PostDefinition, TargetDefinition } from '../model/post.js';
import type { PlannedTarget, PublisherKind } from '../publishers/types.js';

/** Where a post came from, and how to point at one of its fields in an error. */
export interface PostSource {
  /** For logs and the summary: 'inputs', or 'posts/launch.yml' (+ '#2' for the second document). */
  label: string;
  /** Media paths are relative to this directory. */
  baseDir: string;
  /** File posts: the post's identity for its key (its `id`, else path and document). */
  identity?: string;
  /** Builds the error for a problem at a field path of the post. */
  error(path: (string | number)[], message: string): InputError | PostFileError;
}

export interface PlanOptions {
  ctx: RunContext;
  /** The `idempotency-key` input, for inline posts. */
  idempotencyKey?: string;
  /** The `max-thread-posts` input. */
  maxThreadPosts: number;
}

export function publisherFor(target: TargetDefinition): PublisherKind {
  if (target.account === 'bluesky') return 'bluesky';
  if (target.account === 'mastodon') return 'mastodon';
  return 'letmepost';
}

/** Resolves every media item of a post (local files inside the workspace, URLs as given). */
async function resolveMedia(post: PostDefinition, source: PostSource, workspace: string, errors: Array<InputError | PostFileError>): Promise<ResolvedMedia[]> {
  const resolved = await Promise.all(
    post.media.map(async (m, i) => {
      const opts = { ...(m.alt !== undefined ? { alt: m.alt } : {}), ...(m.kind !== undefined ? { kind: m.kind } : {}) };
      if (m.url !== undefined) return remoteMedia(m.url, opts);
      try {
        return await resolveLocalMedia(m.path!, source.baseDir, workspace, opts);
      } catch (error) {
        if (!(error instanceof MediaPathError)) throw error;
        errors.push(source.error(['media', i, 'path'], error.message));
        return undefined;
      }
    }),
  );
  return resolved.filter((m): m is ResolvedMedia => m !== undefined);
}

/** Plans every target of one post; problems are appended to `errors`. */
export async function planPost(post: PostDefinition, source: PostSource, opts: PlanOptions, errors: Array<InputError | PostFileError>): Promise<PlannedTarget[]> {
  const before = errors.length;
  await prepareLengths(post.targets.map((t) => t.platform));
  const media = await resolveMedia(post, source, opts.ctx.workspace, errors);
  const texts = post.thread ?? [post.text ?? ''];
  const scheduled = post.scheduledAt === undefined ? undefined : parseScheduledAt(post.scheduledAt);
  const planned: PlannedTarget[] = [];
  const seen = new Set<string>();
  for (const p of unusedOptionProblems(post)) errors.push(source.error(p.path, p.message));

  post.targets.forEach((target, index) => {
    const publisher = publisherFor(target);
    const id = `${target.platform}\u0000${target.account}`;
    if (seen.has(id)) {
      errors.push(source.error(['targets', index], `repeats ${target.platform} / ${target.account}; each target may appear once`));
      return;
    }
    seen.add(id);
    const problems: Problem[] = preflight(post, { publisher, platform: target.platform, account: target.account, maxThreadPosts: opts.maxThreadPosts }, texts, media);
    // Post-level problems (text, schedule) would repeat for every target: report each once.
    for (const p of problems) {
      const err = source.error(p.path, p.message);
      if (!errors.slice(before).some((e) => e.message === err.message)) errors.push(err);
    }
    const keyTarget = { platform: target.platform, account: target.account };
    const idempotencyKey =
      source.identity !== undefined
        ? filePostKey(opts.ctx.repository, source.identity, keyTarget)
        : opts.idempotencyKey !== undefined
          ? explicitKey(opts.idempotencyKey, keyTarget, post.targets.length)
          : inlinePostKey(opts.ctx, keyTarget, scheduled && 'iso' in scheduled ? scheduled.iso : undefined);
    const plannedTarget: PlannedTarget = {
      label: source.label,
      publisher,
      platform: target.platform,
      account: target.account,
      idempotencyKey,
      texts,
      media,
      post,
      maxThreadPosts: opts.maxThreadPosts,
      problem: (path, message) => source.error(path, message),
    };
    if (scheduled && 'iso' in scheduled) {
      plannedTarget.scheduledAt = scheduled.iso;
      plannedTarget.scheduledAtAsWritten = post.scheduledAt!;
    }
    if (post.firstComment !== undefined) plannedTarget.firstComment = post.firstComment;
    planned.push(plannedTarget);
  });
  return errors.length > before ? [] : planned;
}
