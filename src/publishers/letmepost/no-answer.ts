/**
 * A request that was sent and got no usable answer (a timeout, a dropped connection, a
 * gateway's 5xx) may still be running on the server. The server stores an answer only once
 * its handler finished and has no in-flight claim on a key, so resending now could post a
 * second time. Instead the post row the server inserts before it calls the platform is looked
 * up (`GET /v1/posts`) and waited on until it leaves `publishing`; the row then is the answer.
 * Only when no row appears (the request never reached the handler) may it be sent again.
 */
import { PublishError } from '../../errors.js';
import { httpRequest } from '../../io/http.js';
import { parseJson } from '../../io/json.js';
import type { Clock } from '../../io/retry.js';
import { redact } from '../../secrets.js';
import { describeApiError, parseErrorEnvelope, readPostRows, type PostOutcome, type PostRow } from './api.js';
import { apiBase, type LetmepostConfig } from './config.js';
import { handlerBoundMs } from './server-limits.js';
import type { PlannedTarget } from '../types.js';

/** How long the row of a request that reached the server may take to appear (it is inserted in milliseconds). */
const ROW_APPEARS_MS = 6_000;
/** Rows are listed from a little before the request was sent, on the server's clock. */
const LOOKBACK_MS = 10 * 60_000;

/** A request that was sent and got no usable answer: it may still be running on the server. */
export class NoAnswer {
  constructor(
    readonly cause: PublishError,
    readonly sentAt: number,
    /** An HTTP answer came (a 5xx): whatever the server did for it is done, or visible, by now. */
    readonly answered: boolean,
  ) {}
}

/** Ends the retry loop: the request may still be running on the server. */
export class NoAnswerError extends PublishError {
  constructor(readonly noAnswer: NoAnswer) {
    // Not retryable: withRetries gives it back at once, and post() confirms instead.
    super(noAnswer.cause.message, { outcomeUnknown: true, code: noAnswer.cause.code, cause: noAnswer.cause });
  }
}

/** A finished post row, read as the answer its request would have had. */
export function rowOutcome(row: PostRow): PostOutcome {
  const out: PostOutcome = { postId: row.id, status: row.status, warnings: [], replayed: false };
  if (row.platformUri) out.uri = row.platformUri;
  if (row.platformCid) out.cid = row.platformCid;
  if (row.scheduledAt) out.scheduledAt = row.scheduledAt;
  if (row.error) out.error = row.error;
  return out;
}

/** Learns what became of a request without an answer from the server's post rows. */
export class PostRowWatch {
  constructor(
    private readonly config: LetmepostConfig,
    private readonly clock: Clock,
  ) {}

  /**
   * After a request that may still be running: finds its post row (same account, same text,
   * created since the request was sent) and waits while it is `publishing`. Returns the row,
   * or undefined when none appeared (the request never reached the handler). Throws when the
   * outcome cannot be learnt before the deadline.
   */
  async confirm(what: string, target: PlannedTarget, noAnswer: NoAnswer): Promise<PostRow | undefined> {
    const interval = this.config.confirmIntervalMs ?? 2000;
    const bound = noAnswer.sentAt + handlerBoundMs(target);
    this.config.log.info(
      `${what}: ${noAnswer.cause.message}. letmepost has no lock on a key while a request runs, so sending it again now could post twice; looking for the post instead (GET /v1/posts) and waiting until letmepost has finished it`,
    );
    const firstLook = this.clock.now();
    for (;;) {
      let found: PostRow | undefined;
      try {
        found = await this.findRow(target, noAnswer.sentAt);
      } catch (error) {
        throw new PublishError(
          redact(
            `${noAnswer.cause.message}; the post may have been published, and looking it up failed too (${error instanceof Error ? error.message : String(error)}). Check the account in letmepost before re-running: a re-run within 24 h is safe (it replays under the same key) once the first request has finished`,
          ),
          { outcomeUnknown: true, code: 'failed', cause: noAnswer.cause },
        );
      }
      const now = this.clock.now();
      if (found !== undefined && found.status !== 'publishing') {
        this.config.log.info(`${what}: letmepost finished the request: post ${found.id} is ${found.status}`);
        return found;
      }
      // A row is inserted as soon as the handler starts: after an HTTP answer one look tells,
      // after a lost connection the request may still be on its way in.
      if (found === undefined && (noAnswer.answered || now - firstLook >= ROW_APPEARS_MS)) return undefined;
      if (now + interval >= this.config.deadline || now >= bound) {
        const where =
          found !== undefined
            ? `letmepost is still publishing it (post ${found.id}), and the step's deadline${now >= bound ? " (or the server's own time limits)" : ''} came first`
            : "letmepost shows no post for it (so it most likely never reached letmepost), but the step's deadline came before that was certain";
        throw new PublishError(
          redact(
            `${noAnswer.cause.message}; ${where}, so the post may have been published. Check it in letmepost${found !== undefined ? ` (GET /v1/posts/${found.id})` : ''}; re-running the job later is safe: it replays the finished request under the same key`,
          ),
          { outcomeUnknown: true, code: 'failed', cause: noAnswer.cause },
        );
      }
      if (found !== undefined) this.config.log.info(`${what}: post ${found.id} is still publishing; looking again in ${(interval / 1000).toFixed(0)} s`);
      await this.clock.sleep(interval);
    }
  }

  /** The post row this target's request made, if any: same account and text, created since it was sent (server clock). */
  private async findRow(target: PlannedTarget, sentAt: number): Promise<PostRow | undefined> {
    const url = new URL(`${apiBase(this.config)}/v1/posts`);
    url.searchParams.set('platform', target.platform);
    url.searchParams.set('after', new Date(sentAt - LOOKBACK_MS).toISOString());
    url.searchParams.set('limit', '50');
    // Rows carry their media as sent (inline images included): a page can be large.
    const response = await httpRequest('GET /v1/posts', url.href, { method: 'GET', headers: { Authorization: `Bearer ${this.config.token}` } }, Math.min(this.config.requestTimeoutMs, 30_000), this.config.fetch, { maxBytes: 64 * 1024 * 1024 });
    if (response.status !== 200) throw new Error(describeApiError(response.status, parseErrorEnvelope(response.body), response.headers.get('x-request-id')));
    // The server's clock may differ from this runner's: its Date header tells by how much.
    const serverDate = Date.parse(response.headers.get('date') ?? '');
    const skew = Number.isNaN(serverDate) ? 0 : serverDate - Date.now();
    const since = sentAt + skew - 5_000;
    const text = target.texts[0] ?? '';
    const candidates = readPostRows(parseJson(response.body))
      .rows.filter((row) => row.accountId === target.account && row.text === text && row.createdAt >= since)
      .sort((a, b) => a.createdAt - b.createdAt);
    // Two rows with this text in the window: a second run of the same step raced this one.
    if (candidates.length > 1) {
      this.config.log.warning(
        `${target.label} → ${target.platform}: letmepost shows ${candidates.length} posts with this text since this request was sent — another run of this step sent the same post at the same time (letmepost has no lock on a key while a request runs: use 'concurrency:' in the workflow). Reporting the first: ${candidates[0]!.id}`,
      );
    }
    return candidates[0];
  }
}
