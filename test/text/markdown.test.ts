import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { joinBlocks, neutralizeReferences, renderMarkdown, type MarkdownOptions, type RichText } from '../../src/text/markdown.js';
import { REPO_ROOT } from '../support/action.js';

const FACETS: MarkdownOptions = { links: 'facets', repositoryUrl: 'https://github.com/octo/app', serverUrl: 'https://github.com' };
const INLINE: MarkdownOptions = { ...FACETS, links: 'inline' };

const render = (md: string, opts = FACETS) => joinBlocks(renderMarkdown(md, opts));
/** Each link as "label → url", read back from the text by its offsets. */
const linked = (rich: RichText) => rich.links.map((l) => `${rich.text.slice(l.start, l.end)} → ${l.url}`);

describe('GitHub Markdown rendered as a post', () => {
  it.each([
    ['headings lose their #', '## Highlights\n\nFaster.', 'Highlights\nFaster.'],
    ['list markers become bullets, one line each', '- one\n- two\n* three', '• one\n• two\n• three'],
    ['ordered lists keep their numbers', '3. three\n4. four', '3. three\n4. four'],
    ['nested lists are indented', '- one\n  - inner', '• one\n  • inner'],
    ['emphasis, strong and strikethrough are their words', 'a *b* **c** ~~d~~', 'a b c d'],
    ['code spans lose their backticks', 'run `widgets --fast` now', 'run widgets --fast now'],
    ['a fenced code block is its content', '```sh\nwidgets sync\n```', 'widgets sync'],
    ['soft line breaks and runs of spaces are one space', 'one\ntwo   three', 'one two three'],
    ['a hard line break stays', 'one  \ntwo', 'one\ntwo'],
    ['images are dropped, their sentence kept', 'See ![shot](https://x.test/a.png) here.', 'See here.'],
    ['HTML comments are removed', 'a\n\n<!-- hidden -->\n\nb', 'a\n\nb'],
    ['<details> blocks are removed with their content', 'a\n\n<details>\n<summary>More</summary>\n\n- secret\n\n</details>\n\nb', 'a\n\nb'],
    ['other HTML keeps its text', '<p align="center">Centered &amp; bold</p>', 'Centered & bold'],
    ['inline tags are dropped', 'a <kbd>Ctrl</kbd> b', 'a Ctrl b'],
    ['tables become one line per row', '| a | b |\n|---|---|\n| 1 | 2 |', 'a · b\n\n1 · 2'],
    ['block quotes are their text', '> quoted\n> more', 'quoted more'],
    ['thematic breaks go', 'a\n\n---\n\nb', 'a\n\nb'],
    ['footnotes go', 'a[^1]\n\n[^1]: note', 'a'],
    ['control characters go', 'a\u0007b\u009bc', 'abc'],
  ])('%s', (_name, md, expected) => {
    expect(render(md).text).toBe(expected);
  });

  it.each([
    ['a link shows its label with the URL beside it (Bluesky)', FACETS, 'Read [the guide](https://x.test/guide).', 'Read the guide.', ['the guide → https://x.test/guide']],
    ['a link is label (url) where a platform has no links in text', INLINE, 'Read [the guide](https://x.test/guide).', 'Read the guide (https://x.test/guide).', ['https://x.test/guide → https://x.test/guide']],
    ['a bare URL is itself', INLINE, 'At https://x.test/a now', 'At https://x.test/a now', ['https://x.test/a → https://x.test/a']],
    ['a relative link points into the repository', FACETS, '[docs](docs/a.md)', 'docs', ['docs → https://github.com/octo/app/blob/HEAD/docs/a.md']],
    ['a javascript: link is no link', FACETS, '[click](javascript:alert(1))', 'click', []],
    ['a reference link is resolved', FACETS, '[guide][g]\n\n[g]: https://x.test/g', 'guide', ['guide → https://x.test/g']],
  ])('%s', (_name, opts, md, text, links) => {
    const rich = render(md, opts);
    expect(rich.text).toBe(text);
    expect(linked(rich)).toEqual(links);
  });
});

