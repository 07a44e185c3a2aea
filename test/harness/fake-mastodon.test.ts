/**
 * The fake Mastodon's life-cycle endpoints behave as Mastodon 4.x does: a status is read and
 * deleted once (then 404), its thread is listed by `context`, a scheduled status is moved
 * (at least 5 minutes ahead) and cancelled once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeMastodon, type FakeMastodon } from '../support/fake-mastodon.js';

let mastodon: FakeMastodon;
beforeAll(async () => {
  mastodon = await startFakeMastodon();
});
afterAll(() => mastodon.close());

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${mastodon.url}${path}`, {
    method,
    headers: { Authorization: 'Bearer mastodon_test_secret_token', 'Content-Type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

describe('the fake Mastodon after a post', () => {
  it('lists a thread as context, deletes a status once, and keeps its replies', async () => {
    const first = await call('POST', '/api/v1/statuses', { status: 'one' });
    const second = await call('POST', '/api/v1/statuses', { status: 'two', in_reply_to_id: first.json.id });
    const context = await call('GET', `/api/v1/statuses/${String(first.json.id)}/context`);
    expect(context.status).toBe(200);
    expect((context.json.descendants as Array<{ id: string }>).map((d) => d.id)).toEqual([second.json.id]);
    const deleted = await call('DELETE', `/api/v1/statuses/${String(first.json.id)}`);
    expect(deleted).toMatchObject({ status: 200, json: { id: first.json.id, text: 'one' } });
    expect((await call('DELETE', `/api/v1/statuses/${String(first.json.id)}`)).status).toBe(404);
    expect((await call('GET', `/api/v1/statuses/${String(first.json.id)}`)).status).toBe(404);
    expect((await call('GET', `/api/v1/statuses/${String(second.json.id)}`)).json.in_reply_to_id).toBe(first.json.id);
  });

  it('moves a scheduled status only to at least 5 minutes ahead, and cancels it once', async () => {
    const queued = await call('POST', '/api/v1/statuses', { status: 'later', scheduled_at: '2099-01-01T09:00:00Z' });
    const id = String(queued.json.id);
    expect((await call('PUT', `/api/v1/scheduled_statuses/${id}`, { scheduled_at: new Date(Date.now() + 60_000).toISOString() })).status).toBe(422);
    const moved = await call('PUT', `/api/v1/scheduled_statuses/${id}`, { scheduled_at: '2099-02-01T09:00:00Z' });
    expect(moved).toMatchObject({ status: 200, json: { id, scheduled_at: '2099-02-01T09:00:00.000Z' } });
    expect((await call('DELETE', `/api/v1/scheduled_statuses/${id}`)).status).toBe(200);
    expect((await call('DELETE', `/api/v1/scheduled_statuses/${id}`)).status).toBe(404);
    expect((await call('PUT', `/api/v1/scheduled_statuses/${id}`, { scheduled_at: '2099-03-01T09:00:00Z' })).status).toBe(404);
  });
});
