/**
 * Images on X: checked before anything is uploaded (JPEG, PNG or WebP, at most 5 MB, alt
 * text at most 1,000 characters), media given by URL fetched here (X takes only uploads),
 * each image uploaded with `POST /2/media/upload` (multipart, `media_category=tweet_image`)
 * and its alt text set with `POST /2/media/metadata`. Video and GIF are not supported by the
 * direct publisher yet (refused in preflight). An upload is no post: retrying one, or a
 * re-run uploading again, leaves at most an unused file that X deletes after a day.
 */
import { openAsBlob } from 'node:fs';
import { basename } from 'node:path';
import { PublishError } from '../../errors.js';
import { fetchLimited, LimitedFetchError } from '../../io/fetch-limited.js';
import { isObject, parseJson, str } from '../../io/json.js';
import { sniffMimeType, type ResolvedMedia } from '../../model/media.js';
import type { PlannedTarget } from '../types.js';
import type { XClient } from './client.js';
import { imageProblems, X_MAX_IMAGE_BYTES } from './media-rules.js';

export interface PreparedImage {
  name: string;
  mimeType: string;
  size: number;
  filename: string;
  alt?: string;
  blob: () => Promise<Blob>;
}

function nameOf(m: ResolvedMedia, i: number): string {
  return m.displayPath ?? m.url ?? `media ${i + 1}`;
}

function refuse(problems: string[]): void {
  if (problems.length > 0) throw new PublishError(`The media cannot be posted to X (nothing was uploaded): ${problems.join('; ')}`, { code: 'rejected' });
}

/** Every image ready to upload, checked before any upload; images given by URL are fetched (5 MB at most). */
export async function prepareImages(client: XClient, target: PlannedTarget): Promise<PreparedImage[]> {
  refuse(imageProblems(target.media.map((m, i) => ({ ...m, name: nameOf(m, i) }))));
  const prepared: PreparedImage[] = [];
  for (const [i, m] of target.media.entries()) {
    const name = nameOf(m, i);
    const alt = m.alt !== undefined ? { alt: m.alt } : {};
    if (m.path !== undefined) {
      const path = m.path;
      const mimeType = m.mimeType ?? 'application/octet-stream';
      prepared.push({ name, mimeType, size: m.size ?? 0, filename: basename(path), ...alt, blob: () => openAsBlob(path, { type: mimeType }) });
      continue;
    }
    if (m.url === undefined) continue;
    const url = m.url;
    const fetched = await client.retrying(`fetch ${url}`, async () => {
      try {
        return await fetchLimited(url, { fetch: client.config.fetch, timeoutMs: client.requestTimeout(), maxBytes: X_MAX_IMAGE_BYTES, overflow: 'error', accept: 'image/*' });
      } catch (error) {
        if (!(error instanceof LimitedFetchError)) throw error;
        throw new PublishError(`media ${error.message}`, { retryable: error.transient, code: error.transient ? 'failed' : 'rejected' });
      }
    });
    const mimeType = sniffMimeType(fetched.bytes.subarray(0, 64 * 1024)) ?? 'application/octet-stream';
    const data = fetched.bytes;
    prepared.push({ name, mimeType, size: data.length, filename: basename(new URL(fetched.url).pathname) || 'image', ...alt, blob: async () => new Blob([new Uint8Array(data)], { type: mimeType }) });
  }
  // Again with what the downloads revealed: the real type and size of images given by URL.
  refuse(imageProblems(prepared.map((p) => ({ ...p, kind: 'image' }))));
  return prepared;
}

/**
 * A lost answer to an upload or to its alt text is no "may have been posted": nothing is
 * posted until the tweet, so the request is simply retried (a lost upload is an unused file).
 */
function noPost<T>(attempt: () => Promise<T>): () => Promise<T> {
  return async () => {
    try {
      return await attempt();
    } catch (error) {
      if (error instanceof PublishError && error.outcomeUnknown) throw new PublishError(error.message, { retryable: error.retryable, code: error.code, cause: error });
      throw error;
    }
  };
}

/** Uploads one image and sets its alt text; returns its media id. */
export async function uploadImage(client: XClient, image: PreparedImage): Promise<string> {
  const what = `upload ${image.name}`;
  client.log.info(`${what}: POST /2/media/upload (${image.size.toLocaleString('en-US')} bytes, ${image.mimeType})`);
  const id = await client.retrying(what, noPost(async () => {
    const form = new FormData();
    form.append('media', await image.blob(), image.filename);
    form.append('media_category', 'tweet_image');
    // Room to send the file at 1 MB/s on top of the usual timeout.
    const response = await client.request(what, 'POST', '/2/media/upload', { form, extraTimeoutMs: Math.ceil(image.size / 1_000_000) * 1000 });
    if (response.status !== 200 && response.status !== 201) throw client.failure(what, response, false);
    const parsed = parseJson(response.body);
    const data = isObject(parsed) && isObject(parsed.data) ? parsed.data : undefined;
    const mediaId = str(data?.id);
    if (mediaId === undefined || !/^\d{1,20}$/.test(mediaId)) throw new PublishError(`${what}: X answered HTTP ${response.status} without a media id`, { retryable: true, code: 'failed' });
    return mediaId;
  }));
  if (image.alt?.trim()) {
    const alt = image.alt;
    await client.retrying(
      `${what}: alt text`,
      noPost(async () => {
        const response = await client.request(`${what}: alt text`, 'POST', '/2/media/metadata', { json: { id, metadata: { alt_text: { text: alt } } } });
        if (response.status !== 200 && response.status !== 201) throw client.failure(`${what}: alt text`, response, false);
      }),
    );
  }
  return id;
}
