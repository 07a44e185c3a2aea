/**
 * Builds a link card for a post's first link: fetches the page (time limit, byte cap,
 * bounded redirects), reads its Open Graph fields and fetches the preview image within
 * Bluesky's thumbnail limits. Any failure to get the page means no card; a failed image
 * means a card without a thumbnail. The caller uploads the thumbnail.
 */
import { sniffMimeType } from '../../model/media.js';
import { fetchLimited, LimitedFetchError } from '../../io/fetch-limited.js';
import { parseOpenGraph } from './open-graph.js';

export const LINK_CARD_TIMEOUT_MS = 5000;
export const LINK_CARD_PAGE_BYTES = 1_000_000;
export const BLUESKY_MAX_IMAGE_BYTES = 1_000_000;

export interface LinkCardOptions {
  fetch?: typeof fetch;
  timeoutMs?: number;
}

export interface LinkCard {
  uri: string;
  title: string;
  description: string;
  thumb?: { bytes: Buffer; mimeType: string; url: string };
  /** Why the thumbnail is missing, when the page named one. */
  thumbWarning?: string;
}

export class LinkCardError extends Error {
  override readonly name: string = 'LinkCardError';
}

const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

function isHtml(contentType: string | undefined): boolean {
  return contentType === undefined || /^\s*(text\/html|application\/xhtml\+xml)\b/i.test(contentType);
}

function decode(bytes: Buffer, contentType: string | undefined): string {
  const charset = /charset\s*=\s*"?([\w-]+)/i.exec(contentType ?? '')?.[1] ?? /<meta[^>]+charset\s*=\s*["']?([\w-]+)/i.exec(bytes.toString('latin1', 0, 2048))?.[1];
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

export async function fetchLinkCard(uri: string, opts: LinkCardOptions = {}): Promise<LinkCard> {
  const timeoutMs = opts.timeoutMs ?? LINK_CARD_TIMEOUT_MS;
  let page;
  try {
    page = await fetchLimited(uri, { fetch: opts.fetch, timeoutMs, maxBytes: LINK_CARD_PAGE_BYTES, overflow: 'truncate', accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.1' });
  } catch (error) {
    throw new LinkCardError(error instanceof LimitedFetchError ? error.message : `${uri} could not be fetched`);
  }
  if (!isHtml(page.contentType)) throw new LinkCardError(`${uri} is ${page.contentType?.split(';')[0]}, not an HTML page`);
  const meta = parseOpenGraph(decode(page.bytes, page.contentType), page.url);
  if (!meta.title && !meta.description) throw new LinkCardError(`${uri} has no title or description to show`);

  const card: LinkCard = { uri, title: meta.title ?? '', description: meta.description ?? '' };
  if (meta.image) {
    try {
      const image = await fetchLimited(meta.image, { fetch: opts.fetch, timeoutMs, maxBytes: BLUESKY_MAX_IMAGE_BYTES, overflow: 'error', accept: 'image/*' });
      const mimeType = sniffMimeType(image.bytes);
      if (mimeType === undefined || !IMAGE_TYPES.has(mimeType)) card.thumbWarning = `its preview image ${meta.image} is not a PNG, JPEG, GIF or WebP image`;
      else card.thumb = { bytes: image.bytes, mimeType, url: meta.image };
    } catch (error) {
      card.thumbWarning = `its preview image could not be used: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  return card;
}
