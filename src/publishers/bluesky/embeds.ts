/**
 * The embed of a thread's first post: up to 4 images or one video, uploaded as blobs, else a
 * card for the first link. Each media file or URL is loaded and uploaded once per run, and
 * checked by its content before it is sent. A link card is best effort: without it the post
 * still goes out. `describeEmbed` shows a dry run the same embed without sending anything.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Facet } from './rich-text.js';
import type { BlobRef } from './xrpc.js';
import { errorMessage, PublishError } from '../../errors.js';
import { fetchLimited, LimitedFetchError } from '../../io/fetch-limited.js';
import type { Json } from '../../io/json.js';
import { withRetries } from '../../io/retry.js';
import { imageDimensions, sniffMimeType, type ResolvedMedia } from '../../model/media.js';
import type { Log, PlannedTarget } from '../types.js';
import type { BlueskyClient, Session } from './client.js';
import { BLUESKY_MAX_VIDEO_BYTES } from './descriptor.js';
import { BLUESKY_MAX_IMAGE_BYTES, fetchLinkCard, LINK_CARD_TIMEOUT_MS } from './link-card.js';
import { firstLink } from './rich-text.js';

export interface EmbedConfig {
  log: Log;
  /** Time limit of each media download. */
  requestTimeoutMs: number;
  /** Time limit for fetching a link card's page, and separately its image (default 5000). */
  linkCardTimeoutMs?: number;
}

const MAX_IMAGES = 4;
const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

interface Upload {
  blob: BlobRef;
  aspectRatio?: { width: number; height: number };
}

function aspectRatioOf(width: number | undefined, height: number | undefined): { width: number; height: number } | undefined {
  return width && height && width > 0 && height > 0 ? { width, height } : undefined;
}

function mediaName(m: ResolvedMedia): string {
  return `'${m.displayPath ?? (m.path ? basename(m.path) : m.url)}'`;
}

/** The embed a publish would send, with placeholders for what only a publish can know. */
export function describeEmbed(target: PlannedTarget, facets: Facet[]): Json | undefined {
  const source = (m: ResolvedMedia) => `<blob uploaded from ${m.displayPath ?? m.path ?? m.url}>`;
  const video = target.media.find((m) => m.kind === 'video');
  if (video) {
    const ratio = aspectRatioOf(video.width, video.height);
    return { $type: 'app.bsky.embed.video', video: source(video), ...(video.alt !== undefined ? { alt: video.alt } : {}), ...(ratio ? { aspectRatio: ratio } : {}) };
  }
  const images = target.media.filter((m) => m.kind === 'image');
  if (images.length) {
    return {
      $type: 'app.bsky.embed.images',
      images: images.map((m) => {
        const ratio = aspectRatioOf(m.width, m.height);
        return { alt: m.alt ?? '', image: source(m), aspectRatio: ratio ?? '<read from the image>' };
      }),
    };
  }
  const link = target.options.bluesky?.linkCard !== false ? firstLink(facets) : undefined;
  if (link) return { $type: 'app.bsky.embed.external', external: { uri: link, title: '<og:title of the page>', description: '<og:description of the page>', thumb: '<og:image, when it fetches>' }, note: 'fetched when publishing; no card if the page cannot be fetched' };
  return undefined;
}

export class Embeds {
  /** Each media file or URL is loaded and uploaded once per run. */
  private readonly uploads = new Map<string, Promise<Upload>>();

  constructor(
    private readonly client: BlueskyClient,
    private readonly config: EmbedConfig,
  ) {}

  /** The media embed when the target has media, else the link card (or nothing). */
  embedFor(session: Session, target: PlannedTarget, facets: Facet[], warnings: string[]): Promise<Json | undefined> {
    return target.media.length > 0 ? this.mediaEmbed(session, target, warnings) : this.linkCardEmbed(session, target, facets, warnings);
  }

  private async mediaEmbed(session: Session, target: PlannedTarget, warnings: string[]): Promise<Json> {
    const images = target.media.filter((m) => m.kind === 'image');
    const videos = target.media.filter((m) => m.kind === 'video');
    const what = `${target.label} → bluesky`;
    if (videos.length > 0 && images.length > 0) throw new PublishError(`${what}: the media mix images and a video; a Bluesky post takes up to ${MAX_IMAGES} images or one video`);
    if (videos.length > 1) throw new PublishError(`${what}: ${videos.length} videos given; a Bluesky post takes one video`);
    if (images.length > MAX_IMAGES) throw new PublishError(`${what}: ${images.length} images given; a Bluesky post takes at most ${MAX_IMAGES}`);

    const video = videos[0];
    if (video) {
      // Best effort: a plain PDS accepts an uploaded blob in app.bsky.embed.video, but
      // bsky.social expects videos to go through its video service (app.bsky.video.*), which
      // transcodes them; a blob uploaded straight to the PDS may not play in the app.
      const upload = await this.upload(session, video);
      if (video.alt === undefined || video.alt.trim() === '') warnings.push(`the video ${mediaName(video)} has no alt text; add 'alt' to describe it for people who cannot see it`);
      return {
        $type: 'app.bsky.embed.video',
        video: upload.blob,
        ...(video.alt ? { alt: video.alt } : {}),
        ...(upload.aspectRatio ? { aspectRatio: upload.aspectRatio } : {}),
      };
    }
    const items: Json[] = [];
    for (const image of images) {
      const upload = await this.upload(session, image);
      if (image.alt === undefined || image.alt.trim() === '') warnings.push(`the image ${mediaName(image)} has no alt text; add 'alt' to describe it for people who cannot see it`);
      items.push({ alt: image.alt ?? '', image: upload.blob, ...(upload.aspectRatio ? { aspectRatio: upload.aspectRatio } : {}) });
    }
    return { $type: 'app.bsky.embed.images', images: items };
  }

