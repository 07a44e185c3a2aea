/**
 * The durable ledger: a commit status per published post target, on the commit the post
 * belongs to (an inline post's commit; for a file post, the commit that added the file).
 * Platform idempotency windows end (letmepost 24 h, Mastodon ~1 h); a commit status does
 * not, so a re-run days later finds the post and reports it instead of posting again.
 */
import { createHash } from 'node:crypto';
import { errorMessage } from './errors.js';
import { GitHubApiError, type GitHubRestClient } from './github-api.js';
import { blueskyAtUri, blueskyPostUrl } from './links.js';
import type { Log, PlannedTarget, TargetResult, TargetStatus } from './publishers/types.js';

export interface CommitStatus {
  context: string;
  state: string;
  description?: string | null;
  target_url?: string | null;
}

/** The two GitHub calls the ledger needs. */
export interface CommitStatusApi {
  /** The latest status of every context on a commit. */
  commitStatuses(sha: string): Promise<CommitStatus[]>;
  createCommitStatus(sha: string, status: { state: 'success'; context: string; description: string; target_url?: string }): Promise<void>;
}

const CONTEXT_PREFIX = 'letmepost';
/** GitHub truncates longer descriptions. */
const MAX_DESCRIPTION = 140;

/** One context per post target: readable, and unique because the key is. */
export function ledgerContext(target: Pick<PlannedTarget, 'platform' | 'idempotencyKey'>): string {
  const id = createHash('sha256').update(target.idempotencyKey).digest('hex').slice(0, 12);
  return `${CONTEXT_PREFIX}/${target.platform}/${id}`;
}

/**
 * `published uri=… cid=… id=post_…` / `queued id=post_… at=2026-12-01T09:00:00.000Z`: enough
 * to report the post again with the outputs of the run that made it. A Bluesky AT-URI is left
 * out when the link (`target_url`) gives it back, so the cid fits; fields that would overflow
 * GitHub's 140 characters are dropped.
 */
export function ledgerDescription(result: TargetResult): string {
  let text: string = result.status;
  const uriFromUrl = result.uri !== undefined && result.url !== undefined && blueskyPostUrl(result.uri) === result.url;
  const fields: Array<[string, string | undefined]> = [
    ['uri', uriFromUrl ? undefined : result.uri],
    ['cid', result.cid],
    ['id', result.id],
    ['at', result.status === 'queued' ? result.scheduledAt : undefined],
  ];
  for (const [name, value] of fields) {
    if (value && !/\s/.test(value) && text.length + name.length + value.length + 2 <= MAX_DESCRIPTION) text += ` ${name}=${value}`;
  }
  return text;
}

export function resultFromStatus(target: PlannedTarget, status: CommitStatus): TargetResult | undefined {
  if (status.state !== 'success' || !status.description) return undefined;
  const [state, ...fields] = status.description.split(' ');
  if (state !== 'published' && state !== 'queued') return undefined;
  const values = new Map(fields.map((f) => [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)]));
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

  /** `api` undefined: no token or `ledger: off`; the reason is logged once by the caller. */
  constructor(
    private readonly api: CommitStatusApi | undefined,
    private readonly log: Log,
  ) {}

  get enabled(): boolean {
    return this.api !== undefined;
  }

  private warnOnce(message: string): void {
    if (this.warned) return;
    this.warned = true;
    this.log.warning(message);
  }

  private async retrying<T>(what: string, call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (!transient(error) || attempt >= ATTEMPTS) throw error;
        const delay = RETRY_DELAY_MS * attempt;
        this.log.info(`${what}: ${errorMessage(error)}; attempt ${attempt + 1} of ${ATTEMPTS} in ${delay / 1000} s`);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
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

  /** The post recorded for this target, if an earlier run recorded one. */
  async lookup(target: PlannedTarget): Promise<TargetResult | undefined> {
    if (!this.api || !target.ledgerCommit) return undefined;
    const statuses = await this.load(target.ledgerCommit);
    const status = statuses?.get(ledgerContext(target));
    return status ? resultFromStatus(target, status) : undefined;
  }

  /**
   * Records a published or queued target. Failure to record is a warning, never a failed
   * post; returns whether the entry was written (the caller decides whether that matters).
   */
  async record(target: PlannedTarget, result: TargetResult): Promise<boolean> {
    if (!this.api || !target.ledgerCommit || (result.status !== 'published' && result.status !== 'queued')) return false;
    try {
      const sha = target.ledgerCommit;
      const status = { state: 'success', context: ledgerContext(target), description: ledgerDescription(result), ...(result.url ? { target_url: result.url } : {}) } as const;
      // Writing the same status twice is harmless: the latest one per context counts.
      await this.retrying('Recording the post in the ledger', () => this.api!.createCommitStatus(sha, status));
      return true;
    } catch (error) {
      // A refusal is fixed by a permission; anything else (a 5xx, the network) by a later run.
      const refused = error instanceof GitHubApiError && [401, 403, 404].includes(error.status);
      const where = `Could not record the post in the ledger (a commit status on ${target.ledgerCommit.slice(0, 7)}): ${errorMessage(error)}`;
      this.warnOnce(
        refused
          ? `${where}. Until it can, re-runs after the platform's idempotency window (letmepost 24 h, Mastodon ~1 h) may post again.`
          : `${where}. The post is published; a re-run within the platform's idempotency window (letmepost 24 h, Mastodon ~1 h) records it, later re-runs may post again.`,
      );
      return false;
    }
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
