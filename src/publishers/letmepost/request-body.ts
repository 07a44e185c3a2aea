/**
 * A planned target as the body of `POST /v1/posts`: pure mapping, no I/O. How each medium
 * travels (by URL, inline as `bytesBase64`, or by the id of an upload) and the per-platform
 * `options` in the server's shape. The wire shapes themselves (`targets[]` and the documented
 * single-account fallback) are api.ts's `targetsBody` and `accountBody`.
 */
import type { ResolvedMedia } from '../../model/media.js';
import type { Platform } from '../../model/platforms.js';
import type { MediaItem, PostRequest, TargetOptions } from './api.js';
import type { PlannedTarget, PlatformOptions } from '../types.js';

/** Images up to this size travel inside the request (`bytesBase64`): the largest any letmepost platform takes is 8 MB. */
export const INLINE_IMAGE_MAX_BYTES = 8 * 1024 * 1024;
/** Platforms whose letmepost publisher hands media to the platform by URL: inline bytes are refused there. */
const URL_MEDIA_PLATFORMS: ReadonlySet<Platform> = new Set(['facebook', 'instagram', 'pinterest', 'threads']);

/** Whether a local file is sent inline (`bytesBase64`), so a re-run sends the very same bytes. */
export function sentInline(m: ResolvedMedia, platform: Platform): boolean {
  return m.kind === 'image' && !URL_MEDIA_PLATFORMS.has(platform) && m.size !== undefined && m.size <= INLINE_IMAGE_MAX_BYTES;
}

/** The per-platform `options` of a target, in the server's discriminated-union shape; undefined when there are none. */
export function serverOptions(platform: Platform, post: PlatformOptions): TargetOptions | undefined {
  const fields: Record<string, string | boolean | undefined> = {};
  switch (platform) {
    case 'twitter':
      Object.assign(fields, { replyToTweetId: post.twitter?.replyToTweetId, quoteTweetId: post.twitter?.quoteTweetId });
      break;
    case 'pinterest':
      Object.assign(fields, { boardId: post.pinterest?.boardId, destinationUrl: post.pinterest?.destinationUrl, title: post.pinterest?.title, coverImageUrl: post.pinterest?.coverImageUrl });
      break;
    case 'threads':
      fields.replyToId = post.threads?.replyToId;
      break;
    case 'tiktok':
      Object.assign(fields, post.tiktok ?? {});
      break;
    case 'bluesky':
      Object.assign(fields, {
        replyToUri: post.bluesky?.replyTo?.uri,
        replyToCid: post.bluesky?.replyTo?.cid,
        replyRootUri: post.bluesky?.replyRoot?.uri,
        replyRootCid: post.bluesky?.replyRoot?.cid,
      });
      break;
    default:
      break;
  }
  const set = Object.entries(fields).filter((entry): entry is [string, string | boolean] => entry[1] !== undefined);
  return set.length > 0 ? ({ platform, ...Object.fromEntries(set) } as TargetOptions) : undefined;
}

/** One medium of the request: by its upload's id, by its bytes, or else by its URL. */
export function mediaItem(m: ResolvedMedia, source: { mediaId?: string; bytesBase64?: string }): MediaItem {
  const item: MediaItem = { kind: m.kind };
  if (m.alt !== undefined) item.altText = m.alt;
  if (source.mediaId !== undefined) item.mediaId = source.mediaId;
  else if (source.bytesBase64 !== undefined) item.bytesBase64 = source.bytesBase64;
  else if (m.url !== undefined) item.url = m.url;
  return item;
}

/** The media of a target as a dry run shows them: placeholders where publishing reads or uploads a local file. */
export function describedMedia(target: PlannedTarget): MediaItem[] {
  return target.media.map((m) =>
    !m.path
      ? mediaItem(m, {})
      : sentInline(m, target.platform)
        ? mediaItem(m, { bytesBase64: `<the ${m.size ?? '?'} bytes of ${m.displayPath ?? m.path}, base64>` })
        : mediaItem(m, { mediaId: `<uploaded from ${m.displayPath ?? m.path} by POST /v1/media>` }),
  );
}

/** The request for one target, given its media as they will travel. */
export function postRequest(target: PlannedTarget, media: MediaItem[]): PostRequest {
  const req: PostRequest = { accountId: target.account, platform: target.platform, text: target.texts[0] ?? '', media };
  if (target.firstComment !== undefined) req.firstComment = target.firstComment;
  if (target.scheduledAt !== undefined) req.scheduledAt = target.scheduledAt;
  const options = serverOptions(target.platform, target.options);
  if (options !== undefined) req.options = options;
  return req;
}
