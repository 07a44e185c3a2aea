import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_ACCOUNTS,
  startFakeLetmepost,
  type FakeLetmepost,
  type FakeLetmepostOptions,
} from '../support/fake-letmepost.js';

const TOKEN = 'lmp_test_secret_token';
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function accountId(platform: string): string {
  const account = DEFAULT_ACCOUNTS.find((a) => a.platform === platform);
  if (!account) throw new Error(`no default account for ${platform}`);
  return account.id;
}

const BLUESKY = accountId('bluesky');

const running: FakeLetmepost[] = [];

async function start(opts?: FakeLetmepostOptions): Promise<FakeLetmepost> {
  const fake = await startFakeLetmepost(opts);
  running.push(fake);
  return fake;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((f) => f.close()));
});

/** The real server's request shape: one target, top-level text; `target` adds per-target fields (options…). */
function spec(text: string, extra: Record<string, unknown> = {}, platform = 'bluesky', target: Record<string, unknown> = {}): string {
  return JSON.stringify({ targets: [{ accountId: accountId(platform), ...target }], text, ...extra });
}

/** The spec page's shape, which the real server no longer accepts. */
function accountShape(text: string, platform = 'bluesky'): string {
  return JSON.stringify({ account: { platform, id: accountId(platform) }, text });
}

