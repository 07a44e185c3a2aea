/**
 * Media on Mastodon: checked against the instance's limits before anything is uploaded (so a
 * refused item costs no upload), media given by URL fetched here (Mastodon takes only
 * uploads), each item uploaded and waited for while the instance processes it, and the
 * uploads of a replayed status deleted again.
 */
import { openAsBlob } from 'node:fs';
import { basename } from 'node:path';
import { PublishError } from '../../errors.js';
import { fetchLimited, LimitedFetchError } from '../../io/fetch-limited.js';
import type { HttpResponse } from '../../io/http.js';
import { compact, isObject, parseJson, str } from '../../io/json.js';
import { mediaKindOf, sniffMimeType, type MediaKind, type ResolvedMedia } from '../../model/media.js';
import { redact } from '../../secrets.js';
import { countGraphemes } from '../../text/length.js';
import type { PlannedTarget } from '../types.js';
import type { MastodonClient } from './client.js';
import type { InstanceLimits } from './instance.js';

/** Caps for downloading media given by URL when the instance states no size limit. */
const FALLBACK_IMAGE_BYTES = 16 * 1024 * 1024;
const FALLBACK_VIDEO_BYTES = 99 * 1024 * 1024;

export function bytes(n: number): string {
  return `${n.toLocaleString('en-US')} bytes`;
}

/** What is known of a media item before upload. */
export interface MediaFacts {
  name: string;
  kind: MediaKind;
  mimeType?: string;
  size?: number;
  alt?: string;
}

/** A media item ready to upload. */
export interface PreparedMedia extends MediaFacts {
  mimeType: string;
  size: number;
  filename: string;
  blob: () => Promise<Blob>;
}

/** The facts of item i of a post, named as the user gave it. */
export function mediaFacts(m: ResolvedMedia, i: number): MediaFacts {
  return compact({ name: m.displayPath ?? m.url ?? `media ${i + 1}`, kind: m.kind, mimeType: m.mimeType, size: m.size, alt: m.alt });
}

/** Every reason the instance would refuse these media; empty when they fit. */
export function mediaProblems(media: MediaFacts[], limits: InstanceLimits, host: string): string[] {
  const problems: string[] = [];
  const images = media.filter((m) => m.kind === 'image').length;
  const videos = media.length - images;
  if (images > 0 && videos > 0) problems.push(`the post mixes images and a video; Mastodon takes either up to ${limits.maxMediaAttachments} images or one video`);
  if (videos > 1) problems.push(`the post has ${videos} videos; Mastodon takes one`);
  if (media.length > limits.maxMediaAttachments) problems.push(`the post has ${media.length} media items; ${host} takes at most ${limits.maxMediaAttachments}; remove ${media.length - limits.maxMediaAttachments}`);
  for (const m of media) {
    if (m.mimeType && limits.supportedMimeTypes && !limits.supportedMimeTypes.includes(m.mimeType)) {
      problems.push(`'${m.name}' is ${m.mimeType}, which ${host} does not accept; convert it to one of ${limits.supportedMimeTypes.filter((t) => t.startsWith(`${m.kind}/`)).join(', ')}`);
    }
    const cap = m.kind === 'image' ? limits.imageSizeLimit : limits.videoSizeLimit;
    if (m.size !== undefined && cap !== undefined && m.size > cap) {
      problems.push(`'${m.name}' is ${bytes(m.size)}; ${host} takes ${m.kind}s up to ${bytes(cap)}; ${m.kind === 'image' ? 'resize or recompress it' : 'shorten or recompress it'}`);
    }
    if (m.alt !== undefined && countGraphemes(m.alt) > limits.descriptionLimit) {
      problems.push(`the alt text of '${m.name}' is ${countGraphemes(m.alt)} characters; ${host} allows ${limits.descriptionLimit}; shorten it`);
    }
  }
  return problems;
}

function refuseMedia(problems: string[], host: string): void {
  if (problems.length === 0) return;
  throw new PublishError(`The media cannot be posted to ${host} (nothing was uploaded): ${problems.join('; ')}`, { code: 'rejected' });
}

/** Checks every item against the instance's limits, fetching media given by URL, before any upload. */
export async function prepareMedia(client: MastodonClient, target: PlannedTarget, limits: InstanceLimits): Promise<PreparedMedia[]> {
  refuseMedia(mediaProblems(target.media.map(mediaFacts), limits, client.host), client.host);
  const prepared: PreparedMedia[] = [];
  for (const [i, m] of target.media.entries()) {
    const facts = mediaFacts(m, i);
    if (m.path !== undefined) {
      const path = m.path;
      const mimeType = m.mimeType ?? 'application/octet-stream';
      prepared.push({ ...facts, mimeType, size: m.size ?? 0, filename: basename(path), blob: () => openAsBlob(path, { type: mimeType }) });
    } else if (m.url !== undefined) {
      prepared.push(await download(client, m.url, facts, limits));
    }
  }
  // Again with what the downloads revealed: the real type and size of media given by URL.
  refuseMedia(mediaProblems(prepared, limits, client.host), client.host);
  return prepared;
}

