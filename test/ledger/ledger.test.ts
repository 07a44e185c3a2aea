import { describe, expect, it } from 'vitest';
import { contentFingerprint, failureDescription, intentDescription, Ledger, ledgerContext, ledgerDescription, resultFromStatus, retractedDescription, trusted } from '../../src/ledger/ledger.js';
import type { PostDefinition } from '../../src/model/post.js';
import type { PlannedTarget, TargetResult } from '../../src/publishers/types.js';
import { keysOf, plannedTarget } from '../support/planned.js';

const DID = 'did:plc:abcdefghijklmnopqrstuvwx';
const RKEY = '3n3fdqf6j3su3';
const CID = 'bafyreia2zkhdzi3uaul2d2tzdledpkcsbtd7srcdx4fqemravlwnph4v2u';

function target(platform: PlannedTarget['platform'], publisher: PlannedTarget['publisher']): PlannedTarget {
  return plannedTarget({ label: 'posts/launch.yml', publisher, platform, account: 'bluesky', idempotencyKey: `lmpa-f-${platform}-abc`, texts: ['hi'] });
}

function result(t: PlannedTarget, fields: Partial<TargetResult>): TargetResult {
  return { label: t.label, publisher: t.publisher, platform: t.platform, status: 'published', idempotencyKey: t.idempotencyKey, replayed: false, warnings: [], ...fields };
}

