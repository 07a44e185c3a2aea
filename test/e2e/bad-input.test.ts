/**
 * The bad-input matrix (issue 5, item 4): the committed bundle on Node 24, one run per case,
 * against a fake letmepost, a fake Mastodon, and recording servers standing in for Bluesky and
 * the GitHub API — every one of them started for that case alone. Each case must end with
 * exit code 1, an error annotation that names the input (`Input 'x'`) or the post file and
 * line, a message that says what is expected, "Nothing was posted", and not one request to
 * any server. Inline cases run on a release event; post-file cases on a push that adds the
 * files to a real git repository (the default `select: added`).
 *
 * One case passes on purpose: a schedule with a non-UTC offset is accepted and sent in UTC.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, it, type ExpectStatic } from 'vitest';
import { decodeCommand, runAction, type ActionRun } from '../support/action.js';
import { BLUESKY, BSKY_DIRECT, FILE_CREDENTIALS, fileCases, inputCases, LMP, LMP_TARGET, MASTO, MASTODON_TOKEN, NEXT_YEAR, TOKEN, type BadCase, type Files, type Where } from '../support/bad-input-corpus.js';
import { startFakeLetmepost, type FakeLetmepost } from '../support/fake-letmepost.js';
import { startFakeMastodon, type FakeMastodon } from '../support/fake-mastodon.js';
import { createRepo } from '../support/git-repo.js';
import { png } from '../support/images.js';
import { startRecorder, type Recorder } from '../support/recorder.js';


/** Where outside the workspace symlinks lead. */
let outside: string;
/** Every directory a case made, removed at the end. */
const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});
beforeAll(() => {
  outside = mkdtempSync(join(tmpdir(), 'lmpa-outside-'));
  made.push(outside);
  writeFileSync(join(outside, 'secret.png'), png(8, 8));
  writeFileSync(join(outside, 'secret.yml'), `text: from outside\ntargets:\n  - platform: bluesky\n    account: ${BLUESKY}\n`);
});

// ───────────────────────────── workspaces ─────────────────────────────


function place(dir: string, files: Files): void {
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true });
    if (Buffer.isBuffer(content) || typeof content === 'string') writeFileSync(full, content);
    else if ('symlink' in content) symlinkSync(content.symlink.replace('$OUTSIDE', outside), full);
    else {
      writeFileSync(full, content.head);
      truncateSync(full, content.sparse);
    }
  }
}

interface Workspace {
  dir: string;
  env: Record<string, string>;
  event: { name: string; payload: unknown };
}

const RELEASE = { tag_name: 'v1.2.0', name: 'widgets 1.2.0', html_url: 'https://github.com/octo/widgets/releases/tag/v1.2.0' };
const REPOSITORY = { full_name: 'octo/widgets', name: 'widgets', default_branch: 'main', html_url: 'https://github.com/octo/widgets' };

/**
 * A checkout: `assets` in a first commit; `posts` (if any) added by a second commit that a
 * push event delivers. Without posts the run is a release event on the first commit.
 */
function workspace(assets: Files, posts: Files | undefined): Workspace {
  const repo = createRepo();
  made.push(repo.dir);
  place(repo.dir, { 'README.md': '# widgets\n', 'assets/chart.png': png(64, 32), ...assets });
  const base = repo.commit('base');
  if (posts === undefined) {
    return { dir: repo.dir, env: { GITHUB_SHA: base }, event: { name: 'release', payload: { action: 'published', release: RELEASE, repository: REPOSITORY } } };
  }
  place(repo.dir, posts);
  const after = repo.commit('add posts');
  return {
    dir: repo.dir,
    env: { GITHUB_SHA: after, GITHUB_REF: 'refs/heads/main', GITHUB_WORKFLOW_REF: 'octo/widgets/.github/workflows/posts.yml@refs/heads/main' },
    event: { name: 'push', payload: { ref: 'refs/heads/main', before: base, after, repository: REPOSITORY, head_commit: { id: after, message: 'add posts' } } },
  };
}

// ───────────────────────────── servers ─────────────────────────────

interface Servers {
  letmepost: FakeLetmepost;
  mastodon: FakeMastodon;
  bluesky: Recorder;
  github: Recorder;
}

async function startServers(): Promise<Servers> {
  // Refusals that are final, so that a run that wrongly reaches them ends at once.
  const bluesky = startRecorder(() => ({ status: 401, body: JSON.stringify({ error: 'AuthenticationRequired', message: 'Invalid identifier or password' }) }));
  const github = startRecorder(() => ({ status: 404, body: JSON.stringify({ message: 'Not Found' }) }));
  const [letmepost, mastodon] = await Promise.all([startFakeLetmepost({ token: TOKEN }), startFakeMastodon({ token: MASTODON_TOKEN })]);
  return { letmepost, mastodon, bluesky: await bluesky, github: await github };
}

