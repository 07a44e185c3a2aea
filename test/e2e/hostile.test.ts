/**
 * Hostile input never acts, secrets never show: the committed bundle on Node 24, its output
 * read by a model of the runner's command parser (support/runner-log.ts: lines end at \r too,
 * `::cmd::` after leading spaces, `##[cmd]` anywhere, stop-commands suspending add-mask).
 * Hostile file names, PR titles, page titles and server answers; redirects; a hanging GitHub;
 * endless answers; encoded secrets.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { log, runAction, type ActionRun } from '../support/action.js';
import { DEFAULT_ACCOUNTS, startFakeLetmepost } from '../support/fake-letmepost.js';
import { FakeGitHub } from '../support/fake-github.js';
import { startFakeMastodon } from '../support/fake-mastodon.js';
import { startOnLoopback, type LoopbackServer } from '../support/http-fake.js';
import { startRecorder, type Recorder } from '../support/recorder.js';
import { fixtures } from '../support/scenario.js';
import { sharedPds, type SharedPds, type TestAccount } from '../support/shared-pds.js';
import { maskedLog, parseRunnerLog, unexpectedCommands, type RunnerCommand } from '../support/runner-log.js';

const LMP_TOKEN = 'lmp_test_secret_token';
const BLUESKY = DEFAULT_ACCOUNTS.find((a) => a.platform === 'bluesky')!.id;
const REPOSITORY = 'octo/widgets';

const { repository, defer, cleanup } = fixtures();
afterAll(cleanup);
async function recorder(respond?: Parameters<typeof startRecorder>[0]): Promise<Recorder> {
  const r = await startRecorder(respond);
  defer(() => r.close());
  return r;
}
/** A server of the test's own on 127.0.0.1, closed (its connections too) after the file. */
async function serve(handler: http.RequestListener): Promise<LoopbackServer> {
  const server = await startOnLoopback(http.createServer(handler));
  defer(() => server.close());
  return server;
}

/** The commands the action itself writes; a hostile text must not add any other, nor a forged title. */
const OWN = new Set(['add-mask', 'debug', 'warning', 'error', 'notice', 'group', 'endgroup']);
function forged(run: ActionRun): RunnerCommand[] {
  return unexpectedCommands({ stdout: run.stdout, stderr: run.stderr }, (c) => OWN.has(c.name) && !/FORGED|evil/.test(JSON.stringify(c.props)) && !(c.name === 'add-mask' && /evil/.test(c.message)));
}
/** Every line the runner would show, as the raw stream splits them. */
function expectInert(run: ActionRun): void {
  expect(forged(run), log(run)).toEqual([]);
  const parsed = parseRunnerLog(run.stdout);
  expect(parsed.outputs, 'no output set through the log').toEqual({});
  expect(parsed.stepFailed && parsed.abortedAtLine !== undefined, 'the runner never stops reading').toBe(false);
}

/** Hostile text, in every form the runner reacts to. */
const HOSTILE = 'a ##[set-output name=uri]evil \r::add-mask::evil\n   ::error title=FORGED::x ##[stop-commands]tok';

