import { describe, expect, it } from 'vitest';
import { PublishError } from '../src/errors.js';
import { withRetries } from '../src/io/retry.js';

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
      async () => {},
    );
    expect(value).toBe('ok');
    expect(logged).toEqual(['Bluesky login: connection to Bluesky lost (ECONNRESET); attempt 2 of 3 in 0.0 s, same request and idempotency key']);
  });
});