async function stopServers(s: Servers): Promise<void> {
  await Promise.all([s.letmepost.close(), s.mastodon.close(), s.bluesky.close(), s.github.close()]);
}

/** Runs `fn` with servers of its own, stopped after it whatever happens. */
async function withServers<T>(fn: (s: Servers) => Promise<T>): Promise<T> {
  const servers = await startServers();
  try {
    return await fn(servers);
  } finally {
    await stopServers(servers);
  }
}

/** Every request any server saw, as `server METHOD path`. */
function allRequests(s: Servers): string[] {
  return [
    ...s.letmepost.requests.map((r) => `letmepost ${r.method} ${r.path}`),
    ...s.mastodon.requests.map((r) => `mastodon ${r.method} ${r.path}`),
    ...s.bluesky.requests.map((r) => `bluesky ${r.method} ${r.path}`),
    ...s.github.requests.map((r) => `github ${r.method} ${r.path}`),
  ];
}

/** Runs the bundle with every remote pointed at this case's servers; `inputs` may unset one with ''. */
async function runCase(s: Servers, ws: Workspace, inputs: Record<string, string>): Promise<ActionRun> {
  return runAction({
    workspace: ws.dir,
    inputs: { 'letmepost-api-url': s.letmepost.url, 'mastodon-server': s.mastodon.url, 'bluesky-service': s.bluesky.url, 'github-token': 'ghs_fake_token', ...inputs },
    event: ws.event,
    env: { ...ws.env, GITHUB_API_URL: s.github.url },
  });
}

function matchesWhere(props: string, message: string, at: Where): boolean {
  if ('input' in at) return props.includes(`title=Invalid input '${at.input}'`) && message.startsWith(`Input '${at.input}'`);
  const parts = props.split(',');
  if (!parts.includes(`file=${at.file}`)) return false;
  return 'wholeFile' in at ? !parts.some((p) => p.startsWith('line=')) : parts.includes(`line=${at.line}`);
}

interface Outcome {
  run: ActionRun;
  /** Every request any of the case's servers received. */
  requests: string[];
}

/** Runs one case against its own servers and workspace. */
async function runBadCase(c: BadCase): Promise<Outcome> {
  return withServers(async (servers) => {
    const ws = workspace(c.assets ?? {}, c.posts);
    const inputs = c.posts !== undefined ? { ...FILE_CREDENTIALS, ...c.inputs } : { ...c.inputs };
    const run = await runCase(servers, ws, inputs);
    return { run, requests: allRequests(servers) };
  });
}

/**
 * Each case is one run of the bundle (a Node process): they are started together, a few at
 * a time (more than vitest's own concurrency, since each mostly waits on a child process),
 * and every test awaits its own.
 */
const limit = (() => {
  const max = Math.max(4, availableParallelism() * 3);
  let active = 0;
  const waiting: Array<() => void> = [];
  return <T>(job: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const start = () => {
        active++;
        job()
          .then(resolve, reject)
          .finally(() => {
            active--;
            waiting.shift()?.();
          });
      };
      if (active < max) start();
      else waiting.push(start);
    });
})();

const outcomes = new Map<BadCase, Promise<Outcome>>();
beforeAll(() => {
  for (const c of [...inputCases, ...fileCases]) {
    const outcome = limit(() => runBadCase(c));
    outcome.catch(() => undefined); // reported by the case's own test
    outcomes.set(c, outcome);
  }
});

function assertRefused(c: BadCase, { run, requests }: Outcome, expect: ExpectStatic): void {
  const errors = run.annotations.filter((a) => a.level === 'error' && a.props !== '').map((a) => ({ props: a.props, message: decodeCommand(a.message) }));
  expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(1);
  const hit = errors.find((e) => matchesWhere(e.props, e.message, c.at) && c.fix.test(e.message));
  expect(hit, `no error annotation at ${JSON.stringify(c.at)} matching ${String(c.fix)}; got:\n${errors.map((e) => `${e.props} :: ${e.message}`).join('\n')}`).toBeDefined();
  expect(run.stdout).toMatch(/^::error::Nothing was posted: \d+ problems? with the /m);
  expect(run.summary).toContain('nothing was posted');
  expect(requests, 'no request may leave the runner for invalid input').toEqual([]);
}

