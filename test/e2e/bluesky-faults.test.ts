/**
 * The fault suite of the direct Bluesky publisher: the committed bundle, run as the runner
 * runs it on Node 24, talks to the run's real PDS through a fault-injecting proxy on 127.0.0.1.
 * Every fault ends with exactly one post and outputs that point at it, or with a failure
 * whose message says what really happened (and a re-run that then reports the one post).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRepo } from '../support/git-repo.js';
import { runAction, type ActionRun } from '../support/action.js';
import { FakeGitHub } from '../support/fake-github.js';
import { startFaultProxy, type Fault, type FaultProxy } from '../support/fault-proxy.js';
import { sharedPds, type SharedPds, type TestAccount } from '../support/shared-pds.js';

const PUT = ['POST', 'com.atproto.repo.putRecord'] as const;
const GET = ['GET', 'com.atproto.repo.getRecord'] as const;
const LOGIN = ['POST', 'com.atproto.server.createSession'] as const;
const REPOSITORY = 'octo/widgets';
const GITHUB_TOKEN = 'ghs_fault_suite_token';
/** Retry-After: 0 keeps a burst of server errors from costing the suite seconds of backoff. */
const NOW = { 'retry-after': '0' };

let pds: SharedPds;
let proxy: FaultProxy;
let github: FakeGitHub;
let alice: TestAccount;
let workspace: string;
let sha: string;

beforeAll(async () => {
  pds = await sharedPds();
  alice = await pds.createAccount('alice');
  proxy = await startFaultProxy(pds.url);
  // A real checkout: the action reads the commit's time from it for the record keys.
  const repo = createRepo();
  workspace = repo.dir;
  sha = repo.write('README.md', '# widgets\n').commit('release');
  // The durable ledger: commit statuses on the fake GitHub.
  github = await new FakeGitHub({ repoDir: workspace, repository: REPOSITORY, token: GITHUB_TOKEN }).start();
});

afterAll(async () => {
  await proxy?.close();
  await github?.stop();
});

beforeEach(() => {
  proxy.reset();
  github.reset();
});

interface RunOptions {
  inputs?: Record<string, string>;
  env?: Record<string, string>;
  /** Turns the durable ledger on (github-token + the fake GitHub). */
  ledger?: boolean;
  signal?: AbortSignal;
}

