/**
 * A release with real-looking notes, announced by the bundle on Node 24 to the real PDS
 * (Bluesky, a thread), a fake X (its own short text), a fake Mastodon (a thread) and LinkedIn
 * through the fake letmepost (one truncated post): each platform gets its native form, nobody
 * is tagged, every link facet covers its label at the right UTF-8 byte offsets, exactly once.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runAction, type ActionRun } from '../support/action.js';
import { startFakeMastodon, type FakeMastodon } from '../support/fake-mastodon.js';
import { FAKE_X_CREDENTIALS, startFakeX } from '../support/fake-x.js';
import type { FakeLetmepost } from '../support/fake-letmepost.js';
import { sharedPds, type SharedPds, type TestAccount } from '../support/shared-pds.js';
import { ACCOUNT, fixtures, GITHUB_TOKEN, githubEnv, LETMEPOST_TOKEN, log, postedText, postRequests, results } from '../support/scenario.js';

const { repository, github, letmepost, cleanup, defer } = fixtures();
afterAll(cleanup);

const MASTODON_TOKEN = 'mastodon_release_notes_token';
const payload = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'release-published.json'), 'utf8')) as { release: { html_url: string; body: string; tag_name: string } };
const RELEASE_URL = payload.release.html_url;

let pds: SharedPds;
let alice: TestAccount;
let mastodon: FakeMastodon;
let x: Awaited<ReturnType<typeof startFakeX>>;
let server: FakeLetmepost;
let first: ActionRun;
let rerun: ActionRun;
let dryRun: ActionRun;

function announce(attempt: number, extra: Record<string, string> = {}): Promise<ActionRun> {
  return runAction({
    workspace: workspaceDir,
    event: { name: 'release', payload },
    inputs: {
      targets: `- platform: bluesky\n  account: bluesky\n- platform: x\n  account: x\n- platform: mastodon\n  account: mastodon\n- platform: linkedin\n  account: ${ACCOUNT.linkedin}`,
      text: '{{ repository.name }} {{ release.tag_name }} is out 🎉\n\n{{ release.body }}',
      'text-x': '{{ repository.name }} {{ release.tag_name }} is out: {{ release.html_url }}',
      'release-notes': 'thread',
      'max-thread-posts': '6',
      'link-card': 'false',
      'bluesky-identifier': alice.handle,
      'bluesky-app-password': alice.appPassword,
      'bluesky-service': pds.url,
      'mastodon-server': mastodon.url,
      'mastodon-token': MASTODON_TOKEN,
      'x-api-url': x.url,
      'x-api-key': FAKE_X_CREDENTIALS.consumerKey,
      'x-api-secret': FAKE_X_CREDENTIALS.consumerSecret,
      'x-access-token': FAKE_X_CREDENTIALS.token,
      'x-access-token-secret': FAKE_X_CREDENTIALS.tokenSecret,
      'letmepost-token': LETMEPOST_TOKEN,
      'letmepost-api-url': server.url,
      'github-token': GITHUB_TOKEN,
      ...extra,
    },
    env: githubEnv(gh, sha, `refs/tags/${payload.release.tag_name}`, { GITHUB_RUN_ATTEMPT: String(attempt) }),
  });
}

let workspaceDir: string;
let sha: string;
let gh: Awaited<ReturnType<typeof github>>;

beforeAll(async () => {
  pds = await sharedPds();
  alice = await pds.createAccount('notes');
  mastodon = await startFakeMastodon({ token: MASTODON_TOKEN });
  defer(() => mastodon.close());
  x = await startFakeX();
  defer(() => x.close());
  server = await letmepost();
  const repo = repository();
  sha = repo.commitFiles('release', { 'README.md': '# widgets\n' });
  workspaceDir = repo.dir;
  gh = await github(repo);
  first = await announce(1);
  rerun = await announce(2);
  dryRun = await announce(1, { 'dry-run': 'true' });
});

/** The Bluesky posts of the run, oldest first, with their records. */
async function blueskyPosts() {
  return (await pds.listPosts(alice.did)).sort((a, b) => a.rkey.localeCompare(b.rkey));
}

