/**
 * One HTTP answer to `POST /v1/posts`, read into an outcome or into the error that tells the
 * publisher what to do next: retry (nothing ran on the server), switch to the account shape,
 * confirm from the post rows (it may have run), or stop.
 */
import { PublishError, SCHEDULE_REFUSED } from '../../errors.js';
import { retryAfterMs, type HttpResponse } from '../../io/http.js';
import { parseJson } from '../../io/json.js';
import { Code, describeApiError, parseErrorEnvelope, readOutcome, Rule, wantsAccountShape, type PostOutcome } from './api.js';
import { NoAnswer, NoAnswerError } from './no-answer.js';

/** The server wants the documented single-account request shape. */
export class AccountShapeWanted extends PublishError {}

/**
 * Reads one HTTP answer: an outcome, or an error that the retry policy classifies.
 * `uploaded`: the request names media uploaded in this run; `sentAt`: when it was sent.
 */
export function readAnswer(response: HttpResponse, uploaded: boolean, sentAt: number): PostOutcome {
  const requestId = response.headers.get('x-request-id');
  const replayed = response.headers.get('idempotency-replayed')?.toLowerCase() === 'true';
  if (response.status >= 200 && response.status < 300) {
    const parsed = parseJson(response.body);
    // A garbled 2xx: the handler finished and its answer is stored, so asking again replays it.
    if (parsed === undefined) {
      throw new PublishError(`letmepost answered HTTP ${response.status} with a body that is not JSON${requestId ? ` (request id ${requestId})` : ''}`, {
        retryable: true,
        outcomeUnknown: true,
        code: 'malformed_response',
      });
    }
    const outcome = readOutcome(parsed, replayed);
    if (requestId) outcome.requestId = requestId;
    return outcome;
  }

  const envelope = parseErrorEnvelope(response.body);
  const message = describeApiError(response.status, envelope, requestId);
  const code = envelope?.code;
  if (response.status === 409 && code === Code.idempotencyConflict && envelope?.rule === Rule.inProgress) {
    // Another request holds the key right now; its answer will be replayed to us once it is done.
    throw new PublishError(message, { retryable: true, code, retryAfterMs: 2000 });
  }
  if (response.status === 409 && envelope?.rule === Rule.bodyMismatch) {
    // Same identity, other content: the earlier request stands. letmepost does not say what
    // became of it (the ledger, consulted first, had no record), so the outcome is unknown.
    const why = uploaded ? 'its media were uploaded again in this run (new media ids), so the request differs' : 'this run sends other content (text, media or options)';
    throw new PublishError(
      `${message} An earlier run already sent this post under this key and ${why}; letmepost keeps the earlier request and refuses to replace it, so nothing new was posted. letmepost does not say what became of the earlier request and the ledger has no record of it: check the account in letmepost (the durable ledger, with 'permissions: statuses: write', remembers it next time). To post this content as a separate post on purpose, set a new 'idempotency-key'`,
      { code: Rule.bodyMismatch, outcomeUnknown: true },
    );
  }
  if (wantsAccountShape(response.status, envelope)) throw new AccountShapeWanted(message);
  if (response.status === 400 && envelope?.rule?.startsWith('scheduledAt')) throw new PublishError(message, { code: SCHEDULE_REFUSED });
  if (response.status === 429 && code !== Code.quotaExceeded) {
    // The limiter answers before the handler: nothing ran, asking again is safe.
    throw new PublishError(message, { retryable: true, code: code ?? Code.rateLimited, retryAfterMs: retryAfterMs(response.headers.get('retry-after')) ?? 5000 });
  }
  if (response.status >= 500) {
    // A 5xx is never stored, and a gateway's may come after the handler ran: confirm first.
    throw new NoAnswerError(new NoAnswer(new PublishError(message, { retryable: true, outcomeUnknown: true, code: code ?? Code.internalError }), sentAt, true));
  }
  throw new PublishError(message, { code });
}
