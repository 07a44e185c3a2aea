/**
 * The preview a reviewer sees in the job summary (pull requests and dry runs): each post as
 * it will appear, its length against each target's cap, the thread split, media with alt
 * text and size, the schedule in UTC and the idempotency key.
 */
import { PLATFORM_LIMITS } from '../model/platforms.js';
import { descriptorOf } from '../publishers/registry.js';
import type { PlannedTarget } from '../publishers/types.js';
import { mdBlock, mdCode } from './markdown.js';
import { redact } from '../secrets.js';
import { platformLength } from '../text/platform-length.js';

function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return 'size unknown';
  return bytes >= 1_000_000 ? `${(bytes / 1_000_000).toFixed(2)} MB` : `${Math.ceil(bytes / 1000)} KB`;
}

/** How the text fits one target: length against the cap, or the split a direct publisher makes. */
function fit(target: PlannedTarget): string {
  const limits = PLATFORM_LIMITS[target.platform];
  if (target.texts.length > 1) return `thread of ${target.texts.length}`;
  const text = target.texts[0] ?? '';
  const length = platformLength(target.platform, text);
  const publisher = descriptorOf(target.publisher);
  if (publisher.splitCount && length > limits.maxGraphemes) return `${length} / ${limits.maxGraphemes} → split into a thread of ${publisher.splitCount(text, target.options)}`;
  if (publisher.lengthNote !== undefined) return `${length} (${publisher.lengthNote})`;
  return `${length} / ${limits.maxGraphemes}${length > limits.maxGraphemes ? ' ❌ too long' : ' ✅'}`;
}

const OPERATION_NAME: Readonly<Record<NonNullable<PlannedTarget['operation']>['kind'], string>> = { publish: '✅ publish', retract: '🗑️ retract', cancel: '🚫 cancel', edit: '✏️ edit' };

/** What merging (or the run) does with one target: publish, schedule, or retract what it published. */
export function plannedOperation(target: PlannedTarget): string {
  if (target.operation?.kind === 'retract') {
    const effect = descriptorOf(target.publisher).retractEffect;
    return `🗑️ retract: ${effect.deletesPublished ? effect.text : `⚠️ ${effect.text}`}`;
  }
  if (target.operation?.kind === 'cancel') return '🚫 cancel if still queued (the file is deleted; a published post stays)';
  if (target.operation?.kind === 'edit') return `✏️ edit: no effect on a published post; while queued, ${descriptorOf(target.publisher).editEffect}`;
  return target.scheduledAt !== undefined ? `🕒 schedule for ${target.scheduledAt}` : '✅ publish';
}

/** GitHub refuses a step summary over 1 MiB; the preview leaves room for the rest of it. */
export const PREVIEW_MAX_BYTES = 700 * 1024;

/** Groups targets by post (they share a label) and renders each post once with its targets. */
/**
 * `foreseen`: per target that edits, retracts or cancels, what it will do to the existing post,
 * as the ledger tells (it holds links the servers gave: shown as inert text).
 */
export function renderPreview(
  targets: PlannedTarget[],
  requests: Map<PlannedTarget, unknown> = new Map(),
  maxBytes = PREVIEW_MAX_BYTES,
  whyCut = 'a job summary is limited to 1 MiB',
  foreseen: ReadonlyMap<PlannedTarget, string> = new Map(),
): string {
  if (targets.length === 0) return 'No post to preview.';
  const posts = new Map<string, PlannedTarget[]>();
  for (const t of targets) posts.set(t.label, [...(posts.get(t.label) ?? []), t]);
  const sections: string[] = [];
  for (const [label, group] of posts) {
    const first = group[0]!;
    const lines: string[] = [`#### ${label === 'inputs' ? 'Post from inputs' : mdCode(label)}`, ''];
    // One text per platform (or Markdown rendered per platform): each version once, named by its targets.
    const versions = new Map<string, PlannedTarget[]>();
    for (const t of group) versions.set(JSON.stringify(t.texts), [...(versions.get(JSON.stringify(t.texts)) ?? []), t]);
    for (const [, shown] of versions) {
      const texts = shown[0]!.texts;
      if (versions.size > 1) lines.push(`**${[...new Set(shown.map((t) => PLATFORM_LIMITS[t.platform].displayName))].join(', ')}**`, '');
      texts.forEach((text, i) => {
        if (texts.length > 1) lines.push(`**Post ${i + 1} of ${texts.length}**`, '');
        lines.push(mdBlock(text), '');
      });
    }
    if (first.firstComment) lines.push('**First comment**', '', mdBlock(first.firstComment), '');
    if (first.media.length > 0) {
      lines.push('| Media | Kind | Size | Alt text |', '|---|---|---|---|');
      for (const m of first.media) {
        const dims = m.width && m.height ? ` ${m.width}×${m.height}` : '';
        lines.push(`| ${mdCode(m.displayPath ?? m.url ?? '', true)} | ${m.mimeType ?? m.kind}${dims} | ${m.url ? 'by URL' : formatBytes(m.size)} | ${m.alt ? mdCode(m.alt, true) : '⚠️ missing'} |`);
      }
      lines.push('');
    }
    if (first.operation?.kind === 'retract') {
      const reason = first.operation.reason !== undefined ? ` Reason: ${mdCode(first.operation.reason)}.` : '';
      lines.push(`**Retract:** this post asks to be deleted where it was published; nothing is posted.${reason}`, '');
    }
    const past = first.operation?.kind !== 'retract' && first.scheduledAt !== undefined && Date.parse(first.scheduledAt) <= Date.now();
    const pastNote = past ? ' ⚠️ This time has already passed: letmepost and Mastodon refuse it unless an earlier run queued it; Bluesky posts it as soon as a run sees it.' : '';
    lines.push(first.scheduledAt ? `Scheduled for **${first.scheduledAt}** (UTC).${pastNote}` : 'Posted when published (no schedule).', '');
    lines.push('| Target | Publisher | Operation | Length | Idempotency key |', '|---|---|---|---|---|');
    for (const t of group) lines.push(`| ${PLATFORM_LIMITS[t.platform].displayName} (${mdCode(t.account, true)}) | ${t.publisher} | ${foreseen.has(t) ? `${OPERATION_NAME[t.operation?.kind ?? 'publish']}: ${mdCode(foreseen.get(t)!, true)}` : plannedOperation(t)} | ${fit(t)} | ${mdCode(t.idempotencyKey, true)} |`);
    lines.push('');
    for (const t of group) {
      const request = requests.get(t);
      if (request !== undefined) lines.push(`<details><summary>${t.platform}: the request that would be sent</summary>`, '', mdBlock(JSON.stringify(request, null, 2), 'json'), '', '</details>', '');
    }
    sections.push(lines.join('\n'));
  }
  let shown = 0;
  let bytes = 0;
  while (shown < sections.length && bytes + Buffer.byteLength(sections[shown]!) <= maxBytes) bytes += Buffer.byteLength(sections[shown++]!) + 1;
  const hidden = sections.length - shown;
  const note = hidden > 0 ? `\n_…and ${hidden} more post${hidden > 1 ? 's' : ''}, validated but not shown: ${whyCut}._` : '';
  return redact(sections.slice(0, shown).join('\n') + note);
}
