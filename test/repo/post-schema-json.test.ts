/**
 * The published JSON Schema (dist/post.schema.json), checked with a real JSON Schema
 * validator: it refuses every post file of the bad-input corpus that the file alone decides
 * (the others say why they are beyond a schema), and it accepts the example post files and
 * the valid posts the action publishes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/action.js';
import { BLUESKY, fileCases, NEXT_YEAR } from '../support/bad-input-corpus.js';

const schema = JSON.parse(readFileSync(join(REPO_ROOT, 'dist', 'post.schema.json'), 'utf8')) as Record<string, unknown>;
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);

/** Every YAML document of a post file's text, as data. */
function documents(text: string): unknown[] {
  return parseAllDocuments(text).flatMap((doc) => ('errors' in doc && doc.errors.length === 0 ? [doc.toJS()] : []));
}

const valid = (post: unknown): boolean => validate(post) === true;

describe('the JSON Schema refuses what the action refuses from the file alone', () => {
  const decidable = fileCases.filter((c) => c.beyondSchema === undefined);

  it('covers most of the corpus', () => expect(decidable.length).toBeGreaterThanOrEqual(15));

  it.each(decidable.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const posts = Object.values(c.posts ?? {}).flatMap((content) => (typeof content === 'string' ? documents(content) : []));
    expect(posts.length).toBeGreaterThan(0);
    expect(posts.some((post) => !valid(post)), `the schema accepts ${JSON.stringify(posts)}`).toBe(true);
  });
});

describe('the JSON Schema accepts what the action accepts', () => {
  const examples = readdirSync(join(REPO_ROOT, 'examples', 'posts')).filter((f) => /\.ya?ml$/.test(f));

  it.each(examples)('the example %s', (file) => {
    for (const post of documents(readFileSync(join(REPO_ROOT, 'examples', 'posts', file), 'utf8'))) {
      expect(valid(post), JSON.stringify(validate.errors)).toBe(true);
    }
  });

  it.each([
    ['a platform in any case, x for twitter', { text: 'hi', targets: [{ platform: ' X ', account: BLUESKY }, { platform: 'BlueSky', account: 'bluesky' }] }],
    ['a schedule with an offset without a colon', { text: 'hi', scheduledAt: `${NEXT_YEAR}-06-30T22:15:00-0800`, targets: [{ platform: 'bluesky', account: BLUESKY }] }],
    ['a schedule on Feb 29 of a leap year', { text: 'hi', scheduledAt: '2028-02-29 09:00Z', targets: [{ platform: 'bluesky', account: 'bluesky' }] }],
    ['a thread for direct publishers', { thread: ['one', 'two'], targets: [{ platform: 'bluesky', account: 'bluesky' }, { platform: 'mastodon', account: 'mastodon' }] }],
    ['media by url and by path', { text: 'hi', media: [{ url: 'https://example.com/a.png', alt: 'A' }, { path: 'a.png', alt: 'B' }], targets: [{ platform: 'bluesky', account: 'bluesky' }] }],
  ])('%s', (_, post) => {
    expect(valid(post), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each([
    ['Feb 29 of a year that is not a leap year', { text: 'hi', scheduledAt: '2027-02-29T09:00:00Z', targets: [{ platform: 'bluesky', account: 'bluesky' }] }],
    ['a media item with neither path nor url', { text: 'hi', media: [{ alt: 'A' }], targets: [{ platform: 'bluesky', account: 'bluesky' }] }],
    ['neither text nor thread', { targets: [{ platform: 'bluesky', account: 'bluesky' }] }],
    ['Mastodon through a letmepost account', { text: 'hi', targets: [{ platform: 'mastodon', account: BLUESKY }] }],
  ])('but not %s', (_, post) => {
    expect(valid(post)).toBe(false);
  });
});
