/**
 * Building blocks for end-to-end scenarios that run the bundle in a temporary git repository:
 * GitHub event payloads as the runner writes them, the runner environment that points the
 * action at a fake GitHub, post files that target letmepost accounts, and per-file fixtures.
 */
export { log, results, type ResultEntry } from './action.js';
import { DEFAULT_ACCOUNTS, startFakeLetmepost, type FakeLetmepost, type RecordedRequest } from './fake-letmepost.js';
import { FakeGitHub } from './fake-github.js';
import { createRepo, type TempRepo } from './git-repo.js';

export const LETMEPOST_TOKEN = 'lmp_test_secret_token';
export const GITHUB_TOKEN = 'ghs_fake_token';
export const REPOSITORY = 'octo/posts';
export const ACCOUNT = {
  bluesky: DEFAULT_ACCOUNTS.find((a) => a.platform === 'bluesky')!.id,
  twitter: DEFAULT_ACCOUNTS.find((a) => a.platform === 'twitter')!.id,
  linkedin: DEFAULT_ACCOUNTS.find((a) => a.platform === 'linkedin')!.id,
} as const;

/** `repository` as every event payload carries it. */
export const repositoryPayload = {
  id: 4242,
  name: 'posts',
  full_name: REPOSITORY,
  owner: { login: 'octo' },
  html_url: `https://github.com/${REPOSITORY}`,
  default_branch: 'main',
};

export interface Event {
  name: string;
  payload: Record<string, unknown>;
}

/** A `push` of `before..after` to `ref`, with the head commit as GitHub describes it. */
export function pushEvent(repo: TempRepo, before: string, after: string, ref = 'refs/heads/main'): Event {
  return {
    name: 'push',
    payload: {
      ref,
      before,
      after,
      created: /^0+$/.test(before),
      deleted: false,
      forced: false,
      head_commit: {
        id: after,
        message: repo.git('log', '-1', '--format=%s', after),
        timestamp: new Date(repo.timeOf(after)).toISOString(),
        author: { name: 'Test Author', email: 'author@example.com', username: 'author' },
      },
      repository: repositoryPayload,
      sender: { login: 'author' },
    },
  };
}

/** A `pull_request` event for base...head of the repository. */
export function pullRequestEvent(base: string, head: string, pr: { number: number; title: string; author: string; action?: string; merged?: boolean }): Event {
  return {
    name: 'pull_request',
    payload: {
      action: pr.action ?? 'synchronize',
      number: pr.number,
      pull_request: {
        number: pr.number,
        title: pr.title,
        html_url: `https://github.com/${REPOSITORY}/pull/${pr.number}`,
        user: { login: pr.author },
        state: pr.merged ? 'closed' : 'open',
        merged: pr.merged ?? false,
        base: { ref: 'main', sha: base },
        head: { ref: 'feature', sha: head },
      },
      repository: repositoryPayload,
      sender: { login: pr.author },
    },
  };
}

/** A published `release` event; `release` adds or overrides fields of the release (its body, its assets). */
export function releaseEvent(tag: string, name: string, release: Record<string, unknown> = {}): Event {
  return {
    name: 'release',
    payload: {
      action: 'published',
      release: { tag_name: tag, name, html_url: `https://github.com/${REPOSITORY}/releases/tag/${tag}`, prerelease: false, draft: false, ...release },
      repository: repositoryPayload,
      sender: { login: 'maintainer' },
    },
  };
}

/** The runner variables of a run on commit `sha`, with the GitHub API at `github`. */
export function githubEnv(github: FakeGitHub | undefined, sha: string, ref = 'refs/heads/main', extra: Record<string, string> = {}): Record<string, string> {
  return {
    GITHUB_REPOSITORY: REPOSITORY,
    GITHUB_SHA: sha,
    GITHUB_REF: ref,
    GITHUB_WORKFLOW: 'Posts',
    GITHUB_WORKFLOW_REF: `${REPOSITORY}/.github/workflows/posts.yml@${ref}`,
    GITHUB_JOB: 'posts',
    ...(github ? { GITHUB_API_URL: github.url } : { GITHUB_API_URL: 'http://127.0.0.1:9' }),
    ...extra,
  };
}

/** A post file for letmepost accounts (one target per platform given). */
export function letmepostPost(text: string, platforms: ReadonlyArray<keyof typeof ACCOUNT> = ['bluesky'], extra = ''): string {
  const targets = platforms.map((p) => `  - platform: ${p}\n    account: ${ACCOUNT[p]}\n`).join('');
  return `text: ${JSON.stringify(text)}\ntargets:\n${targets}${extra}`;
}

/** POST /v1/posts requests the fake letmepost received. */
export function postRequests(server: FakeLetmepost): RecordedRequest[] {
  return server.requests.filter((r) => r.method === 'POST' && r.path === '/v1/posts');
}

/** The post text of a recorded POST /v1/posts body (either request shape). */
export function postedText(request: RecordedRequest): string {
  const body = JSON.parse(request.body.toString('utf8')) as { text?: string; content?: { text?: string } };
  return body.text ?? body.content?.text ?? '';
}

/**
 * Servers and repositories made for a test file and cleaned up after it (not after each
 * test: some groups run their tests concurrently). Call `cleanup` in the file's afterAll.
 */
export function fixtures() {
  const cleanups: Array<() => unknown> = [];
  return {
    async letmepost(): Promise<FakeLetmepost> {
      const server = await startFakeLetmepost({ token: LETMEPOST_TOKEN });
      cleanups.push(() => server.close());
      return server;
    },
    repository(): TempRepo {
      const repo = createRepo();
      cleanups.push(() => repo.cleanup());
      return repo;
    },
    async github(repo: TempRepo): Promise<FakeGitHub> {
      const gh = await new FakeGitHub({ repoDir: repo.dir, repository: REPOSITORY, token: GITHUB_TOKEN }).start();
      cleanups.push(() => gh.stop());
      return gh;
    },
    /** Runs `fn` at cleanup time too (e.g. to delete a clone made by the test). */
    defer(fn: () => unknown): void {
      cleanups.push(fn);
    },
    async cleanup(): Promise<void> {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    },
  };
}
