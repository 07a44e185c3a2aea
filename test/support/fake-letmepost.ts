/**
 * A fake letmepost API on 127.0.0.1 for the test suite.
 *
 * It behaves like the REAL open-source letmepost server (monorepo `apps/api`, snapshot of
 * 2026-06-16, measured on loopback: /work/notes/REAL-LETMEPOST.md), not like its docs, where
 * the two differ; test/harness/letmepost-conformance.test.ts checks it against a transcript recorded
 * from the real server. It can inject faults: dropped connections before or after the commit,
 * slow answers, a slow or unreachable platform, error envelopes, in-body `failed`/`rejected`
 * results, broken JSON.
 *
 * Model of a request (the real server's middleware order):
 *   1. arrival: recorded in `requests`; one queued fault (if any matches) is taken.
 *      `reset-before-read` destroys the socket here. A path that is no route answers the
 *      framework's `404 Not Found` (text/plain, no envelope).
 *   2. the body is read; auth (`401 unauthenticated`, never stored).
 *   3. "front" faults answer here, before idempotency: `status` with http >= 500 or code
 *      `rate_limited` (the limiter / a gateway), and `in-progress` (the real server never
 *      sends it — only a test that injects it gets it). Never stored.
 *   4. the rate limiter (POST /v1/posts and /v1/media): RateLimit-* headers; 429 only with
 *      `enforceRateLimit`. Never stored.
 *   5. idempotency (POST /v1/posts only; PATCH/DELETE /v1/posts/:id have none): a key of
 *      1–255 chars (an empty header means no key); a stored answer for the key is replayed
 *      (same status and JSON, keys in PostgreSQL jsonb order, `Idempotency-Replayed: true`)
 *      or, for other bytes, `409 idempotency_conflict` rule `idempotency_key.body_mismatch`.
 *      A key past its 24 h window (`expireIdempotency()`) is never stored again.
 *      There is NO in-flight claim: a request whose key has no stored answer yet runs the
 *      handler, even while another request with that key is still running.
 *   6. the handler: a `status` fault with http < 500 (e.g. quota_exceeded) answers here.
 *      Otherwise the body is validated like the server's zod schema (only the `targets[]`
 *      shape; the first issue names the `rule`), targets resolved, the cheap preflight run
 *      (atomic: a 400 before anything is stored), then
 *        - scheduled: one `queued` row per target → 202;
 *        - immediate: one `publishing` row per target (visible to GET /v1/posts at once),
 *          then the platform call (`slow-platform` / `platform({delayMs})` make it take that
 *          long; `platform({down})`, `failed-status`, `rejected-status` and the [fail] /
 *          [reject] markers make it fail), then the rows become published / failed /
 *          rejected → 200 with per-target `results` (a platform failure is still a 200).
 *   7. delivery: the idempotency record is stored (status < 500, not the limiter's 429, and
 *      only if no other request stored one for the key meanwhile — the first to finish wins,
 *      the others are answered without `Idempotency-Key`), then `slow-after-commit` waits,
 *      `drop-after-commit` destroys the socket, `malformed-json` sends a broken 200, or the
 *      answer goes out.
 *
 * Only node:http and node:crypto are used; the server itself is support/http-fake.ts's.
 */
import * as http from 'node:http';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { FaultQueue, flattenHeaders, graphemeCount, readBody, Sleeps, startOnLoopback } from './http-fake.js';

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
  /**
   * @deprecated Ignored: the fake always behaves like the real server, which accepts only
   * the `targets[]` shape (the `account` shape gets 400 validation_failed, rule `targets`).
   */
  batchOnly?: boolean;
  /** Error bodies echo every request header verbatim (in `error.requestHeaders` and in `error.message`). */
  echoHeadersInErrors?: boolean;
  /** Answer the 121st POST within 60 s with the limiter's 429 (the real default). Default off: headers only. */
  enforceRateLimit?: boolean;
  /**
   * A server that knows only the documented single-account shape (`{account: {platform, id},
   * text, …, pinterest?, threads?}`) and refuses `targets` with 400 validation_failed rule
   * `account`: none has been seen, but the action keeps that shape as its fallback.
   */
  accountShapeOnly?: boolean;
}

export type Fault =
  | { kind: 'reset-before-read' }
  | { kind: 'drop-after-commit' }
  | { kind: 'slow-after-commit'; ms: number }
  /** The platform call of this request takes `ms`; its rows stay `publishing` meanwhile. */
  | { kind: 'slow-platform'; ms: number }
  /**
   * A gateway in front of the server gives up after `afterMs` and answers `504` (no letmepost
   * envelope) while the handler goes on — with a platform taking `platformMs` — and commits
   * the post after all. The answer the handler would have given is stored as usual.
   */
  | { kind: 'gateway-timeout'; afterMs: number; platformMs: number }
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
  /** The post row id (a UUIDv7), as in `results[i].postId` — not the batch `id`. */
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

export interface FakePlatformSettings {
  /** Every platform call takes this long (0: instant). Like the slow platform proxy of test/real/start-real-letmepost.mjs. */
  delayMs?: number;
  /** Every platform call fails as unreachable: result `failed`, `platform_unavailable`. */
  down?: boolean;
}

export interface FakeLetmepost {
  /** e.g. http://127.0.0.1:54321 (no trailing slash). */
  url: string;
  /** Every request received, in arrival order, including faulted ones. */
  requests: RecordedRequest[];
  /** Posts committed as published or queued (failed / rejected / still publishing ones are not here). */
  posts: FakePost[];
  media: FakeMedia[];
  /**
   * Queue faults. Each request takes the first queued fault whose route matches it:
   * 'posts' = POST /v1/posts, 'media' = POST /v1/media, 'any' = every request.
   * A fault is consumed even when an earlier stage answers (e.g. a replay).
   */
  inject(route: 'posts' | 'media' | 'any', ...faults: Fault[]): void;
  /** Change how the (simulated) platforms behave from now on; fields left out keep their value. */
  platform(settings: FakePlatformSettings): void;
  /**
   * The 24 h window of every stored key ends. Like the real server (its unique index on
   * (organization, key) outlives the window and nothing deletes old records), an expired key
   * is never stored again: every later request with it runs the handler, answered without
   * `Idempotency-Key`.
   */
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

// ───────────────────────────── constants (the real server's) ─────────────────────────────

const PLATFORMS = ['bluesky', 'facebook', 'instagram', 'linkedin', 'pinterest', 'threads', 'tiktok', 'twitter'] as const;
type Platform = (typeof PLATFORMS)[number];
/** The order of TargetOptions' discriminated union. */
const OPTION_PLATFORMS = ['twitter', 'pinterest', 'threads', 'tiktok', 'bluesky', 'facebook', 'instagram', 'linkedin'] as const;
const POST_STATUSES = ['queued', 'validated', 'publishing', 'published', 'failed', 'rejected', 'canceled'] as const;

const MAX_TARGETS = 25;
const MAX_KEY_LENGTH = 255;
const MIN_FUTURE_DELAY_MS = 1000;
const RATE_LIMIT_POINTS = 120;
const RATE_LIMIT_WINDOW_MS = 60_000;
const MEDIA_MAX_BYTES = 200 * 1024 * 1024;
const MEDIA_ID_PATTERN = /^med_[0-9A-Za-z]{22}$/;
/** zod 3's uuid check. */
const UUID_PATTERN = /^[0-9a-fA-F]{8}\b-[0-9a-fA-F]{4}\b-[0-9a-fA-F]{4}\b-[0-9a-fA-F]{4}\b-[0-9a-fA-F]{12}$/i;
/** zod 3.25's `.datetime()`: UTC `Z` only, seconds and fraction optional, real calendar dates. */
const DATETIME_PATTERN = new RegExp(
  '^((\\d\\d[2468][048]|\\d\\d[13579][26]|\\d\\d0[48]|[02468][048]00|[13579][26]00)-02-29|\\d{4}-((0[13578]|1[02])-(0[1-9]|[12]\\d|3[01])|(0[469]|11)-(0[1-9]|[12]\\d|30)|(02)-(0[1-9]|1\\d|2[0-8])))' +
    'T([01]\\d|2[0-3]):[0-5]\\d(:[0-5]\\d(\\.\\d+)?)?(Z)$',
);
const DOCS = 'https://docs.letmepost.dev';
const JSON_TYPE = 'application/json';
const DEFAULT_TOKEN = 'lmp_test_secret_token';
const SCHEMA_REMEDIATION = 'Check the request body matches the documented schema.';

/** Deep (byte-level) limits the publishers check after loading the media: [image, video]. */
const MAX_BYTES: Partial<Record<Platform, [number, number]>> = {
  bluesky: [1_000_000, 100_000_000],
  twitter: [5_000_000, 512_000_000],
  facebook: [4_000_000, 4_000_000_000],
  instagram: [8_000_000, 1_000_000_000],
  threads: [8_000_000, 1_000_000_000],
  tiktok: [Infinity, 4 * 1024 * 1024 * 1024],
};
const PLATFORM_LABEL: Record<Platform, string> = {
  bluesky: 'Bluesky',
  twitter: 'X',
  facebook: 'Facebook',
  instagram: 'Instagram',
  threads: 'Threads',
  linkedin: 'LinkedIn',
  pinterest: 'Pinterest',
  tiktok: 'TikTok',
};
/** Platforms whose publisher passes media to the platform as a URL: inline bytes are refused. */
const URL_CONSUMERS = new Set<Platform>(['facebook', 'instagram', 'pinterest', 'threads']);

// ───────────────────────────── errors ─────────────────────────────

interface ErrorExtra {
  rule?: string;
  platform?: string;
  remediation?: string;
  platformResponse?: unknown;
  retryAfter?: number;
}

class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly extra: ErrorExtra;
  constructor(status: number, code: string, message: string, extra: ErrorExtra = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.extra = extra;
  }
}

