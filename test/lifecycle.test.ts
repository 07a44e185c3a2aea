/**
 * What the preview foresees for a target that edits, retracts or cancels, from what the
 * ledger holds (lifecycle.ts, foreseenOperation): pure, so a table says it all.
 */
import { describe, expect, it } from 'vitest';
import { foreseenOperation } from '../src/lifecycle.js';
import { contentFingerprint, type Recorded } from '../src/ledger/ledger.js';
import type { PlannedTarget, TargetOperation, TargetResult } from '../src/publishers/types.js';
import { plannedTarget } from './support/planned.js';

function target(publisher: PlannedTarget['publisher'], operation: TargetOperation, scheduledAt?: string): PlannedTarget {
  return plannedTarget({ label: 'posts/a.yml', publisher, platform: 'bluesky', idempotencyKey: 'lmpa-f-bluesky-a', texts: ['hi'], operation, ...(scheduledAt ? { scheduledAt } : {}) });
}

function posted(t: PlannedTarget, fields: Partial<TargetResult>, fingerprint = contentFingerprint(t)): Recorded {
  const result: TargetResult = { label: t.label, publisher: t.publisher, platform: t.platform, status: 'published', idempotencyKey: t.idempotencyKey, replayed: true, warnings: [], url: 'https://bsky.app/profile/did:plc:a/post/3k', ...fields };
  return { kind: 'posted', result, fingerprint, at: '2026-11-30T09:00:00Z' };
}

const EDIT: TargetOperation = { kind: 'edit' };
const RETRACT: TargetOperation = { kind: 'retract' };
const CANCEL: TargetOperation = { kind: 'cancel' };

describe('what the preview foresees', () => {
  it.each<[string, PlannedTarget, (t: PlannedTarget) => Recorded, string | undefined]>([
    ['a publish: nothing to foresee', target('bluesky', { kind: 'publish' }), () => ({ kind: 'none' }), undefined],
    ['the ledger says nothing: the general text', target('bluesky', EDIT), () => ({ kind: 'none' }), undefined],
    ['an edit of a published post', target('bluesky', EDIT), (t) => posted(t, {}), "already published on 2026-11-30T09:00:00Z: https://bsky.app/profile/did:plc:a/post/3k; edit has no effect — add 'retract: true' to delete it, or create a new file to post again"],
    ['an edit that moves a queued post', target('letmepost', EDIT, '2099-02-01T09:00:00.000Z'), (t) => posted(t, { status: 'queued', scheduledAt: '2099-01-01T09:00:00.000Z' }), 'moves the queued post from 2099-01-01T09:00:00.000Z to 2099-02-01T09:00:00.000Z'],
    ['a text edit of a queued post', target('letmepost', EDIT, '2099-01-02T09:00:00.000Z'), (t) => posted(t, { status: 'queued', id: 'p1', scheduledAt: '2099-01-01T09:00:00.000Z' }, 'other0'), 'replaces the post queued for 2099-01-01T09:00:00.000Z: cancels it and queues the edited text for 2099-01-02T09:00:00.000Z'],
    ['a text edit of a queued post the ledger has no id of', target('letmepost', EDIT, '2099-01-01T09:00:00Z'), (t) => posted(t, { status: 'queued', scheduledAt: '2099-01-01T09:00:00.000Z' }, 'other0'), 'no change: queued for 2099-01-01T09:00:00.000Z; the text edit is not applied (a queued post keeps its text)'],
    ['a text edit of a queued post whose schedule was removed', target('letmepost', EDIT), (t) => posted(t, { status: 'queued', id: 'p1', scheduledAt: '2099-01-01T09:00:00.000Z' }, 'other0'), 'no change: queued for 2099-01-01T09:00:00.000Z; the text edit is not applied (a queued post keeps its text)'],
    ['a retract on Bluesky', target('bluesky', RETRACT), (t) => posted(t, {}), 'deletes the post published on 2026-11-30T09:00:00Z: https://bsky.app/profile/did:plc:a/post/3k'],
    ['a retract through letmepost', target('letmepost', RETRACT), (t) => posted(t, {}), expect.stringMatching(/^the post published on 2026-11-30T09:00:00Z stays \(https:\S+\): letmepost cancels a queued post .* but cannot delete a published one/) as unknown as string],
    ['a retract of a queued post', target('letmepost', RETRACT), (t) => posted(t, { status: 'queued', scheduledAt: '2099-01-01T09:00:00.000Z' }), 'cancels the post queued for 2099-01-01T09:00:00.000Z'],
    ['a deleted file whose post is published', target('letmepost', CANCEL), (t) => posted(t, {}), expect.stringMatching(/^no effect: published on .*deleting a file never deletes a post/) as unknown as string],
    ['anything already retracted', target('bluesky', RETRACT), () => ({ kind: 'retracted', cancelled: false, on: '2026-12-01T09:00:00Z' }), 'nothing: retracted already on 2026-12-01T09:00:00Z'],
  ])('%s', (_, t, recorded, said) => {
    expect(foreseenOperation(t, recorded(t))).toEqual(said);
  });
});
