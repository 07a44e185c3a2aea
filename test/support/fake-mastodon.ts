/**
 * A fake Mastodon server on 127.0.0.1 for the test suite: the parts of the REST API the
 * publisher uses, behaving as Mastodon 4.x does where it matters for "never double-post".
 *
 * - `GET /api/v2/instance`: limits from the options.
 * - `POST /api/v1/statuses`: Idempotency-Key replay as in Mastodon's PostStatusService —
 *   keyed on the account (here: the token) and the key only, checked before validation, so
 *   a repeat gets the ORIGINAL status whatever its body says (other media ids included);
 *   the key is stored only once a status exists, for one hour of the server's clock.
 *   Validation answers 422 `{"error": …}`: blank text, over the character limit (content
 *   warning + text, links counted as `reservedPerUrl`), `scheduled_at` under 5 minutes
 *   ahead, too many / unknown / unprocessed / mixed media. `scheduled_at` gives a
 *   ScheduledStatus. An unknown `in_reply_to_id` is 404.
 * - `POST /api/v2/media`: 200 with a url, or (with `mediaProcessingPolls` N > 0) 202 with
 *   `url: null`; `GET /api/v1/media/:id` answers 206 until the N-th check, then 200.
 *   `DELETE /api/v1/media/:id` removes an unattached upload.
 * - `GET /api/v1/statuses/:id` and `…/:id/context` (`{ancestors, descendants}`), 404 once
 *   deleted; `DELETE /api/v1/statuses/:id` answers the deleted status (with its `text`
 *   source) and 404 for one already deleted; `DELETE /api/v1/scheduled_statuses/:id`
 *   answers `{}`, and 404 once it is gone (deleted, or published at its time). Replies of a
 *   deleted status stay, as on Mastodon. `PUT /api/v1/scheduled_statuses/:id` moves one
 *   (`scheduled_at` only; 422 under 5 minutes ahead, 404 once gone).
 * - Every API answer carries X-RateLimit-Limit/Remaining/Reset (300 per 5 minutes per token
 *   unless `rateLimit` says otherwise); past the limit, 429.
 * - 401 `The access token is invalid` for a wrong token; 403 when the token lacks the scope.
 *
 * The server has its own clock (`advanceClock`) for `created_at`, the Date header, the
 * rate-limit window and the one-hour idempotency window: a test can make time pass.
 *
 * Faults, queued per route, are taken one per request: `reset-before-read` (nothing
 * happens), `http` and `rate-limit` (answered before the handler: nothing stored),
 * `drop-after-commit` and `slow-after-commit` (the handler commits, then the answer is lost
 * or late).
 *
 * Only node:http is used; the server itself is support/http-fake.ts's.
 */
import * as http from 'node:http';
import { FaultQueue, flattenHeaders, graphemeCount, readBody, Sleeps, startOnLoopback } from './http-fake.js';

// ───────────────────────────── public types ─────────────────────────────

export interface FakeMastodonOptions {
  /** The accepted bearer token; default 'mastodon_test_secret_token'. */
  token?: string;
  /** The token's scopes; default ['read', 'write']. */
  scopes?: string[];
  maxCharacters?: number;
  reservedPerUrl?: number;
  maxMediaAttachments?: number;
  imageSizeLimit?: number;
  videoSizeLimit?: number;
  supportedMimeTypes?: string[];
  /** 0 (default): uploads are ready at once (200). N: 202, ready at the N-th GET /api/v1/media/:id. */
  mediaProcessingPolls?: number;
  /** Requests per token per 5-minute window; default 300. */
  rateLimit?: number;
  username?: string;
  /** Error messages echo the request headers verbatim (to prove the client scrubs secrets). */
  echoHeadersInErrors?: boolean;
}

export type MastodonFault =
  /** Answer normally: a placeholder that lets a later fault hit a later request. */
  | { kind: 'none' }
  | { kind: 'reset-before-read' }
  | { kind: 'drop-after-commit' }
  | { kind: 'slow-after-commit'; ms: number }
  | { kind: 'http'; status: number; error?: string; retryAfter?: number }
  /** 429 with X-RateLimit-Remaining 0 and X-RateLimit-Reset `resetInMs` ahead (default 1000). */
  | { kind: 'rate-limit'; resetInMs?: number };

/** statuses = POST /api/v1/statuses, media = POST /api/v2/media, media-check = GET /api/v1/media/:id. */
export type FaultRoute = 'statuses' | 'media' | 'media-check' | 'instance' | 'any';

