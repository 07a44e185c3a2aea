/**
 * The direct Mastodon publisher, in process, against a fake Mastodon on 127.0.0.1 that
 * replays Idempotency-Keys as Mastodon does (keyed on the header only, for an hour).
 * Waits are recorded, not slept, so retries and media checks cost no time.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PublishError, SCHEDULE_REFUSED } from '../../../src/errors.js';
import { childKey } from '../../../src/plan/keys.js';
import { remoteMedia, resolveLocalMedia, type ResolvedMedia } from '../../../src/model/media.js';
import type { PostDefinition } from '../../../src/model/post.js';
import { MastodonPublisher, rateLimitWaitMs, type MastodonConfig } from '../../../src/publishers/mastodon/publisher.js';
import type { PlannedTarget } from '../../../src/publishers/types.js';
import { weightedLength } from '../../../src/text/length.js';
import { startFakeMastodon, type FakeMastodon, type FakeMastodonOptions, type RecordedRequest } from '../../support/fake-mastodon.js';
import { png } from '../../support/images.js';
import { plannedTarget, type TargetSpec } from '../../support/planned.js';

const TOKEN = 'mastodon_test_secret_token';
const KEY = 'lmpa-in-mastodon-Zk3v9QmT1pX8aLr2Wc5nB7yD0eH4jU6s';
const MINUTE = 60_000;

let workspace: string;
beforeAll(() => {
  workspace = mkdtempSync(join(tmpdir(), 'lmpa-mastodon-'));
  for (const name of ['a.png', 'b.png', 'c.png']) writeFileSync(join(workspace, name), png(32, 16, { seed: name.charCodeAt(0) }));
});

const servers: FakeMastodon[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function fake(opts: FakeMastodonOptions = {}): Promise<FakeMastodon> {
  const srv = await startFakeMastodon({ token: TOKEN, ...opts });
  servers.push(srv);
  return srv;
}

interface Run {
  publisher: MastodonPublisher;
  waits: number[];
  logs: string[];
}

/** One run of the action: a fresh publisher (nothing remembered), waits recorded instead of slept. */
function run(srv: FakeMastodon, config: Partial<MastodonConfig> = {}): Run {
  const waits: number[] = [];
  const logs: string[] = [];
  const log = { info: (m: string) => logs.push(m), warning: (m: string) => logs.push(m), debug: (m: string) => logs.push(m) };
  const publisher = new MastodonPublisher({
    server: srv.url,
    token: TOKEN,
    requestTimeoutMs: 5000,
    deadline: Date.now() + 10 * MINUTE,
    log,
    wait: async (ms) => {
      waits.push(ms);
    },
    mediaPollIntervalMs: 1000,
    ...config,
  });
  return { publisher, waits, logs };
}

function target(overrides: Partial<PlannedTarget> & { mastodon?: PostDefinition['mastodon'] } = {}): PlannedTarget {
  const { mastodon, ...rest } = overrides;
  const texts = rest.texts ?? ['widgets v1.2.0 is out: https://example.com/widgets/releases/tag/v1.2.0'];
  const post = {
    ...(texts.length > 1 ? { thread: texts } : { text: texts[0] }),
    targets: [{ platform: 'mastodon', account: 'mastodon' }],
    media: [],
    ...(mastodon ? { mastodon } : {}),
  } as PostDefinition;
  return plannedTarget({ label: 'inputs', publisher: 'mastodon', platform: 'mastodon', idempotencyKey: KEY, texts, post, ...(rest as Partial<TargetSpec>) });
}

async function image(name: string, alt?: string): Promise<ResolvedMedia> {
  return resolveLocalMedia(name, workspace, workspace, alt === undefined ? {} : { alt });
}

const statusPosts = (srv: FakeMastodon) => srv.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/statuses');
const bodyOf = (r: RecordedRequest) => JSON.parse(r.body.toString('utf8')) as Record<string, unknown>;

async function failure(promise: Promise<unknown>): Promise<PublishError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PublishError);
  return error as PublishError;
}