describe('a release announced with its notes', () => {
  it('every target is published, once: the re-run posts nothing more anywhere', async () => {
    expect(first.code, log(first)).toBe(0);
    expect(rerun.code, log(rerun)).toBe(0);
    expect(results(rerun).every((r) => r.replayed)).toBe(true);
    const posts = await blueskyPosts();
    expect(posts.length).toBe(results(first).filter((r) => r.platform === 'bluesky').length);
    expect(x.tweetRequests()).toHaveLength(1);
    expect(postRequests(server)).toHaveLength(1);
  });

  it('Bluesky: a thread of whole paragraphs and list items, no Markdown, nobody mentioned, links as facets over their labels', async () => {
    const posts = await blueskyPosts();
    expect(posts.length).toBeGreaterThan(1);
    expect(posts.length).toBeLessThanOrEqual(6);
    const texts = posts.map((p) => p.value.text as string);
    expect(texts[0]).toMatch(/^widgets v\d.* is out 🎉\n\n/);
    for (const text of texts) {
      expect(text).not.toMatch(/^#{1,6} |<!--|<details>|!\[|\]\(|\*\*|`/m);
      expect(text).not.toMatch(/(^|\s)@[a-z0-9-]+\b(?!\.)/i);
      expect([...new Intl.Segmenter().segment(text)].length).toBeLessThanOrEqual(300);
    }
    const facets = posts.flatMap((p) => ((p.value.facets ?? []) as Array<{ index: { byteStart: number; byteEnd: number }; features: Array<{ $type: string; uri?: string }> }>).map((f) => ({ text: p.value.text as string, ...f })));
    expect(facets.some((f) => f.features.some((x) => x.$type === 'app.bsky.richtext.facet#mention'))).toBe(false);
    const links = facets.filter((f) => f.features[0]!.$type === 'app.bsky.richtext.facet#link');
    expect(links.length).toBeGreaterThan(3);
    for (const link of links) {
      const label = Buffer.from(link.text, 'utf8').subarray(link.index.byteStart, link.index.byteEnd).toString('utf8');
      expect(label.trim()).toBe(label);
      expect(label.length).toBeGreaterThan(0);
      expect(link.features[0]!.uri).toMatch(/^https:\/\//);
    }
    // A GitHub reference is a link to GitHub, not a mention or a hashtag.
    expect(links.some((l) => /^https:\/\/github\.com\/[^/]+\/[^/]+\/(issues|pull)\/\d+$/.test(l.features[0]!.uri!))).toBe(true);
  });

  it('X: its own text, one tweet, within its length', () => {
    const [tweet] = x.tweetRequests();
    expect(JSON.parse(tweet!.body).text).toBe(`widgets ${payload.release.tag_name} is out: ${RELEASE_URL}`);
  });

  it('Mastodon: a thread, written out with plain URLs, nobody tagged', () => {
    const texts = mastodon.statuses.map((s) => s.text);
    expect(texts.length).toBeGreaterThan(1);
    for (const text of texts) {
      expect(text).not.toMatch(/(^|\s)@[a-z0-9-]+\b/i);
      // As Mastodon counts: every link 23 characters.
      expect([...text.replace(/https?:\/\/\S+/g, 'x'.repeat(23))].length).toBeLessThanOrEqual(500);
    }
  });

  it('LinkedIn through letmepost: one post, cut after whole blocks, ending with … and the release link', () => {
    const text = postedText(postRequests(server)[0]!);
    expect(text).toMatch(/^widgets v\S+ is out 🎉\n\n/);
    expect(text.endsWith(` …\n${RELEASE_URL}`) || !text.includes('…')).toBe(true);
    expect([...text].length).toBeLessThanOrEqual(3000);
    expect(text).not.toMatch(/(^|\s)@[a-z0-9-]+\b/i);
  });

  it("the preview (a dry run's job summary) shows each platform its own version", () => {
    expect(dryRun.code, log(dryRun)).toBe(0);
    expect(dryRun.summary).toMatch(/\*\*X \(Twitter\)\*\*\n\n```text\nwidgets v2\.0\.0 is out: https:/);
    expect(dryRun.summary).toMatch(/\*\*Bluesky\*\*\n\n\*\*Post 1 of \d\*\*/);
    expect(dryRun.summary).toMatch(/\*\*LinkedIn\*\*/);
  });
});
