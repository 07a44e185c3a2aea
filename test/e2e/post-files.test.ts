/**
 * Content as code, end to end: the committed bundle run as the runner runs it, in a temporary
 * git repository with real commits, against a fake letmepost and a fake GitHub API (backed by
 * the same repository) on 127.0.0.1. Every scenario observes what a workflow would: exit
 * code, annotations, outputs, the job summary — and what reached the servers.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT, runAction, type ActionRun } from '../support/action.js';
import type { FakeLetmepost } from '../support/fake-letmepost.js';
import type { FakeGitHub } from '../support/fake-github.js';
import type { TempRepo } from '../support/git-repo.js';
import { png } from '../support/images.js';
import {
  ACCOUNT,
  GITHUB_TOKEN,
  githubEnv,
  LETMEPOST_TOKEN,
  letmepostPost,
  log,
  postedText,
  postRequests,
  pullRequestEvent,
  pushEvent,
  releaseEvent,
  REPOSITORY,
  results,
  type Event,
  fixtures,
} from '../support/scenario.js';

// ───────────────────────────── per-test servers and repositories ─────────────────────────────

const { letmepost, repository, github, defer, cleanup } = fixtures();
afterAll(cleanup);

interface RunOptions {
  workspace: TempRepo;
  event: Event;
  sha: string;
  server?: FakeLetmepost;
  gh?: FakeGitHub;
  inputs?: Record<string, string>;
  env?: Record<string, string>;
}

/** The action on `event`, with the usual inputs of a content-as-code workflow. */
function run(opts: RunOptions): Promise<ActionRun> {
  return runAction({
    workspace: opts.workspace.dir,
    event: opts.event,
    inputs: {
      files: 'posts/**/*.yml',
      ...(opts.server ? { 'letmepost-token': LETMEPOST_TOKEN, 'letmepost-api-url': opts.server.url } : {}),
      'github-token': GITHUB_TOKEN,
      ...opts.inputs,
    },
    env: githubEnv(opts.gh, opts.sha, (opts.event.payload.ref as string | undefined) ?? 'refs/heads/main', opts.env),
  });
}

/** Error annotations with a title: the problems themselves, not the final "Nothing was posted". */
const errors = (r: ActionRun) => r.annotations.filter((a) => a.level === 'error' && a.props !== '');

// ───────────────────────────── selection on push ─────────────────────────────

