/**
 * The rest of a post file's life cycle, beside deliver.ts (which publishes): retract (the file
 * says `retract`), cancel (the push deleted the file) and edit (the push changed it) — each
 * from what the ledger holds, through the publisher's optional `retract` / `reschedule`, and
 * recorded so that a re-run does nothing more. Loaded only by runs that have such targets
 * (its own chunk), like the publishers.
 */
import { failure, publishFailureStatus, reportAndRecord, type Delivery } from './deliver.js';
import { errorMessage, PublishError } from './errors.js';
import { contentFingerprint, type Ledger, type Recorded } from './ledger/ledger.js';
import { replacementKeys } from './plan/keys.js';
import { descriptorOf } from './publishers/registry.js';
import type { Log, PlannedTarget, Publisher, RetractOutcome, TargetResult } from './publishers/types.js';

/**
 * A retract, cancel or reschedule that threw: a transient or unknown outcome is 'failed' (a
 * re-run asks again: these calls are their own replay), anything else 'rejected'.
 */
function operationFailed(target: PlannedTarget, error: unknown, message: string): Delivery {
  const status = error instanceof PublishError && (error.code === 'failed' || error.retryable || error.outcomeUnknown) ? 'failed' : 'rejected';
  return { results: [{ ...failure(target, status, `${message}: ${errorMessage(error)}`)[0]!, targetKey: target.idempotencyKey }], unrecorded: false };
}

function retractResult(target: PlannedTarget, status: TargetResult['status'], replayed: boolean, warnings: string[], previous?: TargetResult): TargetResult {
  const link = previous ? { ...(previous.uri ? { uri: previous.uri } : {}), ...(previous.url ? { url: previous.url } : {}), ...(previous.id ? { id: previous.id } : {}) } : {};
  return { label: target.label, publisher: target.publisher, platform: target.platform, status, ...link, idempotencyKey: target.idempotencyKey, targetKey: target.idempotencyKey, replayed, warnings };
}

/**
 * Retracts one target (its file says `retract`): deletes what an earlier run published, where
 * the platform can, and records that in the ledger so that no later run deletes or posts it
 * again. Where the platform cannot delete, the post stays and the result says so (`kept`);
 * `strict` turns that into a failure. Never throws.
 */
export async function retractTarget(publisher: Publisher, target: PlannedTarget, ledger: Ledger, log: Log, strict: boolean): Promise<Delivery> {
  const where = `${target.label} → ${target.platform}`;
  const reason = target.operation?.kind === 'retract' && target.operation.reason ? ` (${target.operation.reason})` : '';
  const recorded = await ledger.lookup(target);
  if (recorded.kind === 'retracted') {
    const done = recorded.cancelled ? 'cancelled' : 'retracted';
    log.info(`${where}: already ${done} by an earlier run${recorded.on ? ` on ${recorded.on}` : ''}; nothing more to do`);
    return { results: [retractResult(target, done, true, [])], unrecorded: false };
  }
  if (target.operation?.kind === 'cancel') return cancelTarget(publisher, target, ledger, log, recorded);
  if (target.operation?.kind === 'edit') return editTarget(publisher, target, ledger, log, recorded);
  if (recorded.kind === 'ended') {
    const note = 'nothing to retract: the earlier attempt to post it ended without a post';
    log.info(`${where}: ${note}`);
    return { results: [retractResult(target, 'kept', false, [note])], unrecorded: false };
  }
  const previous = recorded.kind === 'posted' ? recorded.result : undefined;
  if (!publisher.retract) {
    const effect = descriptorOf(target.publisher).retractEffect;
    return keptOrRefused(target, { deleted: [], kept: effect.text, refused: true }, previous, strict, log);
  }
  let outcome;
  try {
    outcome = await publisher.retract(target, previous);
  } catch (error) {
    return operationFailed(target, error, `${where}: the retract failed`);
  }
  for (const deleted of outcome.deleted) log.info(`${where}: retracted${reason}: deleted ${deleted}`);
  if (outcome.deleted.length === 0 && (outcome.refused || previous === undefined)) return keptOrRefused(target, outcome, previous, strict, log);
  // Deleted now, or found already gone although an earlier run recorded it: either way, done for good.
  if (outcome.deleted.length === 0) log.info(`${where}: ${outcome.kept ?? 'already deleted'}; recorded as retracted`);
  // A failed write warns (the ledger does); a later run then finds the posts gone and records it.
  await ledger.recordRetracted(target, previous);
  return { results: [retractResult(target, 'retracted', outcome.deleted.length === 0, outcome.deleted.length === 0 && outcome.kept ? [outcome.kept] : [], previous)], unrecorded: false };
}

