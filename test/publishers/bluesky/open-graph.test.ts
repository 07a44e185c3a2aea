import { describe, expect, it } from 'vitest';
import { decodeEntities, parseOpenGraph } from '../../../src/publishers/bluesky/open-graph.js';
import { countGraphemes } from '../../../src/text/length.js';

describe('Open Graph parsing', () => {
  it.each([
    [
      'Open Graph tags in any attribute order, entities decoded, relative image made absolute',
      `<html><head><title>Fallback</title><meta content="The &amp; title" property="og:title"><meta property='og:description' content='It&#39;s &quot;great&quot;'><meta property="og:image" content="/img/card.png"/></head></html>`,
      { title: 'The & title', description: `It's "great"`, image: 'https://example.com/img/card.png' },
    ],
    [
      'falls back to <title> and meta description',
      `<head><TITLE>
        Plain   page </TITLE><meta name="description" content="Described."></head>`,
      { title: 'Plain page', description: 'Described.' },
    ],
    ['Twitter card tags when Open Graph is missing', `<meta name="twitter:title" content="TW"><meta name="twitter:image" content="https://cdn.example.com/x.jpg">`, { title: 'TW', image: 'https://cdn.example.com/x.jpg' }],
    ['ignores tags inside comments and scripts', `<!-- <meta property="og:title" content="no"> --><script>"<meta property='og:title' content='no'>"</script><meta property="og:title" content="yes">`, { title: 'yes' }],
    ['drops a non-http image', `<meta property="og:title" content="T"><meta property="og:image" content="javascript:alert(1)">`, { title: 'T' }],
    ['nothing to show', `<html><body>hi</body></html>`, {}],
  ])('%s', (_, html, expected) => {
    expect(parseOpenGraph(html, 'https://example.com/blog/post')).toEqual(expected);
  });

  it('caps a very long title', () => {
    const meta = parseOpenGraph(`<meta property="og:title" content="${'x'.repeat(1000)}">`, 'https://example.com/');
    expect(countGraphemes(meta.title!)).toBe(300);
    expect(meta.title!.endsWith('…')).toBe(true);
  });

  it('decodes numeric and named entities, and leaves unknown ones alone', () => {
    expect(decodeEntities('&#x1F98B; &#8212; &lt;b&gt; &bogus;')).toBe('🦋 — <b> &bogus;');
  });
});