describe('the ledger entry (a commit status)', () => {
  it.each<[string, PlannedTarget, Partial<TargetResult>]>([
    ['a direct Bluesky post', target('bluesky', 'bluesky'), { uri: `at://${DID}/app.bsky.feed.post/${RKEY}`, url: `https://bsky.app/profile/${DID}/post/${RKEY}`, cid: CID, id: RKEY }],
    ['a Bluesky post through letmepost', target('bluesky', 'letmepost'), { uri: `at://${DID}/app.bsky.feed.post/${RKEY}`, url: `https://bsky.app/profile/${DID}/post/${RKEY}`, cid: CID, id: 'post_01M8HPZJTJ01NZQ7DTKVW4XSNQ' }],
    ['an X post through letmepost', target('twitter', 'letmepost'), { uri: '2126746523239710721', url: 'https://x.com/i/status/2126746523239710721', id: 'post_01M8HPZJTNEA543ZP7HREKJ8PG' }],
    ['a queued post', target('linkedin', 'letmepost'), { status: 'queued', id: 'post_01M8HPZJTNEA543ZP7HREKJ8PG', scheduledAt: '2099-01-01T09:00:00.000Z' }],
  ])('%s is reported again with the outputs of the run that made it, in at most 140 characters', (_, t, fields) => {
    const original = result(t, fields);
    const description = ledgerDescription(original);
    expect(description.length).toBeLessThanOrEqual(140);
    const back = resultFromStatus(t, { context: ledgerContext(t), state: 'success', description, target_url: original.url ?? null });
    expect(back).toEqual({ ...original, replayed: true });
  });

  it('an entry written before cids were recorded (uri in the description) still reads back', () => {
    const t = target('bluesky', 'bluesky');
    const back = resultFromStatus(t, { context: ledgerContext(t), state: 'success', description: `published uri=at://${DID}/app.bsky.feed.post/${RKEY} id=${RKEY}`, target_url: `https://bsky.app/profile/${DID}/post/${RKEY}` });
    expect(back).toMatchObject({ uri: `at://${DID}/app.bsky.feed.post/${RKEY}`, id: RKEY, replayed: true });
  });

  it.each([
    ['a failed state', { state: 'failure', description: 'published id=x' }],
    ['a status that is not a published or queued post', { state: 'success', description: 'waiting' }],
    ['an empty description', { state: 'success', description: '' }],
  ])('%s is not taken for a recorded post', (_, status) => {
    const t = target('twitter', 'letmepost');
    expect(resultFromStatus(t, { context: ledgerContext(t), ...status })).toBeUndefined();
  });

  it('each target has its own context, named after the platform', () => {
    const a = ledgerContext({ platform: 'bluesky', keys: keysOf('lmpa-f-bluesky-a') });
    const b = ledgerContext({ platform: 'bluesky', keys: keysOf('lmpa-f-bluesky-b') });
    expect(a).toMatch(/^letmepost\/bluesky\/[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
  });
});

describe('the ledger trusts only what it wrote', () => {
  const t = target('bluesky', 'letmepost');
  const status = (state: string, description: string) => ({ context: ledgerContext(t), state, description });

  it('a signed entry is trusted; the same text with another key, state or a changed field is not', () => {
    const description = ledgerDescription(result(t, { uri: `at://${DID}/app.bsky.feed.post/${RKEY}`, id: 'p1' }), t.idempotencyKey, contentFingerprint(t));
    expect(trusted(t.idempotencyKey, status('success', description))).toBe(true);
    expect(trusted('another-key', status('success', description))).toBe(false);
    expect(trusted(t.idempotencyKey, status('pending', description))).toBe(false);
    expect(trusted(t.idempotencyKey, status('success', description.replace('id=p1', 'id=p2')))).toBe(false);
    expect(trusted(t.idempotencyKey, status('success', 'published id=p1'))).toBe(false);
  });

  it('intents and endings are signed too', () => {
    expect(trusted(t.idempotencyKey, status('pending', intentDescription(t.idempotencyKey, Date.UTC(2026, 11, 2, 9))))).toBe(true);
    expect(intentDescription(t.idempotencyKey, Date.UTC(2026, 11, 2, 9))).toMatch(/^publishing since 2026-12-02T09:00:00Z sig=[0-9a-f]{8}$/);
    expect(trusted(t.idempotencyKey, status('failure', failureDescription(t.idempotencyKey, 'failed')))).toBe(true);
  });

  it("the content's fingerprint changes with the text, so a re-run can tell that its text changed", () => {
    expect(contentFingerprint({ texts: ['a'] })).not.toBe(contentFingerprint({ texts: ['b'] }));
    expect(contentFingerprint({ texts: ['a'] })).toBe(contentFingerprint({ texts: ['a'] }));
  });
});

describe('a retracted entry', () => {
  const t = target('bluesky', 'bluesky');
  const statuses = (description: string) => ({ commitStatuses: async () => [{ context: ledgerContext(t), state: 'success', description, created_at: '2026-12-02T09:00:00Z' }], createCommitStatus: async () => {} });
  const log = { info: () => {}, warning: () => {}, debug: () => {} };
  const sha = 'a'.repeat(40);
  const onCommit = { ...t, ledgerCommit: sha };

  it('is signed, fits, and reads back as retracted with its time', async () => {
    const description = retractedDescription(t.idempotencyKey, Date.UTC(2026, 11, 2, 9), result(t, { id: RKEY }));
    expect(description).toMatch(new RegExp(`^retracted id=${RKEY} on=2026-12-02T09:00:00Z sig=[0-9a-f]{8}$`));
    expect(trusted(t.idempotencyKey, { context: ledgerContext(t), state: 'success', description })).toBe(true);
    expect(await new Ledger(statuses(description), log).lookup(onCommit)).toEqual({ kind: 'retracted', cancelled: false, on: '2026-12-02T09:00:00Z' });
  });

  it('a cancelled entry (its file was deleted while queued) reads back as cancelled', async () => {
    const description = retractedDescription(t.idempotencyKey, Date.UTC(2026, 11, 2, 9), result(t, { id: 'post_1', status: 'queued' }), 'cancelled');
    expect(description).toMatch(/^cancelled id=post_1 on=2026-12-02T09:00:00Z sig=[0-9a-f]{8}$/);
    expect(await new Ledger(statuses(description), log).lookup(onCommit)).toEqual({ kind: 'retracted', cancelled: true, on: '2026-12-02T09:00:00Z' });
  });

  it('entries written before retracts existed read as they always did', async () => {
    const published = ledgerDescription(result(t, { uri: `at://${DID}/app.bsky.feed.post/${RKEY}`, cid: CID, id: RKEY }), t.idempotencyKey, contentFingerprint(t));
    const found = await new Ledger(statuses(published), log).lookup(onCommit);
    expect(found).toMatchObject({ kind: 'posted', result: { status: 'published', id: RKEY, uri: `at://${DID}/app.bsky.feed.post/${RKEY}` } });
  });

  it('an unsigned "retracted" is not trusted: it retracts nothing and stops nothing', async () => {
    expect(await new Ledger(statuses('retracted id=x on=2026-12-02T09:00:00Z sig=00000000'), log).lookup(onCommit)).toEqual({ kind: 'none' });
  });
});
