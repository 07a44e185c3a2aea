/**
 * A queued letmepost post: `PATCH /v1/posts/{id}` `{scheduledAt}` moves it (the only field
 * the server lets change), `DELETE /v1/posts/{id}` cancels it — both only while it is queued.
 * The server refuses (409, rule `post.status`) for a post in any other status — published
 * included: letmepost cannot delete a published post — and (rule `post.scheduledAt.window`)
 * once its time has come. A post already `canceled` is refused the same way: a re-run that
 * finds it so has nothing left to do. No idempotency key is needed: cancelling is its own replay.
 */
import { PublishError } from '../../errors.js';
import { isObject, parseJson, str } from '../../io/json.js';
import { httpRequest } from '../../io/http.js';
import { withRetries, type Clock, type RetryPolicy } from '../../io/retry.js';
import type { PlannedTarget, RetractOutcome, TargetResult } from '../types.js';
import { describeApiError, parseErrorEnvelope } from './api.js';
import { apiBase, type LetmepostConfig } from './config.js';

const CANNOT_DELETE = 'letmepost cannot delete a published post (its API cancels queued posts only)';

export async function cancelQueued(config: LetmepostConfig, policy: RetryPolicy, clock: Clock, target: PlannedTarget, recorded: TargetResult | undefined): Promise<RetractOutcome> {
  const byHand = `delete it on ${target.platform} by hand`;
  if (recorded === undefined || recorded.id === undefined) {
    return { deleted: [], refused: true, kept: `the ledger holds no letmepost post of it, and ${CANNOT_DELETE}; if it was posted, ${byHand}` };
  }
  if (recorded.status !== 'queued') return { deleted: [], refused: true, kept: `${CANNOT_DELETE}; ${byHand}` };
  const id = recorded.id;
  const what = `${target.label} → ${target.platform}: DELETE /v1/posts/${id}`;
  config.log.info(what);
  const answer = await withRetries(
    what,
    async () => {
      const response = await httpRequest(what, `${apiBase(config)}/v1/posts/${encodeURIComponent(id)}`, { method: 'DELETE', headers: { Authorization: `Bearer ${config.token}` } }, config.requestTimeoutMs, config.fetch);
      if (response.status === 200 || response.status === 404 || response.status === 409) return { status: response.status, envelope: parseErrorEnvelope(response.body) };
      const message = describeApiError(response.status, parseErrorEnvelope(response.body), response.headers.get('x-request-id'));
      throw new PublishError(`${what}: ${message}`, { retryable: response.status === 429 || response.status >= 500, code: response.status >= 500 || response.status === 429 ? 'failed' : 'rejected' });
    },
    policy,
    config.log,
    clock,
  );
  if (answer.status === 200) return { deleted: [`the post queued for ${recorded.scheduledAt ?? 'later'} (letmepost post ${id})`] };
  if (answer.status === 404) return { deleted: [], kept: `letmepost has no post ${id} any more` };
  const said = answer.envelope?.message ?? '';
  if (/"canceled"/.test(said)) return { deleted: [], kept: `letmepost post ${id} is cancelled already` };
  // Published at its time (or firing now): it can no longer be cancelled, and not deleted.
  return { deleted: [], refused: true, kept: `it is no longer queued (letmepost: ${said.replace(/\.$/, '') || 'HTTP 409'}), and ${CANNOT_DELETE}; ${byHand}` };
}

/** Moves a queued post to the target's new time; returns it as queued now. */
export async function rescheduleQueued(config: LetmepostConfig, policy: RetryPolicy, clock: Clock, target: PlannedTarget & { scheduledAt: string }, recorded: TargetResult): Promise<TargetResult> {
  const id = recorded.id;
  if (id === undefined) throw new PublishError(`${target.label} → ${target.platform}: the ledger holds no letmepost post id for the queued post, so it cannot be moved; delete the file (cancels nothing then) and add a new one`);
  const what = `${target.label} → ${target.platform}: PATCH /v1/posts/${id} (scheduledAt ${target.scheduledAt})`;
  config.log.info(what);
  const body = JSON.stringify({ scheduledAt: target.scheduledAt });
  const answer = await withRetries(
    what,
    async () => {
      const response = await httpRequest(what, `${apiBase(config)}/v1/posts/${encodeURIComponent(id)}`, { method: 'PATCH', headers: { Authorization: `Bearer ${config.token}`, 'Content-Type': 'application/json' }, body }, config.requestTimeoutMs, config.fetch);
      if (response.status === 200) return response;
      const message = describeApiError(response.status, parseErrorEnvelope(response.body), response.headers.get('x-request-id'));
      const transient = response.status === 429 || response.status >= 500;
      throw new PublishError(`${what}: ${message}${response.status === 409 ? '; it is no longer queued (published, or its time has come), so it keeps its time' : ''}`, { retryable: transient, code: transient ? 'failed' : 'rejected' });
    },
    policy,
    config.log,
    clock,
  );
  const parsed = parseJson(answer.body);
  const at = isObject(parsed) ? str(parsed.scheduledAt) : undefined;
  return { ...recorded, status: 'queued', scheduledAt: at ?? target.scheduledAt, replayed: false, warnings: [] };
}
