import { unmarked } from '../../src/text/marked-text.js';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runContextFromEnv, type EventPayload, type RunContext } from '../../src/context.js';
import { runnerEnv } from '../support/action.js';
import { InputError, PostFileError } from '../../src/errors.js';
import type { GitHubApi } from '../../src/io/github-api.js';
import { findPostFiles, MAX_POST_FILE_BYTES, worktreeReader } from '../../src/sources/readers.js';
import { compileGlobs, expandBraces, loadPostFiles, parsePostFile, postIdentity } from '../../src/sources/files.js';
import type { Git } from '../../src/sources/select.js';
import { templateVariables } from '../../src/sources/templates.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const TARGET = '  - platform: bluesky\n    account: bluesky\n';

function context(workspace: string, eventName = 'workflow_dispatch', payload: EventPayload = {}): RunContext {
  const env = { GITHUB_REPOSITORY: 'octo/posts', GITHUB_SHA: SHA, GITHUB_REF: 'refs/heads/main', GITHUB_EVENT_NAME: eventName, GITHUB_API_URL: 'http://127.0.0.1:9' };
  return runContextFromEnv(runnerEnv(workspace, env), payload);
}

const pushVars = templateVariables(context('/w', 'push'));

function parse(text: string, file = 'posts/p.yml', vars = pushVars) {
  return parsePostFile(file, text, { workspace: '/w', vars });
}

/** No git repository here, and an API that knows no commits: loadPostFiles never leaves the machine. */
const noGit: Git = { run: async () => ({ code: 128, stdout: '', stderr: 'not a git repository' }) };
const noApi: GitHubApi = {
  compareFiles: async () => ({ files: [], truncated: false }),
  pullRequestFiles: async () => [],
  firstCommitForPath: async () => undefined,
  fileText: async () => undefined,
};

