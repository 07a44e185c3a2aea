/**
 * Secret hygiene (issue 5, item 5): with step debug on (RUNNER_DEBUG=1), failing and
 * succeeding runs of the committed bundle for every publisher — letmepost and Mastodon fakes
 * that echo request headers in their error bodies, the run's real Bluesky PDS behind a recording
 * proxy that captures the session JWTs it hands out (and, in some runs, echoes the caller's
 * Authorization header or password back), and a GitHub API that echoes the token — must
 * never show a token, app password or session JWT in stdout, stderr, the outputs, the job
 * summary or an annotation. The runner's own `::add-mask::` commands are the one place a
 * secret may appear (that is how the runner learns to mask it), so those lines are removed
 * first — and each run must have emitted them, for every secret it held.
 *
 * Every echo run also proves that the echo reached the log, scrubbed as `***`: a run that
 * never carried the secret to its output would prove nothing.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCommand, runAction, type ActionRun } from '../support/action.js';
import { FakeGitHub } from '../support/fake-github.js';
import { DEFAULT_ACCOUNTS, startFakeLetmepost } from '../support/fake-letmepost.js';
import { startFakeMastodon } from '../support/fake-mastodon.js';
import { createRepo } from '../support/git-repo.js';
import { sharedPds, type SharedPds, type TestAccount } from '../support/shared-pds.js';
import { forward, startRecorder, type Recorder, type RecordedHttpRequest } from '../support/recorder.js';

const DEBUG = { RUNNER_DEBUG: '1' };
const BLUESKY_ACCOUNT = DEFAULT_ACCOUNTS.find((a) => a.platform === 'bluesky')!.id;
const LMP_TOKEN = 'lmp_live_SECRET_right_7c1f04be9a';
const LMP_WRONG = 'lmp_live_SECRET_wrong_52d9e8aa01';
const MASTODON_TOKEN = 'masto_SECRET_right_Zq81kLm0Pn';
const MASTODON_WRONG = 'masto_SECRET_wrong_Rt55vBn2Qx';
const GITHUB_TOKEN = 'ghs_SECRET_github_8Hk2LmQ9wX0pZ';
const BLUESKY_WRONG = 'wrng-SECR-ETpw-0042';
const JWT = /eyJ[A-Za-z0-9_-]{8,}/;

const cleanup: string[] = [];
afterAll(() => {
  for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
});

/** A checkout with one commit (the Bluesky publisher anchors record keys on its time). */
function checkout(): { dir: string; sha: string } {
  const repo = createRepo();
  cleanup.push(repo.dir);
  repo.write('README.md', '# widgets\n');
  return { dir: repo.dir, sha: repo.commit('release') };
}

/** Everything a workflow or a person could read after the step, the runner's masks removed. */
function visible(run: ActionRun): string {
  const stdout = run.stdout.replace(/^::add-mask::.*$/gm, '');
  return [stdout, decodeCommand(stdout), run.stderr, JSON.stringify(run.outputs), Object.values(run.outputs).join('\n'), run.summary, ...run.annotations.map((a) => `${decodeCommand(a.props)} ${decodeCommand(a.message)}`)].join('\n');
}

/**
 * No secret in any form a message could carry it (as is, JSON-escaped, URL-encoded); no JWT
 * at all; and every secret the step held was handed to the runner to mask.
 */
function expectNoSecrets(run: ActionRun, opts: { secrets: string[]; masked: string[] }): void {
  const text = visible(run);
  for (const secret of opts.secrets) {
    for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)])) {
      expect(text.includes(form), `a secret (${secret.slice(0, 6)}…) is visible in the step's output`).toBe(false);
    }
  }
  expect(text.match(JWT)?.[0], 'a JWT is visible in the step output').toBeUndefined();
  for (const secret of opts.masked) expect(run.stdout.split('\n'), `the runner was not asked to mask ${secret.slice(0, 6)}…`).toContain(`::add-mask::${secret}`);
}

