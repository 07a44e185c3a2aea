/**
 * A Mastodon post after it was sent. Rescheduling: `PUT /api/v1/scheduled_statuses/:id`
 * `{scheduled_at}` moves a scheduled status (its text cannot change). Retracting: the ledger holds the id of its first status (or of its
 * scheduled status). A queued post is cancelled (`DELETE /api/v1/scheduled_statuses/:id`). A
 * published one is deleted with the rest of its thread: the later posts are found as the
 * chain of the account's own replies, each answering the one before
 * (`GET /api/v1/statuses/:id/context`), at most as many as the thread can have; replies are
 * deleted before what they answer. A 404 means already gone, so a retract can run again.
 */
import { PublishError } from '../../errors.js';
import { isObject, parseJson, str, type Json } from '../../io/json.js';
import type { PlannedTarget, RetractOutcome, TargetResult } from '../types.js';
import type { MastodonClient } from './client.js';

/** Sends one request with the retry policy; `undefined` for a 404 (not there). */
async function call(client: MastodonClient, what: string, method: string, path: string): Promise<Json | undefined> {
  return client.retrying(what, async () => {
    const response = await client.request(what, method, path);
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw client.failure(what, response);
    const parsed = parseJson(response.body);
    return isObject(parsed) ? parsed : {};
  });
}

/** The ids of the later posts of a thread: the account's own replies, each to the one before. */
function threadAfter(first: Json, descendants: unknown[], most: number): string[] {
  const account = isObject(first.account) ? str(first.account.id) : undefined;
  const own = descendants.filter(isObject).filter((d) => account !== undefined && isObject(d.account) && str(d.account.id) === account);
  const chain: string[] = [];
  let parent = str(first.id);
  while (parent !== undefined && chain.length < most) {
    const next = own.find((d) => str(d.in_reply_to_id) === parent);
    const id = next ? str(next.id) : undefined;
    if (id === undefined) break;
    chain.push(id);
    parent = id;
  }
  return chain;
}

export async function retractStatuses(client: MastodonClient, target: PlannedTarget, recorded: TargetResult | undefined): Promise<RetractOutcome> {
  const what = `${target.label} → mastodon`;
  const id = recorded?.id;
  if (id === undefined || !/^[A-Za-z0-9_-]{1,64}$/.test(id)) {
    return { deleted: [], kept: `the ledger holds no status of it on ${client.host} (was it posted with the ledger off?); delete it by hand if it was posted` };
  }
  if (recorded!.status === 'queued') {
    client.log.info(`${what}: DELETE /api/v1/scheduled_statuses/${id}`);
    const cancelled = await call(client, `${what}: cancelling the scheduled status ${id}`, 'DELETE', `/api/v1/scheduled_statuses/${id}`);
    if (cancelled) return { deleted: [`the status scheduled for ${recorded!.scheduledAt ?? 'later'} (scheduled status ${id})`] };
    // Gone from the schedule: cancelled already, or published at its time under an id the ledger does not know.
    const due = recorded!.scheduledAt !== undefined && Date.parse(recorded!.scheduledAt) <= Date.now();
    return due
      ? { deleted: [], refused: true, kept: `it was scheduled for ${recorded!.scheduledAt} and is no longer scheduled on ${client.host}, so it was published at its time; Mastodon does not say as which status: delete it by hand` }
      : { deleted: [], kept: `the scheduled status ${id} is no longer on ${client.host} (cancelled already)` };
  }
  const first = await call(client, `${what}: reading status ${id}`, 'GET', `/api/v1/statuses/${id}`);
  if (!first) return { deleted: [], kept: `status ${id} is no longer on ${client.host} (deleted already)` };
  const context = await call(client, `${what}: reading the thread of status ${id}`, 'GET', `/api/v1/statuses/${id}/context`);
  const descendants = context && Array.isArray(context.descendants) ? context.descendants : [];
  const ids = [id, ...threadAfter(first, descendants, target.keys.parts.length - 1)];
  const deleted: string[] = [];
  for (const statusId of [...ids].reverse()) {
    client.log.info(`${what}: DELETE /api/v1/statuses/${statusId}`);
    const gone = await call(client, `${what}: deleting status ${statusId}`, 'DELETE', `/api/v1/statuses/${statusId}`);
    if (gone) deleted.push(str(gone.url) ?? str(gone.uri) ?? `status ${statusId}`);
  }
  if (deleted.length === 0) throw new PublishError(`${what}: ${client.host} found status ${id} but deleted none of its thread; re-run the job`, { retryable: true, code: 'failed' });
  return { deleted: deleted.reverse() };
}

/** Moves a scheduled status to the target's new time; returns it as queued now. */
export async function rescheduleStatus(client: MastodonClient, target: PlannedTarget & { scheduledAt: string }, recorded: TargetResult): Promise<TargetResult> {
  const id = recorded.id;
  const what = `${target.label} → mastodon: PUT /api/v1/scheduled_statuses/${id ?? '?'} (scheduled_at ${target.scheduledAt})`;
  if (id === undefined || !/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new PublishError(`${what}: the ledger holds no scheduled status id for it`);
  client.log.info(what);
  const answer = await client.retrying(what, async () => {
    const response = await client.request(what, 'PUT', `/api/v1/scheduled_statuses/${id}`, { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ scheduled_at: target.scheduledAt }) });
    if (response.status === 404) throw new PublishError(`${what}: ${client.host} no longer has this scheduled status (published at its time, or cancelled), so it keeps its time`, { code: 'not_found' });
    if (response.status !== 200) throw client.failure(what, response);
    const parsed = parseJson(response.body);
    return isObject(parsed) ? parsed : {};
  });
  return { ...recorded, status: 'queued', scheduledAt: str(answer.scheduled_at) ?? target.scheduledAt, replayed: false, warnings: [] };
}
