/**
 * Bluesky (XRPC) errors as PublishErrors: a message that says what happened and what to
 * do, and the retry class — transport trouble, 5xx and 429 are retryable (every write
 * resends the same record under the same record key, so a retry cannot double-post);
 * anything else is permanent. Every message passes through redact().
 */
import { errorMessage, PublishError } from '../../errors.js';
import { retryAfterMs } from '../../io/http.js';
import { redact } from '../../secrets.js';
import { XrpcError, XrpcStatus } from './xrpc.js';

/** XRPC error names the publisher branches on. */
export const XrpcCode = {
  authenticationRequired: 'AuthenticationRequired',
  authFactorTokenRequired: 'AuthFactorTokenRequired',
  accountTakedown: 'AccountTakedown',
  expiredToken: 'ExpiredToken',
  invalidToken: 'InvalidToken',
  invalidSwap: 'InvalidSwap',
  recordNotFound: 'RecordNotFound',
} as const;

const NETWORK = XrpcStatus.network;
const INVALID_RESPONSE = XrpcStatus.invalidResponse;

/** Error codes meaning the request never left this machine. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

function transportCause(error: unknown): { timeout: boolean; code: string | undefined } {
  let current: unknown = error;
  let code: string | undefined;
  for (let depth = 0; depth < 6 && current && typeof current === 'object'; depth++) {
    const c = current as { name?: unknown; code?: unknown; cause?: unknown };
    if (c.name === 'TimeoutError') return { timeout: true, code };
    if (typeof c.code === 'string') code ??= c.code;
    current = c.cause;
  }
  return { timeout: false, code };
}

function refusedRedirect(error: unknown): PublishError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current && typeof current === 'object'; depth++) {
    if (current instanceof PublishError && current.code === 'redirect') return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function header(error: XrpcError, name: string): string | null {
  const headers = error.headers ?? {};
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name && typeof v === 'string') return v;
  return null;
}

/** How long a 429 asks us to wait: `ratelimit-reset` (epoch seconds), else Retry-After. */
export function rateLimitWaitMs(error: XrpcError, now = Date.now()): number | undefined {
  const reset = Number(header(error, 'ratelimit-reset') ?? NaN);
  if (Number.isFinite(reset) && reset > 0) return Math.max(0, reset * 1000 - now);
  return retryAfterMs(header(error, 'retry-after'), now);
}

function resetTime(error: XrpcError): string | undefined {
  const reset = Number(header(error, 'ratelimit-reset') ?? NaN);
  return Number.isFinite(reset) && reset > 0 ? new Date(reset * 1000).toISOString().replace('.000', '') : undefined;
}

export function isXrpcError(error: unknown, code?: string): error is XrpcError {
  return error instanceof XrpcError && (code === undefined || error.error === code);
}

/** A getRecord answer meaning "no record at this key" (older PDSes word it differently). */
export function isRecordNotFound(error: unknown): boolean {
  return error instanceof XrpcError && (error.error === XrpcCode.recordNotFound || (error.status === 400 && /could not locate record/i.test(error.message)));
}

export interface ErrorContext {
  /** The call writes: a lost answer leaves the outcome unknown. */
  write?: boolean;
  timeoutMs?: number;
  now?: number;
}

