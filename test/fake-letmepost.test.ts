import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_ACCOUNTS,
  startFakeLetmepost,
  type FakeLetmepost,
  type FakeLetmepostOptions,
} from './support/fake-letmepost.js';

const TOKEN = 'lmp_test_secret_token';

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

function spec(text: string, extra: Record<string, unknown> = {}, platform = 'bluesky'): string {
  return JSON.stringify({ account: { platform, id: accountId(platform) }, text, ...extra });
}

function send(fake: FakeLetmepost, body: string, key?: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${fake.url}/v1/posts`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${TOKEN}`,
      'content-type': 'application/json',
      ...(key === undefined ? {} : { 'idempotency-key': key }),
      ...headers,
    },
    body,
  });
}

function get(fake: FakeLetmepost, path: string): Promise<Response> {
  return fetch(`${fake.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
}

async function bytes(res: Response): Promise<Buffer> {
  return Buffer.from(await res.arrayBuffer());
}

interface Envelope {
  error: { code: string; message: string; rule?: string; remediation?: string; docUrl: string; requestId?: string; platform?: string; platformResponse?: unknown; requestHeaders?: Record<string, string> };
}

async function until(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function inFuture(ms: number): string {
  return new Date(Date.now() + ms).toISOString();
}

describe('idempotency', () => {
  it('a replay with the same key and bytes returns identical bytes with Idempotency-Replayed: true and posts nothing new', async () => {
    const fake = await start();
    const body = spec('hello once');
    const first = await send(fake, body, 'key-replay');
    const firstBytes = await bytes(first);
    expect(first.status).toBe(200);
    expect(first.headers.get('idempotency-replayed')).toBeNull();

    const second = await send(fake, body, 'key-replay');
    expect(second.status).toBe(200);
    expect(second.headers.get('idempotency-replayed')).toBe('true');
    expect((await bytes(second)).equals(firstBytes)).toBe(true);
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
    const env = (await res.json()) as Envelope;
    expect(env.error.code).toBe('idempotency_conflict');
    expect(env.error.rule).toBe('idempotency_key.body_mismatch');
    expect(fake.posts).toHaveLength(1);
  });

  it('bytes that differ only in key order are a different body', async () => {
    const fake = await start();
    await send(fake, JSON.stringify({ account: { platform: 'bluesky', id: BLUESKY }, text: 'x' }), 'key-order');
    const res = await send(fake, JSON.stringify({ text: 'x', account: { platform: 'bluesky', id: BLUESKY } }), 'key-order');
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

  it('concurrent requests with one key during slow-after-commit: the first answers 200, the second 409 in_progress', async () => {
    const fake = await start();
    fake.inject('posts', { kind: 'slow-after-commit', ms: 300 });
    const body = spec('slow one');
    const first = send(fake, body, 'key-slow');
    await until(() => fake.posts.length === 1);
    const second = await send(fake, body, 'key-slow');
    expect(second.status).toBe(409);
    const env = (await second.json()) as Envelope;
    expect(env.error.code).toBe('idempotency_conflict');
    expect(env.error.rule).toBe('idempotency_key.in_progress');

    const res = await first;
    expect(res.status).toBe(200);
    expect(res.headers.get('idempotency-replayed')).toBeNull();
    const after = await send(fake, body, 'key-slow');
    expect(after.headers.get('idempotency-replayed')).toBe('true');
    expect(fake.posts).toHaveLength(1);
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

  it('an Idempotency-Key longer than 128 characters is a 400 and commits nothing', async () => {
    const fake = await start();
    const res = await send(fake, spec('long key'), 'k'.repeat(129));
    expect(res.status).toBe(400);
    expect(((await res.json()) as Envelope).error.rule).toBe('idempotency_key.length');
    expect(fake.posts).toHaveLength(0);
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
    const json = (await retry.json()) as { id: string };
    expect(json.id).toBe(fake.posts[0]!.id);
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

  it('in-progress answers 409 idempotency_key.in_progress and is not stored', async () => {
    const fake = await start();
    fake.inject('posts', { kind: 'in-progress' });
    const body = spec('busy');
    const res = await send(fake, body, 'key-busy');
    expect(res.status).toBe(409);
    expect(((await res.json()) as Envelope).error.rule).toBe('idempotency_key.in_progress');
    expect((await send(fake, body, 'key-busy')).status).toBe(200);
    expect(fake.posts).toHaveLength(1);
  });

  it('failed-status answers 200 with status failed, is stored, and counts no post until the key expires', async () => {
    const fake = await start();
    fake.inject('posts', { kind: 'failed-status' });
    const body = spec('transient');
    const res = await send(fake, body, 'key-failed');
    expect(res.status).toBe(200);
    const json = (await res.json()) as { status: string; error?: { code: string } };
    expect(json.status).toBe('failed');
    expect(json.error?.code).toBe('platform_unavailable');
    expect(fake.posts).toHaveLength(0);

    const replay = await send(fake, body, 'key-failed');
    expect(replay.headers.get('idempotency-replayed')).toBe('true');
    expect(((await replay.json()) as { status: string }).status).toBe('failed');

    fake.expireIdempotency();
    const fresh = await send(fake, body, 'key-failed');
    expect(((await fresh.json()) as { status: string }).status).toBe('published');
    expect(fake.posts).toHaveLength(1);
  });

  it('rejected-status answers 200 with status rejected and the given message', async () => {
    const fake = await start();
    fake.inject('posts', { kind: 'rejected-status', message: 'duplicate content' });
    const res = await send(fake, spec('refused'), 'key-rejected');
    expect(res.status).toBe(200);
    const json = (await res.json()) as { status: string; error: { code: string; message: string } };
    expect(json.status).toBe('rejected');
    expect(json.error).toEqual({ code: 'platform_rejected', message: 'duplicate content' });
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
    expect(((await retry.json()) as { status: string }).status).toBe('published');
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
  it('an immediate Bluesky post answers 200 published with an AT-URI, a CID, a post_ ULID id and x-request-id', async () => {
    const fake = await start();
    const res = await send(fake, spec('hi bluesky'), 'key-bsky');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(/^req_\d+$/);
    const json = (await res.json()) as Record<string, unknown>;
    expect(json).toMatchObject({ platform: 'bluesky', status: 'published' });
    expect(json.id).toMatch(/^post_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(json.uri).toMatch(/^at:\/\/did:plc:fake[a-z2-7]{20}\/app\.bsky\.feed\.post\/[2-7a-j][2-7a-z]{12}$/);
    expect(json.cid).toMatch(/^bafyrei[a-z2-7]{52}$/);
    expect(json.warnings).toBeUndefined();
    expect(fake.posts[0]).toMatchObject({ id: json.id, platform: 'bluesky', accountId: BLUESKY, text: 'hi bluesky', status: 'published', uri: json.uri });
  });

  it('platform-native ids: twitter is numeric, linkedin is a share URN, threads is numeric', async () => {
    const fake = await start();
    const tw = (await (await send(fake, spec('tweet', {}, 'twitter'))).json()) as { uri: string };
    expect(tw.uri).toMatch(/^\d{15,20}$/);
    const li = (await (await send(fake, spec('share', {}, 'linkedin'))).json()) as { uri: string };
    expect(li.uri).toMatch(/^urn:li:share:\d+$/);
    const th = (await (await send(fake, spec('thread', {}, 'threads'))).json()) as { uri: string };
    expect(th.uri).toMatch(/^\d+$/);
  });

  it('a scheduled post answers 202 queued and echoes scheduledAt', async () => {
    const fake = await start();
    const when = inFuture(3_600_000);
    const res = await send(fake, spec('later', { scheduledAt: when }), 'key-sched');
    expect(res.status).toBe(202);
    const json = (await res.json()) as { status: string; scheduledAt: string; uri?: string };
    expect(json.status).toBe('queued');
    expect(json.scheduledAt).toBe(when);
    expect(json.uri).toBeUndefined();
    expect(fake.posts[0]).toMatchObject({ status: 'queued', scheduledAt: when });
  });

  it('warnings appear only with the [warn] marker, and firstComment yields firstCommentUri/Cid', async () => {
    const fake = await start();
    const json = (await (await send(fake, spec('careful [warn]', { firstComment: { text: 'more below' } }))).json()) as Record<string, unknown>;
    expect(json.warnings).toEqual([{ code: 'fake_warning', message: expect.any(String) }]);
    expect(json.firstCommentUri).toMatch(/^at:\/\//);
    expect(json.firstCommentUri).not.toBe(json.uri);
    expect(json.firstCommentCid).toMatch(/^bafyrei/);
  });

  it('GET /v1/posts/:id returns the stored post and GET /v1/accounts lists the accounts', async () => {
    const fake = await start();
    const created = (await (await send(fake, spec('readable'))).json()) as { id: string; uri: string };
    const res = await get(fake, `/v1/posts/${created.id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: created.id, status: 'published', uri: created.uri, text: 'readable', accountId: BLUESKY });
    expect((await get(fake, '/v1/posts/post_nope')).status).toBe(404);
    const accounts = (await (await get(fake, '/v1/accounts')).json()) as { data: Array<{ id: string; platform: string }> };
    expect(accounts.data.map((a) => a.platform).sort()).toEqual(['bluesky', 'facebook', 'instagram', 'linkedin', 'pinterest', 'threads', 'tiktok', 'twitter']);
  });

  it('the batch shape answers results per target, and partial_failed when one target fails', async () => {
    const fake = await start();
    const body = JSON.stringify({
      text: 'to both',
      targets: [{ accountId: BLUESKY }, { accountId: accountId('twitter'), text: 'this one [fail]s' }],
    });
    const res = await send(fake, body, 'key-batch');
    expect(res.status).toBe(200);
    const json = (await res.json()) as { id: string; status: string; results: Array<{ accountId: string; platform: string; postId: string; status: string; uri?: string; error?: unknown }> };
    expect(json.status).toBe('partial_failed');
    expect(json.results).toHaveLength(2);
    expect(json.results[0]).toMatchObject({ accountId: BLUESKY, platform: 'bluesky', status: 'published', uri: expect.stringMatching(/^at:\/\//) });
    expect(json.results[1]).toMatchObject({ platform: 'twitter', status: 'failed', error: { code: 'platform_unavailable' } });
    expect(fake.posts).toHaveLength(1);
  });

  it('a PATCH reschedules and a DELETE cancels a queued post', async () => {
    const fake = await start();
    const created = (await (await send(fake, spec('queued', { scheduledAt: inFuture(60_000) }))).json()) as { id: string };
    const later = inFuture(120_000);
    const patch = await fetch(`${fake.url}/v1/posts/${created.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ scheduledAt: later }),
    });
    expect(patch.status).toBe(200);
    expect(fake.posts[0]!.scheduledAt).toBe(later);
    const del = await fetch(`${fake.url}/v1/posts/${created.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(await del.json()).toEqual({ id: created.id, status: 'canceled' });
    const again = await fetch(`${fake.url}/v1/posts/${created.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(again.status).toBe(409);
  });
});

describe('batchOnly mode', () => {
  it('rejects the spec shape with 400 validation_failed naming targets, stores it, and accepts the batch shape', async () => {
    const fake = await start({ batchOnly: true });
    const single = spec('new server');
    const res = await send(fake, single, 'key-b');
    expect(res.status).toBe(400);
    const env = (await res.json()) as Envelope;
    expect(env.error.code).toBe('validation_failed');
    expect(env.error.rule).toBe('targets.required');
    expect(env.error.message).toContain('targets');

    const replay = await send(fake, single, 'key-b');
    expect(replay.status).toBe(400);
    expect(replay.headers.get('idempotency-replayed')).toBe('true');

    const batch = JSON.stringify({ targets: [{ accountId: BLUESKY, platform: 'bluesky' }], text: 'new server' });
    expect((await send(fake, batch, 'key-b')).status).toBe(409); // the first key is spent on the 400
    const ok = await send(fake, batch, 'key-b.batch');
    expect(ok.status).toBe(200);
    const json = (await ok.json()) as { status: string; results: Array<{ status: string; postId: string }> };
    expect(json.status).toBe('published');
    expect(json.results[0]!.postId).toBe(fake.posts[0]!.id);
    expect(fake.posts).toHaveLength(1);
  });

  it('a scheduled batch answers 202 queued with scheduledAt', async () => {
    const fake = await start({ batchOnly: true });
    const when = inFuture(3_600_000);
    const res = await send(fake, JSON.stringify({ targets: [{ accountId: BLUESKY }], text: 'later', scheduledAt: when }), 'key-bq');
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ status: 'queued', scheduledAt: when, results: [{ status: 'queued', platform: 'bluesky' }] });
  });
});

describe('validation', () => {
  const twitter = accountId('twitter');
  const url = 'https://example.com/' + 'p'.repeat(100);
  const cases: Array<[string, string, number, string, string | undefined]> = [
    ['an unknown platform', JSON.stringify({ account: { platform: 'x', id: twitter }, text: 'hi' }), 400, 'validation_failed', 'account.platform'],
    ['empty text', spec(''), 400, 'validation_failed', 'text'],
    ['a body that is not JSON', '{"account":', 400, 'validation_failed', 'body.json'],
    ['an unknown account uuid', JSON.stringify({ account: { platform: 'bluesky', id: '9d0d2c44-1111-4aaa-8bbb-123456789abc' }, text: 'hi' }), 404, 'not_found', undefined],
    ['an account of another platform', JSON.stringify({ account: { platform: 'twitter', id: BLUESKY }, text: 'hi' }), 400, 'validation_failed', 'account.platform_mismatch'],
    ['bluesky text over 300 graphemes', spec('a'.repeat(301)), 400, 'preflight_failed', 'bluesky.text.max_graphemes'],
    ['twitter text over 280 once each URL weighs 23', spec('a'.repeat(257) + ' ' + url, {}, 'twitter'), 400, 'preflight_failed', 'twitter.text.max_graphemes'],
    ['scheduledAt with an offset', spec('hi', { scheduledAt: '2099-01-01T12:00:00+02:00' }), 400, 'validation_failed', 'scheduledAt'],
    ['scheduledAt in the past', spec('hi', { scheduledAt: '2020-01-01T00:00:00Z' }), 400, 'validation_failed', 'scheduledAt.future'],
    ['firstComment with scheduledAt', spec('hi', { scheduledAt: '2099-01-01T00:00:00Z', firstComment: { text: 'c' } }), 400, 'validation_failed', 'scheduledAt.no_first_comment'],
    ['firstComment off Bluesky', spec('hi', { firstComment: { text: 'c' } }, 'twitter'), 400, 'preflight_failed', 'twitter.first_comment.unsupported'],
    ['a media item with two sources', spec('hi', { media: [{ kind: 'image', url: 'https://e.com/a.png', bytesBase64: 'aGk=' }] }), 400, 'validation_failed', 'media.0'],
    ['a mediaId never uploaded', spec('hi', { media: [{ kind: 'image', mediaId: 'med_0123456789abcdefghijkl' }] }), 400, 'validation_failed', 'media.0.mediaId'],
    ['five images on Bluesky', spec('hi', { media: Array.from({ length: 5 }, () => ({ kind: 'image', url: 'https://e.com/a.png' })) }), 400, 'preflight_failed', 'bluesky.media.max_images'],
    ['a pin without a board', spec('hi', { media: [{ kind: 'image', url: 'https://e.com/a.png' }] }, 'pinterest'), 400, 'preflight_failed', 'pinterest.board_id.required'],
    ['Instagram without media', spec('hi', {}, 'instagram'), 400, 'preflight_failed', 'instagram.media.required'],
  ];

  it.each(cases)('%s is answered with an error envelope', async (_name, body, status, code, rule) => {
    const fake = await start();
    const res = await send(fake, body, 'key-invalid');
    expect(res.status).toBe(status);
    const env = (await res.json()) as Envelope;
    expect(env.error.code).toBe(code);
    if (rule !== undefined) {
      expect(env.error.rule).toBe(rule);
      expect(env.error.remediation).toEqual(expect.any(String));
    }
    expect(env.error.message).toEqual(expect.any(String));
    expect(env.error.docUrl).toBe(`https://docs.letmepost.dev/errors/${code}`);
    expect(env.error.requestId).toBe(res.headers.get('x-request-id'));
    expect(fake.posts).toHaveLength(0);
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
    expect(((await none.json()) as Envelope).error.code).toBe('unauthenticated');
    const wrong = await send(fake, body, 'key-auth', { authorization: 'Bearer lmp_test_wrong' });
    expect(wrong.status).toBe(401);
    expect((await send(fake, body, 'key-auth')).status).toBe(200);
  });

  it('an unknown route is a 404 envelope with a request id', async () => {
    const fake = await start();
    const res = await get(fake, '/v2/nothing');
    expect(res.status).toBe(404);
    const env = (await res.json()) as Envelope;
    expect(env.error.code).toBe('not_found');
    expect(env.error.requestId).toBe(res.headers.get('x-request-id'));
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
    const json = (await res.json()) as { id: string; url: string; contentType: string; size: number; sha256: string };
    expect(json.id).toMatch(/^med_[0-9A-Za-z]{22}$/);
    expect(json.url).toMatch(/^https:\/\/cdn\.fake\//);
    expect(json).toMatchObject({ contentType: 'image/png', size: content.length, sha256: createHash('sha256').update(content).digest('hex') });
    expect(fake.media).toEqual([{ id: json.id, filename: 'pic "one".png', contentType: 'image/png', size: content.length }]);

    const second = (await (await upload()).json()) as { id: string };
    expect(second.id).not.toBe(json.id);
    expect(fake.media).toHaveLength(2);

    const posted = await send(fake, spec('with a picture', { media: [{ kind: 'image', mediaId: json.id, altText: 'a pic' }] }));
    expect(posted.status).toBe(200);
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
});