/** One run of the step `job` (the job name keeps each test's post, and record key, its own). */
function post(job: string, opts: RunOptions = {}): Promise<ActionRun> {
  return runAction({
    workspace,
    inputs: {
      text: 'widgets 1.2 is out with a faster sync #release',
      platform: 'bluesky',
      'bluesky-identifier': alice.handle,
      'bluesky-app-password': alice.appPassword,
      'bluesky-service': proxy.url,
      'link-card': 'false',
      ...(opts.ledger ? { 'github-token': GITHUB_TOKEN } : {}),
      ...opts.inputs,
    },
    env: { GITHUB_SHA: sha, GITHUB_REPOSITORY: REPOSITORY, GITHUB_API_URL: github.url, GITHUB_JOB: job, ...opts.env },
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}

async function postUris(): Promise<Set<string>> {
  return new Set((await pds.listPosts(alice.did)).map((p) => p.uri));
}

/** The posts made since `before` (the PDS's own listing, not the proxy's). */
async function postsSince(before: Set<string>) {
  return (await pds.listPosts(alice.did)).filter((p) => !before.has(p.uri));
}

const webUrl = (uri: string) => `https://bsky.app/profile/${alice.did}/post/${uri.split('/').pop()}`;

/** Exit 0, exactly one new record, and outputs that point at it. */
async function expectOnePublished(run: ActionRun, before: Set<string>, replayed: boolean) {
  expect(run.code, run.stdout + run.stderr).toBe(0);
  const created = await postsSince(before);
  expect(created, 'exactly one post').toHaveLength(1);
  const [record] = created;
  expect(run.outputs).toMatchObject({ status: 'published', uri: record!.uri, cid: record!.cid, url: webUrl(record!.uri), id: record!.rkey, replayed: String(replayed) });
  expect(run.annotations.filter((a) => a.level === 'error')).toEqual([]);
  expect(proxy.pending(), 'every injected fault was hit').toEqual({});
  return record!;
}

const upstreamStatuses = (route: readonly [string, string]) => proxy.calls(...route).map((r) => r.upstreamStatus ?? 'not forwarded');

describe('faults on the write (com.atproto.repo.putRecord)', () => {
  it('a connection reset before the request is read is retried; the one post is this run’s', async () => {
    const before = await postUris();
    proxy.inject(...PUT, { kind: 'reset-before-forward' });
    const run = await post('reset');
    await expectOnePublished(run, before, false);
    expect(upstreamStatuses(PUT)).toEqual(['not forwarded', 200]);
    expect(run.stdout).toMatch(/connection to Bluesky lost .*attempt 2 of 6/);
  });

  it('an answer lost after the commit: the retry lands on the same record key, one post, not reported as replayed', async () => {
    const before = await postUris();
    proxy.inject(...PUT, { kind: 'drop-after-commit' });
    const run = await post('dropped');
    const record = await expectOnePublished(run, before, false);
    // Both attempts reached the PDS with the same record key; the second was a no-op.
    expect(upstreamStatuses(PUT)).toEqual([200, 200]);
    const rkeys = proxy.calls(...PUT).map((r) => JSON.parse(r.body.toString('utf8')).rkey);
    expect(rkeys).toEqual([record.rkey, record.rkey]);
  });

  it('an answer slower than request-timeout-seconds after the commit is retried under the same key; one post', async () => {
    const before = await postUris();
    proxy.inject(...PUT, { kind: 'slow-after-commit', ms: 4000 });
    const run = await post('slow', { inputs: { 'request-timeout-seconds': '1' } });
    await expectOnePublished(run, before, false);
    expect(upstreamStatuses(PUT)).toEqual([200, 200]);
    expect(run.stdout).toMatch(/no answer from Bluesky within 1 s; attempt 2 of 6/);
  });

  it('a burst of 500, 502 (an HTML page) and 503 is retried until the PDS answers; one post', async () => {
    const before = await postUris();
    proxy.inject(
      ...PUT,
      { kind: 'status', status: 500, headers: NOW },
      { kind: 'status', status: 502, headers: NOW, contentType: 'text/html', body: '<html><body><h1>502 Bad Gateway</h1></body></html>' },
      { kind: 'status', status: 503, headers: NOW, error: 'NotEnoughResources', message: 'try again later' },
    );
    const run = await post('burst');
    await expectOnePublished(run, before, false);
    expect(upstreamStatuses(PUT)).toEqual(['not forwarded', 'not forwarded', 'not forwarded', 200]);
    expect(run.stdout).toMatch(/HTTP 500 InternalServerError.*attempt 2 of 6/);
    expect(run.stdout).toMatch(/HTTP 502.*attempt 3 of 6/);
    expect(run.stdout).toMatch(/HTTP 503 NotEnoughResources: try again later.*attempt 4 of 6/);
  });

  it('a 429 waits as long as Retry-After or ratelimit-reset says, then posts once', async () => {
    const before = await postUris();
    const reset = Math.floor(Date.now() / 1000) + 3;
    proxy.inject(
      ...PUT,
      { kind: 'status', status: 429, headers: { 'retry-after': '1' } },
      { kind: 'status', status: 429, headers: { 'ratelimit-limit': '5000', 'ratelimit-remaining': '0', 'ratelimit-reset': String(reset) } },
    );
    const run = await post('ratelimit');
    await expectOnePublished(run, before, false);
    expect(upstreamStatuses(PUT)).toEqual(['not forwarded', 'not forwarded', 200]);
    // The waits come from the headers (the default for a 429 without them is 5 s).
    expect(run.stdout).toMatch(/rate limit is reached; attempt 2 of 6 in 1\.0 s/);
    expect(run.stdout).toMatch(new RegExp(`rate limit is reached \\(it resets at ${new Date(reset * 1000).toISOString().replace('.000', '')}\\); attempt 3 of 6 in [0-3]\\.\\d s`));
  });

  it('a 200 with a malformed JSON body after the commit is retried under the same key; one post', async () => {
    const before = await postUris();
    proxy.inject(...PUT, { kind: 'malformed-json' });
    const run = await post('malformed');
    await expectOnePublished(run, before, false);
    expect(upstreamStatuses(PUT)).toEqual([200, 200]);
    expect(run.stdout).toMatch(/answer this action does not understand.*attempt 2 of 6/);
  });

  it('answers lost until retries run out: the failure says the post may have been published and where; the re-run reports that one post', async () => {
    const before = await postUris();
    proxy.inject(...PUT, { kind: 'drop-after-commit' }, ...Array.from({ length: 5 }, (): Fault => ({ kind: 'status', status: 503, headers: NOW })));
    const run = await post('exhausted');
    expect(run.code).toBe(1);
    expect(proxy.calls(...PUT)).toHaveLength(6);
    const created = await postsSince(before);
    expect(created).toHaveLength(1);
    const url = webUrl(created[0]!.uri);
    expect(run.outputs.status).toBe('unknown');
    const [error] = run.annotations.filter((a) => a.level === 'error');
    expect(error?.message).toMatch(/gave up after 6 attempts/);
    expect(error?.message).toMatch(/may have been published/);
    expect(error?.message).toContain(url);
    expect(error?.message).not.toMatch(/not (been )?posted|nothing was posted/i);

    const rerun = await post('exhausted', { env: { GITHUB_RUN_ATTEMPT: '2' } });
    await expectOnePublished(rerun, before, true);
    expect(rerun.outputs.url).toBe(url);
    expect(proxy.calls(...PUT)).toHaveLength(6); // the re-run found the record and wrote nothing
  });
});

describe('two runs and crashes', () => {
  it('two concurrent runs of the same step that both find no post and both write make one post', async () => {
    const before = await postUris();
    // Both runs' reads are held until both have asked: each sees "no record", each writes.
    proxy.inject(...GET, { kind: 'barrier', name: 'both-read', count: 2 }, { kind: 'barrier', name: 'both-read', count: 2 });
    const [a, b] = await Promise.all([post('concurrent'), post('concurrent', { env: { GITHUB_RUN_ATTEMPT: '2' } })]);
    expect(proxy.calls(...PUT)).toHaveLength(2);
    expect(a.code, a.stdout).toBe(0);
    expect(b.code, b.stdout).toBe(0);
    const created = await postsSince(before);
    expect(created).toHaveLength(1);
    for (const run of [a, b]) expect(run.outputs).toMatchObject({ status: 'published', uri: created[0]!.uri, url: webUrl(created[0]!.uri), cid: created[0]!.cid });
    // Exactly one of them made the post; the other reports it as already there.
    expect([a.outputs.replayed, b.outputs.replayed].sort()).toEqual(['false', 'true']);
  });

  it('a crash after the post was committed and before the ledger was written: the re-run reports the post and records it; a later run reads the ledger', async () => {
    const before = await postUris();
    const ledgerEntries = () => github.statusesOn(sha).filter((s) => s.context.startsWith('letmepost/bluesky/'));
    expect(ledgerEntries()).toEqual([]);
    // The PDS commits, its answer is held, and the runner dies meanwhile.
    proxy.inject(...PUT, { kind: 'slow-after-commit', ms: 30_000 });
    const crash = new AbortController();
    void proxy.serverAnswered(...PUT).then(() => crash.abort());
    const crashed = await post('crash', { ledger: true, signal: crash.signal });
    expect(crashed.code).toBeNull(); // killed
    expect(crashed.outputs.status).toBeUndefined();
    expect(github.requestsTo(/\/commits\/[0-9a-f]{40}\/status$/)).toHaveLength(1); // the ledger was read…
    expect(ledgerEntries()).toEqual([]); // …and never written
    expect(await postsSince(before)).toHaveLength(1);

    proxy.reset();
    const rerun = await post('crash', { ledger: true, env: { GITHUB_RUN_ATTEMPT: '2' } });
    const record = await expectOnePublished(rerun, before, true);
    expect(proxy.calls(...PUT)).toHaveLength(0); // found by its record key, nothing written
    expect(ledgerEntries()).toHaveLength(1);
    expect(ledgerEntries()[0]).toMatchObject({ state: 'success', target_url: webUrl(record.uri) });

    // A re-run days later: the ledger answers before any request to Bluesky (not even a login).
    proxy.reset();
    const later = await post('crash', { ledger: true, env: { GITHUB_RUN_ATTEMPT: '3' } });
    await expectOnePublished(later, before, true);
    for (const name of ['uri', 'url', 'cid', 'id', 'status', 'idempotency-key']) expect(later.outputs[name], name).toBe(rerun.outputs[name]);
    expect(later.stdout).toMatch(/already published by an earlier run \(recorded on commit/);
    expect(proxy.requests).toHaveLength(0);
    expect(ledgerEntries()).toHaveLength(1);
  });
});

describe('faults on the login (com.atproto.server.createSession)', () => {
  it.each<[string, Fault[], Record<string, string>]>([
    ['a 503 burst', [{ kind: 'status', status: 503, headers: NOW }, { kind: 'status', status: 502 }, { kind: 'status', status: 500, headers: NOW }], {}],
    ['a connection reset before the request is read', [{ kind: 'reset-before-forward' }], {}],
    ['an answer lost after the session was created', [{ kind: 'drop-after-commit' }], {}],
    ['an answer slower than the request timeout', [{ kind: 'slow-after-commit', ms: 4000 }], { 'request-timeout-seconds': '1' }],
    ['a malformed JSON body', [{ kind: 'malformed-json' }], {}],
    ['a 429 with Retry-After', [{ kind: 'status', status: 429, headers: { 'retry-after': '1' } }], {}],
  ])('%s on login is retried; one login succeeds and the post is made once', async (name, faults, inputs) => {
    const before = await postUris();
    proxy.inject(...LOGIN, ...faults);
    const run = await post(`login-${name.replace(/\W+/g, '-')}`, { inputs });
    await expectOnePublished(run, before, false);
    expect(proxy.calls(...LOGIN)).toHaveLength(faults.length + 1);
    expect(proxy.calls(...LOGIN).at(-1)?.answered).toBe(200);
    expect(proxy.calls(...PUT)).toHaveLength(1);
  });

  it('a login that keeps failing fails saying so, and nothing is written', async () => {
    const before = await postUris();
    proxy.inject(...LOGIN, ...Array.from({ length: 6 }, (): Fault => ({ kind: 'status', status: 503, headers: NOW })));
    const run = await post('login-down');
    expect(run.code).toBe(1);
    expect(run.outputs.status).toBe('failed');
    const [error] = run.annotations.filter((a) => a.level === 'error');
    expect(error?.message).toMatch(/Bluesky login: Bluesky answered HTTP 503.*gave up after 6 attempts/);
    expect(error?.message).not.toMatch(/may have been published/);
    expect(proxy.calls(...LOGIN)).toHaveLength(6);
    expect(proxy.calls(...PUT)).toHaveLength(0);
    expect(await postsSince(before)).toHaveLength(0);
  });
});

describe('requests per scenario (deterministic, unlike times)', () => {
  const nsids = () => proxy.requests.map((r) => `${r.method} ${r.nsid}`);

  it('a first post costs three requests (read, login, write); a re-run one read, without logging in', async () => {
    const first = await post('request-count');
    expect(first.code, first.stdout).toBe(0);
    expect(nsids()).toEqual(['GET com.atproto.repo.getRecord', 'POST com.atproto.server.createSession', 'POST com.atproto.repo.putRecord']);
    proxy.reset();
    const rerun = await post('request-count', { env: { GITHUB_RUN_ATTEMPT: '2' } });
    expect(rerun.outputs.replayed).toBe('true');
    expect(rerun.outputs.uri).toBe(first.outputs.uri);
    expect(rerun.outputs.uri).toMatch(/^at:\/\/did:plc:/);
    expect(nsids()).toEqual(['GET com.atproto.repo.getRecord']);
  });

  it('a three-post thread logs in once, whatever the number of posts', async () => {
    const sentence = 'This release rewrites the sync engine so that large repositories index in seconds. ';
    const run = await post('request-count-thread', { inputs: { text: sentence.repeat(8) } });
    expect(run.code, run.stdout).toBe(0);
    expect(nsids().filter((c) => c.endsWith('createSession'))).toHaveLength(1);
    expect(nsids().filter((c) => c.endsWith('putRecord'))).toHaveLength(3);
    expect(nsids().filter((c) => c.endsWith('getRecord'))).toHaveLength(3);
  });
});
