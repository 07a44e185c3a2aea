/**
 * A push that edits the text of a queued post, end to end through the bundle. Neither
 * letmepost (PATCH /v1/posts/{id} takes `scheduledAt` only) nor Mastodon (PUT
 * /api/v1/scheduled_statuses/:id takes `scheduled_at` only) can change a queued post's text,
 * so the queued post is cancelled and the edited one queued in its place: once, whatever
 * re-runs, faults or a run killed in between do; the ledger then holds the replacement, so a
 * later push that deletes the file cancels the replacement.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeMastodon, type FakeMastodon } from '../support/fake-mastodon.js';
import { FakeIssueComments } from '../support/github-comments.js';
import { editing, previewPullRequest, pushTo, type TwoPushes } from '../support/pushes.js';
import { fixtures, LETMEPOST_TOKEN, letmepostPost, log, postRequests, results } from '../support/scenario.js';

const fx = fixtures();
const { letmepost, cleanup, defer } = fx;
afterAll(cleanup);

let mastodon: FakeMastodon;
beforeAll(async () => {
  mastodon = await startFakeMastodon();
  defer(() => mastodon.close());
});

const MASTODON_TOKEN = 'mastodon_test_secret_token';
const scheduled = (text: string, at = '2099-01-01T09:00:00Z', id = 'launch') => `id: ${id}\n${letmepostPost(text, ['bluesky'], `scheduledAt: "${at}"\n`)}`;

describe('letmepost: a text edit of a queued post replaces it', () => {
  it('cancels it with one DELETE and queues the edited text with one POST; a re-run sends nothing; deleting the file then cancels the replacement', async () => {
    const server = await letmepost();
    const inputs = { 'letmepost-token': LETMEPOST_TOKEN, 'letmepost-api-url': server.url };
    const s = await editing(fx, scheduled('Launch day'), scheduled('Launch day, with a typo fixed', '2099-01-02T09:00:00Z'));
    const queued = await pushTo(s, s.base, s.added, inputs);
    expect(queued.outputs.status, log(queued)).toBe('queued');

    const edit = await pushTo(s, s.added, s.second, inputs);
    expect(edit.code, log(edit)).toBe(0);
    expect(edit.outputs).toMatchObject({ status: 'queued', 'scheduled-at': '2099-01-02T09:00:00.000Z', replayed: 'false' });
    expect(edit.outputs.id).not.toBe(queued.outputs.id);
    expect(edit.outputs['idempotency-key'], "the file's post keeps its identity").toBe(queued.outputs['idempotency-key']);
    expect(server.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual([`/v1/posts/${queued.outputs.id}`]);
    expect(server.requests.filter((r) => r.method === 'PATCH'), 'the new time travels with the new post').toEqual([]);
    const live = () => server.posts.filter((p) => p.status === 'queued').map((p) => [p.id, p.text, p.scheduledAt]);
    expect(live()).toEqual([[edit.outputs.id, 'Launch day, with a typo fixed', '2099-01-02T09:00:00.000Z']]);
    expect(edit.stdout).toMatch(/posts\/launch\.yml → bluesky: the text was edited: cancelled the post queued for 2099-01-01T09:00:00\.000Z \(letmepost post \S+\), to queue the edited post in its place/);

    const sent = server.requests.length;
    const rerun = await pushTo(s, s.added, s.second, inputs, 2);
    expect(rerun.code, log(rerun)).toBe(0);
    expect(rerun.outputs).toMatchObject({ status: 'queued', id: edit.outputs.id, replayed: 'true' });
    expect(server.requests.length, 'a re-run finds the replacement in the ledger').toBe(sent);

    // The ledger traces the file to its replacement: deleting the file cancels that one.
    s.repo.remove('posts/launch.yml');
    const deleted = s.repo.commit('Drop the launch post');
    const cancel = await pushTo({ ...s, second: deleted }, s.second, deleted, inputs);
    expect(cancel.outputs, log(cancel)).toMatchObject({ status: 'cancelled' });
    expect(server.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual([`/v1/posts/${queued.outputs.id}`, `/v1/posts/${edit.outputs.id}`]);
    expect(live()).toEqual([]);
  });

  it('a run killed after the cancel and before the new post: the re-run finds the post cancelled and queues the edit once', async () => {
    const server = await letmepost();
    const inputs = { 'letmepost-token': LETMEPOST_TOKEN, 'letmepost-api-url': server.url };
    const s = await editing(fx, scheduled('Launch day'), scheduled('Launch day!'));
    const queued = await pushTo(s, s.base, s.added, inputs);
    // What the killed run did before it died: the DELETE.
    const gone = await fetch(`${server.url}/v1/posts/${queued.outputs.id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${LETMEPOST_TOKEN}` } });
    expect(gone.status).toBe(200);
    const rerun = await pushTo(s, s.added, s.second, inputs, 2);
    expect(rerun.code, log(rerun)).toBe(0);
    expect(rerun.stdout).toMatch(/the text was edited: letmepost post \S+ is cancelled already; queueing the edited post in its place/);
    expect(server.posts.filter((p) => p.status === 'queued').map((p) => p.text)).toEqual(['Launch day!']);
  });

  it('the answer to the new post is lost after letmepost committed it: found, not queued twice', async () => {
    const server = await letmepost();
    const inputs = { 'letmepost-token': LETMEPOST_TOKEN, 'letmepost-api-url': server.url };
    const s = await editing(fx, scheduled('Launch day'), scheduled('Launch day!'));
    await pushTo(s, s.base, s.added, inputs);
    const before = postRequests(server).length;
    server.inject('posts', { kind: 'drop-after-commit' });
    const edit = await pushTo(s, s.added, s.second, inputs);
    expect(edit.code, log(edit)).toBe(0);
    expect(edit.outputs.status).toBe('queued');
    expect(postRequests(server).length - before).toBe(1);
    expect(server.posts.filter((p) => p.status === 'queued').map((p) => p.text)).toEqual(['Launch day!']);
  });

  it.each([
    ['the schedule removed as well (an edit never publishes now)', 'scheduledAt: "2099-01-01T09:00:00Z"\n', '', 0, /the text was edited, but the schedule was removed too, and an edit never publishes now: a queued post keeps the text it was queued with/],
    // The move to a past time is refused by letmepost too: the step fails, saying both.
    ['a new time already past', 'scheduledAt: "2099-01-01T09:00:00Z"\n', 'scheduledAt: "2020-01-01T09:00:00Z"\n', 1, /the text was edited, but the new time 2020-01-01T09:00:00\.000Z is too close for letmepost to queue a post in its place/],
  ])('not replaced with %s: the queued post keeps its text, and the log says how to change it', async (_, first, second, code, said) => {
    const server = await letmepost();
    const inputs = { 'letmepost-token': LETMEPOST_TOKEN, 'letmepost-api-url': server.url };
    const s = await editing(fx, `id: launch\n${letmepostPost('Launch day', ['bluesky'], first)}`, `id: launch\n${letmepostPost('Launch day!', ['bluesky'], second)}`);
    expect((await pushTo(s, s.base, s.added, inputs)).outputs.status).toBe('queued');
    const run = await pushTo(s, s.added, s.second, inputs);
    expect(run.stdout, log(run)).toMatch(said);
    expect(run.code).toBe(code);
    expect(server.requests.filter((r) => r.method === 'DELETE' || (r.method === 'POST' && r.path === '/v1/posts'))).toHaveLength(1);
    expect(server.posts.filter((p) => p.status === 'queued').map((p) => p.text)).toEqual(['Launch day']);
  });
});

describe('Mastodon: a text edit of a scheduled status replaces it', () => {
  it('cancels the scheduled status and schedules the edited one; a re-run sends nothing', async () => {
    const file = (text: string) => `id: mastodon-edit\ntext: ${JSON.stringify(text)}\nscheduledAt: "2099-01-01T09:00:00Z"\ntargets:\n  - platform: mastodon\n    account: mastodon\n`;
    const inputs = { 'mastodon-server': mastodon.url, 'mastodon-token': MASTODON_TOKEN };
    const s = await editing(fx, file('Launch day on Mastodon'), file('Launch day on Mastodon, typo fixed'));
    const queued = await pushTo(s, s.base, s.added, inputs);
    expect(queued.outputs.status, log(queued)).toBe('queued');
    const edit = await pushTo(s, s.added, s.second, inputs);
    expect(edit.code, log(edit)).toBe(0);
    expect(edit.outputs).toMatchObject({ status: 'queued', replayed: 'false' });
    expect(mastodon.cancelledScheduled.map((x) => x.id)).toContain(queued.outputs.id);
    const mine = () => mastodon.scheduled.filter((x) => x.text.startsWith('Launch day on Mastodon')).map((x) => [x.id, x.text]);
    expect(mine()).toEqual([[edit.outputs.id, 'Launch day on Mastodon, typo fixed']]);
    const sent = mastodon.requests.length;
    expect((await pushTo(s, s.added, s.second, inputs, 2)).outputs).toMatchObject({ status: 'queued', id: edit.outputs.id, replayed: 'true' });
    expect(mastodon.requests.length).toBe(sent);
  });
});

describe('the pull request preview of a text edit of a queued post', () => {
  it('says that the queued post is replaced, and sends nothing', async () => {
    const server = await letmepost();
    const inputs = { 'letmepost-token': LETMEPOST_TOKEN, 'letmepost-api-url': server.url };
    const s: TwoPushes = await editing(fx, scheduled('Later'), scheduled('Later, edited', '2099-02-01T09:00:00Z'));
    expect((await pushTo(s, s.base, s.added, inputs)).outputs.status).toBe('queued');
    const comments = new FakeIssueComments(s.gh);
    const sent = server.requests.length;
    const preview = await previewPullRequest(s, s.added, s.second, { number: 15, title: 'Fix a typo' });
    expect(preview.code, log(preview)).toBe(0);
    const said = /\| ✏️ edit: `replaces the post queued for 2099-01-01T09:00:00\.000Z: cancels it and queues the edited text for 2099-02-01T09:00:00\.000Z` \|/;
    expect(comments.comments[0]?.body ?? '').toMatch(said);
    expect(server.requests.length).toBe(sent);
    expect(results(preview).map((r) => r.status)).toEqual(['validated']);
  });
});