function send(fake: FakeLetmepost, body: string, key?: string, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(`${fake.url}/v1/posts`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${TOKEN}`,
      'content-type': 'application/json',
      ...(key === undefined ? {} : { 'idempotency-key': key }),
      ...headers,
    },
    body,
    ...(signal ? { signal } : {}),
  });
}

function get(fake: FakeLetmepost, path: string): Promise<Response> {
  return fetch(`${fake.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
}

function call(fake: FakeLetmepost, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${fake.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function bytes(res: Response): Promise<Buffer> {
  return Buffer.from(await res.arrayBuffer());
}

interface Envelope {
  error: { code: string; message: string; rule?: string; remediation?: string; docUrl: string; ruleUrl?: string; requestId?: string; platform?: string; platformResponse?: unknown; requestHeaders?: Record<string, string> };
}

interface Result {
  accountId: string;
  platform: string;
  postId: string;
  status: string;
  uri?: string;
  cid?: string;
  firstCommentUri?: string;
  firstCommentCid?: string;
  warnings?: Array<{ code: string; message: string }>;
  error?: { code: string; message: string; rule?: string; remediation?: string };
}

interface Batch {
  id: string;
  status: string;
  createdAt: string;
  scheduledAt?: string;
  results: Result[];
}

interface Row {
  id: string;
  accountId: string;
  platform: string;
  status: string;
  text: string;
  mediaRefs: unknown[];
  platformUri: string | null;
  platformCid: string | null;
  error: Record<string, unknown> | null;
  scheduledAt: string | null;
  createdAt: string;
}

async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function inFuture(ms: number): string {
  return new Date(Date.now() + ms).toISOString();
}

async function rows(fake: FakeLetmepost, query = ''): Promise<Row[]> {
  return ((await (await get(fake, `/v1/posts${query}`)).json()) as { data: Row[] }).data;
}

describe('idempotency', () => {
  it('a replay with the same key and bytes returns the same status and JSON with Idempotency-Replayed: true and posts nothing new', async () => {
    const fake = await start();
    const body = spec('hello once');
    const first = await send(fake, body, 'key-replay');
    const firstBytes = await bytes(first);
    expect(first.status).toBe(200);
    expect(first.headers.get('idempotency-replayed')).toBeNull();
    expect(first.headers.get('idempotency-key')).toBe('key-replay');

    const second = await send(fake, body, 'key-replay');
    expect(second.status).toBe(200);
    expect(second.headers.get('idempotency-replayed')).toBe('true');
    expect(second.headers.get('idempotency-key')).toBe('key-replay');
    const secondBytes = await bytes(second);
    expect(JSON.parse(secondBytes.toString())).toEqual(JSON.parse(firstBytes.toString()));
    // The real server keeps answers in a jsonb column: the replay's keys come back in jsonb order.
    expect(Object.keys(JSON.parse(secondBytes.toString()))).toEqual(['id', 'status', 'results', 'createdAt']);
    expect(second.headers.get('x-request-id')).not.toBe(first.headers.get('x-request-id'));
    expect(fake.posts).toHaveLength(1);
    expect(fake.posts[0]!.idempotencyKey).toBe('key-replay');
    expect(fake.requests).toHaveLength(2);
  });

  it('the same key with a different body is a 409 idempotency_conflict with rule body_mismatch', async () => {
    const fake = await start();
    expect((await send(fake, spec('first text'), 'key-mismatch')).status).toBe(200);
    const res = await send(fake, spec('second text'), 'key-mismatch');
    expect(res.status).toBe(409);
    expect(res.headers.get('idempotency-key')).toBeNull();
    const env = (await res.json()) as Envelope;
    expect(env.error.code).toBe('idempotency_conflict');
    expect(env.error.rule).toBe('idempotency_key.body_mismatch');
    expect(fake.posts).toHaveLength(1);
  });

  it('bytes that differ only in key order are a different body', async () => {
    const fake = await start();
    await send(fake, JSON.stringify({ targets: [{ accountId: BLUESKY }], text: 'x' }), 'key-order');
    const res = await send(fake, JSON.stringify({ text: 'x', targets: [{ accountId: BLUESKY }] }), 'key-order');
    expect(res.status).toBe(409);
  });

  it('after expireIdempotency() the same request makes a second post', async () => {
    const fake = await start();
    const body = spec('expiring');
    await send(fake, body, 'key-expire');
    fake.expireIdempotency();
    const res = await send(fake, body, 'key-expire');
    expect(res.status).toBe(200);
    expect(res.headers.get('idempotency-replayed')).toBeNull();
    expect(fake.posts).toHaveLength(2);
  });

  it('a key past its window is never stored again, as on the real server: every later request posts', async () => {
    const fake = await start();
    const body = spec('expired for good');
    expect((await send(fake, body, 'key-expired')).headers.get('idempotency-key')).toBe('key-expired');
    fake.expireIdempotency();
    for (let i = 0; i < 2; i++) {
      const res = await send(fake, body, 'key-expired');
      expect(res.headers.get('idempotency-replayed')).toBeNull();
      expect(res.headers.get('idempotency-key')).toBeNull();
    }
    expect(fake.posts).toHaveLength(3);
    // A different body under the expired key is not a conflict either.
    expect((await send(fake, spec('another text'), 'key-expired')).status).toBe(200);
  });

  it('a 503 is not stored: the retry with the same key commits exactly once', async () => {
    const fake = await start();
    fake.inject('posts', { kind: 'status', http: 503, code: 'platform_unavailable' });
    const body = spec('after an outage');
    const failed = await send(fake, body, 'key-503');
    expect(failed.status).toBe(503);
    expect(((await failed.json()) as Envelope).error.code).toBe('platform_unavailable');
    expect(fake.posts).toHaveLength(0);

    const retry = await send(fake, body, 'key-503');
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotency-replayed')).toBeNull();
    const third = await send(fake, body, 'key-503');
    expect(third.headers.get('idempotency-replayed')).toBe('true');
    expect(fake.posts).toHaveLength(1);
  });

  it('no in-flight claim: a request with the same key while the first is still being handled publishes again', async () => {
    const fake = await start();
    fake.inject('posts', { kind: 'slow-platform', ms: 300 });
    const body = spec('slow one');
    const first = send(fake, body, 'key-slow');
    await until(async () => (await rows(fake)).length === 1);
    const second = await send(fake, body, 'key-slow');
    expect(second.status).toBe(200);
    expect(second.headers.get('idempotency-replayed')).toBeNull();
    // The second finished first: its answer is the stored one.
    expect(second.headers.get('idempotency-key')).toBe('key-slow');
    const secondJson = (await second.json()) as Batch;

    const res = await first;
    expect(res.status).toBe(200);
    expect(res.headers.get('idempotency-replayed')).toBeNull();
    expect(res.headers.get('idempotency-key')).toBeNull();
    expect(fake.posts).toHaveLength(2);

    const after = await send(fake, body, 'key-slow');
    expect(after.headers.get('idempotency-replayed')).toBe('true');
    expect(((await after.json()) as Batch).results[0]!.postId).toBe(secondJson.results[0]!.postId);
    expect(fake.requests.filter((r) => r.method === 'POST')).toHaveLength(3);
  });

  it('two concurrent requests with one key both publish; the one that finishes first is stored', async () => {
    const fake = await start();
    fake.platform({ delayMs: 200 });
    const body = spec('concurrent');
    const [a, b] = await Promise.all([send(fake, body, 'key-both'), send(fake, body, 'key-both')]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect([a.headers.get('idempotency-replayed'), b.headers.get('idempotency-replayed')]).toEqual([null, null]);
    expect([a.headers.get('idempotency-key'), b.headers.get('idempotency-key')].filter(Boolean)).toEqual(['key-both']);
    expect(fake.posts).toHaveLength(2);
    expect(new Set(fake.posts.map((p) => p.text))).toEqual(new Set(['concurrent']));
  });

  it('a 4xx validation answer is stored and replayed under its key', async () => {
    const fake = await start();
    const body = spec('x'.repeat(301));
    const first = await send(fake, body, 'key-400');
    expect(first.status).toBe(400);
    const again = await send(fake, body, 'key-400');
    expect(again.status).toBe(400);
    expect(again.headers.get('idempotency-replayed')).toBe('true');
  });

  it('an Idempotency-Key of 255 characters is accepted, 256 is a 400 that is not stored and commits nothing', async () => {
    const fake = await start();
    expect((await send(fake, spec('long key'), 'k'.repeat(255))).status).toBe(200);
    const res = await send(fake, spec('longer key'), 'k'.repeat(256));
    expect(res.status).toBe(400);
    expect(res.headers.get('idempotency-key')).toBeNull();
    expect(((await res.json()) as Envelope).error.rule).toBe('idempotency_key.length');
    expect((await send(fake, spec('longer key'), 'k'.repeat(256))).headers.get('idempotency-replayed')).toBeNull();
    expect(fake.posts).toHaveLength(1);
  });

  it('without a key (or with an empty one) nothing is stored: the same request posts twice', async () => {
    const fake = await start();
    const body = spec('no key');
    expect((await send(fake, body)).headers.get('idempotency-key')).toBeNull();
    expect((await send(fake, body, '')).headers.get('idempotency-replayed')).toBeNull();
    expect(fake.posts).toHaveLength(2);
  });
});

describe('faults', () => {
  it('reset-before-read rejects the fetch and commits nothing; the retry commits once', async () => {
    const fake = await start();
    fake.inject('posts', { kind: 'reset-before-read' });
    const body = spec('reset');
    await expect(send(fake, body, 'key-reset')).rejects.toThrow();
    expect(fake.posts).toHaveLength(0);
    expect(fake.requests).toHaveLength(1);
    const retry = await send(fake, body, 'key-reset');
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotency-replayed')).toBeNull();
    expect(fake.posts).toHaveLength(1);
  });

  it('drop-after-commit rejects the fetch after the post is stored, and the same request then replays', async () => {
    const fake = await start();
    fake.inject('posts', { kind: 'drop-after-commit' });
    const body = spec('dropped');
    await expect(send(fake, body, 'key-drop')).rejects.toThrow();
    expect(fake.posts).toHaveLength(1);
    const retry = await send(fake, body, 'key-drop');
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotency-replayed')).toBe('true');
    const json = (await retry.json()) as Batch;
    expect(json.results[0]!.postId).toBe(fake.posts[0]!.id);
    expect(fake.posts).toHaveLength(1);
  });

  it('slow-after-commit commits before it answers', async () => {
    const fake = await start();
    fake.inject('posts', { kind: 'slow-after-commit', ms: 150 });
    let answered = false;
    const pending = send(fake, spec('slow'), 'key-slow-2').then((r) => {
      answered = true;
      return r;
    });
    await until(() => fake.posts.length === 1);
    expect(answered).toBe(false);
    expect((await pending).status).toBe(200);
  });

  it('slow-after-commit stores the answer before delivering it: a retry meanwhile is a replay', async () => {
    const fake = await start();
    fake.inject('posts', { kind: 'slow-after-commit', ms: 300 });
    const body = spec('slow delivery');
    const first = send(fake, body, 'key-slow-3');
    await until(() => fake.posts.length === 1);
    const retry = await send(fake, body, 'key-slow-3');
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotency-replayed')).toBe('true');
    expect((await first).headers.get('idempotency-key')).toBe('key-slow-3');
    expect(fake.posts).toHaveLength(1);
  });

  it('slow-platform: the row is `publishing` meanwhile; a client timeout and a retry under the same key make two posts', async () => {
    const fake = await start();
    fake.inject('posts', { kind: 'slow-platform', ms: 500 }, { kind: 'slow-platform', ms: 500 });
    const body = spec('slow platform');
    const since = new Date(Date.now() - 1).toISOString();
    await expect(send(fake, body, 'key-timeout', {}, AbortSignal.timeout(150))).rejects.toThrow();
    expect((await rows(fake, `?platform=bluesky&after=${since}`)).map((r) => r.status)).toEqual(['publishing']);
    expect(fake.posts).toHaveLength(0);
    const retry = await send(fake, body, 'key-timeout');
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotency-replayed')).toBeNull();
    expect(((await retry.json()) as Batch).status).toBe('published');
    expect((await rows(fake, `?platform=bluesky&after=${since}`)).map((r) => r.status)).toEqual(['published', 'published']);
    expect(fake.posts).toHaveLength(2);
  });

  it('platform({delayMs}) slows every platform call; platform({down}) fails them as unreachable, inside a 200', async () => {
    const fake = await start();
    fake.platform({ down: true });
    const res = await send(fake, spec('platform down'), 'key-down');
    expect(res.status).toBe(200);
    const json = (await res.json()) as Batch;
    expect(json.status).toBe('failed');
    expect(json.results[0]).toMatchObject({ status: 'failed', error: { code: 'platform_unavailable', message: 'Failed to reach bluesky.' } });
    const row = (await (await get(fake, `/v1/posts/${json.results[0]!.postId}`)).json()) as Row;
    expect(row).toMatchObject({ status: 'failed', error: { code: 'platform_unavailable', platform: 'bluesky' } });
    fake.platform({ down: false, delayMs: 200 });
    const t0 = Date.now();
    expect(((await (await send(fake, spec('slow but fine'))).json()) as Batch).status).toBe('published');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
  });

  it('a rate_limited 429 carries Retry-After and is not stored', async () => {
    const fake = await start();
    fake.inject('posts', { kind: 'status', http: 429, code: 'rate_limited', retryAfter: 7 });
    const body = spec('limited');
    const res = await send(fake, body, 'key-429');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(((await res.json()) as Envelope).error.code).toBe('rate_limited');
    const retry = await send(fake, body, 'key-429');
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotency-replayed')).toBeNull();
    expect(fake.posts).toHaveLength(1);
  });

  it('enforceRateLimit answers the 121st POST in a minute with the limiter 429, which is not stored', async () => {
    const fake = await start({ enforceRateLimit: true });
    for (let i = 0; i < 120; i++) expect((await send(fake, '{}', `key-rl-${i}`)).status).toBe(400);
    const res = await send(fake, spec('one too many'), 'key-rl-last');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(res.headers.get('ratelimit-remaining')).toBe('0');
    expect(((await res.json()) as Envelope).error.code).toBe('rate_limited');
    expect(fake.posts).toHaveLength(0);
  });

  it('a quota_exceeded 429 is stored and replayed, with platformResponse.resetAt', async () => {
    const fake = await start();
    fake.inject('posts', { kind: 'status', http: 429, code: 'quota_exceeded' });
    const body = spec('over quota');
    const res = await send(fake, body, 'key-quota');
    expect(res.status).toBe(429);
    const env = (await res.json()) as Envelope;
    expect(env.error.code).toBe('quota_exceeded');
    expect(env.error.platformResponse).toMatchObject({ resetAt: expect.any(String) });
    const retry = await send(fake, body, 'key-quota');
    expect(retry.status).toBe(429);
    expect(retry.headers.get('idempotency-replayed')).toBe('true');
    expect(fake.posts).toHaveLength(0);
  });

  it('in-progress (only when injected: the real server never sends it) answers 409 idempotency_key.in_progress and is not stored', async () => {
    const fake = await start();
    fake.inject('posts', { kind: 'in-progress' });
    const body = spec('busy');
    const res = await send(fake, body, 'key-busy');
    expect(res.status).toBe(409);
    expect(((await res.json()) as Envelope).error.rule).toBe('idempotency_key.in_progress');
    expect((await send(fake, body, 'key-busy')).status).toBe(200);
    expect(fake.posts).toHaveLength(1);
  });

  it('failed-status answers 200 with a failed result, is stored, and counts no post until the key expires', async () => {
    const fake = await start();
    fake.inject('posts', { kind: 'failed-status' });
    const body = spec('transient');
    const res = await send(fake, body, 'key-failed');
    expect(res.status).toBe(200);
    const json = (await res.json()) as Batch;
    expect(json.status).toBe('failed');
    expect(json.results[0]).toMatchObject({ status: 'failed', error: { code: 'platform_unavailable' } });
    expect(fake.posts).toHaveLength(0);

    const replay = await send(fake, body, 'key-failed');
    expect(replay.headers.get('idempotency-replayed')).toBe('true');
    expect(((await replay.json()) as Batch).results[0]!.status).toBe('failed');

    fake.expireIdempotency();
    const fresh = await send(fake, body, 'key-failed');
    expect(((await fresh.json()) as Batch).results[0]!.status).toBe('published');
    expect(fresh.headers.get('idempotency-key'), 'an expired key is not stored again').toBeNull();
    expect(fake.posts).toHaveLength(1);
  });

  it('rejected-status answers 200 with a rejected result and the given message; the batch says failed', async () => {
    const fake = await start();
    fake.inject('posts', { kind: 'rejected-status', message: 'duplicate content' });
    const res = await send(fake, spec('refused'), 'key-rejected');
    expect(res.status).toBe(200);
    const json = (await res.json()) as Batch;
    expect(json.status).toBe('failed');
    expect(json.results[0]!.status).toBe('rejected');
    expect(json.results[0]!.error).toEqual({ code: 'platform_rejected', message: 'duplicate content' });
    expect(fake.posts).toHaveLength(0);
  });

  it('malformed-json commits the post, answers a 200 that is not JSON, and the retry replays valid JSON', async () => {
    const fake = await start();
    fake.inject('posts', { kind: 'malformed-json' });
    const body = spec('garbled');
    const res = await send(fake, body, 'key-garbled');
    expect(res.status).toBe(200);
    await expect(res.json()).rejects.toThrow();
    expect(fake.posts).toHaveLength(1);
    const retry = await send(fake, body, 'key-garbled');
    expect(retry.headers.get('idempotency-replayed')).toBe('true');
    expect(((await retry.json()) as Batch).status).toBe('published');
  });

  it('faults are consumed in order, one per matching request, and a media fault does not touch posts', async () => {
    const fake = await start();
    fake.inject('media', { kind: 'status', http: 500, code: 'internal_error' });
    fake.inject('posts', { kind: 'status', http: 502, code: 'platform_unavailable' }, { kind: 'status', http: 500, code: 'internal_error' });
    const body = spec('ordered');
    expect((await send(fake, body, 'key-ordered')).status).toBe(502);
    expect((await send(fake, body, 'key-ordered')).status).toBe(500);
    expect((await send(fake, body, 'key-ordered')).status).toBe(200);
    const form = new FormData();
    form.append('file', new Blob([Buffer.from('img')], { type: 'image/png' }), 'a.png');
    const upload = await fetch(`${fake.url}/v1/media`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: form });
    expect(upload.status).toBe(500);
  });

  it("an 'any' fault applies to reads too", async () => {
    const fake = await start();
    fake.inject('any', { kind: 'status', http: 503, code: 'platform_unavailable' });
    expect((await get(fake, '/v1/accounts')).status).toBe(503);
    expect((await get(fake, '/v1/accounts')).status).toBe(200);
  });
});

describe('publishing', () => {
  it('an immediate Bluesky post answers 200 with a batch id, and a result with a post id, an AT-URI and a CID', async () => {
    const fake = await start();
    const res = await send(fake, spec('hi bluesky'), 'key-bsky');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('x-request-id')).toMatch(/^req_\d+$/);
    expect(res.headers.get('ratelimit-limit')).toBe('120');
    const json = (await res.json()) as Batch;
    expect(Object.keys(json)).toEqual(['id', 'status', 'createdAt', 'results']);
    expect(json.id).toMatch(UUID_V4);
    expect(json.status).toBe('published');
    expect(json.results).toHaveLength(1);
    const r = json.results[0]!;
    expect(Object.keys(r)).toEqual(['accountId', 'platform', 'postId', 'status', 'uri', 'cid']);
    expect(r).toMatchObject({ accountId: BLUESKY, platform: 'bluesky', status: 'published' });
    expect(r.postId).toMatch(UUID_V7);
    expect(r.uri).toMatch(/^at:\/\/did:plc:fake[a-z2-7]{20}\/app\.bsky\.feed\.post\/[2-7a-j][2-7a-z]{12}$/);
    expect(r.cid).toMatch(/^bafyrei[a-z2-7]{52}$/);
    expect(r.warnings).toBeUndefined();
    expect(fake.posts[0]).toMatchObject({ id: r.postId, platform: 'bluesky', accountId: BLUESKY, text: 'hi bluesky', status: 'published', uri: r.uri, cid: r.cid });
  });

  it("platform-native uris as the real publishers return them: a tweet URL, a LinkedIn share URN, a Threads permalink, TikTok's publish id as cid", async () => {
    const fake = await start();
    const result = async (body: string) => ((await (await send(fake, body)).json()) as Batch).results[0]!;
    expect((await result(spec('tweet', {}, 'twitter'))).uri).toMatch(/^https:\/\/twitter\.com\/\d+\/status\/\d{15,20}$/);
    expect((await result(spec('share', {}, 'linkedin'))).uri).toMatch(/^urn:li:share:\d+$/);
    expect((await result(spec('thread', {}, 'threads'))).uri).toMatch(/^https:\/\/www\.threads\.net\//);
    const tiktok = await result(spec('clip', { media: [{ kind: 'video', url: 'https://example.com/a.mp4' }] }, 'tiktok'));
    expect(tiktok).toMatchObject({ status: 'published', cid: expect.stringMatching(/^v_inbox_file~v2\.\d+$/) });
    expect(tiktok.uri).toBeUndefined();
  });

  it('a scheduled post answers 202 queued and echoes scheduledAt', async () => {
    const fake = await start();
    const when = inFuture(3_600_000);
    const res = await send(fake, spec('later', { scheduledAt: when }), 'key-sched');
    expect(res.status).toBe(202);
    const json = (await res.json()) as Batch;
    expect(json).toMatchObject({ status: 'queued', scheduledAt: when, results: [{ status: 'queued', platform: 'bluesky', accountId: BLUESKY }] });
    expect(json.results[0]!.uri).toBeUndefined();
    expect(fake.posts[0]).toMatchObject({ id: json.results[0]!.postId, status: 'queued', scheduledAt: when });
  });

  it('scheduledAt without seconds is accepted (zod 3.25) and answered in full ISO form', async () => {
    const fake = await start();
    const res = await send(fake, spec('later', { scheduledAt: '2099-05-08T12:00Z' }));
    expect(res.status).toBe(202);
    expect(((await res.json()) as Batch).scheduledAt).toBe('2099-05-08T12:00:00.000Z');
  });

  it('warnings appear only with the [warn] marker, and firstComment yields firstCommentUri/Cid', async () => {
    const fake = await start();
    const r = ((await (await send(fake, spec('careful [warn]', { firstComment: { text: 'more below' } }))).json()) as Batch).results[0]!;
    expect(r.warnings).toEqual([{ code: 'fake_warning', message: expect.any(String) }]);
    expect(r.firstCommentUri).toMatch(/^at:\/\//);
    expect(r.firstCommentUri).not.toBe(r.uri);
    expect(r.firstCommentCid).toMatch(/^bafyrei/);
  });

  it('firstComment off Bluesky is ignored, as the real publishers do', async () => {
    const fake = await start();
    const json = (await (await send(fake, spec('tweet', { firstComment: { text: 'c' } }, 'twitter'))).json()) as Batch;
    expect(json.results[0]).toMatchObject({ status: 'published' });
    expect(json.results[0]!.firstCommentUri).toBeUndefined();
  });

  it('GET /v1/posts/{id} knows results[i].postId, not the batch id; a malformed id is a 500 as on the real server', async () => {
    const fake = await start();
    const created = (await (await send(fake, spec('readable'))).json()) as Batch;
    const batch = await get(fake, `/v1/posts/${created.id}`);
    expect(batch.status).toBe(404);
    expect(((await batch.json()) as Envelope).error).toMatchObject({ code: 'not_found', message: 'Post not found.' });
    const res = await get(fake, `/v1/posts/${created.results[0]!.postId}`);
    expect(res.status).toBe(200);
    const row = (await res.json()) as Row & { account: Record<string, unknown>; attempts: unknown[] };
    expect(row).toMatchObject({ id: created.results[0]!.postId, status: 'published', platformUri: created.results[0]!.uri, platformCid: created.results[0]!.cid, text: 'readable', accountId: BLUESKY, platform: 'bluesky', error: null, scheduledAt: null, attempts: [] });
    expect(Object.keys(row)).toEqual(['id', 'profileId', 'accountId', 'account', 'platform', 'status', 'text', 'mediaRefs', 'scheduledAt', 'publishedAt', 'platformUri', 'platformCid', 'error', 'createdAt', 'updatedAt', 'attempts']);
    expect(row.account).toEqual({ id: BLUESKY, platform: 'bluesky', platformAccountId: expect.stringMatching(/^did:plc:/), displayName: 'Fake bluesky account' });
    expect((await get(fake, '/v1/posts/post_nope')).status).toBe(500);
    expect((await get(fake, '/v1/posts/9d0d2c44-1111-4aaa-8bbb-123456789abc')).status).toBe(404);
  });

  it('GET /v1/accounts lists the accounts with the real fields', async () => {
    const fake = await start();
    const accounts = (await (await get(fake, '/v1/accounts')).json()) as { data: Array<Record<string, unknown>> };
    expect(accounts.data.map((a) => a.platform).sort()).toEqual(['bluesky', 'facebook', 'instagram', 'linkedin', 'pinterest', 'threads', 'tiktok', 'twitter']);
    expect(Object.keys(accounts.data[0]!)).toEqual(['id', 'profileId', 'platform', 'platformAccountId', 'displayName', 'tokenExpiresAt', 'createdAt', 'updatedAt']);
  });

  it('the batch shape answers results per target, and partial_failed when one target fails', async () => {
    const fake = await start();
    const body = JSON.stringify({
      text: 'to both',
      targets: [{ accountId: BLUESKY }, { accountId: accountId('twitter'), text: 'this one [fail]s' }],
    });
    const res = await send(fake, body, 'key-batch');
    expect(res.status).toBe(200);
    const json = (await res.json()) as Batch;
    expect(json.status).toBe('partial_failed');
    expect(json.results).toHaveLength(2);
    expect(json.results[0]).toMatchObject({ accountId: BLUESKY, platform: 'bluesky', status: 'published', uri: expect.stringMatching(/^at:\/\//) });
    expect(json.results[1]).toMatchObject({ platform: 'twitter', status: 'failed', error: { code: 'platform_unavailable' } });
    expect(fake.posts).toHaveLength(1);
  });

  it('a target may name only its platform when the org has one account for it', async () => {
    const fake = await start();
    const res = await send(fake, JSON.stringify({ targets: [{ platform: 'linkedin' }], text: 'by platform' }));
    expect(((await res.json()) as Batch).results[0]).toMatchObject({ accountId: accountId('linkedin'), status: 'published' });
  });

  it('a PATCH reschedules and a DELETE cancels a queued post; neither is idempotent; both are 409 once it is not queued', async () => {
    const fake = await start();
    const created = (await (await send(fake, spec('queued', { scheduledAt: inFuture(60_000) }))).json()) as Batch;
    const id = created.results[0]!.postId;
    const later = inFuture(120_000);
    const patch = await fetch(`${fake.url}/v1/posts/${id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'idempotency-key': 'key-patch' },
      body: JSON.stringify({ scheduledAt: later }),
    });
    expect(patch.status).toBe(200);
    expect(patch.headers.get('idempotency-key')).toBeNull();
    expect(await patch.json()).toMatchObject({ id, status: 'queued', scheduledAt: later });
    expect(fake.posts[0]!.scheduledAt).toBe(later);
    const bad = await call(fake, 'PATCH', `/v1/posts/${id}`, { scheduledAt: '2020-01-01T00:00:00Z' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Envelope).error.rule).toBe('scheduledAt.future');
    const missing = await call(fake, 'PATCH', `/v1/posts/${id}`, {});
    expect(((await missing.json()) as Envelope).error).toMatchObject({ rule: 'scheduledAt', message: 'Required' });
    const del = await call(fake, 'DELETE', `/v1/posts/${id}`);
    expect(await del.json()).toEqual({ id, status: 'canceled' });
    expect(((await (await get(fake, `/v1/posts/${id}`)).json()) as Row).status).toBe('canceled');
    const again = await call(fake, 'DELETE', `/v1/posts/${id}`);
    expect(again.status).toBe(409);
    expect(((await again.json()) as Envelope).error).toMatchObject({ code: 'validation_failed', rule: 'post.status' });
    const published = (await (await send(fake, spec('out already'))).json()) as Batch;
    const delPublished = await call(fake, 'DELETE', `/v1/posts/${published.results[0]!.postId}`);
    expect(delPublished.status).toBe(409);
    expect(((await delPublished.json()) as Envelope).error.rule).toBe('post.status');
  });

  it('GET /v1/posts lists every row newest first, with platform / status / after / before filters and a cursor', async () => {
    const fake = await start();
    const since = new Date(Date.now() - 1).toISOString();
    await send(fake, spec('one'));
    await new Promise((r) => setTimeout(r, 3));
    await send(fake, spec('two [fail]'));
    await new Promise((r) => setTimeout(r, 3));
    await send(fake, spec('three', {}, 'twitter'));
    expect((await rows(fake, `?after=${since}`)).map((r) => r.text)).toEqual(['three', 'two [fail]', 'one']);
    expect((await rows(fake, '?platform=bluesky')).map((r) => r.text)).toEqual(['two [fail]', 'one']);
    expect((await rows(fake, '?status=failed,queued')).map((r) => [r.text, r.error?.code])).toEqual([['two [fail]', 'platform_unavailable']]);
    expect((await rows(fake, '?errorCode=platform_unavailable')).map((r) => r.text)).toEqual(['two [fail]']);
    expect(await rows(fake, `?before=${since}`)).toEqual([]);
    const page1 = (await (await get(fake, '/v1/posts?limit=2')).json()) as { data: Row[]; nextCursor: string | null };
    expect(page1.data.map((r) => r.text)).toEqual(['three', 'two [fail]']);
    const page2 = (await (await get(fake, `/v1/posts?limit=2&cursor=${page1.nextCursor}`)).json()) as { data: Row[]; nextCursor: string | null };
    expect(page2).toMatchObject({ data: [{ text: 'one' }], nextCursor: null });
    for (const [query, rule] of [['?limit=201', 'limit'], ['?after=2026-01-01T00:00:00%2B02:00', 'after'], ['?status=done', 'status.0']] as const) {
      const res = await get(fake, `/v1/posts${query}`);
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as Envelope).error.rule, query).toBe(rule);
    }
  });
});

describe('the request shape', () => {
  it('the spec page’s `account` shape is a 400 validation_failed with rule `targets`, stored under its key; targets[] under another key posts', async () => {
    const fake = await start();
    const single = accountShape('new server');
    const res = await send(fake, single, 'key-b');
    expect(res.status).toBe(400);
    const env = (await res.json()) as Envelope;
    expect(env.error).toMatchObject({ code: 'validation_failed', rule: 'targets', message: 'Required' });
    expect(env.error.platformResponse).toEqual([{ code: 'invalid_type', expected: 'array', received: 'undefined', path: ['targets'], message: 'Required' }]);

    const replay = await send(fake, single, 'key-b');
    expect(replay.status).toBe(400);
    expect(replay.headers.get('idempotency-replayed')).toBe('true');

    const batch = JSON.stringify({ targets: [{ accountId: BLUESKY, platform: 'bluesky' }], text: 'new server' });
    expect((await send(fake, batch, 'key-b')).status).toBe(409); // the first key is spent on the 400
    const ok = await send(fake, batch, 'key-b.batch');
    expect(ok.status).toBe(200);
    const json = (await ok.json()) as Batch;
    expect(json.status).toBe('published');
    expect(json.results[0]!.postId).toBe(fake.posts[0]!.id);
    expect(fake.posts).toHaveLength(1);
  });

  it('batchOnly is accepted and changes nothing (the fake is always targets-only)', async () => {
    const fake = await start({ batchOnly: true });
    expect((await send(fake, accountShape('x'))).status).toBe(400);
    expect((await send(fake, spec('x'))).status).toBe(200);
  });

  it('unknown keys are ignored, as zod strips them', async () => {
    const fake = await start();
    const res = await send(fake, JSON.stringify({ targets: [{ accountId: BLUESKY, extra: 1 }], text: 'x', account: { platform: 'bluesky', id: BLUESKY }, pinterest: { boardId: '1' } }));
    expect(res.status).toBe(200);
  });

  it('options is a union discriminated on platform, with flat fields', async () => {
    const fake = await start();
    const ok = await send(fake, spec('reply', {}, 'twitter', { options: { platform: 'twitter', replyToTweetId: '1790000000000000000' } }));
    expect(((await ok.json()) as Batch).results[0]!.status).toBe('published');
    const pin = await send(fake, spec('pin', { media: [{ kind: 'image', url: 'https://example.com/a.png' }] }, 'pinterest', { options: { platform: 'pinterest', boardId: '123', title: 'A pin' } }));
    expect(((await pin.json()) as Batch).results[0]!.uri).toMatch(/^https:\/\/www\.pinterest\.com\/pin\/\d+\/$/);
    const tiktok = await send(fake, spec('clip', { media: [{ kind: 'video', url: 'https://example.com/a.mp4' }] }, 'tiktok', { options: { platform: 'tiktok', privacy: 'self_only', disableDuet: true } }));
    expect(((await tiktok.json()) as Batch).results[0]!.status).toBe('published');
  });
});

describe('validation', () => {
  const url = 'https://example.com/' + 'p'.repeat(100);
  const img = (n: number) => Array.from({ length: n }, () => ({ kind: 'image', url: 'https://example.com/a.png' }));
  // [name, body, status, code, rule, remediation expected]
  const cases: Array<[string, string, number, string, string | undefined, boolean]> = [
    ['the spec page’s account shape', accountShape('hi'), 400, 'validation_failed', 'targets', true],
    ['an empty targets array', JSON.stringify({ targets: [], text: 'hi' }), 400, 'validation_failed', 'targets', true],
    ['a target with neither accountId nor platform', JSON.stringify({ targets: [{}], text: 'hi' }), 400, 'validation_failed', 'targets.0.accountId', true],
    ['an unknown platform', JSON.stringify({ targets: [{ platform: 'x' }], text: 'hi' }), 400, 'validation_failed', 'targets.0.platform', true],
    ['an accountId that is not a uuid', JSON.stringify({ targets: [{ accountId: 'acc-1' }], text: 'hi' }), 400, 'validation_failed', 'targets.0.accountId', true],
    ['empty text', spec(''), 400, 'validation_failed', 'text', true],
    ['no text at all', JSON.stringify({ targets: [{ accountId: BLUESKY }] }), 400, 'validation_failed', 'targets.text.required', true],
    ['a body that is not JSON', '{"targets":', 400, 'validation_failed', 'body.json', false],
    ['a JSON array', '[1]', 400, 'validation_failed', 'body', true],
    ['an unknown account uuid', JSON.stringify({ targets: [{ accountId: '9d0d2c44-1111-4aaa-8bbb-123456789abc' }], text: 'hi' }), 404, 'not_found', undefined, true],
    ['an account of another platform', JSON.stringify({ targets: [{ accountId: BLUESKY, platform: 'twitter' }], text: 'hi' }), 400, 'validation_failed', 'targets.account.platform_mismatch', true],
    ['26 targets', JSON.stringify({ targets: Array.from({ length: 26 }, () => ({ accountId: BLUESKY })), text: 'hi' }), 400, 'validation_failed', 'targets.max', true],
    ['publishNow with scheduledAt', spec('hi', { publishNow: true, scheduledAt: '2099-01-01T00:00:00Z' }), 400, 'validation_failed', 'mode_conflict', true],
    ['an options discriminator that is no platform', spec('hi', {}, 'bluesky', { options: { platform: 'x' } }), 400, 'validation_failed', 'targets.0.options.platform', true],
    ['options nested by platform name (no discriminator)', spec('hi', {}, 'bluesky', { options: { pinterest: { boardId: '1' } } }), 400, 'validation_failed', 'targets.0.options.platform', true],
    ['options of another platform than the account', spec('hi', {}, 'bluesky', { options: { platform: 'pinterest', boardId: '123' } }), 400, 'validation_failed', 'targets.options.platform_mismatch', true],
    ['twitter reply and quote together', spec('hi', {}, 'twitter', { options: { platform: 'twitter', replyToTweetId: '1', quoteTweetId: '2' } }), 400, 'validation_failed', 'targets.0.options.replyToTweetId', true],
    ['a bluesky reply uri without its cid', spec('hi', {}, 'bluesky', { options: { platform: 'bluesky', replyToUri: 'at://x' } }), 400, 'validation_failed', 'targets.0.options.replyToCid', true],
    ['bluesky text over 300 graphemes', spec('a'.repeat(301)), 400, 'preflight_failed', 'bluesky.text.max_graphemes', true],
    ['twitter text over 280 once each URL weighs 23', spec('a'.repeat(257) + ' ' + url, {}, 'twitter'), 400, 'preflight_failed', 'twitter.text.max_graphemes', true],
    ['scheduledAt with an offset', spec('hi', { scheduledAt: '2099-01-01T12:00:00+02:00' }), 400, 'validation_failed', 'scheduledAt', true],
    ['scheduledAt in the past', spec('hi', { scheduledAt: '2020-01-01T00:00:00Z' }), 400, 'validation_failed', 'scheduledAt.future', true],
    ['firstComment with scheduledAt', spec('hi', { scheduledAt: '2099-01-01T00:00:00Z', firstComment: { text: 'c' } }), 400, 'validation_failed', 'scheduledAt.no_first_comment', true],
    ['a media item with two sources', spec('hi', { media: [{ kind: 'image', url: 'https://e.com/a.png', bytesBase64: 'aGk=' }] }), 400, 'validation_failed', 'media.0', true],
    ['a media kind that is neither image nor video', spec('hi', { media: [{ kind: 'gif', url: 'https://e.com/a.gif' }] }), 400, 'validation_failed', 'media.0', true],
    ['a malformed mediaId', spec('hi', { media: [{ kind: 'image', mediaId: 'med_1' }] }), 400, 'validation_failed', 'media.0.mediaId', true],
    ['five images on Bluesky', spec('hi', { media: img(5) }), 400, 'preflight_failed', 'bluesky.media.count_max', true],
    ['a pin without media', spec('hi', {}, 'pinterest'), 400, 'preflight_failed', 'pinterest.media.required', true],
    ['Instagram without media', spec('hi', {}, 'instagram'), 400, 'preflight_failed', 'instagram.media.required', true],
    ['TikTok without a video', spec('hi', { media: img(1) }, 'tiktok'), 400, 'preflight_failed', 'tiktok.media.video_required', true],
  ];

  it.each(cases)('%s is answered with an error envelope', async (_name, body, status, code, rule, remediation) => {
    const fake = await start();
    const res = await send(fake, body, 'key-invalid');
    expect(res.status).toBe(status);
    const env = (await res.json()) as Envelope;
    expect(env.error.code).toBe(code);
    expect(env.error.rule).toBe(rule);
    if (rule !== undefined) expect(env.error.ruleUrl).toBe(`https://docs.letmepost.dev/preflight/${rule.replace(/\./g, '-').toLowerCase()}`);
    if (remediation) expect(env.error.remediation).toEqual(expect.any(String));
    expect(env.error.message).toEqual(expect.any(String));
    expect(env.error.docUrl).toBe(`https://docs.letmepost.dev/errors/${code}`);
    expect(env.error.requestId).toBe(res.headers.get('x-request-id'));
    expect(fake.posts).toHaveLength(0);
    expect(await rows(fake), 'nothing is stored before the preflight passed').toEqual([]);
  });

  it('graphemes, not code units, are counted: 300 family emoji fit on Bluesky', async () => {
    const fake = await start();
    expect((await send(fake, spec('👩‍👩‍👧'.repeat(300)))).status).toBe(200);
  });

  it('a long URL counts 23 on twitter, so 256 chars plus a URL fits', async () => {
    const fake = await start();
    expect((await send(fake, spec('a'.repeat(256) + ' ' + url, {}, 'twitter'))).status).toBe(200);
  });

  it('a missing or wrong token is 401 unauthenticated and never stored', async () => {
    const fake = await start();
    const body = spec('auth');
    const none = await fetch(`${fake.url}/v1/posts`, { method: 'POST', headers: { 'idempotency-key': 'key-auth' }, body });
    expect(none.status).toBe(401);
    expect(((await none.json()) as Envelope).error).toMatchObject({ code: 'unauthenticated', message: 'Authentication required.', remediation: expect.any(String) });
    const wrong = await send(fake, body, 'key-auth', { authorization: 'Bearer lmp_test_wrong' });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as Envelope).error).toMatchObject({ code: 'unauthenticated', message: 'API key is invalid or revoked.' });
    expect((await send(fake, body, 'key-auth')).status).toBe(200);
  });

  it('an unknown route is the framework’s plain-text 404 (no envelope), with a request id', async () => {
    const fake = await start();
    const res = await get(fake, '/v2/nothing');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=UTF-8');
    expect(await res.text()).toBe('404 Not Found');
    expect(res.headers.get('x-request-id')).toMatch(/^req_\d+$/);
  });

  it('echoHeadersInErrors puts every request header, the token included, into error bodies', async () => {
    const fake = await start({ echoHeadersInErrors: true });
    const res = await send(fake, spec(''), 'key-echo');
    const text = await res.text();
    expect(text).toContain(TOKEN);
    const env = JSON.parse(text) as Envelope;
    expect(env.error.requestHeaders?.authorization).toBe(`Bearer ${TOKEN}`);
    expect(env.error.message).toContain(TOKEN);
  });
});

describe('checks after the rows exist: a 200 whose result failed', () => {
  it('a Bluesky image over 1,000,000 decoded bytes is rejected with bluesky.media.image_size_max; one at the limit publishes', async () => {
    const fake = await start();
    const big = await send(fake, spec('big', { media: [{ kind: 'image', bytesBase64: Buffer.alloc(1_000_001).toString('base64') }] }), 'key-big');
    expect(big.status).toBe(200);
    const json = (await big.json()) as Batch;
    expect(json.status).toBe('failed');
    expect(json.results[0]).toMatchObject({ status: 'rejected', error: { code: 'preflight_failed', rule: 'bluesky.media.image_size_max' } });
    const row = (await (await get(fake, `/v1/posts/${json.results[0]!.postId}`)).json()) as Row;
    expect(row).toMatchObject({ status: 'rejected', error: { code: 'preflight_failed', platform: 'bluesky' } });
    const fits = await send(fake, spec('fits', { media: [{ kind: 'image', bytesBase64: Buffer.alloc(1_000_000).toString('base64'), altText: 'zeros' }] }));
    expect(((await fits.json()) as Batch).results[0]!.status).toBe('published');
    expect(fake.posts).toHaveLength(1);
  });

  it('an unknown mediaId fails the result with not_found media.unknown', async () => {
    const fake = await start();
    const json = (await (await send(fake, spec('hi', { media: [{ kind: 'image', mediaId: 'med_0123456789abcdefghijkl' }] }))).json()) as Batch;
    expect(json.results[0]).toMatchObject({ status: 'failed', error: { code: 'not_found', message: 'Media not found.', rule: 'media.unknown' } });
  });

  it('a pin without a board fails with validation_failed pinterest.board.required; inline bytes are refused on Pinterest', async () => {
    const fake = await start();
    const noBoard = (await (await send(fake, spec('hi', { media: [{ kind: 'image', url: 'https://e.com/a.png' }] }, 'pinterest'))).json()) as Batch;
    expect(noBoard.results[0]).toMatchObject({ status: 'failed', error: { code: 'validation_failed', rule: 'pinterest.board.required' } });
    const inline = (await (await send(fake, spec('hi', { media: [{ kind: 'image', bytesBase64: 'aGk=' }] }, 'pinterest', { options: { platform: 'pinterest', boardId: '1' } }))).json()) as Batch;
    expect(inline.results[0]).toMatchObject({ status: 'rejected', error: { code: 'preflight_failed', rule: 'media.bytes_inline_unsupported' } });
  });

  it('the stored row keeps the media refs as sent, inline bytes included', async () => {
    const fake = await start();
    const media = [{ kind: 'image', bytesBase64: 'aGk=', altText: 'hi' }];
    const json = (await (await send(fake, spec('with bytes', { media }))).json()) as Batch;
    const row = (await (await get(fake, `/v1/posts/${json.results[0]!.postId}`)).json()) as Row;
    expect(row.mediaRefs).toEqual(media);
  });
});

describe('media', () => {
  it('a multipart upload answers 201 with a med_ id, and every upload is a new id', async () => {
    const fake = await start();
    const content = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2, 3, 0x2d, 0x2d]);
    const upload = async (): Promise<Response> => {
      const form = new FormData();
      form.append('note', 'ignored');
      form.append('file', new Blob([content], { type: 'image/png' }), 'pic "one".png');
      return fetch(`${fake.url}/v1/media`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'idempotency-key': 'key-media' }, body: form });
    };
    const res = await upload();
    expect(res.status).toBe(201);
    const json = (await res.json()) as { id: string; url: string; contentType: string; sizeBytes: number; sha256: string; createdAt: string };
    expect(Object.keys(json)).toEqual(['id', 'url', 'contentType', 'sizeBytes', 'sha256', 'createdAt']);
    expect(json.id).toMatch(/^med_[0-9A-Za-z]{22}$/);
    expect(json.url).toMatch(/^https:\/\/cdn\.fake\//);
    expect(json).toMatchObject({ contentType: 'image/png', sizeBytes: content.length, sha256: createHash('sha256').update(content).digest('hex') });
    expect(fake.media).toEqual([{ id: json.id, filename: 'pic "one".png', contentType: 'image/png', size: content.length }]);

    const second = (await (await upload()).json()) as { id: string };
    expect(second.id).not.toBe(json.id);
    expect(fake.media).toHaveLength(2);

    const posted = await send(fake, spec('with a picture', { media: [{ kind: 'image', mediaId: json.id, altText: 'a pic' }] }));
    expect(posted.status).toBe(200);
    expect(((await posted.json()) as Batch).results[0]!.status).toBe('published');
  });

  it('a hand-built multipart body with a quoted boundary and CRLFs inside the file is parsed byte for byte', async () => {
    const fake = await start();
    const boundary = 'b0und4ry';
    const content = Buffer.from('line1\r\n--b0und4r\r\nline2\r\n');
    const body = Buffer.concat([
      Buffer.from(`preamble\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="v.mp4"\r\nContent-Type: video/mp4\r\n\r\n`),
      content,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const res = await fetch(`${fake.url}/v1/media`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': `multipart/form-data; boundary="${boundary}"` },
      body,
    });
    expect(res.status).toBe(201);
    expect(fake.media[0]).toMatchObject({ filename: 'v.mp4', contentType: 'video/mp4', size: content.length });
    expect(((await res.json()) as { sha256: string }).sha256).toBe(createHash('sha256').update(content).digest('hex'));
  });

  it('a multipart body without a file part is a 400', async () => {
    const fake = await start();
    const form = new FormData();
    form.append('other', 'x');
    const res = await fetch(`${fake.url}/v1/media`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: form });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Envelope).error.rule).toBe('media.missing_file');
  });

  it('an upload that is not multipart is a 400', async () => {
    const fake = await start();
    const res = await fetch(`${fake.url}/v1/media`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'image/png' }, body: Buffer.from('x') });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Envelope).error.rule).toBe('media.content_type');
  });
});

describe('lifecycle', () => {
  it('close() ends a pending slow answer and open sockets without hanging', async () => {
    const fake = await startFakeLetmepost();
    fake.inject('posts', { kind: 'slow-after-commit', ms: 30_000 });
    const pending = send(fake, spec('never answered'), 'key-close');
    await until(() => fake.posts.length === 1);
    await fake.close();
    await expect(pending).rejects.toThrow();
  });

  it('close() also ends a request waiting on a slow platform', async () => {
    const fake = await startFakeLetmepost();
    fake.platform({ delayMs: 30_000 });
    const pending = send(fake, spec('never published'), 'key-close-2');
    await until(() => fake.requests.length === 1);
    await new Promise((r) => setTimeout(r, 20));
    await fake.close();
    await expect(pending).rejects.toThrow();
  });
});
