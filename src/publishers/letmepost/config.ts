/** What the letmepost publisher is given: the API it talks to, its credentials and its time limits. */
import type { RetryPolicy } from '../../io/retry.js';
import type { Log } from '../types.js';

export interface LetmepostConfig {
  token: string;
  apiUrl: string;
  /** Time limit of each request; the publish request waits at least as long as the server's platform calls can take. */
  requestTimeoutMs: number;
  /** Epoch ms: no attempt starts after it. */
  deadline: number;
  log: Log;
  fetch?: typeof fetch;
  wait?: (ms: number) => Promise<void>;
  retry?: Partial<Omit<RetryPolicy, 'deadline'>>;
  /** Between looks at a post row still `publishing` (default 2000 ms). */
  confirmIntervalMs?: number;
}

/** The API's root URL, without a trailing slash, so paths can be appended as written. */
export function apiBase(config: Pick<LetmepostConfig, 'apiUrl'>): string {
  return config.apiUrl.replace(/\/+$/, '');
}
