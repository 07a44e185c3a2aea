/** What the letmepost publisher is given: the API it talks to, its credentials and its time limits. */
import type { TransportConfig } from '../types.js';

/** `requestTimeoutMs` bounds each request; the publish request waits at least as long as the server's platform calls can take. */
export interface LetmepostConfig extends TransportConfig {
  token: string;
  apiUrl: string;
  /** Between looks at a post row still `publishing` (default 2000 ms). */
  confirmIntervalMs?: number;
}

/** The API's root URL, without a trailing slash, so paths can be appended as written. */
export function apiBase(config: Pick<LetmepostConfig, 'apiUrl'>): string {
  return config.apiUrl.replace(/\/+$/, '');
}
