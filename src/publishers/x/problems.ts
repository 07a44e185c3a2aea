/**
 * What X's error answers mean, and the fix for each — the walls users of other posting
 * actions hit as a bare `403` or `[object Object]`. Pure: an answer in, a PublishError out.
 *
 * X v2 answers errors as "problems": `{"title", "detail", "type", "reason"?, "status"?,
 * "errors"?: [{"message"}]}`.
 */
import { PublishError } from '../../errors.js';
import { isObject, parseJson, str } from '../../io/json.js';
import { redact } from '../../secrets.js';

/** PublishError code: X refused the text as a duplicate of one the account already posted. */
export const DUPLICATE = 'duplicate';

/** The four inputs, for messages. */
export const X_INPUTS = "'x-api-key', 'x-api-secret', 'x-access-token' and 'x-access-token-secret'";

export interface XProblem {
  title?: string;
  detail?: string;
  type?: string;
  reason?: string;
  /** The `errors[].message` of a 400. */
  messages: string[];
}

export function readProblem(body: Buffer | string): XProblem {
  const parsed = parseJson(body);
  if (!isObject(parsed)) return { messages: [] };
  const errors = Array.isArray(parsed.errors) ? parsed.errors.filter(isObject) : [];
  return {
    title: str(parsed.title),
    detail: str(parsed.detail),
    type: str(parsed.type),
    reason: str(parsed.reason),
    messages: errors.flatMap((e) => str(e.message) ?? str(e.detail) ?? []),
  };
}

/** What X said, for the message: the detail (or title) and the 400's messages. */
function said(problem: XProblem): string {
  const parts = [problem.detail ?? problem.title, ...problem.messages].filter((p): p is string => p !== undefined);
  return parts.length > 0 ? ` (${parts.join('; ').replace(/\.$/, '')})` : '';
}

export function isDuplicate(problem: XProblem): boolean {
  return /duplicate content/i.test(`${problem.detail ?? ''} ${problem.messages.join(' ')}`);
}

/**
 * How long to wait after a 429, from the epoch-seconds reset headers. The 24-hour per-user
 * posting cap (`x-user-limit-24hour-*`) decides when it is the one used up.
 */
export function rateLimitReset(headers: Headers): number | undefined {
  const userRemaining = headers.get('x-user-limit-24hour-remaining');
  const userReset = Number(headers.get('x-user-limit-24hour-reset') ?? Number.NaN);
  if (userRemaining === '0' && Number.isFinite(userReset)) return userReset * 1000;
  const reset = Number(headers.get('x-rate-limit-reset') ?? Number.NaN);
  return Number.isFinite(reset) && reset > 0 ? reset * 1000 : undefined;
}

/**
 * The error for an answer other than success. `write`: the request creates something, so a
 * 5xx may have done it anyway (X has answered 503 for tweets it then showed).
 */
export function xFailure(what: string, status: number, headers: Headers, body: Buffer | string, write: boolean, now = Date.now()): PublishError {
  const problem = readProblem(body);
  const head = `${what}: X answered HTTP ${status}${said(problem)}`;
  const make = (text: string, opts: ConstructorParameters<typeof PublishError>[1]) => new PublishError(redact(text), opts);
  if (status === 401) {
    return make(
      `${head}; X did not accept the keys. Check ${X_INPUTS}: all four must come from the same app's "Keys and tokens" page (API Key and Secret under "Consumer Keys", Access Token and Secret under "Authentication Tokens") and be current — regenerating any of them in the developer portal invalidates the old value, so update the secret too`,
      { code: 'unauthorized' },
    );
  }
  if (status === 403 && (problem.reason === 'client-not-enrolled' || /client-forbidden/.test(problem.type ?? ''))) {
    return make(
      `${head}; the app is not attached to a Project, and X API v2 takes only keys of an app inside one. In the developer portal (console.x.com, Projects & Apps), add the app to a Project (or create one and move the app into it); the keys stay the same`,
      { code: 'forbidden' },
    );
  }
  if (status === 403 && (/oauth1-permissions/.test(problem.type ?? '') || /app permissions|not permitted to perform this action/i.test(problem.detail ?? ''))) {
    return make(
      `${head}; the app may only read. In the developer portal, open the app's "User authentication settings", set App permissions to "Read and write", save, then REGENERATE the Access Token and Secret (a token keeps the permissions it was made with) and update 'x-access-token' and 'x-access-token-secret'`,
      { code: 'forbidden' },
    );
  }
  if (status === 403 && isDuplicate(problem)) {
    return make(
      `${head}; the account already posted exactly this text (by hand, or another run of this post), and X refuses the same text twice. Nothing was posted now. If that earlier post is the one meant, nothing is left to do; to post again, change the text and set a new 'idempotency-key'`,
      // A post with this text exists: reported as "may have been posted" (the ledger keeps the
      // intent), never as "not posted", which would let a later run post it once X forgets.
      { code: DUPLICATE, outcomeUnknown: true },
    );
  }
  if (status === 402 || /credits|payment/i.test(`${problem.title ?? ''} ${problem.type ?? ''}`)) {
    return make(
      `${head}; X refused for payment: the developer account has no credits left, or its plan does not include posting. Check the plan and the credit balance in the developer portal (console.x.com); nothing was posted`,
      { code: 'payment' },
    );
  }
  if (status === 429) {
    const reset = rateLimitReset(headers);
    const wait = reset !== undefined ? Math.max(0, reset - now) : undefined;
    const when = reset !== undefined ? `; the limit resets at ${new Date(reset).toISOString()}` : '';
    return make(`${head}: rate limited${when}`, { retryable: true, code: 'failed', retryAfterMs: wait !== undefined ? wait + 1000 : 60_000 });
  }
  if (status >= 500) {
    return make(`${head}${write ? '; X may have posted it anyway' : ''}`, { retryable: true, outcomeUnknown: write, code: 'failed' });
  }
  if (status === 403) return make(`${head}; X refused the request`, { code: 'forbidden' });
  if (status === 404) return make(head, { code: 'not_found' });
  return make(head, { code: status === 400 ? 'rejected' : `http_${status}` });
}
