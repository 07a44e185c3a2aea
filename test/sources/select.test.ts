import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runContextFromEnv, type EventPayload, type RunContext } from '../../src/context.js';
import { runnerEnv } from '../support/action.js';
import { InputError, PostFileError } from '../../src/errors.js';
import { GitHubRestClient, parseLinkHeader } from '../../src/io/github-api.js';
import { loadPostFiles, type LoadedPosts } from '../../src/sources/files.js';
import { fileHistory, localGit, parseNameStatus } from '../../src/sources/select.js';
import { FakeGitHub } from '../support/fake-github.js';
import { createRepo, postYaml, type TempRepo } from '../support/git-repo.js';

const TOKEN = 'ghs_fake_token';
const ZERO = '0'.repeat(40);

/**
 * The origin history used throughout:
 *   c0 (main): posts/old.yml, posts/edit-me.yml, posts/rename-me.yml, README.md
 *   c1 (main): adds posts/new.yml and posts/more/second.yaml, edits posts/edit-me.yml,
 *              renames posts/rename-me.yml → posts/renamed.yml, deletes posts/old.yml,
 *              adds notes.txt (not a post)
 *   f1 (feature, from c1): adds posts/pr-new.yml, edits posts/new.yml, deletes posts/edit-me.yml
 */
let origin: TempRepo;
let c0: string;
let c1: string;
let f1: string;
let fake: FakeGitHub;
const clones: TempRepo[] = [];

beforeAll(async () => {
  origin = createRepo();
  c0 = origin.commitFiles('initial posts', {
    'README.md': '# posts\n',
    'posts/old.yml': postYaml('An old post', 'id: old-post\n'),
    'posts/edit-me.yml': postYaml('Edit me'),
    'posts/rename-me.yml': postYaml('A post that will move to another name, with enough text to be recognised as a rename'),
  });
  origin.write('posts/new.yml', postYaml('A brand new post'));
  origin.write('posts/more/second.yaml', postYaml('Another new post'));
  origin.write('posts/edit-me.yml', postYaml('Edited: this must not re-post'));
  origin.move('posts/rename-me.yml', 'posts/renamed.yml');
  origin.remove('posts/old.yml');
  origin.write('notes.txt', 'not a post\n');
  c1 = origin.commit('add, edit, rename and delete posts');
  origin.branch('feature');
  origin.write('posts/pr-new.yml', postYaml('Added in the pull request'));
  origin.write('posts/new.yml', postYaml('A brand new post, edited in the PR'));
  origin.remove('posts/edit-me.yml');
  f1 = origin.commit('feature work');
  origin.checkout('main');
  fake = await new FakeGitHub({ repoDir: origin.dir, token: TOKEN }).start();
});

afterAll(async () => {
  await fake?.stop();
  origin?.cleanup();
  for (const c of clones) c.cleanup();
});

beforeEach(() => fake.reset());

function track(repo: TempRepo): TempRepo {
  clones.push(repo);
  return repo;
}

function ctx(workspace: string, eventName: string, payload: EventPayload, sha: string, ref = 'refs/heads/main'): RunContext {
  const env = { GITHUB_REPOSITORY: 'octo/posts', GITHUB_SHA: sha, GITHUB_REF: ref, GITHUB_EVENT_NAME: eventName, GITHUB_API_URL: fake.url };
  return runContextFromEnv(runnerEnv(workspace, env), payload);
}

const pushPayload = (before: string, after: string, extra: EventPayload = {}): EventPayload => ({ before, after, repository: { full_name: 'octo/posts', default_branch: 'main' }, ...extra });
const settings = (select: 'added' | 'all' = 'added') => ({ files: ['posts/**/*.yml', 'posts/**/*.yaml'], select, githubToken: TOKEN });
const load = (context: RunContext, select: 'added' | 'all' = 'added'): Promise<LoadedPosts> => loadPostFiles({ ctx: context, settings: settings(select) });

