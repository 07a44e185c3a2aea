/**
 * The durable ledger: commit statuses on the commit a post belongs to (an inline post's
 * commit; for a file post, the commit that added the file). Platform idempotency windows end
 * (letmepost 24 h, Mastodon ~1 h); a commit status does not, so a re-run days later finds the
 * post and reports it instead of posting again.
 *
 * Per post target, one context (`letmepost/<platform>/<id>`), whose latest status says:
 * - `pending` — an intent, written before the publish request: a run that dies between
 *   "accepted" and "recorded" (cancelled, killed) leaves it, and a re-run beyond the platform's
 *   window refuses to post blindly;
 * - `success` — published or queued, with what the outputs need;
 * - `failure` — the attempt ended without a post (a re-run may try again).
 * - `success` `retracted …` — what it published was deleted (`retract` in its file): a later
 *   run deletes nothing more and never publishes it again.
 *
 * Entries written before `retracted` existed read as they always did.
 *
 * The ledger trusts only statuses it wrote: each description ends with a signature derived
 * from the idempotency key and the status's own text. It is no secret (the key is in the log):
 * it keeps another tool's or a hand-made status under a ledger context from being taken for a
 * post. A status that fails it is ignored, with a warning.
 */
import { sha256Hex } from '../io/sha256.js';
import { errorMessage } from '../errors.js';
import { GitHubApiError, type GitHubRestClient } from '../io/github-api.js';
import { blueskyAtUri, blueskyPostUrl } from '../publishers/links.js';
import type { Log, PlannedTarget, TargetResult, TargetStatus } from '../publishers/types.js';
import { retry, SYSTEM_CLOCK, type Clock } from '../io/retry.js';

export interface CommitStatus {
  context: string;
  state: string;
  description?: string | null;
  target_url?: string | null;
  /** When GitHub stored it (ISO). */
  created_at?: string | null;
}

export type LedgerState = 'pending' | 'success' | 'failure';

/** The two GitHub calls the ledger needs. */
export interface CommitStatusApi {
  /** The latest status of every context on a commit. */
  commitStatuses(sha: string): Promise<CommitStatus[]>;
  createCommitStatus(sha: string, status: { state: LedgerState; context: string; description: string; target_url?: string }): Promise<void>;
}

const CONTEXT_PREFIX = 'letmepost';
/** GitHub truncates longer descriptions. */
const MAX_DESCRIPTION = 140;

/** One context per post target: readable, and unique because the key is. */
export function ledgerContext(target: { platform: string; keys: Pick<PlannedTarget['keys'], 'ledgerId'> }): string {
  return `${CONTEXT_PREFIX}/${target.platform}/${target.keys.ledgerId}`;
}

/** The signature of a status: not a secret (the key is in the log), but no other tool's text carries it. */
function signature(key: string, state: string, text: string): string {
  return sha256Hex(`letmepost-ledger\0${key}\0${state}\0${text}`).slice(0, 8);
}

/** A short fingerprint of what a target posts, so a re-run can tell that its text changed. */
export function contentFingerprint(target: { texts: readonly string[]; firstComment?: string | undefined }): string {
  return sha256Hex(JSON.stringify([target.texts, target.firstComment ?? null])).slice(0, 6);
}

function signed(key: string, state: LedgerState, text: string): string {
  return `${text} sig=${signature(key, state, text)}`;
}

/**
 * `published uri=… cid=… id=… h=… sig=…` / `queued id=… at=… h=… sig=…`: enough to report the
 * post again with the outputs of the run that made it. A Bluesky AT-URI is left out when the
 * link (`target_url`) gives it back, so the cid fits; fields that would overflow GitHub's 140
 * characters are dropped (the fingerprint and the signature always fit).
 */
