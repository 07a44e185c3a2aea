/**
 * Post identity in the workflows users write, through the committed bundle on Node 24: a
 * new run is a new post, a re-run is the same post (letmepost fake, Mastodon fake, the run's
 * real PDS); Bluesky posts are dated when written; no checkout is needed for an inline Bluesky
 * post; a scheduled post re-run after its time is reported, not refused; local images
 * replay on letmepost; a re-run whose text changed keeps the earlier post and says so.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCommand, log, runAction, type ActionRun } from '../support/action.js';
import { DEFAULT_ACCOUNTS, startFakeLetmepost, type FakeLetmepost } from '../support/fake-letmepost.js';
import { FakeGitHub } from '../support/fake-github.js';
import { startFakeMastodon, type FakeMastodon } from '../support/fake-mastodon.js';
import type { TempRepo } from '../support/git-repo.js';
import { png } from '../support/images.js';
import { fixtures } from '../support/scenario.js';
import { sharedPds, type SharedPds, type TestAccount } from '../support/shared-pds.js';

const LMP_TOKEN = 'lmp_test_secret_token';
const MASTODON_TOKEN = 'mastodon_test_secret_token';
const GITHUB_TOKEN = 'ghs_fake_token';
const BLUESKY_ACCOUNT = DEFAULT_ACCOUNTS.find((a) => a.platform === 'bluesky')!.id;

const { repository, defer, cleanup } = fixtures();
afterAll(cleanup);

function emptyWorkspace(): string {
  return mkdtempSync(join(tmpdir(), 'lmpa-identity-'));
}

const warnings = (run: ActionRun) => run.annotations.filter((a) => a.level === 'warning').map((a) => decodeCommand(a.message));

/** A release event for `tag`, as GitHub sends it. */
function release(tag: string) {
  return { name: 'release', payload: { action: 'published', release: { tag_name: tag, name: tag, html_url: `https://github.com/octo/widgets/releases/tag/${tag}`, prerelease: tag.includes('-'), draft: false }, repository: { full_name: 'octo/widgets' } } };
}

describe('letmepost: a new run is a new post, a re-run is the same post', () => {
  let server: FakeLetmepost;
  let workspace: string;
  beforeAll(async () => {
    server = await startFakeLetmepost({ token: LMP_TOKEN });
    defer(() => server.close());
    workspace = emptyWorkspace();
    mkdirSync(join(workspace, 'assets'));
    writeFileSync(join(workspace, 'assets', 'chart.png'), png(64, 32));
  });

  const post = (inputs: Record<string, string>, env: Record<string, string>, event = release('v2.0.0')) =>
    runAction({ workspace, event, inputs: { platform: 'bluesky', 'account-id': BLUESKY_ACCOUNT, 'letmepost-token': LMP_TOKEN, 'letmepost-api-url': server.url, ledger: 'off', ...inputs }, env });

  it('two dispatches on one commit make two posts; re-running either finds its own', async () => {
    const env = { GITHUB_JOB: 'dispatch-twice', GITHUB_EVENT_NAME: 'workflow_dispatch' };
    const before = server.posts.length;
    const first = await post({ text: 'Maintenance tonight at 22:00 UTC' }, { ...env, GITHUB_RUN_ID: '2001' });
    const second = await post({ text: 'Maintenance is over, thanks for your patience' }, { ...env, GITHUB_RUN_ID: '2002' });
    expect(first.code, log(first)).toBe(0);
    expect(second.code, log(second)).toBe(0);
    expect(second.outputs).toMatchObject({ status: 'published', replayed: 'false' });
    expect(second.outputs.id).not.toBe(first.outputs.id);
    expect(server.posts.slice(before).map((p) => p.text)).toEqual(['Maintenance tonight at 22:00 UTC', 'Maintenance is over, thanks for your patience']);

    const rerun = await post({ text: 'Maintenance tonight at 22:00 UTC' }, { ...env, GITHUB_RUN_ID: '2001', GITHUB_RUN_ATTEMPT: '2' });
    expect(rerun.code, log(rerun)).toBe(0);
    expect(rerun.outputs).toMatchObject({ id: first.outputs.id, replayed: 'true', 'idempotency-key': first.outputs['idempotency-key'] });
    expect(server.posts.length - before).toBe(2);
  });

  it('a release candidate (announced with on-prerelease: post) and the release from the same commit are two posts', async () => {
    const before = server.posts.length;
    const text = 'widgets {{ release.tag_name }} is out';
    const rc = await post({ text, 'on-prerelease': 'post' }, { GITHUB_JOB: 'release-twice', GITHUB_RUN_ID: '3001' }, release('v2.0.0-rc.1'));
    const final = await post({ text }, { GITHUB_JOB: 'release-twice', GITHUB_RUN_ID: '3002' }, release('v2.0.0'));
    expect([rc.code, final.code], log(final)).toEqual([0, 0]);
    expect(server.posts.slice(before).map((p) => p.text)).toEqual(['widgets v2.0.0-rc.1 is out', 'widgets v2.0.0 is out']);
  });

  it('a post scheduled through letmepost and re-run after its time is reported as queued, not refused', async () => {
    const at = new Date(Date.now() + 4000).toISOString();
    const env = { GITHUB_JOB: 'scheduled-rerun', GITHUB_RUN_ID: '4001' };
    const first = await post({ text: 'Webinar starts now', 'scheduled-at': at }, env);
    expect(first.code, log(first)).toBe(0);
    expect(first.outputs.status).toBe('queued');
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(at) - Date.now()) + 500));
    const rerun = await post({ text: 'Webinar starts now', 'scheduled-at': at }, { ...env, GITHUB_RUN_ATTEMPT: '2' });
    expect(rerun.code, log(rerun)).toBe(0);
    expect(rerun.outputs).toMatchObject({ status: 'queued', replayed: 'true', id: first.outputs.id, 'scheduled-at': first.outputs['scheduled-at'] });
  });

  it('a schedule already in the past that no run sent is refused, naming the input; nothing is posted', async () => {
    const before = server.posts.length;
    const result = await post({ text: 'Too late', 'scheduled-at': '2020-01-01T09:00:00Z' }, { GITHUB_JOB: 'past', GITHUB_RUN_ID: '4101' });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/Input 'scheduled-at' is '2020-01-01T09:00:00Z' \(2020-01-01T09:00:00.000Z\), which is in the past; .*No earlier run sent this post/);
    expect(server.posts.length).toBe(before);
  });

  it('a local image is sent inline, so a re-run without the ledger replays and stays green', async () => {
    const before = server.posts.length;
    const mediaUploads = server.requests.filter((r) => r.path === '/v1/media').length;
    const inputs = { text: 'The new dashboard', media: '- path: assets/chart.png\n  alt: A chart of build times' };
    const env = { GITHUB_JOB: 'image-rerun', GITHUB_RUN_ID: '5001' };
    const first = await post(inputs, env);
    const rerun = await post(inputs, { ...env, GITHUB_RUN_ATTEMPT: '2' });
    expect(first.code, log(first)).toBe(0);
    expect(rerun.code, log(rerun)).toBe(0);
    expect(rerun.outputs).toMatchObject({ status: 'published', replayed: 'true', id: first.outputs.id });
    expect(server.posts.length - before).toBe(1);
    expect(server.requests.filter((r) => r.path === '/v1/media').length).toBe(mediaUploads);
  });
});

