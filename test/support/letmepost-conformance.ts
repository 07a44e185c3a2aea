/**
 * Conformance exchanges for a letmepost API server: the same requests, sent to the REAL
 * open-source server and to the suite's fake, must get the same answers — same status, same
 * headers that matter (Idempotency-Replayed, Idempotency-Key, Retry-After, content type) and
 * the same body SHAPE (key sets, value types and formats: uuid versions, datetimes, AT-URIs,
 * CIDs, URLs; the values of enum-like keys such as `code`, `rule`, `status`, `platform`). Texts,
 * ids and timestamps are never compared by value.
 *
 * - `EXCHANGES` lists them; each is a small script of requests against one Bluesky account.
 * - `runConformance(target)` runs them in order against a base URL + API key + account id and
 *   returns a normalized transcript; `diffTranscripts(expected, actual)` lists the differences.
 * - The CLI (letmepost-conformance-cli.mjs, `npm run conformance`) runs them against the fake
 *   and against a real server given by LETMEPOST_REAL_URL / _KEY / _ACCOUNT (/_CONTROL) and
 *   prints the diff; `--record` stores the real transcript as letmepost-real-transcript.json.
 * - test/harness/letmepost-conformance.test.ts runs them against the fake and compares with that file.
 *
 * Exchanges marked `needs: 'platform'` need a handle on the platform behind the server (make it
 * slow, make it unreachable): the fake's `platform()` or test/real/start-real-letmepost.mjs's platform proxy control URL. They
 * are recorded as skipped when there is none.
 *
 * Every exchange makes its own texts and keys unique with the run's nonce, so a real server can
 * be run against many times. Requests go one at a time, except where an exchange overlaps two
 * on purpose. About 60 POST /v1/posts per run: below the real rate limit of 120 per minute only
 * on a fresh server (or after a minute's pause).
 *
 * Only node: modules are imported, so Node 24 can run this file as is (type stripping).
 */
import { randomBytes, randomUUID } from 'node:crypto';

// ───────────────────────────── types ─────────────────────────────

/** What a platform-facing exchange can do to the platform behind the server. */
export interface PlatformControl {
  /** Every platform write from now on takes `ms` (0: back to normal). */
  slow(ms: number): Promise<void>;
  /** Every platform call fails as unreachable (true) or works again (false). */
  down(on: boolean): Promise<void>;
}

export interface ConformanceTarget {
  /** Base URL, no trailing slash: http://127.0.0.1:PORT */
  url: string;
  apiKey: string;
  /** A connected Bluesky account of the key's organization. */
  accountId: string;
  control?: PlatformControl;
}

/** A normalized body: shapes only (see `shapeOf`). */
export type Shape = string | Shape[] | { [key: string]: Shape };

export interface ExchangeRecord {
  exchange: string;
  step: string;
  /** `METHOD /path` with ids as {placeholders}; `key` is the exchange's name for the Idempotency-Key sent. */
  request: { method: string; path: string; key?: string };
  /** HTTP status, or 'aborted' when the client gave up on purpose (timeout). */
  status: number | 'aborted';
  headers: Record<string, string>;
  body?: Shape;
}

export interface NoteRecord {
  exchange: string;
  step: string;
  /** A derived fact, e.g. how many posts a text ended up in. Compared by value. */
  note: unknown;
}

export interface SkipRecord {
  exchange: string;
  skipped: string;
}

export type TranscriptEntry = ExchangeRecord | NoteRecord | SkipRecord;

export interface Transcript {
  version: 1;
  entries: TranscriptEntry[];
}

interface Sent {
  status: number | 'aborted';
  headers: Headers;
  text: string;
  json: any;
}

interface SendOptions {
  method?: string;
  /** Real path (with query); recorded with ids replaced unless `show` is given. */
  path: string;
  show?: string;
  /** A JSON value, or a string sent as is. */
  body?: unknown;
  /** The exchange's name for the key; the key sent is unique per run. */
  key?: string;
  /** Send exactly this Idempotency-Key header (recorded under `key`). */
  rawKey?: string;
  auth?: string | null;
  /** Give up after this long (the answer is recorded as 'aborted'). */
  timeoutMs?: number;
  contentType?: string | null;
  formData?: FormData;
}

export interface ExchangeContext {
  target: ConformanceTarget;
  accountId: string;
  /** Unique per run: put it in texts. */
  nonce: string;
  send(step: string, opts: SendOptions): Promise<Sent>;
  note(step: string, value: unknown): void;
  sleep(ms: number): Promise<void>;
  /** Rows of this run's texts created at or after `since` (GET /v1/posts, not recorded). */
  rowsWithText(text: string, since: string): Promise<Array<{ id: string; status: string }>>;
}

