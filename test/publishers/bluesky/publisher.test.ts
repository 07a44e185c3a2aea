/**
 * The direct Bluesky publisher against the run's real PDS (accounts of this file's own), and a
 * small web server on 127.0.0.1 for link-card pages and images given by URL.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { AtpAgent } from '@atproto/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PublishError } from '../../../src/errors.js';
import { childKey } from '../../../src/plan/keys.js';
import { tidFromKey } from '../../../src/publishers/bluesky/tid.js';
import { remoteMedia, resolveLocalMedia, type ResolvedMedia } from '../../../src/model/media.js';
import type { PostDefinition } from '../../../src/model/post.js';
import { BlueskyPublisher, type BlueskyConfig } from '../../../src/publishers/bluesky/publisher.js';
import type { Log, PlannedTarget, TargetResult } from '../../../src/publishers/types.js';
import { redact } from '../../../src/secrets.js';
import { countGraphemes } from '../../../src/text/length.js';
import { mp4, png } from '../../support/images.js';
import { startOnLoopback, type LoopbackServer } from '../../support/http-fake.js';
import { plannedTarget, type TargetSpec } from '../../support/planned.js';
import { sharedPds, type SharedPds, type TestAccount } from '../../support/shared-pds.js';

const ANCHOR = Date.UTC(2025, 2, 14, 15, 9, 26);


// ─── helpers ────────────────────────────────────────────────────────────────────────────

const THUMB = png(40, 21);
const PHOTO = png(4, 3);
const BIG = png(600, 600, { noise: true });

interface RecordingLog extends Log {
  lines: string[];
}

function recordingLog(): RecordingLog {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(`info: ${m}`), warning: (m) => lines.push(`warning: ${m}`), debug: (m) => lines.push(`debug: ${m}`) };
}

function requestUrl(input: string | URL | Request): URL {
  return new URL(input instanceof Request ? input.url : String(input));
}

/** The XRPC method of a request, or its URL for anything else. */
function callName(input: string | URL | Request): string {
  const url = requestUrl(input);
  return url.pathname.startsWith('/xrpc/') ? url.pathname.slice(6) : url.href;
}

function connectionReset(): TypeError {
  return new TypeError('fetch failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
}

async function rejection(p: Promise<unknown>): Promise<PublishError> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(PublishError);
    return error as PublishError;
  }
  throw new Error('expected the publish to fail');
}