describe('letmepost: tokens stay hidden even when the server echoes them', () => {
  async function run(inputs: Record<string, string>, echo = true) {
    const srv = await startFakeLetmepost({ token: LMP_TOKEN, echoHeadersInErrors: echo });
    const ws = checkout();
    try {
      const result = await runAction({
        workspace: ws.dir,
        inputs: { text: 'widgets v1.2.0 is out', platform: 'bluesky', 'account-id': BLUESKY_ACCOUNT, 'letmepost-token': LMP_TOKEN, 'letmepost-api-url': srv.url, ledger: 'off', ...inputs },
        env: { ...DEBUG, GITHUB_SHA: ws.sha },
      });
      return { result, requests: srv.requests };
    } finally {
      await srv.close();
    }
  }

  it('a wrong token: 401 with the headers echoed, exit 1, the token shown only as ***', async () => {
    const { result, requests } = await run({ 'letmepost-token': LMP_WRONG });
    expect(result.code).toBe(1);
    expect(requests[0]!.headers.authorization).toBe(`Bearer ${LMP_WRONG}`);
    expect(visible(result)).toMatch(/401 unauthenticated[^\n]*request headers[^\n]*Bearer \*\*\*/);
    expectNoSecrets(result, { secrets: [LMP_WRONG, LMP_TOKEN], masked: [LMP_WRONG] });
  });

  it('the right token and an error (unknown account) that echoes it: exit 1, nothing visible', async () => {
    const { result } = await run({ 'account-id': '00000000-0000-4000-8000-000000000000' });
    expect(result.code).toBe(1);
    expect(visible(result)).toMatch(/404 not_found[^\n]*request headers[^\n]*Bearer \*\*\*/);
    expectNoSecrets(result, { secrets: [LMP_TOKEN], masked: [LMP_TOKEN] });
  });

  it('the right token and a published post: exit 0, nothing visible', async () => {
    const { result } = await run({});
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs.status).toBe('published');
    expectNoSecrets(result, { secrets: [LMP_TOKEN], masked: [LMP_TOKEN] });
  });

  it('a dry run shows the request with the token redacted', async () => {
    const { result, requests } = await run({ 'dry-run': 'true' });
    expect(result.code, result.stdout).toBe(0);
    expect(requests).toEqual([]);
    expect(result.summary).toContain('Bearer ***');
    expectNoSecrets(result, { secrets: [LMP_TOKEN], masked: [LMP_TOKEN] });
  });
});

describe('Mastodon: tokens stay hidden even when the server echoes them', () => {
  async function run(inputs: Record<string, string>, setup: (srv: Awaited<ReturnType<typeof startFakeMastodon>>) => void = () => {}) {
    const srv = await startFakeMastodon({ token: MASTODON_TOKEN, echoHeadersInErrors: true });
    setup(srv);
    try {
      const result = await runAction({
        workspace: checkout().dir,
        inputs: { text: 'widgets v1.2.0 is out', platform: 'mastodon', 'mastodon-server': srv.url, 'mastodon-token': MASTODON_TOKEN, ledger: 'off', ...inputs },
        env: DEBUG,
      });
      return { result, srv };
    } finally {
      await srv.close();
    }
  }

  it('a wrong token: 401 with the headers echoed, exit 1, the token shown only as ***', async () => {
    const { result, srv } = await run({ 'mastodon-token': MASTODON_WRONG });
    expect(result.code).toBe(1);
    expect(srv.requests.some((r) => r.headers.authorization === `Bearer ${MASTODON_WRONG}`)).toBe(true);
    expect(visible(result)).toMatch(/request headers[^\n]*Bearer \*\*\*/);
    expectNoSecrets(result, { secrets: [MASTODON_WRONG, MASTODON_TOKEN], masked: [MASTODON_WRONG] });
  });

  it('the right token and a refused status (422) that echoes it: exit 1, nothing visible', async () => {
    const { result } = await run({}, (srv) => srv.inject('statuses', { kind: 'http', status: 422, error: 'Validation failed: Text is spam' }));
    expect(result.code).toBe(1);
    expect(visible(result)).toMatch(/Validation failed: Text is spam[^\n]*request headers[^\n]*Bearer \*\*\*/);
    expectNoSecrets(result, { secrets: [MASTODON_TOKEN], masked: [MASTODON_TOKEN] });
  });

  it('the right token and a published status: exit 0, nothing visible', async () => {
    const { result, srv } = await run({});
    expect(result.code, result.stdout).toBe(0);
    expect(srv.statuses).toHaveLength(1);
    expectNoSecrets(result, { secrets: [MASTODON_TOKEN], masked: [MASTODON_TOKEN] });
  });
});