describe('a push publishes the post files it added, and nothing else', () => {
  const TEXT = {
    added: 'A brand new post',
    edited: 'An old post, edited',
    moved: 'An old post that moved',
    movedWithId: 'An old post with an id that moved, reworded',
    addedThenEdited: 'Added by the first commit of the push, final wording',
  };
  let server: FakeLetmepost;
  let gh: FakeGitHub;
  let result: ActionRun;
  let base: string;
  let addedIn: string;
  let head: string;

  beforeAll(async () => {
    server = await letmepost();
    const repo = repository();
    gh = await github(repo);
    base = repo.commitFiles('posts published long ago', {
      'README.md': '# posts\n',
      'posts/edited.yml': letmepostPost('An old post'),
      'posts/old-name.yml': letmepostPost(TEXT.moved),
      'posts/with-id.yml': `id: spring-sale\n${letmepostPost('An old post with an id that moved')}`,
      'posts/deleted.yml': letmepostPost('A post that is deleted'),
    });
    // The push holds two commits: the second edits a file the first added.
    repo.write('posts/2026/added-then-edited.yml', letmepostPost('Added by the first commit of the push, first wording'));
    addedIn = repo.commit('add a post');
    repo.write('posts/edited.yml', letmepostPost(TEXT.edited));
    repo.move('posts/old-name.yml', 'posts/archive/new-name.yml');
    repo.move('posts/with-id.yml', 'posts/archive/spring.yml');
    repo.write('posts/archive/spring.yml', `id: spring-sale\n${letmepostPost(TEXT.movedWithId)}`);
    repo.remove('posts/deleted.yml');
    repo.write('posts/2026/added-then-edited.yml', letmepostPost(TEXT.addedThenEdited));
    repo.write('posts/added.yml', letmepostPost(TEXT.added));
    head = repo.commit('edit, move, delete and add posts');
    result = await run({ workspace: repo, event: pushEvent(repo, base, head), sha: head, server, gh });
  });

  it('succeeds and publishes exactly the added files', () => {
    expect(result.code, log(result)).toBe(0);
    expect(postRequests(server).map(postedText).sort()).toEqual([TEXT.addedThenEdited, TEXT.added].sort());
    expect(server.posts).toHaveLength(2);
    expect(results(result).map((r) => [r.post, r.status, r.replayed])).toEqual([
      ['posts/2026/added-then-edited.yml', 'published', false],
      ['posts/added.yml', 'published', false],
    ]);
  });

  it.each([
    ['added', TEXT.added, true],
    ['added by one commit of the push and edited by a later one (its final text)', TEXT.addedThenEdited, true],
    ['edited', TEXT.edited, false],
    ['renamed without changes', TEXT.moved, false],
    ['renamed and reworded, keeping its id', TEXT.movedWithId, false],
  ])('a post file %s: published = %s', (_, text, published) => {
    expect(postRequests(server).some((r) => postedText(r) === text)).toBe(published);
  });

  it('the log says why the edited and renamed files were not posted', () => {
    expect(result.stdout).toContain(`Compared ${base.slice(0, 7)}...${head.slice(0, 7)} with local git.`);
    expect(result.stdout).toContain('Not re-posted: 2 renamed post files: posts/archive/new-name.yml (from posts/old-name.yml), posts/archive/spring.yml (from posts/with-id.yml).');
    expect(result.stdout).toContain('Not re-posted: 1 edited post file: posts/edited.yml (edits never re-post; they may retract or reschedule).');
  });

  it('local history answers: the GitHub API is used only for the ledger, on the commits that added the files', () => {
    expect(gh.requests.filter((r) => !/\/status(es)?\b/.test(r.path))).toEqual([]);
    // (Each letmepost target writes its intent first, then the post.)
    const recorded = gh.allStatuses().filter(([, s]) => s.state === 'success').map(([sha, s]) => [sha, s.target_url]);
    expect(recorded.sort()).toEqual(
      [
        [addedIn, results(result)[0]!.url],
        [head, results(result)[1]!.url],
      ].sort(),
    );
  });
});

