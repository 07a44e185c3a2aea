/**
 * The life cycle of a post file, end to end through the bundle. Retract — `retract` in a post file: a push that edits a published
 * post file to say `retract: true` deletes what it published — every record of a Bluesky
 * thread and its first comment on the run's real PDS, every status of a Mastodon thread on the
 * fake Mastodon — once: the ledger (commit statuses on a fake GitHub) records it, and a re-run
 * deletes nothing more. letmepost cancels a queued post and cannot delete a published one,
 * which is said per target and fails the step only with `strict-retract`. Cancel — a push
 * that deletes a post file cancels what it queued (letmepost, Mastodon) once, also from a
 * shallow clone; a published post stays.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction, type ActionRun } from '../support/action.js';
import { startFakeMastodon, type FakeMastodon } from '../support/fake-mastodon.js';
import type { FakeGitHub } from '../support/fake-github.js';
import type { TempRepo } from '../support/git-repo.js';
import { sharedPds, type SharedPds, type TestAccount } from '../support/shared-pds.js';
import { FakeIssueComments } from '../support/github-comments.js';
import { deleting, editing, previewPullRequest, pushTo } from '../support/pushes.js';
import { ACCOUNT, fixtures, GITHUB_TOKEN, githubEnv, LETMEPOST_TOKEN, letmepostPost, log, pushEvent, results } from '../support/scenario.js';

const fx = fixtures();
const { letmepost, repository, github, defer, cleanup } = fx;
afterAll(cleanup);

let pds: SharedPds;
let alice: TestAccount;
let mastodon: FakeMastodon;

beforeAll(async () => {
  pds = await sharedPds();
  alice = await pds.createAccount('retracts');
  mastodon = await startFakeMastodon();
  defer(() => mastodon.close());
});

const SENTENCE = 'This release rewrites the sync engine so that large repositories index in seconds. ';
const MASTODON_TOKEN = 'mastodon_test_secret_token';

interface Scenario {
  repo: TempRepo;
  gh: FakeGitHub;
  /** The commit that added the post file, and the one that made it say `retract`. */
  added: string;
  retracted: string;
  push(before: string, after: string, extra?: Record<string, string>, attempt?: number): Promise<ActionRun>;
}

/** A repository whose push adds `posts/launch.yml`, then a push that edits it to end with `retract`. */
async function scenario(file: string, retractLine = 'retract: true\n', inputs: Record<string, string> = {}): Promise<Scenario> {
  const repo = repository();
  const gh = await github(repo);
  repo.commitFiles('start', { 'README.md': '# widgets\n' });
  const added = repo.commitFiles('a launch post', { 'posts/launch.yml': file });
  const retracted = repo.commitFiles('retract the launch post', { 'posts/launch.yml': `${file}${retractLine}` });
  repo.git('checkout', '-q', added);
  const push = async (before: string, after: string, extra: Record<string, string> = {}, attempt = 1) => {
    repo.git('checkout', '-q', after);
    return runAction({
      workspace: repo.dir,
      event: pushEvent(repo, before, after),
      inputs: { files: 'posts/**/*.yml', 'github-token': GITHUB_TOKEN, ...inputs, ...extra },
      env: githubEnv(gh, after, 'refs/heads/main', { GITHUB_RUN_ATTEMPT: String(attempt) }),
    });
  };
  return { repo, gh, added, retracted, push };
}

const ledgerStates = (gh: FakeGitHub, sha: string) => gh.statusesOn(sha).map((s) => `${s.state} ${(s.description ?? '').split(' ')[0]}`);

