/**
 * The whole pipeline in-process: settings and a run context in, the runner port and
 * publishers faked through RunDeps, a fake GitHub for the ledger. The e2e suites run the
 * bundle the way the runner does; these show what the orchestration itself decides.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunContext } from '../src/context.js';
import { PublishError } from '../src/errors.js';
import type { PlannedTarget, Publisher, PublisherKind, TargetResult } from '../src/publishers/types.js';
import { run, type RunDeps, type RunnerPort } from '../src/run.js';
import { parseInputs } from '../src/settings/settings.js';
import { FakeGitHub } from './support/fake-github.js';
import { createRepo, type TempRepo } from './support/git-repo.js';
import { FakeIssueComments } from './support/github-comments.js';
import { pullRequestEvent } from './support/scenario.js';

const ACCOUNT = '1b4e28ba-2fa1-11d2-883f-0016d3cca427';
const SHA = 'a'.repeat(40);
const TOKEN = 'ghs_fake_token';

/** Everything the action told the runner. */
class RecordingRunner implements RunnerPort {
  readonly infos: string[] = [];
  readonly warnings: string[] = [];
  readonly errors: Array<{ message: string; title?: string | undefined }> = [];
  readonly failures: string[] = [];
  readonly outputs = new Map<string, string>();
  readonly summaries: string[] = [];
  readonly notices: string[] = [];
  info(message: string) {
    this.infos.push(message);
  }
  notice(message: string) {
    this.notices.push(message);
  }
  debug() {}
  warning(message: string) {
    this.warnings.push(message);
  }
  error(message: string, props?: { title?: string }) {
    this.errors.push({ message, title: props?.title });
  }
  failed(message: string) {
    this.failures.push(message);
  }
  output(name: string, value: string) {
    this.outputs.set(name, value);
  }
  group<T>(_name: string, fn: () => Promise<T>) {
    return fn();
  }
  async summary(markdown: string) {
    this.summaries.push(markdown);
  }
}

/** A publisher that posts to memory: one post per key, a replay for a key it has seen. */
class MemoryPublisher implements Publisher {
  readonly published: PlannedTarget[] = [];
  readonly described: PlannedTarget[] = [];
  readonly posts = new Map<string, string>();
  fail: PublishError | undefined;
  constructor(readonly kind: PublisherKind) {}
  async publish(target: PlannedTarget): Promise<TargetResult[]> {
    this.published.push(target);
    if (this.fail) throw this.fail;
    const replayed = this.posts.has(target.idempotencyKey);
    if (!replayed) this.posts.set(target.idempotencyKey, `${this.kind}-${this.posts.size + 1}`);
    const id = this.posts.get(target.idempotencyKey)!;
    return [{ label: target.label, publisher: this.kind, platform: target.platform, status: target.scheduledAt ? 'queued' : 'published', id, url: `https://example.test/${id}`, idempotencyKey: target.idempotencyKey, replayed, warnings: [] }];
  }
  async describe(target: PlannedTarget): Promise<unknown> {
    this.described.push(target);
    return { texts: target.texts, key: target.idempotencyKey };
  }
}

function context(overrides: Partial<RunContext> = {}): RunContext {
  return {
    repository: 'octo/posts',
    sha: SHA,
    ref: 'refs/heads/main',
    workflow: '.github/workflows/announce.yml',
    job: 'announce',
    step: 'post',
    eventName: 'workflow_dispatch',
    payload: {},
    workspace: mkdtempSync(join(tmpdir(), 'lmpa-run-')),
    serverUrl: 'https://github.com',
    apiUrl: github.url,
    runId: '1001',
    runAttempt: '1',
    ...overrides,
  };
}

let github: FakeGitHub;
let origin: TempRepo;

beforeAll(async () => {
  origin = createRepo();
  github = await new FakeGitHub({ repoDir: origin.dir }).start();
});

afterAll(async () => {
  await github.stop();
});

/** Runs the action once with these inputs; the publishers are the given ones, made on demand. */
async function runOnce(inputs: Record<string, string>, opts: { ctx?: Partial<RunContext>; publishers?: Map<PublisherKind, MemoryPublisher> } = {}) {
  const out = new RecordingRunner();
  const publishers = opts.publishers ?? new Map<PublisherKind, MemoryPublisher>();
  const created: PublisherKind[][] = [];
  const { settings, errors } = parseInputs((name) => inputs[name] ?? DEFAULTS[name] ?? '');
  const deps: RunDeps = {
    out,
    createPublishers: async (kinds) => {
      created.push([...kinds]);
      const made = new Map<PublisherKind, Publisher>();
      for (const kind of kinds) {
        if (!publishers.has(kind)) publishers.set(kind, new MemoryPublisher(kind));
        made.set(kind, publishers.get(kind)!);
      }
      return made;
    },
  };
  await run(settings, errors, context(opts.ctx), deps);
  return { out, publishers, created };
}