describe('hostile text reaches the log, annotations and summary inert', () => {
  it('a fork PR adding a post file named with ##[…] and a hostile title: previewed, nothing acts, the summary shows text', async () => {
    const repo = repository();
    const base = repo.commitFiles('first', { 'README.md': '# w\n' });
    repo.branch('fork');
    const name = 'posts/a ##[set-output name=uri]evil ::error title=FORGED::x.yml';
    const head = repo.commitFiles('a post', { [name]: `text: "[click](https://evil.example) ![img](https://evil.example/i.png) <img src=x> @octocat #1 ##[add-mask]evil"\ntargets:\n  - platform: bluesky\n    account: ${BLUESKY}\n` });
    const run = await runAction({
      workspace: repo.dir,
      inputs: { files: 'posts/**/*.yml' },
      event: { name: 'pull_request', payload: { number: 3, pull_request: { number: 3, title: HOSTILE, base: { sha: base, ref: 'main' }, head: { sha: head, ref: 'fork' } }, repository: { full_name: REPOSITORY } } },
      env: { GITHUB_SHA: head, GITHUB_REPOSITORY: REPOSITORY },
    });
    expect(run.code, log(run)).toBe(0);
    expectInert(run);
    expect(run.outputs.uri ?? '').not.toBe('evil');
    // In the summary the file name and the text are code, never a live link, image or HTML.
    expect(run.summary).toContain('#### `posts/a ##[set-output name=uri]evil ::error title=FORGED::x.yml`');
    const outsideCode = run.summary.replace(/```text\n[\s\S]*?\n```/g, '').replace(/`[^`]*`/g, '');
    expect(outsideCode).not.toMatch(/\]\(https?:|<img|@octocat|##\[/);
    expect(run.summary).toMatch(/```text\n\[click\]\(https:\/\/evil\.example\) !\[img\]\(https:\/\/evil\.example\/i\.png\) <img src=x> @octocat #1/);
  });

  it('a PR title rendered into a dry run: logged as text', async () => {
    const run = await runAction({
      inputs: { text: 'Merged: {{ pull_request.title }}', platform: 'bluesky', 'account-id': BLUESKY, 'dry-run': 'true' },
      event: { name: 'pull_request', payload: { number: 4, pull_request: { number: 4, title: HOSTILE, merged: true }, repository: { full_name: REPOSITORY } } },
    });
    expect(run.code, log(run)).toBe(0);
    expectInert(run);
    expect(run.stdout).toContain('##\\[set-output');
  });

  it("a server's answer (uri, id, warnings, error text) never acts and never becomes an output it is not", async () => {
    const evilUri = 'x\n::set-output name=url::evil ##[add-mask]evil';
    const server = await recorder(() => ({
      status: 200,
      headers: { 'x-request-id': 'req_hostile' },
      body: JSON.stringify({ id: 'b', status: 'published', results: [{ accountId: BLUESKY, platform: 'bluesky', postId: '$(curl evil)', status: 'published', uri: evilUri, warnings: [{ code: 'w', message: HOSTILE }] }] }),
    }));
    const run = await runAction({ inputs: { text: 'hi', platform: 'bluesky', 'account-id': BLUESKY, 'letmepost-token': LMP_TOKEN, 'letmepost-api-url': server.url, ledger: 'off' } });
    expect(run.code, log(run)).toBe(0);
    expectInert(run);
    expect(run.outputs).toMatchObject({ uri: '', url: '', id: '' });
    expect(run.stdout).toMatch(/Left out of the outputs, since a server answered them in a shape no such value has/);
    const results = JSON.parse(run.outputs.results!) as Array<{ uri: string; id: string; warnings: string[] }>;
    expect(results[0]).toMatchObject({ uri: '', id: '' });
    expect(run.outputs.results).not.toMatch(/[\r\n]|##\[/);
  });

  it('an error body from a server is shown inert', async () => {
    const server = await recorder(() => ({ status: 400, body: JSON.stringify({ error: { code: 'validation_failed', message: HOSTILE, remediation: '##[stop-commands]tok' } }) }));
    const run = await runAction({ inputs: { text: 'hi', platform: 'bluesky', 'account-id': BLUESKY, 'letmepost-token': LMP_TOKEN, 'letmepost-api-url': server.url, ledger: 'off' } });
    expect(run.code).toBe(1);
    expectInert(run);
  });
});

describe('secrets never show', () => {
  let pds: SharedPds;
  let alice: TestAccount;
  beforeAll(async () => {
    pds = await sharedPds();
    alice = await pds.createAccount('alice');
  });

  it("a post file named with ##[stop-commands] before the Bluesky login: every session token is masked, and a linked page's hostile title is inert", async () => {
    // A page with a hostile Open Graph title, for the link card.
    const page = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<html><head><meta property="og:title" content="${HOSTILE.replace(/\n/g, '&#10;').replace(/\r/g, '&#13;')}"><meta property="og:description" content="d"></head></html>`);
    });
    const pageUrl = `${page.url}/notes`;

    const repo = repository();
    const base = repo.commitFiles('first', { 'README.md': '# w\n' });
    const name = 'posts/##[stop-commands]tok.yml';
    const head = repo.commitFiles('a post', { [name]: `text: "Notes at ${pageUrl}"\ntargets:\n  - platform: bluesky\n    account: bluesky\n` });
    const run = await runAction({
      workspace: repo.dir,
      inputs: { 'bluesky-identifier': alice.handle, 'bluesky-app-password': alice.appPassword, 'bluesky-service': pds.url, ledger: 'off' },
      event: { name: 'push', payload: { ref: 'refs/heads/main', before: base, after: head, repository: { full_name: REPOSITORY, default_branch: 'main' } } },
      env: { GITHUB_SHA: head, GITHUB_REPOSITORY: REPOSITORY, GITHUB_REF: 'refs/heads/main' },
    });
    expect(run.code, log(run)).toBe(0);
    expectInert(run);
    const shown = maskedLog(run.stdout);
    expect(shown).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
    expect(shown).not.toContain(alice.appPassword);
    expect(parseRunnerLog(run.stdout).masks.length).toBeGreaterThanOrEqual(3);
  });

  it('a secret echoed back percent-encoded, base64 or split over lines reaches neither the log, nor the summary, nor the outputs', async () => {
    const secret = 'lmp_test_s3cr3t/with+odd=chars';
    const server = await recorder((req) => ({
      status: 400,
      body: JSON.stringify({ error: { code: 'validation_failed', message: `got ${encodeURIComponent(secret)} and ${Buffer.from(secret).toString('base64')} and ${req.headers.authorization}`, remediation: secret.split('').join('\n') } }),
    }));
    const run = await runAction({ inputs: { text: 'hi', platform: 'bluesky', 'account-id': BLUESKY, 'letmepost-token': secret, 'letmepost-api-url': server.url, ledger: 'off' } });
    expect(run.code).toBe(1);
    const everywhere = [maskedLog(run.stdout), run.summary, JSON.stringify(run.outputs)].join('\n');
    for (const form of [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')]) expect(everywhere).not.toContain(form);
  });
});

describe('credentials never follow a redirect', () => {
  it("a bluesky-service answering the login with a 307 to another host: the app password goes nowhere else, and nothing 'may have been posted'", async () => {
    const elsewhere = await recorder(() => ({ status: 200, body: '{}' }));
    const service = await recorder(() => ({ status: 307, headers: { location: `${elsewhere.url}/xrpc/com.atproto.server.createSession` } }));
    const repo = repository();
    const sha = repo.commitFiles('x', { 'a.txt': 'a' });
    const run = await runAction({ workspace: repo.dir, inputs: { text: 'hi', platform: 'bluesky', 'bluesky-identifier': 'alice.bsky.social', 'bluesky-app-password': 'abcd-efgh-ijkl-mnop', 'bluesky-service': service.url, ledger: 'off' }, env: { GITHUB_SHA: sha } });
    expect(run.code).toBe(1);
    expect(elsewhere.requests).toEqual([]);
    expect(run.stdout).toMatch(/answered with a redirect to http:\/\/127\.0\.0\.1:\d+, which this action does not follow: the request carries credentials/);
    expect(run.stdout).not.toMatch(/may have been (posted|published)/);
    expect(run.outputs.status).toBe('rejected');
  });

  it('an http:// letmepost-api-url that redirects to its https:// self is reported as such', async () => {
    const server = await recorder((req) => ({ status: 301, headers: { location: `https://${req.headers.host}${req.path}` } }));
    const run = await runAction({ inputs: { text: 'hi', platform: 'bluesky', 'account-id': BLUESKY, 'letmepost-token': LMP_TOKEN, 'letmepost-api-url': server.url, ledger: 'off' } });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/redirects to https:\/\/127\.0\.0\.1:\d+: use https:\/\/127\.0\.0\.1:\d+/);
    expect(run.stdout).not.toMatch(/may have been (posted|published)|connection lost/);
  });
});

