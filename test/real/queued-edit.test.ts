/**
 * A development check against the real letmepost server (test/real/README.md), skipped unless
 * LETMEPOST_REAL_URL/KEY/ACCOUNT are set: a post file scheduled through the bundle, its text
 * edited by a second push (the real server cancels the queued post, and queues the edited one
 * in its place), the edit re-run, a run killed between cancel and queue re-run, and the file
 * deleted (the replacement cancelled) — read back with GET /v1/posts/{id}.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { editing, pushTo } from '../support/pushes.js';
import { fixtures, log } from '../support/scenario.js';

const URL_ = process.env.LETMEPOST_REAL_URL;
const KEY = process.env.LETMEPOST_REAL_KEY;
const ACCOUNT = process.env.LETMEPOST_REAL_ACCOUNT;
const fx = fixtures();
afterAll(fx.cleanup);

async function read(id: string): Promise<{ status: string; text?: string; scheduledAt?: string }> {
  const res = await fetch(`${URL_}/v1/posts/${id}`, { headers: { Authorization: `Bearer ${KEY}` } });
  const body = (await res.json()) as Record<string, unknown>;
  return { status: String(body.status), ...(typeof body.text === 'string' ? { text: body.text } : {}), ...(typeof body.scheduledAt === 'string' ? { scheduledAt: body.scheduledAt } : {}) };
}

describe.skipIf(!URL_ || !KEY || !ACCOUNT)('the real letmepost server: a text edit of a queued post', () => {
  const at = new Date(Date.now() + 2 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const file = (id: string, text: string) => `id: ${id}\ntext: ${JSON.stringify(text)}\nscheduledAt: "${at}"\ntargets:\n  - platform: bluesky\n    account: ${ACCOUNT}\n`;
  const inputs = () => ({ 'letmepost-token': KEY!, 'letmepost-api-url': URL_! });

  it('is replaced once, re-runs send nothing more, and deleting the file cancels the replacement', async () => {
    const id = `real-edit-${Date.now()}`;
    const s = await editing(fx, file(id, 'Launch day'), file(id, 'Launch day, typo fixed'));
    const queued = await pushTo(s, s.base, s.added, inputs());
    expect(queued.outputs.status, log(queued)).toBe('queued');
    const edit = await pushTo(s, s.added, s.second, inputs());
    expect(edit.code, log(edit)).toBe(0);
    expect(edit.outputs.status).toBe('queued');
    expect(await read(queued.outputs.id!)).toMatchObject({ status: 'canceled' });
    expect(await read(edit.outputs.id!)).toMatchObject({ status: 'queued', text: 'Launch day, typo fixed' });
    const rerun = await pushTo(s, s.added, s.second, inputs(), 2);
    expect(rerun.outputs, log(rerun)).toMatchObject({ id: edit.outputs.id, replayed: 'true' });
    s.repo.remove('posts/launch.yml');
    const gone = s.repo.commit('Drop the launch post');
    const cancel = await pushTo({ ...s, second: gone }, s.second, gone, inputs());
    expect(cancel.outputs.status, log(cancel)).toBe('cancelled');
    expect(await read(edit.outputs.id!)).toMatchObject({ status: 'canceled' });
  });

  it('a run killed between the cancel and the new post: the re-run queues the edit once', async () => {
    const id = `real-kill-${Date.now()}`;
    const s = await editing(fx, file(id, 'Launch day'), file(id, 'Launch day!'));
    const queued = await pushTo(s, s.base, s.added, inputs());
    expect(queued.outputs.status, log(queued)).toBe('queued');
    expect((await fetch(`${URL_}/v1/posts/${queued.outputs.id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${KEY}` } })).status).toBe(200);
    const rerun = await pushTo(s, s.added, s.second, inputs(), 2);
    expect(rerun.code, log(rerun)).toBe(0);
    expect(rerun.stdout).toMatch(/is cancelled already; queueing the edited post in its place/);
    expect(await read(rerun.outputs.id!)).toMatchObject({ status: 'queued', text: 'Launch day!' });
    // Once more: the ledger holds the replacement, nothing is queued again.
    const again = await pushTo(s, s.added, s.second, inputs(), 3);
    expect(again.outputs).toMatchObject({ id: rerun.outputs.id, replayed: 'true' });
  });
});