/** Media given by URL are fetched (size-capped) and typed from their bytes, since Mastodon takes only uploads. */
async function download(client: MastodonClient, url: string, facts: MediaFacts, limits: InstanceLimits): Promise<PreparedMedia> {
  const what = `fetch ${url}`;
  const maxBytes = Math.max(limits.imageSizeLimit ?? FALLBACK_IMAGE_BYTES, limits.videoSizeLimit ?? FALLBACK_VIDEO_BYTES);
  const fetched = await client.retrying(what, async () => {
    try {
      return await fetchLimited(url, { fetch: client.config.fetch, timeoutMs: client.requestTimeout(), maxBytes, overflow: 'error', accept: 'image/*,video/*' });
    } catch (error) {
      if (!(error instanceof LimitedFetchError)) throw error;
      throw new PublishError(`media ${error.message}`, { retryable: error.transient, code: error.transient ? 'failed' : 'rejected' });
    }
  });
  const mimeType = sniffMimeType(fetched.bytes.subarray(0, 64 * 1024));
  if (mimeType === undefined) {
    throw new PublishError(`media '${url}' is not a PNG, JPEG, GIF, WebP image or an MP4/MOV video (checked by its content); link the file itself, not a page showing it`, { code: 'rejected' });
  }
  const data = fetched.bytes;
  const name = basename(new URL(fetched.url).pathname) || 'media';
  return { ...facts, kind: mediaKindOf(mimeType), mimeType, size: data.length, filename: name, blob: async () => new Blob([new Uint8Array(data)], { type: mimeType }) };
}

/** Uploads one item (`POST /api/v2/media`) and waits until Mastodon has processed it; returns its id. */
export async function uploadMedia(client: MastodonClient, m: PreparedMedia): Promise<string> {
  const what = `upload ${m.name}`;
  client.log.info(`${what}: POST /api/v2/media (${bytes(m.size)}, ${m.mimeType})`);
  // Not idempotent, but a duplicate upload is only an unused file on the server, never a
  // duplicate post: safe to retry.
  const attachment = await client.retrying(what, async () => {
    const form = new FormData();
    form.append('file', await m.blob(), m.filename);
    if (m.alt !== undefined) form.append('description', m.alt);
    // Room to send the file at 1 MB/s on top of the usual timeout.
    const response = await client.request(what, 'POST', '/api/v2/media', { body: form, extraTimeoutMs: Math.ceil(m.size / 1_000_000) * 1000 });
    if (response.status !== 200 && response.status !== 202) throw client.failure(what, response);
    const parsed = parseJson(response.body);
    const id = isObject(parsed) ? str(parsed.id) : undefined;
    if (!id || !isObject(parsed)) throw new PublishError(`${what}: ${client.host} answered HTTP ${response.status} without a media id`, { retryable: true, code: 'failed' });
    return { id, ready: response.status === 200 && str(parsed.url) !== undefined };
  });
  if (!attachment.ready) await untilProcessed(client, m.name, attachment.id);
  return attachment.id;
}

/** Polls `GET /api/v1/media/:id` until the attachment has its `url` (206 while processing). */
async function untilProcessed(client: MastodonClient, name: string, id: string): Promise<void> {
  const interval = client.config.mediaPollIntervalMs ?? 1000;
  const what = `GET /api/v1/media/${id}`;
  for (let checks = 0; ; checks++) {
    if (client.clock.now() + interval >= client.config.deadline) {
      throw new PublishError(`${client.host} was still processing '${name}' when the step's deadline came (${checks} checks); nothing was posted: re-run the job, or raise 'timeout-seconds'`, { code: 'failed' });
    }
    await client.clock.sleep(interval);
    let response: HttpResponse;
    try {
      response = await client.request(what, 'GET', `/api/v1/media/${encodeURIComponent(id)}`);
    } catch (error) {
      if (!(error instanceof PublishError) || !error.retryable) throw error;
      client.log.warning(`${error.message}; checking again`);
      continue;
    }
    if (response.status === 200) {
      const parsed = parseJson(response.body);
      if (isObject(parsed) && str(parsed.url)) return;
      continue;
    }
    if (response.status === 206) continue;
    const error = client.failure(what, response);
    if (!error.retryable) {
      throw new PublishError(redact(`${client.host} could not process '${name}': ${error.message}`), { code: error.code });
    }
    client.log.warning(`${error.message}; checking again`);
    if (error.retryAfterMs && error.retryAfterMs > interval) await client.clock.sleep(error.retryAfterMs - interval);
  }
}

/** After a replay the status carries the earlier run's media: this run's uploads are deleted. */
export async function discardUploads(client: MastodonClient, what: string, ids: string[]): Promise<void> {
  client.log.info(`${what}: an earlier run posted this status with its own media; deleting the ${ids.length} file(s) uploaded again by this run`);
  for (const id of ids) {
    try {
      const response = await client.request(`DELETE /api/v1/media/${id}`, 'DELETE', `/api/v1/media/${encodeURIComponent(id)}`);
      // Servers before 4.4 have no DELETE: the file is removed with other unused uploads.
      if (response.status >= 300) client.log.debug(`DELETE /api/v1/media/${id}: HTTP ${response.status}; the server removes unused uploads itself`);
    } catch (error) {
      client.log.debug(`DELETE /api/v1/media/${id}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
