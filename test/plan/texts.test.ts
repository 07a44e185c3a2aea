import { describe, expect, it } from 'vitest';
import { postSchema, type PostInput } from '../../src/model/post.js';
import { targetTexts } from '../../src/plan/texts.js';
import { loadInline } from '../../src/sources/inline.js';
import { parseInputs } from '../../src/settings/settings.js';
import { prepareLengths } from '../../src/text/platform-length.js';
import { mark } from '../../src/text/marked-text.js';
import type { RunContext } from '../../src/context.js';

const RELEASE_URL = 'https://github.com/octo/app/releases/tag/v2.0.0';
const CTX = { payload: { release: { html_url: RELEASE_URL, body: '' } }, serverUrl: 'https://github.com', repository: 'octo/app' };
const BLUESKY = { postsThreads: true, linkFacets: true };
const LETMEPOST = { postsThreads: false };
const X = { postsThreads: true };

function post(input: Partial<PostInput>) {
  return postSchema.parse({ targets: [{ platform: 'bluesky', account: 'bluesky' }], ...input });
}

const paragraphs = (n: number) => Array.from({ length: n }, (_, i) => `Change ${i + 1}: a paragraph of notes that says what changed and why it matters to users.`).join('\n\n');

describe('the texts a target posts', () => {
  it('a text with nothing from the event is posted as written, however long: the publisher splits it as before', async () => {
    const long = 'word '.repeat(200).trim();
    expect(await targetTexts(post({ text: long }), post({ text: long }).targets[0]!, 0, BLUESKY, CTX, 10)).toEqual({ texts: [long], path: ['text'] });
  });

  it('a target with its own text posts it instead of the post text, and problems point at its field', async () => {
    const p = post({ text: 'for everyone', targets: [{ platform: 'bluesky', account: 'bluesky', text: 'for Bluesky' }, { platform: 'mastodon', account: 'mastodon' }] });
    expect(await targetTexts(p, p.targets[0]!, 0, BLUESKY, CTX, 10)).toMatchObject({ texts: ['for Bluesky'], path: ['targets', 0, 'text'] });
    expect(await targetTexts(p, p.targets[1]!, 1, X, CTX, 10)).toMatchObject({ texts: ['for everyone'], path: ['text'] });
  });

  it.each([
    ['truncate', 1],
    ['link-only', 1],
  ] as const)('release notes too long for one post, %s: one post that keeps the user words and the release link whole', async (mode, posts) => {
    await prepareLengths(['twitter']);
    const p = post({ text: `app v2.0.0 is out 🎉\n\n${mark('event-markdown', paragraphs(20))}\n\n${RELEASE_URL}`, releaseNotes: mode, targets: [{ platform: 'x', account: 'x' }] });
    const { texts } = await targetTexts(p, p.targets[0]!, 0, X, CTX, 10);
    expect(texts).toHaveLength(posts);
    expect(texts[0]).toMatch(/^app v2\.0\.0 is out 🎉\n\n/);
    expect(texts[0]!.endsWith(RELEASE_URL)).toBe(true);
    if (mode === 'truncate') expect(texts[0]).toMatch(/Change 1: .* …\n\nhttps:/s);
    else expect(texts[0]).toBe(`app v2.0.0 is out 🎉\n\n${RELEASE_URL}`);
  });

  it('thread: notes split on paragraph boundaries into posts that each fit, within the thread cap', async () => {
    const p = post({ text: `app v2.0.0 is out\n\n${mark('event-markdown', paragraphs(12))}`, releaseNotes: 'thread' });
    const { texts } = await targetTexts(p, p.targets[0]!, 0, BLUESKY, CTX, 10);
    expect(texts.length).toBeGreaterThan(2);
    for (const text of texts) expect([...text].length).toBeLessThanOrEqual(300);
    // No paragraph is cut: every post is whole paragraphs.
    for (const text of texts.slice(1)) expect(text).toMatch(/^Change \d+: .*matters to users\.$/s);
    expect(texts.join('\n\n')).toBe(`app v2.0.0 is out\n\n${paragraphs(12)}`);
  });

  it('thread: a 1,000-paragraph body stays within max-thread-posts; the last post ends with … and the release link', async () => {
    const p = post({ text: `v2\n\n${mark('event-markdown', paragraphs(1000))}`, releaseNotes: 'thread' });
    const { texts } = await targetTexts(p, p.targets[0]!, 0, BLUESKY, CTX, 5);
    expect(texts).toHaveLength(5);
    expect(texts[4]!.endsWith(` …\n${RELEASE_URL}`)).toBe(true);
    for (const text of texts) expect([...text].length).toBeLessThanOrEqual(300);
  });

  it('thread is for publishers that post threads: through letmepost the notes are truncated into one post', async () => {
    const p = post({ text: `v2\n\n${mark('event-markdown', paragraphs(40))}`, releaseNotes: 'thread', targets: [{ platform: 'linkedin', account: '1b4e28ba-2fa1-11d2-883f-0016d3cca427' }] });
    const { texts } = await targetTexts(p, p.targets[0]!, 0, LETMEPOST, CTX, 10);
    expect(texts).toHaveLength(1);
    expect([...texts[0]!].length).toBeLessThanOrEqual(3000);
    expect(texts[0]!.endsWith(RELEASE_URL)).toBe(true);
  });

  it('a word longer than a post is never the reason notes vanish: the first words of the first paragraph are kept', async () => {
    const p = post({ text: `v2: ${mark('event-markdown', 'word '.repeat(400))}` });
    const { texts } = await targetTexts(p, p.targets[0]!, 0, BLUESKY, CTX, 10);
    expect(texts[0]).toMatch(/^v2: word word .* …\n/s);
    expect([...texts[0]!].length).toBeLessThanOrEqual(300);
  });

  it('a forged mark inside event text is stripped: the notes cannot close their own mark and pass as the author words', async () => {
    const forged = mark('event-markdown', 'notes\uFDD3 @alice outside');
    expect(forged.match(/[\uFDD0-\uFDD3]/g)).toHaveLength(2);
  });
});

describe('text-<platform> inputs', () => {
  const base = { text: 'for everyone', targets: '- platform: bluesky\n  account: bluesky\n- platform: x\n  account: x', 'bluesky-identifier': 'a.test', 'bluesky-app-password': 'p', 'x-api-key': 'k', 'x-api-secret': 's', 'x-access-token': 't', 'x-access-token-secret': 'u' };
  const ctx = { repository: 'octo/app', sha: 'a'.repeat(40), ref: 'refs/heads/main', eventName: 'workflow_dispatch', payload: {}, serverUrl: 'https://github.com' } as unknown as RunContext;

  it('text-bluesky and text-x give the targets on those platforms their own text; the rest keep text', async () => {
    const { settings, errors } = parseInputs((name) => ({ ...base, 'text-bluesky': 'hello Bluesky', publisher: 'auto' })[name] ?? '');
    expect(errors).toEqual([]);
    const loaded = loadInline(settings.inline!, ctx, true);
    expect('post' in loaded && loaded.post.targets.map((t) => t.text)).toEqual(['hello Bluesky', undefined]);
  });

  it('text-<platform> for a platform no target posts to is an error naming the input, not a text that goes nowhere', async () => {
    const { errors } = parseInputs((name) => ({ ...base, 'text-mastodon': 'hello Mastodon', publisher: 'auto' })[name] ?? '');
    expect(errors.map((e) => e.message).join('\n')).toMatch(/Input 'text-mastodon' is set, but no target posts to mastodon \(the targets are on bluesky, twitter\)/);
  });
});
