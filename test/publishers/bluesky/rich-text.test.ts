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
