/**
 * From validated post definitions to planned targets: which publisher serves each target,
 * its idempotency key, its media resolved inside the workspace, and the preflight checks.
 * Every problem is collected (not thrown one at a time) so the user fixes them in one go.
 */
import type { RunContext } from '../context.js';
import { InputError, PostFileError } from '../errors.js';
import { explicitKey, filePostKey, inlinePostKey, targetKeys } from './keys.js';
import type { AnchorSource } from './anchor.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MediaPathError, remoteMedia, resolveLocalMedia, type ResolvedMedia } from '../model/media.js';
import { PLATFORM_LIMITS } from '../model/platforms.js';
import type { AssetDownloader } from './release-assets.js';
import type { DownloadContext } from './fetched-media.js';
import type { ImageDownloader } from './notes-images.js';
import { prepareLengths } from '../text/platform-length.js';
import { optionsFor, parseScheduledAt, preflight, unusedOptionProblems, type Problem } from './preflight.js';
import type { PostDefinition } from '../model/post.js';
import { descriptorFor } from '../publishers/registry.js';
import type { PlannedTarget, TargetOperation } from '../publishers/types.js';
import { firstCommentText, targetTexts } from './texts.js';

/** Where a post came from, and how to point at one of its fields in an error. */
export interface PostSource {
  /** For logs and the summary: 'inputs', or 'posts/launch.yml' (+ '#2' for the second document). */
  label: string;
  /** Media paths are relative to this directory. */
  baseDir: string;
  /** File posts: the post's identity for its key (its `id`, else path and document). */
  identity?: string;
  /**
   * The commit the post belongs to (the run's for an inline post; the one that added the
   * file for a file post): the ledger records it there, and its time anchors record keys.
   */
  commit?: string;
  /** That commit's time, when the source knows it (epoch ms). */
  commitTime?: number;
  /** What the source asks of every target, when it is not to publish: a deleted post file asks to cancel. */
  operation?: TargetOperation;
  /** Builds the error for a problem at a field path of the post. */
  error(path: (string | number)[], message: string): InputError | PostFileError;
}

export interface PlanOptions {
  ctx: RunContext;
  /** The `idempotency-key` input, for inline posts. */
  idempotencyKey?: string;
  /** The `max-thread-posts` input. */
  maxThreadPosts: number;
  /** Commit times, for publishers that anchor record keys on one. */
  anchors?: AnchorSource;
  /** A missing anchor is an error (publishing); else a dry run shows provisional record keys. */
  requireAnchor: boolean;
  /** Downloads media before sending: release assets (the GitHub API with github-token), images of the notes (public URLs). */
  downloads?: MediaDownloads;
}

export interface MediaDownloads {
  releaseAsset: AssetDownloader;
  image: ImageDownloader;
}

/** The most images every platform of the post takes: `notesImages: true` takes that many. */
function fewestImages(post: PostDefinition): number {
  return Math.min(...post.targets.map((t) => PLATFORM_LIMITS[t.platform].maxImages));
}

/** The largest file any of these platforms takes: no bigger release asset is downloaded. */
function largestMedia(post: PostDefinition): number {
  const sizes = post.targets.flatMap((t) => [PLATFORM_LIMITS[t.platform].maxImageBytes ?? 0, PLATFORM_LIMITS[t.platform].maxVideoBytes ?? 0]);
  return Math.min(Math.max(...sizes, 0) || MAX_ASSET_BYTES, MAX_ASSET_BYTES);
}

/** A release asset is held in memory once while it is written to disk: bounded. */
const MAX_ASSET_BYTES = 512 * 1024 * 1024;

/** Resolves every media item of a post (local files inside the workspace, release assets downloaded, URLs as given). */
async function resolveMedia(post: PostDefinition, source: PostSource, opts: PlanOptions, errors: Array<InputError | PostFileError>): Promise<ResolvedMedia[]> {
  const resolved = await Promise.all(
    post.media.map(async (m, i): Promise<ResolvedMedia[]> => {
      const given = { ...(m.alt !== undefined ? { alt: m.alt } : {}), ...(m.kind !== undefined ? { kind: m.kind } : {}) };
      if (m.url !== undefined) return [remoteMedia(m.url, given)];
      try {
        if (m.path !== undefined) return [await resolveLocalMedia(m.path, source.baseDir, opts.ctx.workspace, given)];
        const fetched: DownloadContext = { payload: opts.ctx.payload, tempDir: join(opts.ctx.tempDir ?? tmpdir(), 'letmepost-fetched-media'), maxBytes: largestMedia(post), provisional: !opts.requireAnchor };
        const none = () => Promise.reject(new Error('nothing downloads media in this run'));
        // Loaded only by posts that download media (start-up, issue 15).
        if (m.releaseAsset !== undefined) return await (await import('./release-assets.js')).resolveReleaseAssets(m.releaseAsset, { ...fetched, download: opts.downloads?.releaseAsset ?? none, ...given });
        // The schema allows exactly one source: what is left is notesImages.
        const limit = m.notesImages === true || m.notesImages === undefined ? fewestImages(post) : m.notesImages;
        return await (await import('./notes-images.js')).resolveNotesImages({ ...fetched, serverUrl: opts.ctx.serverUrl, repository: opts.ctx.repository, download: opts.downloads?.image ?? none, limit });
      } catch (error) {
        if (!(error instanceof MediaPathError)) throw error;
        errors.push(source.error(['media', i, m.releaseAsset !== undefined ? 'releaseAsset' : m.notesImages !== undefined ? 'notesImages' : 'path'], error.message));
        return [];
      }
    }),
  );
  return resolved.flat();
}

/**
 * The stable time a publisher that derives record keys needs: the schedule, else the post's
 * commit time. Missing when publishing: an error that says which permission or step to add.
 */