describe('GitHub references never tag anyone', () => {
  it.each([
    ['@handle loses its @ and links to the profile on Bluesky', 'thanks @alice!', 'thanks alice!', ['alice → https://github.com/alice']],
    ['#123 links to the issue', 'fixes #123', 'fixes #123', ['#123 → https://github.com/octo/app/issues/123']],
    ['GH-123 is the same issue', 'closes GH-7', 'closes #7', ['#7 → https://github.com/octo/app/issues/7']],
    ['owner/repo#123 links to that repository', 'see octo/cli#44', 'see octo/cli#44', ['octo/cli#44 → https://github.com/octo/cli/issues/44']],
    ['@org/team links to the team', 'ask @octo/core', 'ask octo/core', ['octo/core → https://github.com/orgs/octo/teams/core']],
    ['an email is not a mention', 'mail a@b.com', 'mail a@b.com', []],
    ['a URL fragment is not an issue', 'https://x.test/p#12', 'https://x.test/p#12', ['https://x.test/p#12 → https://x.test/p#12']],
  ])('%s', (_name, md, text, links) => {
    const rich = render(md);
    expect(rich.text).toBe(text);
    expect(linked(rich)).toEqual(links);
    // Without links beside the text: the same words, no @.
    expect(render(md, INLINE).text).toBe(text);
  });

  it('references in code are left as written: code is quoted, not prose', () => {
    expect(render('run `git log @alice #1`').text).toBe('run git log @alice #1');
  });

  it("a post file's own Markdown keeps its mentions: the author wrote them", () => {
    expect(render('hi @alice.bsky.social', { ...FACETS, references: 'keep' }).text).toBe('hi @alice.bsky.social');
  });

  it('a PR title is neutralised without Markdown rendering', () => {
    const rich = neutralizeReferences('Fix *stars* for @bob (#9)', FACETS);
    expect(rich.text).toBe('Fix *stars* for bob (#9)');
    expect(linked(rich)).toEqual(['bob → https://github.com/bob', '#9 → https://github.com/octo/app/issues/9']);
  });
});

describe("GitHub's generated release notes", () => {
  const payload = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'release-published.json'), 'utf8')) as { release: { body: string } };

  it('each change is its title and its pull request number; authors and long links go', () => {
    const rich = render('## What\'s Changed\n* Fix the `sync` by @bob in https://github.com/octo/app/pull/12\n* Bump x by @dependabot[bot] in https://github.com/octo/app/pull/13');
    expect(rich.text).toBe("What's Changed\n• Fix the sync (#12)\n• Bump x (#13)");
    expect(linked(rich)).toEqual(['#12 → https://github.com/octo/app/pull/12', '#13 → https://github.com/octo/app/pull/13']);
    expect(render("* Fix the `sync` by @bob in https://github.com/octo/app/pull/12", INLINE).text).toBe('• Fix the sync (#12)');
  });

  it('new contributors are one line of names; the full changelog is one link', () => {
    const rich = render('## New Contributors\n* @frank made their first contribution in https://github.com/octo/app/pull/5\n* @grace-h made their first contribution in https://github.com/octo/app/pull/7\n\n**Full Changelog**: https://github.com/octo/app/compare/v1...v2');
    expect(rich.text).toBe('New contributors: frank, grace-h\n\nFull changelog');
    expect(linked(rich)).toEqual(['frank → https://github.com/frank', 'grace-h → https://github.com/grace-h', 'Full changelog → https://github.com/octo/app/compare/v1...v2']);
    expect(render('**Full Changelog**: https://github.com/octo/app/compare/v1...v2', INLINE).text).toBe('Full changelog: https://github.com/octo/app/compare/v1...v2');
  });

  it('a real release body: no Markdown, no HTML, no @, every link over its own label', () => {
    for (const opts of [FACETS, INLINE]) {
      const rich = render(payload.release.body, opts);
      expect(rich.text).not.toMatch(/^#{1,6} |<!--|<\/?details|<summary|!\[|\]\(|\*\*|`/m);
      expect(rich.text).not.toMatch(/(^|\s)@[A-Za-z0-9]/);
      expect(rich.text).not.toContain('Upgrade notes for plugin authors');
      expect(rich.text).toMatch(/^This release rewrites the sync engine/);
      for (const l of rich.links) expect(rich.text.slice(l.start, l.end).trim()).toBe(rich.text.slice(l.start, l.end));
    }
    expect(renderMarkdown(payload.release.body, FACETS).filter((b) => b.kind === 'item').length).toBeGreaterThan(40);
  });

  it('never throws, whatever the input, and always says the same for the same input', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const alphabet = ['[', ']', '(', ')', '<', '>', '!', '*', '_', '`', '#', '@', '-', '|', '\n', ' ', 'a', '1', '/', ':', '&', '~', '\u0000', '😀', '<!--', '-->', '<details>', 'http://', '\r'];
    for (let i = 0; i < 300; i++) {
      const md = Array.from({ length: Math.floor(random() * 80) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      const once = render(md);
      expect(render(md)).toEqual(once);
      for (const l of once.links) expect(l.end).toBeLessThanOrEqual(once.text.length);
    }
  });
});
