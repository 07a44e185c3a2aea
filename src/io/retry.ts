/**
 * Retries only what is safe to retry: the caller marks errors retryable, and every attempt
 * resends the same request under the same idempotency key. Bounded by attempts and by a
 * deadline; every decision is logged.
 */
import { PublishError } from '../errors.js';
import type { Log } from '../publishers/types.js';

export interface RetryPolicy {
  maxAttempts: number;
  /** Epoch ms after which no new attempt starts. */
  deadline: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: Omit<RetryPolicy, 'deadline'> = { maxAttempts: 6, baseDelayMs: 500, maxDelayMs: 10_000 };

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function backoffDelay(attempt: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
}

/**
 * Runs `attempt` until it succeeds, throws a non-retryable error, or the attempts or the
 * deadline run out. When any attempt may have reached the server without an answer, the
 * final error says the outcome is unknown (the post may exist) rather than "not posted".
 */
export async function withRetries<T>(
  what: string,
  attempt: (n: number) => Promise<T>,
  policy: RetryPolicy,
  log: Log,
  wait: (ms: number) => Promise<void> = sleep,
): Promise<T> {
  let outcomeUnknown = false;
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (!(error instanceof PublishError)) throw error;
      outcomeUnknown ||= error.outcomeUnknown;
      const delay = error.retryAfterMs ?? backoffDelay(n, policy);
      const remaining = policy.deadline - Date.now();
      if (!error.retryable || n >= policy.maxAttempts || delay >= remaining) {
        const why = !error.retryable ? '' : n >= policy.maxAttempts ? ` (gave up after ${n} attempts)` : ` (gave up: the step's deadline leaves no time for another attempt)`;
        if (!outcomeUnknown || (error.outcomeUnknown && !why)) {
          throw why ? new PublishError(`${error.message}${why}`, { retryable: error.retryable, outcomeUnknown: error.outcomeUnknown, code: error.code, cause: error }) : error;
        }
        if (error.outcomeUnknown) {
          // Gave up on a request whose last attempt got no usable answer: never imply "not posted".
          throw new PublishError(`${error.message}${why}. The request reached the server without a usable answer, so the post may have been published`, {
            retryable: error.retryable,
            outcomeUnknown: true,
            code: error.code,
            cause: error,
          });
        }
        throw new PublishError(`${error.message}${why}. An earlier attempt reached the server without an answer, so the post may have been published`, {
          outcomeUnknown: true,
          code: error.code,
          cause: error,
        });
      }
      const said = error.message.startsWith(what) ? error.message : `${what}: ${error.message}`;
      log.warning(`${said}; attempt ${n + 1} of ${policy.maxAttempts} in ${(delay / 1000).toFixed(1)} s, same request and idempotency key`);
      await wait(delay);
    }
  }
}