describe('the step deadline bounds every request', () => {
  it('a GitHub API that never answers: with timeout-seconds 10, the step ends, saying what it waited for', async () => {
    const hanging = await serve(() => undefined);
    const server = await startFakeLetmepost({ token: LMP_TOKEN });
    defer(() => server.close());
    const run = await runAction({
      inputs: { text: 'hi', platform: 'bluesky', 'account-id': BLUESKY, 'letmepost-token': LMP_TOKEN, 'letmepost-api-url': server.url, 'github-token': 'ghs_x', 'timeout-seconds': '10' },
      env: { GITHUB_API_URL: hanging.url },
    });
    // The ledger gave up within the deadline; the post went out on the platform's own guarantee.
    expect(run.stdout).toMatch(/The ledger \(commit statuses\) could not be read: .*no answer within/);
    expect(server.posts.length).toBeLessThanOrEqual(1);
  }, 45_000);
});

describe('outcome words are true', () => {
  it('a Mastodon instance whose description cannot be read: failed, never "may have been posted" (nothing was written)', async () => {
    const server = await startFakeMastodon({ token: 'mastodon_test_secret_token' });
    defer(() => server.close());
    server.inject('instance', ...Array.from({ length: 12 }, () => ({ kind: 'reset-before-read' as const })));
    const run = await runAction({ inputs: { text: 'hi', platform: 'mastodon', 'mastodon-server': server.url, 'mastodon-token': 'mastodon_test_secret_token', ledger: 'off', 'timeout-seconds': '10' } });
    expect(run.code).toBe(1);
    expect(run.outputs.status).toBe('failed');
    expect(run.stdout).not.toMatch(/may have been (posted|published)/);
    expect(server.statuses).toHaveLength(0);
  }, 45_000);

  it('a 200 without a post id or uri is a warning with the request id', async () => {
    const server = await recorder(() => ({ status: 200, headers: { 'x-request-id': 'req_4711' }, body: JSON.stringify({ status: 'published', results: [{ status: 'published' }] }) }));
    const run = await runAction({ inputs: { text: 'hi', platform: 'bluesky', 'account-id': BLUESKY, 'letmepost-token': LMP_TOKEN, 'letmepost-api-url': server.url, ledger: 'off' } });
    expect(run.code, log(run)).toBe(0);
    expect(run.stdout).toMatch(/::warning::.*without a post id or uri, so this post cannot be linked; check it in letmepost \(request id req_4711\)/);
  });
});

