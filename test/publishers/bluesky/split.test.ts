import { describe, expect, it } from 'vitest';
import { splitThread } from '../../../src/publishers/bluesky/split.js';
import { countGraphemes, URL_PATTERN } from '../../../src/text/length.js';

describe('thread splitting', () => {
  const sentence = (n: number) => `Sentence ${n} says something that matters to the people who read it.`;
  const long = Array.from({ length: 14 }, (_, i) => sentence(i + 1)).join(' ');

  it('keeps a text that fits as one post, unchanged', () => {
    expect(splitThread('short  text\n\nwith space', { numbering: true })).toEqual(['short  text\n\nwith space']);
  });

  it('splits on sentence boundaries first, every post within 300 graphemes', () => {
    const parts = splitThread(long);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) {
      expect(countGraphemes(p)).toBeLessThanOrEqual(300);
      expect(p).toMatch(/^Sentence \d+ .*\.$/s);
    }
    expect(parts.join(' ')).toBe(long);
  });

  it('splits a sentence longer than a post on word boundaries', () => {
    const words = Array.from({ length: 120 }, (_, i) => `word${i}`).join(' ');
    const parts = splitThread(words);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) {
      expect(countGraphemes(p)).toBeLessThanOrEqual(300);
      expect(p).toMatch(/^word\d+( word\d+)*$/);
    }
    expect(parts.join(' ')).toBe(words);
  });

  it('splits a single word longer than a post on graphemes, never inside an emoji', () => {
    const word = '👩‍👩‍👧‍👦'.repeat(350);
    const parts = splitThread(word);
    // Each family emoji is 25 UTF-8 bytes: the record's 3000-byte cap binds before 300 graphemes.
    expect(parts.map(countGraphemes)).toEqual([120, 120, 110]);
    expect(parts.join('')).toBe(word);
    for (const p of parts) expect(Buffer.byteLength(p)).toBeLessThanOrEqual(3000);
  });

  it('numbers the posts 1/n … n/n when asked, the numbers counting toward 300', () => {
    const parts = splitThread(long, { numbering: true });
    parts.forEach((p, i) => {
      expect(p.endsWith(` ${i + 1}/${parts.length}`)).toBe(true);
      expect(countGraphemes(p)).toBeLessThanOrEqual(300);
    });
  });

  it('makes room for two-digit numbering when the thread has ten posts or more', () => {
    const text = Array.from({ length: 60 }, (_, i) => sentence(i)).join(' ');
    const parts = splitThread(text, { numbering: true });
    expect(parts.length).toBeGreaterThanOrEqual(10);
    for (const p of parts) expect(countGraphemes(p)).toBeLessThanOrEqual(300);
    expect(parts.at(-1)).toMatch(new RegExp(` ${parts.length}/${parts.length}$`));
  });

  it('never cuts a link, even one whose dots look like sentence ends', () => {
    const url = 'https://example.com/Releases/v2.Final.Notes?tag=A.B#Section.Two';
    const text = `${'Lead in text for the release. '.repeat(8)}Read ${url} now. Then ${url}. ${'Trailing words follow here. '.repeat(8)}`;
    const parts = splitThread(text.trim());
    for (const p of parts) {
      expect(countGraphemes(p)).toBeLessThanOrEqual(300);
      for (const m of p.matchAll(URL_PATTERN)) expect(m[0]).toBe(url);
    }
    expect(parts.join(' ').split(url).length - 1).toBe(2);
  });

  it('splits non-Latin text too (sentence ends such as 。)', () => {
    const text = '今日は新しいバージョンを公開しました。'.repeat(30);
    const parts = splitThread(text);
    for (const p of parts) {
      expect(countGraphemes(p)).toBeLessThanOrEqual(300);
      expect(p.endsWith('。')).toBe(true);
    }
    expect(parts.join('')).toBe(text);
  });
});
