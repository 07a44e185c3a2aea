/**
 * A fake letmepost API on 127.0.0.1 for the test suite.
 *
 * It implements the contract in /work/shared/letmepost-api.md (and the spec page for
 * `POST /v1/posts`) closely enough that the publisher can be tested against real HTTP,
 * and it can inject faults: dropped connections before or after the commit, slow
 * answers, error envelopes, in-body `failed`/`rejected` statuses, broken JSON.
 *
 * Model of a request (mirrors the real server's middleware order):
 *   1. arrival: recorded in `requests`; one queued fault (if any matches) is taken.
 *      `reset-before-read` destroys the socket here.
 *   2. the body is read; auth (`401 unauthenticated`, never stored).
 *   3. "front" faults answer here, before idempotency: `status` with http >= 500 or
 *      code `rate_limited` (the limiter / a gateway), and `in-progress`. Never stored.
 *   4. idempotency (writes on /v1/posts only): key 1–128 chars, replay / body_mismatch /
 *      in_progress, else the key is claimed.
 *   5. the handler: a `status` fault with http < 500 (e.g. quota_exceeded) answers here and
 *      is stored; otherwise validation, then the post is committed (`failed-status` and
 *      `rejected-status` turn the platform call into a failure).
 *   6. delivery: `slow-after-commit` waits (the key stays in progress meanwhile), then the
 *      idempotency record is finalised (stored if < 500 and not the limiter's 429), then
 *      `drop-after-commit` destroys the socket, `malformed-json` sends a broken 200, or the
 *      real answer goes out.
 *
 * Only node:http and node:crypto are used.
 */
import * as http from 'node:http';
import { createHash, randomBytes, randomUUID } from 'node:crypto';

// ───────────────────────────── public types ─────────────────────────────

export interface FakeAccount {
  id: string;
  platform: string;
  displayName?: string;
}

export interface FakeLetmepostOptions {
  /** Accepted bearer token; default 'lmp_test_secret_token'. */
  token?: string;
  /** Known connected accounts; default DEFAULT_ACCOUNTS (one per platform). */
  accounts?: ReadonlyArray<FakeAccount>;
  /** Emulate the newer server: the single `account` shape gets 400 validation_failed, rule `targets.required`. */
  batchOnly?: boolean;
  /** Error bodies echo every request header verbatim (in `error.requestHeaders` and in `error.message`). */
  echoHeadersInErrors?: boolean;
}

export type Fault =
  | { kind: 'reset-before-read' }
  | { kind: 'drop-after-commit' }
  | { kind: 'slow-after-commit'; ms: number }
  | { kind: 'status'; http: number; code: string; rule?: string; retryAfter?: number }
  | { kind: 'in-progress' }
  | { kind: 'failed-status' }
  | { kind: 'rejected-status'; message?: string }
  | { kind: 'malformed-json' };

export interface RecordedRequest {
  method: string;
  /** The request target as received (path plus any query string). */
  path: string;
  /** Lower-cased header names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  body: Buffer;
  /** Date.now() at arrival. */
  at: number;
}

export interface FakePost {
  id: string;
  idempotencyKey?: string;
  /** The parsed JSON request body that created it. */
  body: unknown;
  status: string;
  platform: string;
  accountId: string;
  text: string;
  scheduledAt?: string;
  createdAt: string;
  uri?: string;
  cid?: string;
}

export interface FakeMedia {
  id: string;
  filename: string;
  contentType: string;
  size: number;
}

export interface FakeLetmepost {
  /** e.g. http://127.0.0.1:54321 (no trailing slash). */
  url: string;
  /** Every request received, in arrival order, including faulted ones. */
  requests: RecordedRequest[];
  /** Posts committed as published or queued (failed / rejected ones are not here). */
  posts: FakePost[];
  media: FakeMedia[];
  /**
   * Queue faults. Each request takes the first queued fault whose route matches it:
   * 'posts' = POST /v1/posts, 'media' = POST /v1/media, 'any' = every request.
   * A fault is consumed even when an earlier stage answers (e.g. a replay).
   */
  inject(route: 'posts' | 'media' | 'any', ...faults: Fault[]): void;
  /** Forget all idempotency records (the 24 h window ends). */
  expireIdempotency(): void;
  /** Destroy open sockets, cancel pending slow answers, stop listening. */
  close(): Promise<void>;
}

export const DEFAULT_ACCOUNTS: ReadonlyArray<Readonly<Required<FakeAccount>>> = Object.freeze(
  (
    [
      ['bluesky', 'b1'],
      ['facebook', 'f1'],
      ['instagram', 'a1'],
      ['linkedin', 'c1'],
      ['pinterest', 'd1'],
      ['threads', 'e1'],
      ['tiktok', 'ab'],
      ['twitter', 'cd'],
    ] as const
  ).map(([platform, tail]) =>
    Object.freeze({
      id: `0f5e7a1c-0000-4000-8000-0000000000${tail}`,
      platform,
      displayName: `Fake ${platform} account`,
    }),
  ),
);

// ───────────────────────────── constants ─────────────────────────────

const PLATFORMS = ['bluesky', 'facebook', 'instagram', 'linkedin', 'pinterest', 'threads', 'tiktok', 'twitter'] as const;
type Platform = (typeof PLATFORMS)[number];

const TEXT_CAPS: Record<Platform, number> = {
  bluesky: 300,
  twitter: 280,
  threads: 500,
  linkedin: 3000,
  instagram: 2200,
  facebook: 63206,
  tiktok: 2200,
  pinterest: 500,
};
const TWITTER_URL_WEIGHT = 23;
const BLUESKY_MAX_IMAGES = 4;
const BLUESKY_IMAGE_MAX_BYTES = 1_000_000;
const ALT_TEXT_MAX_GRAPHEMES = 2000;
const MAX_TARGETS = 25;
const MAX_KEY_LENGTH = 128;
const PENDING_TTL_MS = 60_000;
const MEDIA_MAX_BYTES = 200 * 1024 * 1024;
const MEDIA_ID_PATTERN = /^med_[0-9A-Za-z]{22}$/;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_UTC_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?Z$/;
const DOCS = 'https://docs.letmepost.dev';
const JSON_TYPE = 'application/json; charset=utf-8';
const DEFAULT_TOKEN = 'lmp_test_secret_token';

// ───────────────────────────── errors ─────────────────────────────

