/**
 * The `retract` field of a post file: what it accepts, and how an edited file is recognised
 * as asking for a retract (the only edit a push acts on).
 */
import { describe, expect, it } from 'vitest';
import { asksToRetract, parsePostFile } from '../../src/sources/parse-file.js';

const TARGET = 'targets:\n  - platform: bluesky\n    account: bluesky\n';
const parse = (retract: string) =>
  parsePostFile('posts/a.yml', `text: hi\nretract: ${retract}\n${TARGET}`, { workspace: '/tmp', vars: { eventName: 'push', values: {}, roots: {} }, preview: false });

describe('the retract field', () => {
  it.each([
    ['true', true],
    ['false', false],
    ['"announced too early"', 'announced too early'],
  ])('retract: %s is read as %j', (written, read) => {
    const parsed = parse(written);
    expect(parsed.errors).toEqual([]);
    expect(parsed.posts[0]!.post.retract).toBe(read);
  });

  it.each(['3', '""', '[a]'])('retract: %s is refused at its line, saying what it takes', (written) => {
    const parsed = parse(written);
    expect(parsed.posts).toEqual([]);
    expect(parsed.errors.map((e) => `${e.location}: ${e.message}`)).toEqual([expect.stringMatching(/^posts\/a\.yml:2:10: .retract.* (expected true .*or the reason as text|is empty; give a value)/)]);
  });
});

describe('an edited post file asks to be retracted', () => {
  it.each([
    [`text: hi\nretract: true\n${TARGET}`, true],
    [`text: hi\nretract: "wrong date"\n${TARGET}`, true],
    [`text: hi\n${TARGET}---\ntext: two\nretract: true\n${TARGET}`, true],
    [`text: hi\nretract: false\n${TARGET}`, false],
    [`text: hi\n${TARGET}`, false],
    ['text: [unclosed', false],
  ])('%j → %s', (text, asks) => {
    expect(asksToRetract(text)).toBe(asks);
  });
});