describe('Bluesky on a real PDS: the app password and the session JWTs stay hidden', () => {
  let pds: SharedPds;
  let alice: TestAccount;
  let ws: { dir: string; sha: string };

  beforeAll(async () => {
    pds = await sharedPds();
    alice = await pds.createAccount('alice');
    ws = checkout();
  });

  /**
   * Every JWT the PDS handed out through the proxy (login and refresh answers), in order and
   * with repeats: two logins in the same second can be handed the very same access token.
   */
  const issued: string[] = [];

  /**
   * A proxy in front of the PDS. It keeps every session JWT it passes on, and drops the DID
   * document from session answers so that the client keeps talking through the proxy rather
   * than to the PDS URL in it. `echo` answers a request itself, echoing what the client sent.
   */
  async function proxy(echo: (req: RecordedHttpRequest) => { status: number; body: string } | undefined = () => undefined): Promise<Recorder> {
    const recorder = await startRecorder(async (req) => {
      const echoed = echo(req);
      if (echoed) return echoed;
      const res = await forward(pds.url, req);
      if (/^\/xrpc\/com\.atproto\.server\.(createSession|refreshSession)/.test(req.path) && res.status === 200) {
        const session = JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
        for (const key of ['accessJwt', 'refreshJwt']) if (typeof session[key] === 'string') issued.push(session[key]);
        delete session.didDoc;
        return { status: 200, headers: { ...res.headers, 'content-type': 'application/json' }, body: JSON.stringify(session) };
      }
      return res;
    });
    return recorder;
  }

  async function run(service: string, inputs: Record<string, string>, job: string): Promise<ActionRun> {
    return runAction({
      workspace: ws.dir,
      inputs: {
        text: 'widgets 1.2 is out https://example.com/changelog',
        platform: 'bluesky',
        'bluesky-identifier': alice.handle,
        'bluesky-app-password': alice.appPassword,
        'bluesky-service': service,
        'link-card': 'false',
        ledger: 'off',
        ...inputs,
      },
      env: { ...DEBUG, GITHUB_SHA: ws.sha, GITHUB_JOB: job },
    });
  }

  it('a published post: exit 0; neither the app password nor the session JWTs are visible', async () => {
    const before = issued.length;
    const px = await proxy();
    try {
      const result = await run(px.url, { 'first-comment': 'Changelog and upgrade notes inside' }, 'publish');
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.outputs.status).toBe('published');
      const jwts = [...new Set(issued.slice(before))];
      expect(jwts.length, 'the proxy saw the login').toBeGreaterThanOrEqual(2);
      // Every write went through the proxy with the session's token.
      const writes = px.requests.filter((r) => r.path.startsWith('/xrpc/com.atproto.repo.putRecord'));
      expect(writes, 'the post and its first comment').toHaveLength(2);
      expect(writes.every((r) => jwts.some((j) => r.headers.authorization === `Bearer ${j}`))).toBe(true);
      // The JWTs' payload and signature parts are secret on their own too.
      const parts = jwts.flatMap((j) => j.split('.').slice(1)).filter((p) => p.length >= 16);
      expectNoSecrets(result, { secrets: [alice.appPassword, ...jwts, ...parts], masked: [alice.appPassword, ...jwts] });
    } finally {
      await px.close();
    }
  });

  it('a write refused with the Authorization header echoed: exit 1; the JWT is visible only as ***', async () => {
    const before = issued.length;
    const px = await proxy((req) =>
      req.path.startsWith('/xrpc/com.atproto.repo.putRecord')
        ? { status: 400, body: JSON.stringify({ error: 'InvalidRequest', message: `Record rejected (request headers: ${JSON.stringify(req.headers)})` }) }
        : undefined,
    );
    try {
      const result = await run(px.url, {}, 'refused-write');
      expect(result.code).toBe(1);
      const jwts = [...new Set(issued.slice(before))];
      expect(jwts.length).toBeGreaterThanOrEqual(2);
      expect(visible(result)).toMatch(/Record rejected[^\n]*Bearer \*\*\*/);
      expectNoSecrets(result, { secrets: [alice.appPassword, ...jwts], masked: [alice.appPassword, ...jwts] });
    } finally {
      await px.close();
    }
  });

  it('a login refused with the request (and its password) echoed back: exit 1; the password is visible only as ***', async () => {
    const px = await proxy((req) => {
      if (!req.path.startsWith('/xrpc/com.atproto.server.createSession')) return undefined;
      return { status: 400, body: JSON.stringify({ error: 'InvalidRequest', message: `Login rejected (request: ${req.body.toString('utf8')})` }) };
    });
    try {
      const result = await run(px.url, { 'bluesky-app-password': BLUESKY_WRONG }, 'badpass');
      expect(result.code).toBe(1);
      expect(px.requests.some((r) => r.body.toString('utf8').includes(BLUESKY_WRONG))).toBe(true);
      expect(visible(result)).toMatch(/Login rejected[^\n]*"password":"\*\*\*"/);
      expectNoSecrets(result, { secrets: [BLUESKY_WRONG, alice.appPassword], masked: [BLUESKY_WRONG] });
    } finally {
      await px.close();
    }
  });

  it('a wrong app password against the PDS itself: exit 1, nothing visible', async () => {
    const result = await run(pds.url, { 'bluesky-app-password': BLUESKY_WRONG }, 'badpass-direct');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/bluesky-app-password/);
    expectNoSecrets(result, { secrets: [BLUESKY_WRONG, alice.appPassword], masked: [BLUESKY_WRONG] });
  });
});