export interface RecordedRequest {
  method: string;
  path: string;
  /** Lower-cased names. */
  headers: Record<string, string>;
  body: Buffer;
  /** Server clock at arrival. */
  at: number;
}

export interface FakeStatus {
  id: string;
  createdAt: string;
  text: string;
  inReplyToId?: string;
  mediaIds: string[];
  visibility: string;
  language?: string;
  spoilerText: string;
  sensitive: boolean;
  idempotencyKey?: string;
  uri: string;
  url: string;
}

export interface FakeScheduledStatus {
  id: string;
  scheduledAt: string;
  text: string;
  mediaIds: string[];
  idempotencyKey?: string;
  params: Record<string, unknown>;
}

export interface FakeMediaAttachment {
  id: string;
  type: 'image' | 'video' | 'gifv';
  filename: string;
  contentType: string;
  size: number;
  description?: string;
  /** Checks (GET /api/v1/media/:id) still needed before it is processed. */
  pollsLeft: number;
  statusId?: string;
  scheduledStatusId?: string;
  deleted: boolean;
}

export interface FakeMastodon {
  /** e.g. http://127.0.0.1:54321 */
  url: string;
  requests: RecordedRequest[];
  /** Published statuses, in creation order. */
  statuses: FakeStatus[];
  scheduled: FakeScheduledStatus[];
  /** Statuses deleted with DELETE /api/v1/statuses/:id, in deletion order. */
  deletedStatuses: FakeStatus[];
  /** Scheduled statuses cancelled with DELETE /api/v1/scheduled_statuses/:id. */
  cancelledScheduled: FakeScheduledStatus[];
  /** Every upload, deleted ones included (flagged). */
  media: FakeMediaAttachment[];
  /** Queue faults; each request takes the first queued fault whose route matches it. */
  inject(route: FaultRoute, ...faults: MastodonFault[]): void;
  /** Forget every Idempotency-Key (the hour has passed). */
  expireIdempotency(): void;
  /** Move the server's clock forward. */
  advanceClock(ms: number): void;
  /** The server's clock, epoch ms. */
  now(): number;
  close(): Promise<void>;
}

// ───────────────────────────── constants and helpers ─────────────────────────────

const DEFAULT_TOKEN = 'mastodon_test_secret_token';
const IDEMPOTENCY_TTL_MS = 3600_000;
const MIN_SCHEDULE_OFFSET_MS = 5 * 60_000;
const RATE_WINDOW_MS = 5 * 60_000;
const MASTODON_EPOCH_SHIFT = 16n;
const DEFAULT_MIME_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/heic', 'image/avif', 'video/webm', 'video/mp4', 'video/quicktime', 'video/ogg', 'audio/mpeg', 'audio/ogg'];
const URL_IN_TEXT = /https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]}]/g;

type Json = Record<string, unknown>;

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A request answered with an error; thrown by handlers. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