export function ledgerDescription(result: TargetResult, key = result.idempotencyKey, fingerprint?: string): string {
  const tail = `${fingerprint ? ` h=${fingerprint}` : ''} sig=01234567`;
  let text: string = result.status;
  const uriFromUrl = result.uri !== undefined && result.url !== undefined && blueskyPostUrl(result.uri) === result.url;
  const fields: Array<[string, string | undefined]> = [
    ['uri', uriFromUrl ? undefined : result.uri],
    ['cid', result.cid],
    ['id', result.id],
    ['at', result.status === 'queued' ? result.scheduledAt : undefined],
  ];
  for (const [name, value] of fields) {
    if (value && !/\s/.test(value) && text.length + name.length + value.length + 2 + tail.length <= MAX_DESCRIPTION) text += ` ${name}=${value}`;
  }
  if (fingerprint) text += ` h=${fingerprint}`;
  return signed(key, 'success', text);
}

/** The intent written before a publish request. */
export function intentDescription(key: string, at: number): string {
  return signed(key, 'pending', `publishing since ${new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z')}`);
}

/** The end of an attempt that posted nothing. */
export function failureDescription(key: string, status: TargetStatus): string {
  return signed(key, 'failure', status === 'rejected' ? 'rejected: not posted' : 'failed: not posted, a re-run retries');
}

/** `retracted id=… on=…` (or `cancelled …`): the post (its first id, when known) was deleted, or unqueued, at that time. */
export function retractedDescription(key: string, at: number, previous?: TargetResult, word: 'retracted' | 'cancelled' = 'retracted'): string {
  const on = ` on=${new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z')}`;
  const id = previous?.id && !/\s/.test(previous.id) && previous.id.length <= 80 ? ` id=${previous.id}` : '';
  return signed(key, 'success', `${word}${id}${on}`);
}

/** Whether the ledger wrote this status: its description carries a valid signature. */
export function trusted(key: string, status: CommitStatus): boolean {
  const description = status.description ?? '';
  const match = / sig=([0-9a-f]{8})$/.exec(description);
  return match !== null && signature(key, status.state, description.slice(0, match.index)) === match[1];
}

function fieldsOf(description: string): Map<string, string> {
  const [, ...fields] = description.replace(/ sig=[0-9a-f]{8}$/, '').split(' ');
  return new Map(fields.filter((f) => f.includes('=')).map((f) => [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)]));
}

export function resultFromStatus(target: PlannedTarget, status: CommitStatus): TargetResult | undefined {
  if (status.state !== 'success' || !status.description) return undefined;
  const state = status.description.split(' ')[0];
  if (state !== 'published' && state !== 'queued') return undefined;
  const values = fieldsOf(status.description);
  const result: TargetResult = {
    label: target.label,
    publisher: target.publisher,
    platform: target.platform,
    status: state as TargetStatus,
    idempotencyKey: target.idempotencyKey,
    replayed: true,
    warnings: [],
  };
  const uri = values.get('uri') || (status.target_url ? blueskyAtUri(status.target_url) : undefined);
  if (uri) result.uri = uri;
  if (values.get('cid')) result.cid = values.get('cid')!;
  if (values.get('id')) result.id = values.get('id')!;
  if (values.get('at')) result.scheduledAt = values.get('at')!;
  if (status.target_url) result.url = status.target_url;
  return result;
}

/** What the ledger holds for a target. */
export type Recorded =
  | { kind: 'none' }
  /** `at`: when the ledger recorded it (ISO), when GitHub says. */
  | { kind: 'posted'; result: TargetResult; fingerprint?: string; at?: string }
  /** An attempt began at `since` and its outcome was never recorded. */
  | { kind: 'intent'; since: number }
  | { kind: 'ended' }
  /** Deleted by a retract, or cancelled while queued (`on`: when, ISO). */
  | { kind: 'retracted'; cancelled: boolean; on?: string };

/** What the ledger's calls need, named in GitHub's 403/404 errors: it reads and records. */
const PERMISSION = "'permissions: statuses: write' for the ledger (it reads and records commit statuses)";