  private upload(session: Session, media: ResolvedMedia): Promise<Upload> {
    const source = media.path ? `path:${media.path}` : `url:${media.url}`;
    let pending = this.uploads.get(source);
    if (!pending) {
      pending = this.loadAndUpload(session, media);
      this.uploads.set(source, pending);
      pending.catch(() => this.uploads.delete(source));
    }
    return pending;
  }

  private async loadAndUpload(session: Session, media: ResolvedMedia): Promise<Upload> {
    const name = mediaName(media);
    const isVideo = media.kind === 'video';
    const limit = isVideo ? BLUESKY_MAX_VIDEO_BYTES : BLUESKY_MAX_IMAGE_BYTES;
    const limitText = isVideo ? '100 MB' : `${BLUESKY_MAX_IMAGE_BYTES.toLocaleString('en-US')} bytes`;
    const fix = isVideo ? 'shorten or recompress it' : 'resize or recompress it';

    let bytes: Buffer;
    if (media.path) {
      bytes = await readFile(media.path);
    } else if (media.url) {
      const url = media.url;
      bytes = await withRetries(
        `download ${name}`,
        async () => {
          try {
            return (await fetchLimited(url, { fetch: this.client.fetchImpl, timeoutMs: this.config.requestTimeoutMs, maxBytes: limit, overflow: 'error' })).bytes;
          } catch (error) {
            if (error instanceof LimitedFetchError && error.reason === 'too-big') {
              const size = error.size !== undefined ? `${error.size.toLocaleString('en-US')} bytes` : `more than ${limitText}`;
              throw new PublishError(`the ${media.kind} ${name} is ${size}; Bluesky ${media.kind}s must be at most ${limitText}; ${fix}, or link a smaller file`);
            }
            throw new PublishError(`the ${media.kind} ${name} could not be downloaded: ${errorMessage(error)}`, { retryable: error instanceof LimitedFetchError && error.transient });
          }
        },
        this.client.policy,
        this.config.log,
        this.client.clock,
      );
    } else {
      throw new PublishError(`a media item has neither a path nor a url`);
    }

    if (bytes.length > limit) throw new PublishError(`the ${media.kind} ${name} is ${bytes.length.toLocaleString('en-US')} bytes; Bluesky ${media.kind}s must be at most ${limitText}; ${fix}`);
    const mimeType = sniffMimeType(bytes);
    if (mimeType === undefined || (isVideo ? mimeType !== 'video/mp4' : !IMAGE_TYPES.has(mimeType))) {
      throw new PublishError(`the ${media.kind} ${name} is ${mimeType ?? 'not a recognised media type'} (checked by its content); Bluesky takes ${isVideo ? 'MP4 videos' : 'PNG, JPEG, GIF or WebP images'}`);
    }
    const dims = isVideo ? undefined : imageDimensions(bytes);
    const aspectRatio = aspectRatioOf(media.width ?? dims?.width, media.height ?? dims?.height);

    const what = `upload ${name}`;
    this.config.log.info(`${what}: com.atproto.repo.uploadBlob (${bytes.length.toLocaleString('en-US')} bytes, ${mimeType})`);
    // An upload is not a post: uploading the same bytes again yields the same blob.
    const blob = await this.client.uploadBlob(session, what, bytes, mimeType);
    return { blob, ...(aspectRatio ? { aspectRatio } : {}) };
  }

  /** The first link's card; any failure means no card and a warning, never a failed post. */
  private async linkCardEmbed(session: Session, target: PlannedTarget, facets: Facet[], warnings: string[]): Promise<Json | undefined> {
    if (target.options.bluesky?.linkCard === false) return undefined;
    const link = firstLink(facets);
    if (!link) return undefined;
    const timeoutMs = this.config.linkCardTimeoutMs ?? LINK_CARD_TIMEOUT_MS;
    let card;
    try {
      card = await fetchLinkCard(link, { fetch: this.client.fetchImpl, timeoutMs });
    } catch (error) {
      warnings.push(`no link card for ${link}: ${errorMessage(error)}; the post goes out without one`);
      return undefined;
    }
    const external: Json = { uri: card.uri, title: card.title, description: card.description };
    if (card.thumb) {
      const { bytes, mimeType, url } = card.thumb;
      try {
        external.thumb = await this.client.uploadBlob(session, `upload the link card image ${url}`, bytes, mimeType);
      } catch (error) {
        warnings.push(`the link card for ${link} has no image: ${errorMessage(error)}`);
      }
    } else if (card.thumbWarning) {
      warnings.push(`the link card for ${link} has no image: ${card.thumbWarning}`);
    }
    this.config.log.info(`${target.label} → bluesky: link card for ${link}: '${card.title}'${external.thumb ? ' with an image' : ''}`);
    return { $type: 'app.bsky.embed.external', external };
  }
}
