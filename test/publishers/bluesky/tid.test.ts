// A transitive dependency of @atproto/api: the reference TID implementation to check ours.
import { TID } from '@atproto/common-web';
import { describe, expect, it } from 'vitest';
import { decodeTid, encodeTid, isValidTid, tidFromKey } from '../../../src/publishers/bluesky/tid.js';

const ANCHOR = Date.UTC(2025, 5, 1, 9, 30, 0); // 2025-06-01T09:30:00Z

describe('record keys (TIDs)', () => {
  it.each([
    ['a typical key', 'lmpa-in-bluesky-abcdefghijklmnopqrstuvwxyz012345', ANCHOR],
    ['a child key of a thread', 'lmpa-in-bluesky-abc-t2', ANCHOR + 1],
    ['the epoch', 'k', 0],
    ['a time far ahead', 'k', Date.UTC(2200, 0, 1)],
  ])('%s gives a 13-character TID whose first character is 2–j', (_, key, time) => {
    const tid = tidFromKey(key, time);
    expect(tid).toHaveLength(13);
    expect(tid).toMatch(/^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/);
    expect(isValidTid(tid)).toBe(true);
  });

  it('the same key and time always give the same TID', () => {
    expect(tidFromKey('lmpa-f-bluesky-xyz', ANCHOR)).toBe(tidFromKey('lmpa-f-bluesky-xyz', ANCHOR));
  });

  it('different keys at the same anchor get different TIDs, all within the anchor millisecond', () => {
    // ~20 bits come from the key (1000 sub-millisecond values × 1024 clock ids): n posts
    // sharing one anchor collide with probability about n²/2,048,000.
    const tids = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const tid = tidFromKey(`lmpa-in-bluesky-key${i}`, ANCHOR);
      tids.add(tid);
      const { micros } = decodeTid(tid);
      expect(micros / 1000n).toBe(BigInt(ANCHOR));
    }
    expect(tids.size).toBe(500);
  });

  it('encodes exactly as the reference implementation (@atproto/common-web TID)', () => {
    for (const [micros, clock] of [
      [1_200_000_000_000_000, 0],
      [1_700_000_000_123_456, 1023],
      [2 ** 53 - 1, 512],
    ] as const) {
      expect(encodeTid(BigInt(micros), clock)).toBe(TID.fromTime(micros, clock).toString());
    }
    const tid = tidFromKey('some-key', ANCHOR);
    const { micros, clockId } = decodeTid(tid);
    expect(TID.fromTime(Number(micros), clockId).toString()).toBe(tid);
  });

  it('later times sort later, so a thread reply sorts after its parent', () => {
    expect(tidFromKey('a', ANCHOR + 1) > tidFromKey('b', ANCHOR)).toBe(true);
  });

  it('refuses times it cannot encode', () => {
    expect(() => tidFromKey('k', -1)).toThrow(RangeError);
    expect(() => tidFromKey('k', 1.5)).toThrow(RangeError);
    expect(() => encodeTid(2n ** 53n, 0)).toThrow(RangeError);
  });
});