interface ErrorExtra {
  rule?: string;
  platform?: string;
  remediation?: string;
  platformResponse?: unknown;
  retryAfter?: number;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: ErrorExtra = {},
  ) {
    super(message);
  }
}

function invalid(rule: string, message: string, remediation = 'Check the request body matches the documented schema.'): ApiError {
  return new ApiError(400, 'validation_failed', message, { rule, remediation });
}

function preflight(platform: Platform, rule: string, message: string, remediation: string): ApiError {
  return new ApiError(400, 'preflight_failed', message, { rule, platform, remediation });
}

const FAULT_MESSAGES: Record<string, string> = {
  internal_error: 'An unexpected error occurred.',
  platform_unavailable: 'The platform is unavailable; try again later.',
  rate_limited: 'Too many requests for this API key.',
  quota_exceeded: 'The monthly post quota of this plan is used up.',
  unauthorized: 'This API key is missing the required "posts:write" scope.',
  platform_auth_failed: 'The platform rejected the stored credentials of this account.',
  platform_rejected: 'The platform refused the post.',
  platform_not_enabled: 'This platform is not enabled on this letmepost.',
  not_found: 'Not found.',
  validation_failed: 'Request body failed validation.',
  preflight_failed: 'The post failed preflight checks.',
};

const FAULT_REMEDIATIONS: Record<string, string> = {
  internal_error: 'Retry the request with the same Idempotency-Key.',
  platform_unavailable: 'Retry with backoff and the same Idempotency-Key.',
  rate_limited: 'Wait for Retry-After seconds, then retry with the same Idempotency-Key.',
  quota_exceeded: 'Upgrade the plan or wait for the quota to reset.',
  platform_auth_failed: 'Reconnect the account in letmepost.',
};

// ───────────────────────────── ids ─────────────────────────────

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const BASE32_LOWER = 'abcdefghijklmnopqrstuvwxyz234567';
const TID_ALPHABET = '234567abcdefghijklmnopqrstuvwxyz';
const ALNUM = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function ulid(): string {
  let time = Date.now();
  let head = '';
  for (let i = 0; i < 10; i++) {
    head = CROCKFORD[time % 32] + head;
    time = Math.floor(time / 32);
  }
  let tail = '';
  for (const byte of randomBytes(16)) tail += CROCKFORD[byte % 32];
  return head + tail;
}

function randomFrom(alphabet: string, length: number): string {
  let out = '';
  for (const byte of randomBytes(length)) out += alphabet[byte % alphabet.length];
  return out;
}

/** RFC 4648 base32, lower case, no padding (multibase 'b'). */
function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_LOWER[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32_LOWER[(value << (5 - bits)) & 31];
  return out;
}

function sha256(data: string | Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

/** A CIDv1 (dag-cbor, sha-256) string: 'bafyrei…', 59 chars. */
function fakeCid(seed: string): string {
  return 'b' + base32(Buffer.concat([Buffer.from([0x01, 0x71, 0x12, 0x20]), sha256(seed)]));
}

function fakeDid(accountId: string): string {
  return 'did:plc:fake' + base32(sha256(accountId)).slice(0, 20);
}

// ───────────────────────────── helpers ─────────────────────────────

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isPlatform(v: unknown): v is Platform {
  return typeof v === 'string' && (PLATFORMS as readonly string[]).includes(v);
}

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

function graphemes(text: string): number {
  let n = 0;
  for (const _ of segmenter.segment(text)) n++;
  return n;
}

function weightedLength(text: string, platform: Platform): number {
  if (platform !== 'twitter') return graphemes(text);
  const urls = text.match(/https?:\/\/\S+/gi) ?? [];
  return graphemes(text.replace(/https?:\/\/\S+/gi, '')) + urls.length * TWITTER_URL_WEIGHT;
}

function jsonReply(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-type': JSON_TYPE, ...headers }, body: Buffer.from(JSON.stringify(value)) };
}

function firstDayOfNextMonth(): string {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString();
}

function isFrontStatus(f: Extract<Fault, { kind: 'status' }>): boolean {
  return f.http >= 500 || f.code === 'rate_limited';
}

// ───────────────────────────── internal model ─────────────────────────────

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

interface Outcome {
  reply: Reply;
  /** Stores or releases the idempotency record; runs right before delivery. */
  finalize?: () => void;
}

interface Ctx {
  method: string;
  pathname: string;
  headers: Record<string, string>;
  body: Buffer;
  requestId: string;
  fault: Fault | undefined;
  idempotencyKey: string | undefined;
}

type IdemRecord =
  | { state: 'pending'; hash: string; claimedAt: number }
  | { state: 'done'; hash: string; status: number; headers: Record<string, string>; body: Buffer };

interface MediaItem {
  kind: 'image' | 'video';
  altText?: string;
  mediaId?: string;
  url?: string;
  bytesBase64?: string;
  size?: number;
}

interface TargetSpec {
  account: FakeAccount;
  platform: Platform;
  text: string;
  media: MediaItem[];
  firstComment?: { text: string };
  pinterest?: Obj;
  threads?: Obj;
}

interface StoredPost {
  post: FakePost;
  mediaRefs: MediaItem[];
  extra: Obj;
  updatedAt: string;
  publishedAt?: string;
}

interface StoredMedia extends FakeMedia {
  url: string;
  sha256: string;
  createdAt: string;
}

type Route =
  | { name: 'createPost' }
  | { name: 'getPost' | 'patchPost' | 'deletePost'; id: string }
  | { name: 'uploadMedia' }
  | { name: 'listAccounts' };

function matchRoute(method: string, pathname: string): Route | undefined {
  if (pathname === '/v1/posts' && method === 'POST') return { name: 'createPost' };
  if (pathname === '/v1/media' && method === 'POST') return { name: 'uploadMedia' };
  if (pathname === '/v1/accounts' && method === 'GET') return { name: 'listAccounts' };
  const m = /^\/v1\/posts\/([^/]+)$/.exec(pathname);
  if (m) {
    const id = decodeURIComponent(m[1]!);
    if (method === 'GET') return { name: 'getPost', id };
    if (method === 'PATCH') return { name: 'patchPost', id };
    if (method === 'DELETE') return { name: 'deletePost', id };
  }
  return undefined;
}

function flattenHeaders(raw: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(new Error('request aborted'));
    });
  });
}

