/**
 * Fetches a public http(s) resource with a time limit and a byte cap, following a bounded
 * number of redirects by hand (each hop must stay http or https). Used for link-card pages,
 * their preview images and media given by URL.
 */
import { causeCode } from './http.js';

export type FetchFailure = 'scheme' | 'redirects' | 'status' | 'too-big' | 'timeout' | 'network';

export class LimitedFetchError extends Error {
  override readonly name: string = 'LimitedFetchError';
  constructor(
    readonly reason: FetchFailure,
    message: string,
    /** Whether trying again later may succeed (network trouble, 5xx, 429). */
    readonly transient: boolean,
    readonly size?: number,
  ) {
    super(message);
  }
}

export interface LimitedFetchOptions {
  fetch?: typeof fetch;
  /** For the whole exchange: every redirect and the body. */
  timeoutMs: number;
  maxBytes: number;
  /** 'error' refuses a bigger body; 'truncate' keeps its first maxBytes bytes. */
  overflow: 'error' | 'truncate';
  maxRedirects?: number;
  accept?: string;
}

export interface LimitedResponse {
  /** The URL finally answered, after redirects. */
  url: string;
  contentType: string | undefined;
  bytes: Buffer;
  truncated: boolean;
}

function httpUrl(raw: string, base?: string): URL | undefined {
  try {
    const url = new URL(raw, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

function networkCode(error: unknown): string | undefined {
  return causeCode(error) ?? (error instanceof Error ? error.message : undefined);
}

export async function fetchLimited(url: string, opts: LimitedFetchOptions): Promise<LimitedResponse> {
  const fetchImpl = opts.fetch ?? fetch;
  const maxRedirects = opts.maxRedirects ?? 3;
  const signal = AbortSignal.timeout(Math.max(1, opts.timeoutMs));
  const seconds = `${(opts.timeoutMs / 1000).toFixed(opts.timeoutMs < 1000 ? 1 : 0)} s`;
  let current = httpUrl(url);
  if (!current) throw new LimitedFetchError('scheme', `${url} is not an http(s) URL`, false);

  try {
    for (let hop = 0; ; hop++) {
      const response = await fetchImpl(current, {
        method: 'GET',
        redirect: 'manual',
        signal,
        headers: { accept: opts.accept ?? '*/*', 'user-agent': 'letmepost-action (+https://github.com/letmepost/letmepost-action)' },
      });
      if (response.status >= 300 && response.status < 400 && response.status !== 304) {
        await response.body?.cancel().catch(() => undefined);
        const location = response.headers.get('location');
        if (!location) throw new LimitedFetchError('status', `${current.href} answered HTTP ${response.status} without a Location`, false);
        if (hop >= maxRedirects) throw new LimitedFetchError('redirects', `${url} redirects more than ${maxRedirects} times`, false);
        const next = httpUrl(location, current.href);
        if (!next) throw new LimitedFetchError('scheme', `${current.href} redirects to ${location}, which is not an http(s) URL`, false);
        current = next;
        continue;
      }
      if (response.status < 200 || response.status >= 300) {
        await response.body?.cancel().catch(() => undefined);
        const transient = response.status >= 500 || response.status === 429 || response.status === 408;
        throw new LimitedFetchError('status', `${current.href} answered HTTP ${response.status}`, transient);
      }
      const declared = Number(response.headers.get('content-length') ?? NaN);
      if (opts.overflow === 'error' && Number.isFinite(declared) && declared > opts.maxBytes) {
        await response.body?.cancel().catch(() => undefined);
        throw new LimitedFetchError('too-big', `${current.href} is ${declared.toLocaleString('en-US')} bytes, over the limit of ${opts.maxBytes.toLocaleString('en-US')} bytes`, false, declared);
      }
      const { bytes, truncated } = await readCapped(response, opts.maxBytes);
      if (truncated && opts.overflow === 'error') {
        throw new LimitedFetchError('too-big', `${current.href} is more than ${opts.maxBytes.toLocaleString('en-US')} bytes, over the limit`, false);
      }
      return { url: current.href, contentType: response.headers.get('content-type') ?? undefined, bytes, truncated };
    }
  } catch (error) {
    if (error instanceof LimitedFetchError) throw error;
    if (signal.aborted) throw new LimitedFetchError('timeout', `${url} gave no complete answer within ${seconds}`, true);
    throw new LimitedFetchError('network', `${url} could not be fetched (${networkCode(error) ?? 'network error'})`, true);
  }
}

/** Reads at most maxBytes of the body; stops reading (and cancels) past that. */
async function readCapped(response: Response, maxBytes: number): Promise<{ bytes: Buffer; truncated: boolean }> {
  if (!response.body) return { bytes: Buffer.alloc(0), truncated: false };
  const reader = response.body.getReader();
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { bytes: Buffer.concat(chunks, total), truncated: false };
    chunks.push(Buffer.from(value));
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return { bytes: Buffer.concat(chunks, total).subarray(0, maxBytes), truncated: true };
    }
  }
}