describe('github-token: hidden when the GitHub API echoes it', () => {
  let github: FakeGitHub;
  let letmepost: Awaited<ReturnType<typeof startFakeLetmepost>>;
  let origin: ReturnType<typeof createRepo>;
  /** Whether the statuses endpoints answer 403 with the Authorization header in the message. */
  let refuse = false;
  const statuses: Array<{ sha: string; body: string }> = [];

  beforeAll(async () => {
    origin = createRepo();
    cleanup.push(origin.dir);
    origin.write('README.md', '# widgets\n');
    origin.commit('base');
    github = await new FakeGitHub({ repoDir: origin.dir, repository: 'octo/widgets', token: GITHUB_TOKEN }).start();
    const echo = (auth: string | undefined) => ({ status: 403, body: { message: `Resource not accessible by integration: ${auth ?? ''}`, documentation_url: 'https://docs.github.com/rest' } });
    github.route('GET', /^\/repos\/octo\/widgets\/commits\/([0-9a-f]{40})\/status$/, (req) => (refuse ? echo(req.headers.authorization) : { status: 200, body: { state: 'pending', statuses: [] } }));
    github.route('POST', /^\/repos\/octo\/widgets\/statuses\/([0-9a-f]{40})$/, (req, m) => {
      if (refuse) return echo(req.headers.authorization);
      statuses.push({ sha: m[1]!, body: req.body });
      return { status: 201, body: { state: 'success' } };
    });
    letmepost = await startFakeLetmepost({ token: LMP_TOKEN, echoHeadersInErrors: true });
  });
  afterAll(async () => {
    await github?.stop();
    await letmepost?.close();
  });

  function post(job: string): Promise<ActionRun> {
    const ws = checkout();
    return runAction({
      workspace: ws.dir,
      inputs: { text: 'widgets v1.2.0 is out', platform: 'bluesky', 'account-id': BLUESKY_ACCOUNT, 'letmepost-token': LMP_TOKEN, 'letmepost-api-url': letmepost.url, 'github-token': GITHUB_TOKEN },
      env: { ...DEBUG, GITHUB_SHA: ws.sha, GITHUB_API_URL: github.url, GITHUB_JOB: job },
    });
  }

  it('the ledger reads and records commit statuses: exit 0, the token is not visible', async () => {
    refuse = false;
    github.reset();
    const result = await post('ledger-ok');
    expect(result.code, result.stdout).toBe(0);
    // The ledger's read, the intent before the post, the post after it.
    expect(github.requests.map((r) => r.method)).toEqual(['GET', 'POST', 'POST']);
    expect(statuses).toHaveLength(2);
    expectNoSecrets(result, { secrets: [GITHUB_TOKEN, LMP_TOKEN], masked: [GITHUB_TOKEN, LMP_TOKEN] });
  });

  it('the ledger is refused with the token echoed: the post goes out, the warnings show ***', async () => {
    refuse = true;
    github.reset();
    const result = await post('ledger-refused');
    expect(result.code, result.stdout).toBe(0);
    expect(github.requests.length).toBeGreaterThanOrEqual(1);
    expect(result.annotations.some((a) => a.level === 'warning' && /Resource not accessible by integration: Bearer \*\*\*/.test(decodeCommand(a.message)))).toBe(true);
    expectNoSecrets(result, { secrets: [GITHUB_TOKEN, LMP_TOKEN], masked: [GITHUB_TOKEN, LMP_TOKEN] });
  });

  it('post files on a shallow push: the compare API refuses with the token echoed; exit 1, *** only', async () => {
    const before = origin.head();
    origin.write('posts/launch.yml', `text: Launch day\ntargets:\n  - platform: bluesky\n    account: ${BLUESKY_ACCOUNT}\n`);
    const after = origin.commit('add a post');
    const shallow = origin.shallowClone(1);
    cleanup.push(shallow.dir);
    github.reset();
    github.failNext(/\/compare\//, { status: 404, body: { message: `Not Found for ${'Bearer ' + GITHUB_TOKEN}` } });
    const result = await runAction({
      workspace: shallow.dir,
      inputs: { 'letmepost-token': LMP_TOKEN, 'letmepost-api-url': letmepost.url, 'github-token': GITHUB_TOKEN },
      event: { name: 'push', payload: { ref: 'refs/heads/main', before, after, repository: { full_name: 'octo/widgets', default_branch: 'main' } } },
      env: { ...DEBUG, GITHUB_SHA: after, GITHUB_REF: 'refs/heads/main', GITHUB_API_URL: github.url },
    });
    expect(result.code).toBe(1);
    expect(github.requestsTo(/\/compare\//)).toHaveLength(1);
    expect(github.requestsTo(/\/compare\//)[0]!.headers.authorization).toBe(`Bearer ${GITHUB_TOKEN}`);
    expect(result.annotations.some((a) => /title=Invalid input 'github-token'/.test(a.props) && /Bearer \*\*\*/.test(decodeCommand(a.message)))).toBe(true);
    expectNoSecrets(result, { secrets: [GITHUB_TOKEN, LMP_TOKEN], masked: [GITHUB_TOKEN, LMP_TOKEN] });
  });
});
