/**
 * Fork safety (issue 5, item 6), with the committed bundle on Node 24 and a real git history:
 * a pull request from a fork adds post files. On `pull_request` — no secrets at all — the
 * files are validated and previewed (exit 0, or exit 1 at file:line when one is invalid) and
 * nothing is sent to any publisher. On `pull_request_target` — which runs with the base
 * repository's secrets — files from the PR's head are never published, whether the workflow
 * checked out the base (the default) or the head, and whatever `select` says.
 *
 * Publishers are a fake letmepost, a fake Mastodon and a recording server standing in for
 * Bluesky; GitHub is the fake GitHub API over the same history (reads only: it may list a
 * pull request's files, never record a commit status).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { results, runAction, type ActionRun } from '../support/action.js';
import { FakeGitHub } from '../support/fake-github.js';
import { DEFAULT_ACCOUNTS, startFakeLetmepost, type FakeLetmepost } from '../support/fake-letmepost.js';
import { startFakeMastodon, type FakeMastodon } from '../support/fake-mastodon.js';
import { createRepo, type TempRepo } from '../support/git-repo.js';
import { png } from '../support/images.js';
import { startRecorder, type Recorder } from '../support/recorder.js';

const LMP_TOKEN = 'lmp_live_base_repo_secret_1f2e3d';
const MASTODON_TOKEN = 'masto_base_repo_secret_9a8b7c';
const GITHUB_TOKEN = 'ghs_base_repo_secret_token_42';
const BLUESKY_ACCOUNT = DEFAULT_ACCOUNTS.find((a) => a.platform === 'bluesky')!.id;
const PR = 7;
const FORK_TEXT = 'Widgets 1.3 lands next week: faster sync for everyone';

/** Valid: one post to every publisher (letmepost, direct Bluesky, direct Mastodon), with media. */
const FORK_POST = `id: fork-launch
text: "${FORK_TEXT}"
media:
  - path: ../assets/chart.png
    alt: Sync time per repository size
targets:
  - platform: bluesky
    account: ${BLUESKY_ACCOUNT}
  - platform: bluesky
    account: bluesky
  - platform: mastodon
    account: mastodon
`;

/** Invalid: an unknown field, and a placeholder that reaches for the runner's environment. */
const FORK_BAD_POST = `text: "Leaking {{ env.FORK_BAIT }}"
targets:
  - platform: bluesky
    account: bluesky
sheduledAt: "2030-01-01T09:00:00Z"
`;

let origin: TempRepo;
let base: string;
let head: string;
let badHead: string;
const dirs: string[] = [];