describe('a shallow checkout', () => {
  it('finds the added post files with the compare API when the pushed range is not in the clone', async () => {
    const server = await letmepost();
    const origin = repository();
    const before = origin.commitFiles('first posts', { 'README.md': '# posts\n', 'posts/old.yml': letmepostPost('Old post') });
    origin.write('posts/old.yml', letmepostPost('Old post, edited'));
    origin.write('posts/new.yml', letmepostPost('Posted from a shallow clone'));
    const after = origin.commit('a new post');
    const gh = await github(origin);
    const clone = origin.shallowClone(1);
    defer(() => clone.cleanup());
    expect(clone.git('rev-parse', '--is-shallow-repository')).toBe('true');
    expect(() => clone.git('cat-file', '-e', `${before}^{commit}`), 'the clone must lack `before`').toThrow();

    const result = await run({ workspace: clone, event: pushEvent(origin, before, after), sha: after, server, gh });

    expect(result.code, log(result)).toBe(0);
    const compare = gh.requestsTo(/\/compare\//);
    expect(compare.map((r) => r.path.split('?')[0])).toEqual([`/repos/${REPOSITORY}/compare/${before}...${after}`]);
    expect(compare[0]!.headers.authorization).toBe(`Bearer ${GITHUB_TOKEN}`);
    expect(result.stdout).toMatch(/Compared \w{7}\.\.\.\w{7} with the GitHub API: commit \w{7} is not in the local checkout/);
    expect(postRequests(server).map(postedText)).toEqual(['Posted from a shallow clone']);
    // The clone's only commit looks as if it added every file: the API says which commit really did.
    expect(gh.requestsTo(/\/commits$/).some((r) => new URL(r.path, gh.url).searchParams.get('path') === 'posts/new.yml')).toBe(true);
    expect(gh.statusesOn(after).map((s) => s.target_url)).toEqual([result.outputs.url]);
  });

  it('without a github-token, the shallow clone is an error naming github-token and nothing is posted', async () => {
    const server = await letmepost();
    const origin = repository();
    const before = origin.commitFiles('first', { 'README.md': '# posts\n' });
    const after = origin.commitFiles('a new post', { 'posts/new.yml': letmepostPost('Never posted') });
    const gh = await github(origin);
    const clone = origin.shallowClone(1);
    defer(() => clone.cleanup());

    const result = await run({ workspace: clone, event: pushEvent(origin, before, after), sha: after, server, gh, inputs: { 'github-token': '' } });

    expect(result.code, log(result)).toBe(1);
    expect(errors(result).map((a) => a.props)).toEqual(["title=Invalid input 'github-token'"]);
    expect(errors(result)[0]!.message).toMatch(/compare.*401.*'github-token'/);
    expect(server.requests).toHaveLength(0);
  });
});

// ───────────────────────────── pull requests: preview only ─────────────────────────────

describe('a pull request', () => {
  it('validates and previews its post files without any secret, sends nothing, and the merge publishes under the previewed keys', async () => {
    const server = await letmepost();
    const repo = repository();
    const base = repo.commitFiles('first', { 'README.md': '# posts\n', 'posts/old.yml': letmepostPost('Already published') });
    repo.branch('feature');
    const text = 'Launching widgets 2.0 in {{ repository }} — details at https://example.com/blog/2026/widgets-2-0-launch';
    const head = repo.commitFiles('a launch post', { 'posts/launch.yml': letmepostPost(text, ['bluesky', 'twitter']) });
    const gh = await github(repo);

    // A fork's pull request: no letmepost-token, and a github-token that is not needed.
    const preview = await run({ workspace: repo, event: pullRequestEvent(base, head, { number: 7, title: 'Launch post', author: 'contributor' }), sha: head, gh, inputs: { 'github-token': '' } });

    expect(preview.code, log(preview)).toBe(0);
    expect(server.requests).toHaveLength(0);
    expect(gh.requests).toHaveLength(0);
    expect(errors(preview)).toEqual([]);
    expect(preview.outputs.status).toBe('validated');
    expect(preview.summary).toContain('letmepost: preview (posts are published when merged)');
    expect(preview.summary).toContain('#### `posts/launch.yml`');
    // Shown as text (a fenced block), never as live Markdown: it may come from a fork.
    expect(preview.summary).toContain('```text\nLaunching widgets 2.0 in octo/posts — details at https://example.com/blog/2026/widgets-2-0-launch\n```');
    // Lengths against each target's cap: graphemes on Bluesky, a link counts 23 on X.
    const keys = results(preview).map((r) => r.idempotencyKey);
    expect(keys).toHaveLength(2);
    expect(preview.summary).toContain(`| Bluesky (\`${ACCOUNT.bluesky}\`) | letmepost | ✅ publish | 97 / 300 ✅ | \`${keys[0]}\` |`);
    expect(preview.summary).toContain(`| X (Twitter) (\`${ACCOUNT.twitter}\`) | letmepost | ✅ publish | 72 / 280 ✅ | \`${keys[1]}\` |`);
    expect(preview.summary).not.toContain('Already published');

    // Merged: the push publishes the post under exactly the keys the reviewer saw.
    repo.checkout('main');
    repo.git('merge', '-q', '--ff-only', 'feature');
    const merged = await run({ workspace: repo, event: pushEvent(repo, base, head), sha: head, server, gh });
    expect(merged.code, log(merged)).toBe(0);
    expect(postRequests(server).map((r) => r.headers['idempotency-key'])).toEqual(keys);
    expect(postRequests(server).map(postedText)).toEqual([text.replace('{{ repository }}', REPOSITORY), text.replace('{{ repository }}', REPOSITORY)]);
  });

  it('a post file using pull_request placeholders is an error in the preview: the push that publishes it has no pull request', async () => {
    const repo = repository();
    const base = repo.commitFiles('first', { 'README.md': '# posts\n' });
    const head = repo.commitFiles('a post about the PR', { 'posts/merged.yml': letmepostPost('Merged: {{ pull_request.title }}') });
    const preview = await run({ workspace: repo, event: pullRequestEvent(base, head, { number: 9, title: 'Faster sync', author: 'contributor' }), sha: head, inputs: { 'github-token': '' } });
    expect(preview.code, log(preview)).toBe(1);
    expect(errors(preview).map((a) => a.props)).toEqual(['title=Invalid post file,file=posts/merged.yml,line=1,col=16']);
    expect(errors(preview)[0]!.message).toMatch(/\{\{ pull_request\.title \}\}.*(push|inline)/);

    // What the reviewer would otherwise have approved: the merge fails to post.
    const server = await letmepost();
    const merged = await run({ workspace: repo, event: pushEvent(repo, base, head), sha: head, server, inputs: { ledger: 'off' } });
    expect(merged.code, log(merged)).toBe(1);
    expect(server.requests).toHaveLength(0);
  });

  it('an over-long post is an error in the preview, at the file, before anything could be published', async () => {
    const repo = repository();
    const base = repo.commitFiles('first', { 'README.md': '# posts\n' });
    const head = repo.commitFiles('too long', { 'posts/long.yml': letmepostPost('x'.repeat(281), ['twitter']) });
    const result = await run({ workspace: repo, event: pullRequestEvent(base, head, { number: 8, title: 'Long', author: 'contributor' }), sha: head, inputs: { 'github-token': '' } });
    expect(result.code, log(result)).toBe(1);
    expect(errors(result)).toHaveLength(1);
    expect(errors(result)[0]!.props).toMatch(/^title=Invalid post file,file=posts\/long\.yml,line=1,col=7$/);
    expect(errors(result)[0]!.message).toMatch(/281.*280/);
  });
});

// ───────────────────────────── invalid post files ─────────────────────────────

describe('invalid post files', () => {
  const BAD = {
    // line 4: a typo in a target's field
    'posts/a-typo.yml': `# launch post\ntext: Hello\ntargets:\n  - acount: ${ACCOUNT.bluesky}\n    platform: bluesky\n`,
    // line 3: a flow sequence that never closes
    'posts/b-syntax.yml': `text: Hello again\ntargets:\n  - [platform: bluesky, account: ${ACCOUNT.bluesky}\n`,
    // line 2: a placeholder a push does not have, pointed at where it starts
    'posts/c-template.yml': `targets: [{ platform: bluesky, account: ${ACCOUNT.bluesky} }]\ntext: "Version {{ release.tag_name }} is out"\n`,
  };
  let server: FakeLetmepost;
  let gh: FakeGitHub;
  let result: ActionRun;

  beforeAll(async () => {
    server = await letmepost();
    const repo = repository();
    gh = await github(repo);
    const base = repo.commitFiles('first', { 'README.md': '# posts\n' });
    const head = repo.commitFiles('three bad posts and a good one', { ...BAD, 'posts/d-good.yml': letmepostPost('This one is fine') });
    result = await run({ workspace: repo, event: pushEvent(repo, base, head), sha: head, server, gh });
  });

  it('fail the step and send nothing at all, not even the valid file', () => {
    expect(result.code, log(result)).toBe(1);
    expect(server.requests).toHaveLength(0);
    expect(gh.requests).toHaveLength(0);
    expect(result.stdout).toMatch(/::error::Nothing was posted: \d+ problems with the post files or inputs/);
  });

  it.each([
    ['posts/a-typo.yml', 4, 5, /^'acount' is not a field of targets\[0\]; did you mean 'account'\?$/],
    ['posts/b-syntax.yml', 4, 1, /^YAML syntax error: /],
    ['posts/c-template.yml', 2, 16, /^'text': \{\{ release\.tag_name \}\} .*push/],
  ])('%s is reported as an annotation at line %i, column %i', (file, line, col, message) => {
    const at = errors(result).filter((a) => a.props.includes(`file=${file},`) && message.test(a.message));
    expect(at.map((a) => a.props), JSON.stringify(errors(result), null, 1)).toEqual([`title=Invalid post file,file=${file},line=${line},col=${col}`]);
  });

  it('every file is listed in the summary, in one run', () => {
    for (const file of Object.keys(BAD)) expect(result.summary).toContain(`${file}:`);
    expect(result.summary).not.toContain('d-good.yml');
  });
});

// ───────────────────────────── templates ─────────────────────────────

describe.concurrent('templates filled from the event', () => {
  it.each<[string, (repo: TempRepo, head: string) => Event, Record<string, string>, Record<string, string>, string]>([
    [
      'a release event renders a release post file',
      () => releaseEvent('v2.1.0', 'widgets 2.1'),
      { 'posts/release.yml': letmepostPost('{{ release.name }} ({{ release.tag_name }}) is out: {{ release.html_url }} — {{ repository }}@{{ sha_short }}') },
      { files: 'posts/release.yml', select: 'all' },
      `widgets 2.1 (v2.1.0) is out: https://github.com/${REPOSITORY}/releases/tag/v2.1.0 — ${REPOSITORY}@<sha7>`,
    ],
    [
      'a merged pull request renders the inline text',
      (_, head) => pullRequestEvent(head, head, { number: 42, title: 'Faster sync', author: 'octocat', action: 'closed', merged: true }),
      {},
      { text: 'Merged #{{ pull_request.number }}: {{ pull_request.title }} by @{{ pull_request.user.login }} {{ pull_request.html_url }}', platform: 'bluesky', 'account-id': ACCOUNT.bluesky },
      `Merged #42: Faster sync by @octocat https://github.com/${REPOSITORY}/pull/42`,
    ],
    [
      'a push renders the head commit into an added post file',
      (repo, head) => pushEvent(repo, repo.git('rev-parse', `${head}~1`), head),
      { 'posts/changelog.yml': letmepostPost('New on {{ ref_name }}: {{ head_commit.message }}') },
      {},
      'New on main: add the changelog post',
    ],
  ])('%s into the posted text', async (_, event, files, inputs, expected) => {
    const server = await letmepost();
    const repo = repository();
    repo.commitFiles('first', { 'README.md': '# posts\n' });
    const head = repo.commitFiles('add the changelog post', files);
    const gh = await github(repo);
    const e = event(repo, head);
    const result = await run({ workspace: repo, event: e, sha: head, server, gh, inputs });
    expect(result.code, log(result)).toBe(0);
    expect(postRequests(server).map(postedText)).toEqual([expected.replace('<sha7>', head.slice(0, 7))]);
  });

  it('each release posts the release file once: the next release is a new post, a re-run of the first is not', async () => {
    const server = await letmepost();
    const repo = repository();
    const head = repo.commitFiles('release post', { 'posts/release.yml': letmepostPost('{{ release.tag_name }} is out') });
    const gh = await github(repo);
    const release = (tag: string, attempt = '1') =>
      run({ workspace: repo, event: releaseEvent(tag, tag), sha: head, server, gh, inputs: { files: 'posts/release.yml', select: 'all' }, env: { GITHUB_REF: `refs/tags/${tag}`, GITHUB_RUN_ATTEMPT: attempt } });
    const first = await release('v1.0.0');
    const second = await release('v1.1.0');
    const rerun = await release('v1.0.0', '2');
    for (const r of [first, second, rerun]) expect(r.code, log(r)).toBe(0);
    expect(server.posts.map((p) => p.text)).toEqual(['v1.0.0 is out', 'v1.1.0 is out']);
    expect(rerun.outputs).toMatchObject({ replayed: 'true', url: first.outputs.url, id: first.outputs.id });
  });
});

// ───────────────────────────── several posts in one file ─────────────────────────────

describe.concurrent('a file with two YAML documents and two targets each', () => {
  it.each([
    ['on (answered by the ledger, no request to letmepost)', 'commit-status', 0],
    ['off (answered by letmepost as replays)', 'off', 4],
  ])('makes four posts, and a re-run with the ledger %s still leaves four', async (_, ledger, resent) => {
    const server = await letmepost();
    const repo = repository();
    const base = repo.commitFiles('first', { 'README.md': '# posts\n' });
    const file = `${letmepostPost('First post of the file', ['bluesky', 'twitter'])}---\n${letmepostPost('Second post of the file', ['bluesky', 'twitter'])}`;
    const head = repo.commitFiles('two posts in one file', { 'posts/pair.yml': file });
    const gh = await github(repo);
    const push = (attempt: string) => run({ workspace: repo, event: pushEvent(repo, base, head), sha: head, server, gh, inputs: { ledger }, env: { GITHUB_RUN_ATTEMPT: attempt } });

    const first = await push('1');
    expect(first.code, log(first)).toBe(0);
    expect(server.posts.map((p) => [p.platform, p.text])).toEqual(
      expect.arrayContaining([
        ['bluesky', 'First post of the file'],
        ['twitter', 'First post of the file'],
        ['bluesky', 'Second post of the file'],
        ['twitter', 'Second post of the file'],
      ]),
    );
    expect(server.posts).toHaveLength(4);
    expect(new Set(postRequests(server).map((r) => r.headers['idempotency-key'])).size, 'four distinct keys').toBe(4);
    expect(results(first).map((r) => [r.post, r.platform, r.replayed])).toEqual([
      ['posts/pair.yml', 'bluesky', false],
      ['posts/pair.yml', 'twitter', false],
      ['posts/pair.yml#2', 'bluesky', false],
      ['posts/pair.yml#2', 'twitter', false],
    ]);

    const sent = postRequests(server).length;
    const rerun = await push('2');
    expect(rerun.code, log(rerun)).toBe(0);
    expect(server.posts).toHaveLength(4);
    expect(postRequests(server).length - sent).toBe(resent);
    expect(results(rerun).map((r) => [r.post, r.platform, r.status, r.replayed, r.url])).toEqual(results(first).map((r) => [r.post, r.platform, 'published', true, r.url]));
  });
});

// ───────────────────────────── the examples ─────────────────────────────

const EXAMPLES = join(REPO_ROOT, 'examples');
const examplePosts = readdirSync(join(EXAMPLES, 'posts')).filter((f) => /\.ya?ml$/.test(f));
const exampleWorkflows = readdirSync(join(EXAMPLES, 'workflows')).filter((f) => /\.ya?ml$/.test(f));
const releasePayload = JSON.parse(readFileSync(join(EXAMPLES, 'events', 'release.json'), 'utf8')) as Record<string, unknown>;

describe('the example post files', () => {
  const runs = new Map<string, ActionRun>();
  let server: FakeLetmepost;
  let gh: FakeGitHub;

  /** Every example file at once, in a dry run on a release and in a pull request preview. */
  beforeAll(async () => {
    const repo = repository();
    repo.commitFiles('first', { 'README.md': '# widgets\n' });
    mkdirSync(join(repo.dir, 'examples', 'posts'), { recursive: true });
    for (const f of examplePosts) copyFileSync(join(EXAMPLES, 'posts', f), join(repo.dir, 'examples', 'posts', f));
    const head = repo.commit('the example posts');
    gh = await github(repo);
    server = await letmepost();
    const inputs = { files: 'examples/posts/*.yml', select: 'all' };
    const [dryRun, preview] = await Promise.all([
      run({ workspace: repo, event: { name: 'release', payload: releasePayload }, sha: head, server, gh, inputs: { ...inputs, 'dry-run': 'true' } }),
      run({ workspace: repo, event: pullRequestEvent(head, head, { number: 1, title: 'Posts', author: 'octocat' }), sha: head, gh, inputs }),
    ]);
    runs.set('dry-run', dryRun!);
    runs.set('preview', preview!);
  });

  it('exist', () => expect(examplePosts.length).toBeGreaterThanOrEqual(4));

  it.each(['dry-run', 'preview'])('all validate in a %s, which sends nothing', (mode) => {
    const result = runs.get(mode)!;
    expect(result.code, log(result)).toBe(0);
    expect(errors(result)).toEqual([]);
    expect(results(result).every((r) => r.status === 'validated')).toBe(true);
    expect(server.requests).toHaveLength(0);
    // The preview comment on the pull request is the only GitHub request (test/run.test.ts tests it).
    expect(gh.requests.filter((r) => !/^\/repos\/[^/]+\/[^/]+\/issues\/1\/comments(\?|$)/.test(r.path))).toHaveLength(0);
  });

  it.each(examplePosts.flatMap((f) => [[f, 'dry-run'] as const, [f, 'preview'] as const]))('%s is rendered in the %s', (file, mode) => {
    const result = runs.get(mode)!;
    const mine = results(result).filter((r) => r.post === `examples/posts/${file}` || r.post.startsWith(`examples/posts/${file}#`));
    expect(mine.length, log(result)).toBeGreaterThan(0);
    expect(result.summary).toContain(`#### \`examples/posts/${file}\``);
  });
});

describe.concurrent('the example workflows', () => {
  const action = parseYaml(readFileSync(join(REPO_ROOT, 'action.yml'), 'utf8')) as { inputs: Record<string, unknown> };
  const declared = new Set(Object.keys(action.inputs));

  interface Step {
    uses?: string;
    with?: Record<string, unknown>;
  }
  const actionSteps = (file: string): Step[] => {
    const workflow = parseYaml(readFileSync(join(EXAMPLES, 'workflows', file), 'utf8')) as { jobs: Record<string, { steps?: Step[] }> };
    return Object.values(workflow.jobs).flatMap((job) => (job.steps ?? []).filter((s) => typeof s.uses === 'string' && /^letmepost\/letmepost-action@/.test(s.uses)));
  };

  it('exist', () => expect(exampleWorkflows.length).toBeGreaterThanOrEqual(4));

  it.each(exampleWorkflows)('%s uses the action with only the inputs action.yml declares', (file) => {
    const steps = actionSteps(file);
    expect(steps.length, 'the workflow uses letmepost/letmepost-action').toBeGreaterThan(0);
    for (const step of steps) {
      const undeclared = Object.keys(step.with ?? {}).filter((name) => !declared.has(name));
      expect(undeclared, `${file}: inputs not in action.yml`).toEqual([]);
    }
  });

  /**
   * Each workflow's step, run as written (secrets and variables filled with stand-ins) in a
   * dry run on the event the workflow is triggered by: its inputs are valid together.
   */
  it.each<[string, () => Event, Record<string, string>]>([
    ['release-announcement.yml', () => ({ name: 'release', payload: releasePayload }), {}],
    ['mastodon-and-bluesky.yml', () => ({ name: 'release', payload: releasePayload }), {}],
    ['post-on-merge.yml', () => pullRequestEvent('1'.repeat(40), '2'.repeat(40), { number: 5, title: 'Faster sync', author: 'octocat', action: 'closed', merged: true }), {}],
    ['bluesky-cron-queue.yml', () => ({ name: 'schedule', payload: { schedule: '*/15 * * * *' } }), { 'queue/2026-12-01.yml': 'scheduledAt: 2026-12-01T09:00:00Z\ntext: Due\ntargets:\n  - platform: bluesky\n    account: bluesky\n' }],
    ['content-as-code.yml', () => ({ name: 'push', payload: {} }), { 'posts/launch.yml': letmepostPost('Launch') }],
  ])('%s runs as written (dry run)', async (file, event, files) => {
    const [step] = actionSteps(file);
    const inputs: Record<string, string> = {};
    for (const [name, value] of Object.entries(step!.with ?? {})) {
      inputs[name] = String(value)
        .replace(/\$\{\{\s*secrets\.(\w+)\s*\}\}/g, (_, s: string) => (s === 'LETMEPOST_TOKEN' ? LETMEPOST_TOKEN : `stand-in-${s.toLowerCase()}`))
        .replace(/\$\{\{\s*vars\.BLUESKY_HANDLE\s*\}\}/g, 'widgets.bsky.social');
    }
    expect(Object.values(inputs).join('\n')).not.toMatch(/\$\{\{/);
    const repo = repository();
    mkdirSync(join(repo.dir, 'docs', 'img'), { recursive: true });
    writeFileSync(join(repo.dir, 'docs', 'img', 'release-banner.png'), png(64, 32));
    const base = repo.commitFiles('first', { 'README.md': '# widgets\n' });
    const head = repo.commitFiles('the posts', files);
    const e = event();
    if (e.name === 'push') Object.assign(e, pushEvent(repo, base, head));
    const result = await runAction({ workspace: repo.dir, event: e, inputs: { ...inputs, 'dry-run': 'true' }, env: githubEnv(undefined, head) });
    expect(result.code, log(result)).toBe(0);
    expect(errors(result)).toEqual([]);
    expect(results(result).length).toBeGreaterThan(0);
    expect(results(result).every((r) => r.status === 'validated')).toBe(true);
  });
});

describe("the README's content-as-code section", () => {
  it('its post file, with its image, validates in a pull request preview', async () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Content as code'));
    const post = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    expect(post, 'the section opens with a post file').toMatch(/^# yaml-language-server:[\s\S]*\ntargets:/);
    const repo = repository();
    const base = repo.commitFiles('first', { 'README.md': '# widgets\n' });
    mkdirSync(join(repo.dir, 'posts', 'img'), { recursive: true });
    writeFileSync(join(repo.dir, 'posts', 'img', 'dashboard.png'), png(64, 32));
    const head = repo.commitFiles('the launch post', { 'posts/2026-12-01-v2.yml': post! });
    const result = await run({ workspace: repo, event: pullRequestEvent(base, head, { number: 3, title: 'widgets 2.0 launch post', author: 'octocat' }), sha: head, inputs: { 'github-token': '' } });
    expect(result.code, log(result)).toBe(0);
    expect(errors(result)).toEqual([]);
    expect(results(result).length).toBeGreaterThan(0);
    expect(results(result).every((r) => r.status === 'validated')).toBe(true);
  });
});
