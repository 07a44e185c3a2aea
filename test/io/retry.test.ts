import { describe, expect, it } from 'vitest';
import { PublishError } from '../../src/errors.js';
import { retry, withRetries } from '../../src/io/retry.js';

describe('retries', () => {
  it('log each attempt once, without repeating a prefix the error already carries', async () => {
    const logged: string[] = [];
    const log = { info: () => {}, debug: () => {}, warning: (m: string) => logged.push(m) };
    let calls = 0;
    const value = await withRetries(
      'Bluesky login',
      async () => {
        if (++calls === 1) throw new PublishError('Bluesky login: connection to Bluesky lost (ECONNRESET)', { retryable: true });
        return 'ok';
      },
      { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1, deadline: Date.now() + 10_000 },
      log,
      { now: () => Date.now(), sleep: async () => {} },
    );
    expect(value).toBe('ok');
    expect(logged).toEqual(['Bluesky login: connection to Bluesky lost (ECONNRESET); attempt 2 of 3 in 0.0 s, same request and idempotency key']);
  });

  it('stop at the deadline as the injected clock tells it, without waiting', async () => {
    let now = 1_000;
    const slept: number[] = [];
    const clock = { now: () => now, sleep: async (ms: number) => void (slept.push(ms), (now += ms)) };
    const gaveUp: string[] = [];
    const attempts: number[] = [];
    await expect(
      retry(
        async (n) => {
          attempts.push(n);
          throw new Error(`try ${n}`);
        },
        { maxAttempts: 10, deadline: 1_000 + 2_500, clock, retryable: () => true, delayMs: (n) => 1000 * n, onRetry: () => {}, giveUp: (e, n, why) => (gaveUp.push(`${n}:${why}`), e) },
      ),
    ).rejects.toThrow('try 2');
    // 1 s after the first, then 2 s would pass the deadline (1 + 2 >= 2.5): two attempts, one wait.
    expect(attempts).toEqual([1, 2]);
    expect(slept).toEqual([1000]);
    expect(gaveUp).toEqual(['2:deadline']);
  });

  it.each([
    ['a final error', false, 5, 'final', [1]],
    ['the last attempt', true, 3, 'attempts', [1, 2, 3]],
  ] as const)('give up on %s and say why', async (_name, retryable, maxAttempts, why, tried) => {
    const attempts: number[] = [];
    const reasons: string[] = [];
    await expect(
      retry(
        async (n) => {
          attempts.push(n);
          throw new Error('no');
        },
        { maxAttempts, deadline: Number.POSITIVE_INFINITY, clock: { now: () => 0, sleep: async () => {} }, retryable: () => retryable, delayMs: () => 1, onRetry: () => {}, giveUp: (e, _n, reason) => (reasons.push(reason), e) },
      ),
    ).rejects.toThrow('no');
    expect(attempts).toEqual(tried);
    expect(reasons).toEqual([why]);
  });
});