describe('post file validation', () => {
  it.each([
    ['a YAML syntax error', `text: hi\ntargets:\n${TARGET}  - platform: [bluesky\n`, 'posts/p.yml:6:1', /^YAML syntax error: /],
    ['a duplicate key', `text: hi\ntext: again\ntargets:\n${TARGET}`, 'posts/p.yml:2:1', /YAML syntax error: Map keys must be unique/],
    ['an unknown field, with the closest known field', `text: hi\nscheduled_at: 2026-12-01T09:00:00Z\ntargets:\n${TARGET}`, 'posts/p.yml:2:1', /^'scheduled_at' is not a field; did you mean 'scheduledAt'\?$/],
    ['an unknown field far from any known one, with the list of fields', `text: hi\ncolour: red\ntargets:\n${TARGET}`, 'posts/p.yml:2:1', /^'colour' is not a field; the fields are: id, text, thread, targets, format, releaseNotes, media/],
    ['an unknown field of a target', `text: hi\ntargets:\n  - platform: bluesky\n    acount: bluesky\n`, 'posts/p.yml:4:5', /^'acount' is not a field of targets\[0\]; did you mean 'account'\?$/],
    ['a wrong type', `text: hi\ntargets: bluesky\n`, 'posts/p.yml:2:10', /^'targets' is 'bluesky'; expected a list/],
    ['a number where text belongs, with the quoting fix', `id: 2024\ntext: hi\ntargets:\n${TARGET}`, 'posts/p.yml:1:5', /^'id' is 2024 \(a number\); expected text — put it in quotes: '2024'$/],
    ['a bad platform in the second target', `text: hi\ntargets:\n${TARGET}  - platform: myspace\n    account: bluesky\n`, 'posts/p.yml:5:15', /^'targets\[1\]\.platform': unknown platform 'myspace'; use one of bluesky/],
    ['missing text (at the post)', `# a comment\ntargets:\n${TARGET}`, 'posts/p.yml:2:1', /^This post has neither 'text' nor 'thread'/],
    ['missing targets (at the post)', 'text: hi\n', 'posts/p.yml:1:1', /^'targets' is missing; add where to post/],
    ['a missing account (at its target)', `text: hi\ntargets:\n  - platform: bluesky\n`, 'posts/p.yml:3:5', /^'targets\[0\]\.account' is missing/],
    ['an empty targets list', 'text: hi\ntargets: []\n', 'posts/p.yml:2:10', /^'targets' is an empty list; add at least 1 item$/],
    ['both text and thread', `text: hi\nthread: [a, b]\ntargets:\n${TARGET}`, 'posts/p.yml:2:9', /^'thread' cannot be combined with 'text'/],
    ['a bad enum value', `text: hi\ntargets:\n${TARGET}mastodon:\n  visibility: friends\n`, 'posts/p.yml:6:15', /^'mastodon\.visibility' is 'friends'; expected one of public, unlisted, private, direct$/],
    ['media with neither path nor url', `text: hi\nmedia:\n  - alt: A chart\ntargets:\n${TARGET}`, 'posts/p.yml:3:5', /^'media\[0\]': give exactly one of path, url, releaseAsset or notesImages$/],
    ['a document that is a list', '- text: hi\n', 'posts/p.yml:1:1', /^This file is a list; each YAML document is one post/],
    ['an alias bomb', `a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\ntext: hi\ntargets:\n${TARGET}`, 'posts/p.yml:2:8', /uses YAML aliases \(\*name\) that expand to too much data/],
    ['an unknown placeholder, at the placeholder inside a block scalar', `text: |\n  Hello\n  Out now: {{ release.tag_nme }}\ntargets:\n${TARGET}`, 'posts/p.yml:3:12', /^'text': \{\{ release\.tag_nme \}\} is not available in this push event/],
    ['a bad placeholder in the second post of a thread', `thread:\n  - First\n  - "Second {{ shaa }}"\ntargets:\n${TARGET}`, 'posts/p.yml:3:13', /^'thread\[1\]': \{\{ shaa \}\} is not a known placeholder\. Did you mean \{\{ sha \}\}\?/],
    ['an empty file', '# nothing here\n', 'posts/p.yml', /^contains no post/],
  ])('%s is reported at its line and column', (_name, yaml, location, message) => {
    const { posts, errors } = parse(yaml);
    expect(posts).toEqual([]);
    const error = errors.find((e) => message.test(e.message));
    expect(error, `no error matches ${message}; got ${errors.map((e) => `${e.location}: ${e.message}`).join(' | ')}`).toBeInstanceOf(PostFileError);
    expect(error!.location).toBe(location);
  });

  it('reports every problem of a document at once, in file order', () => {
    const { errors } = parse(`text: 42\nscheduled_at: x\ntargets:\n  - platform: myspace\n    acount: bluesky\n`);
    expect(errors.map((e) => e.location)).toEqual(['posts/p.yml:1:7', 'posts/p.yml:2:1', 'posts/p.yml:4:5', 'posts/p.yml:4:15', 'posts/p.yml:5:5']);
  });

  it('a schema error and a template error in one document are reported together', () => {
    const { errors } = parse(`text: "v{{ release.tag_name }}"\ntargets:\n  - platform: myspace\n    account: bluesky\n`);
    expect(errors.map((e) => e.location)).toEqual(['posts/p.yml:1:9', 'posts/p.yml:3:15']);
  });

  it('a small alias is fine', () => {
    const { posts, errors } = parse(`text: &t hi\nfirstComment: *t\ntargets:\n${TARGET}`);
    expect(errors).toEqual([]);
    expect(posts[0]!.post.firstComment).toBe('hi');
  });

  it('a multi-document file with two targets each gives two posts with distinct identities', () => {
    const yaml = `text: First\ntargets:\n${TARGET}  - platform: mastodon\n    account: mastodon\n---\n# second post\ntext: Second\ntargets:\n${TARGET}  - platform: x\n    account: 1b4e28ba-2fa1-11d2-883f-0016d3cca427\n---\n`;
    const { posts, errors } = parsePostFile('posts/launch/week.yml', yaml, { workspace: '/w', vars: pushVars });
    expect(errors).toEqual([]);
    expect(posts.map((p) => [p.source.label, p.source.identity, p.document, p.post.targets.length])).toEqual([
      ['posts/launch/week.yml', 'posts/launch/week.yml', 1, 2],
      ['posts/launch/week.yml#2', 'posts/launch/week.yml#2', 2, 2],
    ]);
    expect(posts[1]!.post.targets[1]!.platform).toBe('twitter');
    expect(posts.every((p) => p.source.baseDir === '/w/posts/launch')).toBe(true);
  });

  it("a post's id is its identity, so renaming the file keeps its key", () => {
    const yaml = `id: spring-launch\ntext: hi\ntargets:\n${TARGET}`;
    expect(parsePostFile('posts/a.yml', yaml, { workspace: '/w', vars: pushVars }).posts[0]!.source.identity).toBe('spring-launch');
    expect(parsePostFile('posts/renamed.yml', yaml, { workspace: '/w', vars: pushVars }).posts[0]!.source.identity).toBe('spring-launch');
  });

  it("source.error names the field and points at it (or at its parent when it is missing)", () => {
    const yaml = `text: hi\nscheduledAt: '2020-01-01T00:00:00Z'\ntargets:\n${TARGET}  - platform: mastodon\n    account: mastodon\nmedia:\n  - path: a.png\n`;
    const [post] = parse(yaml).posts;
    const past = post!.source.error(['scheduledAt'], "is '2020-01-01T00:00:00Z', which is in the past; give a later time");
    expect(past).toBeInstanceOf(PostFileError);
    expect((past as PostFileError).location).toBe('posts/p.yml:2:14');
    expect(past.message).toBe("'scheduledAt' is '2020-01-01T00:00:00Z', which is in the past; give a later time");
    expect((post!.source.error(['targets', 1], 'repeats mastodon') as PostFileError).location).toBe('posts/p.yml:6:5');
    expect((post!.source.error(['media', 0, 'path'], "'a.png' does not exist") as PostFileError).location).toBe('posts/p.yml:9:11');
    expect((post!.source.error(['media', 0, 'alt'], 'is missing') as PostFileError).location).toBe('posts/p.yml:9:5');
  });

  it('renders templates from a release payload', () => {
    const release = templateVariables({
      ...context('/w', 'release', { release: { tag_name: 'v2.0.0', name: 'Two', html_url: 'https://github.com/octo/posts/releases/tag/v2.0.0' } }),
      ref: 'refs/tags/v2.0.0',
    });
    const yaml = `text: "{{ release.name }} ({{ release.tag_name }}) is out: {{ release.html_url }}"\nfirstComment: "Changelog for {{ repository }}@{{ ref_name }}"\ntargets:\n${TARGET}`;
    const { posts, errors } = parse(yaml, 'posts/release.yml', release);
    expect(errors).toEqual([]);
    expect(unmarked(posts[0]!.post.text!)).toBe('Two (v2.0.0) is out: https://github.com/octo/posts/releases/tag/v2.0.0');
    expect(posts[0]!.post.firstComment).toBe('Changelog for octo/posts@v2.0.0');
  });

  it('a template identity changes with the release but not with the repository', () => {
    const yaml = `text: "{{ repository }} {{ release.tag_name }}"\ntargets:\n${TARGET}`;
    const identity = (tag: string) => parse(yaml, 'posts/release.yml', templateVariables({ ...context('/w', 'release', { release: { tag_name: tag } }) })).posts[0]!.source.identity;
    expect(identity('v1.0.0')).toBe('posts/release.yml@release.tag_name=v1.0.0');
    expect(identity('v1.0.0')).not.toBe(identity('v1.1.0'));
    expect(postIdentity('posts/a.yml', { repository: 'octo/posts', 'repository.name': 'posts' })).toBe('posts/a.yml');
  });
});