describe('hardening', () => {
  it('an endless answer is read no further than the cap: the step ends with a clear error, memory bounded', async () => {
    const endless = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      const write = () => {
        while (res.write(chunk)) {
          /* keep the pipe full */
        }
        res.once('drain', write);
      };
      res.write('{"pad":"');
      write();
    });
    const run = await runAction({
      inputs: { text: 'hi', platform: 'bluesky', 'account-id': BLUESKY, 'letmepost-token': LMP_TOKEN, 'letmepost-api-url': endless.url, ledger: 'off', 'timeout-seconds': '20' },
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/the answer is more than the [\d,]+ bytes this action reads/);
  }, 60_000);

  it('release notes of 1 MB with {{ release.body | truncate: 250 }}: one post of at most 250 characters', async () => {
    const server = await startFakeLetmepost({ token: LMP_TOKEN });
    defer(() => server.close());
    const body = 'This release brings many improvements. '.repeat(27_000);
    const ws = mkdtempSync(join(tmpdir(), 'lmpa-hostile-'));
    mkdirSync(dirname(join(ws, 'x')), { recursive: true });
    writeFileSync(join(ws, 'README.md'), '# w\n');
    const run = await runAction({
      workspace: ws,
      inputs: { text: 'Notes: {{ release.body | truncate: 250 }}', platform: 'bluesky', 'account-id': BLUESKY, 'letmepost-token': LMP_TOKEN, 'letmepost-api-url': server.url, ledger: 'off' },
      event: { name: 'release', payload: { release: { tag_name: 'v3', body } } },
    });
    expect(run.code, log(run)).toBe(0);
    expect(server.posts).toHaveLength(1);
    expect([...new Intl.Segmenter().segment(server.posts[0]!.text)].length).toBeLessThanOrEqual(257);
    expect(server.posts[0]!.text.endsWith('…')).toBe(true);
  });

  it('fake GitHub is still the GitHub the ledger talks to (a sanity check of the harness)', async () => {
    const repo = repository();
    const sha = repo.commitFiles('x', { 'a.txt': 'a' });
    const gh = await new FakeGitHub({ repoDir: repo.dir, repository: REPOSITORY }).start();
    defer(() => gh.stop());
    const res = await fetch(`${gh.url}/repos/${REPOSITORY}/commits/${sha}`, { headers: { authorization: 'Bearer ghs_fake_token' } });
    expect(res.status).toBe(200);
  });
});