describe('the direct Bluesky publisher against a real PDS', () => {
  let pds: SharedPds;
  let alice: TestAccount;
  let bob: TestAccount;
  let web: LoopbackServer;
  let webUrl: string;
  let mediaDir: string;
  const served = new Map<string, number>();
  let seq = 0;

  beforeAll(async () => {
    pds = await sharedPds();
    [alice, bob] = await Promise.all([pds.createAccount('alice'), pds.createAccount('bob')]);
    mediaDir = await mkdtemp(path.join(os.tmpdir(), 'letmepost-bsky-media-'));

    const pages = createServer((req: IncomingMessage, res: ServerResponse) => {
      const route = (req.url ?? '/').split('?')[0]!;
      served.set(route, (served.get(route) ?? 0) + 1);
      const send = (type: string, body: Buffer | string) => res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body) }).end(body);
      switch (route) {
        case '/page':
          return send(
            'text/html; charset=utf-8',
            `<!doctype html><html><head><title>Fallback title</title>
              <meta property="og:title" content="Widgets 2.0 &amp; more">
              <meta property="og:description" content="Everything new in Widgets 2.0.">
              <meta property="og:image" content="/thumb.png"></head><body>…</body></html>`,
          );
        case '/moved':
          return res.writeHead(302, { location: '/page' }).end();
        case '/thumb.png':
          return send('image/png', THUMB);
        case '/photo.png':
          return send('image/png', PHOTO);
        case '/big.png':
          return send('image/png', BIG);
        case '/big-streamed.png':
          // No content-length: the cap applies while reading.
          res.writeHead(200, { 'content-type': 'image/png' });
          return res.end(BIG);
        case '/hang':
          return; // never answers
        default:
          return res.writeHead(404).end();
      }
    });
    web = await startOnLoopback(pages);
    webUrl = web.url;
  });

  afterAll(async () => {
    await web?.close();
    if (mediaDir) await rm(mediaDir, { recursive: true, force: true });
  });

  function target(overrides: Partial<PlannedTarget> = {}, bluesky?: PostDefinition['bluesky']): PlannedTarget {
    const n = ++seq;
    return plannedTarget({
      label: `post-${n}`,
      publisher: 'bluesky',
      platform: 'bluesky',
      idempotencyKey: `lmpa-test-bluesky-${n}`,
      texts: [`Post number ${n} from the test suite`],
      anchorTime: ANCHOR,
      post: { targets: [{ platform: 'bluesky', account: 'bluesky' }], media: [], ...(bluesky ? { bluesky } : {}) } as unknown as PostDefinition,
      ...(overrides as Partial<TargetSpec>),
    });
  }

  /** A publisher as one run of the action would have it; `calls` lists every request sent. */
  function publisher(opts: { fetch?: typeof fetch; password?: string } & Partial<BlueskyConfig> = {}) {
    const log = recordingLog();
    const calls: string[] = [];
    const inner = opts.fetch ?? ((input: string | URL | Request, init?: RequestInit) => fetch(input, init));
    const counting: typeof fetch = (input, init) => {
      calls.push(callName(input));
      return inner(input, init);
    };
    const { fetch: _, password, ...rest } = opts;
    const pub = new BlueskyPublisher({
      identifier: alice.handle,
      appPassword: password ?? alice.appPassword,
      service: pds.url,
      requestTimeoutMs: 10_000,
      deadline: Date.now() + 60_000,
      log,
      retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
      linkCardTimeoutMs: 3000,
      ...rest,
      fetch: counting,
    });
    return { pub, log, calls };
  }

  async function stored(result: TargetResult | undefined) {
    expect(result?.uri).toBeDefined();
    const record = await pds.getRecord(result!.uri!);
    expect(record).toBeDefined();
    return record!;
  }

  async function postsWithText(text: string) {
    return (await pds.listPosts(alice.did)).filter((p) => p.value.text === text);
  }

  it('stores links, hashtags and a mention of another account with its DID, at byte offsets', async () => {
    const text = `Thanks @${bob.handle} — notes at https://example.com/notes, tagged #release 🦋`;
    const { pub } = publisher();
    const [result] = await pub.publish(target({ texts: [text] }, { linkCard: false }));
    expect(result).toMatchObject({ status: 'published', replayed: false, warnings: [], publisher: 'bluesky' });
    expect(result?.part).toBeUndefined();
    expect(result?.url).toBe(`https://bsky.app/profile/${alice.did}/post/${result?.id}`);

    const record = await stored(result);
    expect(record.cid).toBe(result?.cid);
    const slice = (f: { index: { byteStart: number; byteEnd: number } }) => Buffer.from(text).subarray(f.index.byteStart, f.index.byteEnd).toString();
    const features = record.value.facets.map((f: any) => [slice(f), f.features[0]]);
    expect(features).toEqual([
      [`@${bob.handle}`, { $type: 'app.bsky.richtext.facet#mention', did: bob.did }],
      ['https://example.com/notes', { $type: 'app.bsky.richtext.facet#link', uri: 'https://example.com/notes' }],
      ['#release', { $type: 'app.bsky.richtext.facet#tag', tag: 'release' }],
    ]);
    expect(record.value.embed).toBeUndefined();
  });

  it('posts an unknown mention as plain text, with a warning naming the handle', async () => {
    const text = `Hello @nobody.test and @${bob.handle}`;
    const { pub } = publisher();
    const [result] = await pub.publish(target({ texts: [text] }));
    expect(result?.warnings).toEqual([expect.stringContaining('@nobody.test is not a Bluesky account')]);
    const record = await stored(result);
    expect(record.value.facets).toHaveLength(1);
    expect(record.value.facets[0].features[0].did).toBe(bob.did);
  });

  it('publishing the same target twice writes one record; the second result is replayed with the same uri and cid, and one login serves both', async () => {
    const t = target();
    const { pub, calls } = publisher();
    const [first] = await pub.publish(t);
    const [second] = await pub.publish(t);
    expect(first?.replayed).toBe(false);
    expect(second).toMatchObject({ replayed: true, uri: first?.uri, cid: first?.cid, id: first?.id, idempotencyKey: t.idempotencyKey });
    expect(await postsWithText(t.texts[0]!)).toHaveLength(1);
    expect(calls.filter((c) => c === 'com.atproto.server.createSession')).toHaveLength(1);
    expect(calls.filter((c) => c === 'com.atproto.repo.putRecord')).toHaveLength(1);
  });

  it('a re-run resumes a thread that failed after its 2nd post: every post exactly once, replies chained to the right root and parent', async () => {
    const t = target({ texts: ['Thread part one.', 'Thread part two.', 'Thread part three.', 'Thread part four.'], firstComment: 'And a first comment.' });
    let puts = 0;
    const run1 = publisher({
      fetch: (input, init) => {
        if (callName(input) === 'com.atproto.repo.putRecord' && ++puts >= 3) return Promise.reject(connectionReset());
        return fetch(input, init);
      },
    });
    const error = await rejection(run1.pub.publish(t));
    expect(error.message).toMatch(/Already posted: 1\/4 https:\/\/bsky\.app\/\S+, 2\/4 https:\/\/bsky\.app\/\S+; re-running the job posts the remaining 3/);
    expect(error.code).toBe('failed');
    expect(run1.log.lines.filter((l) => l.startsWith('warning:') && /attempt \d of 3/.test(l))).toHaveLength(2);

    const run2 = publisher();
    const results = await run2.pub.publish(t);
    expect(results.map((r) => [r.part, r.replayed])).toEqual([
      ['1/4', true],
      ['2/4', true],
      ['3/4', false],
      ['4/4', false],
      ['first-comment', false],
    ]);
    expect(results.map((r) => r.idempotencyKey)).toEqual([t.idempotencyKey, childKey(t.idempotencyKey, 't2'), childKey(t.idempotencyKey, 't3'), childKey(t.idempotencyKey, 't4'), childKey(t.idempotencyKey, 'fc')]);

    const all = await pds.listPosts(alice.did);
    const records = results.map((r) => all.filter((p) => p.uri === r.uri));
    for (const r of records) expect(r).toHaveLength(1);
    for (const text of [...t.texts, t.firstComment!]) expect(all.filter((p) => p.value.text === text)).toHaveLength(1);

    const ref = (i: number) => ({ uri: results[i]!.uri, cid: results[i]!.cid });
    const value = (i: number) => records[i]![0]!.value;
    expect(value(0).reply).toBeUndefined();
    expect(value(1).reply).toEqual({ root: ref(0), parent: ref(0) });
    expect(value(2).reply).toEqual({ root: ref(0), parent: ref(1) });
    expect(value(3).reply).toEqual({ root: ref(0), parent: ref(2) });
    expect(value(4).reply).toEqual({ root: ref(0), parent: ref(0) });
    // Replies are younger than their parents, in createdAt and in record key.
    const created = results.map((_, i) => value(i).createdAt);
    expect(created).toEqual([...created].sort());
    expect(results.map((r) => r.id)).toEqual(results.map((r) => r.id).sort());
  });

  it('a write whose answer was lost is retried with the same record key and reported once, as new', async () => {
    const t = target();
    let lost = false;
    const { pub, log } = publisher({
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        if (!lost && callName(input) === 'com.atproto.repo.putRecord') {
          lost = true;
          await response.arrayBuffer();
          throw connectionReset();
        }
        return response;
      },
    });
    const [result] = await pub.publish(t);
    expect(lost).toBe(true);
    expect(result?.replayed).toBe(false);
    expect(log.lines.some((l) => /^warning: .*connection to Bluesky lost.*attempt 2 of 3/.test(l))).toBe(true);
    expect(await postsWithText(t.texts[0]!)).toHaveLength(1);
  });

  it('splits a long text into a numbered thread when asked, every post within 300 graphemes', async () => {
    const text = Array.from({ length: 12 }, (_, i) => `Sentence ${i + 1} of a long announcement that needs a thread.`).join(' ');
    const { pub } = publisher();
    const results = await pub.publish(target({ texts: [text] }, { threadNumbering: true, linkCard: false }));
    expect(results.map((r) => r.part)).toEqual(['1/3', '2/3', '3/3']);
    for (const [i, r] of results.entries()) {
      const record = await stored(r);
      expect(countGraphemes(record.value.text)).toBeLessThanOrEqual(300);
      expect(record.value.text.endsWith(` ${i + 1}/3`)).toBe(true);
    }
  });

  it('stores images with their alt text and aspect ratio, and warns about a missing alt', async () => {
    await writeFile(path.join(mediaDir, 'wide.png'), png(3, 2));
    await writeFile(path.join(mediaDir, 'tall.png'), png(2, 5));
    const media: ResolvedMedia[] = [
      await resolveLocalMedia('wide.png', mediaDir, mediaDir, { alt: 'A wide picture' }),
      await resolveLocalMedia('tall.png', mediaDir, mediaDir),
      remoteMedia(`${webUrl}/photo.png`, { alt: 'A photo from the web' }),
    ];
    const { pub, calls } = publisher();
    const [result] = await pub.publish(target({ texts: [`Pictures with a link ${webUrl}/page`], media }));
    expect(result?.warnings).toEqual([expect.stringMatching(/the image 'tall\.png' has no alt text/)]);
    const { value } = await stored(result);
    expect(value.embed.$type).toBe('app.bsky.embed.images');
    expect(value.embed.images.map((i: any) => [i.alt, i.aspectRatio, i.image.mimeType])).toEqual([
      ['A wide picture', { width: 3, height: 2 }, 'image/png'],
      ['', { width: 2, height: 5 }, 'image/png'],
      ['A photo from the web', { width: 4, height: 3 }, 'image/png'],
    ]);
    expect(value.embed.images[2].image.size).toBe(PHOTO.length);
    // Media win over the link card: the page is not fetched.
    expect(calls.filter((c) => c.endsWith('/page'))).toHaveLength(0);
  });

  it.each([
    ['that declares its size', '/big.png'],
    ['that streams without declaring its size', '/big-streamed.png'],
  ])('refuses an image URL over 1,000,000 bytes %s, before any upload or write', async (_, route) => {
    const t = target({ media: [remoteMedia(`${webUrl}${route}`, { alt: 'too big' })] });
    const { pub, calls } = publisher();
    const error = await rejection(pub.publish(t));
    expect(error.message).toMatch(/is (1,\d{3},\d{3} bytes|more than 1,000,000 bytes); Bluesky images must be at most 1,000,000 bytes/);
    expect(error.retryable).toBe(false);
    expect(calls).toContain(`${webUrl}${route}`);
    expect(calls.filter((c) => c === 'com.atproto.repo.uploadBlob' || c === 'com.atproto.repo.putRecord')).toEqual([]);
    expect(await postsWithText(t.texts[0]!)).toHaveLength(0);
  });

  it('attaches a link card with title, description and thumbnail from the page, following a redirect; a re-run fetches nothing again', async () => {
    const t = target({ texts: [`Widgets 2.0 is out: ${webUrl}/moved`] });
    const { pub } = publisher();
    const [result] = await pub.publish(t);
    expect(result?.warnings).toEqual([]);
    const { value } = await stored(result);
    expect(value.embed).toMatchObject({
      $type: 'app.bsky.embed.external',
      external: { uri: `${webUrl}/moved`, title: 'Widgets 2.0 & more', description: 'Everything new in Widgets 2.0.', thumb: { mimeType: 'image/png', size: THUMB.length } },
    });

    const pagesBefore = served.get('/page');
    const rerun = publisher();
    const [again] = await rerun.pub.publish(t);
    expect(again).toMatchObject({ replayed: true, uri: result?.uri, cid: result?.cid });
    expect(served.get('/page')).toBe(pagesBefore);
    // The re-run reads without logging in: one read (by handle), nothing else.
    expect(rerun.calls).toEqual(['com.atproto.repo.getRecord']);
  });

  it('posts without a card, with a warning, when the page does not answer in time', async () => {
    const { pub } = publisher({ linkCardTimeoutMs: 300 });
    const [result] = await pub.publish(target({ texts: [`Slow page: ${webUrl}/hang`] }));
    expect(result?.status).toBe('published');
    expect(result?.warnings).toEqual([expect.stringMatching(/^no link card for http:\/\/127\.0\.0\.1:\d+\/hang: .*no complete answer within 0\.3 s/)]);
    const { value } = await stored(result);
    expect(value.embed).toBeUndefined();
    expect(value.facets[0].features[0].uri).toBe(`${webUrl}/hang`);
  });

  /** Writes a record straight to alice's repo, as another run (or another version of this post) would have. */
  async function writeDirectly(rkey: string, record: Record<string, unknown>) {
    const agent = new AtpAgent({ service: pds.url });
    await agent.login({ identifier: alice.handle, password: alice.appPassword });
    return (await agent.com.atproto.repo.putRecord({ repo: alice.did, collection: 'app.bsky.feed.post', rkey, record: { $type: 'app.bsky.feed.post', ...record }, swapRecord: null })).data;
  }

  async function plannedRkey(t: PlannedTarget): Promise<string> {
    const described = (await publisher().pub.describe(t)) as { writes: Array<{ body: { rkey: string } }> };
    return described.writes[0]!.body.rkey;
  }

  it('a post that appears with other bytes between the check and the write (InvalidSwap) is read back and reported, not changed', async () => {
    const t = target({ texts: ['Raced by another run'] }, { linkCard: false });
    const rkey = await plannedRkey(t);
    const other = await writeDirectly(rkey, { text: 'Raced by another run', createdAt: '2025-03-14T15:09:27.000Z' });
    let hidden = false;
    const { pub, calls } = publisher({
      // The check runs before the other run's write lands.
      fetch: (input, init) => {
        if (!hidden && callName(input) === 'com.atproto.repo.getRecord') {
          hidden = true;
          return Promise.resolve(new Response(JSON.stringify({ error: 'RecordNotFound', message: 'Could not locate record' }), { status: 400, headers: { 'content-type': 'application/json' } }));
        }
        return fetch(input, init);
      },
    });
    const [result] = await pub.publish(t);
    expect(calls.filter((c) => c.startsWith('com.atproto.repo.'))).toEqual(['com.atproto.repo.getRecord', 'com.atproto.repo.putRecord', 'com.atproto.repo.getRecord']);
    expect(result).toMatchObject({ status: 'published', replayed: true, uri: other.uri, cid: other.cid, id: rkey });
    // Only the time differs (a record is dated when written): the same post, no warning.
    expect(result?.warnings).toEqual([]);
    expect((await pds.getRecord(other.uri))?.value.createdAt).toBe('2025-03-14T15:09:27.000Z');
  });

  it('a post already at the record key with other text is kept, with a warning that says how to post a different one', async () => {
    const t = target({ texts: ['The text as it is now'] });
    const other = await writeDirectly(await plannedRkey(t), { text: 'The text as it was first posted', createdAt: new Date(ANCHOR).toISOString() });
    const { pub, calls } = publisher();
    const [result] = await pub.publish(t);
    expect(result).toMatchObject({ replayed: true, uri: other.uri, cid: other.cid });
    expect(result?.warnings).toEqual([expect.stringMatching(/already posted this post .* with other text; that post stands and nothing new was posted\.\n  posted: “The text as it was first posted”\n  now:    “The text as it is now”\n.*a new 'idempotency-key'/s)]);
    expect(calls).not.toContain('com.atproto.repo.putRecord');
  });

  it('two concurrent runs publishing the same target write one record', async () => {
    const t = target();
    const [a, b] = await Promise.all([publisher().pub.publish(t), publisher().pub.publish(t)]);
    expect(a[0]?.uri).toBe(b[0]?.uri);
    expect(a[0]?.cid).toBe(b[0]?.cid);
    expect([a[0]?.replayed, b[0]?.replayed].sort()).toEqual([false, true]);
    expect(await postsWithText(t.texts[0]!)).toHaveLength(1);
  });

  it('a wrong app password fails with a clear error that never shows the password', async () => {
    const { pub, calls } = publisher({ password: 'zzzz-wrong-pass-zzzz' });
    const t = target();
    const error = await rejection(pub.publish(t));
    expect(error.message).toMatch(new RegExp(`Bluesky refused the login for '${alice.handle.replaceAll('.', '\\.')}': invalid identifier or password\\. Check 'bluesky-identifier'.*app password`));
    expect(error.message).not.toContain('zzzz-wrong-pass-zzzz');
    expect(error.retryable).toBe(false);
    // One login attempt per run, even for a second target.
    await rejection(pub.publish(target()));
    // One login attempt (never retried), and nothing written.
    expect(calls.filter((c) => c === 'com.atproto.server.createSession')).toHaveLength(1);
    expect(calls.filter((c) => !c.startsWith('com.atproto.identity.') && c !== 'com.atproto.repo.getRecord' && c !== 'com.atproto.server.createSession')).toEqual([]);
  });

  it('a post scheduled in the future waits: no login, no request, no record; once due it is posted', async () => {
    const scheduledAt = '2031-05-01T09:00:00.000Z';
    const t = target({ scheduledAt, anchorTime: Date.parse(scheduledAt) });
    const early = publisher({ now: () => Date.parse(scheduledAt) - 60_000 });
    expect(await early.pub.publish(t)).toEqual([
      { label: t.label, publisher: 'bluesky', platform: 'bluesky', status: 'waiting', scheduledAt, idempotencyKey: t.idempotencyKey, replayed: false, warnings: [] },
    ]);
    expect(early.calls).toEqual([]);
    expect(await postsWithText(t.texts[0]!)).toHaveLength(0);

    const due = publisher({ now: () => Date.parse(scheduledAt) + 1 });
    const [result] = await due.pub.publish(t);
    expect(result).toMatchObject({ status: 'published', scheduledAt, replayed: false });
    // Dated when written (this publisher's clock), its record key from the schedule.
    expect((await stored(result)).value.createdAt).toBe(new Date(Date.parse(scheduledAt) + 1).toISOString());
    expect(result?.id).toBe(tidFromKey(t.idempotencyKey, Date.parse(scheduledAt)));
  });

  it('a dry run describes the exact record keys and records, sending nothing', async () => {
    const t = target({ texts: [`Dry one @${bob.handle}`, 'Dry two'], firstComment: 'Dry comment' });
    const dry = publisher();
    const described = (await dry.pub.describe(t)) as { writes: Array<{ part: string; body: { rkey: string; swapRecord: null; record: any } }> };
    expect(dry.calls).toEqual([]);
    expect(described.writes.map((w) => w.part)).toEqual(['1/2', '2/2', 'first-comment']);
    expect(described.writes.every((w) => w.body.swapRecord === null)).toBe(true);

    const results = await publisher().pub.publish(t);
    expect(described.writes.map((w) => w.body.rkey)).toEqual(results.map((r) => r.id));
    for (const [i, r] of results.entries()) {
      const { value } = await stored(r);
      expect(described.writes[i]!.body.record.createdAt).toBe('<the time of the write>');
      expect(Date.parse(value.createdAt)).toBeGreaterThan(Date.now() - 60_000);
      expect(described.writes[i]!.body.record.text).toBe(value.text);
    }
  });

  it('a text over 300 graphemes in an explicit thread is refused by Bluesky with the limit named', async () => {
    const t = target({ texts: ['This one fits.', 'x'.repeat(301)] });
    const error = await rejection(publisher().pub.publish(t));
    expect(error.message).toMatch(/\(2\/2\): the text is 301 characters; it is over Bluesky's limit of 300 characters/);
    expect(error.message).toMatch(/Already posted: 1\/2/);
    expect(error.retryable).toBe(false);
  });

  it('refreshes an expired session once and goes on, the new token masked', async () => {
    const tokens: string[] = [];
    let expired = false;
    const { pub, calls } = publisher({
      fetch: async (input, init) => {
        if (callName(input) === 'com.atproto.repo.putRecord') {
          tokens.push((new Headers(init?.headers).get('authorization') ?? (input instanceof Request ? input.headers.get('authorization') : null))?.replace(/^Bearer /, '') ?? '');
          if (!expired) {
            expired = true;
            // Tokens are minted with a 1-second clock: let it tick so the refreshed one differs.
            await new Promise((resolve) => setTimeout(resolve, 1100));
            return new Response(JSON.stringify({ error: 'ExpiredToken', message: 'Token has expired' }), { status: 400, headers: { 'content-type': 'application/json' } });
          }
        }
        return fetch(input, init);
      },
    });
    const t = target();
    const [result] = await pub.publish(t);
    expect(result?.replayed).toBe(false);
    expect(calls.filter((c) => c === 'com.atproto.server.refreshSession')).toHaveLength(1);
    expect(tokens).toHaveLength(2);
    expect(tokens[1]).not.toBe(tokens[0]);
    expect(redact(`token ${tokens[1]}`)).toBe('token ***');
    expect(await postsWithText(t.texts[0]!)).toHaveLength(1);
  });

  it('uploads a video and embeds it with its alt text', async () => {
    await writeFile(path.join(mediaDir, 'clip.mp4'), mp4());
    const media = [{ ...(await resolveLocalMedia('clip.mp4', mediaDir, mediaDir, { alt: 'A short clip' })), width: 16, height: 9 }];
    const [result] = await publisher().pub.publish(target({ media }));
    const { value } = await stored(result);
    expect(value.embed).toMatchObject({ $type: 'app.bsky.embed.video', alt: 'A short clip', aspectRatio: { width: 16, height: 9 }, video: { mimeType: 'video/mp4' } });
  });
});