describe('bad inputs are refused before anything is sent', () => {
  it.concurrent.for(inputCases.map((c) => [c.name, c] as const))('%s', async ([, c], { expect }) => {
    assertRefused(c, await outcomes.get(c)!, expect);
  });
});

describe('bad post files are refused at file:line before anything is sent', () => {
  it.concurrent.for(fileCases.map((c) => [c.name, c] as const))('%s', async ([, c], { expect }) => {
    assertRefused(c, await outcomes.get(c)!, expect);
  });
});

describe('controls: the same servers do see the requests of valid posts', () => {
  it.concurrent('a valid Mastodon post and a valid direct Bluesky post reach their servers', async ({ expect }) => {
    await withServers(async (servers) => {
      const ws = workspace({}, undefined);
      const masto = await runCase(servers, ws, { ...MASTO, ledger: 'off' });
      expect(masto.code, masto.stdout).toBe(0);
      expect(servers.mastodon.statuses).toHaveLength(1);
      const bsky = await runCase(servers, ws, { ...BSKY_DIRECT, ledger: 'off' });
      expect(bsky.code).toBe(1); // the recorder refuses the login
      expect(servers.bluesky.requests.map((r) => `${r.method} ${r.path}`)).toContain('POST /xrpc/com.atproto.server.createSession');
    });
  });
});

describe('a schedule already in the past is refused once nothing answers for its key', () => {
  it.concurrent('post file: the replay check is the only request, letmepost refuses it, the error points at the line', async ({ expect }) => {
    await withServers(async (servers) => {
      const ws = workspace({}, { 'posts/past.yml': `text: hi\nscheduledAt: "2020-01-01T09:00:00Z"\n${LMP_TARGET}` });
      const run = await runCase(servers, ws, { 'letmepost-token': TOKEN, ledger: 'off' });
      expect(run.code, run.stdout).toBe(1);
      const error = run.annotations.find((a) => a.level === 'error' && /in the past/.test(decodeCommand(a.message)));
      expect(decodeCommand(error?.message ?? '')).toMatch(/posts\/past\.yml:2:\d+: 'scheduledAt' is '2020-01-01T09:00:00Z' .*which is in the past; give a time at least 1 s ahead.*No earlier run sent this post/);
      expect(servers.letmepost.requests.filter((r) => r.method === 'POST').map((r) => r.path)).toEqual(['/v1/posts']);
      expect(servers.letmepost.posts).toHaveLength(0);
    });
  });
});

describe('a schedule with a non-UTC offset is accepted and sent in UTC', () => {
  it.concurrent('inline: scheduled-at with +05:30 is queued at the same instant, written with Z', async ({ expect }) => {
    await withServers(async (servers) => {
      const run = await runCase(servers, workspace({}, undefined), { ...LMP, 'scheduled-at': `${NEXT_YEAR}-03-01T10:00:00+05:30` });
      expect(run.code, run.stdout).toBe(0);
      const utc = `${NEXT_YEAR}-03-01T04:30:00.000Z`;
      const posts = servers.letmepost.requests.filter((r) => r.method === 'POST' && r.path === '/v1/posts');
      expect(posts).toHaveLength(1);
      expect(JSON.parse(posts[0]!.body.toString()).scheduledAt).toBe(utc);
      expect(run.outputs).toMatchObject({ status: 'queued', 'scheduled-at': utc });
      expect(servers.letmepost.posts.map((p) => p.scheduledAt)).toEqual([utc]);
      // The ledger looked for an earlier post first: the GitHub stand-in records requests too.
      expect(servers.github.requests.map((r) => r.method)).toContain('GET');
    });
  });

  it.concurrent('post file: scheduledAt with -0800 (no colon) is queued in UTC', async ({ expect }) => {
    await withServers(async (servers) => {
      const ws = workspace({}, { 'posts/later.yml': `text: Launch day\nscheduledAt: "${NEXT_YEAR}-06-30T22:15:00-0800"\n${LMP_TARGET}` });
      const run = await runCase(servers, ws, { 'letmepost-token': TOKEN, ledger: 'off' });
      expect(run.code, run.stdout).toBe(0);
      const utc = `${NEXT_YEAR}-07-01T06:15:00.000Z`;
      const posts = servers.letmepost.requests.filter((r) => r.method === 'POST' && r.path === '/v1/posts');
      expect(posts.map((r) => JSON.parse(r.body.toString()).scheduledAt)).toEqual([utc]);
      expect(run.outputs).toMatchObject({ status: 'queued', 'scheduled-at': utc });
    });
  });
});
