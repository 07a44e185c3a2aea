/**
 * What a run tells the workflow: outputs, the job summary table, and the dry-run rendering.
 * Builds plain values and Markdown; main.ts writes them.
 */
import type { TargetResult } from './publishers/types.js';
import { redact } from './secrets.js';

export interface Outputs {
  uri: string;
  url: string;
  cid: string;
  id: string;
  status: string;
  'scheduled-at': string;
  'idempotency-key': string;
  replayed: string;
  results: string;
}

/** One entry of the `results` output: every field present, empty when unknown. */
function resultEntry(r: TargetResult): Record<string, unknown> {
  return {
    post: r.label,
    publisher: r.publisher,
    platform: r.platform,
    ...(r.part !== undefined ? { part: r.part } : {}),
    status: r.status,
    uri: r.uri ?? '',
    url: r.url ?? '',
    cid: r.cid ?? '',
    id: r.id ?? '',
    scheduledAt: r.scheduledAt ?? '',
    idempotencyKey: r.idempotencyKey,
    replayed: r.replayed,
    warnings: r.warnings,
    ...(r.error !== undefined ? { error: r.error } : {}),
  };
}

/**
 * The outputs: one post target's fields at top level — the first target that succeeded, else
 * the first — and every post target in `results`. `replayed` is true only when nothing of
 * that target was posted by this run (a resumed thread that wrote posts is not a replay);
 * `idempotency-key` is the target's own key, stable across runs.
 */
export function buildOutputs(results: TargetResult[]): Outputs {
  const first = results.find((r) => r.status !== 'failed' && r.status !== 'rejected' && r.status !== 'unknown') ?? results[0];
  const sameTarget = first ? results.filter((r) => r.label === first.label && r.platform === first.platform && r.publisher === first.publisher) : [];
  return {
    uri: first?.uri ?? '',
    url: first?.url ?? '',
    cid: first?.cid ?? '',
    id: first?.id ?? '',
    status: first?.status ?? '',
    'scheduled-at': first?.scheduledAt ?? '',
    'idempotency-key': first?.targetKey ?? first?.idempotencyKey ?? '',
    replayed: String(sameTarget.length > 0 && sameTarget.every((r) => r.replayed)),
    results: redact(JSON.stringify(results.map(resultEntry))),
  };
}

const STATUS_ICON: Record<string, string> = {
  published: '✅ published',
  queued: '🕒 queued',
  waiting: '⏳ waiting',
  validated: '🔍 validated (dry run)',
  failed: '❌ failed',
  rejected: '⛔ rejected',
  unknown: '❓ unknown',
};

/** Escapes text for a Markdown table cell. */
export function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

export function summaryTable(results: TargetResult[]): string {
  const header = '| Post | Platform | Status | Link | Idempotency key | New or replayed | Warnings |\n|---|---|---|---|---|---|---|';
  const rows = results.map((r) => {
    const where = r.part !== undefined ? `${r.label} (${r.part})` : r.label;
    const link = r.url ? `[${r.url.replace(/^https?:\/\//, '')}](${r.url})` : r.uri ? `\`${r.uri}\`` : '';
    const scheduled = r.scheduledAt ? ` for ${r.scheduledAt}` : '';
    const fresh = r.status === 'validated' || r.status === 'failed' ? '—' : r.replayed ? 'replayed (already posted)' : 'new';
    const notes = [...r.warnings, ...(r.error ? [r.error] : [])].join('; ');
    return `| ${cell(where)} | ${r.platform} (${r.publisher}) | ${STATUS_ICON[r.status] ?? r.status}${scheduled} | ${cell(link)} | \`${r.idempotencyKey}\` | ${fresh} | ${cell(notes)} |`;
  });
  return redact([header, ...rows].join('\n'));
}
