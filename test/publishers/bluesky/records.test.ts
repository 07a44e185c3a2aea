import { describe, expect, it } from 'vitest';
import { planPosts } from '../../../src/publishers/bluesky/records.js';
import { tidFromKey } from '../../../src/publishers/bluesky/tid.js';
import { childKey } from '../../../src/plan/keys.js';
import { keysOf } from '../../support/planned.js';

const ANCHOR = Date.UTC(2025, 5, 1, 9, 30, 0); // 2025-06-01T09:30:00Z

describe('planning the records of a target', () => {
  it('gives each post its own key and record key, replies 1 ms after their parents, and the first comment last', () => {
    const plan = planPosts({ keys: keysOf('K'), texts: ['one', 'two', 'three'], firstComment: 'fc', options: {} }, ANCHOR);
    expect(plan.map((p) => [p.part, p.key])).toEqual([
      ['1/3', 'K'],
      ['2/3', childKey('K', 't2')],
      ['3/3', childKey('K', 't3')],
      ['first-comment', childKey('K', 'fc')],
    ]);
    // createdAt is not planned: a record is dated when it is written.
    expect(plan.every((p) => !('createdAt' in p))).toBe(true);
    expect(plan.map((p) => p.rkey)).toEqual([tidFromKey('K', ANCHOR), tidFromKey(childKey('K', 't2'), ANCHOR + 1), tidFromKey(childKey('K', 't3'), ANCHOR + 2), tidFromKey(childKey('K', 'fc'), ANCHOR + 3)]);
    expect([...plan.map((p) => p.rkey)].sort()).toEqual(plan.map((p) => p.rkey));
  });

  it('a single post has no part', () => {
    expect(planPosts({ keys: keysOf('K'), texts: ['one'], options: {} }, ANCHOR)[0]?.part).toBeUndefined();
  });
});