interface FormPart {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

function parseMultipart(body: Buffer, contentType: string): FormPart[] {
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary) throw new HttpError(422, 'Validation failed: File can\'t be blank');
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: FormPart[] = [];
  let pos = body.indexOf(delimiter);
  while (pos >= 0) {
    pos += delimiter.length;
    if (body.subarray(pos, pos + 2).toString() === '--') break;
    const headerEnd = body.indexOf('\r\n\r\n', pos);
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`), headerEnd);
    if (headerEnd < 0 || next < 0) break;
    const head = body.subarray(pos + 2, headerEnd).toString('utf8');
    const name = /name="([^"]*)"/i.exec(head)?.[1];
    const filename = /filename="([^"]*)"/i.exec(head)?.[1];
    const type = /content-type:\s*([^\r\n]+)/i.exec(head)?.[1];
    if (name !== undefined) parts.push({ name, ...(filename !== undefined ? { filename } : {}), ...(type !== undefined ? { contentType: type.trim() } : {}), data: body.subarray(headerEnd + 4, next) });
    pos = next + 2;
  }
  return parts;
}

/** JSON or form-encoded (`media_ids[]=…`) status parameters. */
function parseParams(body: Buffer, contentType: string): Json {
  if (contentType.includes('application/json')) {
    try {
      const parsed: unknown = JSON.parse(body.toString('utf8') || '{}');
      if (isObj(parsed)) return parsed;
    } catch {
      // falls through
    }
    throw new HttpError(400, 'Error occurred while parsing request parameters.');
  }
  const out: Json = {};
  for (const [name, value] of new URLSearchParams(body.toString('utf8'))) {
    if (name.endsWith('[]')) {
      const key = name.slice(0, -2);
      out[key] = [...(Array.isArray(out[key]) ? out[key] : []), value];
    } else out[name] = value;
  }
  return out;
}

// ───────────────────────────── the server ─────────────────────────────

export async function startFakeMastodon(opts: FakeMastodonOptions = {}): Promise<FakeMastodon> {
  const token = opts.token ?? DEFAULT_TOKEN;
  const scopes = opts.scopes ?? ['read', 'write'];
  const maxCharacters = opts.maxCharacters ?? 500;
  const reservedPerUrl = opts.reservedPerUrl ?? 23;
  const maxMedia = opts.maxMediaAttachments ?? 4;
  const imageSizeLimit = opts.imageSizeLimit ?? 16 * 1024 * 1024;
  const videoSizeLimit = opts.videoSizeLimit ?? 99 * 1024 * 1024;
  const mimeTypes = opts.supportedMimeTypes ?? DEFAULT_MIME_TYPES;
  const processingPolls = opts.mediaProcessingPolls ?? 0;
  const rateLimit = opts.rateLimit ?? 300;
  const username = opts.username ?? 'release-bot';

  const requests: RecordedRequest[] = [];
  const statuses: FakeStatus[] = [];
  const scheduled: FakeScheduledStatus[] = [];
  const media: FakeMediaAttachment[] = [];
  const deletedStatuses: FakeStatus[] = [];
  const cancelledScheduled: FakeScheduledStatus[] = [];
  const faults = new FaultQueue<Exclude<FaultRoute, 'any'>, MastodonFault>();
  const idempotency = new Map<string, { kind: 'status' | 'scheduled'; id: string; storedAt: number }>();
  const rateWindows = new Map<string, { end: number; count: number }>();
  const sleeps = new Sleeps();
  let offsetMs = 0;
  let sequence = 0;
  let scheduledSequence = 100;
  let base = '';

  const now = () => Date.now() + offsetMs;
  /** Mastodon ids: milliseconds shifted left 16 bits, plus a sequence. */
  const snowflake = () => ((BigInt(now()) << MASTODON_EPOCH_SHIFT) | BigInt(++sequence & 0xffff)).toString();

  // ── rendering ──
  function renderMedia(m: FakeMediaAttachment): Json {
    const ready = m.pollsLeft === 0;
    return {
      id: m.id,
      type: m.type,
      url: ready ? `${base}/system/media_attachments/files/${m.id}/original/${m.filename}` : null,
      preview_url: `${base}/system/media_attachments/files/${m.id}/small/${m.filename}`,
      remote_url: null,
      meta: {},
      description: m.description ?? null,
      blurhash: 'UFBWY:8_0Jxv4mx]t8t64.%M-:IUWGWAt6M}',
    };
  }

  function renderStatus(s: FakeStatus): Json {
    const parent = s.inReplyToId ? statuses.find((p) => p.id === s.inReplyToId) : undefined;
    return {
      id: s.id,
      created_at: s.createdAt,
      in_reply_to_id: s.inReplyToId ?? null,
      in_reply_to_account_id: parent ? '1' : null,
      sensitive: s.sensitive,
      spoiler_text: s.spoilerText,
      visibility: s.visibility,
      language: s.language ?? 'en',
      uri: s.uri,
      url: s.url,
      replies_count: statuses.filter((r) => r.inReplyToId === s.id).length,
      reblogs_count: 0,
      favourites_count: 0,
      content: `<p>${escapeHtml(s.text).replace(/\n/g, '<br />')}</p>`,
      reblog: null,
      application: { name: 'letmepost-action', website: null },
      account: { id: '1', username, acct: username, url: `${base}/@${username}` },
      media_attachments: s.mediaIds.map((id) => renderMedia(media.find((m) => m.id === id)!)),
      mentions: [],
      tags: [],
      emojis: [],
      card: null,
      poll: null,
    };
  }

  function renderScheduled(s: FakeScheduledStatus): Json {
    return { id: s.id, scheduled_at: s.scheduledAt, params: s.params, media_attachments: s.mediaIds.map((id) => renderMedia(media.find((m) => m.id === id)!)) };
  }

  function instance(): Json {
    return {
      domain: new URL(base).host,
      title: 'Fake Mastodon',
      version: '4.3.0',
      source_url: 'https://github.com/mastodon/mastodon',
      description: 'A fake Mastodon server for tests.',
      languages: ['en'],
      configuration: {
        urls: { streaming: base.replace(/^http/, 'ws') },
        accounts: { max_featured_tags: 10 },
        statuses: { max_characters: maxCharacters, max_media_attachments: maxMedia, characters_reserved_per_url: reservedPerUrl },
        media_attachments: {
          supported_mime_types: mimeTypes,
          image_size_limit: imageSizeLimit,
          image_matrix_limit: 33177600,
          video_size_limit: videoSizeLimit,
          video_frame_rate_limit: 120,
          video_matrix_limit: 8294400,
        },
        polls: { max_options: 4, max_characters_per_option: 50, min_expiration: 300, max_expiration: 2629746 },
        translation: { enabled: false },
      },
      registrations: { enabled: false, approval_required: false, message: null },
      contact: { email: 'admin@example.invalid', account: null },
      rules: [],
    };
  }

  // ── auth ──
  function authorize(headers: Record<string, string>, scope: string): void {
    const given = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '')?.[1];
    if (given !== token) throw new HttpError(401, 'The access token is invalid');
    const [group] = scope.split(':');
    if (!scopes.includes(scope) && !scopes.includes(group!)) throw new HttpError(403, 'This action is outside the authorized scopes');
  }

  // ── statuses ──
  function countable(text: string, spoiler: string): number {
    return graphemeCount(spoiler + text.replace(URL_IN_TEXT, 'x'.repeat(reservedPerUrl)));
  }

  function createStatus(headers: Record<string, string>, body: Buffer): Reply {
    authorize(headers, 'write:statuses');
    const params = parseParams(body, headers['content-type'] ?? '');
    const text = typeof params.status === 'string' ? params.status : '';
    const inReplyToId = params.in_reply_to_id === undefined || params.in_reply_to_id === null ? undefined : String(params.in_reply_to_id);
    if (inReplyToId !== undefined && !statuses.some((s) => s.id === inReplyToId)) throw new HttpError(404, 'Record not found');
    const scheduledAtRaw = typeof params.scheduled_at === 'string' && params.scheduled_at !== '' ? params.scheduled_at : undefined;

    // Idempotency: before validation, keyed on the account and the key only.
    const key = headers['idempotency-key'];
    const slot = key ? `${token}\u0000${key}` : undefined;
    const stored = slot ? idempotency.get(slot) : undefined;
    if (slot && stored && now() - stored.storedAt < IDEMPOTENCY_TTL_MS) {
      // The table searched follows *this* request, as in Mastodon.
      if (scheduledAtRaw !== undefined) {
        const found = scheduled.find((s) => s.id === stored.id && stored.kind === 'scheduled');
        if (!found) throw new HttpError(404, 'Record not found');
        return { status: 200, body: renderScheduled(found) };
      }
      const found = statuses.find((s) => s.id === stored.id && stored.kind === 'status');
      if (!found) throw new HttpError(404, 'Record not found');
      return { status: 200, body: renderStatus(found) };
    }

    const mediaIds = Array.isArray(params.media_ids) ? params.media_ids.map(String) : [];
    if (mediaIds.length > maxMedia) throw new HttpError(422, `Cannot attach more than ${maxMedia} files`);
    const attachments = mediaIds.map((id) => media.find((m) => m.id === id && !m.deleted && m.statusId === undefined && m.scheduledStatusId === undefined));
    const missing = mediaIds.filter((_, i) => attachments[i] === undefined);
    if (missing.length > 0) throw new HttpError(422, `Media ${missing.join(', ')} not found`);
    const found = attachments as FakeMediaAttachment[];
    if (found.length > 1 && found.some((m) => m.type !== 'image')) throw new HttpError(422, 'Cannot attach a video to a post that already contains images');
    if (found.some((m) => m.pollsLeft > 0)) throw new HttpError(422, 'Cannot attach files that have not finished processing. Try again in a moment!');
    if (text.trim() === '' && found.length === 0) throw new HttpError(422, "Validation failed: Text can't be blank");
    const spoilerText = typeof params.spoiler_text === 'string' ? params.spoiler_text : '';
    if (countable(text, spoilerText) > maxCharacters) throw new HttpError(422, `Validation failed: Text character limit of ${maxCharacters} exceeded`);
    const visibility = typeof params.visibility === 'string' ? params.visibility : 'public';
    if (!['public', 'unlisted', 'private', 'direct'].includes(visibility)) throw new HttpError(422, 'Validation failed: Visibility is not included in the list');
    const language = typeof params.language === 'string' ? params.language : undefined;
    const sensitive = params.sensitive === true || params.sensitive === 'true';

    if (scheduledAtRaw !== undefined) {
      const at = Date.parse(scheduledAtRaw);
      if (Number.isNaN(at)) throw new HttpError(422, 'Validation failed: Scheduled at is invalid');
      if (at <= now() + MIN_SCHEDULE_OFFSET_MS) throw new HttpError(422, 'Validation failed: Scheduled at The scheduled date must be in the future');
      const id = String(++scheduledSequence);
      const record: FakeScheduledStatus = {
        id,
        scheduledAt: new Date(at).toISOString(),
        text,
        mediaIds,
        ...(key ? { idempotencyKey: key } : {}),
        params: {
          text,
          poll: null,
          media_ids: mediaIds.length > 0 ? mediaIds : null,
          sensitive: params.sensitive ?? null,
          visibility: params.visibility ?? null,
          language: language ?? null,
          spoiler_text: params.spoiler_text ?? null,
          scheduled_at: null,
          idempotency: key ?? null,
          in_reply_to_id: inReplyToId ?? null,
          application_id: 7,
        },
      };
      scheduled.push(record);
      for (const m of found) m.scheduledStatusId = id;
      if (slot) idempotency.set(slot, { kind: 'scheduled', id, storedAt: now() });
      return { status: 200, body: renderScheduled(record) };
    }

    const id = snowflake();
    const status: FakeStatus = {
      id,
      createdAt: new Date(now()).toISOString(),
      text,
      ...(inReplyToId !== undefined ? { inReplyToId } : {}),
      mediaIds,
      visibility,
      ...(language !== undefined ? { language } : {}),
      spoilerText,
      sensitive,
      ...(key ? { idempotencyKey: key } : {}),
      uri: `${base}/users/${username}/statuses/${id}`,
      url: `${base}/@${username}/${id}`,
    };
    statuses.push(status);
    for (const m of found) m.statusId = id;
    if (slot) idempotency.set(slot, { kind: 'status', id, storedAt: now() });
    return { status: 200, body: renderStatus(status) };
  }

  // ── media ──
  function uploadMedia(headers: Record<string, string>, body: Buffer): Reply {
    authorize(headers, 'write:media');
    const parts = parseMultipart(body, headers['content-type'] ?? '');
    const file = parts.find((p) => p.name === 'file' && p.filename !== undefined);
    if (!file) throw new HttpError(422, "Validation failed: File can't be blank");
    const contentType = file.contentType ?? 'application/octet-stream';
    if (!mimeTypes.includes(contentType)) throw new HttpError(422, 'Validation failed: File content type is invalid, File is invalid');
    const kind = contentType.startsWith('video/') ? 'video' : 'image';
    const cap = kind === 'video' ? videoSizeLimit : imageSizeLimit;
    if (file.data.length > cap) throw new HttpError(422, `Validation failed: File file size must be less than ${Math.floor(cap / 1024 / 1024)} MB`);
    const description = parts.find((p) => p.name === 'description')?.data.toString('utf8');
    const attachment: FakeMediaAttachment = {
      id: snowflake(),
      type: contentType === 'image/gif' ? 'gifv' : kind,
      filename: file.filename!,
      contentType,
      size: file.data.length,
      ...(description !== undefined ? { description } : {}),
      pollsLeft: processingPolls,
      deleted: false,
    };
    media.push(attachment);
    return { status: processingPolls > 0 ? 202 : 200, body: renderMedia(attachment) };
  }

  function findMedia(id: string): FakeMediaAttachment {
    const m = media.find((x) => x.id === id && !x.deleted);
    if (!m) throw new HttpError(404, 'Record not found');
    return m;
  }

  function checkMedia(headers: Record<string, string>, id: string): Reply {
    authorize(headers, 'write:media');
    const m = findMedia(id);
    if (m.pollsLeft > 0) m.pollsLeft--;
    return { status: m.pollsLeft === 0 ? 200 : 206, body: renderMedia(m) };
  }

  function deleteMedia(headers: Record<string, string>, id: string): Reply {
    authorize(headers, 'write:media');
    const m = findMedia(id);
    if (m.statusId !== undefined || m.scheduledStatusId !== undefined) throw new HttpError(422, 'Media attachment is currently used by a status');
    m.deleted = true;
    return { status: 200, body: {} };
  }

  // ── reading and deleting statuses ──
  function findStatus(id: string): FakeStatus {
    const status = statuses.find((x) => x.id === id);
    if (!status) throw new HttpError(404, 'Record not found');
    return status;
  }

  function statusContext(headers: Record<string, string>, id: string): Reply {
    authorize(headers, 'read:statuses');
    const status = findStatus(id);
    const ancestors: FakeStatus[] = [];
    for (let parent = status.inReplyToId; parent !== undefined; ) {
      const found = statuses.find((x) => x.id === parent);
      if (!found) break;
      ancestors.unshift(found);
      parent = found.inReplyToId;
    }
    const descendants: FakeStatus[] = [];
    const walk = (of: string) => {
      for (const reply of statuses.filter((x) => x.inReplyToId === of)) {
        descendants.push(reply);
        walk(reply.id);
      }
    };
    walk(id);
    return { status: 200, body: { ancestors: ancestors.map(renderStatus), descendants: descendants.map(renderStatus) } };
  }

  function deleteStatus(headers: Record<string, string>, id: string): Reply {
    authorize(headers, 'write:statuses');
    const status = findStatus(id);
    statuses.splice(statuses.indexOf(status), 1);
    deletedStatuses.push(status);
    return { status: 200, body: { ...renderStatus(status), text: status.text } };
  }

  function cancelScheduled(headers: Record<string, string>, id: string): Reply {
    authorize(headers, 'write:statuses');
    const found = scheduled.find((x) => x.id === id);
    if (!found) throw new HttpError(404, 'Record not found');
    scheduled.splice(scheduled.indexOf(found), 1);
    cancelledScheduled.push(found);
    for (const m of media) if (m.scheduledStatusId === id) m.deleted = true;
    return { status: 200, body: {} };
  }

  function rescheduleScheduled(headers: Record<string, string>, id: string, body: Buffer): Reply {
    authorize(headers, 'write:statuses');
    const found = scheduled.find((x) => x.id === id);
    if (!found) throw new HttpError(404, 'Record not found');
    const params = parseParams(body, headers['content-type'] ?? '');
    const at = typeof params.scheduled_at === 'string' ? Date.parse(params.scheduled_at) : Number.NaN;
    if (Number.isNaN(at)) throw new HttpError(422, 'Validation failed: Scheduled at is invalid');
    if (at <= now() + MIN_SCHEDULE_OFFSET_MS) throw new HttpError(422, 'Validation failed: Scheduled at The scheduled date must be in the future');
    found.scheduledAt = new Date(at).toISOString();
    return { status: 200, body: renderScheduled(found) };
  }

  // ── routing ──
  function routeOf(method: string, path: string): Exclude<FaultRoute, 'any'> | undefined {
    if (method === 'POST' && path === '/api/v1/statuses') return 'statuses';
    if (method === 'POST' && path === '/api/v2/media') return 'media';
    if (method === 'GET' && /^\/api\/v1\/media\/[^/]+$/.test(path)) return 'media-check';
    if (method === 'GET' && path === '/api/v2/instance') return 'instance';
    return undefined;
  }

  function handle(method: string, path: string, headers: Record<string, string>, body: Buffer): Reply {
    if (method === 'GET' && path === '/api/v2/instance') return { status: 200, body: instance() };
    if (method === 'POST' && path === '/api/v1/statuses') return createStatus(headers, body);
    if (method === 'POST' && path === '/api/v2/media') return uploadMedia(headers, body);
    const mediaId = /^\/api\/v1\/media\/([^/]+)$/.exec(path)?.[1];
    if (mediaId !== undefined && method === 'GET') return checkMedia(headers, decodeURIComponent(mediaId));
    if (mediaId !== undefined && method === 'DELETE') return deleteMedia(headers, decodeURIComponent(mediaId));
    const statusPath = /^\/api\/v1\/statuses\/([^/]+)(\/context)?$/.exec(path);
    if (statusPath && method === 'GET' && statusPath[2]) return statusContext(headers, decodeURIComponent(statusPath[1]!));
    if (statusPath && method === 'GET') {
      authorize(headers, 'read:statuses');
      return { status: 200, body: renderStatus(findStatus(decodeURIComponent(statusPath[1]!))) };
    }
    if (statusPath && !statusPath[2] && method === 'DELETE') return deleteStatus(headers, decodeURIComponent(statusPath[1]!));
    const scheduledId = /^\/api\/v1\/scheduled_statuses\/([^/]+)$/.exec(path)?.[1];
    if (scheduledId !== undefined && method === 'DELETE') return cancelScheduled(headers, decodeURIComponent(scheduledId));
    if (scheduledId !== undefined && method === 'PUT') return rescheduleScheduled(headers, decodeURIComponent(scheduledId), body);
    throw new HttpError(404, 'Not Found');
  }

  function rateHeaders(headers: Record<string, string>): { headers: Record<string, string>; exceeded: boolean } {
    const who = headers.authorization ?? 'anonymous';
    const t = now();
    let window = rateWindows.get(who);
    if (!window || t >= window.end) {
      window = { end: (Math.floor(t / RATE_WINDOW_MS) + 1) * RATE_WINDOW_MS, count: 0 };
      rateWindows.set(who, window);
    }
    window.count++;
    return {
      headers: { 'x-ratelimit-limit': String(rateLimit), 'x-ratelimit-remaining': String(Math.max(0, rateLimit - window.count)), 'x-ratelimit-reset': new Date(window.end).toISOString() },
      exceeded: window.count > rateLimit,
    };
  }

  function send(res: http.ServerResponse, reply: Reply, headers: Record<string, string>): void {
    const body = reply.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(reply.body));
    res.writeHead(reply.status, { date: new Date(now()).toUTCString(), 'content-type': 'application/json; charset=utf-8', 'content-length': String(body.length), ...headers, ...reply.headers });
    res.end(body);
  }

  function errorReply(status: number, message: string, headers: Record<string, string>): Reply {
    return { status, body: { error: opts.echoHeadersInErrors ? `${message} (request headers: ${JSON.stringify(headers)})` : message } };
  }

  const server = http.createServer((req, res) => {
    void (async () => {
      const method = req.method ?? 'GET';
      const path = (req.url ?? '/').split('?')[0]!;
      const headers = flattenHeaders(req.headers);
      const route = routeOf(method, path);
      const fault = faults.take(route);
      if (fault?.kind === 'reset-before-read') {
        requests.push({ method, path, headers, body: Buffer.alloc(0), at: now() });
        req.socket.destroy();
        return;
      }
      const body = await readBody(req);
      requests.push({ method, path, headers, body, at: now() });
      const rate = rateHeaders(headers);

      if (fault?.kind === 'http') {
        const reply = errorReply(fault.status, fault.error ?? (fault.status >= 500 ? 'There was a temporary problem serving your request, please try again' : `Injected HTTP ${fault.status}`), headers);
        send(res, reply, { ...rate.headers, ...(fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {}) });
        return;
      }
      if (fault?.kind === 'rate-limit' || rate.exceeded) {
        const reset = fault?.kind === 'rate-limit' ? new Date(now() + (fault.resetInMs ?? 1000)).toISOString() : rate.headers['x-ratelimit-reset']!;
        send(res, errorReply(429, 'Too many requests', headers), { ...rate.headers, 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset });
        return;
      }

      let reply: Reply;
      try {
        reply = handle(method, path, headers, body);
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        reply = errorReply(error.status, error.message, headers);
      }
      if (fault?.kind === 'drop-after-commit') {
        req.socket.destroy();
        return;
      }
      if (fault?.kind === 'slow-after-commit') {
        await sleeps.sleep(fault.ms);
        if (req.socket.destroyed) return;
      }
      send(res, reply, rate.headers);
    })().catch((error: unknown) => {
      if (!res.headersSent) send(res, { status: 500, body: { error: `fake mastodon: ${String(error)}` } }, {});
    });
  });
  const loopback = await startOnLoopback(server);
  base = loopback.url;

  return {
    url: base,
    requests,
    statuses,
    scheduled,
    deletedStatuses,
    cancelledScheduled,
    media,
    inject(route, ...list) {
      faults.inject(route, ...list);
    },
    expireIdempotency() {
      idempotency.clear();
    },
    advanceClock(ms) {
      offsetMs += ms;
    },
    now,
    async close() {
      sleeps.wakeAll();
      await loopback.close();
    },
  };
}
