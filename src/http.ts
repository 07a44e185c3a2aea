/** HTTP with a timeout on every request and errors classified for the retry policy. */
import { PublishError } from './errors.js';

export interface HttpResponse {
  status: number;
  headers: Headers;
  body: Buffer;
}

/** Error codes that mean the request never left this machine: safe, and nothing was sent. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

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

/**
 * Sends one request and reads the whole body. Transport failures become retryable
 * PublishErrors; when the request may have reached the server (reset, timeout) they are
 * marked outcomeUnknown.
 */
export async function httpRequest(
  what: string,
  url: string,
  init: { method: string; headers: Record<string, string>; body?: RequestInit['body'] },
  timeoutMs: number,
  fetchImpl: typeof fetch = fetch,
): Promise<HttpResponse> {
  const signal = AbortSignal.timeout(Math.max(1, timeoutMs));
  try {
    const response = await fetchImpl(url, { ...init, signal, redirect: 'error' });
    const body = Buffer.from(await response.arrayBuffer());
    return { status: response.status, headers: response.headers, body };
  } catch (error) {
    if (signal.aborted) {
      throw new PublishError(`${what}: no answer within ${Math.round(timeoutMs / 1000)} s`, { retryable: true, outcomeUnknown: true, code: 'timeout', cause: error });
    }
    const code = causeCode(error);
    const sent = !(code && NOT_SENT_CODES.has(code));
    const reason = code ?? (error instanceof Error ? error.message : 'network error');
    throw new PublishError(`${what}: ${sent ? 'connection lost' : 'could not connect'} (${reason})`, {
      retryable: true,
      outcomeUnknown: sent,
      code: 'transport',
      cause: error,
    });
  }
}

/** Parses a Retry-After header (seconds or an HTTP date) into milliseconds. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