describe('push with select: added', () => {
  it('selects only the post files added in the pushed range: edits, renames and other files never post', async () => {
    const loaded = await load(ctx(origin.dir, 'push', pushPayload(c0, c1), c1));
    expect(loaded.errors).toEqual([]);
    expect(loaded.mode).toBe('publish');
    expect(loaded.files).toEqual(['posts/more/second.yaml', 'posts/new.yml']);
    // The edited file is read as an edit (it reschedules what is queued), never published.
    expect(loaded.posts.map((p) => [p.source.label, p.source.operation?.kind ?? 'publish'])).toEqual([
      ['posts/more/second.yaml', 'publish'],
      ['posts/new.yml', 'publish'],
      ['posts/edit-me.yml', 'edit'],
    ]);
    expect(loaded.notes.join('\n')).toMatch(/with local git/);
    expect(loaded.notes.join('\n')).toMatch(/Not re-posted: 1 renamed post file: posts\/renamed\.yml \(from posts\/rename-me\.yml\)/);
    expect(loaded.notes.join('\n')).toMatch(/Not re-posted: 1 edited post file: posts\/edit-me\.yml \(edits never re-post; they may retract or reschedule\)/);
    expect(fake.requests).toHaveLength(0);
  });

  it('gives each post the commit that added its file, from local git', async () => {
    const loaded = await load(ctx(origin.dir, 'push', pushPayload(c0, c1), c1));
    expect(loaded.posts.filter((p) => p.source.operation === undefined).map((p) => p.addedIn)).toEqual([
      { sha: c1, time: origin.timeOf(c1) },
      { sha: c1, time: origin.timeOf(c1) },
    ]);
    expect(fake.requests).toHaveLength(0);
  });

  it("falls back to the compare API in a shallow clone where 'before' is missing, with the same answer", async () => {
    const shallow = track(origin.shallowClone(1));
    const loaded = await load(ctx(shallow.dir, 'push', pushPayload(c0, c1), c1));
    expect(loaded.errors).toEqual([]);
    expect(loaded.files).toEqual(['posts/more/second.yaml', 'posts/new.yml']);
    const compare = fake.requestsTo(/\/compare\//);
    expect(compare.map((r) => r.path.split('?')[0])).toEqual([`/repos/octo/posts/compare/${c0}...${c1}`]);
    expect(compare[0]!.headers).toMatchObject({ authorization: `Bearer ${TOKEN}`, accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' });
    expect(loaded.notes.join('\n')).toMatch(/with the GitHub API: commit [0-9a-f]{7} is not in the local checkout.*fetch-depth: 0/);
  });

  it('in a shallow clone, the commit that added a file comes from the API (the boundary commit would lie) and matches local git', async () => {
    const shallow = track(origin.shallowClone(1));
    const loaded = await load(ctx(shallow.dir, 'push', pushPayload(c0, c1), c1));
    expect(loaded.posts.filter((p) => p.source.operation === undefined).map((p) => p.addedIn)).toEqual([
      { sha: c1, time: origin.timeOf(c1) },
      { sha: c1, time: origin.timeOf(c1) },
    ]);
    // The edited file's too: its ledger entry is on the commit that added it.
    expect(fake.requestsTo(/\/commits$/)).toHaveLength(3);
  });

  it('a new branch is compared with the default branch: only what its commits add', async () => {
    const clone = track(origin.fullClone('feature'));
    const loaded = await load(ctx(clone.dir, 'push', pushPayload(ZERO, f1, { created: true }), f1, 'refs/heads/feature'));
    expect(loaded.errors).toEqual([]);
    expect(loaded.files).toEqual(['posts/pr-new.yml']);
    expect(loaded.notes.join('\n')).toMatch(/refs\/heads\/feature is a new branch: selecting the post files it adds relative to the default branch 'main'/);
    expect(fake.requests).toHaveLength(0);
  });

  it('a new branch in a shallow clone asks the compare API against the default branch', async () => {
    const shallow = track(origin.shallowClone(1, 'feature'));
    const loaded = await load(ctx(shallow.dir, 'push', pushPayload(ZERO, f1, { created: true }), f1, 'refs/heads/feature'));
    expect(loaded.files).toEqual(['posts/pr-new.yml']);
    expect(fake.requestsTo(/\/compare\//).map((r) => r.path.split('?')[0])).toEqual([`/repos/octo/posts/compare/main...${f1}`]);
  });

  it.each([
    ['the first push of the default branch selects nothing rather than posting every existing file', pushPayload(ZERO, c1, { created: true }), /pushed for the first time.*run once with 'select: all'/],
    ['a deleted branch selects nothing', pushPayload(c1, ZERO, { deleted: true }), /was deleted: no post files to publish/],
  ])('%s', async (_name, payload, note) => {
    const loaded = await load(ctx(origin.dir, 'push', payload, c1));
    expect(loaded.errors).toEqual([]);
    expect(loaded.files).toEqual([]);
    expect(loaded.notes.join('\n')).toMatch(note);
    expect(fake.requests).toHaveLength(0);
  });

  describe('renames', () => {
    const LONG = 'A post long enough that git sees the same file when only its name or layout changes. '.repeat(3);
    /** One push from `start` files to `end` files; returns the selection from local git and from the API. */
    async function pushOf(start: Record<string, string>, change: (r: TempRepo) => void) {
      const repo = track(createRepo());
      const before = repo.commitFiles('start', start);
      change(repo);
      const after = repo.commit('change');
      const api = await new FakeGitHub({ repoDir: repo.dir, token: TOKEN }).start();
      try {
        const viaGit = await loadPostFiles({ ctx: { ...ctx(repo.dir, 'push', pushPayload(before, after), after), apiUrl: api.url }, settings: settings() });
        const shallow = track(repo.shallowClone(1));
        const viaApi = await loadPostFiles({ ctx: { ...ctx(shallow.dir, 'push', pushPayload(before, after), after), apiUrl: api.url }, settings: settings() });
        expect(api.requestsTo(/\/compare\//)).toHaveLength(1);
        return { viaGit, viaApi };
      } finally {
        await api.stop();
      }
    }

    it.each([
      ['a pure move never posts', { 'posts/a.yml': postYaml(LONG) }, (r: TempRepo) => r.move('posts/a.yml', 'posts/2026/a.yml'), []],
      ['a move that only reformats (same text) never posts', { 'posts/a.yml': postYaml(LONG) }, (r: TempRepo) => r.remove('posts/a.yml').write('posts/b.yml', `# moved\n${postYaml(LONG)}`), []],
      ['a move with an edited text keeps its id and never posts', { 'posts/a.yml': postYaml(LONG, 'id: keep\n') }, (r: TempRepo) => r.remove('posts/a.yml').write('posts/b.yml', postYaml(`${LONG} Typo fixed.`, 'id: keep\n')), []],
      ['a new post that git pairs with a deleted one is published', { 'posts/old.yml': postYaml(LONG) }, (r: TempRepo) => r.remove('posts/old.yml').write('posts/new.yml', postYaml(`${LONG} But this week's news.`)), ['posts/new.yml']],
    ])('%s (local git and the API agree)', async (_name, start, change, expected) => {
      const { viaGit, viaApi } = await pushOf(start, change);
      expect(viaGit.errors).toEqual([]);
      expect(viaGit.files).toEqual(expected);
      expect(viaApi.files).toEqual(expected);
      if (expected.length > 0) expect(viaGit.notes.join('\n')).toMatch(/looks like a rename of the deleted posts\/old\.yml to git, but its posts are new/);
    });
  });

  it("a new file that copies an existing post's id is refused, though the existing file is not selected", async () => {
    const repo = track(createRepo());
    const first = repo.commitFiles('one', { 'posts/launch.yml': postYaml('Launch', 'id: launch\n') });
    const second = repo.commitFiles('two', { 'posts/launch-copy.yml': postYaml('Launch again', 'id: launch\n') });
    const loaded = await load(ctx(repo.dir, 'push', pushPayload(first, second), second));
    expect(loaded.files).toEqual(['posts/launch-copy.yml']);
    expect(loaded.posts).toEqual([]);
    expect(loaded.errors.map((e) => `${(e as PostFileError).location}: ${e.message}`)).toEqual([
      expect.stringMatching(/^posts\/launch-copy\.yml:5:5: 'id' is 'launch', which posts\/launch\.yml:5 already uses/),
    ]);
  });
});

describe('pull requests', () => {
  const prPayload = (number: number) => ({ number, pull_request: { number, base: { sha: c1, ref: 'main' }, head: { sha: f1, ref: 'feature' }, title: 'Feature', html_url: `https://github.com/octo/posts/pull/${number}`, user: { login: 'hubot' } } });

  it("previews the PR's added and changed post files (never the removed ones), from local git", async () => {
    const clone = track(origin.fullClone('feature'));
    const loaded = await load(ctx(clone.dir, 'pull_request', prPayload(5), f1, 'refs/pull/5/merge'));
    expect(loaded.errors).toEqual([]);
    expect(loaded.mode).toBe('preview');
    expect(loaded.files).toEqual(['posts/new.yml', 'posts/pr-new.yml']);
    // The edited file is previewed as an edit, the added one as a new post.
    expect(loaded.posts.map((p) => [p.file, p.source.operation?.kind ?? 'publish'])).toEqual([
      ['posts/new.yml', 'edit'],
      ['posts/pr-new.yml', 'publish'],
    ]);
    // Only the edited file's commit is looked up (its ledger entry says what the edit will do).
    expect(loaded.posts.map((p) => p.addedIn?.sha)).toEqual([c1, undefined]);
    expect(fake.requests).toHaveLength(0);
  });

  it('lists the PR files with the API, following pagination, in a shallow checkout', async () => {
    const paged = await new FakeGitHub({ repoDir: origin.dir, token: TOKEN, maxPerPage: 1 }).start();
    try {
      paged.addPullRequest(6, c1, f1);
      const shallow = track(origin.shallowClone(1, 'feature'));
      const loaded = await loadPostFiles({ ctx: { ...ctx(shallow.dir, 'pull_request_target', prPayload(6), f1), apiUrl: paged.url }, settings: settings() });
      expect(loaded.mode).toBe('preview');
      expect(loaded.files).toEqual(['posts/new.yml', 'posts/pr-new.yml']);
      // Two entries, one per page: posts/new.yml modified, posts/edit-me.yml → posts/pr-new.yml (git pairs them).
      expect(paged.requestsTo(/\/pulls\/6\/files$/)).toHaveLength(2);
      expect(loaded.notes.join('\n')).toMatch(/Listed the files of pull request #6 with the GitHub API/);
    } finally {
      await paged.stop();
    }
  });
});

describe('other events', () => {
  it('schedule with select: all publishes every matching file, each with the commit that added it', async () => {
    const loaded = await load(ctx(origin.dir, 'schedule', { schedule: '*/10 * * * *' }, c1), 'all');
    expect(loaded.errors).toEqual([]);
    expect(loaded.mode).toBe('publish');
    expect(loaded.files).toEqual(['posts/edit-me.yml', 'posts/more/second.yaml', 'posts/new.yml', 'posts/renamed.yml']);
    expect(loaded.posts.find((p) => p.file === 'posts/edit-me.yml')!.addedIn).toEqual({ sha: c0, time: origin.timeOf(c0) });
  });

  it('workflow_dispatch with select: added says to set select: all', async () => {
    const loaded = await load(ctx(origin.dir, 'workflow_dispatch', { inputs: {} }, c1));
    expect(loaded.errors).toHaveLength(1);
    expect(loaded.errors[0]).toBeInstanceOf(InputError);
    expect(loaded.errors[0]!.message).toMatch(/set 'select: all'/);
  });
});

describe('the GitHub API port', () => {
  it.each([
    [403, { message: 'Resource not accessible by integration' }, {}, /answered 403 \(Resource not accessible by integration\): the 'github-token' lacks permission; the workflow needs 'permissions: contents: read' \(and 'pull-requests: read'/],
    [404, { message: 'Not Found' }, {}, /answered 404.*cannot read it; the workflow needs 'permissions: contents: read'/],
    [403, { message: 'API rate limit exceeded' }, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1800000000' }, /rate limit is used up until 2027-01-15T08:00:00\.000Z/],
  ])('a %s from the compare API becomes an input error naming github-token', async (status, body, headers, message) => {
    fake.failNext(/\/compare\//, { status, body, headers });
    const shallow = track(origin.shallowClone(1));
    const loaded = await load(ctx(shallow.dir, 'push', pushPayload(c0, c1), c1));
    expect(loaded.errors).toHaveLength(1);
    expect(loaded.errors[0]).toBeInstanceOf(InputError);
    expect((loaded.errors[0] as InputError).input).toBe('github-token');
    expect(loaded.errors[0]!.message).toMatch(message);
  });

  it('a refused token is a 401 that says how to fix it, and never shows the token', async () => {
    const shallow = track(origin.shallowClone(1));
    const loaded = await loadPostFiles({ ctx: ctx(shallow.dir, 'push', pushPayload(c0, c1), c1), settings: { ...settings(), githubToken: 'ghs_wrong_secret' } });
    expect(loaded.errors[0]!.message).toMatch(/answered 401 \(Bad credentials\): the 'github-token' input was refused/);
    expect(JSON.stringify(loaded)).not.toContain('ghs_wrong_secret');
  });

  it('finds the oldest commit of a path through the last page of the commit list', async () => {
    const paged = await new FakeGitHub({ repoDir: origin.dir, token: TOKEN, maxPerPage: 1 }).start();
    try {
      const api = new GitHubRestClient({ apiUrl: paged.url, repository: 'octo/posts', token: TOKEN });
      // posts/new.yml: added in c1, edited in f1 → two commits, oldest on page 2.
      expect(await api.firstCommitForPath('posts/new.yml', f1)).toEqual({ sha: c1, time: origin.timeOf(c1) });
      expect(paged.requests.map((r) => new URL(r.path, paged.url).searchParams.get('page'))).toEqual([null, '2']);
      expect(await api.firstCommitForPath('posts/never.yml', f1)).toBeUndefined();
    } finally {
      await paged.stop();
    }
  });

  it('never follows a pagination link to another host with the token', async () => {
    fake.failNext(/\/pulls\/9\/files$/, { status: 200, body: [], headers: { link: '<https://evil.example/steal?page=2>; rel="next"' } });
    const api = new GitHubRestClient({ apiUrl: fake.url, repository: 'octo/posts', token: TOKEN });
    await expect(api.pullRequestFiles(9)).rejects.toThrow(/refusing to follow a link to https:\/\/evil\.example/);
  });

  it('parses Link headers', () => {
    expect(parseLinkHeader('<https://a/x?page=2>; rel="next", <https://a/x?page=5>; rel="last"')).toEqual({ next: 'https://a/x?page=2', last: 'https://a/x?page=5' });
    expect(parseLinkHeader(null)).toEqual({});
  });
});

describe('local git', () => {
  it('parses name-status output with renames, copies and odd file names', () => {
    expect(parseNameStatus('A\0posts/a b.yml\0R087\0posts/old.yml\0posts/new.yml\0M\0x\0D\0y\0C100\0s.yml\0t.yml\0')).toEqual([
      { path: 'posts/a b.yml', status: 'added' },
      { path: 'posts/new.yml', status: 'renamed', previousPath: 'posts/old.yml', identical: false },
      { path: 'x', status: 'modified' },
      { path: 'y', status: 'removed' },
      { path: 't.yml', status: 'copied', previousPath: 's.yml' },
    ]);
    expect(parseNameStatus('R100\0a\0b\0')).toEqual([{ path: 'b', status: 'renamed', previousPath: 'a', identical: true }]);
  });

  it('local git and the API agree on the commit that added every file, renamed ones included', async () => {
    const api = new GitHubRestClient({ apiUrl: fake.url, repository: 'octo/posts', token: TOKEN });
    const local = fileHistory(ctx(origin.dir, 'push', {}, f1), { git: localGit(origin.dir), api: () => api });
    for (const path of ['posts/new.yml', 'posts/renamed.yml', 'posts/pr-new.yml', 'posts/more/second.yaml']) {
      expect(await local.addedCommit(path), path).toEqual(await api.firstCommitForPath(path, f1));
    }
    expect(await local.addedCommit('posts/never-committed.yml')).toBeUndefined();
    expect(fake.requestsTo(/\/commits$/)).toHaveLength(4);
  });

  it('one batched git log answers for many files exactly as one lookup per file does', async () => {
    const paths = ['posts/new.yml', 'posts/renamed.yml', 'posts/pr-new.yml', 'posts/more/second.yaml', 'posts/never-committed.yml'];
    const runs: string[][] = [];
    const git = localGit(origin.dir);
    const counting = { run: (args: string[]) => (runs.push(args), git.run(args)) } as typeof git;
    const batched = await fileHistory(ctx(origin.dir, 'push', {}, f1), { git: counting, api: () => { throw new Error('no API needed'); } }).addedCommits(paths);
    const single = fileHistory(ctx(origin.dir, 'push', {}, f1), { git, api: () => { throw new Error('no API needed'); } });
    for (const path of paths) expect(batched.get(path), path).toEqual(await single.addedCommit(path));
    // One log for the files found in history; only the never-committed file is looked up alone.
    expect(runs.filter((a) => a.includes('log'))).toHaveLength(2);
  });
});