describe('Mastodon: a new run is a new post, a re-run is the same post', () => {
  let server: FakeMastodon;
  beforeAll(async () => {
    server = await startFakeMastodon({ token: MASTODON_TOKEN });
    defer(() => server.close());
  });
  const post = (inputs: Record<string, string>, env: Record<string, string>) =>
    runAction({ workspace: emptyWorkspace(), inputs: { platform: 'mastodon', 'mastodon-server': server.url, 'mastodon-token': MASTODON_TOKEN, ledger: 'off', ...inputs }, env });

  it('two dispatches on one commit make two statuses; a re-run finds its own', async () => {
    const before = server.statuses.length;
    const env = { GITHUB_JOB: 'dispatch-twice', GITHUB_EVENT_NAME: 'workflow_dispatch' };
    const first = await post({ text: 'First announcement' }, { ...env, GITHUB_RUN_ID: '6001' });
    const second = await post({ text: 'Second announcement' }, { ...env, GITHUB_RUN_ID: '6002' });
    server.advanceClock(60_000); // Mastodon's replays are told by age (see mastodon.ts)
    const rerun = await post({ text: 'First announcement' }, { ...env, GITHUB_RUN_ID: '6001', GITHUB_RUN_ATTEMPT: '2' });
    expect([first.code, second.code, rerun.code], log(rerun)).toEqual([0, 0, 0]);
    expect(server.statuses.slice(before).map((s) => s.text)).toEqual(['First announcement', 'Second announcement']);
    expect(rerun.outputs).toMatchObject({ id: first.outputs.id, replayed: 'true' });
  });

  it('a re-run whose text changed keeps the earlier status, posts nothing, and shows both texts', async () => {
    const before = server.statuses.length;
    const env = { GITHUB_JOB: 'changed-text', GITHUB_RUN_ID: '6201' };
    const first = await post({ text: 'Nightly build 41 is green' }, env);
    const rerun = await post({ text: 'Nightly build 42 is green' }, { ...env, GITHUB_RUN_ATTEMPT: '2' });
    expect([first.code, rerun.code], log(rerun)).toEqual([0, 0]);
    expect(rerun.outputs).toMatchObject({ id: first.outputs.id, url: first.outputs.url, replayed: 'true', status: 'published' });
    const warning = warnings(rerun).join('\n');
    expect(warning).toContain('posted: “Nightly build 41 is green”');
    expect(warning).toContain('now:    “Nightly build 42 is green”');
    expect(server.statuses.length - before).toBe(1);
  });

  it('a scheduled status re-run after its time is reported as queued, not refused', async () => {
    // The instance's clock runs twenty minutes behind: it still takes a time four minutes ago
    // (more than five minutes ahead of its clock), which this runner already sees as past.
    server.advanceClock(-20 * 60_000);
    try {
      const at = new Date(Date.now() - 4 * 60_000).toISOString();
      const env = { GITHUB_JOB: 'scheduled-rerun', GITHUB_RUN_ID: '6101' };
      const first = await post({ text: 'Scheduled', 'scheduled-at': at }, env);
      expect(first.code, log(first)).toBe(0);
      const rerun = await post({ text: 'Scheduled', 'scheduled-at': at }, { ...env, GITHUB_RUN_ATTEMPT: '2' });
      expect(rerun.code, log(rerun)).toBe(0);
      // (Mastodon cannot say whether a scheduled status is a replay: it has no creation time.)
      expect(rerun.outputs).toMatchObject({ status: 'queued', id: first.outputs.id });
      expect(server.scheduled.filter((s) => s.params.text === 'Scheduled')).toHaveLength(1);

      // Once Mastodon has published it, the key no longer names a scheduled status.
      server.scheduled.splice(server.scheduled.findIndex((s) => s.id === first.outputs.id), 1);
      const later = await post({ text: 'Scheduled', 'scheduled-at': at }, { ...env, GITHUB_RUN_ATTEMPT: '3' });
      expect(later.code, log(later)).toBe(0);
      expect(later.outputs).toMatchObject({ status: 'published', replayed: 'true' });
      expect(warnings(later).join('\n')).toMatch(/published at its time/);
    } finally {
      server.advanceClock(20 * 60_000);
    }
  });
});