describe('the example post files', () => {
  const dir = new URL('../../examples/posts/', import.meta.url).pathname;
  const release = templateVariables({
    ...context('/w', 'release', { release: { tag_name: 'v1.0.0', name: 'One', html_url: 'https://github.com/octo/posts/releases/tag/v1.0.0', body: '## Changes\n\n- Faster sync' }, repository: { full_name: 'octo/posts', name: 'posts' } }),
    ref: 'refs/tags/v1.0.0',
  });

  it.each(readdirSync(dir).filter((f) => f.endsWith('.yml')))('%s is valid and points editors at the JSON Schema', (name) => {
    const text = readFileSync(join(dir, name), 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=https://raw.githubusercontent.com/letmepost/letmepost-action/v1/dist/post.schema.json');
    const { posts, errors } = parsePostFile(`examples/posts/${name}`, text, { workspace: '/w', vars: release });
    expect(errors.map((e) => `${e.location}: ${e.message}`)).toEqual([]);
    expect(posts.length).toBeGreaterThan(0);
    for (const p of posts) for (const t of [p.post.text, ...(p.post.thread ?? [])]) if (t !== undefined) expect(t).not.toMatch(/\s$/);
  });

  it('the release announcement renders its placeholders', () => {
    const { posts } = parsePostFile('examples/posts/release-announcement.yml', readFileSync(join(dir, 'release-announcement.yml'), 'utf8'), { workspace: '/w', vars: release });
    expect(unmarked(posts[0]!.post.text!)).toBe("One (v1.0.0) is out 🎉\n\nWhat's new in octo/posts: https://github.com/octo/posts/releases/tag/v1.0.0");
  });
});

describe('post file globs', () => {
  it.each([
    ['posts/**/*.yml', 'posts/a.yml', true],
    ['posts/**/*.yml', 'posts/2026/03/a.yml', true],
    ['posts/**/*.yml', 'posts/a.yaml', false],
    ['posts/**/*.yml', 'other/a.yml', false],
    ['posts/**/*.yml', 'posts/.hidden.yml', false],
    ['posts/**/*.yml', 'posts/.drafts/a.yml', false],
    ['posts/*.yml', 'posts/sub/a.yml', false],
    ['posts/**/*.{yml,yaml}', 'posts/x/a.yaml', true],
    ['posts/202?-*.yml', 'posts/2026-launch.yml', true],
    ['posts/202?-*.yml', 'posts/20260-launch.yml', false],
    ['posts/[ab]*.yml', 'posts/b.yml', true],
    ['posts/[!ab]*.yml', 'posts/b.yml', false],
    ['./posts/**', 'posts/a/b.yml', true],
    ['**/*.post.yml', 'deep/er/x.post.yml', true],
    ['**/*.post.yml', 'x.post.yml', true],
  ])('%s matches %s: %s', (pattern, path, expected) => {
    const { globs, errors } = compileGlobs([pattern]);
    expect(errors).toEqual([]);
    expect(globs.matches(path)).toBe(expected);
  });

  it('a ! pattern excludes', () => {
    const { globs } = compileGlobs(['posts/**/*.yml', '!posts/templates/**']);
    expect(globs.matches('posts/a.yml')).toBe(true);
    expect(globs.matches('posts/templates/release.yml')).toBe(false);
  });

  it('expands nested braces', () => {
    expect(expandBraces('a/{b,c/{d,e}}/f')).toEqual(['a/b/f', 'a/c/d/f', 'a/c/e/f']);
    expect(expandBraces('a/{b}/c')).toEqual(['a/{b}/c']);
  });

  it.each(['/etc/*.yml', '../other/*.yml', 'posts/../../x.yml', 'C:/posts/*.yml'])("'%s' leaves the workspace and is an input error", (pattern) => {
    const { errors } = compileGlobs([pattern]);
    expect(errors[0]).toBeInstanceOf(InputError);
    expect(errors[0]!.input).toBe('files');
    expect(errors[0]!.message).toMatch(/patterns are relative to the repository and stay inside it/);
  });
});

describe('loading post files from the workspace', () => {
  let workspace: string;
  const write = (path: string, content: string | Buffer) => {
    mkdirSync(dirname(join(workspace, path)), { recursive: true });
    writeFileSync(join(workspace, path), content);
  };
  const load = (settings: Partial<{ files: string[]; select: 'added' | 'all' }> = {}, eventName = 'workflow_dispatch', payload: EventPayload = {}) =>
    // Parsing and validation, read from the checkout (publishing reads the commit: e2e/post-files.test.ts).
    loadPostFiles({ ctx: context(workspace, eventName, payload), settings: { files: ['posts/**/*.yml', 'posts/**/*.yaml'], select: 'all', ...settings }, git: noGit, api: noApi, reader: worktreeReader(workspace) });

  beforeEach(() => {
    workspace = mkdtempSync(join(tmpdir(), 'lmpa-ws-'));
  });
  afterEach(() => {
    rmSync(workspace, { recursive: true, force: true });
  });

  it("every file's errors are returned together, and the valid files still load", async () => {
    write('posts/good.yml', `text: Fine\ntargets:\n${TARGET}`);
    write('posts/bad-yaml.yml', 'text: [unclosed\n');
    write('posts/sub/bad-field.yaml', `text: hi\nschedule: tomorrow\ntargets:\n${TARGET}`);
    write('posts/bad-target.yml', `text: hi\ntargets:\n  - platform: myspace\n    account: bluesky\n`);
    write('README.md', 'not a post');
    const loaded = await load();
    expect(loaded.mode).toBe('publish');
    expect(loaded.files).toEqual(['posts/bad-target.yml', 'posts/bad-yaml.yml', 'posts/good.yml', 'posts/sub/bad-field.yaml']);
    expect(loaded.posts.map((p) => p.source.label)).toEqual(['posts/good.yml']);
    expect(loaded.posts[0]!.source.baseDir).toBe(join(workspace, 'posts'));
    expect(loaded.errors.map((e) => (e instanceof PostFileError ? e.location : e.message))).toEqual(['posts/bad-target.yml:3:15', 'posts/bad-yaml.yml:2:1', 'posts/sub/bad-field.yaml:2:1']);
  });

  it('an oversized file is refused by name, before it is parsed', async () => {
    write('posts/huge.yml', `text: "${'a'.repeat(MAX_POST_FILE_BYTES)}"\ntargets:\n${TARGET}`);
    const loaded = await load();
    expect(loaded.posts).toEqual([]);
    expect(loaded.errors).toHaveLength(1);
    expect((loaded.errors[0] as PostFileError).location).toBe('posts/huge.yml');
    expect(loaded.errors[0]!.message).toMatch(/^is 257 KB; post files are limited to 256 KB/);
  });

  it('a file that is not UTF-8 is refused', async () => {
    write('posts/latin1.yml', Buffer.from([0x74, 0x65, 0x78, 0x74, 0x3a, 0x20, 0xe9, 0x0a]));
    const loaded = await load();
    expect(loaded.errors.map((e) => e.message)).toEqual(['is not UTF-8 text; save it as UTF-8']);
  });

  it('a symlink that leads outside the workspace is refused', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'lmpa-outside-'));
    writeFileSync(join(outside, 'secret.yml'), 'text: secret\n');
    mkdirSync(join(workspace, 'posts'), { recursive: true });
    symlinkSync(join(outside, 'secret.yml'), join(workspace, 'posts/link.yml'));
    try {
      const loaded = await load();
      expect(loaded.errors.map((e) => e.message)).toEqual(['is a symlink that leads outside the workspace; post files must be files in the repository']);
      expect(JSON.stringify(loaded)).not.toContain('secret');
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('walks only where the patterns can match, skipping dot files and excluded paths', async () => {
    write('posts/a.yml', 'x');
    write('posts/.draft.yml', 'x');
    write('posts/templates/release.yml', 'x');
    write('elsewhere/b.yml', 'x');
    const { globs } = compileGlobs(['posts/**/*.yml', '!posts/templates/**']);
    expect(globs.roots).toEqual(['posts']);
    expect((await findPostFiles(workspace, globs)).files).toEqual(['posts/a.yml']);
  });

  it('two posts with the same id are refused: the copy would be taken for the original', async () => {
    write('posts/a.yml', `id: launch\ntext: First\ntargets:\n${TARGET}`);
    write('posts/b.yml', `text: Other\ntargets:\n${TARGET}---\nid: launch\ntext: Copy\ntargets:\n${TARGET}`);
    const loaded = await load();
    expect(loaded.posts.map((p) => p.source.label)).toEqual(['posts/a.yml', 'posts/b.yml']);
    expect(loaded.errors.map((e) => `${(e as PostFileError).location}: ${e.message}`)).toEqual([
      "posts/b.yml:6:5: 'id' is 'launch', which posts/a.yml:1 already uses; every post needs its own id (it decides the idempotency key, so a copy would be taken for the original and never posted)",
    ]);
  });

  it('a pull request previews every file with select: all, keeping placeholders of other events', async () => {
    write('posts/release.yml', `text: "{{ release.tag_name }} is out"\ntargets:\n${TARGET}`);
    const loaded = await load({}, 'pull_request', { pull_request: { number: 3 } });
    expect(loaded.mode).toBe('preview');
    expect(loaded.errors).toEqual([]);
    expect(loaded.posts[0]!.post.text).toBe('{{ release.tag_name }} is out');
    expect(loaded.posts[0]!.deferred).toEqual(['release.tag_name']);
    expect(loaded.posts[0]!.addedIn).toBeUndefined();
  });

  it("select: added on an event without pushed commits is an input error that says what to set", async () => {
    const loaded = await load({ select: 'added' }, 'schedule');
    expect(loaded.errors).toHaveLength(1);
    expect(loaded.errors[0]).toBeInstanceOf(InputError);
    expect((loaded.errors[0] as InputError).input).toBe('select');
    expect(loaded.errors[0]!.message).toMatch(/^Input 'select' is 'added', but a schedule event has no pushed commits.*set 'select: all'.*or give 'text'/);
  });

  it("a bad 'files' pattern is an input error and nothing is read", async () => {
    const loaded = await load({ files: ['../elsewhere/*.yml'] });
    expect(loaded.errors.map((e) => (e as InputError).input)).toEqual(['files']);
    expect(loaded.files).toEqual([]);
  });
});
