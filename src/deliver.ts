/**
 * One target, delivered: the ledger first (the fewest requests for a re-run), then an intent
 * record, the publisher, and the ledger entry. What each publisher guarantees by itself — how
 * long its platform remembers a key — comes from its descriptor.
 */
import { errorMessage, PostFileError, PublishError, SCHEDULE_REFUSED } from './errors.js';
import { contentFingerprint, ledgerContext, type Ledger } from './ledger/ledger.js';
import { scheduleLeadProblem } from './plan/preflight.js';
import { contentChangedWarning } from './publishers/content-change.js';
import { descriptorOf } from './publishers/registry.js';
import type { Log, PlannedTarget, Publisher, TargetResult } from './publishers/types.js';
import { redact } from './secrets.js';

export function failure(target: PlannedTarget, status: TargetResult['status'], message: string): TargetResult[] {
  return [{ label: target.label, publisher: target.publisher, platform: target.platform, status, idempotencyKey: target.idempotencyKey, replayed: false, warnings: [], error: redact(message) }];
}

/** A publish that threw. Unknown: the post may exist. Failed: transient, a re-run retries. Rejected: permanent. */
export function publishFailureStatus(error: unknown): TargetResult['status'] {
  return error instanceof PublishError && error.outcomeUnknown ? 'unknown' : error instanceof PublishError && (error.code === 'failed' || error.retryable) ? 'failed' : 'rejected';
}

export interface Delivery {
  results: TargetResult[];
  /** Published or queued without a ledger entry. */
  unrecorded: boolean;
}

/** Publishes one target; never throws: a failure is a result with its status and message. */
export async function deliver(publisher: Publisher, target: PlannedTarget, ledger: Ledger, now: number, log: Log): Promise<Delivery> {
  const descriptor = descriptorOf(target.publisher);
  const recorded = await ledger.lookup(target);
  const sha = target.ledgerCommit?.slice(0, 7);
  if (recorded.kind === 'retracted') {
    // Its file no longer asks for the retract, but what it published was deleted: never again.
    const done = recorded.cancelled ? 'cancelled' : 'retracted';
    log.info(`${target.label} → ${target.platform}: ${done} by an earlier run${recorded.on ? ` on ${recorded.on}` : ''} (recorded on commit ${sha}); not posting it again — create a new post file (or give it a new id) to post again`);
    return { results: [{ label: target.label, publisher: target.publisher, platform: target.platform, status: done, idempotencyKey: target.idempotencyKey, targetKey: target.idempotencyKey, replayed: true, warnings: [] }], unrecorded: false };
  }
  if (recorded.kind === 'posted') {
    log.info(`${target.label} → ${target.platform}: already ${recorded.result.status} by an earlier run (recorded on commit ${sha}); not posting again`);
    const result = { ...recorded.result, targetKey: target.idempotencyKey };
    if (recorded.fingerprint !== undefined && recorded.fingerprint !== contentFingerprint(target)) {
      result.warnings = [...result.warnings, contentChangedWarning(result.url ?? result.uri, undefined, target.texts.join('\n'))];
      log.warning(`${target.label} → ${target.platform}: ${result.warnings[result.warnings.length - 1]}`);
    }
    return { results: [result], unrecorded: false };
  }
  // An earlier run began to publish and never recorded the end (cancelled or killed between
  // "accepted" and "recorded"): within the platform's window its replay answers; beyond it,
  // sending again could post twice, so nothing is sent.
  const window = descriptor.idempotencyWindowMs;
  if (recorded.kind === 'intent' && now - recorded.since > window) {
    return {
      results: failure(
        target,
        'unknown',
        `${target.label} → ${target.platform}: an earlier run began to publish this post at ${new Date(recorded.since).toISOString()} and never recorded how it ended (was the job cancelled or killed?). ${target.publisher} remembers a request for ${descriptor.idempotencyWindowText} only, and that has passed, so sending it again could post it twice: it may have been published. Check the account: if the post is there, nothing is left to do; to post it on purpose, set a new 'idempotency-key'. (The intent is the commit status '${ledgerContext(target)}' on ${sha}.)`,
      ),
      unrecorded: false,
    };
  }
  // A schedule that is no longer ahead is an error only when nothing was sent for its key:
  // the ledger said nothing, so the platform's own replay decides (it refuses to schedule in
  // the past, so asking cannot post).
  const tooSoon = target.scheduledAtAsWritten !== undefined ? scheduleLeadProblem(target.scheduledAtAsWritten, target.publisher, now) : undefined;
  // Only a platform that forgets keys needs the intent; the first one stays (its window counts from the first request).
  const bounded = Number.isFinite(window);
  // A publisher without native scheduling sends nothing before the time (it reports 'waiting',
  // which the ledger does not record): an intent now would outlive the run and stop the one that is due.
  const waits = descriptor.minScheduleLeadMs === Number.NEGATIVE_INFINITY && target.scheduledAt !== undefined && Date.parse(target.scheduledAt) > now;
  if (bounded && !waits && recorded.kind !== 'intent') await ledger.intend(target);
  let results: TargetResult[];
  try {
    results = (await publisher.publish(target)).map((r) => ({ ...r, targetKey: target.idempotencyKey }));
  } catch (error) {
    let ended: TargetResult[];
    if (tooSoon !== undefined && error instanceof PublishError && error.code === SCHEDULE_REFUSED) {
      const problem = target.problem(['scheduledAt'], `${tooSoon}. No earlier run sent this post: the ledger has no record of it and ${target.publisher} did not replay one`);
      ended = failure(target, 'rejected', problem instanceof PostFileError ? `${problem.location}: ${problem.message}` : problem.message);
    } else {
      ended = failure(target, publishFailureStatus(error), errorMessage(error));
    }
    // An unknown outcome keeps the intent; a failure ends it.
    if (ledger.enabled && bounded) await ledger.record(target, ended[0]!);
    return { results: ended, unrecorded: false };
  }
  return reportAndRecord(target, results, ledger, log);
}

/**
 * What a publish wrote, said in the log (`how`: e.g. ' in place of the cancelled post') and
 * recorded in the ledger under the target; `unrecorded` when the post exists but the ledger
 * could not record it.
 */
export async function reportAndRecord(target: PlannedTarget, results: TargetResult[], ledger: Ledger, log: Log, how = ''): Promise<Delivery> {
  for (const r of results) {
    for (const w of r.warnings) log.warning(`${r.label} → ${r.platform}: ${w}`);
    log.info(`${r.label} → ${r.platform}${r.part ? ` (${r.part})` : ''}: ${r.status}${how}${r.replayed ? ' (replayed: already posted by an earlier run)' : ''}${r.url ? ` ${r.url}` : r.uri ? ` ${r.uri}` : ''}`);
  }
  const first = results[0];
  const unrecorded = first !== undefined && ledger.enabled && !(await ledger.record(target, first)) && (first.status === 'published' || first.status === 'queued');
  return { results, unrecorded };
}