/** A GitHub hiccup (the network, 5xx, 429) is retried a little; a refusal (401/403/404/422) is not. */
const ATTEMPTS = 3;
const RETRY_DELAY_MS = 1000;

function transient(error: unknown): boolean {
  return error instanceof GitHubApiError && (error.status === 0 || error.status === 429 || error.status >= 500);
}

export class Ledger {
  private readonly statuses = new Map<string, Promise<Map<string, CommitStatus> | undefined>>();
  private warned = false;
  private warnedForged = false;

  /** `api` undefined: no token or `ledger: off`; the reason is logged once by the caller. */
  constructor(
    private readonly api: CommitStatusApi | undefined,
    private readonly log: Log,
    /** Epoch ms: no retry waits past the step's deadline. */
    private readonly deadline = Number.POSITIVE_INFINITY,
    private readonly clock: Clock = SYSTEM_CLOCK,
  ) {}

  get enabled(): boolean {
    return this.api !== undefined;
  }

  private warnOnce(message: string): void {
    if (this.warned) return;
    this.warned = true;
    this.log.warning(message);
  }

  private retrying<T>(what: string, call: () => Promise<T>): Promise<T> {
    return retry(call, {
      maxAttempts: ATTEMPTS,
      deadline: this.deadline,
      clock: this.clock,
      retryable: transient,
      delayMs: (attempt) => RETRY_DELAY_MS * attempt,
      onRetry: (error, attempt, delay) => this.log.info(`${what}: ${errorMessage(error)}; attempt ${attempt + 1} of ${ATTEMPTS} in ${delay / 1000} s`),
    });
  }

  /** All statuses of a commit, fetched once per commit per run, shared by its targets. */
  private load(sha: string): Promise<Map<string, CommitStatus> | undefined> {
    let pending = this.statuses.get(sha);
    if (!pending) {
      pending = this.retrying('Reading the ledger', () => this.api!.commitStatuses(sha)).then(
        (list) => new Map(list.map((s) => [s.context, s])),
        (error: unknown) => {
          this.warnOnce(`The ledger (commit statuses) could not be read: ${errorMessage(error)}. Relying on the platforms' idempotency windows only.`);
          return undefined;
        },
      );
      this.statuses.set(sha, pending);
    }
    return pending;
  }

  /** Whether the ledger can be read for this commit (used to refuse unsafe `select: all`). */
  async readable(sha: string): Promise<boolean> {
    return this.api !== undefined && (await this.load(sha)) !== undefined;
  }

  /** What an earlier run recorded for this target. */
  async lookup(target: PlannedTarget): Promise<Recorded> {
    if (!this.api || !target.ledgerCommit) return { kind: 'none' };
    const statuses = await this.load(target.ledgerCommit);
    const status = statuses?.get(ledgerContext(target));
    if (!status) return { kind: 'none' };
    if (!trusted(target.idempotencyKey, status)) {
      if (!this.warnedForged) {
        this.warnedForged = true;
        this.log.warning(`Ignored the commit status '${status.context}' on ${target.ledgerCommit.slice(0, 7)}: it is not one this action wrote (no valid signature), so it says nothing about this post. If another tool uses the 'letmepost/' status contexts, give it others`);
      }
      return { kind: 'none' };
    }
    if (status.state === 'pending') {
      const since = Date.parse(status.created_at ?? '');
      return { kind: 'intent', since: Number.isNaN(since) ? 0 : since };
    }
    if (status.state === 'failure') return { kind: 'ended' };
    const word = status.description?.split(' ')[0];
    if (word === 'retracted' || word === 'cancelled') {
      const on = fieldsOf(status.description!).get('on');
      return { kind: 'retracted', cancelled: word === 'cancelled', ...(on !== undefined ? { on } : {}) };
    }
    const result = resultFromStatus(target, status);
    if (!result) return { kind: 'none' };
    const fingerprint = fieldsOf(status.description ?? '').get('h');
    return { kind: 'posted', result, ...(fingerprint !== undefined ? { fingerprint } : {}), ...(status.created_at ? { at: status.created_at } : {}) };
  }