function invalid(rule: string, message: string, remediation?: string): ApiError {
  return new ApiError(400, 'validation_failed', message, remediation === undefined ? { rule } : { rule, remediation });
}

function preflight(platform: Platform, rule: string, message: string, remediation: string): ApiError {
  return new ApiError(400, 'preflight_failed', message, { rule, platform, remediation });
}

function internalError(): ApiError {
  return new ApiError(500, 'internal_error', 'An unexpected error occurred.');
}

const FAULT_MESSAGES: Record<string, string> = {
  internal_error: 'An unexpected error occurred.',
  platform_unavailable: 'The platform is unavailable; try again later.',
  rate_limited: 'Rate limit exceeded.',
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
  rate_limited: 'Back off until the RateLimit-Reset window elapses, then retry.',
  quota_exceeded: 'Upgrade the plan or wait for the quota to reset.',
  platform_auth_failed: 'Reconnect the account in letmepost.',
};

/** A publisher's failure of one target: becomes `results[i]` with status rejected or failed. */
interface TargetFailure {
  code: string;
  message: string;
  rule?: string;
  platform?: string;
  remediation?: string;
  platformResponse?: unknown;
}

/** The route's classifyError: permanent → rejected, everything else → failed. */
function classify(code: string): 'rejected' | 'failed' {
  return code === 'preflight_failed' || code === 'platform_auth_failed' || code === 'platform_rejected' ? 'rejected' : 'failed';
}

// ───────────────────────────── ids ─────────────────────────────

