/**
 * What a run tells the workflow: outputs, the job summary table, and the dry-run rendering.
 * Builds plain values and Markdown; main.ts writes them.
 */
import { isPlainWebUrl, mdCode, mdLink } from './markdown.js';
import { neutralize, neutralizeLines } from './neutralize.js';
import type { TargetResult } from '../publishers/types.js';
import { redact } from '../secrets.js';

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

/**
 * What a server answered becomes an output only in the shape such a value has: workflows
 * paste outputs into scripts (`run: echo ${{ steps.post.outputs.url }}`), so a hostile
 * server's `uri` must not be able to carry quotes, `$(…)` or line breaks into them.
 */
const OUTPUT_SHAPES: Readonly<Record<'uri' | 'url' | 'cid' | 'id' | 'scheduledAt', (v: string) => boolean>> = {
  uri: (v) => /^at:\/\/[A-Za-z0-9:._%-]+\/[A-Za-z0-9.]+\/[A-Za-z0-9._:~-]+$/.test(v) || /^urn:[A-Za-z0-9:._-]{1,200}$/.test(v) || /^[A-Za-z0-9_.:-]{1,200}$/.test(v) || isPlainWebUrl(v),
  url: isPlainWebUrl,
  cid: (v) => /^[A-Za-z0-9]{1,200}$/.test(v),
  id: (v) => /^[A-Za-z0-9_.:-]{1,200}$/.test(v),
  scheduledAt: (v) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(v),
};

/** A value fit for an output, else '' (see OUTPUT_SHAPES); `dropped` collects what was left out. */
function shaped(kind: keyof typeof OUTPUT_SHAPES, value: string | undefined, dropped: string[]): string {
  if (value === undefined || value === '') return '';
  if (OUTPUT_SHAPES[kind](value)) return value;
  dropped.push(`${kind} ${JSON.stringify(value.length > 120 ? `${value.slice(0, 119)}…` : value)}`);
  return '';
}

/** One entry of the `results` output: every field present, empty when unknown. */
function resultEntry(r: TargetResult, dropped: string[]): Record<string, unknown> {
  return {
    post: neutralize(r.label),
    publisher: r.publisher,
    platform: r.platform,
    ...(r.part !== undefined ? { part: r.part } : {}),
    status: r.status,
    uri: shaped('uri', r.uri, dropped),
    url: shaped('url', r.url, dropped),
    cid: shaped('cid', r.cid, dropped),
    id: shaped('id', r.id, dropped),
    scheduledAt: shaped('scheduledAt', r.scheduledAt, dropped),
    idempotencyKey: r.idempotencyKey,
    replayed: r.replayed,
    warnings: r.warnings.map(neutralizeLines),
    ...(r.error !== undefined ? { error: neutralizeLines(r.error) } : {}),
  };
}

/**
 * The outputs: one post target's fields at top level — the first target that succeeded, else
 * the first — and every post target in `results`. `replayed` is true only when nothing of
 * that target was posted by this run (a resumed thread that wrote posts is not a replay);
 * `idempotency-key` is the target's own key, stable across runs.
 */
export function buildOutputs(results: TargetResult[]): { outputs: Outputs; dropped: string[] } {
  const first = results.find((r) => r.status !== 'failed' && r.status !== 'rejected' && r.status !== 'unknown') ?? results[0];
  const sameTarget = first ? results.filter((r) => r.label === first.label && r.platform === first.platform && r.publisher === first.publisher) : [];
  const dropped: string[] = [];
  const entries = results.map((r) => resultEntry(r, dropped));
  const ignored: string[] = [];
  return {
    outputs: {
      uri: shaped('uri', first?.uri, ignored),
      url: shaped('url', first?.url, ignored),
      cid: shaped('cid', first?.cid, ignored),
      id: shaped('id', first?.id, ignored),
      status: first?.status ?? '',
      'scheduled-at': shaped('scheduledAt', first?.scheduledAt, ignored),
      'idempotency-key': first?.targetKey ?? first?.idempotencyKey ?? '',
      replayed: String(sameTarget.length > 0 && sameTarget.every((r) => r.replayed)),
      results: redact(JSON.stringify(entries)),
    },
    dropped: [...new Set(dropped)],
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
  retracted: '🗑️ retracted',
  cancelled: '🚫 cancelled',
  kept: '📌 kept (not retracted)',
};

/**
 * The job summary's table. Every value that did not come from the action's own code (file
 * names, keys given as input, what servers answered) is inert Markdown (markdown.ts).
 */
export function summaryTable(results: TargetResult[]): string {
  const header = '| Post | Platform | Status | Link | Idempotency key | New or replayed | Warnings |\n|---|---|---|---|---|---|---|';
  const rows = results.map((r) => {
    const where = r.part !== undefined ? `${r.label} (${r.part})` : r.label;
    const link = r.url ? mdLink(r.url, true) : r.uri ? mdCode(r.uri, true) : '';
    const scheduled = r.scheduledAt ? ` for ${mdCode(r.scheduledAt, true)}` : '';
    const fresh = r.status === 'validated' || r.status === 'failed' ? '—' : r.replayed ? 'replayed (already posted)' : 'new';
    const notes = [...r.warnings, ...(r.error ? [r.error] : [])].join('; ');
    return `| ${mdCode(where, true)} | ${r.platform} (${r.publisher}) | ${STATUS_ICON[r.status] ?? r.status}${scheduled} | ${link} | ${mdCode(r.idempotencyKey, true)} | ${fresh} | ${mdCode(notes, true)} |`;
  });
  return redact([header, ...rows].join('\n'));
}