export interface Exchange {
  name: string;
  /** What it shows about the server. */
  about: string;
  needs?: 'platform';
  run(ctx: ExchangeContext): Promise<void>;
}

// ───────────────────────────── normalization ─────────────────────────────

/** Keys whose string values are compared literally (enum-like). */
const LITERAL_KEYS = new Set(['code', 'rule', 'status', 'platform', 'kind', 'validation', 'expected', 'received', 'type', 'name']);
/** Keys whose values are opaque per server (request ids). */
const OPAQUE_KEYS = new Set(['requestId']);

function classify(s: string): string {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-([0-9a-f])[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/i.exec(s);
  if (uuid) return `uuid:v${uuid[1]}`;
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(s)) return 'datetime';
  if (/^at:\/\/did:[a-z]+:[^/]+\/app\.bsky\.feed\.post\/[a-z2-7]{13}$/.test(s)) return 'at-uri';
  if (/^bafy[a-z2-7]{50,}$/.test(s) || /^bafk[a-z2-7]{50,}$/.test(s)) return 'cid';
  if (/^did:[a-z]+:/.test(s)) return 'did';
  if (/^med_[0-9A-Za-z]{22}$/.test(s)) return 'media-id';
  if (/^https?:\/\//.test(s)) return 'url';
  return 'string';
}

/**
 * The shape of a JSON value: objects keep their keys (sorted) with the shapes of their values;
 * arrays keep each item's shape; strings become a format (uuid:v7, datetime, at-uri, cid, url,
 * string…) except under enum-like keys (code, rule, status, platform…), which keep the value as
 * `=value`; zod issue `path`s are kept as they are; numbers, booleans and null become their type.
 */
export function shapeOf(value: unknown, key?: string): Shape {
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    if (key === 'path' || key === 'options') return `=${JSON.stringify(value)}`;
    return value.map((v) => shapeOf(v));
  }
  switch (typeof value) {
    case 'string':
      if (key !== undefined && OPAQUE_KEYS.has(key)) return 'string';
      if (key !== undefined && LITERAL_KEYS.has(key)) return `=${value}`;
      return classify(value);
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'object': {
      const out: Record<string, Shape> = {};
      for (const k of Object.keys(value as object).sort()) out[k] = shapeOf((value as Record<string, unknown>)[k], k);
      return out;
    }
    default:
      return typeof value;
  }
}

function headerShape(h: Headers, sentKey: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const type = h.get('content-type');
  if (type) out['content-type'] = type.toLowerCase();
  const replayed = h.get('idempotency-replayed');
  if (replayed !== null) out['idempotency-replayed'] = replayed;
  const key = h.get('idempotency-key');
  if (key !== null) out['idempotency-key'] = key === sentKey ? 'echo' : 'other';
  if (h.get('retry-after') !== null) out['retry-after'] = 'present';
  const limit = h.get('ratelimit-limit');
  if (limit !== null) out['ratelimit-limit'] = limit;
  if (h.get('x-request-id') !== null) out['x-request-id'] = 'present';
  return out;
}

// ───────────────────────────── helpers for exchanges ─────────────────────────────

const FUTURE = (ms: number): string => new Date(Date.now() + ms).toISOString();
/** A 2×2 RGB PNG. */
const PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAE0lEQVR4nGP4z8Dwn4EBTPxnAAAd8AP92a2PFgAAAABJRU5ErkJggg==';

function post(ctx: ExchangeContext, text: string, extra: Record<string, unknown> = {}, target: Record<string, unknown> = {}): Record<string, unknown> {
  return { targets: [{ accountId: ctx.accountId, ...target }], text: `${text} ${ctx.nonce}`, ...extra };
}

// ───────────────────────────── the exchanges ─────────────────────────────

