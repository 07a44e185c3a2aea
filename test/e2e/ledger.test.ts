/**
 * The durable ledger, end to end: the committed bundle records each post as a commit status
 * on a fake GitHub (backed by a real git repository) and consults it before publishing, so a
 * re-run after the platform's idempotency window — simulated by expiring the fake letmepost's
 * idempotency store, or by deleting the record on the run's real Bluesky PDS — never posts again.
 */
import { AtpAgent } from '@atproto/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction, type ActionRun } from '../support/action.js';
import type { FakeLetmepost } from '../support/fake-letmepost.js';
import { FakeGitHub } from '../support/fake-github.js';
import { startFakeMastodon, type FakeMastodon } from '../support/fake-mastodon.js';
import type { TempRepo } from '../support/git-repo.js';
import { keysOf } from '../support/planned.js';
import { sharedPds, type SharedPds, type TestAccount } from '../support/shared-pds.js';
import { ACCOUNT, fixtures, GITHUB_TOKEN, githubEnv, LETMEPOST_TOKEN, letmepostPost, log, postRequests, pushEvent, REPOSITORY, results, type Event } from '../support/scenario.js';

const { letmepost, repository: newRepository, github, cleanup } = fixtures();
afterAll(cleanup);

/** A repository with one commit, and a fake GitHub serving it. */
async function repository(): Promise<{ repo: TempRepo; gh: FakeGitHub; sha: string }> {
  const repo = newRepository();
  const sha = repo.commitFiles('release 1.2', { 'README.md': '# widgets\n' });
  return { repo, gh: await github(repo), sha };
}

const TWO_TARGETS = `- platform: bluesky\n  account: ${ACCOUNT.bluesky}\n- platform: twitter\n  account: ${ACCOUNT.twitter}`;

interface InlineRun {
  repo: TempRepo;
  gh: FakeGitHub;
  server: FakeLetmepost;
  sha: string;
  inputs?: Record<string, string>;
  attempt?: number;
  signal?: AbortSignal;
}

