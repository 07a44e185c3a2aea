import { RichText } from '@atproto/api';
import { describe, expect, it } from 'vitest';
import { applyMentions, describeMentions, detectFacets, firstLink, mentionedHandles } from '../../../src/publishers/bluesky/rich-text.js';

function utf8Slice(text: string, start: number, end: number): string {
  return Buffer.from(text, 'utf8').subarray(start, end).toString('utf8');
}

describe('facets', () => {
  it.each([
    ['ASCII', 'Hi @bob.test see https://example.com/a #release'],
    ['accents and emoji before the facets', 'Héllo wörld 🦋👩‍👩‍👧 — @bob.test see https://example.com/a #release'],
    ['CJK', '新しいリリース @bob.test https://example.com/a ＃ #release'],
  ])('byte offsets point at the right UTF-8 bytes (%s)', (_, text) => {
    const facets = detectFacets(text);
    const slices = facets.map((f) => utf8Slice(text, f.index.byteStart, f.index.byteEnd));
    expect(slices).toEqual(['@bob.test', 'https://example.com/a', '#release']);
    expect(firstLink(facets)).toBe('https://example.com/a');
    expect(mentionedHandles(facets)).toEqual(['bob.test']);
  });

  it('a resolved mention carries the DID; an unresolved one is dropped and named', () => {
    const text = '@Bob.test and @nobody.test https://example.com';
    const { facets, unresolved } = applyMentions(detectFacets(text), new Map([['bob.test', 'did:plc:bob'], ['nobody.test', undefined]]));
    expect(unresolved).toEqual(['nobody.test']);
    const mentions = facets.flatMap((f) => f.features).filter((f) => (f as { $type?: string }).$type === 'app.bsky.richtext.facet#mention');
    expect(mentions).toEqual([{ $type: 'app.bsky.richtext.facet#mention', did: 'did:plc:bob' }]);
    expect(facets).toHaveLength(2);
    for (const f of facets) for (const x of f.features) expect((x as { did?: string }).did).not.toBe('');
  });

  it('a dry run shows mentions as placeholders, not handles in the did field', () => {
    const [facet] = describeMentions(detectFacets('@bob.test'));
    expect((facet?.features[0] as { did: string }).did).toBe('<DID of @bob.test, resolved when publishing>');
  });

  it('bare domains become https links', () => {
    expect(firstLink(detectFacets('see example.com/docs'))).toBe('https://example.com/docs');
  });
});

describe('facet detection matches the Bluesky app (@atproto/api RichText) on every text of the corpus', () => {
  /** Texts where the rules differ: what precedes, what ends, non-ASCII offsets, the TLD list. */
  const corpus = [
    '',
    'plain words only',
    'Released v2.0.0: https://github.com/octo/widgets/releases/tag/v2.0.0',
    'see example.com/docs, and EXAMPLE.COM too.',
    'not a link: file.txt or v1.2.3 or a.b',
    'mail alice@example.com is not a mention',
    '@alice.bsky.social said (@bob.test) hi; @Carol.Bsky.Social and @dave.notatld and @x.com.',
    '(https://example.com/a_(b)) and (https://example.com/page) and https://example.com/x?y=1!',
    '#release #v2 #123 #日本語 ＃fullwidth #tag! #️⃣ #a\u200Bb',
    `#${'a'.repeat(64)} #${'b'.repeat(65)}`,
    '$AAPL and ($TSLA), $toolong1 $X.',
    'émoji 🎉 first: https://example.com/ünïcödé and #café @alice.bsky.social',
    'line one\n#tag on line two\nexample.org\n@bob.test',
    'https://example.com. https://example.com, https://example.com; (example.com)',
    'www.example.com/path and http://localhost:3000 and https://[::1]/',
  ];

  it.each(corpus.map((text) => [JSON.stringify(text).slice(0, 60), text]))('%s', (_, text) => {
    const app = new RichText({ text });
    app.detectFacetsWithoutResolution();
    expect(detectFacets(text)).toEqual(JSON.parse(JSON.stringify(app.facets ?? [])));
  });

  it('the corpus exercises every kind of facet (so the comparison above compares something)', () => {
    const kinds = new Set(corpus.flatMap((text) => detectFacets(text).flatMap((f) => f.features.map((x) => (x.tag?.startsWith('$') ? 'cashtag' : x.$type)))));
    expect([...kinds].sort()).toEqual(['app.bsky.richtext.facet#link', 'app.bsky.richtext.facet#mention', 'app.bsky.richtext.facet#tag', 'cashtag']);
  });
});