beforeAll(() => {
  origin = createRepo();
  dirs.push(origin.dir);
  origin.write('README.md', '# widgets\n');
  mkdirSync(join(origin.dir, 'assets'));
  writeFileSync(join(origin.dir, 'assets', 'chart.png'), png(64, 32));
  origin.write('posts/shipped.yml', `id: shipped\ntext: Widgets 1.2 is out\ntargets:\n  - platform: bluesky\n    account: ${BLUESKY_ACCOUNT}\n`);
  base = origin.commit('base');
  // The fork's branches, as GitHub shows them in the base repository (refs/pull/N/head).
  origin.branch('fork-feature');
  head = origin.commitFiles('Announce 1.3 (from a fork)', { 'posts/fork-launch.yml': FORK_POST });
  origin.checkout('main');
  origin.branch('fork-bad');
  badHead = origin.commitFiles('A bad post (from a fork)', { 'posts/fork-bad.yml': FORK_BAD_POST });
  origin.checkout('main');
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Servers {
  letmepost: FakeLetmepost;
  mastodon: FakeMastodon;
  bluesky: Recorder;
  github: FakeGitHub;
}
let s: Servers;

beforeEach(async () => {
  const [letmepost, mastodon, bluesky] = await Promise.all([startFakeLetmepost({ token: LMP_TOKEN }), startFakeMastodon({ token: MASTODON_TOKEN }), startRecorder(() => ({ status: 401, body: JSON.stringify({ error: 'AuthenticationRequired', message: 'Invalid identifier or password' }) }))]);
  s = { letmepost, mastodon, bluesky, github: undefined as unknown as FakeGitHub };
});
afterEach(async () => {
  await Promise.all([s.letmepost.close(), s.mastodon.close(), s.bluesky.close(), s.github?.stop()]);
});

/** A GitHub API over the origin that knows the pull request; `token` null: anonymous reads (a fork's run). */
async function github(prHead: string, token: string | null): Promise<FakeGitHub> {
  s.github = await new FakeGitHub({ repoDir: origin.dir, repository: 'octo/widgets', token }).start();
  s.github.addPullRequest(PR, base, prHead);
  return s.github;
}

function payload(prHead: string, headRef: string) {
  return {
    action: 'opened',
    number: PR,
    pull_request: {
      number: PR,
      title: 'Announce 1.3',
      html_url: `https://github.com/octo/widgets/pull/${PR}`,
      user: { login: 'mallory' },
      state: 'open',
      merged: false,
      base: { ref: 'main', sha: base, repo: { full_name: 'octo/widgets', fork: false } },
      head: { ref: headRef, sha: prHead, repo: { full_name: 'mallory/widgets', fork: true } },
    },
    repository: { full_name: 'octo/widgets', name: 'widgets', default_branch: 'main' },
    sender: { login: 'mallory' },
  };
}

/** Publisher URLs are not secrets: a workflow may set them. Tokens are added per scenario. */
function publisherUrls(): Record<string, string> {
  return { 'letmepost-api-url': s.letmepost.url, 'mastodon-server': s.mastodon.url, 'bluesky-service': s.bluesky.url };
}

const ALL_SECRETS = {
  'letmepost-token': LMP_TOKEN,
  'mastodon-token': MASTODON_TOKEN,
  'bluesky-identifier': 'widgets.bsky.social',
  'bluesky-app-password': 'base-repo-app-pass',
  'github-token': GITHUB_TOKEN,
};

function publisherRequests(): string[] {
  return [
    ...s.letmepost.requests.map((r) => `letmepost ${r.method} ${r.path}`),
    ...s.mastodon.requests.map((r) => `mastodon ${r.method} ${r.path}`),
    ...s.bluesky.requests.map((r) => `bluesky ${r.method} ${r.path}`),
  ];
}

/** A preview: exit 0, every target validated, the post rendered in the summary, nothing sent. */
function expectPreview(run: ActionRun): void {
  expect(run.code, run.stdout + run.stderr).toBe(0);
  expect(run.outputs.status).toBe('validated');
  expect(results(run).map((r) => `${r.publisher}:${r.status}`).sort()).toEqual(['bluesky:validated', 'letmepost:validated', 'mastodon:validated']);
  expect(run.summary).toContain('letmepost: preview (posts are published when merged)');
  expect(run.summary).toContain(FORK_TEXT);
  expect(run.stdout).toMatch(/Pull request: post files are validated and previewed, never published\./);
  expect(publisherRequests(), 'a pull request run must not send anything to a publisher').toEqual([]);
}

/** An event the runner writes for the run, with the repository as every payload carries it. */
const repositoryEvent = (name: string, payload: Record<string, unknown>) => ({ name, payload: { ...payload, repository: { full_name: 'octo/widgets', default_branch: 'main' } } });
/** An environment variable the fork wants in its post; it must never be read. */
const BAIT = 'value-of-an-env-var-the-fork-wants';

/**
 * One checkout-and-run: the fake GitHub knows pull request #7 (base...`pullRequestHead`), the
 * workspace is a clone of the origin at `checkout`, and the bundle runs there for `event`.
 */
interface Scenario {
  /** The test's title. */
  name: string;
  /** The head of the pull request the fake GitHub serves. */
  pullRequestHead: 'head' | 'badHead' | 'base';
  /** The token the fake GitHub requires; null: anonymous reads only, as a fork's run has. */
  token: string | null;
  /** What the workflow checked out: a branch, with full history unless shallow (one commit). */
  checkout: { branch: string; shallow?: boolean };
  /** What reaches the worktree after the checkout. */
  tamper?: (dir: string) => void;
  /** Every secret (a base repository's run), or none at all (a fork's `pull_request` run). */
  secrets: boolean;
  inputs?: Record<string, string>;
  event: () => { name: string; payload: unknown };
  /** The runner's variables; GITHUB_API_URL is always the fake GitHub. */
  env: () => Record<string, string>;
  /** Endpoints the fake GitHub gets on top of its own. */
  routes?: (github: FakeGitHub) => void;
  /** What the run must show. */
  check: (run: ActionRun) => void;
}

async function checkoutAndRun(scenario: Scenario): Promise<ActionRun> {
  await github({ head, badHead, base }[scenario.pullRequestHead], scenario.token);
  scenario.routes?.(s.github);
  const ws = scenario.checkout.shallow ? origin.shallowClone(1, scenario.checkout.branch) : origin.fullClone(scenario.checkout.branch);
  dirs.push(ws.dir);
  scenario.tamper?.(ws.dir);
  return runAction({
    workspace: ws.dir,
    inputs: { ...publisherUrls(), ...(scenario.secrets ? ALL_SECRETS : { 'github-token': '' }), ...scenario.inputs },
    event: scenario.event(),
    env: { ...scenario.env(), GITHUB_API_URL: s.github.url },
  });
}

const PULL_REQUEST: Scenario[] = [
  {
    name: 'full history (fetch-depth: 0): the added file is previewed, exit 0, not one request anywhere',
    pullRequestHead: 'head',
    token: null,
    checkout: { branch: 'fork-feature' },
    secrets: false,
    event: () => ({ name: 'pull_request', payload: payload(head, 'fork-feature') }),
    env: () => ({ GITHUB_SHA: head, GITHUB_REF: `refs/pull/${PR}/merge`, GITHUB_HEAD_REF: 'fork-feature', GITHUB_BASE_REF: 'main' }),
    check: (run) => {
      expectPreview(run);
      expect(run.stdout).toMatch(/Changed in this pull request: 1 post file: posts\/fork-launch\.yml\./);
      expect(s.github.requests, 'local git answers; the GitHub API is not needed').toEqual([]);
    },
  },
  {
    name: 'a shallow checkout: the PR files come from the API, read anonymously; still nothing is sent',
    pullRequestHead: 'head',
    token: null,
    checkout: { branch: 'fork-feature', shallow: true },
    secrets: false,
    event: () => ({ name: 'pull_request', payload: payload(head, 'fork-feature') }),
    env: () => ({ GITHUB_SHA: head, GITHUB_REF: `refs/pull/${PR}/merge` }),
    check: (run) => {
      expectPreview(run);
      expect(s.github.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`)).toEqual([`GET /repos/octo/widgets/pulls/${PR}/files`]);
      expect(s.github.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
    },
  },
  {
    name: 'an invalid file: exit 1 at file:line, the environment is never read into the post, nothing is sent',
    pullRequestHead: 'badHead',
    token: null,
    checkout: { branch: 'fork-bad' },
    secrets: false,
    event: () => ({ name: 'pull_request', payload: payload(badHead, 'fork-bad') }),
    env: () => ({ GITHUB_SHA: badHead, FORK_BAIT: BAIT }),
    check: (run) => {
      expect(run.code).toBe(1);
      const errors = run.annotations.filter((a) => a.level === 'error' && a.props.includes('file=posts/fork-bad.yml'));
      expect(errors.map((a) => a.props.match(/line=(\d+)/)?.[1])).toEqual(['1', '5']);
      expect(errors[0]!.message).toMatch(/\{\{ env\.FORK_BAIT \}\} is not allowed: templates read only the GitHub event/);
      expect(errors[1]!.message).toMatch(/'sheduledAt' is not a field; did you mean 'scheduledAt'\?/);
      expect(run.stdout + run.summary).not.toContain(BAIT);
      expect(publisherRequests()).toEqual([]);
      expect(s.github.requests).toEqual([]);
    },
  },
  {
    name: 'even with every secret given (a same-repository PR), a pull_request run publishes nothing',
    pullRequestHead: 'head',
    token: GITHUB_TOKEN,
    checkout: { branch: 'fork-feature' },
    secrets: true,
    inputs: { select: 'all' },
    event: () => ({ name: 'pull_request', payload: payload(head, 'fork-feature') }),
    env: () => ({ GITHUB_SHA: head }),
    check: (run) => {
      // select: all previews every post file: the fork's and the one already in the repository.
      expect(run.code, run.stdout).toBe(0);
      expect(results(run).every((r) => r.status === 'validated')).toBe(true);
      expect(results(run)).toHaveLength(4);
      expect(publisherRequests()).toEqual([]);
      expect(s.github.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    },
  },
];

/** A run on the base branch's commit, the pull request's head not being it. */
const onBase = () => ({ GITHUB_SHA: base, GITHUB_REF: 'refs/heads/main' });

const PULL_REQUEST_TARGET: Scenario[] = [
  {
    name: 'the default checkout (the base branch): the files are listed but not there; exit 1 with the fix, nothing sent',
    pullRequestHead: 'head',
    token: GITHUB_TOKEN,
    checkout: { branch: 'main', shallow: true },
    secrets: true,
    event: () => ({ name: 'pull_request_target', payload: payload(head, 'fork-feature') }),
    env: onBase,
    check: (run) => {
      expect(run.code).toBe(1);
      const error = run.annotations.find((a) => a.level === 'error' && a.props.includes('file=posts/fork-launch.yml'));
      expect(error?.message).toMatch(/pull_request_target checks out the base branch; to preview the PR's post files, check out its head/);
      expect(publisherRequests()).toEqual([]);
      expect(s.github.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    },
  },
  {
    name: "the PR's head checked out: validated and previewed, exit 0, nothing sent",
    pullRequestHead: 'head',
    token: GITHUB_TOKEN,
    checkout: { branch: 'fork-feature' },
    secrets: true,
    event: () => ({ name: 'pull_request_target', payload: payload(head, 'fork-feature') }),
    env: onBase,
    check: (run) => {
      expectPreview(run);
      expect(s.github.requests.filter((r) => r.method !== 'GET'), 'no ledger entry either').toEqual([]);
    },
  },
  {
    name: "select: all with the PR's head checked out: every file previewed, none published",
    pullRequestHead: 'head',
    token: GITHUB_TOKEN,
    checkout: { branch: 'fork-feature' },
    secrets: true,
    inputs: { select: 'all', 'dry-run': 'false' },
    event: () => ({ name: 'pull_request_target', payload: payload(head, 'fork-feature') }),
    env: onBase,
    check: (run) => {
      expect(run.code, run.stdout).toBe(0);
      expect(run.summary).toContain('letmepost: preview (posts are published when merged)');
      expect(results(run)).toHaveLength(4);
      expect(results(run).every((r) => r.status === 'validated')).toBe(true);
      expect(publisherRequests()).toEqual([]);
      expect(s.github.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    },
  },
  {
    name: 'control: the same files, secrets and servers on a push do publish (so the runs above could have)',
    pullRequestHead: 'head',
    token: GITHUB_TOKEN,
    routes: (gh) => {
      gh.route('GET', /^\/repos\/octo\/widgets\/commits\/[0-9a-f]{40}\/status$/, () => ({ status: 200, body: { statuses: [] } }));
      gh.route('POST', /^\/repos\/octo\/widgets\/statuses\/[0-9a-f]{40}$/, () => ({ status: 201, body: {} }));
    },
    checkout: { branch: 'fork-feature' },
    secrets: true,
    event: () => repositoryEvent('push', { ref: 'refs/heads/fork-feature', before: base, after: head }),
    env: () => ({ GITHUB_SHA: head, GITHUB_REF: 'refs/heads/fork-feature' }),
    check: (run) => {
      // The Bluesky stand-in refuses the login, so the step fails; letmepost and Mastodon post.
      expect(run.code).toBe(1);
      expect(s.letmepost.posts).toHaveLength(1);
      expect(s.mastodon.statuses).toHaveLength(1);
      expect(s.bluesky.requests.length).toBeGreaterThan(0);
    },
  },
  ...(
    [
      ['workflow_run', { workflow_run: { head_sha: 'x' } }],
      ['issue_comment', { issue: { number: 7, pull_request: {} }, comment: { body: '/post' } }],
    ] as const
  ).map(([event, extra]): Scenario => ({
    name: `${event} with the fork head checked out: refused, nothing published, whatever the secrets`,
    pullRequestHead: 'head',
    token: GITHUB_TOKEN,
    checkout: { branch: 'fork-feature' },
    secrets: true,
    inputs: { select: 'all', ledger: 'off' },
    event: () => repositoryEvent(event, extra),
    env: onBase,
    check: (run) => {
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/is not the commit this run is for .*never posted/);
      expect(publisherRequests()).toEqual([]);
    },
  })),
  /** What reaches the worktree besides the run's commit, and must never be published. */
  ...(
    [
      ['an untracked post file in posts/', (dir) => writeFileSync(join(dir, 'posts', 'fork-launch.yml'), FORK_POST), {}, undefined],
      ['a fork checked out into a subfolder', (dir) => {
        mkdirSync(join(dir, 'pr', 'posts'), { recursive: true });
        writeFileSync(join(dir, 'pr', 'posts', 'fork-launch.yml'), FORK_POST);
      }, { files: '**/posts/*.yml' }, undefined],
      ['a committed post file edited in the worktree', (dir) => writeFileSync(join(dir, 'posts', 'shipped.yml'), FORK_POST.replace('id: fork-launch', 'id: shipped')), {}, undefined],
      ['no git at all (a copy of the files, no .git)', (dir) => {
        rmSync(join(dir, '.git'), { recursive: true, force: true });
        writeFileSync(join(dir, 'posts', 'fork-launch.yml'), FORK_POST);
      }, {}, /post files are published as committed in the run's own commit .*never from the worktree.*actions\/checkout/],
    ] satisfies Array<[string, (dir: string) => void, Record<string, string>, RegExp | undefined]>
  ).map(([what, tamper, inputs, refusal]): Scenario => ({
    name: `workflow_run with select: all and ${what}: only what the run's commit holds is published`,
    pullRequestHead: 'base',
    token: GITHUB_TOKEN,
    checkout: { branch: 'main' },
    tamper,
    secrets: true,
    inputs: { 'bluesky-identifier': '', 'bluesky-app-password': '', select: 'all', ...inputs },
    event: () => repositoryEvent('workflow_run', { workflow_run: { head_sha: head } }),
    env: onBase,
    check: (run) => {
      const posted = [...s.letmepost.posts.map((p) => p.text), ...s.mastodon.statuses.map((st) => st.text)];
      expect(posted.filter((t) => t.includes('1.3')), run.stdout).toEqual([]);
      if (refusal) {
        expect(run.code).toBe(1);
        expect(run.stdout).toMatch(refusal);
        expect(publisherRequests()).toEqual([]);
      } else {
        expect(run.code, run.stdout).toBe(0);
        expect(s.letmepost.posts.map((p) => p.text)).toEqual(['Widgets 1.2 is out']);
      }
    },
  })),
  {
    name: 'pull_request_review is a pull request event: previewed, never published',
    pullRequestHead: 'head',
    token: GITHUB_TOKEN,
    checkout: { branch: 'fork-feature' },
    secrets: true,
    inputs: { select: 'all' },
    event: () => ({ name: 'pull_request_review', payload: payload(head, 'fork-feature') }),
    env: () => ({ GITHUB_SHA: head, GITHUB_REF: 'refs/pull/7/merge' }),
    check: (run) => {
      expect(run.code, run.stdout).toBe(0);
      expect(results(run).every((r) => r.status === 'validated')).toBe(true);
      expect(publisherRequests()).toEqual([]);
    },
  },
];

/** Table rows titled by their names, in full (`$name` would quote and shorten them). */
const titled = (scenarios: Scenario[]) => scenarios.map((scenario) => [scenario.name, scenario] as const);

describe('pull_request from a fork: no secrets, validation and preview only', () => {
  it.each(titled(PULL_REQUEST))('%s', async (_, scenario) => scenario.check(await checkoutAndRun(scenario)));
});

describe('pull_request_target: files from the PR head are never published, even with the secrets at hand', () => {
  it.each(titled(PULL_REQUEST_TARGET))('%s', async (_, scenario) => scenario.check(await checkoutAndRun(scenario)));
});
