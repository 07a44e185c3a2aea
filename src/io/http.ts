/**
 * HTTP with a time limit on every request, a cap on every answer, and errors classified for
 * the retry policy. Requests here carry credentials, so a redirect to another origin is never
 * followed (the token, the password, the post would go with it); an `http://` server that
 * redirects to its own `https://` is reported as such.
 */
import { PublishError } from '../errors.js';

export interface HttpResponse {
  status: number;
  headers: Headers;
  body: Buffer;
}

/** Error codes that mean the request never left this machine: safe, and nothing was sent. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** No answer the action reads is larger (an endless body must not fill the runner's memory). */
export const DEFAULT_MAX_ANSWER_BYTES = 16 * 1024 * 1024;
const MAX_REDIRECTS = 3;

/** The system error code (ECONNRESET …) of an error or of one of its causes. */
export function causeCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export interface HttpOptions {
  fetch?: typeof fetch;
  /** Follow redirects that stay on the same origin (for reads such as the GitHub API's renamed-repository 301). */
  followSameOrigin?: boolean;
  maxBytes?: number;
}

/** A redirect the action refuses to follow; never a sign that anything was posted. */
export class RedirectRefused extends PublishError {
  constructor(
    what: string,
    readonly from: URL,
    readonly to: string,
  ) {
    const target = safeUrl(to, from);
    const upgrade = target !== undefined && from.protocol === 'http:' && target.protocol === 'https:' && target.host === from.host;
    super(
      upgrade
        ? `${what}: ${from.origin} redirects to ${target!.origin}: use ${target!.origin}${from.pathname === '/' ? '' : ' in the server URL'} (https) in the input that names this server; a request carrying credentials never follows a redirect`
        : `${what}: ${from.origin} answered with a redirect to ${target ? target.origin : 'an invalid address'}, which this action does not follow: the request carries credentials, which must go only to the server named in the inputs. Check the server URL`,
      { code: 'redirect' },
    );
  }
}

function safeUrl(location: string, base: URL): URL | undefined {
  try {
    return new URL(location, base);
  } catch {
    return undefined;
  }
}

/** Reads at most `maxBytes` of a body; a larger one is an error (and the rest is not read). */
export async function readCapped(response: Response, maxBytes: number, what: string): Promise<Buffer> {
  if (!response.body) return Buffer.alloc(0);
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body.cancel().catch(() => undefined);
    throw new PublishError(`${what}: the answer is ${declared.toLocaleString('en-US')} bytes, more than the ${maxBytes.toLocaleString('en-US')} this action reads`, { code: 'answer_too_big', retryable: true, outcomeUnknown: true });
  }
  const reader = response.body.getReader();
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks, total);
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new PublishError(`${what}: the answer is more than the ${maxBytes.toLocaleString('en-US')} bytes this action reads`, { code: 'answer_too_big', retryable: true, outcomeUnknown: true });
    }
    chunks.push(Buffer.from(value));
  }
}

/**
 * Sends one request and reads the whole body (capped). Transport failures become retryable
 * PublishErrors; when the request may have reached the server (reset, timeout) they are
 * marked outcomeUnknown. A redirect is refused (RedirectRefused), or followed when it stays on
 * the same origin and `followSameOrigin` is set.
 */
export async function httpRequest(
  what: string,
  url: string,
  init: { method: string; headers: Record<string, string>; body?: RequestInit['body'] },
  timeoutMs: number,
  fetchImpl: typeof fetch = fetch,
  opts: Omit<HttpOptions, 'fetch'> = {},
): Promise<HttpResponse> {
  const signal = AbortSignal.timeout(Math.max(1, timeoutMs));
  let current = new URL(url);
  try {
    for (let hop = 0; ; hop++) {
      const response = await fetchImpl(current, { ...init, signal, redirect: 'manual' });
      if (response.status >= 300 && response.status < 400 && response.status !== 304) {
        await response.body?.cancel().catch(() => undefined);
        const location = response.headers.get('location') ?? '';
        const next = safeUrl(location, current);
        if (opts.followSameOrigin && next !== undefined && next.origin === current.origin && hop < MAX_REDIRECTS) {
          current = next;
          continue;
        }
        throw new RedirectRefused(what, current, location);
      }
      const body = await readCapped(response, opts.maxBytes ?? DEFAULT_MAX_ANSWER_BYTES, what);
      return { status: response.status, headers: response.headers, body };
    }
  } catch (error) {
    if (error instanceof PublishError) throw error;
    if (signal.aborted) {
      throw new PublishError(`${what}: no answer within ${Math.round(timeoutMs / 1000)} s`, { retryable: true, outcomeUnknown: writes(init.method), code: 'timeout', cause: error });
    }
    const code = causeCode(error);
    const sent = !(code && NOT_SENT_CODES.has(code));
    const reason = code ?? (error instanceof Error ? error.message : 'network error');
    throw new PublishError(`${what}: ${sent ? 'connection lost' : 'could not connect'} (${reason})`, {
      retryable: true,
      // Only a write that was sent may have done something; a lost read changed nothing.
      outcomeUnknown: sent && writes(init.method),
      code: 'transport',
      cause: error,
    });
  }
}

function writes(method: string): boolean {
  return !['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase());
}

/** Parses a Retry-After header (seconds or an HTTP date) into milliseconds. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