describe('retract: true in a Bluesky post file (real PDS)', () => {
  it('deletes every post of the thread and the first comment, once; a re-run deletes nothing more', async () => {
    const file = `text: ${JSON.stringify(SENTENCE.repeat(8).trim())}\nfirstComment: "Changelog: https://example.com/changelog"\nbluesky:\n  linkCard: false\ntargets:\n  - platform: bluesky\n    account: bluesky\n`;
    const s = await scenario(file, 'retract: "announced too early"\n', { 'bluesky-identifier': alice.handle, 'bluesky-app-password': alice.appPassword, 'bluesky-service': pds.url });
    const base = s.repo.git('rev-parse', `${s.added}~1`).trim();
    const published = await s.push(base, s.added);
    expect(published.code, log(published)).toBe(0);
    const posted = results(published);
    expect(posted.map((r) => r.part)).toEqual(['1/3', '2/3', '3/3', 'first-comment']);
    expect((await pds.listPosts(alice.did)).map((p) => p.uri).sort()).toEqual(posted.map((r) => r.uri).sort());

    const retract = await s.push(s.added, s.retracted);
    expect(retract.code, log(retract)).toBe(0);
    expect(await pds.listPosts(alice.did)).toEqual([]);
    expect(retract.outputs).toMatchObject({ status: 'retracted', replayed: 'false' });
    expect(retract.stdout).toMatch(/retracted \(announced too early\): deleted https:\/\/bsky\.app\/profile\//);
    expect(ledgerStates(s.gh, s.added)).toEqual(['success retracted']);

    const rerun = await s.push(s.added, s.retracted, {}, 2);
    expect(rerun.code, log(rerun)).toBe(0);
    expect(rerun.outputs).toMatchObject({ status: 'retracted', replayed: 'true' });
    expect(rerun.stdout).toMatch(/already retracted by an earlier run/);
    expect(rerun.stdout).not.toMatch(/deleteRecord/);
  });

  it('without the ledger the records are still found by their keys, and a second run finds none to delete', async () => {
    const file = `text: "One short post to take back"\ntargets:\n  - platform: bluesky\n    account: bluesky\n`;
    const bob = await pds.createAccount('retracts-nl');
    const s = await scenario(file, 'retract: true\n', { 'bluesky-identifier': bob.handle, 'bluesky-app-password': bob.appPassword, 'bluesky-service': pds.url, ledger: 'off' });
    const base = s.repo.git('rev-parse', `${s.added}~1`).trim();
    expect((await s.push(base, s.added)).code).toBe(0);
    expect(await pds.listPosts(bob.did)).toHaveLength(1);
    const retract = await s.push(s.added, s.retracted);
    expect(retract.code, log(retract)).toBe(0);
    expect(retract.outputs.status).toBe('retracted');
    expect(await pds.listPosts(bob.did)).toEqual([]);
    const again = await s.push(s.added, s.retracted, {}, 2);
    expect(again.code, log(again)).toBe(0);
    expect(again.outputs.status).toBe('kept');
    expect(again.stdout).toMatch(/nothing to retract/);
  });
});

describe('retract: true in a Mastodon post file (fake Mastodon)', () => {
  it('deletes every status of the thread once; a re-run sends no DELETE', async () => {
    const file = `id: retract-thread\ntext: ${JSON.stringify(SENTENCE.repeat(9).trim())}\ntargets:\n  - platform: mastodon\n    account: mastodon\n`;
    const s = await scenario(file, 'retract: true\n', { 'mastodon-server': mastodon.url, 'mastodon-token': MASTODON_TOKEN });
    const base = s.repo.git('rev-parse', `${s.added}~1`).trim();
    const published = await s.push(base, s.added);
    expect(published.code, log(published)).toBe(0);
    const ids = results(published).map((r) => r.id);
    expect(ids).toHaveLength(2);

    const retract = await s.push(s.added, s.retracted);
    expect(retract.code, log(retract)).toBe(0);
    expect(retract.outputs.status).toBe('retracted');
    expect(mastodon.deletedStatuses.map((x) => x.id)).toEqual([...ids].reverse());
    const deletes = () => mastodon.requests.filter((r) => r.method === 'DELETE').length;
    expect(deletes()).toBe(2);

    const rerun = await s.push(s.added, s.retracted, {}, 2);
    expect(rerun.code, log(rerun)).toBe(0);
    expect(rerun.outputs).toMatchObject({ status: 'retracted', replayed: 'true' });
    expect(deletes()).toBe(2);
  });
});

describe('retract: true in a letmepost post file (fake letmepost)', () => {
  it('a published post stays: said per target, exit 0; with strict-retract the step fails', async () => {
    const server = await letmepost();
    const s = await scenario(letmepostPost('Launch day'), 'retract: true\n', { 'letmepost-token': LETMEPOST_TOKEN, 'letmepost-api-url': server.url });
    const base = s.repo.git('rev-parse', `${s.added}~1`).trim();
    expect((await s.push(base, s.added)).code).toBe(0);
    const retract = await s.push(s.added, s.retracted);
    expect(retract.code, log(retract)).toBe(0);
    expect(retract.outputs.status).toBe('kept');
    const warning = retract.annotations.find((a) => a.level === 'warning');
    expect(warning?.message).toMatch(/posts\/launch\.yml → bluesky: not retracted: letmepost cannot delete a published post/);
    expect(server.requests.filter((r) => r.method === 'DELETE')).toEqual([]);

    const strict = await s.push(s.added, s.retracted, { 'strict-retract': 'true' }, 2);
    expect(strict.code, log(strict)).toBe(1);
    expect(strict.stdout).toMatch(/strict-retract/);
  });

  it('a queued post is cancelled with DELETE /v1/posts/{id} once', async () => {
    const server = await letmepost();
    const s = await scenario(letmepostPost('Launch day', ['bluesky', 'twitter'], 'scheduledAt: "2099-01-01T09:00:00Z"\n'), 'retract: true\n', { 'letmepost-token': LETMEPOST_TOKEN, 'letmepost-api-url': server.url });
    const base = s.repo.git('rev-parse', `${s.added}~1`).trim();
    const queued = await s.push(base, s.added);
    expect(queued.code, log(queued)).toBe(0);
    expect(results(queued).map((r) => r.status)).toEqual(['queued', 'queued']);
    const retract = await s.push(s.added, s.retracted);
    expect(retract.code, log(retract)).toBe(0);
    expect(results(retract).map((r) => r.status)).toEqual(['retracted', 'retracted']);
    const deletes = () => server.requests.filter((r) => r.method === 'DELETE').map((r) => r.path);
    expect(deletes().sort()).toEqual(results(queued).map((r) => `/v1/posts/${r.id}`).sort());
    const rerun = await s.push(s.added, s.retracted, {}, 2);
    expect(rerun.code, log(rerun)).toBe(0);
    expect(deletes()).toHaveLength(2);
  });
});

describe('the pull request preview of a retract', () => {
  it('says per target what merging does, sends nothing, and deletes nothing', async () => {
    const server = await letmepost();
    const file = `text: "Launch day"\ntargets:\n  - platform: bluesky\n    account: bluesky\n  - platform: twitter\n    account: ${ACCOUNT.twitter}\n`;
    const s = await scenario(file, 'retract: "wrong date"\n', { 'letmepost-token': LETMEPOST_TOKEN, 'letmepost-api-url': server.url, 'bluesky-identifier': alice.handle, 'bluesky-app-password': alice.appPassword, 'bluesky-service': pds.url });
    const comments = new FakeIssueComments(s.gh);
    const preview = await previewPullRequest(s, s.added, s.retracted, { number: 12, title: 'Take the launch post back' });
    expect(preview.code, log(preview)).toBe(0);
    const body = comments.comments[0]?.body ?? '';
    expect(body).toContain('**Retract:** this post asks to be deleted where it was published; nothing is posted. Reason: `wrong date`.');
    expect(body).toMatch(/\| Bluesky \(`bluesky`\) \| bluesky \| 🗑️ retract: deletes every post of the thread/);
    expect(body).toMatch(/\| X \(Twitter\) \(`[0-9a-f-]+`\) \| letmepost \| 🗑️ retract: ⚠️ letmepost cancels a queued post/);
    expect(preview.summary).toContain('🗑️ retract');
    expect(server.requests).toEqual([]);
    expect(s.gh.requests.filter((r) => r.method === 'POST' && r.path.includes('/statuses/'))).toEqual([]);
  });
});

// ───────────────────────────── cancel: the push deletes the post file ─────────────────────────────

describe('a push that deletes a post file cancels what it queued', () => {
  it('letmepost: DELETE /v1/posts/{id} once per queued target; a re-run deletes nothing more', async () => {
    const server = await letmepost();
    const s = await deleting(fx, letmepostPost('Launch day', ['bluesky', 'twitter'], 'scheduledAt: "2099-01-01T09:00:00Z"\n'));
    const inputs = { 'letmepost-token': LETMEPOST_TOKEN, 'letmepost-api-url': server.url };
    const queued = await pushTo(s, s.base, s.added, inputs);
    expect(results(queued).map((r) => r.status), log(queued)).toEqual(['queued', 'queued']);
    const cancel = await pushTo(s, s.added, s.second, inputs);
    expect(cancel.code, log(cancel)).toBe(0);
    expect(results(cancel).map((r) => r.status)).toEqual(['cancelled', 'cancelled']);
    const deletes = () => server.requests.filter((r) => r.method === 'DELETE').map((r) => r.path);
    expect(deletes().sort()).toEqual(results(queued).map((r) => `/v1/posts/${r.id}`).sort());
    expect(ledgerStates(s.gh, s.added)).toEqual(['success cancelled', 'success cancelled']);
    const rerun = await pushTo(s, s.added, s.second, inputs, 2);
    expect(rerun.code, log(rerun)).toBe(0);
    expect(results(rerun).map((r) => [r.status, r.replayed])).toEqual([['cancelled', true], ['cancelled', true]]);
    expect(deletes()).toHaveLength(2);
  });

  it('Mastodon: the scheduled status is cancelled once', async () => {
    const s = await deleting(fx, `id: cancel-scheduled\ntext: "Launch day on Mastodon"\nscheduledAt: "2099-01-01T09:00:00Z"\ntargets:\n  - platform: mastodon\n    account: mastodon\n`);
    const inputs = { 'mastodon-server': mastodon.url, 'mastodon-token': MASTODON_TOKEN };
    const queued = await pushTo(s, s.base, s.added, inputs);
    expect(queued.outputs.status, log(queued)).toBe('queued');
    const cancel = await pushTo(s, s.added, s.second, inputs);
    expect(cancel.code, log(cancel)).toBe(0);
    expect(cancel.outputs.status).toBe('cancelled');
    expect(mastodon.cancelledScheduled.map((x) => x.id)).toContain(queued.outputs.id);
    const cancels = () => mastodon.requests.filter((r) => r.method === 'DELETE' && r.path === `/api/v1/scheduled_statuses/${queued.outputs.id}`);
    expect(cancels()).toHaveLength(1);
    expect((await pushTo(s, s.added, s.second, inputs, 2)).outputs).toMatchObject({ status: 'cancelled', replayed: 'true' });
    expect(cancels()).toHaveLength(1);
  });

  it('a published post stays and the log says how to delete it; nothing is sent', async () => {
    const server = await letmepost();
    const s = await deleting(fx, letmepostPost('Launch day'));
    const inputs = { 'letmepost-token': LETMEPOST_TOKEN, 'letmepost-api-url': server.url };
    expect((await pushTo(s, s.base, s.added, inputs)).outputs.status).toBe('published');
    const before = server.requests.length;
    const run = await pushTo(s, s.added, s.second, inputs);
    expect(run.code, log(run)).toBe(0);
    expect(results(run), 'nothing was done: no result').toEqual([]);
    expect(run.annotations.find((a) => a.level === 'warning')?.message).toMatch(/its post was published already on .*; deleting a file never deletes a post — restore the file with 'retract: true' to delete it/);
    expect(server.requests.slice(before)).toEqual([]);
  });

  it('from a shallow clone: the deleted file is read with the GitHub API, and its post cancelled', async () => {
    const server = await letmepost();
    const s = await deleting(fx, letmepostPost('Launch day', ['bluesky'], 'scheduledAt: "2099-01-01T09:00:00Z"\n'));
    const inputs = { 'letmepost-token': LETMEPOST_TOKEN, 'letmepost-api-url': server.url };
    const queued = await pushTo(s, s.base, s.added, inputs);
    expect(queued.outputs.status, log(queued)).toBe('queued');
    s.repo.git('checkout', '-q', '-B', 'main', s.second);
    const clone = s.repo.shallowClone(1);
    defer(() => clone.cleanup());
    const cancel = await pushTo(s, s.added, s.second, inputs, 1, clone);
    expect(cancel.code, log(cancel)).toBe(0);
    expect(cancel.stdout).toMatch(/with the GitHub API/);
    expect(cancel.outputs.status).toBe('cancelled');
    expect(server.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual([`/v1/posts/${queued.outputs.id}`]);
  });
});

// ───────────────────────────── edit: the push changes the post file ─────────────────────────────

describe('a push that edits a post file', () => {
  const scheduled = (at: string, text = 'Launch day') => letmepostPost(text, ['bluesky'], `scheduledAt: "${at}"\n`);

  it('letmepost: a queued post is moved to the new time with one PATCH; a re-run moves nothing', async () => {
    const server = await letmepost();
    const s = await editing(fx, scheduled('2099-01-01T09:00:00Z'), scheduled('2099-02-01T09:00:00Z'));
    const inputs = { 'letmepost-token': LETMEPOST_TOKEN, 'letmepost-api-url': server.url };
    const queued = await pushTo(s, s.base, s.added, inputs);
    expect(queued.outputs.status, log(queued)).toBe('queued');
    const moved = await pushTo(s, s.added, s.second, inputs);
    expect(moved.code, log(moved)).toBe(0);
    expect(moved.outputs).toMatchObject({ status: 'queued', 'scheduled-at': '2099-02-01T09:00:00.000Z', replayed: 'false' });
    const patches = () => server.requests.filter((r) => r.method === 'PATCH');
    expect(patches().map((r) => [r.path, r.body.toString()])).toEqual([[`/v1/posts/${queued.outputs.id}`, '{"scheduledAt":"2099-02-01T09:00:00.000Z"}']]);
    const rerun = await pushTo(s, s.added, s.second, inputs, 2);
    expect(rerun.code, log(rerun)).toBe(0);
    expect(rerun.outputs).toMatchObject({ status: 'queued', 'scheduled-at': '2099-02-01T09:00:00.000Z', replayed: 'true' });
    expect(patches()).toHaveLength(1);
  });

  it('a published post: nothing is sent, and the result says where it is and how to retract it', async () => {
    const server = await letmepost();
    const s = await editing(fx, letmepostPost('Launch day'), letmepostPost('Launch day!'));
    const inputs = { 'letmepost-token': LETMEPOST_TOKEN, 'letmepost-api-url': server.url };
    const published = await pushTo(s, s.base, s.added, inputs);
    expect(published.outputs.status).toBe('published');
    const before = server.requests.length;
    const run = await pushTo(s, s.added, s.second, inputs);
    expect(run.code, log(run)).toBe(0);
    expect(results(run), 'nothing was done: no result').toEqual([]);
    const said = `posts/launch.yml → bluesky: already published on \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z: ${published.outputs.url!.replace(/[.?/]/g, '\\$&')}; edit has no effect — add 'retract: true' to delete it, or create a new file to post again`;
    expect(run.stdout).toMatch(new RegExp(said));
    expect(server.requests.slice(before)).toEqual([]);
  });

  it('Mastodon: a scheduled status is moved with one PUT', async () => {
    const file = (at: string) => `id: reschedule\ntext: "Launch day on Mastodon"\nscheduledAt: "${at}"\ntargets:\n  - platform: mastodon\n    account: mastodon\n`;
    const s = await editing(fx, file('2099-01-01T09:00:00Z'), file('2099-03-01T09:00:00Z'));
    const inputs = { 'mastodon-server': mastodon.url, 'mastodon-token': MASTODON_TOKEN };
    const queued = await pushTo(s, s.base, s.added, inputs);
    expect(queued.outputs.status, log(queued)).toBe('queued');
    const moved = await pushTo(s, s.added, s.second, inputs);
    expect(moved.code, log(moved)).toBe(0);
    expect(moved.outputs).toMatchObject({ status: 'queued', 'scheduled-at': '2099-03-01T09:00:00.000Z' });
    expect(mastodon.scheduled.find((x) => x.id === queued.outputs.id)?.scheduledAt).toBe('2099-03-01T09:00:00.000Z');
    await pushTo(s, s.added, s.second, inputs, 2);
    expect(mastodon.requests.filter((r) => r.method === 'PUT')).toHaveLength(1);
  });
});

describe('the pull request preview of an edit reads the ledger', () => {
  it('says that an edit of a published post has no effect, and where the post is; an edit of a queued one, the move', async () => {
    const server = await letmepost();
    const inputs = { 'letmepost-token': LETMEPOST_TOKEN, 'letmepost-api-url': server.url };
    // Each file has its own id: the two scenarios share one letmepost, whose keys would meet.
    const published = await editing(fx, `id: published\n${letmepostPost('Launch day')}`, `id: published\n${letmepostPost('Launch day!')}`);
    const queued = await editing(fx, `id: queued\n${letmepostPost('Later', ['bluesky'], 'scheduledAt: "2099-01-01T09:00:00Z"\n')}`, `id: queued\n${letmepostPost('Later', ['bluesky'], 'scheduledAt: "2099-02-01T09:00:00Z"\n')}`);
    for (const [s, expected] of [
      [published, /\| ✏️ edit: `already published on \d{4}-[^`]+: https:\/\/[^`]+; edit has no effect — add 'retract: true' to delete it, or create a new file to post again` \|/],
      [queued, /\| ✏️ edit: `moves the queued post from 2099-01-01T09:00:00\.000Z to 2099-02-01T09:00:00\.000Z` \|/],
    ] as const) {
      const first = await pushTo(s, s.base, s.added, inputs);
      expect(first.code, log(first)).toBe(0);
      const comments = new FakeIssueComments(s.gh);
      const sent = server.requests.length;
      const statusWrites = () => s.gh.requests.filter((r) => r.method === 'POST' && r.path.includes('/statuses/')).length;
      const written = statusWrites();
      const preview = await previewPullRequest(s, s.added, s.second, { number: 14, title: 'Edit the launch post' });
      expect(preview.code, log(preview)).toBe(0);
      expect(comments.comments[0]?.body ?? '').toMatch(expected);
      expect(preview.summary).toMatch(expected);
      expect(server.requests.length, 'a preview sends nothing').toBe(sent);
      expect(statusWrites(), 'a preview writes no status').toBe(written);
    }
  });
});