export const EXCHANGES: Exchange[] = [
  {
    name: 'account-shape',
    about: 'The spec page\'s `{account: {platform, id}}` shape is refused with 400 validation_failed rule `targets`, and that 400 is stored under the key.',
    async run(ctx) {
      const body = { account: { platform: 'bluesky', id: ctx.accountId }, text: `account shape ${ctx.nonce}` };
      await ctx.send('first', { path: '/v1/posts', body, key: 'k1' });
      await ctx.send('replay', { path: '/v1/posts', body, key: 'k1' });
      await ctx.send('same key, targets shape', { path: '/v1/posts', body: post(ctx, 'account shape'), key: 'k1' });
    },
  },
  {
    name: 'targets-shape',
    about: 'targets[] publishes (200, results[].postId); the batch id is unknown to GET /v1/posts/{id}, the postId is known; a replay is flagged; another body under the key is 409 body_mismatch.',
    async run(ctx) {
      const body = post(ctx, 'targets shape');
      const first = await ctx.send('publish', { path: '/v1/posts', body, key: 'k1' });
      const batchId = String(first.json?.id);
      const postId = String(first.json?.results?.[0]?.postId);
      await ctx.send('get batch id', { method: 'GET', path: `/v1/posts/${batchId}`, show: '/v1/posts/{batchId}' });
      await ctx.send('get post id', { method: 'GET', path: `/v1/posts/${postId}`, show: '/v1/posts/{postId}' });
      await ctx.send('replay', { path: '/v1/posts', body, key: 'k1' });
      await ctx.send('other body', { path: '/v1/posts', body: post(ctx, 'targets shape, changed'), key: 'k1' });
      await ctx.send('other key order', { path: '/v1/posts', body: JSON.stringify({ text: body.text, targets: body.targets }), key: 'k1' });
    },
  },
  {
    name: 'keys',
    about: 'Idempotency-Key: up to 255 characters (256 → 400 idempotency_key.length, not stored); no key → no idempotency at all.',
    async run(ctx) {
      const long = `${ctx.nonce}-`.padEnd(255, 'k');
      await ctx.send('255 chars', { path: '/v1/posts', body: {}, rawKey: long, key: 'k255' });
      await ctx.send('255 chars again', { path: '/v1/posts', body: {}, rawKey: long, key: 'k255' });
      await ctx.send('256 chars', { path: '/v1/posts', body: {}, rawKey: `${long}k`, key: 'k256' });
      await ctx.send('256 chars again', { path: '/v1/posts', body: {}, rawKey: `${long}k`, key: 'k256' });
      await ctx.send('no key', { path: '/v1/posts', body: post(ctx, 'no key') });
    },
  },
  {
    name: 'options',
    about: '`options` is a union discriminated on `platform` with flat fields; checked against the account\'s platform after the schema.',
    async run(ctx) {
      await ctx.send('unknown discriminator', { path: '/v1/posts', body: post(ctx, 'opt', {}, { options: { platform: 'x' } }), key: 'k1' });
      await ctx.send('missing discriminator', { path: '/v1/posts', body: post(ctx, 'opt', {}, { options: { pinterest: { boardId: '1' } } }), key: 'k2' });
      await ctx.send('pinterest options on a bluesky account', { path: '/v1/posts', body: post(ctx, 'opt', {}, { options: { platform: 'pinterest', boardId: '123' } }), key: 'k3' });
      await ctx.send('pinterest destinationUrl not a url', { path: '/v1/posts', body: post(ctx, 'opt', {}, { options: { platform: 'pinterest', destinationUrl: 'nope' } }), key: 'k4' });
      await ctx.send('pinterest target without an account', { path: '/v1/posts', body: { targets: [{ platform: 'pinterest', options: { platform: 'pinterest', boardId: '123' } }], text: `pin ${ctx.nonce}`, media: [{ kind: 'image', url: 'https://example.com/a.png' }] }, key: 'k5' });
      await ctx.send('twitter reply and quote', { path: '/v1/posts', body: post(ctx, 'opt', {}, { options: { platform: 'twitter', replyToTweetId: '1', quoteTweetId: '2' } }), key: 'k6' });
      await ctx.send('bluesky replyToUri without cid', { path: '/v1/posts', body: post(ctx, 'opt', {}, { options: { platform: 'bluesky', replyToUri: 'at://did:plc:x/app.bsky.feed.post/3k' } }), key: 'k7' });
      await ctx.send('bluesky root without parent', { path: '/v1/posts', body: post(ctx, 'opt', {}, { options: { platform: 'bluesky', replyRootUri: 'at://a', replyRootCid: 'b' } }), key: 'k8' });
      await ctx.send('tiktok privacy not in the enum', { path: '/v1/posts', body: post(ctx, 'opt', {}, { options: { platform: 'tiktok', privacy: 'friends' } }), key: 'k9' });
      await ctx.send('scheduled bluesky reply', { path: '/v1/posts', body: post(ctx, 'opt', { scheduledAt: FUTURE(3_600_000) }, { options: { platform: 'bluesky', replyToUri: 'at://a', replyToCid: 'b' } }), key: 'k10' });
      await ctx.send('empty bluesky options', { path: '/v1/posts', body: post(ctx, 'empty bluesky options', {}, { options: { platform: 'bluesky' } }), key: 'k11' });
    },
  },
  {
    name: 'validation',
    about: 'The schema\'s first issue names the rule; route checks, preflight (400 preflight_failed) and account lookups after it.',
    async run(ctx) {
      const cases: Array<[string, unknown]> = [
        ['not json', '{"targets":'],
        ['json array', [1]],
        ['json null', 'null'],
        ['targets empty', { targets: [], text: 'x' }],
        ['target without account or platform', { targets: [{}], text: 'x' }],
        ['accountId not a uuid', { targets: [{ accountId: 'acc-1' }], text: 'x' }],
        ['unknown platform', { targets: [{ platform: 'x' }], text: 'x' }],
        ['empty text', post(ctx, '', { text: '' })],
        ['no text anywhere', { targets: [{ accountId: ctx.accountId }] }],
        ['unknown account', { targets: [{ accountId: randomUUID() }], text: 'x' }],
        ['platform disagrees with account', { targets: [{ accountId: ctx.accountId, platform: 'twitter' }], text: 'x' }],
        ['26 targets', { targets: Array.from({ length: 26 }, () => ({ accountId: ctx.accountId })), text: 'x' }],
        ['publishNow with scheduledAt', post(ctx, 'x', { publishNow: true, scheduledAt: FUTURE(3_600_000) })],
        ['publishNow not a boolean', post(ctx, 'x', { publishNow: 'yes' })],
        ['media with two sources', post(ctx, 'x', { media: [{ kind: 'image', url: 'https://example.com/a.png', bytesBase64: 'aGk=' }] })],
        ['media with no source', post(ctx, 'x', { media: [{ kind: 'image' }] })],
        ['media kind gif', post(ctx, 'x', { media: [{ kind: 'gif', url: 'https://example.com/a.gif' }] })],
        ['media url not a url', post(ctx, 'x', { media: [{ kind: 'image', url: 'not a url' }] })],
        ['mediaId malformed', post(ctx, 'x', { media: [{ kind: 'image', mediaId: 'med_1' }] })],
        ['empty bytesBase64', post(ctx, 'x', { media: [{ kind: 'image', bytesBase64: '' }] })],
        ['firstComment empty', post(ctx, 'x', { firstComment: { text: '' } })],
        ['bluesky text of 301 graphemes', { targets: [{ accountId: ctx.accountId }], text: 'a'.repeat(301) }],
        ['bluesky whitespace text', { targets: [{ accountId: ctx.accountId }], text: '   ' }],
        ['five images', post(ctx, 'x', { media: Array.from({ length: 5 }, () => ({ kind: 'image', url: 'https://example.com/a.png' })) })],
        ['image and video', post(ctx, 'x', { media: [{ kind: 'image', url: 'https://example.com/a.png' }, { kind: 'video', url: 'https://example.com/a.mp4' }] })],
        ['alt text of 2001 graphemes', post(ctx, 'x', { media: [{ kind: 'image', url: 'https://example.com/a.png', altText: 'a'.repeat(2001) }] })],
        ['scheduledAt with an offset', post(ctx, 'x', { scheduledAt: '2099-01-01T12:00:00+02:00' })],
        ['scheduledAt in the past', post(ctx, 'x', { scheduledAt: '2020-01-01T00:00:00Z' })],
        ['scheduledAt with firstComment', post(ctx, 'x', { scheduledAt: FUTURE(3_600_000), firstComment: { text: 'c' } })],
        ['profileId not a uuid', post(ctx, 'x', { profileId: 'p1' })],
      ];
      let i = 0;
      for (const [step, body] of cases) await ctx.send(step, { path: '/v1/posts', body, key: `k${++i}` });
      await ctx.send('replay of a preflight 400', { path: '/v1/posts', body: { targets: [{ accountId: ctx.accountId }], text: 'a'.repeat(301) }, key: `k${cases.findIndex(([s]) => s === 'bluesky text of 301 graphemes') + 1}` });
    },
  },
  {
    name: 'media',
    about: 'Inline bytesBase64 images publish; byte-level checks happen after the rows exist, so a too-big image or an unknown mediaId is a 200 whose result failed; POST /v1/media answers 201 with a new id each time.',
    async run(ctx) {
      const inline = await ctx.send('bytesBase64 png', { path: '/v1/posts', body: post(ctx, 'inline image', { media: [{ kind: 'image', bytesBase64: PNG_B64, altText: 'a dot' }] }), key: 'k1' });
      await ctx.send('get the inline post', { method: 'GET', path: `/v1/posts/${inline.json?.results?.[0]?.postId}`, show: '/v1/posts/{postId}' });
      const big = Buffer.alloc(1_000_001, 7).toString('base64');
      const tooBig = await ctx.send('bytesBase64 image of 1000001 bytes', { path: '/v1/posts', body: post(ctx, 'too big', { media: [{ kind: 'image', bytesBase64: big }] }), key: 'k2' });
      await ctx.send('get the rejected post', { method: 'GET', path: `/v1/posts/${tooBig.json?.results?.[0]?.postId}`, show: '/v1/posts/{postId}' });
      await ctx.send('replay of the rejected post', { path: '/v1/posts', body: post(ctx, 'too big', { media: [{ kind: 'image', bytesBase64: big }] }), key: 'k2' });
      await ctx.send('unknown mediaId', { path: '/v1/posts', body: post(ctx, 'unknown media', { media: [{ kind: 'image', mediaId: 'med_0123456789abcdefghijkl' }] }), key: 'k3' });
      const form = (): FormData => {
        const f = new FormData();
        f.append('file', new Blob([Buffer.from(PNG_B64, 'base64')], { type: 'image/png' }), 'dot.png');
        return f;
      };
      const up = await ctx.send('upload', { path: '/v1/media', formData: form(), key: 'm1' });
      const again = await ctx.send('upload again', { path: '/v1/media', formData: form(), key: 'm1' });
      ctx.note('a second upload of the same file is a new id', typeof up.json?.id === 'string' && typeof again.json?.id === 'string' && up.json.id !== again.json.id);
      await ctx.send('post with the mediaId', { path: '/v1/posts', body: post(ctx, 'media id', { media: [{ kind: 'image', mediaId: up.json?.id, altText: 'a dot' }] }), key: 'k4' });
      await ctx.send('upload without a file part', { path: '/v1/media', formData: (() => { const f = new FormData(); f.append('other', 'x'); return f; })() });
      await ctx.send('upload that is not multipart', { path: '/v1/media', body: 'x', contentType: 'image/png' });
    },
  },
  {
    name: 'first-comment',
    about: 'firstComment on Bluesky answers firstCommentUri/Cid in the result.',
    async run(ctx) {
      await ctx.send('publish with a first comment', { path: '/v1/posts', body: post(ctx, 'with comment', { firstComment: { text: `the comment ${ctx.nonce}` } }), key: 'k1' });
    },
  },
  {
    name: 'scheduled',
    about: 'A scheduled post answers 202 queued; PATCH reschedules and DELETE cancels while queued, neither is idempotent; both are 409 once the post is not queued.',
    async run(ctx) {
      const created = await ctx.send('schedule', { path: '/v1/posts', body: post(ctx, 'scheduled', { scheduledAt: FUTURE(3_600_000) }), key: 'k1' });
      const batchId = String(created.json?.id);
      const postId = String(created.json?.results?.[0]?.postId);
      await ctx.send('get batch id', { method: 'GET', path: `/v1/posts/${batchId}`, show: '/v1/posts/{batchId}' });
      await ctx.send('get post id', { method: 'GET', path: `/v1/posts/${postId}`, show: '/v1/posts/{postId}' });
      const later = FUTURE(7_200_000);
      await ctx.send('patch', { method: 'PATCH', path: `/v1/posts/${postId}`, show: '/v1/posts/{postId}', body: { scheduledAt: later }, key: 'p1' });
      await ctx.send('patch again, same key', { method: 'PATCH', path: `/v1/posts/${postId}`, show: '/v1/posts/{postId}', body: { scheduledAt: later }, key: 'p1' });
      await ctx.send('patch without scheduledAt', { method: 'PATCH', path: `/v1/posts/${postId}`, show: '/v1/posts/{postId}', body: {} });
      await ctx.send('patch with an offset', { method: 'PATCH', path: `/v1/posts/${postId}`, show: '/v1/posts/{postId}', body: { scheduledAt: '2099-01-01T12:00:00+02:00' } });
      await ctx.send('patch into the past', { method: 'PATCH', path: `/v1/posts/${postId}`, show: '/v1/posts/{postId}', body: { scheduledAt: '2020-01-01T00:00:00Z' } });
      await ctx.send('patch an unknown post', { method: 'PATCH', path: `/v1/posts/${randomUUID()}`, show: '/v1/posts/{unknown}', body: { scheduledAt: later } });
      await ctx.send('delete', { method: 'DELETE', path: `/v1/posts/${postId}`, show: '/v1/posts/{postId}', key: 'd1' });
      await ctx.send('get the canceled post', { method: 'GET', path: `/v1/posts/${postId}`, show: '/v1/posts/{postId}' });
      await ctx.send('delete again, same key', { method: 'DELETE', path: `/v1/posts/${postId}`, show: '/v1/posts/{postId}', key: 'd1' });
      await ctx.send('patch the canceled post', { method: 'PATCH', path: `/v1/posts/${postId}`, show: '/v1/posts/{postId}', body: { scheduledAt: later } });
      const published = await ctx.send('publish now', { path: '/v1/posts', body: post(ctx, 'published, then delete'), key: 'k2' });
      await ctx.send('delete a published post', { method: 'DELETE', path: `/v1/posts/${published.json?.results?.[0]?.postId}`, show: '/v1/posts/{postId}' });
      await ctx.send('patch a published post', { method: 'PATCH', path: `/v1/posts/${published.json?.results?.[0]?.postId}`, show: '/v1/posts/{postId}', body: { scheduledAt: later } });
    },
  },
  {
    name: 'reads',
    about: 'GET /v1/posts lists rows newest first with the real query params and a cursor; GET /v1/posts/{id} reads one (a malformed id is a 500); GET /v1/accounts.',
    async run(ctx) {
      const since = new Date(Date.now() - 1).toISOString();
      await ctx.send('publish one', { path: '/v1/posts', body: post(ctx, 'read one'), key: 'k1' });
      await ctx.send('publish two', { path: '/v1/posts', body: post(ctx, 'read two'), key: 'k2' });
      const page1 = await ctx.send('list, limit 1', { method: 'GET', path: `/v1/posts?platform=bluesky&after=${since}&limit=1`, show: '/v1/posts?platform=bluesky&after={since}&limit=1' });
      await ctx.send('list, next page', { method: 'GET', path: `/v1/posts?platform=bluesky&after=${since}&limit=1&cursor=${encodeURIComponent(page1.json?.nextCursor ?? '')}`, show: '/v1/posts?platform=bluesky&after={since}&limit=1&cursor={nextCursor}' });
      await ctx.send('list, status filter, comma form', { method: 'GET', path: `/v1/posts?status=publishing,published&after=${since}`, show: '/v1/posts?status=publishing,published&after={since}' });
      await ctx.send('list, repeated platform', { method: 'GET', path: `/v1/posts?platform=bluesky&platform=twitter&after=${since}&limit=200`, show: '/v1/posts?platform=bluesky&platform=twitter&after={since}&limit=200' });
      await ctx.send('list, before since', { method: 'GET', path: `/v1/posts?after=${since}&before=${since}`, show: '/v1/posts?after={since}&before={since}' });
      await ctx.send('list, after with an offset', { method: 'GET', path: '/v1/posts?after=2026-01-01T00:00:00%2B02:00' });
      await ctx.send('list, limit 201', { method: 'GET', path: '/v1/posts?limit=201' });
      await ctx.send('list, limit abc', { method: 'GET', path: '/v1/posts?limit=abc' });
      await ctx.send('list, unknown status', { method: 'GET', path: '/v1/posts?status=done' });
      await ctx.send('list, unknown platform', { method: 'GET', path: '/v1/posts?platform=x' });
      await ctx.send('get a malformed id', { method: 'GET', path: '/v1/posts/post_nope' });
      await ctx.send('get an unknown uuid', { method: 'GET', path: `/v1/posts/${randomUUID()}`, show: '/v1/posts/{unknown}' });
      const accounts = await ctx.send('accounts', { method: 'GET', path: '/v1/accounts' });
      ctx.note('accounts lists the account', Array.isArray(accounts.json?.data) && accounts.json.data.some((a: { id?: string }) => a.id === ctx.accountId));
    },
  },
  {
    name: 'http',
    about: 'Auth errors, and a path that is no route (the framework\'s plain-text 404).',
    async run(ctx) {
      await ctx.send('no authorization', { path: '/v1/posts', body: post(ctx, 'x'), auth: null, key: 'k1' });
      await ctx.send('unknown lmp key', { path: '/v1/posts', body: post(ctx, 'x'), auth: 'Bearer lmp_test_not_a_real_key', key: 'k1' });
      await ctx.send('not an lmp key', { path: '/v1/posts', body: post(ctx, 'x'), auth: 'Bearer abc', key: 'k1' });
      await ctx.send('the same key, authorized', { path: '/v1/posts', body: {}, key: 'k1' });
      await ctx.send('no route', { method: 'GET', path: '/v2/nothing' });
    },
  },
  {
    name: 'no-in-flight-claim',
    about: 'Two concurrent requests with one key both publish (no 409 in_progress); the one that finishes first is stored.',
    needs: 'platform',
    async run(ctx) {
      const since = new Date(Date.now() - 1).toISOString();
      const body = post(ctx, 'concurrent');
      await ctx.target.control!.slow(1500);
      try {
        const [a, b] = await Promise.all([
          ctx.send('first of two', { path: '/v1/posts', body, key: 'k1' }),
          ctx.sleep(200).then(() => ctx.send('second of two', { path: '/v1/posts', body, key: 'k1' })),
        ]);
        ctx.note('both answered 200, neither replayed', [a.status, b.status, a.headers.get('idempotency-replayed'), b.headers.get('idempotency-replayed')]);
      } finally {
        await ctx.target.control!.slow(0);
      }
      await ctx.send('third', { path: '/v1/posts', body, key: 'k1' });
      const rows = await ctx.rowsWithText(String(body.text), since);
      ctx.note('posts made', rows.map((r) => r.status));
    },
  },
  {
    name: 'slow-platform-retry',
    about: 'A client that times out while the platform is slow and retries with the same key and bytes makes a second post: the first request\'s row is `publishing` meanwhile, visible in GET /v1/posts.',
    needs: 'platform',
    async run(ctx) {
      const since = new Date(Date.now() - 1).toISOString();
      const body = post(ctx, 'slow platform');
      await ctx.target.control!.slow(2500);
      try {
        await ctx.send('first, client timeout 1 s', { path: '/v1/posts', body, key: 'k1', timeoutMs: 1000 });
        const inFlight = await ctx.rowsWithText(String(body.text), since);
        ctx.note('rows while the first is in flight', inFlight.map((r) => r.status));
        await ctx.send('retry, same key and bytes', { path: '/v1/posts', body, key: 'k1' });
      } finally {
        await ctx.target.control!.slow(0);
      }
      await ctx.sleep(1500);
      const after = await ctx.rowsWithText(String(body.text), since);
      ctx.note('rows after both finished', after.map((r) => r.status));
      await ctx.send('third', { path: '/v1/posts', body, key: 'k1' });
    },
  },
  {
    name: 'platform-down',
    about: 'An unreachable platform is still a 200: batch failed, result failed with platform_unavailable; the row keeps the error.',
    needs: 'platform',
    async run(ctx) {
      await ctx.target.control!.down(true);
      let res: Sent;
      try {
        res = await ctx.send('publish while down', { path: '/v1/posts', body: post(ctx, 'platform down'), key: 'k1' });
      } finally {
        await ctx.target.control!.down(false);
      }
      await ctx.send('get the failed post', { method: 'GET', path: `/v1/posts/${res.json?.results?.[0]?.postId}`, show: '/v1/posts/{postId}' });
      await ctx.send('replay after recovery', { path: '/v1/posts', body: post(ctx, 'platform down'), key: 'k1' });
    },
  },
];