describe('Bluesky: dated when written, no checkout needed, one post per run', () => {
  let pds: SharedPds;
  let alice: TestAccount;
  let repo: TempRepo;
  let sha: string;
  let github: FakeGitHub;
  beforeAll(async () => {
    pds = await sharedPds();
    alice = await pds.createAccount('alice');
    repo = repository();
    sha = repo.write('README.md', '# widgets\n').commit('release');
    github = await new FakeGitHub({ repoDir: repo.dir, repository: 'octo/widgets', token: GITHUB_TOKEN }).start();
    defer(() => github.stop());
  });

  const post = (inputs: Record<string, string>, env: Record<string, string>, workspace = repo.dir) =>
    runAction({
      workspace,
      event: release('v2.0.0'),
      inputs: { platform: 'bluesky', 'bluesky-identifier': alice.handle, 'bluesky-app-password': alice.appPassword, 'bluesky-service': pds.url, 'link-card': 'false', ledger: 'off', 'github-token': GITHUB_TOKEN, ...inputs },
      env: { GITHUB_SHA: sha, GITHUB_REPOSITORY: 'octo/widgets', GITHUB_API_URL: github.url, ...env },
    });

  it('a post is dated when it is written, not when its commit was made', async () => {
    const before = Date.now();
    const result = await post({ text: 'Dated today' }, { GITHUB_JOB: 'dated', GITHUB_RUN_ID: '7001' });
    const after = Date.now();
    expect(result.code, log(result)).toBe(0);
    const createdAt = Date.parse((await pds.getRecord(result.outputs.uri!))!.value.createdAt);
    expect(createdAt).toBeGreaterThanOrEqual(before - 1000);
    expect(createdAt).toBeLessThanOrEqual(after + 1000);
  });

  it('two runs on one commit are two posts; a re-run finds its own', async () => {
    const env = { GITHUB_JOB: 'bsky-twice' };
    const first = await post({ text: 'First run' }, { ...env, GITHUB_RUN_ID: '7101' });
    const second = await post({ text: 'Second run' }, { ...env, GITHUB_RUN_ID: '7102' });
    const rerun = await post({ text: 'First run' }, { ...env, GITHUB_RUN_ID: '7101', GITHUB_RUN_ATTEMPT: '2' });
    expect([first.code, second.code, rerun.code], log(second)).toEqual([0, 0, 0]);
    expect(second.outputs.uri).not.toBe(first.outputs.uri);
    expect(rerun.outputs).toMatchObject({ uri: first.outputs.uri, replayed: 'true' });
    const texts = (await pds.listPosts(alice.did)).map((p) => p.value.text);
    expect(texts.filter((t) => t === 'First run' || t === 'Second run').sort()).toEqual(['First run', 'Second run']);
  });

  it('a release workflow without a checkout posts, its commit time read from the GitHub API', async () => {
    const result = await post({ text: 'No checkout needed' }, { GITHUB_JOB: 'no-checkout', GITHUB_RUN_ID: '7201' }, emptyWorkspace());
    expect(result.code, log(result)).toBe(0);
    expect(github.requests.some((r) => r.method === 'GET' && r.path === `/repos/octo/widgets/commits/${sha}`)).toBe(true);
    const record = await pds.getRecord(result.outputs.uri!);
    expect(record?.value.text).toBe('No checkout needed');
    expect(new Date(record!.value.createdAt).toISOString().slice(0, 10)).toBe(new Date().toISOString().slice(0, 10));
  });

  it('without a checkout and without API access, the error says which permission or step to add; nothing is posted', async () => {
    const count = (await pds.listPosts(alice.did)).length;
    const result = await post({ text: 'Cannot anchor', 'github-token': 'ghs_revoked_token' }, { GITHUB_JOB: 'no-access', GITHUB_RUN_ID: '7301' }, emptyWorkspace());
    expect(result.code).toBe(1);
    // The fake GitHub refuses the token: no commit time from anywhere.
    expect(result.stdout).toMatch(/neither the checkout, the event nor the GitHub API gave it.*permissions: contents: read.*actions\/checkout/);
    expect((await pds.listPosts(alice.did)).length).toBe(count);
  }, 60_000);

  it("the account's main password works but is warned about; an app password is not", async () => {
    const main = await post({ text: 'Posted with the main password', 'bluesky-app-password': alice.password }, { GITHUB_JOB: 'main-password', GITHUB_RUN_ID: '7501' });
    expect(main.code, log(main)).toBe(0);
    expect(warnings(main).join('\n')).toMatch(/holds the account's main password, not an app password.*https:\/\/bsky\.app\/settings\/app-passwords/);
    expect(main.stdout.replace(/^::add-mask::.*$/gm, '')).not.toContain(alice.password);
    const app = await post({ text: 'Posted with an app password' }, { GITHUB_JOB: 'app-password', GITHUB_RUN_ID: '7502' });
    expect(warnings(app).join('\n')).not.toMatch(/main password/);
  });

  it("replies to an earlier step's post, inside its conversation", async () => {
    const top = await post({ text: 'v2.0.0 is out' }, { GITHUB_JOB: 'replies', GITHUB_ACTION: 'announce', GITHUB_RUN_ID: '7601' });
    const first = await post(
      { text: 'What changed: faster sync', 'bluesky-reply-to-uri': top.outputs.uri!, 'bluesky-reply-to-cid': top.outputs.cid! },
      { GITHUB_JOB: 'replies', GITHUB_ACTION: 'details', GITHUB_RUN_ID: '7601' },
    );
    const second = await post(
      { text: 'And the docs are new too', 'bluesky-reply-to-uri': first.outputs.uri!, 'bluesky-reply-to-cid': first.outputs.cid! },
      { GITHUB_JOB: 'replies', GITHUB_ACTION: 'docs', GITHUB_RUN_ID: '7601' },
    );
    expect([top.code, first.code, second.code], log(second)).toEqual([0, 0, 0]);
    const root = { uri: top.outputs.uri, cid: top.outputs.cid };
    expect((await pds.getRecord(first.outputs.uri!))?.value.reply).toEqual({ root, parent: root });
    // The conversation's first post is found by reading the post replied to.
    expect((await pds.getRecord(second.outputs.uri!))?.value.reply).toEqual({ root, parent: { uri: first.outputs.uri, cid: first.outputs.cid } });
  });

  it('a re-run whose text changed keeps the earlier post, posts nothing, and shows both texts', async () => {
    const env = { GITHUB_JOB: 'changed-text', GITHUB_RUN_ID: '7401' };
    const first = await post({ text: 'Build 1 finished at 10:00' }, env);
    const rerun = await post({ text: 'Build 1 finished at 10:07' }, { ...env, GITHUB_RUN_ATTEMPT: '2' });
    expect([first.code, rerun.code], log(rerun)).toEqual([0, 0]);
    expect(rerun.outputs).toMatchObject({ uri: first.outputs.uri, replayed: 'true', status: 'published' });
    const warning = warnings(rerun).join('\n');
    expect(warning).toMatch(/earlier run already posted this post .* with other text; that post stands and nothing new was posted/);
    expect(warning).toContain('posted: “Build 1 finished at 10:00”');
    expect(warning).toContain('now:    “Build 1 finished at 10:07”');
    expect((await pds.listPosts(alice.did)).filter((p) => p.value.text.startsWith('Build 1'))).toHaveLength(1);
  });
});
