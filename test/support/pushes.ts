/**
 * Two pushes to the default branch, the way the life cycle of a post file plays out: the
 * first adds `posts/launch.yml`, the second deletes or edits it; each push runs the bundle on
 * its own commit range, as a `push` workflow would.
 */
import { runAction, type ActionRun } from './action.js';
import type { FakeGitHub } from './fake-github.js';
import type { TempRepo } from './git-repo.js';
import { GITHUB_TOKEN, githubEnv, pullRequestEvent, pushEvent, type fixtures } from './scenario.js';

export interface TwoPushes {
  repo: TempRepo;
  gh: FakeGitHub;
  base: string;
  /** The commit that added `posts/launch.yml`. */
  added: string;
  /** The commit that deleted or edited it. */
  second: string;
}

type Fixtures = Pick<ReturnType<typeof fixtures>, 'repository' | 'github'>;

async function twoPushes(fx: Fixtures, file: string, second: (repo: TempRepo) => string): Promise<TwoPushes> {
  const repo = fx.repository();
  const gh = await fx.github(repo);
  const base = repo.commitFiles('start', { 'README.md': '# widgets\n' });
  const added = repo.commitFiles('a launch post', { 'posts/launch.yml': file });
  return { repo, gh, base, added, second: second(repo) };
}

/** A repository whose first push adds `posts/launch.yml` and whose second deletes it (as a revert would). */
export function deleting(fx: Fixtures, file: string): Promise<TwoPushes> {
  return twoPushes(fx, file, (repo) => {
    repo.remove('posts/launch.yml');
    return repo.commit('Revert "a launch post"');
  });
}

/** A repository whose first push adds `posts/launch.yml` and whose second replaces it with `edited`. */
export function editing(fx: Fixtures, file: string, edited: string): Promise<TwoPushes> {
  return twoPushes(fx, file, (repo) => repo.commitFiles('edit the launch post', { 'posts/launch.yml': edited }));
}

/** Runs the action for the push `before..after` (attempt > 1: a re-run), checked out in `workspace`. */
export function pushTo(s: TwoPushes, before: string, after: string, inputs: Record<string, string>, attempt = 1, workspace = s.repo): Promise<ActionRun> {
  if (workspace === s.repo) s.repo.git('checkout', '-q', after);
  return runAction({
    workspace: workspace.dir,
    event: pushEvent(s.repo, before, after),
    inputs: { files: 'posts/**/*.yml', 'github-token': GITHUB_TOKEN, ...inputs },
    env: githubEnv(s.gh, after, 'refs/heads/main', { GITHUB_RUN_ATTEMPT: String(attempt) }),
  });
}

/** The preview of a pull request `base..head` (by a maintainer), as a `pull_request` run on it shows it: sends nothing. */
export function previewPullRequest(s: { repo: TempRepo; gh: FakeGitHub }, base: string, head: string, pr: { number: number; title: string }): Promise<ActionRun> {
  s.repo.git('checkout', '-q', head);
  return runAction({
    workspace: s.repo.dir,
    event: pullRequestEvent(base, head, { ...pr, author: 'maintainer' }),
    inputs: { files: 'posts/**/*.yml', 'github-token': GITHUB_TOKEN },
    env: githubEnv(s.gh, head, `refs/pull/${pr.number}/merge`, { GITHUB_EVENT_NAME: 'pull_request' }),
  });
}