// ───────────────────────────── multipart ─────────────────────────────

interface Part {
  name?: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

/** Undo the quoting of a multipart parameter: backslash escapes, and the %22/%0A/%0D of the HTML form encoding. */
function unquote(value: string): string {
  return value
    .replace(/\\(.)/g, '$1')
    .replace(/%22/gi, '"')
    .replace(/%0A/gi, '\n')
    .replace(/%0D/gi, '\r');
}

function parseMultipart(body: Buffer, contentType: string): Part[] {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) throw new Error('no boundary in Content-Type');
  const delimiter = Buffer.from(`--${boundary}`);
  const nextDelimiter = Buffer.from(`\r\n--${boundary}`);
  let pos = body.indexOf(delimiter);
  if (pos < 0) throw new Error('boundary not found in body');
  const parts: Part[] = [];
  for (;;) {
    pos += delimiter.length;
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return parts; // closing "--"
    while (body[pos] === 0x20 || body[pos] === 0x09) pos++; // transport padding
    if (body[pos] !== 0x0d || body[pos + 1] !== 0x0a) throw new Error('malformed part delimiter');
    pos += 2;
    let headerText = '';
    let contentStart: number;
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) {
      contentStart = pos + 2; // a part without headers
    } else {
      const headerEnd = body.indexOf('\r\n\r\n', pos);
      if (headerEnd < 0) throw new Error('unterminated part headers');
      headerText = body.subarray(pos, headerEnd).toString('utf8');
      contentStart = headerEnd + 4;
    }
    const end = body.indexOf(nextDelimiter, contentStart);
    if (end < 0) throw new Error('missing closing boundary');
    const part: Part = { data: body.subarray(contentStart, end) };
    for (const line of headerText.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-type') part.contentType = value;
      if (name === 'content-disposition') {
        const fieldName = /(?:^|;)\s*name="((?:[^"\\]|\\.)*)"/i.exec(value) ?? /(?:^|;)\s*name=([^;\s]+)/i.exec(value);
        if (fieldName) part.name = unquote(fieldName[1]!);
        const star = /(?:^|;)\s*filename\*=([^']*)'[^']*'([^;\s]+)/i.exec(value);
        const plain = /(?:^|;)\s*filename="((?:[^"\\]|\\.)*)"/i.exec(value) ?? /(?:^|;)\s*filename=([^;\s]+)/i.exec(value);
        if (star) part.filename = decodeURIComponent(star[2]!);
        else if (plain) part.filename = unquote(plain[1]!);
      }
    }
    parts.push(part);
    pos = end + 2; // at the next "--boundary"
  }
}

// ───────────────────────────── the server ─────────────────────────────