const BASE32_LOWER = 'abcdefghijklmnopqrstuvwxyz234567';
const TID_ALPHABET = '234567abcdefghijklmnopqrstuvwxyz';
const ALNUM = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A UUIDv7 as the real server makes its row ids (48-bit ms timestamp first). */
function uuidv7(): string {
  const ts = BigInt(Date.now());
  const bytes = randomBytes(16);
  for (let i = 0; i < 6; i++) bytes[i] = Number((ts >> BigInt(40 - 8 * i)) & 0xffn);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
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

function digits(seed: string, n: number): string {
  let out = '';
  for (const byte of sha256(seed)) out += String(byte % 10);
  return ('1' + out).slice(0, n);
}

/** What the real server stores as `platformAccountId` (a DID, a numeric user / page id, …). */
function platformAccountId(account: FakeAccount): string {
  return account.platform === 'bluesky' ? fakeDid(account.id) : digits(account.id, 17);
}

// ───────────────────────────── helpers ─────────────────────────────

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isPlatform(v: unknown): v is Platform {
  return typeof v === 'string' && (PLATFORMS as readonly string[]).includes(v);
}

/** X counts every URL as 23. */
function twitterWeight(text: string): number {
  let total = graphemeCount(text);
  for (const url of text.match(/https?:\/\/[^\s]+/gi) ?? []) total += 23 - graphemeCount(url);
  return total;
}

/**
 * The key order PostgreSQL's jsonb gives an object back in (shorter keys first, then bytewise):
 * what the real server's stored answers (replays) and jsonb columns (mediaRefs, error) look like.
 */
function jsonbOrder(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(jsonbOrder);
  if (!isObj(v)) return v;
  const keys = Object.keys(v).filter((k) => v[k] !== undefined);
  keys.sort((a, b) => Buffer.byteLength(a) - Buffer.byteLength(b) || Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const out: Obj = {};
  for (const k of keys) out[k] = jsonbOrder(v[k]);
  return out;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

// ───────────────────────────── the request schema (zod 3 semantics) ─────────────────────────────
//
// The real server validates POST /v1/posts with a zod 3 schema (packages/schemas/src/post.ts)
// and reports the FIRST issue: `rule` = its path joined with '.', `message` = zod's message,
// `platformResponse` = every issue. zod parses object keys in schema order, collects every
// issue, and skips a refinement when its input already failed with a type error ("aborted").
// This reproduces that for the schema's shapes; unknown keys are ignored (stripped).

type Path = Array<string | number>;
interface Issue {
  code: string;
  path: Path;
  message: string;
  [k: string]: unknown;
}
type St = 'valid' | 'dirty' | 'aborted';

function worst(a: St, b: St): St {
  if (a === 'aborted' || b === 'aborted') return 'aborted';
  return a === 'dirty' || b === 'dirty' ? 'dirty' : 'valid';
}

function typeName(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isNaN(v) ? 'nan' : 'number';
  return typeof v;
}

function quoteAll(options: readonly string[]): string {
  return options.map((o) => `'${o}'`).join(' | ');
}

class Checker {
  readonly issues: Issue[] = [];

  type(expected: string, v: unknown, path: Path): St {
    const received = typeName(v);
    this.issues.push({ code: 'invalid_type', expected, received, path, message: v === undefined ? 'Required' : `Expected ${expected}, received ${received}` });
    return 'aborted';
  }

  string(v: unknown, path: Path, checks: { min?: number; uuid?: boolean; url?: boolean; datetime?: boolean; regex?: RegExp } = {}): St {
    if (typeof v !== 'string') return this.type('string', v, path);
    let st: St = 'valid';
    if (checks.min !== undefined && v.length < checks.min) {
      this.issues.push({ code: 'too_small', minimum: checks.min, type: 'string', inclusive: true, exact: false, message: `String must contain at least ${checks.min} character(s)`, path });
      st = 'dirty';
    }
    if (checks.uuid && !UUID_PATTERN.test(v)) {
      this.issues.push({ validation: 'uuid', code: 'invalid_string', message: 'Invalid uuid', path });
      st = 'dirty';
    }
    if (checks.regex && !checks.regex.test(v)) {
      this.issues.push({ validation: 'regex', code: 'invalid_string', message: 'Invalid', path });
      st = 'dirty';
    }
    if (checks.url) {
      let ok = true;
      try {
        new URL(v);
      } catch {
        ok = false;
      }
      if (!ok) {
        this.issues.push({ validation: 'url', code: 'invalid_string', message: 'Invalid url', path });
        st = 'dirty';
      }
    }
    if (checks.datetime && !DATETIME_PATTERN.test(v)) {
      this.issues.push({ code: 'invalid_string', validation: 'datetime', message: 'Invalid datetime', path });
      st = 'dirty';
    }
    return st;
  }

  boolean(v: unknown, path: Path): St {
    return typeof v === 'boolean' ? 'valid' : this.type('boolean', v, path);
  }

  enumeration(v: unknown, options: readonly string[], path: Path): St {
    if (typeof v !== 'string') {
      const received = typeName(v);
      this.issues.push({ expected: quoteAll(options), received, code: 'invalid_type', path, message: v === undefined ? 'Required' : `Expected ${quoteAll(options)}, received ${received}` });
      return 'aborted';
    }
    if (!options.includes(v)) {
      this.issues.push({ received: v, code: 'invalid_enum_value', options: [...options], path, message: `Invalid enum value. Expected ${quoteAll(options)}, received '${v}'` });
      return 'aborted';
    }
    return 'valid';
  }

  custom(message: string, path: Path): St {
    this.issues.push({ code: 'custom', message, path });
    return 'dirty';
  }
}

interface MediaItem {
  kind: 'image' | 'video';
  altText?: string;
  mediaId?: string;
  url?: string;
  bytesBase64?: string;
}

interface OptionsIn {
  platform: string;
  [k: string]: unknown;
}

interface TargetIn {
  accountId?: string;
  platform?: Platform;
  text?: string;
  media?: MediaItem[];
  firstComment?: { text: string };
  options?: OptionsIn;
}

interface CreateIn {
  targets: TargetIn[];
  text?: string;
  media?: MediaItem[];
  firstComment?: { text: string };
  publishNow?: boolean;
  scheduledAt?: string;
  profileId?: string;
}

const SOURCE_MESSAGE = "Exactly one of 'mediaId', 'url', or 'bytesBase64' must be provided for each media item.";

/** MediaInput = union(image ∩ source, video ∩ source); the source refines "exactly one". */
function checkMediaItem(c: Checker, v: unknown, path: Path): St {
  const option = (kind: 'image' | 'video'): { st: St; issues: Issue[] } => {
    const sub = new Checker();
    let left: St;
    let right: St;
    if (!isObj(v)) {
      left = sub.type('object', v, path);
      right = sub.type('object', v, path);
      return { st: worst(left, right), issues: sub.issues };
    }
    left = 'valid';
    if (v.kind !== kind) {
      sub.issues.push({ received: v.kind, code: 'invalid_literal', expected: kind, path: [...path, 'kind'], message: `Invalid literal value, expected "${kind}"` });
      left = 'aborted';
    }
    if (v.altText !== undefined) left = worst(left, sub.string(v.altText, [...path, 'altText']));
    right = 'valid';
    if (v.mediaId !== undefined) right = worst(right, sub.string(v.mediaId, [...path, 'mediaId'], { regex: MEDIA_ID_PATTERN }));
    if (v.url !== undefined) right = worst(right, sub.string(v.url, [...path, 'url'], { url: true }));
    if (v.bytesBase64 !== undefined) right = worst(right, sub.string(v.bytesBase64, [...path, 'bytesBase64'], { min: 1 }));
    if (right !== 'aborted') {
      const count = (v.mediaId ? 1 : 0) + (v.url ? 1 : 0) + (v.bytesBase64 ? 1 : 0);
      if (count !== 1) right = worst(right, sub.custom(SOURCE_MESSAGE, path));
    }
    return { st: worst(left, right), issues: sub.issues };
  };
  const image = option('image');
  const video = option('video');
  if (image.st === 'valid' || video.st === 'valid') return 'valid';
  const dirty = [image, video].find((o) => o.st === 'dirty');
  if (dirty) {
    c.issues.push(...dirty.issues);
    return 'dirty';
  }
  c.issues.push({ code: 'invalid_union', unionErrors: [{ issues: image.issues, name: 'ZodError' }, { issues: video.issues, name: 'ZodError' }], path, message: 'Invalid input' });
  return 'aborted';
}

function checkMediaArray(c: Checker, v: unknown, path: Path): St {
  if (v === undefined) return 'valid';
  if (!Array.isArray(v)) return c.type('array', v, path);
  let st: St = 'valid';
  v.forEach((item, i) => {
    st = worst(st, checkMediaItem(c, item, [...path, i]));
  });
  return st;
}

function checkFirstComment(c: Checker, v: unknown, path: Path): St {
  if (v === undefined) return 'valid';
  if (!isObj(v)) return c.type('object', v, path);
  return c.string(v.text, [...path, 'text'], { min: 1 });
}

function checkOptions(c: Checker, v: unknown, path: Path): St {
  if (v === undefined) return 'valid';
  if (!isObj(v)) return c.type('object', v, path);
  const platform = v.platform;
  if (typeof platform !== 'string' || !(OPTION_PLATFORMS as readonly string[]).includes(platform)) {
    c.issues.push({ code: 'invalid_union_discriminator', options: [...OPTION_PLATFORMS], path: [...path, 'platform'], message: `Invalid discriminator value. Expected ${quoteAll(OPTION_PLATFORMS)}` });
    return 'aborted';
  }
  const str = (key: string, checks: Parameters<Checker['string']>[2] = { min: 1 }): St => (v[key] === undefined ? 'valid' : c.string(v[key], [...path, key], checks));
  const bool = (key: string): St => (v[key] === undefined ? 'valid' : c.boolean(v[key], [...path, key]));
  let st: St = 'valid';
  switch (platform) {
    case 'twitter':
      st = worst(str('replyToTweetId'), str('quoteTweetId'));
      break;
    case 'pinterest':
      st = worst(worst(str('boardId'), str('destinationUrl', { url: true })), worst(str('title'), str('coverImageUrl', { url: true })));
      break;
    case 'threads':
      st = str('replyToId');
      break;
    case 'tiktok':
      if (v.privacy !== undefined) st = c.enumeration(v.privacy, ['public_to_everyone', 'mutual_follow_friend', 'self_only'], [...path, 'privacy']);
      for (const key of ['disableComment', 'disableDuet', 'disableStitch', 'brandContentToggle', 'brandOrganicToggle']) st = worst(st, bool(key));
      break;
    case 'bluesky':
      for (const key of ['replyToUri', 'replyToCid', 'replyRootUri', 'replyRootCid']) st = worst(st, str(key));
      break;
    default:
      break;
  }
  if (st === 'aborted') return st;
  // TargetOptions.superRefine
  if (platform === 'twitter' && v.replyToTweetId && v.quoteTweetId) {
    st = worst(st, c.custom('Pass either `replyToTweetId` or `quoteTweetId`, not both — X rejects tweets that combine the two.', [...path, 'replyToTweetId']));
  }
  if (platform === 'bluesky') {
    if ((v.replyToUri !== undefined) !== (v.replyToCid !== undefined)) {
      st = worst(st, c.custom('Bluesky replies need both `replyToUri` and `replyToCid` (a strong ref from the parent post).', [...path, v.replyToUri === undefined ? 'replyToUri' : 'replyToCid']));
    }
    if ((v.replyRootUri !== undefined) !== (v.replyRootCid !== undefined)) {
      st = worst(st, c.custom('`replyRootUri` and `replyRootCid` must be provided together.', [...path, v.replyRootUri === undefined ? 'replyRootUri' : 'replyRootCid']));
    }
    if ((v.replyRootUri !== undefined || v.replyRootCid !== undefined) && !(v.replyToUri !== undefined && v.replyToCid !== undefined)) {
      st = worst(st, c.custom('`replyRoot*` requires `replyToUri` + `replyToCid` (the parent). Omit it to reply to a top-level post — root defaults to the parent.', [...path, 'replyToUri']));
    }
  }
  return st;
}

function checkTarget(c: Checker, v: unknown, path: Path): St {
  if (!isObj(v)) return c.type('object', v, path);
  let st: St = 'valid';
  if (v.accountId !== undefined) st = worst(st, c.string(v.accountId, [...path, 'accountId'], { uuid: true }));
  if (v.platform !== undefined) st = worst(st, c.enumeration(v.platform, PLATFORMS, [...path, 'platform']));
  if (v.text !== undefined) st = worst(st, c.string(v.text, [...path, 'text'], { min: 1 }));
  st = worst(st, checkMediaArray(c, v.media, [...path, 'media']));
  st = worst(st, checkFirstComment(c, v.firstComment, [...path, 'firstComment']));
  st = worst(st, checkOptions(c, v.options, [...path, 'options']));
  if (st !== 'aborted' && !v.accountId && !v.platform) {
    st = worst(st, c.custom('Each target must carry `accountId`, `platform`, or both. Pass `platform` alone when your org has exactly one connected account for that platform.', [...path, 'accountId']));
  }
  return st;
}

/** The parsed request (unknown keys stripped), or the zod-style issues. */
function parseCreateRequest(raw: unknown): { ok: true; value: CreateIn } | { ok: false; issues: Issue[] } {
  const c = new Checker();
  if (!isObj(raw)) {
    c.type('object', raw, []);
    return { ok: false, issues: c.issues };
  }
  if (!Array.isArray(raw.targets)) {
    c.type('array', raw.targets, ['targets']);
  } else {
    if (raw.targets.length < 1) {
      c.issues.push({ code: 'too_small', minimum: 1, type: 'array', inclusive: true, exact: false, message: 'Array must contain at least 1 element(s)', path: ['targets'] });
    }
    raw.targets.forEach((t, i) => checkTarget(c, t, ['targets', i]));
  }
  if (raw.text !== undefined) c.string(raw.text, ['text'], { min: 1 });
  checkMediaArray(c, raw.media, ['media']);
  checkFirstComment(c, raw.firstComment, ['firstComment']);
  if (raw.publishNow !== undefined) c.boolean(raw.publishNow, ['publishNow']);
  if (raw.scheduledAt !== undefined) c.string(raw.scheduledAt, ['scheduledAt'], { datetime: true });
  if (raw.profileId !== undefined) c.string(raw.profileId, ['profileId'], { uuid: true });
  if (c.issues.length > 0) return { ok: false, issues: c.issues };

  const media = (v: unknown): MediaItem[] | undefined =>
    Array.isArray(v)
      ? v.map((m: Obj) => {
          const out: MediaItem = { kind: m.kind as 'image' | 'video' };
          for (const k of ['altText', 'mediaId', 'url', 'bytesBase64'] as const) if (m[k] !== undefined) out[k] = m[k] as string;
          return out;
        })
      : undefined;
  const firstComment = (v: unknown): { text: string } | undefined => (isObj(v) ? { text: v.text as string } : undefined);
  const options = (v: unknown): OptionsIn | undefined => {
    if (!isObj(v)) return undefined;
    const known: Record<string, string[]> = {
      twitter: ['replyToTweetId', 'quoteTweetId'],
      pinterest: ['boardId', 'destinationUrl', 'title', 'coverImageUrl'],
      threads: ['replyToId'],
      tiktok: ['privacy', 'disableComment', 'disableDuet', 'disableStitch', 'brandContentToggle', 'brandOrganicToggle'],
      bluesky: ['replyToUri', 'replyToCid', 'replyRootUri', 'replyRootCid'],
    };
    const out: OptionsIn = { platform: v.platform as string };
    for (const k of known[v.platform as string] ?? []) if (v[k] !== undefined) out[k] = v[k];
    return out;
  };
  const value: CreateIn = {
    targets: (raw.targets as Obj[]).map((t) => {
      const out: TargetIn = {};
      if (t.accountId !== undefined) out.accountId = t.accountId as string;
      if (t.platform !== undefined) out.platform = t.platform as Platform;
      if (t.text !== undefined) out.text = t.text as string;
      const m = media(t.media);
      if (m) out.media = m;
      const fc = firstComment(t.firstComment);
      if (fc) out.firstComment = fc;
      const o = options(t.options);
      if (o) out.options = o;
      return out;
    }),
  };
  if (raw.text !== undefined) value.text = raw.text as string;
  const m = media(raw.media);
  if (m) value.media = m;
  const fc = firstComment(raw.firstComment);
  if (fc) value.firstComment = fc;
  if (raw.publishNow !== undefined) value.publishNow = raw.publishNow as boolean;
  if (raw.scheduledAt !== undefined) value.scheduledAt = raw.scheduledAt as string;
  if (raw.profileId !== undefined) value.profileId = raw.profileId as string;
  return { ok: true, value };
}

/** The route's throwZodValidationError. */
function schemaError(issues: Issue[]): ApiError {
  const first = issues[0];
  return new ApiError(400, 'validation_failed', first?.message ?? 'Request body failed validation.', {
    rule: first?.path.join('.') || 'body',
    platformResponse: issues,
    remediation: SCHEMA_REMEDIATION,
  });
}

// ───────────────────────────── preflight (cheap, atomic: a 400 before any row) ─────────────────────────────

interface TargetSpec {
  account: FakeAccount;
  platform: Platform;
  text: string;
  media: MediaItem[];
  firstComment?: { text: string };
  options?: OptionsIn;
}

function nonEmpty(platform: Platform, text: string): void {
  if (text.trim().length === 0) {
    throw preflight(platform, `${platform}.text.non_empty`, 'Post text cannot be empty or whitespace-only.', 'Provide at least one non-whitespace character.');
  }
}

function maxGraphemes(platform: Platform, text: string, max: number, rule = `${platform}.text.max_graphemes`): void {
  const count = graphemeCount(text);
  if (count > max) throw preflight(platform, rule, `Post text is ${count} graphemes; ${platform} allows at most ${max}.`, `Shorten the post to ${max} graphemes or fewer.`);
}

function altTextMax(platform: Platform, media: MediaItem[], max: number): void {
  for (const m of media) {
    if (m.altText === undefined) continue;
    const count = graphemeCount(m.altText);
    if (count > max) {
      throw preflight(platform, `${platform}.media.alt_text_max_graphemes`, `Alt text is ${count} graphemes; ${PLATFORM_LABEL[platform]} allows at most ${max}.`, `Shorten alt text to ${max} graphemes or fewer.`);
    }
  }
}

function exclusiveAndCount(platform: Platform, media: MediaItem[], maxImages: number | undefined, what: string): void {
  const images = media.filter((m) => m.kind === 'image').length;
  const videos = media.filter((m) => m.kind === 'video').length;
  const label = PLATFORM_LABEL[platform];
  if (images > 0 && videos > 0) {
    throw preflight(platform, `${platform}.media.image_video_exclusive`, `Cannot attach both images and video to the same ${label} ${what}; pick one.`, 'Split the post: images in one post, video in another.');
  }
  if (videos > 1) throw preflight(platform, `${platform}.media.count_max`, `Attached ${videos} videos; ${label} allows at most 1 per ${what}.`, 'Attach a single video.');
  if (maxImages !== undefined && images > maxImages) {
    throw preflight(platform, `${platform}.media.count_max`, `Attached ${images} images; ${label} allows at most ${maxImages} per ${what}.`, `Reduce to ${maxImages} images or fewer.`);
  }
}

/** The dispatcher's preflightForAccount: shape checks only (no bytes), per platform. */
function preflightTarget(t: TargetSpec): void {
  const { platform, text, media } = t;
  switch (platform) {
    case 'bluesky':
      nonEmpty(platform, text);
      maxGraphemes(platform, text, 300);
      exclusiveAndCount(platform, media, 4, 'post');
      altTextMax(platform, media, 2000);
      return;
    case 'twitter': {
      nonEmpty(platform, text);
      const weight = twitterWeight(text);
      if (weight > 280) {
        throw preflight(platform, 'twitter.text.max_graphemes', `Tweet weight is ${weight} graphemes (URL-shortened); X allows at most 280.`, 'Shorten the tweet — every link counts as 23 characters regardless of length.');
      }
      exclusiveAndCount(platform, media, 4, 'tweet');
      altTextMax(platform, media, 1000);
      return;
    }
    case 'linkedin':
      nonEmpty(platform, text);
      maxGraphemes(platform, text, 3000);
      return;
    case 'facebook':
      if (media.length === 0 && text.trim().length === 0) {
        throw preflight(platform, 'facebook.text.required', 'Facebook text-only posts require non-empty text — pass `media: [...]` for a photo/video post.', 'Provide non-whitespace `text`, or include at least one media item.');
      }
      maxGraphemes(platform, text, 63_206);
      exclusiveAndCount(platform, media, undefined, 'post');
      return;
    case 'instagram':
      if (media.length === 0) {
        throw preflight(platform, 'instagram.media.required', 'Instagram does not support text-only posts. Attach at least one image or video via `media: [...]`.', "Provide a media item — Instagram's API has no text-only feed surface.");
      }
      if (text.trim().length > 0) maxGraphemes(platform, text, 2200);
      if (media.length > 10) {
        throw preflight(platform, 'instagram.media.count_max', `Attached ${media.length} media items; Instagram allows at most 10 per carousel.`, 'Reduce to 10 items or fewer.');
      }
      altTextMax(platform, media, 2200);
      return;
    case 'threads':
      if (media.length === 0 && text.trim().length === 0) {
        throw preflight(platform, 'threads.text.required', 'Threads text-only posts require non-empty text — pass `media: [...]` for an image/video/carousel.', 'Provide non-whitespace `text`, or include at least one media item.');
      }
      maxGraphemes(platform, text, 500);
      if (media.length > 20) {
        throw preflight(platform, 'threads.media.count_max', `Attached ${media.length} media items; Threads allows at most 20 per carousel.`, 'Reduce to 20 items or fewer, or split into multiple posts.');
      }
      altTextMax(platform, media, 1000);
      return;
    case 'pinterest':
      if (media.length === 0) {
        throw preflight(platform, 'pinterest.media.required', 'Pinterest posts require a media item.', 'Pass `media: [{ kind: "image", url | mediaId }]` on the request body.');
      }
      return;
    case 'tiktok': {
      if (text.length > 2200) {
        throw preflight(platform, 'tiktok.text.max_chars', `TikTok caption is ${text.length} characters; max is 2200.`, 'Shorten the caption to 2200 characters or fewer.');
      }
      const hashtags = text.match(/#[\p{L}\p{N}_]+/gu)?.length ?? 0;
      if (hashtags > 100) {
        throw preflight(platform, 'tiktok.text.hashtag_max', `TikTok caption has ${hashtags} hashtags; max is 100.`, 'Reduce the hashtag count to 100 or fewer.');
      }
      if (media.length === 0) {
        throw preflight(platform, 'tiktok.media.required', 'TikTok posts require exactly one video.', 'Pass `media: [{ kind: "video", mediaId | url }]` on the request body.');
      }
      if (media.length > 1) {
        throw preflight(platform, 'tiktok.media.single_only', 'TikTok posts support exactly one video item.', "Send a single video item; photo carousels aren't supported on unaudited apps.");
      }
      if (media[0]!.kind !== 'video') {
        throw preflight(platform, 'tiktok.media.video_required', `TikTok posts require a video media item; got '${media[0]!.kind}'.`, 'TikTok unaudited apps only support video posts via the Content Posting API.');
      }
      if (t.options?.brandContentToggle && t.options.brandOrganicToggle) {
        throw preflight(platform, 'tiktok.branded_content.mutual_exclusive', 'TikTok rejects posts that enable both brand_content_toggle and brand_organic_toggle.', 'Set exactly one of `brandContentToggle` (paid partnership) or `brandOrganicToggle` (your own brand).');
      }
      return;
    }
  }
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

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

interface Outcome {
  reply: Reply;
  /** Stores the idempotency record (if the answer is storable and the key still free); runs right before delivery. */
  finalize?: () => void;
}

interface Ctx {
  method: string;
  pathname: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: Buffer;
  requestId: string;
  fault: Fault | undefined;
  idempotencyKey: string | undefined;
  /** Headers every answer to this request carries (the limiter's). */
  out: Record<string, string>;
}

interface Row {
  post: FakePost;
  account: FakeAccount;
  mediaRefs: MediaItem[];
  scheduledAt: number | null;
  publishedAt: number | null;
  platformUri: string | null;
  platformCid: string | null;
  error: Obj | null;
  createdAt: number;
  updatedAt: number;
}

interface IdemRecord {
  hash: string;
  status: number;
  /** The answer as parsed JSON (the real server keeps it in a jsonb column). */
  body: unknown;
  /** Older than the 24 h window: ignored by the lookup, but still blocks storing the key again. */
  expired?: boolean;
}

interface StoredMedia extends FakeMedia {
  url: string;
  sha256: string;
  createdAt: string;
}

type Route =
  | { name: 'createPost' | 'listPosts' | 'uploadMedia' | 'listAccounts' }
  | { name: 'getPost' | 'patchPost' | 'deletePost'; id: string };

function matchRoute(method: string, pathname: string): Route | undefined {
  if (pathname === '/v1/posts') {
    if (method === 'POST') return { name: 'createPost' };
    if (method === 'GET') return { name: 'listPosts' };
  }
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

/** The X-RateLimit-Limit the real server puts on every answer (a static per-route figure). */
function staticLimit(method: string, pathname: string): string {
  if (method === 'POST' && pathname === '/v1/posts') return '1000';
  if (method === 'POST' && pathname === '/v1/media') return '500';
  return '5000';
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

function isLimiter429(reply: Reply): boolean {
  if (reply.status !== 429) return false;
  try {
    const parsed = JSON.parse(reply.body.toString('utf8')) as { error?: { code?: unknown } };
    return parsed.error?.code === 'rate_limited';
  } catch {
    return false;
  }
}

export async function startFakeLetmepost(opts: FakeLetmepostOptions = {}): Promise<FakeLetmepost> {
  const token = opts.token ?? DEFAULT_TOKEN;
  const startedAt = Date.now();
  const profileId = uuidv7();
  const accounts: FakeAccount[] = (opts.accounts ?? DEFAULT_ACCOUNTS).map((a) => ({ ...a }));
  const requests: RecordedRequest[] = [];
  const posts: FakePost[] = [];
  const media: FakeMedia[] = [];
  const mediaById = new Map<string, StoredMedia>();
  const rows = new Map<string, Row>();
  const records = new Map<string, IdemRecord>();
  const faults = new FaultQueue<'posts' | 'media', Fault>();
  const sleeps = new Sleeps();
  const platformSettings: Required<FakePlatformSettings> = { delayMs: 0, down: false };
  const limiter = { resetAt: 0, used: 0 };
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
  /** What each real publisher returns as uri / cid. */
  function nativeIds(platform: Platform, account: FakeAccount): { uri?: string; cid?: string } {
    const owner = platformAccountId(account);
    switch (platform) {
      case 'bluesky': {
        const uri = `at://${owner}/app.bsky.feed.post/${nextTid()}`;
        return { uri, cid: fakeCid(uri) };
      }
      case 'twitter':
        return { uri: `https://twitter.com/${owner}/status/${snowflake()}` };
      case 'linkedin':
        return { uri: `urn:li:share:${snowflake()}` };
      case 'facebook':
        return { uri: `https://www.facebook.com/${owner}/posts/${snowflake().slice(0, 16)}` };
      case 'instagram':
        return { uri: `https://www.instagram.com/p/${randomFrom(ALNUM, 11)}/` };
      case 'threads':
        return { uri: `https://www.threads.net/@fake/post/${randomFrom(ALNUM, 11)}` };
      case 'pinterest':
        return { uri: `https://www.pinterest.com/pin/${snowflake().slice(0, 18)}/` };
      case 'tiktok':
        return { cid: `v_inbox_file~v2.${snowflake()}` };
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
    if (e.extra.rule !== undefined) error.ruleUrl = `${DOCS}/preflight/${e.extra.rule.replace(/\./g, '-').toLowerCase()}`;
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

  /** Only ever sent when a test injects the `in-progress` fault: the real server has no in-flight claim. */
  function inProgressError(): ApiError {
    return new ApiError(409, 'idempotency_conflict', 'A request with this Idempotency-Key is already in progress.', {
      rule: 'idempotency_key.in_progress',
      remediation: 'Wait for the original request to complete, then retry with the same Idempotency-Key.',
    });
  }

  // ── accounts and rows ──
  function accountView(a: FakeAccount): Obj {
    return {
      id: a.id,
      platform: a.platform,
      platformAccountId: platformAccountId(a),
      displayName: a.displayName ?? `${a.platform} account`,
    };
  }

  /** The route's publicView of a row (jsonb columns in jsonb key order). */
  function publicView(r: Row, overrides: { scheduledAt?: number } = {}): Obj {
    const scheduledAt = overrides.scheduledAt ?? r.scheduledAt;
    return {
      id: r.post.id,
      profileId,
      accountId: r.account.id,
      account: accountView(r.account),
      platform: r.account.platform,
      status: r.post.status,
      text: r.post.text,
      mediaRefs: jsonbOrder(r.mediaRefs),
      scheduledAt: scheduledAt === null ? null : iso(scheduledAt),
      publishedAt: r.publishedAt === null ? null : iso(r.publishedAt),
      platformUri: r.platformUri,
      platformCid: r.platformCid,
      error: r.error === null ? null : jsonbOrder(r.error),
      createdAt: iso(r.createdAt),
      updatedAt: iso(r.updatedAt),
    };
  }

  function insertRow(ctx: Ctx, raw: unknown, spec: TargetSpec, status: 'publishing' | 'queued', scheduledAt: number | null): Row {
    const now = Date.now();
    const post: FakePost = { id: uuidv7(), body: raw, status, platform: spec.platform, accountId: spec.account.id, text: spec.text, createdAt: iso(now) };
    if (ctx.idempotencyKey) post.idempotencyKey = ctx.idempotencyKey;
    if (scheduledAt !== null) post.scheduledAt = iso(scheduledAt);
    const row: Row = { post, account: spec.account, mediaRefs: spec.media, scheduledAt, publishedAt: null, platformUri: null, platformCid: null, error: null, createdAt: now, updatedAt: now };
    rows.set(post.id, row);
    if (status === 'queued') posts.push(post);
    return row;
  }

  // ── POST /v1/posts ──
  function resolveAccount(t: TargetIn, reqProfileId: string | undefined): FakeAccount {
    if (t.accountId !== undefined) {
      const account = accounts.find((a) => a.id.toLowerCase() === t.accountId!.toLowerCase());
      if (!account) {
        throw new ApiError(404, 'not_found', `Platform account not found: ${t.accountId}.`, { remediation: 'Verify each `targets[].accountId` belongs to your organization.' });
      }
      if (t.platform !== undefined && t.platform !== account.platform) {
        throw invalid('targets.account.platform_mismatch', `Target carries platform "${t.platform}" but accountId ${t.accountId} is a ${account.platform} account.`, "Drop `platform` or set it to match the account's platform.");
      }
      return account;
    }
    const platform = t.platform!;
    const matches = reqProfileId !== undefined && reqProfileId !== profileId ? [] : accounts.filter((a) => a.platform === platform);
    if (matches.length === 0) {
      throw invalid('target.account.not_connected', `No connected ${platform} account in scope for this api key.`, `Connect a ${platform} account via POST /v1/accounts/connect/${platform}, then retry.`);
    }
    if (matches.length > 1) {
      const candidates = matches.map((a) => a.id);
      throw new ApiError(400, 'validation_failed', `Multiple connected ${platform} accounts in scope — specify which one in targets[i].accountId.`, {
        rule: 'target.account.ambiguous',
        platformResponse: { candidates },
        remediation: `Pass one of the candidate ids on targets[i].accountId: ${candidates.join(', ')}.`,
      });
    }
    return matches[0]!;
  }

  /** What one publisher call ends in, after the platform "answered". */
  function publishTarget(ctx: Ctx, spec: TargetSpec): { ok: true; fields: Obj } | { ok: false; failure: TargetFailure } {
    const { platform, text } = spec;
    const fail = (failure: TargetFailure) => ({ ok: false as const, failure });
    // Pinterest: the board is checked before anything else (dispatch.ts).
    if (platform === 'pinterest' && !(typeof spec.options?.boardId === 'string' && spec.options.boardId)) {
      return fail({
        code: 'validation_failed',
        message: 'Pinterest posts need a board — none configured on the account and none on the request.',
        rule: 'pinterest.board.required',
        platform,
        remediation: 'Set a default board via PATCH /v1/accounts/:id/pinterest/default-board, or pass `pinterest: { boardId }` on the request body. Use one of the ids in `platformResponse.availableBoards` below.',
      });
    }
    // Media: the publisher resolves every item (deep checks happen here, after the rows exist).
    const limits = MAX_BYTES[platform];
    for (const m of platform === 'linkedin' ? [] : spec.media) {
      let bytes: number | undefined;
      let mime: string | undefined;
      if (m.mediaId !== undefined) {
        const stored = mediaById.get(m.mediaId);
        if (!stored) return fail({ code: 'not_found', message: 'Media not found.', rule: 'media.unknown', platform });
        bytes = stored.size;
        mime = stored.contentType;
      } else if (m.bytesBase64 !== undefined) {
        if (URL_CONSUMERS.has(platform)) {
          return fail({
            code: 'preflight_failed',
            message: "Inline bytesBase64 isn't accepted on URL-consuming platforms (e.g. Pinterest).",
            rule: 'media.bytes_inline_unsupported',
            platform,
            remediation: 'Upload via POST /v1/media first, then reference the returned id as { kind, mediaId }.',
          });
        }
        bytes = Buffer.from(m.bytesBase64, 'base64').length;
        mime = m.kind === 'image' ? 'image/jpeg' : 'video/mp4';
      }
      if (platform === 'bluesky' && mime !== undefined) {
        const allowed = m.kind === 'image' ? ['image/jpeg', 'image/png', 'image/webp', 'image/gif'] : ['video/mp4'];
        if (!allowed.includes(mime)) {
          return fail({
            code: 'preflight_failed',
            message: `${m.kind === 'image' ? 'Image' : 'Video'} mime type '${mime}' is not allowed on Bluesky.`,
            rule: 'bluesky.media.mime_allowed',
            platform,
            remediation: m.kind === 'image' ? `Use one of: ${allowed.join(', ')}.` : 'Bluesky currently supports mp4 video only.',
          });
        }
      }
      if (limits && bytes !== undefined) {
        const max = m.kind === 'image' ? limits[0] : limits[1];
        if (bytes > max) {
          const subject = m.kind === 'image' ? 'Image' : 'Video';
          return fail({
            code: 'preflight_failed',
            message: `${subject} is ${bytes} bytes; ${platform} allows at most ${max}.`,
            rule: `${platform}.media.${m.kind}_size_max`,
            platform,
            remediation: `Re-encode the ${m.kind} under ${max} bytes.`,
          });
        }
      }
    }
    if (platform === 'bluesky' && spec.firstComment) {
      const c = spec.firstComment.text;
      if (c.trim().length === 0) {
        return fail({ code: 'preflight_failed', message: 'Post text cannot be empty or whitespace-only.', rule: 'bluesky.first_comment.non_empty', platform, remediation: 'Provide at least one non-whitespace character.' });
      }
      const count = graphemeCount(c);
      if (count > 300) {
        return fail({ code: 'preflight_failed', message: `Post text is ${count} graphemes; bluesky allows at most 300.`, rule: 'bluesky.first_comment.max_graphemes', platform, remediation: 'Shorten the post to 300 graphemes or fewer.' });
      }
    }
    // The platform call itself.
    const fault = ctx.fault;
    if (platformSettings.down || fault?.kind === 'failed-status' || text.includes('[fail]')) {
      return fail({ code: 'platform_unavailable', message: `Failed to reach ${platform}.`, platform, remediation: 'The upstream platform may be unreachable or unresponsive; retry the request shortly.' });
    }
    if (fault?.kind === 'rejected-status' || text.includes('[reject]')) {
      return fail({ code: 'platform_rejected', message: (fault?.kind === 'rejected-status' ? fault.message : undefined) ?? `${platform} refused the post (fake rejection).`, platform });
    }
    const fields: Obj = { ...nativeIds(platform, spec.account) };
    if (platform === 'bluesky' && spec.firstComment) {
      const reply = nativeIds(platform, spec.account);
      fields.firstCommentUri = reply.uri;
      fields.firstCommentCid = reply.cid;
    }
    if ((platform === 'bluesky' || platform === 'tiktok') && text.includes('[warn]')) {
      fields.warnings = [{ code: 'fake_warning', message: 'Warning requested by the [warn] marker in the text (fake letmepost).' }];
    }
    return { ok: true, fields };
  }

  /** The documented single-account shape, as `targets[]` (see FakeLetmepostOptions.accountShapeOnly). */
  function fromAccountShape(raw: unknown): unknown {
    const body = (raw !== null && typeof raw === 'object' ? raw : {}) as Obj;
    const account = body.account as Obj | undefined;
    if (account === undefined || typeof account !== 'object') {
      throw new ApiError(400, 'validation_failed', 'Required', { rule: 'account', remediation: SCHEMA_REMEDIATION, platformResponse: [{ code: 'invalid_type', expected: 'object', received: 'undefined', path: ['account'], message: 'Required' }] });
    }
    const { account: _, pinterest, threads, firstComment, ...rest } = body;
    const platform = String(account.platform);
    const flat = (platform === 'pinterest' ? pinterest : platform === 'threads' ? threads : undefined) as Obj | undefined;
    return { ...rest, targets: [{ accountId: account.id, platform, ...(firstComment !== undefined ? { firstComment } : {}), ...(flat ? { options: { platform, ...flat } } : {}) }] };
  }

  async function createPost(ctx: Ctx): Promise<Reply> {
    let raw: unknown;
    try {
      raw = JSON.parse(ctx.body.toString('utf8'));
    } catch {
      throw invalid('body.json', 'Request body must be JSON.');
    }
    if (opts.accountShapeOnly) raw = fromAccountShape(raw);
    const parsed = parseCreateRequest(raw);
    if (!parsed.ok) throw schemaError(parsed.issues);
    const req = parsed.value;
    if (req.targets.length > MAX_TARGETS) {
      throw invalid('targets.max', `A single request may not fan out to more than ${MAX_TARGETS} targets.`, `Split the publish into batches of at most ${MAX_TARGETS} targets.`);
    }
    if (req.publishNow === true && req.scheduledAt) {
      throw invalid('mode_conflict', 'Pass either `publishNow: true` or `scheduledAt`, not both.', 'Drop `scheduledAt` to publish immediately, or drop `publishNow` to schedule.');
    }
    const resolved = req.targets.map((t) => resolveAccount(t, req.profileId));
    const specs: TargetSpec[] = req.targets.map((t, i) => {
      const account = resolved[i]!;
      const platform = account.platform as Platform;
      if (t.options && t.options.platform !== platform) {
        throw invalid('targets.options.platform_mismatch', `Target options carry platform "${t.options.platform}" but the resolved account ${account.id} is a ${platform} account.`, "Drop `options` or set `options.platform` to match the target's account platform.");
      }
      const text = t.text ?? req.text;
      if (text === undefined) {
        throw invalid('targets.text.required', `Target for account ${account.id} has no text and no top-level default text.`, 'Set `text` at the top level, or on each target that needs distinct copy.');
      }
      const spec: TargetSpec = { account, platform, text, media: t.media ?? req.media ?? [] };
      const firstComment = t.firstComment ?? req.firstComment;
      if (firstComment) spec.firstComment = firstComment;
      if (t.options) spec.options = t.options;
      return spec;
    });
    for (const spec of specs) preflightTarget(spec);

    if (req.scheduledAt) {
      const when = Date.parse(req.scheduledAt);
      if (when - Date.now() < MIN_FUTURE_DELAY_MS) {
        throw invalid('scheduledAt.future', 'scheduledAt must be at least 1 second in the future.', 'Send a timestamp at least 1 second ahead of now, or omit scheduledAt to publish immediately.');
      }
      for (const spec of specs) {
        if (spec.firstComment) {
          throw invalid('scheduledAt.no_first_comment', 'Scheduled posts do not yet support firstComment — publish immediately or drop the field.', 'Drop firstComment from this request, or omit scheduledAt to publish synchronously.');
        }
        if (spec.options?.platform === 'bluesky' && spec.options.replyToUri !== undefined && spec.options.replyToCid !== undefined) {
          throw invalid('scheduledAt.no_bluesky_reply', 'Scheduled posts do not yet support Bluesky reply threading — publish immediately or drop the reply options.', 'Drop the bluesky `replyTo*` options from this request, or omit scheduledAt to publish the reply synchronously.');
        }
      }
      const batchId = randomUUID();
      const createdAt = Date.now();
      const results = specs.map((spec) => {
        const row = insertRow(ctx, raw, spec, 'queued', when);
        return { accountId: spec.account.id, platform: spec.platform, postId: row.post.id, status: 'queued' };
      });
      return jsonReply(202, { id: batchId, status: 'queued', createdAt: iso(createdAt), scheduledAt: iso(when), results });
    }

    // Immediate: a `publishing` row per target first (GET /v1/posts sees them), then the platforms.
    const inserted = specs.map((spec) => insertRow(ctx, raw, spec, 'publishing', null));
    const batchId = randomUUID();
    const createdAt = Date.now();
    const delay = ctx.fault?.kind === 'slow-platform' ? ctx.fault.ms : ctx.fault?.kind === 'gateway-timeout' ? ctx.fault.platformMs : platformSettings.delayMs;
    if (delay > 0) await sleeps.sleep(delay);
    let succeeded = 0;
    const results = specs.map((spec, i) => {
      const row = inserted[i]!;
      const outcome = publishTarget(ctx, spec);
      const now = Date.now();
      row.updatedAt = now;
      const result: Obj = { accountId: spec.account.id, platform: spec.platform, postId: row.post.id };
      if (outcome.ok) {
        succeeded++;
        row.post.status = 'published';
        row.publishedAt = now;
        const { uri, cid } = outcome.fields as { uri?: string; cid?: string };
        row.platformUri = uri ?? null;
        row.platformCid = cid ?? null;
        if (uri !== undefined) row.post.uri = uri;
        if (cid !== undefined) row.post.cid = cid;
        posts.push(row.post);
        Object.assign(result, { status: 'published' }, outcome.fields);
      } else {
        const f = outcome.failure;
        const status = classify(f.code);
        row.post.status = status;
        row.error = { code: f.code, message: f.message, ...(f.rule ? { rule: f.rule } : {}), ...(f.platform ? { platform: f.platform } : {}), ...(f.platformResponse !== undefined ? { platformResponse: f.platformResponse } : {}), ...(f.remediation ? { remediation: f.remediation } : {}) };
        const error: Obj = { code: f.code, message: f.message };
        if (f.rule !== undefined) error.rule = f.rule;
        if (f.remediation !== undefined) error.remediation = f.remediation;
        if (f.platformResponse !== undefined) error.platformResponse = f.platformResponse;
        Object.assign(result, { status, error });
      }
      return result;
    });
    const status = succeeded === specs.length ? 'published' : succeeded === 0 ? 'failed' : 'partial_failed';
    return jsonReply(200, { id: batchId, status, createdAt: iso(createdAt), results });
  }

  // ── GET /v1/posts, GET/PATCH/DELETE /v1/posts/:id ──
  function listPosts(ctx: Ctx): Reply {
    const q = ctx.query;
    const arrayOf = (key: string): string[] | undefined => {
      const values = q.getAll(key).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
      return values.length > 0 ? values : undefined;
    };
    const raw = {
      profileId: q.get('profileId') ?? undefined,
      platform: arrayOf('platform'),
      status: arrayOf('status'),
      errorCode: arrayOf('errorCode'),
      after: q.get('after') ?? undefined,
      before: q.get('before') ?? undefined,
      limit: q.get('limit') ?? undefined,
      cursor: q.get('cursor') ?? undefined,
    };
    const c = new Checker();
    if (raw.profileId !== undefined) c.string(raw.profileId, ['profileId'], { uuid: true });
    raw.platform?.forEach((p, i) => c.enumeration(p, PLATFORMS, ['platform', i]));
    raw.status?.forEach((s, i) => c.enumeration(s, POST_STATUSES, ['status', i]));
    if (raw.after !== undefined) c.string(raw.after, ['after'], { datetime: true });
    if (raw.before !== undefined) c.string(raw.before, ['before'], { datetime: true });
    let limit = 50;
    if (raw.limit !== undefined) {
      const n = Number(raw.limit);
      if (Number.isNaN(n)) c.type('number', n, ['limit']);
      else if (!Number.isInteger(n)) c.issues.push({ code: 'invalid_type', expected: 'integer', received: 'float', message: 'Expected integer, received float', path: ['limit'] });
      else if (n < 1) c.issues.push({ code: 'too_small', minimum: 1, type: 'number', inclusive: true, exact: false, message: 'Number must be greater than or equal to 1', path: ['limit'] });
      else if (n > 200) c.issues.push({ code: 'too_big', maximum: 200, type: 'number', inclusive: true, exact: false, message: 'Number must be less than or equal to 200', path: ['limit'] });
      else limit = n;
    }
    if (raw.cursor !== undefined) c.string(raw.cursor, ['cursor'], { min: 1 });
    if (c.issues.length > 0) {
      const first = c.issues[0]!;
      throw new ApiError(400, 'validation_failed', first.message, { rule: first.path.join('.') || 'query', platformResponse: c.issues });
    }
    let list = [...rows.values()];
    if (raw.profileId !== undefined && raw.profileId !== profileId) list = [];
    if (raw.platform) list = list.filter((r) => raw.platform!.includes(r.account.platform));
    if (raw.status) list = list.filter((r) => raw.status!.includes(r.post.status));
    if (raw.errorCode) list = list.filter((r) => raw.errorCode!.includes(String(r.error?.code)));
    if (raw.after !== undefined) list = list.filter((r) => r.createdAt >= Date.parse(raw.after!));
    if (raw.before !== undefined) list = list.filter((r) => r.createdAt < Date.parse(raw.before!));
    if (raw.cursor !== undefined) {
      const decoded = Buffer.from(raw.cursor, 'base64url').toString('utf8');
      const colon = decoded.indexOf(':');
      const at = Number(decoded.slice(0, colon));
      const id = decoded.slice(colon + 1);
      if (colon > 0 && Number.isFinite(at) && id) list = list.filter((r) => r.createdAt < at || (r.createdAt === at && r.post.id < id));
    }
    list.sort((a, b) => b.createdAt - a.createdAt || (a.post.id < b.post.id ? 1 : a.post.id > b.post.id ? -1 : 0));
    const page = list.slice(0, limit);
    const last = page.at(-1);
    const nextCursor = list.length > limit && last ? Buffer.from(`${last.createdAt}:${last.post.id}`).toString('base64url') : null;
    return jsonReply(200, { data: page.map((r) => publicView(r)), nextCursor });
  }

  function findRow(id: string): Row {
    // PostgreSQL refuses a malformed uuid; the real server lets that surface as a 500.
    if (!UUID_PATTERN.test(id)) throw internalError();
    const row = rows.get(id.toLowerCase());
    if (!row) throw new ApiError(404, 'not_found', 'Post not found.');
    return row;
  }

  function modifiable(id: string): Row {
    const row = findRow(id);
    if (row.post.status !== 'queued') {
      throw new ApiError(409, 'validation_failed', `Cannot modify a post in status "${row.post.status}". Only queued scheduled posts can be rescheduled or canceled.`, { rule: 'post.status' });
    }
    if (row.scheduledAt === null || row.scheduledAt <= Date.now()) {
      throw new ApiError(409, 'validation_failed', 'This post is already firing or has no scheduledAt. The window for changes has closed.', { rule: 'post.scheduledAt.window' });
    }
    return row;
  }

  function patchPost(ctx: Ctx, id: string): Reply {
    let raw: unknown;
    try {
      raw = JSON.parse(ctx.body.toString('utf8'));
    } catch {
      raw = null;
    }
    const c = new Checker();
    if (!isObj(raw)) c.type('object', raw, []);
    else c.string(raw.scheduledAt, ['scheduledAt'], { datetime: true });
    if (c.issues.length > 0) {
      const first = c.issues[0]!;
      throw new ApiError(400, 'validation_failed', first.message, { rule: first.path.join('.') || 'body', platformResponse: c.issues });
    }
    const row = modifiable(id);
    const when = Date.parse((raw as Obj).scheduledAt as string);
    if (when - Date.now() < MIN_FUTURE_DELAY_MS) {
      throw invalid('scheduledAt.future', 'scheduledAt must be at least 1 second in the future.', 'Send a timestamp at least 1 second ahead of now.');
    }
    // The answer is built from the row as loaded (its updatedAt is the old one), with the new time.
    const view = publicView(row, { scheduledAt: when });
    row.scheduledAt = when;
    row.post.scheduledAt = iso(when);
    row.updatedAt = Date.now();
    return jsonReply(200, view);
  }

  function deletePost(id: string): Reply {
    const row = modifiable(id);
    row.post.status = 'canceled';
    row.updatedAt = Date.now();
    return jsonReply(200, { id: row.post.id, status: 'canceled' });
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
    return jsonReply(201, { id, url: record.url, contentType: type, sizeBytes: record.size, sha256: record.sha256, createdAt: record.createdAt });
  }

  // ── pipeline ──
  async function handlerStage(ctx: Ctx, run: () => Reply | Promise<Reply>): Promise<Reply> {
    try {
      const f = ctx.fault;
      if (f?.kind === 'status') throw statusFaultError(f); // http < 500, not the limiter: answered (and stored) here
      return await run();
    } catch (e) {
      if (e instanceof ApiError) return errorReply(ctx, e);
      return errorReply(ctx, internalError());
    }
  }

  async function withIdempotency(ctx: Ctx, run: () => Promise<Reply>): Promise<Outcome> {
    const key = ctx.idempotencyKey;
    if (!key) return { reply: await run() };
    if (key.length > MAX_KEY_LENGTH) {
      throw new ApiError(400, 'validation_failed', `Idempotency-Key must be ${MAX_KEY_LENGTH} characters or fewer.`, { rule: 'idempotency_key.length' });
    }
    const hash = sha256(ctx.body).toString('hex');
    const existing = records.get(key);
    if (existing && !existing.expired) {
      if (existing.hash !== hash) {
        throw new ApiError(409, 'idempotency_conflict', 'Idempotency-Key reused with a different request body.', {
          rule: 'idempotency_key.body_mismatch',
          remediation: 'Either retry with the original request body, or generate a new Idempotency-Key for a different request.',
        });
      }
      return { reply: jsonReply(existing.status, existing.body, { 'idempotency-replayed': 'true', 'idempotency-key': key }) };
    }
    // No claim: the handler runs even if another request with this key is running right now.
    const reply = await run();
    const finalize = (): void => {
      if (reply.status >= 500 || isLimiter429(reply)) return;
      // Another request with this key finished first (its answer is the stored one), or the key's
      // old record, past the window, still holds the unique index: the insert fails, silently.
      if (records.has(key)) return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(reply.body.toString('utf8'));
      } catch {
        return;
      }
      records.set(key, { hash, status: reply.status, body: jsonbOrder(parsed) });
      reply.headers['idempotency-key'] = key;
    };
    return { reply, finalize };
  }

  function checkAuth(ctx: Ctx): void {
    const auth = ctx.headers.authorization;
    const presented = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length).trim() : '';
    if (presented !== '' && presented === token) return;
    if (presented.startsWith('lmp_live_') || presented.startsWith('lmp_test_')) {
      throw new ApiError(401, 'unauthenticated', 'API key is invalid or revoked.');
    }
    throw new ApiError(401, 'unauthenticated', 'Authentication required.', {
      remediation: 'Send `Authorization: Bearer lmp_live_…` (programmatic) or sign in to the dashboard (cookie-based session).',
    });
  }

  /** The real server's in-memory limiter: 120 points per 60 s per API key, shared by its write routes. */
  function rateLimit(ctx: Ctx): void {
    const now = Date.now();
    if (now >= limiter.resetAt) {
      limiter.resetAt = now + RATE_LIMIT_WINDOW_MS;
      limiter.used = 0;
    }
    limiter.used++;
    const reset = String(Math.ceil((limiter.resetAt - now) / 1000));
    ctx.out['ratelimit-limit'] = String(RATE_LIMIT_POINTS);
    ctx.out['ratelimit-remaining'] = String(Math.max(RATE_LIMIT_POINTS - limiter.used, 0));
    ctx.out['ratelimit-reset'] = reset;
    if (opts.enforceRateLimit && limiter.used > RATE_LIMIT_POINTS) {
      throw new ApiError(429, 'rate_limited', 'Rate limit exceeded.', { remediation: 'Back off until the RateLimit-Reset window elapses, then retry.', retryAfter: Number(reset) });
    }
  }

  async function dispatch(ctx: Ctx, route: Route): Promise<Outcome> {
    checkAuth(ctx);
    const f = ctx.fault;
    if (f?.kind === 'status' && isFrontStatus(f)) throw statusFaultError(f);
    if (f?.kind === 'in-progress') throw inProgressError();
    switch (route.name) {
      case 'createPost':
        rateLimit(ctx);
        return withIdempotency(ctx, () => handlerStage(ctx, () => createPost(ctx)));
      case 'listPosts':
        return { reply: await handlerStage(ctx, () => listPosts(ctx)) };
      case 'getPost':
        return { reply: await handlerStage(ctx, () => jsonReply(200, { ...publicView(findRow(route.id)), attempts: [] })) };
      case 'patchPost':
        return { reply: await handlerStage(ctx, () => patchPost(ctx, route.id)) };
      case 'deletePost':
        return { reply: await handlerStage(ctx, () => deletePost(route.id)) };
      case 'uploadMedia':
        rateLimit(ctx);
        return { reply: await handlerStage(ctx, () => uploadMedia(ctx)) };
      case 'listAccounts':
        rateLimit(ctx);
        return {
          reply: await handlerStage(ctx, () =>
            jsonReply(200, {
              data: accounts.map((a) => ({
                id: a.id,
                profileId,
                platform: a.platform,
                platformAccountId: platformAccountId(a),
                displayName: a.displayName ?? `${a.platform} account`,
                tokenExpiresAt: iso(Date.now() + 2 * 3600_000),
                createdAt: iso(startedAt),
                updatedAt: iso(startedAt),
              })),
            }),
          ),
        };
    }
  }

  function send(req: http.IncomingMessage, res: http.ServerResponse, ctx: { requestId: string; method: string; pathname: string; out: Record<string, string> }, reply: Reply): void {
    if (req.socket.destroyed || res.writableEnded) return;
    try {
      res.writeHead(reply.status, {
        ...ctx.out,
        ...reply.headers,
        'x-ratelimit-limit': staticLimit(ctx.method, ctx.pathname),
        'x-request-id': ctx.requestId,
        'content-length': String(reply.body.length),
      });
      res.end(reply.body);
    } catch {
      // the client went away
    }
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const headers = flattenHeaders(req.headers);
    const record: RecordedRequest = { method, path, headers, body: Buffer.alloc(0), at: Date.now() };
    requests.push(record);
    const requestId = `req_${++requestCounter}`;
    let url: URL;
    try {
      url = new URL(path, 'http://fake.invalid');
    } catch {
      url = new URL('http://fake.invalid/');
    }
    const pathname = url.pathname;
    const kind = method === 'POST' && pathname === '/v1/posts' ? 'posts' : method === 'POST' && pathname === '/v1/media' ? 'media' : undefined;
    const fault = faults.take(kind);
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
    const ctx: Ctx = { method, pathname, query: url.searchParams, headers, body, requestId, fault, idempotencyKey: headers['idempotency-key'], out: {} };
    const route = matchRoute(method, pathname);
    if (!route) {
      // Not a route: the framework's own 404, plain text (no envelope, no auth check).
      send(req, res, ctx, { status: 404, headers: { 'content-type': 'text/plain; charset=UTF-8' }, body: Buffer.from('404 Not Found') });
      return;
    }
    const handled = (async (): Promise<Outcome> => {
      let result: Outcome;
      try {
        result = await dispatch(ctx, route);
      } catch (e) {
        result = { reply: errorReply(ctx, e instanceof ApiError ? e : internalError()) };
      }
      result.finalize?.();
      return result;
    })();
    if (fault?.kind === 'gateway-timeout') {
      // The gateway answers; the handler goes on and commits behind it.
      handled.catch(() => undefined);
      await sleeps.sleep(fault.afterMs);
      if (closed) return;
      send(req, res, ctx, { status: 504, headers: { 'content-type': 'text/html' }, body: Buffer.from('<html><body><h1>504 Gateway Time-out</h1></body></html>') });
      return;
    }
    const outcome = await handled;
    if (fault?.kind === 'slow-after-commit') await sleeps.sleep(fault.ms);
    if (closed) return;
    if (fault?.kind === 'drop-after-commit') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'malformed-json') {
      send(req, res, ctx, { status: 200, headers: { 'content-type': JSON_TYPE }, body: Buffer.from('{"id":"8f3c2a9e-5b1d-4c6e-9a7f-0d2e4b6c8a1f", "status": "publ') });
      return;
    }
    send(req, res, ctx, outcome.reply);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => req.socket.destroy());
  });
  server.keepAliveTimeout = 1000;
  const loopback = await startOnLoopback(server);

  return {
    url: loopback.url,
    requests,
    posts,
    media,
    inject(route, ...injected) {
      faults.inject(route, ...injected);
    },
    platform(settings) {
      if (settings.delayMs !== undefined) platformSettings.delayMs = Math.max(0, settings.delayMs);
      if (settings.down !== undefined) platformSettings.down = settings.down;
    },
    expireIdempotency() {
      for (const r of records.values()) r.expired = true;
    },
    async close() {
      if (closed) return;
      closed = true;
      sleeps.wakeAll();
      await loopback.close();
    },
  };
}