/** The post stays: nothing was found to delete, or the platform cannot delete it (a failure when `strict`). */
function keptOrRefused(target: PlannedTarget, outcome: RetractOutcome, previous: TargetResult | undefined, strict: boolean, log: Log): Delivery {
  const where = `${target.label} → ${target.platform}`;
  const link = previous?.url ?? previous?.uri;
  const note = outcome.refused
    ? `not retracted: ${outcome.kept ?? 'the platform cannot delete it'}${link ? ` (${link})` : ''}`
    : `nothing to retract: ${outcome.kept ?? 'no post of it was found'}`;
  if (outcome.refused && strict) {
    return { results: [{ ...retractResult(target, 'rejected', false, [], previous), error: `${where}: ${note}; 'strict-retract' is true, so this fails the step` }], unrecorded: false };
  }
  if (outcome.refused) log.warning(`${where}: ${note}`);
  else log.info(`${where}: ${note}`);
  return { results: [retractResult(target, 'kept', false, [note], previous)], unrecorded: false };
}

/**
 * The push deleted the target's post file: a post still queued on the platform is cancelled
 * (and recorded, so a re-run cancels nothing more); a published one stays — deleting a file
 * never deletes a post, `retract` does. Never throws.
 */
async function cancelTarget(publisher: Publisher, target: PlannedTarget, ledger: Ledger, log: Log, recorded: Recorded): Promise<Delivery> {
  const where = `${target.label} → ${target.platform}`;
  // Nothing cancelled: said in the log only (a warning where a post the user may think gone stays).
  const kept = (note: string, warn: boolean): Delivery => {
    if (warn) log.warning(`${where}: ${note}`);
    else log.info(`${where}: ${note}`);
    return { results: [], unrecorded: false };
  };
  if (recorded.kind === 'posted' && recorded.result.status === 'queued') {
    if (!publisher.retract) return kept(`the post file was deleted, but ${descriptorOf(target.publisher).retractEffect.text}`, true);
    let outcome: RetractOutcome;
    try {
      outcome = await publisher.retract(target, recorded.result);
    } catch (error) {
      return operationFailed(target, error, `${where}: the post file was deleted, but cancelling its queued post failed`);
    }
    if (outcome.refused) return kept(`the post file was deleted, but its post was not cancelled: ${outcome.kept ?? 'it is no longer queued'}`, true);
    for (const deleted of outcome.deleted) log.info(`${where}: the post file was deleted: cancelled ${deleted}`);
    if (outcome.deleted.length === 0) log.info(`${where}: ${outcome.kept ?? 'cancelled already'}; recorded as cancelled`);
    await ledger.recordRetracted(target, recorded.result, 'cancelled');
    return { results: [retractResult(target, 'cancelled', outcome.deleted.length === 0, [], recorded.result)], unrecorded: false };
  }
  if (recorded.kind === 'posted') {
    const link = recorded.result.url ?? recorded.result.uri ?? recorded.result.id;
    return kept(
      `the post file was deleted, but its post was published already${recorded.at ? ` on ${recorded.at}` : ''}${link ? `: ${link}` : ''}; deleting a file never deletes a post — restore the file with 'retract: true' to delete it`,
      true,
    );
  }
  // A publisher without native scheduling sends nothing before the time: nothing to take back.
  const waiting = descriptorOf(target.publisher).minScheduleLeadMs === Number.NEGATIVE_INFINITY && target.scheduledAt !== undefined && Date.parse(target.scheduledAt) > Date.now();
  if (waiting) {
    return kept(`the post file was deleted before its time (${target.scheduledAt}); nothing was sent, and nothing will be`, false);
  }
  return kept(`the post file was deleted; the ledger holds no queued post of it, so nothing is cancelled${ledger.enabled ? '' : " (the ledger is off: if it was queued, cancel it by hand)"}`, !ledger.enabled);
}

/**
 * The push edited the target's post file. A published post never changes (the result says so,
 * with its link and how to retract it); a queued one moves to the new time where the platform
 * allows it, and the ledger records the new time, so a re-run moves nothing. A queued post
 * whose text was edited is replaced (see replaceQueued). Never throws.
 */
