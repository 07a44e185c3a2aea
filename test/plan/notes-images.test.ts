/**
 * `notesImages`: which images of the notes are taken (GitHub's attachments and this
 * repository's files, in order, never badges or pictures from elsewhere), and what is refused
 * (no alt text, GitHub's "image" for a pasted screenshot, a download that fails) — pure, with
 * an injected downloader.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { githubImageUrl, resolveNotesImages, type NotesImagesOptions } from '../../src/plan/notes-images.js';
import { markdownImages } from '../../src/text/markdown.js';
import { png } from '../support/images.js';

const SERVER = 'https://github.com';
const REPO = 'octo/widgets';
const tempDir = mkdtempSync(join(tmpdir(), 'notes-images-'));
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

describe('the images of a Markdown text', () => {
  it.each<[string, string, Array<[string, string]>]>([
    ['an inline image', 'Look: ![The dashboard](https://x.test/a.png) here', [['https://x.test/a.png', 'The dashboard']]],
    ['a reference image, defined after it', '![Dark mode][dm]\n\n[dm]: https://x.test/dm.png', [['https://x.test/dm.png', 'Dark mode']]],
    ['the <img> GitHub writes for a pasted screenshot', '<img width="800" alt="image" src="https://github.com/user-attachments/assets/5d1c">', [['https://github.com/user-attachments/assets/5d1c', 'image']]],
    ['an <img> with single quotes and entities', "<p><img src='https://x.test/b.png' alt='Charts &amp; graphs'></p>", [['https://x.test/b.png', 'Charts & graphs']]],
    ['none in code', '`![no](https://x.test/c.png)`\n\n```\n![no](https://x.test/d.png)\n```', []],
    ['none in an HTML comment', '<!-- <img src="https://x.test/e.png" alt="hidden"> -->', []],
    ['none in <details>', '<details>\n<summary>More</summary>\n\n![Hidden](https://x.test/f.png)\n\n</details>\n\n![Shown](https://x.test/g.png)', [['https://x.test/g.png', 'Shown']]],
    ['in order, in lists and links', '- ![One](https://x.test/1.png)\n- [![Two](https://x.test/2.png)](https://x.test)', [['https://x.test/1.png', 'One'], ['https://x.test/2.png', 'Two']]],
  ])('%s', (_, markdown, expected) => {
    expect(markdownImages(markdown).map((i) => [i.url, i.alt])).toEqual(expected);
  });
});

describe("which images are GitHub's own", () => {
  it.each<[string, string, string, string | undefined]>([
    ['an attachment', SERVER, 'https://github.com/user-attachments/assets/0f1e2d3c-aaaa', 'https://github.com/user-attachments/assets/0f1e2d3c-aaaa'],
    ["an older attachment of this repository", SERVER, 'https://github.com/octo/widgets/assets/12/0f1e', 'https://github.com/octo/widgets/assets/12/0f1e'],
    ['a legacy user-images attachment', SERVER, 'https://user-images.githubusercontent.com/1/shot.png', 'https://user-images.githubusercontent.com/1/shot.png'],
    ['a raw file of this repository', SERVER, 'https://raw.githubusercontent.com/octo/widgets/main/docs/shot.png', 'https://raw.githubusercontent.com/octo/widgets/main/docs/shot.png'],
    ['a blob with ?raw=true, fetched as raw', SERVER, 'https://github.com/Octo/Widgets/blob/main/docs/shot.png?raw=true', 'https://github.com/Octo/Widgets/raw/main/docs/shot.png'],
    ['a blob page (HTML)', SERVER, 'https://github.com/octo/widgets/blob/main/docs/shot.png', undefined],
    ["another repository's file", SERVER, 'https://raw.githubusercontent.com/evil/repo/main/x.png', undefined],
    ['a workflow badge', SERVER, 'https://github.com/octo/widgets/actions/workflows/ci.yml/badge.svg', undefined],
    ['a shields.io badge', SERVER, 'https://img.shields.io/npm/v/widgets', undefined],
    ['http on github.com', SERVER, 'http://github.com/user-attachments/assets/0f1e', undefined],
    ['credentials in the URL', SERVER, 'https://me:pw@github.com/user-attachments/assets/0f1e', undefined],
    ['an attachment on GitHub Enterprise', 'https://ghe.example.com', 'https://ghe.example.com/user-attachments/assets/0f1e', 'https://ghe.example.com/user-attachments/assets/0f1e'],
    ["github.com's host from GitHub Enterprise", 'https://ghe.example.com', 'https://user-images.githubusercontent.com/1/shot.png', undefined],
    ['not a URL', SERVER, 'docs/shot.png', undefined],
  ])('%s', (_, server, url, expected) => {
    expect(githubImageUrl(url, server, REPO)).toBe(expected);
  });
});

describe('notesImages', () => {
  const shot = png(320, 200);
  function options(body: string, over: Partial<NotesImagesOptions> = {}): NotesImagesOptions {
    return { payload: { release: { body } }, serverUrl: SERVER, repository: REPO, download: async () => shot, tempDir, maxBytes: 1_000_000, limit: 4, provisional: false, ...over };
  }
  const attachment = (n: number, alt: string) => `![${alt}](https://github.com/user-attachments/assets/${n})`;

  it("takes GitHub's images in order, up to the limit, each with its own alt text, typed and measured from its bytes", async () => {
    const body = [attachment(1, 'One'), '![badge](https://img.shields.io/x)', attachment(2, 'Two'), attachment(1, 'One again'), attachment(3, 'Three')].join('\n\n');
    const media = await resolveNotesImages(options(body, { limit: 2 }));
    expect(media.map((m) => [m.alt, m.mimeType, m.width, m.height, m.size])).toEqual([['One', 'image/png', 320, 200, shot.length], ['Two', 'image/png', 320, 200, shot.length]]);
    expect(readFileSync(media[0]!.path!)).toEqual(shot);
  });

  it('notes without images: no media, nothing downloaded', async () => {
    let asked = 0;
    expect(await resolveNotesImages(options('Just text. ![a badge](https://img.shields.io/x)', { download: async () => (asked++, shot) }))).toEqual([]);
    expect(asked).toBe(0);
  });

  it("takes a merged pull request's description when there is no release", async () => {
    const media = await resolveNotesImages(options('', { payload: { pull_request: { body: attachment(9, 'The new menu') } } }));
    expect(media.map((m) => m.alt)).toEqual(['The new menu']);
  });

  it.each<[string, Partial<NotesImagesOptions> & { body?: string }, RegExp]>([
    ['an image without alt text', { body: attachment(1, '') }, /takes image 1 of the release notes \(https:\/\/github\.com\/user-attachments\/assets\/1\), which has no alt text; describe it in the notes/],
    ["GitHub's 'image' for a pasted screenshot", { body: '<img alt="image" src="https://github.com/user-attachments/assets/2">' }, /whose alt text 'image' describes nothing \(GitHub writes that for a pasted image\)/],
    ["a screenshot's file name", { body: attachment(3, 'Screenshot 2026-12-01 at 10.00.00') }, /whose alt text 'Screenshot 2026-12-01 at 10\.00\.00' describes nothing/],
    ['a download refused (a private repository)', { body: attachment(4, 'Shot'), download: () => Promise.reject(new (class extends Error {})('x')) }, /could not be downloaded: the download failed \(network\)\. A workflow fetches images without signing in, so those of a private repository cannot be fetched: attach the image to the release and use releaseAsset/],
    ['not an image', { body: attachment(5, 'Shot'), download: async () => Buffer.from('<html>') }, /takes the image 1 of the release notes .* which is not a PNG, JPEG, GIF, WebP image or an MP4\/MOV video/],
    ['an event without notes', { payload: { inputs: {} } }, /this run's event has no release and no pull request/],
  ])('refused: %s', async (_, over, said) => {
    const { body = '', ...rest } = over;
    await expect(resolveNotesImages(options(body, rest))).rejects.toThrow(said);
  });

  it.each([
    ['an event without notes', {}],
    ["a pull request (its description is not the notes; it may come from a fork)", { pull_request: { body: attachment(9, 'The new menu') } }],
  ])('in a preview of %s: a placeholder, nothing downloaded', async (_, payload) => {
    let asked = 0;
    const media = await resolveNotesImages(options('', { payload, provisional: true, download: async () => (asked++, shot) }));
    expect(media).toEqual([{ kind: 'image', displayPath: 'the images of the notes (downloaded when the release or merged pull request publishes it)' }]);
    expect(asked).toBe(0);
  });
});
