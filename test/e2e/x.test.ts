/**
 * The committed bundle on Node 24 posting to a fake X API on 127.0.0.1 that verifies every
 * OAuth 1.0a signature, with the ledger on a fake GitHub: a tweet is posted once, a re-run
 * reads the ledger and sends nothing, a thread chains its replies, a request whose answer
 * was lost ends as one tweet, and bad keys fail with the fix.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runAction, type ActionRun } from '../support/action.js';
import { FAKE_X_CREDENTIALS, startFakeX } from '../support/fake-x.js';
import { mp4, png } from '../support/images.js';
import { fixtures, GITHUB_TOKEN, githubEnv, log, pushEvent, results } from '../support/scenario.js';

const { repository, github, cleanup, defer } = fixtures();
afterAll(cleanup);

const KEYS = {
  'x-api-key': FAKE_X_CREDENTIALS.consumerKey,
  'x-api-secret': FAKE_X_CREDENTIALS.consumerSecret,
  'x-access-token': FAKE_X_CREDENTIALS.token,
  'x-access-token-secret': FAKE_X_CREDENTIALS.tokenSecret,
};

async function setup(opts: Parameters<typeof startFakeX>[0] = {}) {
  const fake = await startFakeX(opts);
  defer(() => fake.close());
  const repo = repository();
  const sha = repo.commitFiles('release 1.2', { 'README.md': '# widgets\n' });
  const gh = await github(repo);
  return { fake, repo, gh, sha };
}

function run(ctx: Awaited<ReturnType<typeof setup>>, inputs: Record<string, string> = {}, attempt = 1): Promise<ActionRun> {
  return runAction({
    workspace: ctx.repo.dir,
    event: { name: 'release', payload: { action: 'published', release: { tag_name: 'v1.2.0' } } },
    inputs: { text: 'widgets 1.2 is out https://example.com/changelog', platform: 'x', 'x-api-url': ctx.fake.url, 'github-token': GITHUB_TOKEN, ...KEYS, ...inputs },
    env: githubEnv(ctx.gh, ctx.sha, 'refs/tags/v1.2.0', { GITHUB_RUN_ATTEMPT: String(attempt) }),
  });
}

const ledgerStates = (ctx: Awaited<ReturnType<typeof setup>>) => ctx.gh.statusesOn(ctx.sha).map((s) => [s.state, s.description?.split(' ')[0]]);

describe.concurrent('the bundled action posting to X directly', () => {
  it('posts once; a re-run reads the ledger and sends nothing', async () => {
    const ctx = await setup();
    const first = await run(ctx);
    expect(first.code, log(first)).toBe(0);
    const id = ctx.fake.tweets[0]!.id;
    expect(first.outputs).toMatchObject({ status: 'published', id, url: `https://x.com/i/web/status/${id}`, replayed: 'false' });
    expect(ctx.fake.tweetRequests().every((r) => r.signed)).toBe(true);
    expect(ledgerStates(ctx)).toEqual([['success', 'published']]);
    const writes = ctx.gh.allStatuses().map(([, s]) => s.state);
    expect(writes, 'the intent before the request, the result after').toEqual(['pending', 'success']);

    const rerun = await run(ctx, {}, 2);
    expect(rerun.code, log(rerun)).toBe(0);
    expect(rerun.outputs).toMatchObject({ status: 'published', id, url: first.outputs.url, replayed: 'true' });
    expect(ctx.fake.tweetRequests()).toHaveLength(1);
    expect(ctx.fake.tweets).toHaveLength(1);
    expect(rerun.stdout).toMatch(/already published by an earlier run/);
  });

  it('a thread: each post answers the one before', async () => {
    const ctx = await setup();
    const result = await run(ctx, { text: '', platform: '', publisher: 'x', thread: "- 'widgets 1.2: a thread'\n- 'faster builds'\n- 'thanks to all contributors'" });
    expect(result.code, log(result)).toBe(0);
    expect(ctx.fake.tweets.map((t) => t.text)).toEqual(['widgets 1.2: a thread', 'faster builds', 'thanks to all contributors']);
    expect(ctx.fake.tweets.map((t) => t.inReplyTo)).toEqual([undefined, ctx.fake.tweets[0]!.id, ctx.fake.tweets[1]!.id]);
    expect(results(result).map((r) => r.status)).toEqual(['published', 'published', 'published']);
  });

  it('the answer lost after X made the tweet: the check is refused as a duplicate, the run reports it, a re-run sends nothing', async () => {
    const ctx = await setup();
    ctx.fake.inject('tweets', { kind: 'drop-after-commit' });
    const first = await run(ctx);
    expect(first.code, log(first)).toBe(0);
    expect(ctx.fake.tweets).toHaveLength(1);
    expect(ctx.fake.tweetRequests()).toHaveLength(2);
    expect(first.outputs).toMatchObject({ status: 'published', id: ctx.fake.tweets[0]!.id });
    expect(first.stdout).toMatch(/refused the same text as a duplicate/);
    const rerun = await run(ctx, {}, 2);
    expect(rerun.code, log(rerun)).toBe(0);
    expect(ctx.fake.tweetRequests()).toHaveLength(2);
    expect(ctx.fake.tweets).toHaveLength(1);
    expect(rerun.outputs).toMatchObject({ status: 'published', id: ctx.fake.tweets[0]!.id, replayed: 'true' });
  });

  it('two attempts without an answer: "may have been posted", and a re-run sends nothing and says how to check', async () => {
    const ctx = await setup();
    ctx.fake.inject('tweets', { kind: 'drop-after-commit' }, { kind: 'reset-before-read' });
    const first = await run(ctx);
    expect(first.code).toBe(1);
    expect(first.annotations.find((a) => a.level === 'error' && a.props.includes('may have been posted')), log(first)).toBeDefined();
    expect(ledgerStates(ctx)).toEqual([['pending', 'publishing']]);
    const rerun = await run(ctx, {}, 2);
    expect(rerun.code).toBe(1);
    expect(ctx.fake.tweetRequests()).toHaveLength(2);
    expect(ctx.fake.tweets).toHaveLength(1);
    expect(rerun.stdout).toMatch(/never recorded how it ended.*Check the account/);
  });

  it('a post scheduled ahead waits, writes no intent, and is posted by a run after its time', async () => {
    const ctx = await setup();
    const at = Math.ceil((Date.now() + 12_000) / 1000) * 1000;
    const schedule = { 'scheduled-at': new Date(at).toISOString().replace('.000', '') };
    const waiting = await run(ctx, schedule);
    expect(waiting.code, log(waiting)).toBe(0);
    expect(Date.now(), 'the first run ended before the time').toBeLessThan(at);
    expect(waiting.outputs.status).toBe('waiting');
    expect(ctx.fake.requests).toHaveLength(0);
    expect(ctx.gh.allStatuses(), 'no intent: it would stop the run that is due').toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, at - Date.now() + 200));
    const due = await run(ctx, schedule, 2);
    expect(due.code, log(due)).toBe(0);
    expect(due.outputs.status).toBe('published');
    expect(ctx.fake.tweets).toHaveLength(1);
    expect(ledgerStates(ctx)).toEqual([['success', 'published']]);
  });

  it.each([
    ['wrong keys', {}, { 'x-access-token-secret': 'not-the-right-secret-4321' }, /X did not accept the keys. Check 'x-api-key', 'x-api-secret', 'x-access-token' and 'x-access-token-secret'/],
    ['a read-only app', { permissions: 'read' as const }, {}, /set App permissions to "Read and write", save, then REGENERATE the Access Token/],
    ['an app outside a Project', { enrolled: false }, {}, /add the app to a Project/],
    ['no credits', { credits: false }, {}, /no credits left/],
  ])('%s: fails with the fix, and shows no secret', async (_, opts, inputs, fix) => {
    const ctx = await setup(opts);
    const result = await run(ctx, { ledger: 'off', ...inputs });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(fix);
    const shown = result.stdout.replace(/::add-mask::.*$/gm, '');
    for (const secret of [FAKE_X_CREDENTIALS.consumerSecret, FAKE_X_CREDENTIALS.tokenSecret, 'not-the-right-secret-4321']) expect(shown).not.toContain(secret);
    expect(ctx.fake.tweets).toHaveLength(0);
  });

  it("a post file added in a push: a quote of a missing tweet is refused with X's reason; the next one is posted once, and a re-run of its push sends nothing", async () => {
    const ctx = await setup();
    const before = ctx.sha;
    const after = ctx.repo.commitFiles('announce on X', { 'posts/launch.yml': 'text: "widgets 2.0 is here: https://example.com/2.0"\ntargets:\n  - platform: x\n    account: x\ntwitter:\n  quoteTweetId: "1111111111111111111"\n' });
    /** A run of the push of `from..to`. */
    const push = (from: string, to: string, attempt: number) =>
      runAction({
        workspace: ctx.repo.dir,
        event: pushEvent(ctx.repo, from, to),
        inputs: { 'x-api-url': ctx.fake.url, 'github-token': GITHUB_TOKEN, ...KEYS },
        env: githubEnv(ctx.gh, to, 'refs/heads/main', { GITHUB_RUN_ATTEMPT: String(attempt) }),
      });
    const fake = ctx.fake;
    const first = await push(before, after, 1);
    // The quoted tweet does not exist on the fake: X refuses, and nothing is posted.
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/The quoted Tweet 1111111111111111111 does not exist/);
    expect(fake.tweets).toHaveLength(0);
    const fixed = ctx.repo.commitFiles('announce on X, for real', { 'posts/launch2.yml': 'text: "widgets 2.0 is here: https://example.com/2.0"\ntargets:\n  - platform: twitter\n    account: x\n' });
    const posted = await push(after, fixed, 1);
    expect(posted.code, log(posted)).toBe(0);
    expect(posted.outputs).toMatchObject({ status: 'published', id: fake.tweets[0]!.id });
    const rerun = await push(after, fixed, 2);
    expect(rerun.code, log(rerun)).toBe(0);
    expect(rerun.outputs).toMatchObject({ status: 'published', id: fake.tweets[0]!.id, replayed: 'true' });
    expect(fake.tweetRequests().filter((r) => r.body.includes('2.0 is here'))).toHaveLength(2);
    expect(fake.tweets).toHaveLength(1);
  });

  it('two runs of the same step at once: one tweet; the other run says the text is already there, and a later re-run posts nothing', async () => {
    const ctx = await setup();
    const [a, b] = await Promise.all([run(ctx), run(ctx)]);
    expect(ctx.fake.tweets).toHaveLength(1);
    // The second run either read the first one's record (when it started late enough) or sent
    // the same text and got X's duplicate refusal: never a second tweet.
    const [fresh, second] = [a, b].sort((x, y) => Number(x.outputs.replayed === 'true' || x.outputs.status === 'unknown') - Number(y.outputs.replayed === 'true' || y.outputs.status === 'unknown'));
    expect(fresh!.outputs, `${log(a)}\n${log(b)}`).toMatchObject({ status: 'published', replayed: 'false' });
    if (second!.outputs.status === 'unknown') expect(second!.stdout).toMatch(/already posted exactly this text/);
    else expect(second!.outputs, log(second!)).toMatchObject({ status: 'published', replayed: 'true' });
    const later = await run(ctx, {}, 2);
    expect(ctx.fake.tweets).toHaveLength(1);
    expect(ctx.fake.tweetRequests().length).toBeLessThanOrEqual(2);
    expect(['published', 'unknown']).toContain(later.outputs.status);
  });

  it('an image from the repository is uploaded with its alt text; a video is refused before anything is sent', async () => {
    const ctx = await setup();
    writeFileSync(join(ctx.repo.dir, 'shot.png'), png(64, 48));
    const posted = await run(ctx, { media: '- path: shot.png\n  alt: The new dashboard' });
    expect(posted.code, log(posted)).toBe(0);
    expect(ctx.fake.media).toMatchObject([{ type: 'image/png', alt: 'The new dashboard' }]);
    expect(ctx.fake.tweets[0]!.mediaIds).toEqual([ctx.fake.media[0]!.id]);

    const other = await setup();
    writeFileSync(join(other.repo.dir, 'clip.mp4'), mp4());
    const refused = await run(other, { media: '- path: clip.mp4\n  alt: a clip' });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/video is not supported yet; post it through letmepost/);
    expect(other.fake.requests).toHaveLength(0);
  });
});
