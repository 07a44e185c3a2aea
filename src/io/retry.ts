/**
 * Retries only what is safe to retry: the caller marks errors retryable, and every attempt
 * resends the same request under the same idempotency key. Bounded by attempts and by a
 * deadline; every decision is logged.
 */
import { PublishError } from '../errors.js';
import type { Log } from './log.js';

export interface RetryPolicy {
  maxAttempts: number;
  /** Epoch ms after which no new attempt starts. */
  deadline: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** What is sent again, for the log; a platform without idempotency keys says only "same request". */
  resent?: string;
}

export const DEFAULT_RETRY: Omit<RetryPolicy, 'deadline'> = { maxAttempts: 6, baseDelayMs: 500, maxDelayMs: 10_000 };

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Time as the retry loop sees it; tests inject one that does not wait. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const SYSTEM_CLOCK: Clock = { now: () => Date.now(), sleep };

/** The system clock with another way to wait (a test's instant wait). */
export function clockWith(wait: ((ms: number) => Promise<void>) | undefined): Clock {
  return wait ? { now: SYSTEM_CLOCK.now, sleep: wait } : SYSTEM_CLOCK;
}

export function backoffDelay(attempt: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
}

/** Why a retry loop stopped: the error was final, the attempts ran out, or the deadline leaves no time. */
export type GiveUp = 'final' | 'attempts' | 'deadline';

export interface RetryLoop {
  maxAttempts: number;
  /** Epoch ms after which no new attempt starts. */
  deadline: number;
  clock: Clock;
  retryable(error: unknown): boolean;
  delayMs(attempt: number, error: unknown): number;
  /** Sees every failed attempt, before the decision (to remember what the attempts told). */
  observe?(error: unknown): void;
  onRetry(error: unknown, attempt: number, delayMs: number): void;
  /** The error to throw when giving up (the attempt's own by default). */
  giveUp?(error: unknown, attempt: number, why: GiveUp): unknown;
}

/** The one retry loop: every retry in the action (publishers, the ledger) goes through it. */
export async function retry<T>(attempt: (n: number) => Promise<T>, loop: RetryLoop): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      loop.observe?.(error);
      const delay = loop.retryable(error) ? loop.delayMs(n, error) : 0;
      const why: GiveUp | undefined = !loop.retryable(error) ? 'final' : n >= loop.maxAttempts ? 'attempts' : loop.clock.now() + delay >= loop.deadline ? 'deadline' : undefined;
      if (why) throw loop.giveUp ? loop.giveUp(error, n, why) : error;
      loop.onRetry(error, n, delay);
      await loop.clock.sleep(delay);
    }
  }
}

/**
 * Runs `attempt` until it succeeds, throws a non-retryable error, or the attempts or the
 * deadline run out. When any attempt may have reached the server without an answer, the
 * final error says the outcome is unknown (the post may exist) rather than "not posted".
 */
export async function withRetries<T>(what: string, attempt: (n: number) => Promise<T>, policy: RetryPolicy, log: Log, clock: Clock = SYSTEM_CLOCK): Promise<T> {
  let outcomeUnknown = false;
  return retry(attempt, {
    maxAttempts: policy.maxAttempts,
    deadline: policy.deadline,
    clock,
    retryable: (error) => error instanceof PublishError && error.retryable,
    delayMs: (n, error) => (error as PublishError).retryAfterMs ?? backoffDelay(n, policy),
    observe: (error) => {
      if (error instanceof PublishError) outcomeUnknown ||= error.outcomeUnknown;
    },
    onRetry: (error, n, delay) => {
      const message = (error as PublishError).message;
      const said = message.startsWith(what) ? message : `${what}: ${message}`;
      log.warning(`${said}; attempt ${n + 1} of ${policy.maxAttempts} in ${(delay / 1000).toFixed(1)} s, ${policy.resent ?? 'same request and idempotency key'}`);
    },
    giveUp: (error, n, reason) => {
      if (!(error instanceof PublishError)) return error;
      const why = reason === 'final' ? '' : reason === 'attempts' ? ` (gave up after ${n} attempts)` : ` (gave up: the step's deadline leaves no time for another attempt)`;
      if (!outcomeUnknown || (error.outcomeUnknown && !why)) {
        return why ? new PublishError(`${error.message}${why}`, { retryable: error.retryable, outcomeUnknown: error.outcomeUnknown, code: error.code, cause: error }) : error;
      }
      if (error.outcomeUnknown) {
        // Gave up on a request whose last attempt got no usable answer: never imply "not posted".
        return new PublishError(`${error.message}${why}. The request reached the server without a usable answer, so the post may have been published`, {
          retryable: error.retryable,
          outcomeUnknown: true,
          code: error.code,
          cause: error,
        });
      }
      return new PublishError(`${error.message}${why}. An earlier attempt reached the server without an answer, so the post may have been published`, {
        outcomeUnknown: true,
        code: error.code,
        cause: error,
      });
    },
  });
}