/** An inline post through letmepost on a release, with the ledger at its default (on). */
function inline(opts: InlineRun): Promise<ActionRun> {
  return runAction({
    workspace: opts.repo.dir,
    event: { name: 'release', payload: { action: 'published', release: { tag_name: 'v1.2.0' } } },
    inputs: { text: 'widgets 1.2 is out', targets: TWO_TARGETS, 'letmepost-token': LETMEPOST_TOKEN, 'letmepost-api-url': opts.server.url, 'github-token': GITHUB_TOKEN, ...opts.inputs },
    env: githubEnv(opts.gh, opts.sha, 'refs/tags/v1.2.0', { GITHUB_RUN_ATTEMPT: String(opts.attempt ?? 1) }),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}

/**
 * Kills the run as it records its posts: both targets have published, neither success reaches
 * the ledger (the first write is refused, the run dies at the second). Only the intents stay.
 */
function killWhenBothRecord(gh: FakeGitHub, count = 2): AbortController {
  const killer = new AbortController();
  const targets = new Set<string>();
  gh.intercept = (r) => {
    if (r.method !== 'POST' || !r.path.includes('/statuses/') || !r.body.includes('"success"')) return undefined;
    targets.add((JSON.parse(r.body) as { context: string }).context);
    if (targets.size >= count) killer.abort();
    return { status: 500, body: { message: 'the client is gone' } };
  };
  return killer;
}

const OUTPUTS = ['uri', 'url', 'cid', 'id', 'status', 'scheduled-at', 'idempotency-key'] as const;
const warnings = (r: ActionRun) => r.annotations.filter((a) => a.level === 'warning');
const titledErrors = (r: ActionRun) => r.annotations.filter((a) => a.level === 'error' && a.props !== '');
const statusReads = (gh: FakeGitHub) => gh.requests.filter((r) => r.method === 'GET' && /\/status(\?|$)/.test(r.path));
const statusWrites = (gh: FakeGitHub) => gh.requests.filter((r) => r.method === 'POST' && /\/statuses\//.test(r.path));

// ───────────────────────────── letmepost ─────────────────────────────

describe.concurrent('a post through letmepost with the ledger on', () => {
  it.each([
    ['published now', {}, 'published'],
    ['scheduled', { 'scheduled-at': '2099-01-01T09:00:00Z' }, 'queued'],
  ])('a post %s is recorded on the commit, and a re-run after the 24 h window reports it without posting', async (_, extra, status) => {
    const server = await letmepost();
    const { repo, gh, sha } = await repository();

    const first = await inline({ repo, gh, server, sha, inputs: extra });
    expect(first.code, log(first)).toBe(0);
    expect(first.outputs.status).toBe(status);
    const recorded = gh.statusesOn(sha);
    expect(recorded.map((s) => [s.state, s.context.split('/').slice(0, 2).join('/'), s.target_url]).sort()).toEqual(
      results(first)
        .map((r) => ['success', `letmepost/${r.platform}`, r.url || null])
        .sort(),
    );
    expect(new Set(recorded.map((s) => s.context)).size, 'one context per target').toBe(2);
    expect(recorded.every((s) => s.description!.length <= 140 && s.description!.startsWith(status))).toBe(true);

    server.expireIdempotency();
    const requestsBefore = gh.requests.length;
    const rerun = await inline({ repo, gh, server, sha, inputs: extra, attempt: 2 });
    expect(rerun.code, log(rerun)).toBe(0);
    expect(postRequests(server), 'the ledger answers before letmepost is asked').toHaveLength(2);
    expect(server.posts).toHaveLength(2);
    expect(rerun.outputs.replayed).toBe('true');
    for (const name of OUTPUTS) expect(rerun.outputs[name], name).toBe(first.outputs[name]);
    expect(results(rerun).map((r) => [r.platform, r.status, r.url, r.id, r.replayed])).toEqual(results(first).map((r) => [r.platform, status, r.url, r.id, true]));
    const rerunRequests = gh.requests.slice(requestsBefore);
    expect(rerunRequests.map((r) => `${r.method} ${r.path.split('?')[0]}`), 'one read of the commit, shared by both targets').toEqual([`GET /repos/${REPOSITORY}/commits/${sha}/status`]);
    expect(rerun.stdout).toMatch(/already (published|queued) by an earlier run \(recorded on commit \w{7}\); not posting again/);
    expect(rerun.summary).toContain('replayed (already posted)');
  });

  it('without the ledger, a re-run after the 24 h window posts again: the gap the ledger closes', async () => {
    const server = await letmepost();
    const { repo, gh, sha } = await repository();
    await inline({ repo, gh, server, sha, inputs: { ledger: 'off' } });
    server.expireIdempotency();
    const rerun = await inline({ repo, gh, server, sha, inputs: { ledger: 'off' }, attempt: 2 });
    expect(rerun.outputs.replayed).toBe('false');
    expect(server.posts).toHaveLength(4);
  });

  it('finds the recorded post among more than 100 other statuses on the commit', async () => {
    const server = await letmepost();
    const { repo, gh, sha } = await repository();
    const first = await inline({ repo, gh, server, sha });
    expect(first.code, log(first)).toBe(0);
    // CI re-runs and other tools keep adding statuses to the same commit, newer than the post's.
    for (let i = 0; i < 130; i++) gh.addStatus(sha, { state: 'success', context: `ci/matrix-${i}`, description: 'passed' });
    server.expireIdempotency();
    const rerun = await inline({ repo, gh, server, sha, attempt: 2 });
    expect(rerun.code, log(rerun)).toBe(0);
    expect(server.posts).toHaveLength(2);
    expect(rerun.outputs).toMatchObject({ replayed: 'true', url: first.outputs.url });
  });

  it("a token without 'statuses: write': the posts are published, and one warning says to grant it", async () => {
    const server = await letmepost();
    const { repo, gh, sha } = await repository();
    gh.denyStatusWrites = true;
    const run = await inline({ repo, gh, server, sha });
    expect(run.code, log(run)).toBe(0);
    expect(server.posts).toHaveLength(2);
    expect(run.outputs).toMatchObject({ status: 'published', replayed: 'false' });
    expect(statusWrites(gh), 'both targets tried to write their intent, then their post').toHaveLength(4);
    expect(gh.allStatuses()).toEqual([]);
    const w = warnings(run);
    expect(w, JSON.stringify(w, null, 1)).toHaveLength(1);
    expect(w[0]!.message).toMatch(/permissions: statuses: write/);
    expect(w[0]!.message, 'the advice is the one permission that fixes it').not.toMatch(/contents: read|pull-requests/);
  });

  it('a crash between publishing and writing the ledger: a re-run within the window replays the post and writes the entry', async () => {
    const server = await letmepost();
    const { repo, gh, sha } = await repository();
    // The job is killed as it starts to record the posts: only the intents reach the ledger.
    const killer = killWhenBothRecord(gh);
    const crashed = await inline({ repo, gh, server, sha, signal: killer.signal });
    gh.intercept = undefined;
    expect(crashed.code, 'killed').toBeNull();
    expect(server.posts).toHaveLength(2);
    expect(gh.statusesOn(sha).map((s) => s.state)).toEqual(['pending', 'pending']);

    const rerun = await inline({ repo, gh, server, sha, attempt: 2 });
    expect(rerun.code, log(rerun)).toBe(0);
    expect(server.posts, 'letmepost replays the posts').toHaveLength(2);
    expect(rerun.outputs).toMatchObject({ status: 'published', replayed: 'true' });
    expect(gh.statusesOn(sha).map((s) => s.target_url).sort()).toEqual(results(rerun).map((r) => r.url).sort());

    // And from now on the ledger answers, whatever the window.
    server.expireIdempotency();
    const later = await inline({ repo, gh, server, sha, attempt: 3 });
    expect(later.outputs.replayed).toBe('true');
    expect(postRequests(server)).toHaveLength(4);
  });

  it('killed between "accepted" and "recorded": a re-run beyond the 24 h window posts nothing and says the post may exist, how to check and how to force', async () => {
    const server = await letmepost();
    const { repo, gh, sha } = await repository();
    const killer = killWhenBothRecord(gh);
    await inline({ repo, gh, server, sha, signal: killer.signal });
    gh.intercept = undefined;
    expect(server.posts).toHaveLength(2);
    // Days later: letmepost no longer remembers the keys; the intents say a request went out.
    server.expireIdempotency();
    for (const s of gh.statusesOn(sha)) s.created_at = new Date(Date.now() - 25 * 3600_000).toISOString();
    const rerun = await inline({ repo, gh, server, sha, attempt: 2 });
    expect(rerun.code).toBe(1);
    expect(server.posts, 'nothing posted blindly').toHaveLength(2);
    expect(postRequests(server)).toHaveLength(2);
    expect(rerun.outputs.status).toBe('unknown');
    const error = titledErrors(rerun).map((a) => a.message).join('\n');
    expect(error).toMatch(/began to publish this post at .* and never recorded how it ended .*letmepost remembers a request for 24 hours only.*it may have been published\. Check the account.*set a new 'idempotency-key'/);
  });

  it('a forged ledger entry (no valid signature) is ignored with a warning, and the post goes out', async () => {
    const server = await letmepost();
    const { repo, gh, sha } = await repository();
    const first = await inline({ repo, gh, server, sha, inputs: { ledger: 'off', 'github-token': '' } });
    expect(first.code).toBe(0);
    const [bluesky] = results(first);
    // Someone else writes a "published" status under the ledger's context for a post that never was.
    const { ledgerContext } = await import('../../src/ledger/ledger.js');
    gh.addStatus(sha, { state: 'success', context: ledgerContext({ platform: 'bluesky', keys: keysOf(`${bluesky!.idempotencyKey}`) }), description: 'published uri=at://did:plc:evil/app.bsky.feed.post/3k2a id=x' });
    server.expireIdempotency();
    const rerun = await inline({ repo, gh, server, sha, attempt: 2 });
    expect(rerun.code, log(rerun)).toBe(0);
    expect(warnings(rerun).map((w) => w.message).join('\n')).toMatch(/is not one this action wrote \(no valid signature\)/);
    expect(results(rerun).find((r) => r.platform === 'bluesky')!.uri).not.toContain('did:plc:evil');
  });

  it('GitHub failing every ledger write: the posts stand, one warning says so, and a re-run within the window writes the entries', async () => {
    const server = await letmepost();
    const { repo, gh, sha } = await repository();
    gh.intercept = (r) => (r.method === 'POST' && r.path.includes('/statuses/') ? { status: 500, body: { message: 'Server Error' } } : undefined);
    const first = await inline({ repo, gh, server, sha });
    gh.intercept = undefined;
    expect(first.code, log(first)).toBe(0);
    expect(server.posts).toHaveLength(2);
    expect(statusWrites(gh), 'each write (an intent and a post per target) is tried three times').toHaveLength(12);
    expect(gh.allStatuses()).toEqual([]);
    const w = warnings(first);
    expect(w).toHaveLength(1);
    expect(w[0]!.message).toMatch(/answered 500.*The post is published; a re-run within the platform's idempotency window .* records it/);
    expect(w[0]!.message, 'a server error is not a permission problem').not.toMatch(/permissions:/);

    const rerun = await inline({ repo, gh, server, sha, attempt: 2 });
    expect(rerun.code, log(rerun)).toBe(0);
    expect(server.posts).toHaveLength(2);
    expect(gh.statusesOn(sha).map((s) => s.target_url).sort()).toEqual(results(rerun).map((r) => r.url).sort());
  });

  it('a GitHub hiccup on the ledger (one 502 on the read, one on a write) is retried, and a re-run after the window still finds the posts', async () => {
    const server = await letmepost();
    const { repo, gh, sha } = await repository();
    gh.failNext(/\/status$/, { status: 502, body: { message: 'Bad Gateway' } });
    gh.failNext(/\/statuses\//, { status: 502, body: { message: 'Bad Gateway' } });
    const first = await inline({ repo, gh, server, sha });
    expect(first.code, log(first)).toBe(0);
    expect(warnings(first)).toEqual([]);
    expect(statusReads(gh)).toHaveLength(2);
    expect(statusWrites(gh), 'two intents, two posts, one retried').toHaveLength(5);
    expect(gh.statusesOn(sha).map((s) => s.state)).toEqual(['success', 'success']);

    server.expireIdempotency();
    gh.failNext(/\/status$/, { status: 503, body: { message: 'Service Unavailable' } });
    const rerun = await inline({ repo, gh, server, sha, attempt: 2 });
    expect(rerun.code, log(rerun)).toBe(0);
    expect(rerun.outputs.replayed).toBe('true');
    expect(postRequests(server)).toHaveLength(2);
  });

  it.each([
    ['ledger: off', { ledger: 'off' }],
    ['ledger: off, even with a github-token and a failing GitHub', { ledger: 'off', 'github-token': 'ghs_wrong' }],
  ])('%s: not a single GitHub request', async (_, inputs) => {
    const server = await letmepost();
    const { repo, gh, sha } = await repository();
    const run = await inline({ repo, gh, server, sha, inputs });
    expect(run.code, log(run)).toBe(0);
    expect(server.posts).toHaveLength(2);
    expect(gh.requests).toEqual([]);
    expect(warnings(run)).toEqual([]);
  });
});

// ───────────────────────────── post files ─────────────────────────────

const dispatch: Event = { name: 'workflow_dispatch', payload: { inputs: {} } };

describe.concurrent('a post file with the ledger', () => {
  it('is recorded on the commit that added the file, and a later select: all run finds it there and does not post again', async () => {
    const server = await letmepost();
    const { repo, gh, sha: base } = await repository();
    const added = repo.commitFiles('a launch post', { 'posts/launch.yml': letmepostPost('Launch day', ['bluesky', 'twitter']) });
    const head = repo.commitFiles('unrelated work', { 'src/app.ts': 'export {};\n' });
    const inputs = { files: 'posts/**/*.yml', 'letmepost-token': LETMEPOST_TOKEN, 'letmepost-api-url': server.url, 'github-token': GITHUB_TOKEN };

    const push = await runAction({ workspace: repo.dir, event: pushEvent(repo, base, head), inputs, env: githubEnv(gh, head) });
    expect(push.code, log(push)).toBe(0);
    expect(server.posts).toHaveLength(2);
    expect(gh.statusesOn(head), 'not on the pushed head').toEqual([]);
    expect(gh.statusesOn(added).map((s) => s.target_url).sort()).toEqual(results(push).map((r) => r.url).sort());

    // Days later: another commit, the window is over, and a queue run re-reads every file.
    const later = repo.commitFiles('more work', { 'src/app.ts': 'export const x = 1;\n' });
    server.expireIdempotency();
    const queue = await runAction({ workspace: repo.dir, event: dispatch, inputs: { ...inputs, select: 'all' }, env: githubEnv(gh, later, 'refs/heads/main', { GITHUB_RUN_ID: '2002' }) });
    expect(queue.code, log(queue)).toBe(0);
    expect(postRequests(server)).toHaveLength(2);
    expect(server.posts).toHaveLength(2);
    expect(results(queue).map((r) => [r.post, r.platform, r.replayed, r.url])).toEqual(results(push).map((r) => [r.post, r.platform, true, r.url]));
    expect(statusReads(gh).map((r) => r.path.split('?')[0]!)).toContain(`/repos/${REPOSITORY}/commits/${added}/status`);
  });

  it.each<[string, Record<string, string>, (gh: FakeGitHub) => void, number]>([
    ['no github-token', { 'github-token': '' }, () => {}, 0],
    ['ledger: off', { ledger: 'off' }, () => {}, 0],
    ['a token that cannot read commit statuses', {}, (gh) => (gh.denyStatusReads = true), 1],
  ])('select: all with a letmepost target and %s is refused, naming select, before anything is posted', async (_, extra, setup, githubRequests) => {
    const server = await letmepost();
    const { repo, gh } = await repository();
    const head = repo.commitFiles('a post', { 'posts/launch.yml': letmepostPost('Launch day') });
    setup(gh);
    const run = await runAction({
      workspace: repo.dir,
      event: dispatch,
      inputs: { files: 'posts/**/*.yml', select: 'all', 'letmepost-token': LETMEPOST_TOKEN, 'letmepost-api-url': server.url, 'github-token': GITHUB_TOKEN, ...extra },
      env: githubEnv(gh, head),
    });
    expect(run.code, log(run)).toBe(1);
    const errors = titledErrors(run);
    expect(errors.map((e) => e.props)).toEqual(["title=Invalid input 'select'"]);
    expect(errors[0]!.message).toMatch(/^Input 'select' is 'all'.*statuses: write.*select: added/);
    expect(server.requests).toEqual([]);
    expect(gh.requests).toHaveLength(githubRequests);
  });
});

// ───────────────────────────── Mastodon ─────────────────────────────

describe('a Mastodon post with the ledger on', () => {
  /** A run killed as it starts to record the post: the status exists, the ledger holds only the intent. */
  async function crashed(mastodon: FakeMastodon) {
    const { repo, gh, sha } = await repository();
    const post = (attempt: number, signal?: AbortSignal) =>
      runAction({
        workspace: repo.dir,
        inputs: { text: 'widgets 1.2 is out', platform: 'mastodon', 'mastodon-server': mastodon.url, 'mastodon-token': 'mastodon_test_secret_token', 'github-token': GITHUB_TOKEN },
        env: githubEnv(gh, sha, 'refs/tags/v1.2.0', { GITHUB_RUN_ATTEMPT: String(attempt) }),
        ...(signal ? { signal } : {}),
      });
    const killer = killWhenBothRecord(gh, 1);
    await post(1, killer.signal);
    gh.intercept = undefined;
    expect(gh.statusesOn(sha).map((st) => st.state)).toEqual(['pending']);
    return { gh, sha, post };
  }

  it('killed between "accepted" and "recorded", re-run within the hour: the replay answers, one status', async () => {
    const mastodon = await startFakeMastodon({ token: 'mastodon_test_secret_token' });
    try {
      const { post } = await crashed(mastodon);
      mastodon.advanceClock(60_000);
      const rerun = await post(2);
      expect(rerun.code, log(rerun)).toBe(0);
      expect(rerun.outputs.replayed).toBe('true');
      expect(mastodon.statuses).toHaveLength(1);
    } finally {
      await mastodon.close();
    }
  });

  it('killed between "accepted" and "recorded", re-run two hours later: nothing posted blindly; may have been published, check, force', async () => {
    const mastodon = await startFakeMastodon({ token: 'mastodon_test_secret_token' });
    try {
      const { gh, sha, post } = await crashed(mastodon);
      for (const st of gh.statusesOn(sha)) st.created_at = new Date(Date.now() - 2 * 3600_000).toISOString();
      mastodon.expireIdempotency();
      const later = await post(2);
      expect(later.code).toBe(1);
      expect(later.outputs.status).toBe('unknown');
      expect(mastodon.statuses, 'nothing posted blindly').toHaveLength(1);
      expect(later.stdout).toMatch(/never recorded how it ended .*mastodon remembers a request for about an hour only.*set a new 'idempotency-key'/);
    } finally {
      await mastodon.close();
    }
  });
});

// ───────────────────────────── Bluesky, direct ─────────────────────────────

describe('a direct Bluesky post with the ledger on (real PDS)', () => {
  let pds: SharedPds;
  let alice: TestAccount;
  let agent: AtpAgent;

  beforeAll(async () => {
    pds = await sharedPds();
    alice = await pds.createAccount('alice');
    agent = new AtpAgent({ service: pds.url });
    await agent.login({ identifier: alice.handle, password: alice.password });
  });

  async function setup() {
    const { repo, gh, sha } = await repository();
    const post = (job: string, ledger: string, attempt = 1) =>
      runAction({
        workspace: repo.dir,
        event: { name: 'release', payload: {} },
        inputs: { text: 'widgets 1.2 is out', platform: 'bluesky', 'bluesky-identifier': alice.handle, 'bluesky-app-password': alice.appPassword, 'bluesky-service': pds.url, 'link-card': 'false', 'github-token': GITHUB_TOKEN, ledger },
        env: githubEnv(gh, sha, 'refs/tags/v1.2.0', { GITHUB_JOB: job, GITHUB_RUN_ATTEMPT: String(attempt) }),
      });
    return { gh, sha, post };
  }

  /** The user deletes the post in the app. */
  async function deletePost(uri: string): Promise<void> {
    const rkey = uri.split('/').pop()!;
    await agent.com.atproto.repo.deleteRecord({ repo: alice.did, collection: 'app.bsky.feed.post', rkey });
    expect(await pds.getRecord(uri)).toBeUndefined();
  }

  it('without the ledger, a re-run after the user deleted the post re-creates it at the same record key', async () => {
    const { post } = await setup();
    const first = await post('no-ledger', 'off');
    expect(first.code, log(first)).toBe(0);
    await deletePost(first.outputs.uri!);
    const rerun = await post('no-ledger', 'off', 2);
    expect(rerun.code, log(rerun)).toBe(0);
    expect(rerun.outputs.uri).toBe(first.outputs.uri);
    expect(await pds.getRecord(first.outputs.uri!)).toBeDefined();
  });

  it('with the ledger, a re-run after the user deleted the post reports the recorded post and does not post again', async () => {
    const { gh, sha, post } = await setup();
    const first = await post('with-ledger', 'commit-status');
    expect(first.code, log(first)).toBe(0);
    expect(first.outputs).toMatchObject({ status: 'published', replayed: 'false' });
    expect(gh.statusesOn(sha).map((s) => [s.context.split('/').slice(0, 2).join('/'), s.target_url])).toEqual([['letmepost/bluesky', first.outputs.url]]);
    const before = (await pds.listPosts(alice.did)).length;
    await deletePost(first.outputs.uri!);

    const rerun = await post('with-ledger', 'commit-status', 2);
    expect(rerun.code, log(rerun)).toBe(0);
    expect(rerun.outputs.replayed).toBe('true');
    for (const name of OUTPUTS) expect(rerun.outputs[name], name).toBe(first.outputs[name]);
    expect(await pds.getRecord(first.outputs.uri!), 'not re-created').toBeUndefined();
    expect((await pds.listPosts(alice.did)).length).toBe(before - 1);
  });
});