async function editTarget(publisher: Publisher, target: PlannedTarget, ledger: Ledger, log: Log, recorded: Recorded): Promise<Delivery> {
  const where = `${target.label} → ${target.platform}`;
  const descriptor = descriptorOf(target.publisher);
  const said = (result: TargetResult, notes: string[]): Delivery => {
    for (const note of notes) log.info(`${where}: ${note}`);
    return { results: [{ ...result, targetKey: target.idempotencyKey, warnings: [...result.warnings, ...notes] }], unrecorded: false };
  };
  // An edit that changes nothing is said in the log only: the results are what this run did.
  const noEffect = (note: string): Delivery => {
    log.info(`${where}: ${note}`);
    return { results: [], unrecorded: false };
  };
  if (recorded.kind !== 'posted') {
    const waiting = descriptor.minScheduleLeadMs === Number.NEGATIVE_INFINITY && target.scheduledAt !== undefined && Date.parse(target.scheduledAt) > Date.now();
    if (waiting) return noEffect(`edited before its time (${target.scheduledAt}): nothing was sent yet, so it is posted as edited when a run finds it due`);
    return noEffect('edited, but the ledger holds no queued post of it, so nothing is updated (edits never re-post; create a new file to post again)');
  }
  const previous = { ...recorded.result, replayed: true };
  const link = previous.url ?? previous.uri ?? previous.id ?? '';
  if (previous.status !== 'queued') {
    return noEffect(`already published${recorded.at ? ` on ${recorded.at}` : ''}${link ? `: ${link}` : ''}; edit has no effect — add 'retract: true' to delete it, or create a new file to post again`);
  }
  const notes: string[] = [];
  const textChanged = recorded.fingerprint !== undefined && recorded.fingerprint !== contentFingerprint(target);
  const unreplaceable = textChanged ? whyNotReplaced(target, previous) : undefined;
  if (textChanged && unreplaceable === undefined) return replaceQueued(publisher, target, ledger, log, previous);
  if (textChanged) notes.push(`the text was edited, but ${unreplaceable}`);
  if (target.scheduledAt === undefined) {
    notes.push(`the schedule was removed, but an edit cannot publish a queued post now: it stays queued for ${previous.scheduledAt ?? 'its time'}`);
    return said(previous, notes);
  }
  if (previous.scheduledAt !== undefined && Date.parse(previous.scheduledAt) === Date.parse(target.scheduledAt)) return said(previous, notes);
  if (!publisher.reschedule) return said(previous, [...notes, `the time was edited, but ${descriptor.editEffect}`]);
  let moved: TargetResult;
  try {
    moved = await publisher.reschedule({ ...target, scheduledAt: target.scheduledAt }, previous);
  } catch (error) {
    for (const note of notes) log.info(`${where}: ${note}`);
    return operationFailed(target, error, `${where}: moving the queued post to ${target.scheduledAt} failed`);
  }
  log.info(`${where}: rescheduled from ${previous.scheduledAt ?? 'its time'} to ${moved.scheduledAt ?? target.scheduledAt}`);
  // What the post holds is recorded: its old text when the edit could not change it.
  await ledger.record(target, moved, textChanged ? recorded.fingerprint : contentFingerprint(target));
  return said({ ...moved, replayed: false }, notes);
}

/**
 * Why an edited text cannot replace the queued post (undefined: it can): the platform cannot
 * cancel it, the edit took the schedule away (an edit never publishes now), or the new time
 * is too close for the platform to queue. The edit and the preview (foreseenOperation) ask it.
 */
function whyNotReplaced(target: PlannedTarget, previous: TargetResult): string | undefined {
  const descriptor = descriptorOf(target.publisher);
  const keep = `a queued post keeps the text it was queued with; to change it, delete this file (which cancels the post) and add a new one`;
  if (descriptor.replacesEditedText !== true || previous.id === undefined) return `${keep} (${descriptor.editEffect})`;
  if (target.scheduledAt === undefined) return `the schedule was removed too, and an edit never publishes now: ${keep}`;
  if (Date.parse(target.scheduledAt) - Date.now() < descriptor.minScheduleLeadMs) return `the new time ${target.scheduledAt} is too close for ${target.publisher} to queue a post in its place: ${keep}`;
  return undefined;
}

/**
 * A queued post whose text was edited, where the platform can move a queued post but never
 * change its text: cancelled, and the edited post queued in its place under keys of its own
 * (plan/keys.ts replacementKeys: from the post it replaces and the new text). Cancel first:
 * a failure between the two leaves nothing queued twice, the ledger still holds the old post,
 * and a re-run finds it cancelled already and queues the replacement under the same keys — the
 * platform replays it if the first request arrived. The ledger then holds the replacement with
 * the new text, so a later run replaces nothing more.
 */
