import { describe, expect, it } from 'vitest';
import { postSchema } from '../../src/model/post.js';
import { renderPreview } from '../../src/report/preview.js';
import type { PlannedTarget } from '../../src/publishers/types.js';
import { plannedTarget, type TargetSpec } from '../support/planned.js';

function target(label: string, text: string, overrides: Partial<PlannedTarget> = {}): PlannedTarget {
  const post = postSchema.parse({ text, targets: [{ platform: 'bluesky', account: 'bluesky' }] });
  return plannedTarget({ label, publisher: 'bluesky', platform: 'bluesky', idempotencyKey: `lmpa-f-bluesky-${label}`, texts: [text], post, ...(overrides as Partial<TargetSpec>) });
}

describe('the preview a reviewer sees', () => {
  it('renders the text, its length against the cap, the schedule and the key', () => {
    const md = renderPreview([target('posts/a.yml', 'Hello <world>', { scheduledAt: '2026-12-01T09:00:00.000Z' })]);
    expect(md).toContain('```text\nHello <world>\n```');
    expect(md).toContain('13 / 300 ✅');
    expect(md).toContain('Scheduled for **2026-12-01T09:00:00.000Z** (UTC)');
    expect(md).toContain('`lmpa-f-bluesky-posts/a.yml`');
  });

  it('warns about a schedule that has already passed, and not about one ahead', () => {
    const past = renderPreview([target('posts/past.yml', 'Hi', { scheduledAt: '2020-01-01T09:00:00.000Z' })]);
    expect(past).toMatch(/Scheduled for \*\*2020-01-01T09:00:00\.000Z\*\* \(UTC\)\. ⚠️ This time has already passed/);
    const ahead = renderPreview([target('posts/ahead.yml', 'Hi', { scheduledAt: new Date(Date.now() + 86_400_000).toISOString() })]);
    expect(ahead).not.toMatch(/already passed/);
  });

  it.each<[string, Partial<TargetSpec>, RegExp]>([
    ['a post to publish', {}, /\| Bluesky \(`bluesky`\) \| bluesky \| ✅ publish \|/],
    ['a scheduled post', { scheduledAt: '2099-01-01T09:00:00.000Z' }, /\| 🕒 schedule for 2099-01-01T09:00:00\.000Z \|/],
    ['a retract on Bluesky', { operation: { kind: 'retract', reason: 'wrong `date`' } }, /\| 🗑️ retract: deletes every post of the thread and the first comment/],
    ['a retract through letmepost', { publisher: 'letmepost', operation: { kind: 'retract' } }, /\| 🗑️ retract: ⚠️ letmepost cancels a queued post .* but cannot delete a published one/],
  ])('says per target what will be done: %s', (_, overrides, row) => {
    const md = renderPreview([target('posts/op.yml', 'Hi', overrides as Partial<PlannedTarget>)]);
    expect(md).toContain('| Target | Publisher | Operation | Length | Idempotency key |');
    expect(md).toMatch(row);
  });

  it('a retract says that nothing is posted, with its reason as inert text', () => {
    const md = renderPreview([target('posts/op.yml', 'Hi', { operation: { kind: 'retract', reason: '::error::x' } })]);
    expect(md).toContain('**Retract:** this post asks to be deleted where it was published; nothing is posted. Reason: `::error::x`.');
  });

  it('shows how a long text to the direct Bluesky publisher is split into a thread', () => {
    const md = renderPreview([target('posts/long.yml', 'A sentence that goes on. '.repeat(20))]);
    expect(md).toMatch(/50\d \/ 300 → split into a thread of 2/);
  });

  it('flags missing alt text and shows media sizes', () => {
    const md = renderPreview([
      target('posts/m.yml', 'hi', { media: [{ kind: 'image', displayPath: 'img/a.png', size: 1_200_000, mimeType: 'image/png', width: 4, height: 3 }] }),
    ]);
    expect(md).toContain('| `img/a.png` | image/png 4×3 | 1.20 MB | ⚠️ missing |');
  });

  it('stays under the job summary limit, saying how many posts were left out', () => {
    const many = Array.from({ length: 50 }, (_, i) => target(`posts/${i}.yml`, `Post ${i} `.repeat(20)));
    const md = renderPreview(many, new Map(), 5_000);
    expect(Buffer.byteLength(md)).toBeLessThanOrEqual(5_200);
    expect(md).toMatch(/…and \d+ more posts, validated but not shown/);
  });
});
