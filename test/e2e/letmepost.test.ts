/**
 * The committed bundle, run as the runner runs it on Node 24, against a fake letmepost
 * server on 127.0.0.1 that implements the API contract and injects faults.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { results, runAction, type ActionRun } from '../support/action.js';
import { DEFAULT_ACCOUNTS, startFakeLetmepost, type Fault, type FakeLetmepost } from '../support/fake-letmepost.js';
import { mp4, png } from '../support/images.js';
import { postRequests } from '../support/scenario.js';

const TOKEN = 'lmp_test_secret_token';
const BLUESKY = DEFAULT_ACCOUNTS.find((a) => a.platform === 'bluesky')!.id;
const TWITTER = DEFAULT_ACCOUNTS.find((a) => a.platform === 'twitter')!.id;
const LINKEDIN = DEFAULT_ACCOUNTS.find((a) => a.platform === 'linkedin')!.id;
const PINTEREST = DEFAULT_ACCOUNTS.find((a) => a.platform === 'pinterest')!.id;

let server: FakeLetmepost;
let workspace: string;

beforeAll(async () => {
  server = await startFakeLetmepost({ token: TOKEN });
  workspace = mkdtempSync(join(tmpdir(), 'lmpa-ws-'));
  mkdirSync(join(workspace, 'assets'));
  writeFileSync(join(workspace, 'assets', 'chart.png'), png(64, 32));
  writeFileSync(join(workspace, 'assets', 'clip.mp4'), mp4());
});
afterAll(async () => server?.close());

let fresh: FakeLetmepost | undefined;
afterEach(async () => {
  await fresh?.close();
  fresh = undefined;
});

/** A fresh server per test keeps post counts independent. */
async function newServer(opts: Parameters<typeof startFakeLetmepost>[0] = {}): Promise<FakeLetmepost> {
  fresh = await startFakeLetmepost({ token: TOKEN, ...opts });
  return fresh;
}

function post(srv: FakeLetmepost, inputs: Record<string, string> = {}, env: Record<string, string> = {}): Promise<ActionRun> {
  return runAction({
    workspace,
    inputs: { text: 'widgets v1.2.0 is out', platform: 'bluesky', 'account-id': BLUESKY, 'letmepost-token': TOKEN, 'letmepost-api-url': srv.url, ...inputs },
    env,
  });
}


