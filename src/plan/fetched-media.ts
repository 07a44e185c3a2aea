/**
 * Media downloaded before anything is sent — release assets, images of the release notes —
 * typed from their bytes (GitHub serves assets as `application/octet-stream`, and a URL says
 * nothing reliable), measured, and written to the runner's temporary directory: from then on
 * a local file like any other, which preflight checks per platform before any upload.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { imageDimensions, mediaKindOf, MediaPathError, sniffMimeType, type MediaKind, type ResolvedMedia } from '../model/media.js';

/** Where and how much a post may download before sending: what release assets and notes images share. */
export interface DownloadContext {
  /** The event payload (the release, or the pull request). */
  payload: Record<string, unknown>;
  /** Where downloads are written (RUNNER_TEMP, else the OS temporary directory). */
  tempDir: string;
  /** The largest file any of the post's platforms takes: nothing bigger is downloaded. */
  maxBytes: number;
  /** Not publishing (a preview or a dry run of another event): a missing release is shown, not refused. */
  provisional: boolean;
}

export interface FetchedMedia {
  /** For the preview: `release asset 'screenshot.png'`. */
  name: string;
  /** How messages begin: `names the release asset 'screenshot.png'`. */
  subject: string;
  /** The file name in `tempDir`: made of safe characters, unique within the run. */
  fileName: string;
  tempDir: string;
  /** Where the bytes came from, said when they are not an image or video. */
  source: string;
  /** The kind the post declares, if it does. */
  kind?: MediaKind;
  alt?: string;
  /** The fix when an image has no alt text. */
  noAlt: string;
}

/** The downloaded bytes as a local media file; MediaPathError when they cannot be posted. */
export async function storeFetchedMedia(bytes: Buffer, media: FetchedMedia): Promise<ResolvedMedia> {
  const head = bytes.subarray(0, 64 * 1024);
  const mimeType = sniffMimeType(head);
  if (mimeType === undefined) {
    throw new MediaPathError(`${media.subject}, which is not a PNG, JPEG, GIF, WebP image or an MP4/MOV video (checked by its content: ${media.source}); attach the image or video itself`);
  }
  const kind = mediaKindOf(mimeType);
  if (media.kind !== undefined && media.kind !== kind) throw new MediaPathError(`${media.subject}, declared kind '${media.kind}' but its content is ${mimeType}; fix or remove 'kind'`);
  if (media.alt === undefined && kind === 'image') throw new MediaPathError(`${media.subject}, ${media.noAlt}`);
  const path = join(media.tempDir, media.fileName);
  await writeFile(path, bytes);
  const dims = kind === 'image' ? imageDimensions(head) : undefined;
  return { kind, ...(media.alt !== undefined ? { alt: media.alt } : {}), path, displayPath: media.name, size: bytes.length, mimeType, ...(dims ?? {}) };
}

/** A name from elsewhere (a release, a URL) reduced to characters safe in a file name. */
export function safeFileName(prefix: string, name: string): string {
  return `${prefix}-${name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100)}`;
}