async function anchorTime(scheduledIso: string | undefined, source: PostSource, opts: PlanOptions, publisherTitle: string): Promise<number | { error: InputError } | undefined> {
  if (scheduledIso !== undefined) return Date.parse(scheduledIso);
  if (source.commitTime !== undefined) return source.commitTime;
  const sha = source.commit ?? opts.ctx.sha;
  const found = opts.anchors && sha ? await opts.anchors.commitTime(sha) : { why: 'no commit to read it from' };
  if ('time' in found) return found.time;
  if (!opts.requireAnchor) return undefined;
  return {
    error: new InputError(
      'github-token',
      `Posting with ${publisherTitle} needs the time of the post's commit (${sha.slice(0, 7) || 'unknown'}) to derive its record keys — that is what makes re-runs safe — and neither the checkout, the event nor the GitHub API gave it; ${found.why}. Give the job 'permissions: contents: read' and keep 'github-token' at its default, or add 'actions/checkout' before this step`,
      'Missing commit time',
    ),
  };
}

/** `retract: true` or `retract: <reason>` asks to delete what the post published; false or absent: publish. */
function retractOf(post: PostDefinition): TargetOperation | undefined {
  if (post.retract === undefined || post.retract === false) return undefined;
  return post.retract === true ? { kind: 'retract' } : { kind: 'retract', reason: post.retract };
}

/** Plans every target of one post; problems are appended to `errors`. */
export async function planPost(post: PostDefinition, source: PostSource, opts: PlanOptions, errors: Array<InputError | PostFileError>): Promise<PlannedTarget[]> {
  const before = errors.length;
  // A deleted file's post is only cancelled: its media and its checks no longer matter. An
  // edited one is checked like a new one: its edited text may replace a queued post.
  const cancelling = source.operation?.kind === 'cancel';
  await prepareLengths(post.targets.map((t) => t.platform));
  const media = cancelling ? [] : await resolveMedia(post, source, opts, errors);
  const scheduled = post.scheduledAt === undefined ? undefined : parseScheduledAt(post.scheduledAt);
  const scheduledIso = scheduled && 'iso' in scheduled ? scheduled.iso : undefined;
  const planned: PlannedTarget[] = [];
  const seen = new Set<string>();
  if (!cancelling) for (const p of unusedOptionProblems(post)) errors.push(source.error(p.path, p.message));

  for (const [index, target] of post.targets.entries()) {
    const publisher = descriptorFor(target);
    const id = `${target.platform}\u0000${target.account}`;
    if (seen.has(id)) {
      errors.push(source.error(['targets', index], `repeats ${target.platform} / ${target.account}; each target may appear once`));
      continue;
    }
    seen.add(id);
    const shaped = await targetTexts(post, target, index, publisher, opts.ctx, opts.maxThreadPosts);
    const texts = shaped.texts;
    // The target's own text is checked as the post's would be, and its problems point at it.
    const checked: PostDefinition = target.thread !== undefined ? { ...post, thread: target.thread, text: undefined } : target.text !== undefined ? { ...post, text: target.text, thread: undefined } : post;
    const problems: Problem[] = cancelling ? [] : preflight(checked, { publisher: publisher.kind, platform: target.platform, account: target.account, maxThreadPosts: opts.maxThreadPosts }, texts, media);
    // Post-level problems (text, schedule) would repeat for every target: report each once.
    for (const p of problems) {
      const own = shaped.path[0] === 'targets' && (p.path[0] === 'text' || p.path[0] === 'thread');
      const err = source.error(own ? [...shaped.path.slice(0, 2), ...p.path] : p.path, p.message);
      if (!errors.slice(before).some((e) => e.message === err.message)) errors.push(err);
    }
    const keyTarget = { platform: target.platform, account: target.account };
    const base =
      source.identity !== undefined
        ? filePostKey(opts.ctx.repository, source.identity, keyTarget)
        : opts.idempotencyKey !== undefined
          ? explicitKey(opts.idempotencyKey, keyTarget, post.targets.length)
          : inlinePostKey(opts.ctx, keyTarget, scheduledIso);
    let anchor: number | undefined;
    if (publisher.needsAnchorTime) {
      const found = await anchorTime(scheduledIso, source, opts, publisher.title);
      if (typeof found === 'object') {
        if (!errors.slice(before).some((e) => e.message === found.error.message)) errors.push(found.error);
        continue;
      }
      anchor = found;
    }
    const commit = source.commit;
    const operation = source.operation ?? retractOf(post);
    planned.push({
      label: source.label,
      publisher: publisher.kind,
      platform: target.platform,
      account: target.account,
      idempotencyKey: base,
      keys: targetKeys(base, Math.max(texts.length, opts.maxThreadPosts)),
      texts,
      ...(shaped.links ? { links: shaped.links } : {}),
      media,
      options: optionsFor(post, target.platform),
      ...(post.languages !== undefined && publisher.takes?.languages ? { languages: post.languages } : {}),
      ...(post.labels !== undefined && publisher.takes?.labels ? { labels: post.labels } : {}),
      maxThreadPosts: opts.maxThreadPosts,
      ...(scheduledIso !== undefined ? { scheduledAt: scheduledIso, scheduledAtAsWritten: post.scheduledAt! } : {}),
      ...(post.firstComment !== undefined ? { firstComment: (await firstCommentText(post, target, opts.ctx))! } : {}),
      ...(anchor !== undefined ? { anchorTime: anchor } : {}),
      ...(commit ? { ledgerCommit: commit } : {}),
      ...(operation ? { operation } : {}),
      problem: (path, message) => source.error(path, message),
    });
  }
  return errors.length > before ? [] : planned;
}