/** The defaults action.yml gives the inputs that have one. */
const DEFAULTS: Record<string, string> = {
  publisher: 'auto',
  'letmepost-api-url': 'https://api.letmepost.dev',
  'bluesky-service': 'https://bsky.social',
  'dry-run': 'false',
  files: '',
  select: 'added',
  ledger: 'commit-status',
  'timeout-seconds': '300',
  'request-timeout-seconds': '30',
  'max-thread-posts': '10',
  'link-card': 'true',
  'thread-numbering': 'false',
};

const LETMEPOST = { text: 'v1.2.0 is out', platform: 'linkedin', 'account-id': ACCOUNT, 'letmepost-token': 'lmp_live_secret' };

describe('one run of the action, in-process', () => {
  it('an inline post goes through the publisher its target names, once, and its result becomes the outputs and the summary', async () => {
    const { out, publishers, created } = await runOnce(LETMEPOST);
    expect(out.failures).toEqual([]);
    expect(created).toEqual([['letmepost']]);
    const letmepost = publishers.get('letmepost')!;
    expect(letmepost.published).toHaveLength(1);
    const target = letmepost.published[0]!;
    expect(target).toMatchObject({ publisher: 'letmepost', platform: 'linkedin', account: ACCOUNT, texts: ['v1.2.0 is out'], label: 'inputs' });
    // A finished target: its keys are planned, and it cannot be changed afterwards by anyone.
    expect(target.keys.base).toBe(target.idempotencyKey);
    expect(out.outputs.get('status')).toBe('published');
    expect(out.outputs.get('idempotency-key')).toBe(target.idempotencyKey);
    expect(out.outputs.get('url')).toBe('https://example.test/letmepost-1');
    expect(out.summaries.join('')).toContain('https://example.test/letmepost-1');
  });

  it('a second run is a new post, a re-run of the same run is the same post', async () => {
    const publishers = new Map<PublisherKind, MemoryPublisher>();
    const inputs = { ...LETMEPOST, ledger: 'off' };
    const { out } = await runOnce(inputs, { publishers, ctx: { runId: '2001' } });
    // The log says how the identity was decided, and what a re-run or a new run does.
    expect(out.infos).toContain('Post identity: run 2001 of .github/workflows/announce.yml, job announce, step post, on aaaaaaa: a re-run of this run is the same post (nothing new is posted); a new run is a new post.');
    await runOnce(inputs, { publishers, ctx: { runId: '2001', runAttempt: '2' } });
    await runOnce(inputs, { publishers, ctx: { runId: '2002' } });
    const keys = publishers.get('letmepost')!.published.map((t) => t.idempotencyKey);
    expect(keys[0]).toBe(keys[1]);
    expect(keys[2]).not.toBe(keys[0]);
  });

  it('bad inputs and missing credentials are reported together, and no publisher is even made', async () => {
    const { out, created } = await runOnce({ text: 'x'.repeat(300), platform: 'x', 'account-id': ACCOUNT });
    expect(created).toEqual([]);
    expect(out.errors.map((e) => e.message).join('\n')).toMatch(/is 300 characters.*over X \(Twitter\)'s limit of 280/);
    expect(out.errors.map((e) => e.message).join('\n')).toMatch(/letmepost-token/);
    expect(out.failures).toHaveLength(1);
    expect(out.failures[0]).toMatch(/^Nothing was posted: 2 problems/);
    expect(out.outputs.size).toBe(0);
  });

  it.each([
    ['a prerelease, with on-prerelease at its default (skip)', { prerelease: true }, {}, /Release v2\.0\.0-rc\.1 is a prerelease; nothing is posted \(on-prerelease: skip\)\. Set on-prerelease: post/],
    ['a draft, whatever on-prerelease says', { draft: true }, { 'on-prerelease': 'post' }, /Release v2\.0\.0-rc\.1 is a draft; nothing is posted/],
  ])('%s is not announced: nothing is sent, the log says why, status is skipped, the step succeeds', async (_name, flags, inputs, said) => {
    const payload = { release: { tag_name: 'v2.0.0-rc.1', html_url: 'https://github.com/octo/posts/releases/tag/v2.0.0-rc.1', prerelease: false, draft: false, ...flags } };
    const { out, created } = await runOnce({ ...LETMEPOST, ...inputs }, { ctx: { eventName: 'release', payload } });
    expect(created).toEqual([]);
    expect(out.failures).toEqual([]);
    expect(out.infos.join('\n')).toMatch(said);
    expect(out.outputs.get('status')).toBe('skipped');
  });

  it('a prerelease with on-prerelease: post is announced', async () => {
    const payload = { release: { tag_name: 'v2.0.0-rc.1', html_url: 'https://github.com/octo/posts/releases/tag/v2.0.0-rc.1', prerelease: true, draft: false } };
    const { out, publishers } = await runOnce({ ...LETMEPOST, 'on-prerelease': 'post', ledger: 'off' }, { ctx: { eventName: 'release', payload, runId: '3001' } });
    expect(out.failures).toEqual([]);
    expect(publishers.get('letmepost')!.published).toHaveLength(1);
    expect(out.outputs.get('status')).toBe('published');
  });

  it('languages and content labels reach the publishers that carry them, and only those', async () => {
    const targets = `- platform: bluesky\n  account: bluesky\n- platform: linkedin\n  account: ${ACCOUNT}`;
    const { out, publishers } = await runOnce({ text: 'hello', targets, languages: 'en, de', 'content-labels': 'graphic-media', 'bluesky-identifier': 'a.test', 'bluesky-app-password': 'p', 'letmepost-token': 'lmp_live_secret', ledger: 'off', 'dry-run': 'true' });
    expect(out.failures).toEqual([]);
    expect(publishers.get('bluesky')!.described[0]).toMatchObject({ languages: ['en', 'de'], labels: ['graphic-media'] });
    expect(publishers.get('letmepost')!.described[0]!.languages).toBeUndefined();
  });

  it('languages on a post that no publisher carries them to is an error naming the input', async () => {
    const { out, created } = await runOnce({ ...LETMEPOST, languages: 'en' });
    expect(created).toEqual([]);
    expect(out.errors.map((e) => e.message).join('\n')).toMatch(/Input 'languages' is set, but no target of this post carries it \(letmepost does not\); the direct Bluesky publisher and the direct Mastodon publisher do/);
  });

  it('a dry run describes the request and sends nothing', async () => {
    const { out, publishers } = await runOnce({ ...LETMEPOST, 'dry-run': 'true' });
    const letmepost = publishers.get('letmepost')!;
    expect(letmepost.published).toEqual([]);
    expect(letmepost.described).toHaveLength(1);
    expect(out.outputs.get('status')).toBe('validated');
    expect(out.summaries.join('')).toMatch(/dry run \(nothing was sent\)/);
    expect(out.failures).toEqual([]);
  });

  it('a re-run that finds the post in the ledger does not ask the platform again', async () => {
    const publishers = new Map<PublisherKind, MemoryPublisher>();
    const inputs = { ...LETMEPOST, 'github-token': TOKEN };
    const ctx = { runId: '3001', sha: origin.commit('release v1.2.0') };
    const first = await runOnce(inputs, { publishers, ctx });
    expect(first.out.failures).toEqual([]);
    // The intent before the request, the result after: both signed statuses on the commit.
    expect(github.allStatuses().flatMap(([sha, s]) => (sha === ctx.sha ? [s.state] : []))).toEqual(['pending', 'success']);
    const rerun = await runOnce(inputs, { publishers, ctx: { ...ctx, runAttempt: '2' } });
    expect(publishers.get('letmepost')!.published).toHaveLength(1);
    expect(rerun.out.outputs.get('url')).toBe('https://example.test/letmepost-1');
    expect(rerun.out.infos.join('\n')).toMatch(/already published by an earlier run/);
  });

  it.each([
    ['a transient failure', new PublishError('letmepost: HTTP 503', { retryable: true, code: 'failed' }), 'failed', /not posted \(transient; re-run to retry\)/],
    ['a refusal', new PublishError('letmepost: HTTP 422 text too long', { code: 'rejected' }), 'rejected', /^Not posted to linkedin$/],
    ['an unknown outcome', new PublishError('letmepost: no answer', { outcomeUnknown: true, code: 'failed' }), 'unknown', /may have been posted/],
  ] as const)('%s turns the job red with a title that says what a re-run does', async (_name, error, status, title) => {
    const publishers = new Map<PublisherKind, MemoryPublisher>([['letmepost', Object.assign(new MemoryPublisher('letmepost'), { fail: error })]]);
    const { out } = await runOnce({ ...LETMEPOST, ledger: 'off' }, { publishers });
    expect(out.outputs.get('status')).toBe(status);
    expect(out.errors).toHaveLength(1);
    expect(out.errors[0]!.title).toMatch(title);
    expect(out.failures).toEqual(['1 of 1 post target failed; see the errors above.']);
  });

  it('targets on several publishers are each published by their own', async () => {
    const targets = `- platform: linkedin\n  account: ${ACCOUNT}\n- platform: mastodon\n  account: mastodon`;
    const { out, publishers, created } = await runOnce({ text: 'hello', targets, 'letmepost-token': 'lmp_live_secret', 'mastodon-server': 'https://mastodon.example', 'mastodon-token': 'secret', ledger: 'off' });
    expect(out.failures).toEqual([]);
    expect(created.map((kinds) => [...kinds].sort())).toEqual([['letmepost', 'mastodon']]);
    expect(publishers.get('letmepost')!.published.map((t) => t.platform)).toEqual(['linkedin']);
    expect(publishers.get('mastodon')!.published.map((t) => t.platform)).toEqual(['mastodon']);
    expect(JSON.parse(out.outputs.get('results')!)).toHaveLength(2);
  });

  it('an unexpected error ends the run with one failure, never a throw', async () => {
    const out = new RecordingRunner();
    const { settings, errors } = parseInputs((name) => ({ ...DEFAULTS, ...LETMEPOST, ledger: 'off' })[name] ?? '');
    await expect(
      run(settings, errors, context(), {
        out,
        createPublishers: async () => {
          throw new Error('boom');
        },
      }),
    ).resolves.toBeUndefined();
    expect(out.failures).toEqual(['letmepost-action stopped unexpectedly: boom']);
  });
});

describe('the preview comment on a pull request', () => {
  let comments: FakeIssueComments;
  let repo: TempRepo;
  let base: string;

  beforeAll(() => {
    comments = new FakeIssueComments(github);
    repo = origin;
    base = repo.commitFiles('before the pull request', { 'README.md': '# widgets\n' });
  });

  const post = (text: string) => `text: ${JSON.stringify(text)}\ntargets:\n  - platform: linkedin\n    account: ${ACCOUNT}\n`;

  /** The preview run of pull request `number` at `head`, with the workflow's token unless told otherwise. */
  async function preview(number: number, head: string, opts: { inputs?: Record<string, string>; fork?: string } = {}) {
    const event = pullRequestEvent(base, head, { number, title: 'Launch posts', author: 'octocat' });
    const pr = event.payload.pull_request as { head: Record<string, unknown> };
    pr.head.repo = { full_name: opts.fork ?? 'octo/posts' };
    repo.checkout(head);
    return runOnce({ 'github-token': TOKEN, ...opts.inputs }, { ctx: { eventName: 'pull_request', payload: event.payload as Record<string, unknown>, sha: head, workspace: repo.dir, runId: '4001' } });
  }

  it('appears once, and is updated in place on the next push', async () => {
    repo.checkout(base);
    const first = repo.commitFiles('a launch post', { 'posts/launch.yml': post('We launch on Monday') });
    const run1 = await preview(11, first);
    expect(run1.out.failures).toEqual([]);
    expect(comments.on(11)).toHaveLength(1);
    const [comment] = comments.on(11);
    expect(comment!.body).toMatch(/^<!-- letmepost-action preview: \.github\/workflows\/announce\.yml#announce\/post -->\n/);
    expect(comment!.body).toContain('We launch on Monday');
    expect(comment!.body).toContain('/actions/runs/4001');

    const second = repo.commitFiles('the launch moves', { 'posts/launch.yml': post('We launch on Tuesday') });
    const run2 = await preview(11, second);
    expect(run2.out.failures).toEqual([]);
    expect(comments.on(11)).toHaveLength(1);
    expect(comments.on(11)[0]!.id).toBe(comment!.id);
    expect(comments.on(11)[0]!.body).toContain('We launch on Tuesday');
    expect(comments.on(11)[0]!.body).not.toContain('Monday');
  });

  it('a re-run with nothing changed sends no write at all', async () => {
    repo.checkout(base);
    const head = repo.commitFiles('a post', { 'posts/rerun.yml': post('Same text') });
    await preview(12, head);
    const writes = () => github.requests.filter((r) => r.method !== 'GET' && /\/issues\//.test(r.path)).length;
    const before = writes();
    await preview(12, head);
    expect(writes()).toBe(before);
    expect(comments.on(12)).toHaveLength(1);
  });

  it("a person's comment that quotes the marker is never taken for the preview", async () => {
    repo.checkout(base);
    const head = repo.commitFiles('a post', { 'posts/quoted.yml': post('Quoted') });
    const marker = '<!-- letmepost-action preview: .github/workflows/announce.yml#announce/post -->';
    comments.addComment(13, `${marker}\nI copied this`);
    await preview(13, head);
    expect(comments.on(13).map((c) => c.user.type)).toEqual(['User', 'Bot']);
    expect(comments.on(13)[0]!.body).toBe(`${marker}\nI copied this`);
  });

  it('shows the problems of an invalid post file, and the step still fails on them', async () => {
    repo.checkout(base);
    const head = repo.commitFiles('a broken post', { 'posts/broken.yml': 'text: hi\nsheduledAt: 2030-01-01T09:00:00Z\ntargets:\n  - platform: linkedin\n    account: ' + ACCOUNT + '\n' });
    const { out } = await preview(14, head);
    expect(out.failures).toHaveLength(1);
    expect(comments.on(14)).toHaveLength(1);
    expect(comments.on(14)[0]!.body).toMatch(/1 problem to fix/);
    expect(comments.on(14)[0]!.body).toContain("posts/broken.yml:2:1: 'sheduledAt' is not a field; did you mean 'scheduledAt'?");
  });

  it('is marked resolved when the pull request no longer adds post files', async () => {
    repo.checkout(base);
    const head = repo.commitFiles('a post', { 'posts/gone.yml': post('Soon gone') });
    await preview(15, head);
    repo.checkout(head);
    repo.remove('posts/gone.yml');
    const without = repo.commit('the post is dropped');
    await preview(15, without);
    expect(comments.on(15)).toHaveLength(1);
    expect(comments.on(15)[0]!.body).toMatch(/no longer adds or changes any post file/);
    expect(comments.on(15)[0]!.body).not.toContain('Soon gone');
  });

  it('from a fork: the job summary alone, one notice, no request, never a failure', async () => {
    repo.checkout(base);
    const head = repo.commitFiles('a post', { 'posts/fork.yml': post('From a fork') });
    const before = github.requests.length;
    const { out } = await preview(16, head, { fork: 'mallory/posts' });
    expect(out.failures).toEqual([]);
    expect(out.notices).toHaveLength(1);
    expect(out.notices[0]).toMatch(/fork mallory\/posts, whose token can only read/);
    expect(github.requests.slice(before).filter((r) => /\/issues\//.test(r.path))).toEqual([]);
    expect(out.summaries.join('')).toContain('From a fork');
  });

  it('a token that may not comment: one notice naming the permission, never a failure', async () => {
    repo.checkout(base);
    const head = repo.commitFiles('a post', { 'posts/denied.yml': post('Denied') });
    comments.denyWrites = true;
    try {
      const { out } = await preview(17, head);
      expect(out.failures).toEqual([]);
      expect(out.notices).toHaveLength(1);
      expect(out.notices[0]).toMatch(/pull-requests: write/);
    } finally {
      comments.denyWrites = false;
    }
  });

  it('preview-comment: false leaves the pull request alone', async () => {
    repo.checkout(base);
    const head = repo.commitFiles('a post', { 'posts/off.yml': post('Off') });
    const { out } = await preview(18, head, { inputs: { 'preview-comment': 'false' } });
    expect(out.notices).toEqual([]);
    expect(comments.on(18)).toEqual([]);
  });

  it('1,000 posts stay within the 65,536-character limit and point to the job summary', async () => {
    repo.checkout(base);
    const files = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`posts/many/p${String(i).padStart(4, '0')}.yml`, post(`Post number ${i} ${'x'.repeat(120)}`)]));
    const head = repo.commitFiles('a thousand posts', files);
    const { out } = await preview(19, head);
    expect(out.failures).toEqual([]);
    const [comment] = comments.on(19);
    expect(comment!.body.length).toBeLessThanOrEqual(65_536);
    expect(comment!.body).toMatch(/more posts, validated but not shown: a comment is limited to 65,536 characters; \[the job summary\]\(https:\/\/github\.com\/octo\/posts\/actions\/runs\/4001\) shows them/);
  }, 120_000);
});