export async function startFakeLetmepost(opts: FakeLetmepostOptions = {}): Promise<FakeLetmepost> {
  const token = opts.token ?? DEFAULT_TOKEN;
  const accounts: FakeAccount[] = (opts.accounts ?? DEFAULT_ACCOUNTS).map((a) => ({ ...a }));
  const requests: RecordedRequest[] = [];
  const posts: FakePost[] = [];
  const media: FakeMedia[] = [];
  const mediaById = new Map<string, StoredMedia>();
  const postsById = new Map<string, StoredPost>();
  const records = new Map<string, IdemRecord>();
  const faults: Array<{ route: 'posts' | 'media' | 'any'; fault: Fault }> = [];
  const sockets = new Set<import('node:net').Socket>();
  const sleepers = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  let requestCounter = 0;
  let tidClock = 0n;
  let sequence = 0;
  let closed = false;

  // ── ids that look platform-native ──
  function nextTid(): string {
    const micros = BigInt(Date.now()) * 1000n;
    tidClock = micros > tidClock ? micros : tidClock + 1n;
    const value = (tidClock << 10n) | BigInt(randomBytes(2).readUInt16BE(0) & 1023);
    let out = '';
    for (let i = 12; i >= 0; i--) out += TID_ALPHABET[Number((value >> BigInt(5 * i)) & 31n)];
    return out;
  }
  function snowflake(): string {
    sequence = (sequence + 1) % 4096;
    return ((BigInt(Date.now() - 1288834974657) << 22n) | BigInt(sequence)).toString();
  }
  function nativeIds(platform: Platform, account: FakeAccount): { uri: string; cid?: string } {
    switch (platform) {
      case 'bluesky': {
        const uri = `at://${fakeDid(account.id)}/app.bsky.feed.post/${nextTid()}`;
        return { uri, cid: fakeCid(uri) };
      }
      case 'twitter':
        return { uri: snowflake() };
      case 'linkedin':
        return { uri: `urn:li:share:${snowflake()}` };
      case 'threads':
      case 'instagram':
        return { uri: snowflake().slice(0, 17) };
      case 'facebook':
        return { uri: `1${snowflake().slice(0, 14)}_${snowflake().slice(0, 16)}` };
      case 'pinterest':
        return { uri: snowflake().slice(0, 18) };
      case 'tiktok':
        return { uri: `v_pub_file~v2-1.${snowflake()}` };
    }
  }

  // ── error envelopes ──
  function errorReply(ctx: Ctx, e: ApiError): Reply {
    const error: Obj = { code: e.code, message: e.message };
    if (e.extra.rule !== undefined) error.rule = e.extra.rule;
    if (e.extra.platform !== undefined) error.platform = e.extra.platform;
    if (e.extra.platformResponse !== undefined) error.platformResponse = e.extra.platformResponse;
    if (e.extra.remediation !== undefined) error.remediation = e.extra.remediation;
    error.docUrl = `${DOCS}/errors/${e.code}`;
    if (e.extra.rule !== undefined) error.ruleUrl = `${DOCS}/preflight/${e.extra.rule.replace(/\./g, '-')}`;
    error.requestId = ctx.requestId;
    if (opts.echoHeadersInErrors) {
      error.requestHeaders = { ...ctx.headers };
      error.message = `${e.message} (request headers: ${JSON.stringify(ctx.headers)})`;
    }
    const headers: Record<string, string> = {};
    if (e.extra.retryAfter !== undefined) headers['retry-after'] = String(e.extra.retryAfter);
    return jsonReply(e.status, { error }, headers);
  }

  function statusFaultError(f: Extract<Fault, { kind: 'status' }>): ApiError {
    const extra: ErrorExtra = {};
    if (f.rule !== undefined) extra.rule = f.rule;
    const remediation = FAULT_REMEDIATIONS[f.code];
    if (remediation !== undefined) extra.remediation = remediation;
    if (f.retryAfter !== undefined) extra.retryAfter = f.retryAfter;
    else if (f.code === 'rate_limited') extra.retryAfter = 1;
    if (f.code === 'quota_exceeded') extra.platformResponse = { resetAt: firstDayOfNextMonth() };
    return new ApiError(f.http, f.code, FAULT_MESSAGES[f.code] ?? `Injected ${f.code} (fake letmepost).`, extra);
  }

  function inProgressError(): ApiError {
    return new ApiError(409, 'idempotency_conflict', 'A request with this Idempotency-Key is already in progress.', {
      rule: 'idempotency_key.in_progress',
      remediation: 'Wait for the original request to complete, then retry with the same Idempotency-Key.',
    });
  }

  // ── accounts ──
  function accountById(id: unknown, rule: string): FakeAccount {
    if (typeof id !== 'string' || id.length === 0) throw invalid(rule, 'Expected a connected account id (uuid).');
    const account = accounts.find((a) => a.id === id);
    if (account) return account;
    if (!UUID_PATTERN.test(id)) throw invalid(rule, `Invalid UUID: '${id}'.`);
    throw new ApiError(404, 'not_found', `Platform account not found: ${id}.`, {
      remediation: 'Verify the account id belongs to your organization (GET /v1/accounts lists them).',
    });
  }

  // ── schema-level parsing ──
  function parsePlatform(v: unknown, rule: string): Platform {
    if (!isPlatform(v)) {
      throw invalid(rule, `Invalid platform ${JSON.stringify(v)}: expected one of ${PLATFORMS.join(', ')}.`);
    }
    return v;
  }

  function parseText(v: unknown, rule: string): string {
    if (typeof v !== 'string') throw invalid(rule, 'Expected a string.');
    if (v.length < 1) throw invalid(rule, 'Too small: expected string to have >=1 characters.');
    return v;
  }

  function parseFirstComment(v: unknown, rule: string): { text: string } | undefined {
    if (v === undefined) return undefined;
    if (!isObj(v)) throw invalid(rule, 'Expected an object `{text}`.');
    return { text: parseText(v.text, `${rule}.text`) };
  }

  function parseScheduledAt(v: unknown, rule: string): string | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !ISO_UTC_PATTERN.test(v) || Number.isNaN(Date.parse(v))) {
      throw invalid(
        rule,
        'Invalid ISO datetime: send UTC with a Z suffix (e.g. 2026-05-08T12:00:00.000Z); offsets are rejected.',
        'Convert the time to UTC and end it with Z.',
      );
    }
    return v;
  }

  function parseOptionalObject(v: unknown, rule: string): Obj | undefined {
    if (v === undefined) return undefined;
    if (!isObj(v)) throw invalid(rule, 'Expected an object.');
    return v;
  }

  function parseMedia(v: unknown, rule: string): MediaItem[] | undefined {
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) throw invalid(rule, 'Expected an array of media items.');
    return v.map((item: unknown, i) => {
      const p = `${rule}.${i}`;
      if (!isObj(item)) throw invalid(p, 'Expected a media item object.');
      if (item.kind !== 'image' && item.kind !== 'video') throw invalid(`${p}.kind`, "Expected 'image' or 'video'.");
      const out: MediaItem = { kind: item.kind };
      if (item.altText !== undefined) {
        if (typeof item.altText !== 'string') throw invalid(`${p}.altText`, 'Expected a string.');
        out.altText = item.altText;
      }
      const sources = (['mediaId', 'url', 'bytesBase64'] as const).filter((k) => Boolean(item[k]));
      if (sources.length !== 1) {
        throw invalid(p, "Exactly one of 'mediaId', 'url', or 'bytesBase64' must be provided for each media item.");
      }
      if (item.mediaId) {
        if (typeof item.mediaId !== 'string' || !MEDIA_ID_PATTERN.test(item.mediaId)) {
          throw invalid(`${p}.mediaId`, `Invalid media id ${JSON.stringify(item.mediaId)}.`);
        }
        const stored = mediaById.get(item.mediaId);
        if (!stored) {
          throw invalid(`${p}.mediaId`, `Unknown media id '${item.mediaId}'.`, 'Upload the file with POST /v1/media and use the id it returns.');
        }
        out.mediaId = item.mediaId;
        out.size = stored.size;
      } else if (item.url) {
        let ok = false;
        try {
          const u = new URL(String(item.url));
          ok = typeof item.url === 'string' && (u.protocol === 'https:' || u.protocol === 'http:');
        } catch {
          ok = false;
        }
        if (!ok) throw invalid(`${p}.url`, 'Invalid URL.');
        out.url = item.url as string;
      } else {
        if (typeof item.bytesBase64 !== 'string' || !/^[A-Za-z0-9+/\r\n]*={0,2}$/.test(item.bytesBase64)) {
          throw invalid(`${p}.bytesBase64`, 'Expected base64 data.');
        }
        out.bytesBase64 = item.bytesBase64;
        out.size = Buffer.from(item.bytesBase64, 'base64').length;
      }
      return out;
    });
  }

  // ── platform preflight (shape-level, atomic) ──
  function preflightTarget(t: TargetSpec): void {
    const { platform, text, media: items } = t;
    const cap = TEXT_CAPS[platform];
    const length = weightedLength(text, platform);
    if (length > cap) {
      const urlNote = platform === 'twitter' ? ` (every URL counts ${TWITTER_URL_WEIGHT})` : '';
      throw preflight(platform, `${platform}.text.max_graphemes`, `Text is ${length} graphemes${urlNote}; ${platform} allows at most ${cap}.`, `Trim the text to ${cap} graphemes or fewer.`);
    }
    if (text.trim().length === 0 && items.length === 0) {
      throw preflight(platform, `${platform}.text.non_empty`, 'Text is only whitespace.', 'Provide non-whitespace `text`, or include at least one media item.');
    }
    if (t.firstComment && platform !== 'bluesky') {
      throw preflight(platform, `${platform}.first_comment.unsupported`, `firstComment is supported on Bluesky only, not ${platform}.`, 'Drop firstComment for this target.');
    }
    const images = items.filter((m) => m.kind === 'image');
    const videos = items.filter((m) => m.kind === 'video');
    for (const m of items) {
      if (m.altText !== undefined && graphemes(m.altText) > ALT_TEXT_MAX_GRAPHEMES) {
        throw preflight(platform, `${platform}.media.alt_text.max_graphemes`, `Alt text is longer than ${ALT_TEXT_MAX_GRAPHEMES} graphemes.`, `Shorten the alt text to ${ALT_TEXT_MAX_GRAPHEMES} graphemes or fewer.`);
      }
    }
    switch (platform) {
      case 'bluesky':
        if (videos.length > 0 && (videos.length > 1 || images.length > 0)) {
          throw preflight(platform, 'bluesky.media.video_exclusive', 'Bluesky takes one video, alone, or up to 4 images.', 'Send a single video or only images.');
        }
        if (images.length > BLUESKY_MAX_IMAGES) {
          throw preflight(platform, 'bluesky.media.max_images', `Bluesky allows at most ${BLUESKY_MAX_IMAGES} images; got ${images.length}.`, 'Send 4 images or fewer.');
        }
        for (const m of images) {
          if (m.size !== undefined && m.size > BLUESKY_IMAGE_MAX_BYTES) {
            throw preflight(platform, 'bluesky.media.image.max_bytes', `An image is ${m.size} bytes; Bluesky allows at most ${BLUESKY_IMAGE_MAX_BYTES}.`, 'Compress the image below 1,000,000 bytes.');
          }
        }
        break;
      case 'instagram':
        if (items.length === 0) {
          throw preflight(platform, 'instagram.media.required', 'Instagram posts need at least one image or video.', 'Add media to the post.');
        }
        break;
      case 'linkedin':
        if (items.length > 0) {
          throw preflight(platform, 'linkedin.media.unsupported', 'LinkedIn posts are text-only on letmepost.', 'Drop the media for this target.');
        }
        break;
      case 'pinterest': {
        const boardId = t.pinterest?.boardId;
        if (typeof boardId !== 'string' || boardId.length === 0) {
          throw preflight(platform, 'pinterest.board_id.required', 'Pinterest pins need a board: set `boardId`.', 'Pass the board id of the pin.');
        }
        break;
      }
      default:
        break;
    }
  }

  function checkSchedule(scheduledAt: string | undefined, targets: TargetSpec[]): void {
    if (scheduledAt === undefined) return;
    if (Date.parse(scheduledAt) - Date.now() < 1000) {
      throw invalid('scheduledAt.future', 'scheduledAt must be at least 1 second in the future.', 'Send a timestamp at least 1 second ahead of now, or omit scheduledAt to publish immediately.');
    }
    if (targets.some((t) => t.firstComment)) {
      throw invalid('scheduledAt.no_first_comment', 'Scheduled posts do not support firstComment — publish immediately or drop the field.', 'Drop firstComment from this request, or omit scheduledAt.');
    }
  }

  // ── commit one target ──
  interface Committed {
    postId: string;
    status: 'published' | 'queued' | 'failed' | 'rejected';
    createdAt: string;
    fields: Obj; // uri, cid, firstComment*, warnings, error
  }

  function commitTarget(ctx: Ctx, raw: unknown, t: TargetSpec, scheduledAt: string | undefined): Committed {
    const now = new Date().toISOString();
    const id = `post_${ulid()}`;
    const fault = ctx.fault;
    let status: Committed['status'] = scheduledAt !== undefined ? 'queued' : 'published';
    const fields: Obj = {};
    if (fault?.kind === 'failed-status' || t.text.includes('[fail]')) {
      status = 'failed';
      fields.error = { code: 'platform_unavailable', message: `${t.platform} did not answer in time (fake transient failure).` };
    } else if (fault?.kind === 'rejected-status' || t.text.includes('[reject]')) {
      status = 'rejected';
      fields.error = {
        code: 'platform_rejected',
        message: (fault?.kind === 'rejected-status' ? fault.message : undefined) ?? `${t.platform} refused the post (fake rejection).`,
      };
    } else if (status === 'published') {
      Object.assign(fields, nativeIds(t.platform, t.account));
      if (t.firstComment) {
        const reply = nativeIds(t.platform, t.account);
        fields.firstCommentUri = reply.uri;
        if (reply.cid !== undefined) fields.firstCommentCid = reply.cid;
      }
      if (t.platform === 'bluesky' && t.text.includes('[warn]')) {
        fields.warnings = [{ code: 'fake_warning', message: 'Warning requested by the [warn] marker in the text (fake letmepost).' }];
      }
    }
    const post: FakePost = {
      id,
      body: raw,
      status,
      platform: t.platform,
      accountId: t.account.id,
      text: t.text,
      createdAt: now,
    };
    if (ctx.idempotencyKey !== undefined) post.idempotencyKey = ctx.idempotencyKey;
    if (scheduledAt !== undefined) post.scheduledAt = new Date(scheduledAt).toISOString();
    if (typeof fields.uri === 'string') post.uri = fields.uri;
    if (typeof fields.cid === 'string') post.cid = fields.cid;
    const stored: StoredPost = { post, mediaRefs: t.media, extra: fields, updatedAt: now };
    if (status === 'published') stored.publishedAt = now;
    postsById.set(id, stored);
    if (status === 'published' || status === 'queued') posts.push(post);
    return { postId: id, status, createdAt: now, fields };
  }

  // ── POST /v1/posts ──
  function createPost(ctx: Ctx): Reply {
    let raw: unknown;
    try {
      raw = JSON.parse(ctx.body.toString('utf8'));
    } catch {
      throw invalid('body.json', 'Request body must be JSON.');
    }
    if (!isObj(raw)) throw invalid('body', 'Request body must be a JSON object.');
    if ('targets' in raw) return createBatch(ctx, raw);
    if (opts.batchOnly) {
      throw new ApiError(400, 'validation_failed', 'Send at least one target on `targets[]`: the single `account` shape is no longer accepted.', {
        rule: 'targets.required',
        remediation: 'Pass `targets: [{ accountId, ... }]`.',
      });
    }
    return createSingle(ctx, raw);
  }

  function createSingle(ctx: Ctx, raw: Obj): Reply {
    if (!isObj(raw.account)) throw invalid('account', 'Required: `account: {platform, id}`.');
    const platform = parsePlatform(raw.account.platform, 'account.platform');
    if (typeof raw.account.id !== 'string' || raw.account.id.length === 0) throw invalid('account.id', 'Expected the account id (uuid).');
    const text = parseText(raw.text, 'text');
    const items = parseMedia(raw.media, 'media') ?? [];
    const firstComment = parseFirstComment(raw.firstComment, 'firstComment');
    const scheduledAt = parseScheduledAt(raw.scheduledAt, 'scheduledAt');
    const pinterest = parseOptionalObject(raw.pinterest, 'pinterest');
    const threads = parseOptionalObject(raw.threads, 'threads');

    const account = accountById(raw.account.id, 'account.id');
    if (account.platform !== platform) {
      throw invalid('account.platform_mismatch', `account.platform is "${platform}" but account ${account.id} is a ${account.platform} account.`, "Set account.platform to the account's platform.");
    }
    const target: TargetSpec = { account, platform, text, media: items };
    if (firstComment) target.firstComment = firstComment;
    if (pinterest) target.pinterest = pinterest;
    if (threads) target.threads = threads;
    preflightTarget(target);
    checkSchedule(scheduledAt, [target]);

    const c = commitTarget(ctx, raw, target, scheduledAt);
    const body: Obj = { id: c.postId, platform, createdAt: c.createdAt, status: c.status };
    for (const k of ['uri', 'cid'] as const) if (c.fields[k] !== undefined) body[k] = c.fields[k];
    if (scheduledAt !== undefined) body.scheduledAt = new Date(scheduledAt).toISOString();
    for (const k of ['firstCommentUri', 'firstCommentCid', 'warnings', 'error'] as const) if (c.fields[k] !== undefined) body[k] = c.fields[k];
    return jsonReply(c.status === 'queued' ? 202 : 200, body);
  }

  function createBatch(ctx: Ctx, raw: Obj): Reply {
    if (!Array.isArray(raw.targets)) throw invalid('targets', 'Expected an array of targets.');
    const rawTargets: unknown[] = raw.targets;
    if (rawTargets.length === 0) {
      throw new ApiError(400, 'validation_failed', 'Send at least one target on `targets[]`.', { rule: 'targets.required', remediation: 'Pass `targets: [{ accountId, ... }]`.' });
    }
    if (rawTargets.length > MAX_TARGETS) {
      throw new ApiError(400, 'validation_failed', `A single request may not fan out to more than ${MAX_TARGETS} targets.`, { rule: 'targets.max' });
    }
    const topText = raw.text === undefined ? undefined : parseText(raw.text, 'text');
    const topMedia = parseMedia(raw.media, 'media');
    const topFirstComment = parseFirstComment(raw.firstComment, 'firstComment');
    const scheduledAt = parseScheduledAt(raw.scheduledAt, 'scheduledAt');
    if (raw.publishNow !== undefined && typeof raw.publishNow !== 'boolean') throw invalid('publishNow', 'Expected a boolean.');

    const parsed = rawTargets.map((t, i) => {
      const p = `targets.${i}`;
      if (!isObj(t)) throw invalid(p, 'Expected a target object.');
      if (t.accountId !== undefined && (typeof t.accountId !== 'string' || t.accountId.length === 0)) throw invalid(`${p}.accountId`, 'Expected a uuid.');
      const platform = t.platform === undefined ? undefined : parsePlatform(t.platform, `${p}.platform`);
      if (t.accountId === undefined && platform === undefined) {
        throw invalid(`${p}.accountId`, 'Each target must carry `accountId`, `platform`, or both.');
      }
      const text = t.text === undefined ? undefined : parseText(t.text, `${p}.text`);
      const items = parseMedia(t.media, `${p}.media`);
      const firstComment = parseFirstComment(t.firstComment, `${p}.firstComment`);
      const options = parseOptionalObject(t.options, `${p}.options`);
      if (options) parsePlatform(options.platform, `${p}.options.platform`);
      return { accountId: t.accountId as string | undefined, platform, text, items, firstComment, options };
    });
    if (raw.publishNow === true && scheduledAt !== undefined) {
      throw invalid('mode_conflict', 'Pass either `publishNow: true` or `scheduledAt`, not both.');
    }

    const specs: TargetSpec[] = parsed.map((t, i) => {
      let account: FakeAccount;
      if (t.accountId !== undefined) {
        account = accountById(t.accountId, `targets.${i}.accountId`);
        if (t.platform !== undefined && t.platform !== account.platform) {
          throw invalid('targets.account.platform_mismatch', `Target carries platform "${t.platform}" but accountId ${account.id} is a ${account.platform} account.`, "Drop `platform` or set it to match the account's platform.");
        }
      } else {
        const matches = accounts.filter((a) => a.platform === t.platform);
        if (matches.length === 0) throw invalid('target.account.not_connected', `No connected ${t.platform} account in scope for this api key.`);
        if (matches.length > 1) throw invalid('target.account.ambiguous', `Multiple connected ${t.platform} accounts in scope — specify which one in targets[i].accountId.`);
        account = matches[0]!;
      }
      const platform = account.platform as Platform;
      if (t.options && t.options.platform !== platform) {
        throw invalid('targets.options.platform_mismatch', `Target options carry platform "${String(t.options.platform)}" but the resolved account ${account.id} is a ${platform} account.`);
      }
      const text = t.text ?? topText;
      if (text === undefined) throw invalid('targets.text.required', `Target for account ${account.id} has no text and no top-level default text.`);
      const spec: TargetSpec = { account, platform, text, media: t.items ?? topMedia ?? [] };
      const firstComment = t.firstComment ?? topFirstComment;
      if (firstComment) spec.firstComment = firstComment;
      if (t.options && platform === 'pinterest') spec.pinterest = t.options;
      if (t.options && platform === 'threads') spec.threads = t.options;
      return spec;
    });
    for (const spec of specs) preflightTarget(spec);
    checkSchedule(scheduledAt, specs);

    const createdAt = new Date().toISOString();
    const results = specs.map((spec) => {
      const c = commitTarget(ctx, raw, spec, scheduledAt);
      return { accountId: spec.account.id, platform: spec.platform, postId: c.postId, status: c.status, ...c.fields };
    });
    const failed = results.filter((r) => r.status === 'failed' || r.status === 'rejected').length;
    const queued = results.every((r) => r.status === 'queued');
    const status = queued ? 'queued' : failed === 0 ? 'published' : failed === results.length ? 'failed' : 'partial_failed';
    const body: Obj = { id: randomUUID(), status, createdAt };
    if (scheduledAt !== undefined) body.scheduledAt = new Date(scheduledAt).toISOString();
    body.results = results;
    return jsonReply(queued ? 202 : 200, body);
  }

  // ── GET/PATCH/DELETE /v1/posts/:id ──
  function publicView(s: StoredPost): Obj {
    const p = s.post;
    return {
      id: p.id,
      accountId: p.accountId,
      platform: p.platform,
      status: p.status,
      text: p.text,
      mediaRefs: s.mediaRefs,
      scheduledAt: p.scheduledAt ?? null,
      publishedAt: s.publishedAt ?? null,
      uri: p.uri ?? null,
      cid: p.cid ?? null,
      platformUri: p.uri ?? null,
      platformCid: p.cid ?? null,
      ...(s.extra.firstCommentUri !== undefined ? { firstCommentUri: s.extra.firstCommentUri } : {}),
      ...(s.extra.firstCommentCid !== undefined ? { firstCommentCid: s.extra.firstCommentCid } : {}),
      ...(s.extra.warnings !== undefined ? { warnings: s.extra.warnings } : {}),
      error: s.extra.error ?? null,
      createdAt: p.createdAt,
      updatedAt: s.updatedAt,
      attempts: [],
    };
  }

  function findPost(id: string): StoredPost {
    const s = postsById.get(id);
    if (!s) throw new ApiError(404, 'not_found', 'Post not found.');
    return s;
  }

  function modifiable(id: string): StoredPost {
    const s = findPost(id);
    if (s.post.status !== 'queued') {
      throw new ApiError(409, 'validation_failed', `Cannot modify a post in status "${s.post.status}". Only queued scheduled posts can be rescheduled or canceled.`, { rule: 'post.status' });
    }
    if (s.post.scheduledAt === undefined || Date.parse(s.post.scheduledAt) <= Date.now()) {
      throw new ApiError(409, 'validation_failed', 'This post is already firing or has no scheduledAt. The window for changes has closed.', { rule: 'post.scheduledAt.window' });
    }
    return s;
  }

  function patchPost(ctx: Ctx, id: string): Reply {
    let raw: unknown;
    try {
      raw = JSON.parse(ctx.body.toString('utf8'));
    } catch {
      raw = null;
    }
    if (!isObj(raw)) throw invalid('body', 'Invalid request body: expected `{scheduledAt}`.');
    const when = parseScheduledAt(raw.scheduledAt, 'scheduledAt');
    if (when === undefined) throw invalid('scheduledAt', 'Required.');
    const s = modifiable(id);
    if (Date.parse(when) - Date.now() < 1000) {
      throw invalid('scheduledAt.future', 'scheduledAt must be at least 1 second in the future.', 'Send a timestamp at least 1 second ahead of now.');
    }
    s.post.scheduledAt = new Date(when).toISOString();
    s.updatedAt = new Date().toISOString();
    return jsonReply(200, publicView(s));
  }

  function deletePost(id: string): Reply {
    const s = modifiable(id);
    s.post.status = 'canceled';
    s.updatedAt = new Date().toISOString();
    return jsonReply(200, { id: s.post.id, status: 'canceled' });
  }

  // ── POST /v1/media ──
  function uploadMedia(ctx: Ctx): Reply {
    const contentType = ctx.headers['content-type'] ?? '';
    if (!contentType.toLowerCase().startsWith('multipart/form-data')) {
      throw invalid('media.content_type', 'POST /v1/media requires Content-Type: multipart/form-data with a `file` part.', 'Use a multipart upload (e.g. `curl -F file=@path/to/image.jpg`).');
    }
    if (ctx.body.length === 0) throw invalid('media.empty_body', 'Request body is empty.');
    let parts: Part[];
    try {
      parts = parseMultipart(ctx.body, contentType);
    } catch (e) {
      throw invalid('media.parse_failed', `Multipart parse failed: ${(e as Error).message}.`);
    }
    const files = parts.filter((p) => p.name === 'file' && p.filename !== undefined);
    if (files.length === 0) throw invalid('media.missing_file', 'POST /v1/media requires a `file` part.');
    if (files.length > 1) throw invalid('media.single_file', 'POST /v1/media accepts exactly one `file` part per request.');
    const file = files[0]!;
    if (file.data.length > MEDIA_MAX_BYTES) {
      throw new ApiError(413, 'validation_failed', `Media file exceeds the ${MEDIA_MAX_BYTES} byte limit.`, { rule: 'media.size_max' });
    }
    const id = `med_${randomFrom(ALNUM, 22)}`;
    const filename = file.filename ?? 'file';
    const type = file.contentType?.toLowerCase() || 'application/octet-stream';
    const record: StoredMedia = {
      id,
      filename,
      contentType: type,
      size: file.data.length,
      url: `https://cdn.fake/media/${id}/${encodeURIComponent(filename)}`,
      sha256: sha256(file.data).toString('hex'),
      createdAt: new Date().toISOString(),
    };
    mediaById.set(id, record);
    media.push({ id, filename, contentType: type, size: record.size });
    return jsonReply(201, {
      id,
      url: record.url,
      contentType: type,
      size: record.size,
      sizeBytes: record.size,
      sha256: record.sha256,
      createdAt: record.createdAt,
    });
  }

  // ── pipeline ──
  async function handlerStage(ctx: Ctx, run: () => Reply): Promise<Reply> {
    try {
      const f = ctx.fault;
      if (f?.kind === 'status') throw statusFaultError(f); // http < 500, not the limiter: answered (and stored) here
      return run();
    } catch (e) {
      if (e instanceof ApiError) return errorReply(ctx, e);
      return errorReply(ctx, new ApiError(500, 'internal_error', `An unexpected error occurred: ${(e as Error).message}`));
    }
  }

  async function withIdempotency(ctx: Ctx, run: () => Promise<Reply>): Promise<Outcome> {
    const key = ctx.idempotencyKey;
    if (key === undefined) return { reply: await run() };
    if (key.length < 1 || key.length > MAX_KEY_LENGTH) {
      throw new ApiError(400, 'validation_failed', `Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} characters.`, { rule: 'idempotency_key.length' });
    }
    const hash = sha256(ctx.body).toString('hex');
    const existing = records.get(key);
    if (existing?.state === 'done') {
      if (existing.hash !== hash) {
        throw new ApiError(409, 'idempotency_conflict', 'Idempotency-Key reused with a different request body.', {
          rule: 'idempotency_key.body_mismatch',
          remediation: 'Either retry with the original request body, or generate a new Idempotency-Key for a different request.',
        });
      }
      return {
        reply: { status: existing.status, headers: { ...existing.headers, 'idempotency-replayed': 'true' }, body: existing.body },
      };
    }
    if (existing?.state === 'pending' && Date.now() - existing.claimedAt < PENDING_TTL_MS) throw inProgressError();
    const claim: IdemRecord = { state: 'pending', hash, claimedAt: Date.now() };
    records.set(key, claim);
    let reply: Reply;
    try {
      reply = await run();
    } catch (e) {
      if (records.get(key) === claim) records.delete(key);
      throw e;
    }
    const finalize = (): void => {
      const current = records.get(key);
      if (current !== undefined && current !== claim) return; // taken over after the TTL
      if (reply.status >= 500 || isLimiter429(reply)) {
        records.delete(key);
        return;
      }
      reply.headers['idempotency-key'] = key;
      records.set(key, { state: 'done', hash, status: reply.status, headers: { ...reply.headers }, body: reply.body });
    };
    return { reply, finalize };
  }

  function isLimiter429(reply: Reply): boolean {
    if (reply.status !== 429) return false;
    try {
      const parsed = JSON.parse(reply.body.toString('utf8')) as { error?: { code?: unknown } };
      return parsed.error?.code === 'rate_limited';
    } catch {
      return false;
    }
  }

  async function dispatch(ctx: Ctx): Promise<Outcome> {
    const route = matchRoute(ctx.method, ctx.pathname);
    if (route) {
      const auth = ctx.headers.authorization;
      if (auth === undefined) {
        throw new ApiError(401, 'unauthenticated', 'Missing API key: send `Authorization: Bearer <key>`.', { rule: 'api_key.missing', remediation: 'Mint an API key in the dashboard and send it as a Bearer token.' });
      }
      const m = /^Bearer\s+(.+)$/i.exec(auth);
      if (!m || m[1] !== token) {
        throw new ApiError(401, 'unauthenticated', 'Invalid or revoked API key.', { rule: 'api_key.invalid', remediation: 'Check the API key; mint a new one in the dashboard if it was revoked.' });
      }
    }
    const f = ctx.fault;
    if (f?.kind === 'status' && isFrontStatus(f)) throw statusFaultError(f);
    if (f?.kind === 'in-progress') throw inProgressError();
    if (!route) {
      throw new ApiError(404, 'not_found', `No route for ${ctx.method} ${ctx.pathname}.`, { remediation: 'Check the base URL and path (e.g. POST /v1/posts).' });
    }
    switch (route.name) {
      case 'createPost':
        return withIdempotency(ctx, () => handlerStage(ctx, () => createPost(ctx)));
      case 'patchPost':
        return withIdempotency(ctx, () => handlerStage(ctx, () => patchPost(ctx, route.id)));
      case 'deletePost':
        return withIdempotency(ctx, () => handlerStage(ctx, () => deletePost(route.id)));
      case 'getPost':
        return { reply: await handlerStage(ctx, () => jsonReply(200, publicView(findPost(route.id)))) };
      case 'uploadMedia':
        return { reply: await handlerStage(ctx, () => uploadMedia(ctx)) };
      case 'listAccounts':
        return {
          reply: await handlerStage(ctx, () =>
            jsonReply(200, { data: accounts.map((a) => ({ id: a.id, platform: a.platform, displayName: a.displayName ?? `${a.platform} account` })) }),
          ),
        };
    }
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          sleepers.delete(entry);
          resolve();
        }, ms),
        wake: resolve,
      };
      sleepers.add(entry);
    });
  }

  function send(req: http.IncomingMessage, res: http.ServerResponse, requestId: string, reply: Reply): void {
    if (req.socket.destroyed || res.writableEnded) return;
    try {
      res.writeHead(reply.status, { ...reply.headers, 'x-request-id': requestId, 'content-length': String(reply.body.length) });
      res.end(reply.body);
    } catch {
      // the client went away
    }
  }

  function takeFault(kind: 'posts' | 'media' | undefined): Fault | undefined {
    const i = faults.findIndex((f) => f.route === 'any' || f.route === kind);
    if (i < 0) return undefined;
    return faults.splice(i, 1)[0]!.fault;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const headers = flattenHeaders(req.headers);
    const record: RecordedRequest = { method, path, headers, body: Buffer.alloc(0), at: Date.now() };
    requests.push(record);
    const requestId = `req_${++requestCounter}`;
    let pathname: string;
    try {
      pathname = new URL(path, 'http://fake.invalid').pathname;
    } catch {
      pathname = path;
    }
    const kind = method === 'POST' && pathname === '/v1/posts' ? 'posts' : method === 'POST' && pathname === '/v1/media' ? 'media' : undefined;
    const fault = takeFault(kind);
    if (fault?.kind === 'reset-before-read') {
      req.socket.destroy();
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch {
      return;
    }
    record.body = body;
    const ctx: Ctx = { method, pathname, headers, body, requestId, fault, idempotencyKey: headers['idempotency-key'] };
    let outcome: Outcome;
    try {
      outcome = await dispatch(ctx);
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError(500, 'internal_error', `An unexpected error occurred: ${(e as Error).message}`);
      outcome = { reply: errorReply(ctx, err) };
    }
    if (fault?.kind === 'slow-after-commit') await sleep(fault.ms);
    outcome.finalize?.();
    if (closed) return;
    if (fault?.kind === 'drop-after-commit') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'malformed-json') {
      send(req, res, requestId, { status: 200, headers: { 'content-type': JSON_TYPE }, body: Buffer.from('{"id":"post_01HY6X4AWBJM2K9F2PT", "status": "publ') });
      return;
    }
    send(req, res, requestId, outcome.reply);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => req.socket.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 1000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fake letmepost: no TCP address');

  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    posts,
    media,
    inject(route, ...injected) {
      for (const fault of injected) faults.push({ route, fault });
    },
    expireIdempotency() {
      records.clear();
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const s of sleepers) {
        clearTimeout(s.timer);
        s.wake();
      }
      sleepers.clear();
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await done;
    },
  };
}