  private async write(target: PlannedTarget, state: LedgerState, description: string, targetUrl?: string): Promise<boolean> {
    if (!this.api || !target.ledgerCommit) return false;
    const sha = target.ledgerCommit;
    const status = { state, context: ledgerContext(target), description, ...(targetUrl ? { target_url: targetUrl } : {}) };
    try {
      // Writing the same status twice is harmless: the latest one per context counts.
      await this.retrying('Recording the post in the ledger', () => this.api!.createCommitStatus(sha, status));
      return true;
    } catch (error) {
      // A refusal is fixed by a permission; anything else (a 5xx, the network) by a later run.
      const refused = error instanceof GitHubApiError && [401, 403, 404].includes(error.status);
      const where = `Could not record the post in the ledger (a commit status on ${sha.slice(0, 7)}): ${errorMessage(error)}`;
      this.warnOnce(
        refused
          ? `${where}. Until it can, re-runs after the platform's idempotency window (letmepost 24 h, Mastodon ~1 h) may post again.`
          : `${where}. The post is published; a re-run within the platform's idempotency window (letmepost 24 h, Mastodon ~1 h) records it, later re-runs may post again.`,
      );
      return false;
    }
  }

  /** Records the intent to publish, before the request: a run killed before `record` leaves it. */
  intend(target: PlannedTarget, at = Date.now()): Promise<boolean> {
    return this.write(target, 'pending', intentDescription(target.idempotencyKey, at));
  }

  /**
   * Records how a target ended: published or queued (what the outputs need), or not posted.
   * An unknown outcome keeps the intent. Failure to record is a warning, never a failed post;
   * returns whether a post was recorded (the caller decides whether that matters). `fingerprint`:
   * of what the post holds, when that is not the target's text (an edit that could not change it).
   */
  async record(target: PlannedTarget, result: TargetResult, fingerprint = contentFingerprint(target)): Promise<boolean> {
    if (result.status === 'published' || result.status === 'queued') {
      return this.write(target, 'success', ledgerDescription(result, target.idempotencyKey, fingerprint), result.url);
    }
    if (result.status === 'failed' || result.status === 'rejected') await this.write(target, 'failure', failureDescription(target.idempotencyKey, result.status));
    return false;
  }

  /** Records that what the target published was deleted: later runs delete nothing more and never post it again. */
  recordRetracted(target: PlannedTarget, previous: TargetResult | undefined, word: 'retracted' | 'cancelled' = 'retracted', at = Date.now()): Promise<boolean> {
    return this.write(target, 'success', retractedDescription(target.idempotencyKey, at, previous, word));
  }
}

/** The ledger's two calls on the GitHub REST API (needs `statuses: write` to record). */
export function commitStatusApi(client: GitHubRestClient): CommitStatusApi {
  return {
    async commitStatuses(sha) {
      // The combined status holds the latest status of every context, 100 a page: usually one
      // request per commit, more when CI and other tools have added many contexts.
      const statuses = (data: unknown) => {
        const list = data !== null && typeof data === 'object' ? (data as { statuses?: unknown }).statuses : undefined;
        return Array.isArray(list) ? list : [];
      };
      const isStatus = (item: unknown) => (item !== null && typeof item === 'object' && typeof (item as CommitStatus).context === 'string' ? (item as CommitStatus) : undefined);
      const { items } = await client.paginate(client.repoPath(`/commits/${sha}/status`), {}, statuses, isStatus, { permissions: PERMISSION });
      return items;
    },
    async createCommitStatus(sha, status) {
      await client.request('POST', client.repoPath(`/statuses/${sha}`), { body: status, permissions: PERMISSION });
    },
  };
}