describe('publishing through letmepost, exactly once', () => {
  it('publishes, then a re-run with a new run attempt replays the same post with identical outputs', async () => {
    const srv = await newServer();
    const first = await post(srv);
    expect(first.code, first.stdout).toBe(0);
    expect(first.outputs).toMatchObject({ status: 'published', replayed: 'false' });
    expect(first.outputs.uri).toMatch(/^at:\/\//);
    expect(first.outputs.url).toMatch(/^https:\/\/bsky\.app\/profile\/did:plc:[^/]+\/post\/[a-z2-7]{13}$/);
    // The post's id, which GET /v1/posts/{id} knows (not the batch id, which nothing stores).
    expect(first.outputs.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const byId = await fetch(`${srv.url}/v1/posts/${first.outputs.id}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(byId.status).toBe(200);
    expect(((await byId.json()) as { status: string }).status).toBe('published');
    expect(first.outputs['idempotency-key']).toMatch(/^lmpa-in-bluesky-/);
    expect(first.summary).toContain('| `inputs` | bluesky (letmepost) | ✅ published');

    const rerun = await post(srv, {}, { GITHUB_RUN_ATTEMPT: '2', GITHUB_RUN_ID: '1001' });
    expect(rerun.code, rerun.stdout).toBe(0);
    expect(srv.posts).toHaveLength(1);
    expect(rerun.outputs.replayed).toBe('true');
    for (const name of ['uri', 'url', 'cid', 'id', 'status', 'idempotency-key']) expect(rerun.outputs[name], name).toBe(first.outputs[name]);
    expect(rerun.summary).toContain('replayed (already posted)');

    const requests = postRequests(srv);
    expect(requests[1]!.body.equals(requests[0]!.body), 'a re-run sends byte-identical bodies').toBe(true);
  });

  it('the same step in another job posts a second time', async () => {
    const srv = await newServer();
    await post(srv);
    const other = await post(srv, {}, { GITHUB_JOB: 'announce-elsewhere' });
    expect(other.code).toBe(0);
    expect(other.outputs.replayed).toBe('false');
    expect(srv.posts).toHaveLength(2);
  });

  it.each<[string, Fault[]]>([
    ['429 rate_limited with Retry-After (the limiter answers before anything runs)', [{ kind: 'status', http: 429, code: 'rate_limited', retryAfter: 1 }]],
    ['409 in_progress while another request holds the key', [{ kind: 'in-progress' }]],
    ['a 200 whose body is not JSON (the answer is stored: asking again replays it)', [{ kind: 'malformed-json' }]],
  ])('%s: retried under the same key, exactly one post', async (_, faults) => {
    const srv = await newServer();
    srv.inject('posts', ...faults);
    const run = await post(srv);
    expect(run.code, run.stdout).toBe(0);
    expect(srv.posts).toHaveLength(1);
    expect(run.outputs.status).toBe('published');
    // This run made the post, even when the answer came as a replay of its own lost attempt.
    expect(run.outputs.replayed).toBe('false');
    expect(new Set(postRequests(srv).map((r) => r.headers['idempotency-key'])).size, 'every retry uses the same key').toBe(1);
    expect(new Set(postRequests(srv).map((r) => r.body.toString())).size, 'every retry sends the same bytes').toBe(1);
    expect(run.stdout).toMatch(/attempt 2 of \d+ in [\d.]+ s, same request and idempotency key/);
  });

  it.each<[string, Fault[], number]>([
    ['the connection drops after the post was committed', [{ kind: 'drop-after-commit' }], 1],
    ['a gateway answers 504 while letmepost is still publishing', [{ kind: 'gateway-timeout', afterMs: 300, platformMs: 2500 }], 1],
    ['the connection is reset before letmepost reads the request', [{ kind: 'reset-before-read' }], 2],
    ['a burst of 500, 502 and 503', [{ kind: 'status', http: 500, code: 'internal_error' }, { kind: 'status', http: 502, code: 'platform_unavailable' }, { kind: 'status', http: 503, code: 'platform_unavailable' }], 4],
  ])('%s: never sent again while it may run; the post row answers; exactly one post', async (_, faults, sends) => {
    const srv = await newServer();
    srv.inject('posts', ...faults);
    const run = await post(srv);
    expect(run.code, run.stdout).toBe(0);
    expect(srv.posts).toHaveLength(1);
    expect(run.outputs).toMatchObject({ status: 'published', replayed: 'false', id: srv.posts[0]!.id });
    expect(run.stdout).toMatch(/letmepost has no lock on a key while a request runs, so sending it again now could post twice; looking for the post instead/);
    expect(srv.requests.some((r) => r.method === 'GET' && r.path.startsWith('/v1/posts?'))).toBe(true);
    expect(postRequests(srv), 'resent only when letmepost had no post row for it').toHaveLength(sends);
    // (A request reset before it was read arrives with no body.)
    expect(new Set(postRequests(srv).filter((r) => r.body.length > 0).map((r) => `${r.headers['idempotency-key']} ${r.body.toString()}`)).size).toBe(1);
  });

  it('a platform slower than request-timeout-seconds still yields exactly one post: the publish request waits for letmepost', async () => {
    const srv = await newServer();
    srv.inject('posts', { kind: 'slow-platform', ms: 2500 });
    const run = await post(srv, { 'request-timeout-seconds': '1' });
    expect(run.code, run.stdout).toBe(0);
    expect(postRequests(srv)).toHaveLength(1);
    expect(srv.posts).toHaveLength(1);
  });

  it('letmepost still publishing when the step deadline comes: may have been published, never sent twice; a re-run reports the one post', async () => {
    const srv = await newServer();
    srv.inject('posts', { kind: 'slow-platform', ms: 14_000 });
    const run = await post(srv, { 'timeout-seconds': '10' });
    expect(run.code).toBe(1);
    expect(run.outputs.status).toBe('unknown');
    expect(run.stdout).toMatch(/letmepost is still publishing it \(post [0-9a-f-]+\).*may have been published.*re-running the job later is safe/);
    expect(postRequests(srv)).toHaveLength(1);
    // letmepost finishes the post on its own, after the step gave up.
    for (let waited = 0; srv.posts.length === 0 && waited < 30_000; waited += 250) await new Promise((resolve) => setTimeout(resolve, 250));
    expect(srv.posts).toHaveLength(1);
    const rerun = await post(srv, {}, { GITHUB_RUN_ATTEMPT: '2' });
    expect(rerun.code, rerun.stdout).toBe(0);
    expect(rerun.outputs).toMatchObject({ status: 'published', replayed: 'true', id: srv.posts[0]!.id });
    expect(srv.posts).toHaveLength(1);
  }, 60_000);

  it('a transient failure reported inside a 200 fails the step, and a re-run recovers with one post', async () => {
    const srv = await newServer();
    srv.inject('posts', { kind: 'failed-status' });
    const first = await post(srv);
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/status 'failed'.*re-running the job retries it safely/);
    expect(srv.posts).toHaveLength(0);

    const rerun = await post(srv, {}, { GITHUB_RUN_ATTEMPT: '2' });
    expect(rerun.code, rerun.stdout).toBe(0);
    expect(rerun.outputs.status).toBe('published');
    expect(srv.posts).toHaveLength(1);
    // The output is the target's own key; the recovery went out under one derived from it.
    expect(rerun.outputs['idempotency-key']).toBe(first.outputs['idempotency-key']);
    expect(results(rerun)[0]!.idempotencyKey).toBe(`${first.outputs['idempotency-key']}-r1`);

    const third = await post(srv, {}, { GITHUB_RUN_ATTEMPT: '3' });
    expect(third.outputs).toMatchObject({ status: 'published', replayed: 'true', uri: rerun.outputs.uri });
    expect(srv.posts).toHaveLength(1);
  });

  it('a permanently rejected post is not retried, on this run or a re-run', async () => {
    const srv = await newServer();
    srv.inject('posts', { kind: 'rejected-status', message: 'The platform refused the post: duplicate content' });
    const first = await post(srv);
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/duplicate content/);
    const rerun = await post(srv, {}, { GITHUB_RUN_ATTEMPT: '2' });
    expect(rerun.code).toBe(1);
    expect(new Set(postRequests(srv).map((r) => r.headers['idempotency-key'])).size).toBe(1);
    expect(srv.posts).toHaveLength(0);
  });

  it('sends the shape the server accepts: one targets[] request per target per run, options as the server wants them', async () => {
    const srv = await newServer();
    const targets = `- platform: pinterest\n  account: ${PINTEREST}\n- platform: x\n  account: ${TWITTER}`;
    const run = await post(srv, { platform: '', 'account-id': '', targets, media: '- url: https://example.com/pin.png\n  alt: A pin', 'pinterest-board-id': 'board-42', 'pinterest-title': 'Widgets', 'x-quote-tweet-id': '1790000000000000000' });
    expect(run.code, run.stdout).toBe(0);
    const bodies = postRequests(srv).map((r) => JSON.parse(r.body.toString()) as { targets: Array<{ accountId: string; options?: unknown }>; account?: unknown });
    expect(bodies).toHaveLength(2);
    expect(bodies.every((b) => b.account === undefined && b.targets.length === 1)).toBe(true);
    expect(bodies.find((b) => b.targets[0]!.accountId === PINTEREST)!.targets[0]!.options).toEqual({ platform: 'pinterest', boardId: 'board-42', title: 'Widgets' });
    expect(bodies.find((b) => b.targets[0]!.accountId === TWITTER)!.targets[0]!.options).toEqual({ platform: 'twitter', quoteTweetId: '1790000000000000000' });
    expect(srv.posts.map((p) => p.platform).sort()).toEqual(['pinterest', 'twitter']);
  });

  it('falls back to the documented single-account shape for a server that refuses targets, under a derived key; a re-run still posts once', async () => {
    const srv = await newServer({ accountShapeOnly: true });
    const first = await post(srv);
    expect(first.code, first.stdout).toBe(0);
    expect(first.outputs.status).toBe('published');
    expect(results(first)[0]!.idempotencyKey).toMatch(/-acct$/);
    const rerun = await post(srv, {}, { GITHUB_RUN_ATTEMPT: '2' });
    expect(rerun.outputs).toMatchObject({ replayed: 'true', uri: first.outputs.uri });
    expect(srv.posts).toHaveLength(1);
  });

  it('a scheduled post is queued (202) and its UTC time is an output', async () => {
    const srv = await newServer();
    const at = new Date(Date.now() + 3 * 3600_000);
    at.setUTCMinutes(0, 0, 0);
    const offset = `${at.toISOString().slice(0, 11)}${String((at.getUTCHours() + 2) % 24).padStart(2, '0')}:00:00+02:00`;
    const run = await post(srv, { 'scheduled-at': at.getUTCHours() >= 22 ? at.toISOString() : offset });
    expect(run.code, run.stdout).toBe(0);
    expect(run.outputs.status).toBe('queued');
    expect(run.outputs['scheduled-at']).toBe(at.toISOString());
    expect(JSON.parse(postRequests(srv)[0]!.body.toString()).scheduledAt).toBe(at.toISOString());
  });

  it('sends a local image inline as bytesBase64, uploads a video once with POST /v1/media, and passes URL media through', async () => {
    const srv = await newServer();
    const image = await post(srv, { media: '- path: assets/chart.png\n  alt: Downloads per week\n- url: https://example.com/banner.jpg\n  alt: Banner' });
    expect(image.code, image.stdout).toBe(0);
    expect(srv.media).toHaveLength(0);
    expect(JSON.parse(postRequests(srv)[0]!.body.toString()).media).toEqual([
      { kind: 'image', altText: 'Downloads per week', bytesBase64: png(64, 32).toString('base64') },
      { kind: 'image', altText: 'Banner', url: 'https://example.com/banner.jpg' },
    ]);
    const video = await post(srv, { platform: 'twitter', 'account-id': TWITTER, media: '- path: assets/clip.mp4\n  alt: A demo' });
    expect(video.code, video.stdout).toBe(0);
    expect(srv.media).toHaveLength(1);
    expect(JSON.parse(postRequests(srv)[1]!.body.toString()).media).toEqual([{ kind: 'video', altText: 'A demo', mediaId: srv.media[0]!.id }]);
  });

  it('cross-posts to several targets, each under its own key', async () => {
    const srv = await newServer();
    const targets = `- platform: bluesky\n  account: ${BLUESKY}\n- platform: x\n  account: ${TWITTER}\n- platform: linkedin\n  account: ${LINKEDIN}`;
    const run = await post(srv, { platform: '', 'account-id': '', targets });
    expect(run.code, run.stdout).toBe(0);
    const all = results(run);
    expect(all.map((r) => r.platform)).toEqual(['bluesky', 'twitter', 'linkedin']);
    expect(new Set(all.map((r) => r.idempotencyKey)).size).toBe(3);
    expect(srv.posts.map((p) => p.platform).sort()).toEqual(['bluesky', 'linkedin', 'twitter']);
    expect(all.find((r) => r.platform === 'twitter')!.url).toMatch(/^https:\/\/x\.com\/[^/]+\/status\/\d+$/);
    expect(all.find((r) => r.platform === 'linkedin')!.url).toMatch(/^https:\/\/www\.linkedin\.com\/feed\/update\/urn:li:/);
    const rerun = await post(srv, { platform: '', 'account-id': '', targets }, { GITHUB_RUN_ATTEMPT: '2' });
    expect(results(rerun).every((r) => r.replayed === true)).toBe(true);
    expect(srv.posts).toHaveLength(3);
  });

  it('letmepost warnings become workflow warnings and appear in the summary', async () => {
    const srv = await newServer();
    const run = await post(srv, { text: 'A post with a [warn] marker' });
    expect(run.code).toBe(0);
    expect(run.annotations.some((a) => a.level === 'warning')).toBe(true);
    expect(results(run)[0]!.warnings).not.toEqual([]);
  });
});

describe('errors from letmepost are shown with what to do, and are not retried', () => {
  it.each<[string, Fault | undefined, Record<string, string>, RegExp]>([
    ['a wrong token', undefined, { 'letmepost-token': 'lmp_test_wrong' }, /401 unauthenticated.*letmepost-token/],
    ['an unknown account', undefined, { 'account-id': '00000000-0000-4000-8000-000000000000' }, /404 not_found.*account-id/],
    ['the monthly quota', { kind: 'status', http: 429, code: 'quota_exceeded' }, {}, /quota_exceeded/],
    ['a platform that is not enabled', { kind: 'status', http: 403, code: 'platform_not_enabled' }, {}, /platform_not_enabled/],
  ])('%s: one request, exit 1, a message with the fix and the request id', async (_, fault, inputs, message) => {
    const srv = await newServer();
    if (fault) srv.inject('posts', fault);
    const run = await post(srv, inputs);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(message);
    expect(run.stdout).toMatch(/Request id: req_/);
    expect(postRequests(srv)).toHaveLength(1);
  });

  it('the same key with another text (no ledger record) posts nothing and says it cannot tell what became of the earlier request', async () => {
    const srv = await newServer();
    await post(srv, { 'idempotency-key': 'release-v1-2-0' });
    const run = await post(srv, { 'idempotency-key': 'release-v1-2-0', text: 'a different text' });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/body_mismatch.*An earlier run already sent this post under this key.*nothing new was posted.*does not say what became of the earlier request.*set a new 'idempotency-key'/);
    expect(run.outputs.status).toBe('unknown');
    expect(srv.posts).toHaveLength(1);
  });

  it('a request lost with nothing on letmepost is sent again until the deadline, then says it most likely never arrived', async () => {
    const srv = await newServer();
    srv.inject('posts', ...Array.from({ length: 10 }, () => ({ kind: 'reset-before-read' }) as Fault));
    const run = await post(srv, { 'timeout-seconds': '10' });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/letmepost shows no post for it \(so it most likely never reached letmepost\)|letmepost shows no post for it, so it most likely never reached letmepost/);
    expect(run.outputs.status).toMatch(/^(unknown|failed)$/);
    expect(srv.posts).toHaveLength(0);
  });
});

describe('dry run and secrets', () => {
  it('dry-run sends nothing and shows the exact request with the token redacted', async () => {
    const srv = await newServer();
    const run = await post(srv, { 'dry-run': 'true', media: '- path: assets/chart.png\n  alt: Chart' });
    expect(run.code, run.stdout).toBe(0);
    expect(srv.requests).toHaveLength(0);
    expect(run.outputs.status).toBe('validated');
    expect(run.summary).toContain('"Authorization": "Bearer ***"');
    expect(run.summary).toContain('"Idempotency-Key": "lmpa-in-bluesky-');
    expect((run.stdout + run.summary).replace(/::add-mask::.*$/gm, "")).not.toContain(TOKEN);
  });

  it('dry-run needs no token', async () => {
    const srv = await newServer();
    const run = await post(srv, { 'dry-run': 'true', 'letmepost-token': '' });
    expect(run.code, run.stdout).toBe(0);
  });

  it('a token echoed back by the server never reaches the log, outputs or summary', async () => {
    const srv = await newServer({ echoHeadersInErrors: true });
    const secret = 'lmp_live_THIS_IS_SECRET_123';
    const run = await post(srv, { 'letmepost-token': secret }, { RUNNER_DEBUG: '1' });
    expect(run.code).toBe(1);
    const everything = [run.stdout, run.stderr, run.summary, JSON.stringify(run.outputs)].join('\n');
    expect(everything).toContain('***');
    // The runner masks registered secrets in its own log; the action must not depend on it.
    expect(everything.replace(/::add-mask::.*$/gm, '')).not.toContain(secret);
  });

  it('nothing is sent when an input is invalid', async () => {
    const srv = await newServer();
    const run = await post(srv, { text: 'x'.repeat(301) });
    expect(run.code).toBe(1);
    expect(run.annotations[0]!.message).toMatch(/Input 'text' is 301 characters, over Bluesky's limit of 300 by 1/);
    expect(srv.requests).toHaveLength(0);
  });
});