async function replaceQueued(publisher: Publisher, target: PlannedTarget, ledger: Ledger, log: Log, previous: TargetResult): Promise<Delivery> {
  const where = `${target.label} → ${target.platform}`;
  let outcome: RetractOutcome;
  try {
    // A descriptor that replaces edited text belongs to a publisher that cancels (retract).
    outcome = await publisher.retract!(target, previous);
  } catch (error) {
    return operationFailed(target, error, `${where}: the text was edited, but cancelling the queued post to replace it failed (nothing was replaced; a re-run tries again)`);
  }
  if (outcome.refused) {
    log.warning(`${where}: the text was edited, but the queued post could not be replaced: ${outcome.kept ?? 'it is no longer queued'}`);
    return { results: [], unrecorded: false };
  }
  for (const deleted of outcome.deleted) log.info(`${where}: the text was edited: cancelled ${deleted}, to queue the edited post in its place`);
  if (outcome.deleted.length === 0) log.info(`${where}: the text was edited: ${outcome.kept ?? 'the queued post is cancelled already'}; queueing the edited post in its place`);
  const keys = replacementKeys(target.keys, previous.id!, [...target.texts, target.firstComment ?? '']);
  let results: TargetResult[];
  try {
    results = (await publisher.publish({ ...target, idempotencyKey: keys.base, keys, operation: { kind: 'publish' } })).map((r) => ({ ...r, targetKey: target.idempotencyKey }));
  } catch (error) {
    const message = `${where}: the queued post was cancelled to replace it with the edited text, but queueing the edited post failed (a re-run queues it): ${errorMessage(error)}`;
    return { results: [{ ...failure(target, publishFailureStatus(error), message)[0]!, targetKey: target.idempotencyKey }], unrecorded: false };
  }
  return reportAndRecord(target, results, ledger, log, ` in place of the cancelled post${results[0]?.scheduledAt ? ` for ${results[0].scheduledAt}` : ''}`);
}

/**
 * What a publishing run will do with a target that edits, retracts or cancels, given what the
 * ledger holds: for the preview, which sends nothing. Undefined: the ledger says nothing, and
 * the preview shows what the operation does in general.
 */
export function foreseenOperation(target: PlannedTarget, recorded: Recorded): string | undefined {
  const kind = target.operation?.kind;
  if (kind === undefined || kind === 'publish') return undefined;
  if (recorded.kind === 'retracted') return `nothing: ${recorded.cancelled ? 'cancelled' : 'retracted'} already${recorded.on ? ` on ${recorded.on}` : ''}`;
  if (recorded.kind !== 'posted') return undefined;
  const descriptor = descriptorOf(target.publisher);
  const result = recorded.result;
  const link = result.url ?? result.uri ?? result.id ?? '';
  const on = recorded.at ? ` on ${recorded.at}` : '';
  if (result.status === 'queued') {
    if (kind !== 'edit') return `cancels the post queued for ${result.scheduledAt ?? 'later'}`;
    const moves = target.scheduledAt !== undefined && result.scheduledAt !== undefined && Date.parse(target.scheduledAt) !== Date.parse(result.scheduledAt);
    const textChanged = recorded.fingerprint !== undefined && recorded.fingerprint !== contentFingerprint(target);
    if (textChanged && whyNotReplaced(target, result) === undefined) {
      return `replaces the post queued for ${result.scheduledAt ?? 'later'}: cancels it and queues the edited text for ${target.scheduledAt}`;
    }
    const textNote = textChanged ? '; the text edit is not applied (a queued post keeps its text)' : '';
    return `${moves ? `moves the queued post from ${result.scheduledAt} to ${target.scheduledAt}` : `no change: queued for ${result.scheduledAt ?? 'later'}`}${textNote}`;
  }
  if (kind === 'retract') return descriptor.retractEffect.deletesPublished ? `deletes the post published${on}: ${link}` : `the post published${on} stays (${link}): ${descriptor.retractEffect.text}`;
  if (kind === 'cancel') return `no effect: published${on}: ${link}; deleting a file never deletes a post — keep the file, with 'retract: true', to delete it`;
  return `already published${on}: ${link}; edit has no effect — add 'retract: true' to delete it, or create a new file to post again`;
}
