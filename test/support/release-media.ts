/**
 * The stage the release-media suites share: a repository, the fake GitHub (API and web host),
 * an account on the run's real PDS, and `announce`, which runs the bundle on a release event
 * posting to that account with the given `media`.
 */
import { runAction, type ActionRun } from './action.js';
import type { FakeGitHub } from './fake-github.js';
import { sharedPds, type SharedPds, type TestAccount } from './shared-pds.js';
import { GITHUB_TOKEN, githubEnv, type Event, type fixtures } from './scenario.js';


export interface ReleaseStage {
  pds: SharedPds;
  alice: TestAccount;
  gh: FakeGitHub;
  announce(event: Event, media: string, job: string, text?: string): Promise<ActionRun>;
}

export async function releaseStage(fx: Pick<ReturnType<typeof fixtures>, 'repository' | 'github'>, account: string): Promise<ReleaseStage> {
  const pds = await sharedPds();
  const alice = await pds.createAccount(account);
  const repo = fx.repository();
  const sha = repo.commitFiles('release', { 'README.md': '# widgets\n' });
  const gh = await fx.github(repo);
  const announce = (event: Event, media: string, job: string, text = 'widgets {{ release.tag_name }} is out') =>
    runAction({
      workspace: repo.dir,
      event,
      inputs: { text, platform: 'bluesky', 'bluesky-identifier': alice.handle, 'bluesky-app-password': alice.appPassword, 'bluesky-service': pds.url, 'github-token': GITHUB_TOKEN, media },
      env: githubEnv(gh, sha, 'refs/tags/v1.0.0', { GITHUB_JOB: job, GITHUB_SERVER_URL: gh.url }),
    });
  return { pds, alice, gh, announce };
}