/** Maps any error from an XRPC call to a PublishError. */
export function toPublishError(what: string, error: unknown, ctx: ErrorContext = {}): PublishError {
  if (error instanceof PublishError) return error;
  const write = ctx.write ?? false;
  if (!(error instanceof XrpcError)) return new PublishError(redact(`${what}: ${errorMessage(error)}`), { cause: error });

  const status = error.status;
  const code = error.error;
  const detail = error.message && error.message !== code ? `: ${error.message.replace(/\.$/, '')}` : '';

  if (status === NETWORK) {
    // A refused redirect is not a network failure: nothing reached a server that could post.
    const refused = refusedRedirect(error);
    if (refused) return refused;
    const cause = transportCause(error);
    if (cause.timeout) {
      const seconds = ctx.timeoutMs !== undefined ? ` within ${Math.round(ctx.timeoutMs / 1000)} s` : '';
      return new PublishError(redact(`${what}: no answer from Bluesky${seconds}`), { retryable: true, outcomeUnknown: write, code: 'timeout', cause: error });
    }
    const sent = !(cause.code && NOT_SENT.has(cause.code));
    return new PublishError(redact(`${what}: ${sent ? 'connection to Bluesky lost' : 'could not connect to Bluesky'} (${cause.code ?? error.message})`), {
      retryable: true,
      outcomeUnknown: write && sent,
      code: 'transport',
      cause: error,
    });
  }
  if (status === INVALID_RESPONSE) {
    // A garbled answer (cut short, not JSON) says nothing about what the server did. Every
    // call this action makes is safe to resend (reads, create-if-absent writes under a fixed
    // record key, content-addressed uploads, logins), so it is retried like a lost answer.
    return new PublishError(redact(`${what}: Bluesky gave an answer this action does not understand${detail}`), { retryable: true, outcomeUnknown: write, code, cause: error });
  }
  if (status === 429) {
    const reset = resetTime(error);
    return new PublishError(redact(`${what}: Bluesky's rate limit is reached${reset ? ` (it resets at ${reset})` : ''}`), {
      retryable: true,
      code: code ?? 'RateLimitExceeded',
      retryAfterMs: rateLimitWaitMs(error, ctx.now) ?? 5000,
      cause: error,
    });
  }
  if (status >= 500) {
    return new PublishError(redact(`${what}: Bluesky answered HTTP ${status} ${code ?? ''}${detail}`.replace(/ +:/, ':')), {
      retryable: true,
      outcomeUnknown: write,
      code,
      retryAfterMs: retryAfterMs(header(error, 'retry-after')),
      cause: error,
    });
  }
  const graphemes = /grapheme too big \(maximum (\d+), got (\d+)\)/i.exec(error.message) ?? /must not be longer than (\d+) graphemes/i.exec(error.message);
  if (graphemes) {
    const got = graphemes[2] ? ` is ${graphemes[2]} characters; it` : '';
    return new PublishError(redact(`${what}: the text${got} is over Bluesky's limit of ${graphemes[1]} characters (graphemes) per post; shorten it or split it into a thread`), { code, cause: error });
  }
  const blob = /blob too (?:big|large) \(maximum (\d+), got (\d+)\)/i.exec(error.message);
  if (blob || status === 413 || /blob too (big|large)|BlobTooLarge/i.test(`${code} ${error.message}`)) {
    const limit = blob ? ` of ${Number(blob[1]).toLocaleString('en-US')} bytes` : '';
    const got = blob ? ` (it is ${Number(blob[2]).toLocaleString('en-US')} bytes)` : '';
    return new PublishError(redact(`${what}: the file is over Bluesky's size limit${limit}${got}; images must be at most 1,000,000 bytes, videos at most 100 MB; resize or recompress it`), { code, cause: error });
  }
  if (code === XrpcCode.expiredToken || code === XrpcCode.invalidToken) {
    return new PublishError(redact(`${what}: the Bluesky session expired and could not be refreshed${detail}; re-run the job`), { code, cause: error });
  }
  return new PublishError(redact(`${what}: Bluesky refused the request: HTTP ${status} ${code ?? ''}${detail}`.replace(/ +:/, ':')), { code, cause: error });
}

/** Login failures, with what to do about each. */
export function loginError(error: unknown, identifier: string, ctx: ErrorContext = {}): PublishError {
  if (!(error instanceof XrpcError)) return toPublishError('Bluesky login', error, ctx);
  const who = `'${identifier}'`;
  const appPassword = "create one in Bluesky under Settings → Privacy and security → App passwords, store it as a secret and pass it as 'bluesky-app-password'";
  if (error.error === XrpcCode.authFactorTokenRequired) {
    return new PublishError(
      redact(`Bluesky login for ${who} asks for an emailed sign-in code: the account has two-factor sign-in on, and 'bluesky-app-password' seems to hold the account password. Use an app password instead (app passwords skip the code): ${appPassword}`),
      { code: error.error, cause: error },
    );
  }
  if (error.error === XrpcCode.accountTakedown || error.status === 403) {
    return new PublishError(redact(`Bluesky login for ${who} was refused: ${error.message || error.error}. The account cannot post; check it in the Bluesky app`), { code: error.error, cause: error });
  }
  if (error.status === 401 || error.error === XrpcCode.authenticationRequired) {
    return new PublishError(
      redact(`Bluesky refused the login for ${who}: invalid identifier or password. Check 'bluesky-identifier' (the handle such as you.bsky.social, the DID, or the account's email) and that 'bluesky-app-password' is a current app password of that account (${appPassword}); check 'bluesky-service' too if the account is not on bsky.social`),
      { code: error.error ?? XrpcCode.authenticationRequired, cause: error },
    );
  }
  if (error.status === 429) {
    // Retried when the limit resets before the step's deadline; otherwise this is the message.
    const reset = resetTime(error);
    return new PublishError(
      redact(`Bluesky refused the login for ${who}: too many logins. Bluesky rate-limits logins (about 30 per 5 minutes and 300 per day per account; this action logs in once per run). Wait${reset ? ` until ${reset}` : ' a few minutes'} and re-run the job`),
      { retryable: true, retryAfterMs: rateLimitWaitMs(error, ctx.now) ?? 5000, code: 'RateLimitExceeded', cause: error },
    );
  }
  return toPublishError('Bluesky login', error, ctx);
}