// ───────────────────────────── the runner ─────────────────────────────

function defaultShow(path: string, accountId: string): string {
  return path
    .split(accountId)
    .join('{accountId}')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '{uuid}');
}

/** Runs the exchanges (all, or those named in `only`) in order; never throws for an HTTP answer. */
export async function runConformance(target: ConformanceTarget, opts: { only?: string[]; log?: (line: string) => void } = {}): Promise<Transcript> {
  const entries: TranscriptEntry[] = [];
  const nonce = `c${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const base = target.url.replace(/\/+$/, '');
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

  for (const exchange of EXCHANGES) {
    if (opts.only && !opts.only.includes(exchange.name)) continue;
    if (exchange.needs === 'platform' && !target.control) {
      entries.push({ exchange: exchange.name, skipped: 'needs a platform control (fake.platform() or LETMEPOST_REAL_CONTROL)' });
      continue;
    }
    opts.log?.(`exchange ${exchange.name}`);
    const mine: TranscriptEntry[] = [];
    const keyOf = (name: string) => `${nonce}-${exchange.name}-${name}`;
    const ctx: ExchangeContext = {
      target,
      accountId: target.accountId,
      nonce,
      sleep,
      note(step, value) {
        mine.push({ exchange: exchange.name, step, note: value });
      },
      async rowsWithText(text, since) {
        const res = await fetch(`${base}/v1/posts?after=${encodeURIComponent(since)}&limit=200`, { headers: { authorization: `Bearer ${target.apiKey}` } });
        const json = (await res.json()) as { data?: Array<{ id: string; status: string; text: string; createdAt: string }> };
        return (json.data ?? [])
          .filter((r) => r.text === text)
          .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
          .map((r) => ({ id: r.id, status: r.status }));
      },
      async send(step, o) {
        const method = o.method ?? 'POST';
        const headers: Record<string, string> = {};
        if (o.auth !== null) headers.authorization = o.auth ?? `Bearer ${target.apiKey}`;
        const key = o.rawKey ?? (o.key !== undefined ? keyOf(o.key) : undefined);
        if (key !== undefined) headers['idempotency-key'] = key;
        let body: string | FormData | undefined;
        if (o.formData) body = o.formData;
        else if (o.body !== undefined) {
          body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
          if (o.contentType !== null) headers['content-type'] = o.contentType ?? 'application/json';
        }
        const record: ExchangeRecord = { exchange: exchange.name, step, request: { method, path: o.show ?? defaultShow(o.path, target.accountId) }, status: 'aborted', headers: {} };
        if (o.key !== undefined) record.request.key = o.key;
        mine.push(record);
        const init: RequestInit = { method, headers };
        if (body !== undefined) init.body = body;
        if (o.timeoutMs !== undefined) init.signal = AbortSignal.timeout(o.timeoutMs);
        let res: Response;
        try {
          res = await fetch(`${base}${o.path}`, init);
        } catch (e) {
          if (o.timeoutMs !== undefined) return { status: 'aborted', headers: new Headers(), text: '', json: undefined };
          throw e;
        }
        const text = await res.text();
        let json: any;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        record.status = res.status;
        record.headers = headerShape(res.headers, key);
        record.body = json === undefined ? `text:${text.slice(0, 60)}` : shapeOf(json);
        return { status: res.status, headers: res.headers, text, json };
      },
    };
    try {
      await exchange.run(ctx);
    } catch (e) {
      mine.push({ exchange: exchange.name, step: 'error', note: `the exchange threw: ${(e as Error).message}` });
    }
    entries.push(...mine);
  }
  return { version: 1, entries };
}

// ───────────────────────────── diff ─────────────────────────────

function entryId(e: TranscriptEntry): string {
  return 'skipped' in e ? `${e.exchange}` : `${e.exchange} / ${e.step}`;
}

function diffValue(path: string, a: unknown, b: unknown, out: string[]): void {
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of [...keys].sort()) diffValue(path ? `${path}.${k}` : k, (a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    a.forEach((v, i) => diffValue(`${path}.${i}`, v, b[i], out));
    return;
  }
  const show = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v));
  out.push(`  ${path}: expected ${show(a)}, got ${show(b)}`);
}

/**
 * Differences between two transcripts, as readable lines (empty: they match). Entries are
 * matched by exchange and step; an exchange skipped on either side is not compared (see
 * `skippedExchanges`).
 */
export function diffTranscripts(expected: Transcript, actual: Transcript): string[] {
  const out: string[] = [];
  const skipped = new Set([...expected.entries, ...actual.entries].filter((e) => 'skipped' in e).map((e) => e.exchange));
  const index = (t: Transcript) => new Map(t.entries.filter((e) => !skipped.has(e.exchange)).map((e) => [entryId(e), e] as const));
  const exp = index(expected);
  const act = index(actual);
  for (const [id, e] of exp) {
    const a = act.get(id);
    if (!a) {
      out.push(`${id}: missing (expected ${JSON.stringify(e).slice(0, 200)})`);
      continue;
    }
    const lines: string[] = [];
    const strip = ({ exchange: _e, step: _s, ...rest }: any) => rest;
    diffValue('', strip(e), strip(a), lines);
    if (lines.length) out.push(`${id}:`, ...lines);
  }
  for (const id of act.keys()) if (!exp.has(id)) out.push(`${id}: unexpected entry`);
  return out;
}

/** Exchanges skipped in either transcript (so not compared by `diffTranscripts`). */
export function skippedExchanges(...transcripts: Transcript[]): string[] {
  return [...new Set(transcripts.flatMap((t) => t.entries.filter((e) => 'skipped' in e).map((e) => e.exchange)))];
}