/** ~260 characters in five sentences. */
const LONG =
  'Widgets 2.0 is out today after a year of work. It rewrites the renderer from scratch, so large documents open in a fraction of the time. ' +
  'Plugins written for 1.x keep working without changes. Read the full notes at https://example.com/widgets/releases/2.0.0 and tell us what you think! Thanks to all 41 contributors.';

describe('MastodonPublisher: exactly once', () => {
  it('publishes one status, and a re-run gets the same status back instead of a second one', async () => {
    const srv = await fake();
    const [first] = await run(srv).publisher.publish(target());
    expect(srv.statuses).toHaveLength(1);
    expect(first).toMatchObject({ status: 'published', publisher: 'mastodon', platform: 'mastodon', idempotencyKey: KEY, replayed: false, id: srv.statuses[0]!.id, uri: srv.statuses[0]!.uri, url: srv.statuses[0]!.url });
    expect(first!.part).toBeUndefined();

    const [again] = await run(srv).publisher.publish(target());
    expect(srv.statuses).toHaveLength(1);
    expect(again).toMatchObject({ status: 'published', id: first!.id, uri: first!.uri, url: first!.url, idempotencyKey: KEY });

    const [a, b] = statusPosts(srv);
    expect(a!.headers['idempotency-key']).toBe(KEY);
    expect(b!.headers['idempotency-key']).toBe(KEY);
    expect(b!.body.equals(a!.body), 'a re-run sends byte-identical bodies').toBe(true);
    expect(a!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(srv.requests.filter((r) => r.path === '/api/v2/instance')).toHaveLength(2);
  });

  it('a re-run minutes later is reported as replayed, judged by created_at on the server clock', async () => {
    const srv = await fake();
    const [first] = await run(srv).publisher.publish(target());
    srv.advanceClock(10 * MINUTE);
    const [again] = await run(srv).publisher.publish(target());
    expect(first!.replayed).toBe(false);
    expect(again).toMatchObject({ id: first!.id, replayed: true });
    expect(srv.statuses).toHaveLength(1);
  });

  it("beyond Mastodon's one-hour window the same key posts again (the ledger's job, not Mastodon's)", async () => {
    const srv = await fake();
    await run(srv).publisher.publish(target());
    srv.advanceClock(61 * MINUTE);
    const [late] = await run(srv).publisher.publish(target());
    expect(srv.statuses).toHaveLength(2);
    expect(late!.replayed).toBe(false);
  });

  it('a connection dropped after the status was committed is retried under the same key: one status, not replayed', async () => {
    const srv = await fake();
    srv.inject('statuses', { kind: 'drop-after-commit' });
    const { publisher, logs } = run(srv);
    const [result] = await publisher.publish(target());
    expect(srv.statuses).toHaveLength(1);
    expect(statusPosts(srv)).toHaveLength(2);
    expect(result).toMatchObject({ status: 'published', id: srv.statuses[0]!.id, replayed: false });
    expect(logs.some((l) => /connection lost.*attempt 2 of 6.*same request and idempotency key/.test(l))).toBe(true);
  });

  it('an answer slower than the request timeout is retried under the same key: one status', async () => {
    const srv = await fake();
    srv.inject('statuses', { kind: 'slow-after-commit', ms: 1500 });
    const [result] = await run(srv, { requestTimeoutMs: 300 }).publisher.publish(target());
    expect(srv.statuses).toHaveLength(1);
    expect(statusPosts(srv)).toHaveLength(2);
    expect(result!.id).toBe(srv.statuses[0]!.id);
  });

  it('a burst of 5xx answers is retried with the same key and bytes: one status', async () => {
    const srv = await fake();
    srv.inject('statuses', { kind: 'http', status: 502 }, { kind: 'http', status: 503 }, { kind: 'http', status: 500 });
    const { publisher, waits } = run(srv);
    const [result] = await publisher.publish(target());
    const posts = statusPosts(srv);
    expect(posts).toHaveLength(4);
    expect(new Set(posts.map((r) => r.headers['idempotency-key']))).toEqual(new Set([KEY]));
    expect(new Set(posts.map((r) => r.body.toString('hex'))).size).toBe(1);
    expect(srv.statuses).toHaveLength(1);
    expect(result!.status).toBe('published');
    expect(waits).toEqual([500, 1000, 2000]);
  });

  it('a 429 waits until X-RateLimit-Reset, then retries under the same key', async () => {
    const srv = await fake();
    srv.inject('statuses', { kind: 'rate-limit', resetInMs: 30_000 });
    const { publisher, waits } = run(srv);
    await publisher.publish(target());
    expect(srv.statuses).toHaveLength(1);
    expect(statusPosts(srv)).toHaveLength(2);
    // Reset minus the server's Date (whole seconds, rounded down): 30 s, up to one more.
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThanOrEqual(30_000);
    expect(waits[0]).toBeLessThanOrEqual(31_000);
  });

  it('reads the rate-limit wait on the server clock, falling back to Retry-After', () => {
    const headers = new Headers({ date: 'Tue, 01 Dec 2026 09:00:00 GMT', 'x-ratelimit-reset': '2026-12-01T09:04:30.000Z' });
    expect(rateLimitWaitMs(headers, Date.parse('2030-01-01T00:00:00Z'))).toBe(270_000);
    expect(rateLimitWaitMs(new Headers({ 'retry-after': '7' }))).toBe(7000);
    expect(rateLimitWaitMs(new Headers())).toBeUndefined();
  });
});

describe('MastodonPublisher: threads', () => {
  it("a text over the instance's limit becomes a chain of replies, each post under its own key", async () => {
    const srv = await fake({ maxCharacters: 100 });
    const results = await run(srv).publisher.publish(target({ texts: [LONG] }));
    const posts = statusPosts(srv).map(bodyOf);
    expect(results.length).toBeGreaterThanOrEqual(3);
    expect(srv.statuses).toHaveLength(results.length);
    expect(results.map((r) => r.part)).toEqual(results.map((_, i) => `${i + 1}/${results.length}`));
    expect(results.map((r) => r.idempotencyKey)).toEqual(results.map((_, i) => (i === 0 ? KEY : childKey(KEY, `t${i + 1}`))));
    expect(statusPosts(srv).map((r) => r.headers['idempotency-key'])).toEqual(results.map((r) => r.idempotencyKey));
    srv.statuses.forEach((s, i) => {
      expect(s.inReplyToId).toBe(i === 0 ? undefined : srv.statuses[i - 1]!.id);
      expect(results[i]!.id).toBe(s.id);
      expect(weightedLength(s.text, 23)).toBeLessThanOrEqual(100);
    });
    // Nothing lost or reordered: the posts joined are the text.
    expect(posts.map((p) => p.status).join(' ')).toBe(LONG);
    // The link is never cut.
    expect(posts.some((p) => String(p.status).includes('https://example.com/widgets/releases/2.0.0'))).toBe(true);
  });

  it('a failure after post 2 of 3, then a re-run, leaves exactly 3 statuses, correctly chained', async () => {
    const srv = await fake();
    const thread = ['Widgets 2.0 is out (1/3)', 'It is twice as fast (2/3)', 'Upgrade notes: https://example.com/upgrade (3/3)'];
    // Posts 1 and 2 go through; post 3 meets an outage longer than the retries.
    srv.inject('statuses', { kind: 'none' }, { kind: 'none' }, ...Array.from({ length: 6 }, () => ({ kind: 'http' as const, status: 503 })));
    const error = await failure(run(srv).publisher.publish(target({ texts: thread })));
    expect(error.code).toBe('failed');
    expect(error.message).toContain('gave up after 6 attempts');
    expect(error.message).toContain('Posts 1–2 of the thread of 3 are published');
    expect(error.message).toContain(srv.statuses[1]!.url);
    expect(srv.statuses).toHaveLength(2);

    srv.advanceClock(5 * MINUTE);
    const results = await run(srv).publisher.publish(target({ texts: thread }));
    expect(srv.statuses.map((s) => s.text)).toEqual(thread);
    expect(srv.statuses[1]!.inReplyToId).toBe(srv.statuses[0]!.id);
    expect(srv.statuses[2]!.inReplyToId).toBe(srv.statuses[1]!.id);
    expect(results.map((r) => [r.part, r.id, r.replayed])).toEqual([
      ['1/3', srv.statuses[0]!.id, true],
      ['2/3', srv.statuses[1]!.id, true],
      ['3/3', srv.statuses[2]!.id, false],
    ]);
  });

  it('an explicit thread with a post over the limit is refused before anything is sent, naming the limit', async () => {
    const srv = await fake({ maxCharacters: 100 });
    const error = await failure(run(srv).publisher.publish(target({ texts: ['short', 'x'.repeat(120)] })));
    expect(error.message).toMatch(/^Post 2 of the thread is 120 characters .*limit of 100 characters/);
    expect(error.code).toBeUndefined();
    expect(statusPosts(srv)).toHaveLength(0);
  });

  it('the content warning counts toward the limit of every post', async () => {
    const srv = await fake({ maxCharacters: 100 });
    await run(srv).publisher.publish(target({ texts: [LONG], mastodon: { spoilerText: 'release notes', visibility: 'unlisted', language: 'en', sensitive: false } }));
    for (const body of statusPosts(srv).map(bodyOf)) {
      expect(weightedLength(String(body.status), 23) + 'release notes'.length).toBeLessThanOrEqual(100);
      expect(body).toMatchObject({ spoiler_text: 'release notes', visibility: 'unlisted', language: 'en', sensitive: false });
    }
  });

  it('a text that would need a thread cannot be scheduled', async () => {
    const srv = await fake({ maxCharacters: 100 });
    const scheduledAt = new Date(Date.now() + 60 * MINUTE).toISOString();
    const error = await failure(run(srv).publisher.publish(target({ texts: [LONG], scheduledAt })));
    expect(error.message).toContain('Mastodon cannot schedule a thread');
    expect(statusPosts(srv)).toHaveLength(0);
  });
});

describe('MastodonPublisher: media', () => {
  it('uploads media with alt text, polls until processed, and attaches them to the first post only', async () => {
    const srv = await fake({ maxCharacters: 100, mediaProcessingPolls: 3 });
    const media = [await image('a.png', 'A bar chart: 2.0 renders twice as fast'), await image('b.png')];
    const { publisher, waits } = run(srv);
    const results = await publisher.publish(target({ texts: [LONG], media }));

    const uploads = srv.requests.filter((r) => r.method === 'POST' && r.path === '/api/v2/media');
    expect(uploads).toHaveLength(2);
    expect(srv.media.map((m) => [m.filename, m.contentType, m.description])).toEqual([
      ['a.png', 'image/png', 'A bar chart: 2.0 renders twice as fast'],
      ['b.png', 'image/png', undefined],
    ]);
    // 202, then two 206 and a 200 per attachment.
    for (const m of srv.media) expect(srv.requests.filter((r) => r.method === 'GET' && r.path === `/api/v1/media/${m.id}`)).toHaveLength(3);
    expect(waits).toEqual([1000, 1000, 1000, 1000, 1000, 1000]);

    const [first, ...rest] = statusPosts(srv).map(bodyOf);
    expect(first!.media_ids).toEqual(srv.media.map((m) => m.id));
    for (const body of rest) expect(body.media_ids).toBeUndefined();
    expect(srv.statuses[0]!.mediaIds).toEqual(srv.media.map((m) => m.id));
    expect(results[0]!.warnings).toEqual(["media 'b.png' has no alt text; add 'alt' so that people using screen readers know what it shows"]);
    expect(results[1]!.warnings).toEqual([]);
  });

  it('a re-run uploads again, gets the original status with its original media, and deletes the new uploads', async () => {
    const srv = await fake();
    const first = await run(srv).publisher.publish(target({ media: [await image('a.png', 'chart')] }));
    const again = await run(srv).publisher.publish(target({ media: [await image('a.png', 'chart')] }));
    expect(srv.statuses).toHaveLength(1);
    expect(srv.media).toHaveLength(2);
    expect(again[0]).toMatchObject({ id: first[0]!.id, url: first[0]!.url, replayed: true });
    expect(srv.statuses[0]!.mediaIds).toEqual([srv.media[0]!.id]);
    expect(srv.media[1]!.deleted).toBe(true);
    expect(srv.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual([`/api/v1/media/${srv.media[1]!.id}`]);
  });

  it('media given by URL are fetched, typed from their bytes (not their name) and uploaded', async () => {
    const srv = await fake();
    const file = png(8, 8);
    const host = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(file);
    });
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(host.address() as AddressInfo).port}/img/chart.mp4`;
      await run(srv).publisher.publish(target({ media: [remoteMedia(url, { alt: 'chart' })] }));
      expect(srv.media).toEqual([expect.objectContaining({ filename: 'chart.mp4', contentType: 'image/png', type: 'image', size: file.length, description: 'chart' })]);
      expect(srv.statuses[0]!.mediaIds).toEqual([srv.media[0]!.id]);
    } finally {
      host.closeAllConnections();
      await new Promise((resolve) => host.close(resolve));
    }
  });

  it.each([
    ['five images', { maxMediaAttachments: 4 }, ['a.png', 'b.png', 'c.png', 'a.png', 'b.png'], /has 5 media items; 127\.0\.0\.1:\d+ takes at most 4; remove 1/],
    ['an image over the instance size limit', { imageSizeLimit: 100 }, ['a.png'], /'a\.png' is [\d,]+ bytes; .* takes images up to 100 bytes/],
    ['a type the instance does not accept', { supportedMimeTypes: ['image/jpeg'] }, ['a.png'], /'a\.png' is image\/png, which .* does not accept; convert it to one of image\/jpeg/],
  ])('%s: refused before anything is uploaded', async (_, opts, files, message) => {
    const srv = await fake(opts);
    const media = await Promise.all(files.map((f) => image(f, 'alt')));
    const error = await failure(run(srv).publisher.publish(target({ media })));
    expect(error.message).toMatch(/^The media cannot be posted to .* \(nothing was uploaded\)/);
    expect(error.message).toMatch(message);
    expect(srv.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/v2/instance']);
  });
});

describe('MastodonPublisher: scheduling', () => {
  it('a scheduled post is queued under the scheduled status id, and a re-run gets the same one', async () => {
    const srv = await fake();
    const scheduledAt = new Date(Math.ceil((Date.now() + 2 * 60 * MINUTE) / 1000) * 1000).toISOString();
    const [result] = await run(srv).publisher.publish(target({ scheduledAt }));
    expect(srv.statuses).toHaveLength(0);
    expect(srv.scheduled).toHaveLength(1);
    expect(result).toEqual({
      label: 'inputs',
      publisher: 'mastodon',
      platform: 'mastodon',
      status: 'queued',
      id: srv.scheduled[0]!.id,
      scheduledAt,
      idempotencyKey: KEY,
      replayed: false,
      warnings: [],
    });
    expect(bodyOf(statusPosts(srv)[0]!).scheduled_at).toBe(scheduledAt);

    const [again] = await run(srv).publisher.publish(target({ scheduledAt }));
    expect(srv.scheduled).toHaveLength(1);
    expect(again).toMatchObject({ status: 'queued', id: result!.id });
  });

  it("a time under 5 minutes ahead (preflight's job, bypassed here) surfaces Mastodon's 422 message, not retried", async () => {
    const srv = await fake();
    const error = await failure(run(srv).publisher.publish(target({ scheduledAt: new Date(Date.now() + 2 * MINUTE).toISOString() })));
    expect(error.message).toContain('answered HTTP 422 (Validation failed: Scheduled at The scheduled date must be in the future)');
    // Marked as a refused schedule: the orchestrator explains it once nothing was replayed.
    expect(error.code).toBe(SCHEDULE_REFUSED);
    expect(statusPosts(srv)).toHaveLength(1);
  });
});

describe('MastodonPublisher: errors', () => {
  it("a wrong token is a clear error naming 'mastodon-token' and the scope, not retried", async () => {
    const srv = await fake();
    const error = await failure(run(srv, { token: 'mastodon_wrong_token_value' }).publisher.publish(target()));
    expect(error.message).toContain('answered HTTP 401 (The access token is invalid)');
    expect(error.message).toContain("check the 'mastodon-token' secret");
    expect(error.message).toContain('write:statuses');
    expect(error.code).toBe('unauthorized');
    expect(statusPosts(srv)).toHaveLength(1);
  });

  it("a token without write:media is told so at the upload, before any status", async () => {
    const srv = await fake({ scopes: ['read', 'write:statuses'] });
    const error = await failure(run(srv).publisher.publish(target({ media: [await image('a.png', 'chart')] })));
    expect(error.message).toMatch(/^upload a\.png: .* answered HTTP 403 \(This action is outside the authorized scopes\); check the 'mastodon-token' secret.*write:media/);
    expect(statusPosts(srv)).toHaveLength(0);
  });

  it("a server without the Mastodon API is an error naming 'mastodon-server'", async () => {
    const srv = await fake();
    const error = await failure(run(srv, { server: `${srv.url}/not-mastodon/` }).publisher.publish(target()));
    expect(error.message).toContain("check 'mastodon-server'");
    expect(error.message).toContain('GET /api/v2/instance answered 404');
  });

  it('the token never appears in error messages or logs, even when the server echoes it back', async () => {
    const srv = await fake({ echoHeadersInErrors: true });
    srv.inject('statuses', { kind: 'http', status: 422, error: 'Validation failed' }, { kind: 'http', status: 503 });
    const first = run(srv);
    const error = await failure(first.publisher.publish(target()));
    expect(error.message).toContain('Bearer ***');
    expect(error.message).not.toContain(TOKEN);

    // A transient answer that echoes the token is logged on retry: scrubbed there too.
    const second = run(srv);
    await second.publisher.publish(target());
    expect(second.logs.some((l) => l.includes('Bearer ***'))).toBe(true);
    expect([...first.logs, ...second.logs].join('\n')).not.toContain(TOKEN);
  });

  it('the instance limits are asked once per run, however many targets', async () => {
    const srv = await fake();
    const { publisher } = run(srv);
    await Promise.all([publisher.publish(target()), publisher.publish(target({ idempotencyKey: `${KEY}-other` }))]);
    expect(srv.requests.filter((r) => r.path === '/api/v2/instance')).toHaveLength(1);
    expect(srv.statuses).toHaveLength(2);
  });
});

describe('MastodonPublisher: dry run', () => {
  it('describes the requests it would send, token redacted, without any network', async () => {
    const srv = await fake();
    const description = JSON.stringify(await run(srv).publisher.describe(target({ texts: [LONG + ' ' + LONG], media: [await image('a.png', 'chart')] })));
    expect(srv.requests).toHaveLength(0);
    expect(description).not.toContain(TOKEN);
    const parsed = JSON.parse(description) as { requests: Array<{ method: string; url: string; headers?: Record<string, string>; body?: Record<string, unknown> }> };
    expect(parsed.requests.map((r) => `${r.method} ${r.url.replace(srv.url, '')}`)).toEqual(['GET /api/v2/instance', 'POST /api/v2/media', 'POST /api/v1/statuses', 'POST /api/v1/statuses']);
    expect(parsed.requests[2]!.headers).toMatchObject({ Authorization: 'Bearer ***', 'Idempotency-Key': KEY });
    expect(parsed.requests[2]!.body).toMatchObject({ media_ids: ['<id of upload 1>'] });
    expect(parsed.requests[3]!.body).toMatchObject({ in_reply_to_id: '<id of post 1>' });
  });
});
