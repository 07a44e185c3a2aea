/**
 * The fetch every request to Bluesky goes through. A login carries the app password in its
 * body, so no redirect is ever followed; no request outlives the step's deadline; and an
 * answer is read only up to a cap.
 */
import { PublishError } from '../../errors.js';
import { RedirectRefused } from '../../io/http.js';

/** The largest answer read from Bluesky; posts, sessions and records are a few KB. */
const MAX_XRPC_ANSWER_BYTES = 4 * 1024 * 1024;

/**
 * Every XRPC call: the request time limit, shortened so
 * that no request runs past the step's deadline; no redirect followed (a login carries the app
 * password in its body: a `bluesky-service` answering with a redirect to another host must not
 * receive it there); and an answer capped in size.
 */
export function guardedFetch(fetchImpl: typeof fetch, timeoutMs: number, deadline: number): typeof fetch {
  return async (input, init) => {
    const signals = [AbortSignal.timeout(Math.max(1000, Math.min(timeoutMs, deadline - Date.now())))];
    const own = init?.signal ?? (input instanceof Request ? input.signal : undefined);
    if (own) signals.push(own);
    const response = await fetchImpl(input, { ...init, signal: AbortSignal.any(signals), redirect: 'manual' });
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (response.status >= 300 && response.status < 400 && response.status !== 304) {
      await response.body?.cancel().catch(() => undefined);
      throw new RedirectRefused(`Bluesky ${url.pathname.replace(/^\/xrpc\//, '')}`, url, response.headers.get('location') ?? '');
    }
    if (!response.body) return response;
    // The caller reads the body: hand it a stream that stops past the cap.
    let total = 0;
    const capped = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          total += chunk.byteLength;
          if (total > MAX_XRPC_ANSWER_BYTES) controller.error(new PublishError(`Bluesky answered more than ${MAX_XRPC_ANSWER_BYTES.toLocaleString('en-US')} bytes to ${url.pathname}; not read`, { code: 'answer_too_big' }));
          else controller.enqueue(chunk);
        },
      }),
    );
    return new Response(capped, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}
